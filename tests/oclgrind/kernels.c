/* Every kernel of every dtype, on small sizes at odd offsets, for oclgrind to watch (run.sh
 * runs this under `oclgrind --check-api --data-races`): plain forward and
 * backward, backward from the output, the sign mask both ways, a batch of views of one arena,
 * PReLU forward and backward with dalpha over both of its partitions (and, with
 * LEAKYCL_KERNEL_SHAPE=gpu, the parallel fold of many partials), the host arrays, and the dense
 * layer (CLBlast's GEMM and dense.cl's epilogues, fp32). Each output is also compared, bit for
 * bit, with the CPU backend (the inexact sums: dalpha and the dense layer, within 1e-5 of the
 * largest magnitude). Only stdout: oclgrind's findings are the stderr run.sh reads. */
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
        case LCL_F64:
            ((double *)a)[i] = v;
            break;
        case LCL_F32:
            ((float *)a)[i] = (float)v;
            break;
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

/* at_offset for any size: the parent's leading and trailing elements zeroed from the heap. */
static lcl_tensor *malloc_free_at(lcl_context *ctx, size_t offset, size_t n, const void *data, lcl_tensor **parent) {
    lcl_tensor *v = NULL;
    void *zeros = calloc(offset + n + 3, sizeof(float));
    if (!zeros || lcl_tensor_create(ctx, LCL_F32, offset + n + 3, parent) || lcl_tensor_write(*parent, zeros) ||
        lcl_tensor_view(*parent, offset, n, &v)) {
        fail("tensor");
        v = NULL;
    }
    free(zeros);
    if (v && data && lcl_tensor_write(v, data))
        fail("write");
    return v;
}

typedef struct run {
    lcl_dtype d;
    size_t n, offset;
    const void *x, *dy, *alpha; /* alpha: PReLU slopes */
    size_t channels, inner;
    void *out, *out2; /* results: y or dx; the mask or dalpha */
} run;

enum op { FORWARD, BACKWARD, FROM_OUTPUT, MASKED, BATCH, PRELU_FORWARD, PRELU_BACKWARD, OP_COUNT };
static const char *const op_names[OP_COUNT] = {"forward", "backward",      "from_output",   "masked",
                                               "batch",   "prelu_forward", "prelu_backward"};

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
    case FORWARD:
        st = lcl_forward(ctx, 0.25, x, out);
        break;
    case BACKWARD:
        st = lcl_backward(ctx, -0.5, x, dy, out);
        break;
    case FROM_OUTPUT:
        st = lcl_backward_from_output(ctx, 0.125, x, dy, out);
        break;
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
            st = lcl_backward_batch(ctx, 2, alphas, (const lcl_tensor *const *)items, (const lcl_tensor *const *)items,
                                    items);
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
    default:
        break;
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
    snprintf(what, sizeof what, "%s %s n=%zu offset=%zu differs from the CPU backend", op_names[op], lcl_dtype_name(d),
             n, offset);
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

/* Within tol of the largest magnitude of b (the inexact results: sums, whose terms cancel). */
static int close_f32(const float *a, const float *b, size_t n, float tol) {
    float scale = 0;
    for (size_t i = 0; i < n; ++i)
        scale = b[i] > scale ? b[i] : (-b[i] > scale ? -b[i] : scale);
    for (size_t i = 0; i < n; ++i) {
        float d = a[i] - b[i];
        if (!((d < 0 ? -d : d) <= tol * scale)) {
            printf("index %zu: %.9g, want %.9g\n", i, (double)a[i], (double)b[i]);
            return 0;
        }
    }
    return 1;
}

/* The dense layer (CLBlast's GEMM, dense.cl's epilogues) on ctx: y, then dx, dw, db, into out. */
static lcl_status dense_on(lcl_context *ctx, size_t batch, size_t in, size_t out, size_t offset, const float *x,
                           const float *w, const float *b, const float *dy, float *res) {
    lcl_tensor *p[7] = {NULL}, *t[7] = {NULL};
    const size_t n[7] = {batch * in, out * in, out, batch * out, batch * out, batch * in, out * in};
    const float *data[7] = {x, w, b, NULL, dy, NULL, NULL};
    lcl_status st = LCL_SUCCESS;
    for (int i = 0; i < 7; ++i)
        if (!(t[i] = at_offset(ctx, LCL_F32, offset + (size_t)i, n[i], data[i], &p[i])))
            st = LCL_ERROR_INVALID_ARGUMENT;
    lcl_tensor *db = NULL, *pdb = NULL;
    if (st == LCL_SUCCESS && !(db = at_offset(ctx, LCL_F32, offset + 7, out, NULL, &pdb)))
        st = LCL_ERROR_INVALID_ARGUMENT;
    if (st == LCL_SUCCESS)
        st = lcl_dense_forward(ctx, batch, in, out, 0.125, t[0], t[1], t[2], t[3]);
    if (st == LCL_SUCCESS)
        st = lcl_dense_backward(ctx, batch, in, out, 0.125, t[0], t[1], t[3], t[4], t[5], t[6], db);
    float *at = res;
    for (int i = 3; st == LCL_SUCCESS && i < 7; ++i) {
        if (i == 4)
            continue;
        st = lcl_tensor_read(t[i], at);
        at += n[i];
    }
    if (st == LCL_SUCCESS)
        st = lcl_tensor_read(db, at);
    for (int i = 0; i < 7; ++i) {
        lcl_tensor_release(t[i]);
        lcl_tensor_release(p[i]);
    }
    lcl_tensor_release(db);
    lcl_tensor_release(pdb);
    return st;
}

static size_t dense_checks(void) {
    static const size_t shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {17, 9, 33}};
    static float x[17 * 9], w[33 * 9], b[33], dy[17 * 33], got[17 * 33 + 17 * 9 + 33 * 9 + 33],
        want[sizeof got / sizeof got[0]];
    size_t runs = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s)
        for (size_t offset = 0; offset < 2; ++offset, ++runs) {
            size_t batch = shapes[s][0], in = shapes[s][1], out = shapes[s][2];
            fill(LCL_F32, x, batch * in, 6);
            fill(LCL_F32, w, out * in, 7);
            fill(LCL_F32, b, out, 8);
            fill(LCL_F32, dy, batch * out, 9);
            size_t total = 2 * batch * out + batch * in + out * in + out - batch * out;
            if (getenv("LEAKYCL_OCLGRIND_TRACE"))
                printf("dense %zux%zux%zu offset=%zu\n", batch, in, out, offset);
            lcl_status st = dense_on(dev, batch, in, out, offset, x, w, b, dy, got);
            if (st == LCL_ERROR_UNSUPPORTED) {
                printf("dense: %s, skipped\n", lcl_last_error());
                return runs;
            }
            if (st || dense_on(cpu, batch, in, out, offset, x, w, b, dy, want)) {
                fail("dense");
            } else if (!close_f32(got, want, total, 1e-5f)) {
                char what[96];
                snprintf(what, sizeof what, "dense %zux%zux%zu offset=%zu differs from the CPU backend", batch, in, out,
                         offset);
                fail(what);
            }
        }
    return runs;
}

/* PReLU's slope gradient with more than prelu_fold (256, a tunable) partials per channel, which GPU
 * shapes fold in parallel first (prelu.cl's lcl_prelu_fold): inner 129, batch 512 in blocks of
 * 256 rows gives 258 column partials. Only where the kernel shapes are a GPU's. */
static size_t fold_check(void) {
    const char *shape = getenv("LEAKYCL_KERNEL_SHAPE");
    if (!shape || strcmp(shape, "gpu") != 0)
        return 0;
    enum { C = 2, INNER = 129, ROWS = 512, N = C * INNER * ROWS };
    static float x[N], dy[N], alpha[C], got[N + C], want[N + C];
    fill(LCL_F32, x, N, 10);
    fill(LCL_F32, dy, N, 11);
    alpha[0] = 0.25f;
    alpha[1] = -2.0f;
    if (getenv("LEAKYCL_OCLGRIND_TRACE"))
        printf("prelu_backward fold f32 n=%d offset=1\n", N);
    lcl_context *ctxs[2] = {dev, cpu};
    float *res[2] = {got, want};
    for (int k = 0; k < 2; ++k) {
        lcl_tensor *pa = NULL, *px = NULL, *pdy = NULL, *pdx = NULL, *pda = NULL;
        lcl_tensor *a = at_offset(ctxs[k], LCL_F32, 1, C, alpha, &pa);
        lcl_tensor *tx = malloc_free_at(ctxs[k], 1, N, x, &px);
        lcl_tensor *tdy = malloc_free_at(ctxs[k], 2, N, dy, &pdy);
        lcl_tensor *tdx = malloc_free_at(ctxs[k], 3, N, NULL, &pdx);
        lcl_tensor *da = at_offset(ctxs[k], LCL_F32, 1, C, NULL, &pda);
        if (!a || !tx || !tdy || !tdx || !da || lcl_prelu_backward(ctxs[k], C, INNER, a, tx, tdy, tdx, da) ||
            lcl_tensor_read(tdx, res[k]) || lcl_tensor_read(da, res[k] + N))
            fail("prelu fold");
        lcl_tensor *all[] = {a, tx, tdy, tdx, da, pa, px, pdy, pdx, pda};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
            lcl_tensor_release(all[i]);
    }
    if (memcmp(got, want, sizeof(float) * N) || !close_f32(got + N, want + N, C, 1e-5f))
        fail("prelu fold differs from the CPU backend");
    return 1;
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
    runs += dense_checks();
    runs += fold_check();
    lcl_context_release(cpu);
    lcl_context_release(dev);
    printf("%zu runs, %d failures\n", runs, failures);
    return failures ? 1 : 0;
}
