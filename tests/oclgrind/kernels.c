/* Every kernel of every dtype, on small sizes at odd offsets, for oclgrind to watch (run.sh
 * runs this under `oclgrind --check-api --data-races --uninitialized`): plain forward and
 * backward, backward from the output, the sign mask both ways, a batch of views of one arena,
 * PReLU forward and backward with dalpha over both of its partitions, and the host arrays.
 * Each output is also compared, bit for bit, with the CPU backend (dalpha, the one inexact
 * result, only for being written). Only stdout: oclgrind's findings are the stderr run.sh reads. */
#include "leakycl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lcl_context *dev, *cpu;
static int failures;

#define MAX_ELEMS 1024

static void fail(const char *what) {
    printf("FAIL: %s: %s\n", what, lcl_last_error());
    failures++;
}

/* Deterministic inputs with both signs, zeros and a range of magnitudes, as bit patterns. */
static void fill(lcl_dtype d, void *a, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; ++i) {
        double v = (double)((i * 7 + seed * 13) % 29) - 14.0;
        v *= (i % 5 == 0) ? 0.001 : 1.5;
        switch (d) {
        case LCL_F64: ((double *)a)[i] = v; break;
        case LCL_F32: ((float *)a)[i] = (float)v; break;
        default: { /* f16 and bf16: small exact values in either format's bits */
            float f = (float)(int)v;
            uint32_t bits;
            memcpy(&bits, &f, sizeof bits);
            uint16_t h;
            if (d == LCL_BF16) {
                h = (uint16_t)(bits >> 16);
            } else {
                int e = (int)((bits >> 23) & 0xff) - 127 + 15;
                h = (uint16_t)(f == 0 ? 0 : ((bits >> 16) & 0x8000) | (uint16_t)(e << 10) | ((bits >> 13) & 0x3ff));
            }
            ((uint16_t *)a)[i] = h;
        }
        }
    }
}

/* A tensor of `n` elements at element `offset` of a fresh parent, holding `data`. */
static lcl_tensor *at_offset(lcl_context *ctx, lcl_dtype d, size_t offset, size_t n, const void *data,
                             lcl_tensor **parent) {
    lcl_tensor *v = NULL;
    static const unsigned char zeros[(MAX_ELEMS + 8) * 8];
    /* Every element defined, so that a read oclgrind flags is one past what we wrote. */
    if (lcl_tensor_create(ctx, d, offset + n + 3, parent) || lcl_tensor_write(*parent, zeros) ||
        lcl_tensor_view(*parent, offset, n, &v)) {
        fail("tensor");
        return NULL;
    }
    if (data && lcl_tensor_write(v, data))
        fail("write");
    return v;
}

typedef struct run {
    lcl_dtype d;
    size_t n, offset;
    const void *x, *dy, *alpha; /* alpha: PReLU slopes */
    size_t channels, inner;
    void *out, *out2;           /* results: y or dx; the mask or dalpha */
} run;

enum op { FORWARD, BACKWARD, FROM_OUTPUT, MASKED, BATCH, PRELU_FORWARD, PRELU_BACKWARD, OP_COUNT };
static const char *const op_names[OP_COUNT] = {"forward",  "backward",      "from_output",   "masked",
                                               "batch",    "prelu_forward", "prelu_backward"};

/* The op on ctx's tensors at r->offset; out (and out2) read back into r. */
static void run_op(lcl_context *ctx, enum op op, run *r) {
    lcl_tensor *px = NULL, *pdy = NULL, *pout = NULL, *pa = NULL, *pm = NULL;
    size_t o = r->offset, n = r->n;
    lcl_tensor *x = at_offset(ctx, r->d, o, n, r->x, &px);
    lcl_tensor *dy = at_offset(ctx, r->d, o + 1, n, r->dy, &pdy);
    lcl_tensor *out = at_offset(ctx, r->d, o + 2, n, NULL, &pout);
    lcl_tensor *second = NULL, *alpha = NULL;
    lcl_tensor *mask = NULL;
    lcl_status st = LCL_SUCCESS;
    switch (op) {
    case FORWARD: st = lcl_forward(ctx, 0.25, x, out); break;
    case BACKWARD: st = lcl_backward(ctx, -0.5, x, dy, out); break;
    case FROM_OUTPUT: st = lcl_backward_from_output(ctx, 0.125, x, dy, out); break;
    case MASKED:
        if (lcl_tensor_create(ctx, LCL_MASK, 32 + n, &pm) || lcl_tensor_write(pm, (uint32_t[MAX_ELEMS]){0}) ||
            lcl_tensor_view(pm, 32, n, &mask))
            fail("mask");
        st = lcl_forward_masked(ctx, 0.5, x, out, mask);
        if (!st)
            st = lcl_backward_masked(ctx, 0.5, mask, dy, dy);
        break;
    case BATCH: { /* two halves of x as items, one launch, outputs in out */
        lcl_tensor *items[4] = {NULL};
        size_t h = n / 2;
        if (lcl_tensor_view(x, 0, h, &items[0]) || lcl_tensor_view(x, h, n - h, &items[1]) ||
            lcl_tensor_view(out, 0, h, &items[2]) || lcl_tensor_view(out, h, n - h, &items[3]))
            fail("batch views");
        double alphas[2] = {0.25, 3.0};
        st = lcl_forward_batch(ctx, 2, alphas, (const lcl_tensor *const *)items, items + 2);
        if (!st)
            st = lcl_backward_batch(ctx, 2, alphas, (const lcl_tensor *const *)items,
                                    (const lcl_tensor *const *)items, items);
        for (int i = 0; i < 4; ++i)
            lcl_tensor_release(items[i]);
        break;
    }
    case PRELU_FORWARD:
    case PRELU_BACKWARD:
        alpha = at_offset(ctx, r->d, 1, r->channels, r->alpha, &pa);
        if (op == PRELU_FORWARD) {
            st = lcl_prelu_forward(ctx, r->channels, r->inner, alpha, x, out);
        } else {
            lcl_tensor *parent2 = NULL;
            second = at_offset(ctx, r->d, 3, r->channels, NULL, &parent2);
            lcl_tensor_release(parent2);
            st = lcl_prelu_backward(ctx, r->channels, r->inner, alpha, x, dy, out, second);
        }
        break;
    default: break;
    }
    if (st)
        fail(op_names[op]);
    if (op == MASKED) {
        if (lcl_tensor_read(dy, r->out2))
            fail("read");
    } else if (second && lcl_tensor_read(second, r->out2)) {
        fail("read");
    }
    if (lcl_tensor_read(op == BATCH ? x : out, r->out))
        fail("read");
    lcl_tensor *all[] = {x, dy, out, second, alpha, mask, px, pdy, pout, pa, pm};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        lcl_tensor_release(all[i]);
}

static size_t bytes(lcl_dtype d, size_t n) { return n * lcl_dtype_size(d); }

static void check(enum op op, lcl_dtype d, size_t n, size_t offset) {
    static unsigned char x[MAX_ELEMS * 8], dy[MAX_ELEMS * 8], slopes[64 * 8];
    static unsigned char got[MAX_ELEMS * 8], want[MAX_ELEMS * 8], got2[MAX_ELEMS * 8], want2[MAX_ELEMS * 8];
    run r = {d, n, offset, x, dy, slopes, 1, 1, got, got2};
    if (op == PRELU_FORWARD || op == PRELU_BACKWARD) {
        /* blocks of a channel, or (inner < 256, batch >= 256) columns of rows */
        int columns = n >= 512;
        r.channels = columns ? 2 : 3;
        r.inner = columns ? 1 : 5;
        r.n = n = n / (r.channels * r.inner) * (r.channels * r.inner);
    }
    fill(d, x, n, 1);
    fill(d, dy, n, 2);
    fill(d, slopes, r.channels, 3);
    if (getenv("LEAKYCL_OCLGRIND_TRACE"))
        printf("%s %s n=%zu offset=%zu\n", op_names[op], lcl_dtype_name(d), n, offset);
    run ref = r;
    ref.out = want;
    ref.out2 = want2;
    run_op(dev, op, &r);
    run_op(cpu, op, &ref);
    int same = memcmp(got, want, bytes(d, n)) == 0;
    if (op == MASKED)
        same = same && memcmp(got2, want2, bytes(d, n)) == 0;
    char what[128];
    snprintf(what, sizeof what, "%s %s n=%zu offset=%zu differs from the CPU backend", op_names[op],
             lcl_dtype_name(d), n, offset);
    if (!same)
        fail(what);
}

static void host_arrays(lcl_dtype d, size_t n, size_t offset) {
    static unsigned char x[MAX_ELEMS * 8 + 64], dy[MAX_ELEMS * 8 + 64], y[MAX_ELEMS * 8 + 64], want[MAX_ELEMS * 8];
    size_t e = lcl_dtype_size(d);
    fill(d, x + offset * e, n, 4);
    fill(d, dy + offset * e, n, 5);
    if (lcl_forward_host(dev, d, n, 0.5, x + offset * e, y + offset * e) ||
        lcl_forward_host(cpu, d, n, 0.5, x + offset * e, want) || memcmp(y + offset * e, want, n * e))
        fail("forward_host");
    if (lcl_backward_host(dev, d, n, 0.5, x + offset * e, dy + offset * e, y + offset * e) ||
        lcl_backward_host(cpu, d, n, 0.5, x + offset * e, dy + offset * e, want) || memcmp(y + offset * e, want, n * e))
        fail("backward_host");
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0); /* progress lines interleave with oclgrind's reports */
    if (lcl_context_create(NULL, &dev) || lcl_context_create("cpu", &cpu)) {
        printf("FAIL: contexts: %s\n", lcl_last_error());
        return 1;
    }
    printf("device: %s\n", lcl_context_device_name(dev));
    static const size_t sizes[] = {1, 7, 33, 130, 600};
    static const size_t offsets[] = {0, 1, 3};
    size_t runs = 0;
    for (int d = 0; d < 4; ++d) {
        if (!lcl_context_supports(dev, (lcl_dtype)d)) {
            printf("%s: not supported on this device, skipped\n", lcl_dtype_name((lcl_dtype)d));
            continue;
        }
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; ++s)
            for (size_t o = 0; o < sizeof offsets / sizeof offsets[0]; ++o) {
                for (int op = 0; op < OP_COUNT; ++op, ++runs)
                    check((enum op)op, (lcl_dtype)d, sizes[s], offsets[o]);
                host_arrays((lcl_dtype)d, sizes[s], offsets[o]);
                runs += 2;
            }
    }
    lcl_context_release(cpu);
    lcl_context_release(dev);
    printf("%zu runs, %d failures\n", runs, failures);
    return failures ? 1 : 0;
}
