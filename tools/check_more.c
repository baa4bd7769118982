/* `leakycl check` beyond the elementwise ops: batches (7 uneven views of one buffer), the sign
 * mask, PReLU ([n/15, 3, 5]) and its slope gradient. */
#include "check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ops beyond the elementwise ones, checked the same way: bit for bit against the CPU backend; the
 * masked forward's bits against x > 0; PReLU's dalpha against an fp64 sum. */
enum more_op {
    MORE_FORWARD_BATCH,
    MORE_BACKWARD_BATCH,
    MORE_FORWARD_MASKED,
    MORE_BACKWARD_MASKED,
    MORE_PRELU_FORWARD,
    MORE_PRELU_BACKWARD,
    MORE_OP_COUNT
};

static const char *const more_names[MORE_OP_COUNT] = {"forward_batch",   "backward_batch", "forward_masked",
                                                      "backward_masked", "prelu_forward",  "prelu_backward"};

/* Batch items: n cut into BATCH_ITEMS views of one buffer, of uneven sizes. */
#define BATCH_ITEMS 7
/* PReLU's shape: [n / (3 * 5), 3, 5] over the first multiple of 15 elements. */
#define PRELU_CHANNELS 3
#define PRELU_INNER 5

/* Channel c's slope, as its storage type holds it: alpha, -alpha / 2, 2 * alpha. */
static double prelu_slope(lcl_dtype dtype, double alpha, size_t c) {
    static const double scale[PRELU_CHANNELS] = {1.0, -0.5, 2.0};
    return decode(dtype, encode(dtype, alpha * scale[c]));
}

static size_t more_count(enum more_op op, size_t n) {
    return op >= MORE_PRELU_FORWARD ? n / (PRELU_CHANNELS * PRELU_INNER) * (PRELU_CHANNELS * PRELU_INNER) : n;
}

/* Tensors of one run, released together. */
struct more_tensors {
    lcl_tensor *x, *dy, *out, *mask, *alpha, *dalpha;
    lcl_tensor *vx[BATCH_ITEMS], *vdy[BATCH_ITEMS], *vout[BATCH_ITEMS];
};

static void more_release(struct more_tensors *t) {
    lcl_tensor *all[] = {t->x, t->dy, t->out, t->mask, t->alpha, t->dalpha};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        lcl_tensor_release(all[i]);
    }
    for (size_t k = 0; k < BATCH_ITEMS; k++) {
        lcl_tensor_release(t->vx[k]);
        lcl_tensor_release(t->vdy[k]);
        lcl_tensor_release(t->vout[k]);
    }
}

static lcl_status tensor_from(lcl_context *ctx, lcl_dtype dtype, size_t n, const void *src, lcl_tensor **t) {
    lcl_status status = lcl_tensor_create(ctx, dtype, n, t);
    if (status == LCL_SUCCESS && src != NULL) {
        status = lcl_tensor_write(*t, src);
    }
    return status;
}

static lcl_status run_batch(lcl_context *ctx, enum more_op op, lcl_dtype dtype, size_t n, double alpha,
                            struct more_tensors *t) {
    double alphas[BATCH_ITEMS];
    size_t at = 0;
    lcl_status status = LCL_SUCCESS;
    for (size_t k = 0; k < BATCH_ITEMS && status == LCL_SUCCESS; k++) {
        /* Sizes grow with k: 1, 2, ... 7 parts of n / 28, the last takes the rest. */
        size_t size = k + 1 < BATCH_ITEMS ? n / 28 * (k + 1) : n - at;
        alphas[k] = alpha;
        status = lcl_tensor_view(t->x, at, size, &t->vx[k]);
        if (status == LCL_SUCCESS) {
            status = lcl_tensor_view(t->dy, at, size, &t->vdy[k]);
        }
        if (status == LCL_SUCCESS) {
            status = lcl_tensor_view(t->out, at, size, &t->vout[k]);
        }
        at += size;
    }
    (void)dtype;
    if (status != LCL_SUCCESS) {
        return status;
    }
    if (op == MORE_FORWARD_BATCH) {
        return lcl_forward_batch(ctx, BATCH_ITEMS, alphas, (const lcl_tensor *const *)t->vx, t->vout);
    }
    return lcl_backward_batch(ctx, BATCH_ITEMS, alphas, (const lcl_tensor *const *)t->vx,
                              (const lcl_tensor *const *)t->vdy, t->vout);
}

/* Runs one op on ctx: x and dy in, `out` (poisoned first) gets y or dx, `mask` (if not NULL) the
 * masked forward's words, `dalpha` (if not NULL) PReLU's slope gradient. */
static lcl_status run_more(lcl_context *ctx, enum more_op op, lcl_dtype dtype, size_t n, double alpha, const void *x,
                           const void *dy, void *out, void *mask, void *dalpha) {
    struct more_tensors t;
    memset(&t, 0, sizeof t);
    memset(out, POISON_BYTE, n * lcl_dtype_size(dtype));
    lcl_status status = tensor_from(ctx, dtype, n, x, &t.x);
    if (status == LCL_SUCCESS) {
        status = tensor_from(ctx, dtype, n, dy, &t.dy);
    }
    if (status == LCL_SUCCESS) {
        status = tensor_from(ctx, dtype, n, out, &t.out);
    }
    if (status == LCL_SUCCESS) {
        status = lcl_tensor_create(ctx, LCL_MASK, n, &t.mask);
    }
    if (status == LCL_SUCCESS && op >= MORE_PRELU_FORWARD) {
        unsigned char slopes[PRELU_CHANNELS * 8];
        const struct format *fmt = format_of(dtype);
        for (size_t c = 0; c < PRELU_CHANNELS; c++) {
            set_bits(slopes, fmt->width, c, encode(dtype, prelu_slope(dtype, alpha, c)));
        }
        status = tensor_from(ctx, dtype, PRELU_CHANNELS, slopes, &t.alpha);
        if (status == LCL_SUCCESS) {
            status = tensor_from(ctx, dtype, PRELU_CHANNELS, NULL, &t.dalpha);
        }
    }
    if (status == LCL_SUCCESS) {
        switch (op) {
        case MORE_FORWARD_BATCH:
        case MORE_BACKWARD_BATCH:
            status = run_batch(ctx, op, dtype, n, alpha, &t);
            break;
        case MORE_FORWARD_MASKED:
            status = lcl_forward_masked(ctx, alpha, t.x, t.out, t.mask);
            break;
        case MORE_BACKWARD_MASKED:
            /* The mask comes from x, then dx from the mask and dy alone. */
            status = lcl_forward_masked(ctx, alpha, t.x, t.out, t.mask);
            if (status == LCL_SUCCESS) {
                status = lcl_tensor_write(t.out, out);
            }
            if (status == LCL_SUCCESS) {
                status = lcl_backward_masked(ctx, alpha, t.mask, t.dy, t.out);
            }
            break;
        case MORE_PRELU_FORWARD:
            status = lcl_prelu_forward(ctx, PRELU_CHANNELS, PRELU_INNER, t.alpha, t.x, t.out);
            break;
        default:
            status = lcl_prelu_backward(ctx, PRELU_CHANNELS, PRELU_INNER, t.alpha, t.x, t.dy, t.out, t.dalpha);
            break;
        }
    }
    if (status == LCL_SUCCESS) {
        status = lcl_tensor_read(t.out, out);
    }
    if (status == LCL_SUCCESS && mask != NULL) {
        status = lcl_tensor_read(t.mask, mask);
    }
    if (status == LCL_SUCCESS && dalpha != NULL && t.dalpha != NULL) {
        status = lcl_tensor_read(t.dalpha, dalpha);
    }
    more_release(&t);
    return status;
}

/* x and dy with every element brought to a magnitude of at most 1 (a NaN or infinity becomes
 * +-0.5, a larger value its mantissa in [0.5, 1)): PReLU's slope gradient then stays finite,
 * even in fp16, and comparable with fp64. */
static void finite_copy(const struct format *fmt, const void *src, void *dst, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint64_t bits = get_bits(src, fmt->width, i);
        double v = decode(fmt->dtype, bits);
        if (!isfinite(v)) {
            bits = encode(fmt->dtype, v < 0 ? -0.5 : 0.5);
        } else if (fabs(v) > 1) {
            int exponent;
            bits = encode(fmt->dtype, frexp(v, &exponent));
        }
        set_bits(dst, fmt->width, i, bits);
    }
}

/* dalpha from both backends against an fp64 sum: within 1e-5 (fp64: 1e-12) of sum |dy x|, plus
 * the rounding into the storage type. Prints one line. */
static void check_dalpha(lcl_context *ctx, lcl_context *ref, const struct format *fmt, double alpha, size_t n,
                         const struct arrays *arr, struct tally *tally) {
    size_t count = more_count(MORE_PRELU_BACKWARD, n);
    size_t bytes = count * lcl_dtype_size(fmt->dtype);
    void *x = malloc(bytes > 0 ? bytes : 1);
    void *dy = malloc(bytes > 0 ? bytes : 1);
    unsigned char got[2][PRELU_CHANNELS * 8];
    lcl_context *ctxs[2] = {ctx, ref};
    const char *dname = lcl_dtype_name(fmt->dtype);
    lcl_status status = x != NULL && dy != NULL ? LCL_SUCCESS : LCL_ERROR_OUT_OF_MEMORY;
    if (status == LCL_SUCCESS) {
        finite_copy(fmt, arr->x, x, count);
        finite_copy(fmt, arr->dy, dy, count);
    }
    for (int k = 0; k < 2 && status == LCL_SUCCESS; k++) {
        status = run_more(ctxs[k], MORE_PRELU_BACKWARD, fmt->dtype, count, alpha, x, dy, arr->dev, NULL, got[k]);
    }
    if (status != LCL_SUCCESS) {
        printf("FAIL  %-21s %-4s alpha=%-8g %s: %s\n", "prelu_dalpha", dname, alpha, lcl_status_string(status),
               status == LCL_ERROR_OUT_OF_MEMORY ? "out of memory" : lcl_last_error());
        tally->failed++;
        free(x);
        free(dy);
        return;
    }
    double sum[PRELU_CHANNELS] = {0}, sum_abs[PRELU_CHANNELS] = {0};
    for (size_t i = 0; i < count; i++) {
        double v = decode(fmt->dtype, get_bits(x, fmt->width, i));
        if (!(v > 0)) {
            double p = v * decode(fmt->dtype, get_bits(dy, fmt->width, i));
            sum[i / PRELU_INNER % PRELU_CHANNELS] += p;
            sum_abs[i / PRELU_INNER % PRELU_CHANNELS] += fabs(p);
        }
    }
    double tol = fmt->dtype == LCL_F64 ? 1e-12 : 1e-5;
    double worst = 0; /* the largest error as a share of its bound */
    for (int k = 0; k < 2; k++) {
        for (size_t c = 0; c < PRELU_CHANNELS; c++) {
            double d = decode(fmt->dtype, get_bits(got[k], fmt->width, c));
            double bound = tol * sum_abs[c] + fabs(sum[c]) * ldexp(1.0, -(int)fmt->mant_bits - 1) + 1e-300;
            double rounded = decode(fmt->dtype, encode(fmt->dtype, sum[c])); /* an infinity if it overflows */
            double share = isinf(rounded) ? (d == rounded ? 0 : INFINITY) : fabs(d - sum[c]) / bound;
            worst = share > worst || isnan(share) ? share : worst;
        }
    }
    int pass = worst <= 1.0;
    printf("%s  %-21s %-4s alpha=%-8g %zu elements, device and CPU within %.2g of the bound (1e%d * sum|dy x|)\n",
           pass ? "PASS" : "FAIL", "prelu_dalpha", dname, alpha, count, worst, fmt->dtype == LCL_F64 ? -12 : -5);
    if (!pass) {
        for (int k = 0; k < 2; k++) {
            printf("      %s:", k == 0 ? "device" : "cpu");
            for (size_t c = 0; c < PRELU_CHANNELS; c++) {
                printf(" dalpha[%zu]=%.17g", c, decode(fmt->dtype, get_bits(got[k], fmt->width, c)));
            }
            printf("\n");
        }
        printf("      fp64: dalpha = %.17g %.17g %.17g\n", sum[0], sum[1], sum[2]);
    }
    if (pass) {
        tally->passed++;
    } else {
        tally->failed++;
    }
    free(x);
    free(dy);
}

/* Checks one of the ops above for one dtype and alpha; prints its line. */
static void check_more_op(lcl_context *ctx, lcl_context *ref, const struct format *fmt, enum more_op op, double alpha,
                          size_t n, const struct arrays *arr, struct tally *tally) {
    size_t count = more_count(op, n);
    int backward = op == MORE_BACKWARD_BATCH || op == MORE_BACKWARD_MASKED || op == MORE_PRELU_BACKWARD;
    int masked = op == MORE_FORWARD_MASKED;
    const char *dname = lcl_dtype_name(fmt->dtype);
    size_t words = count / 32 + (count % 32 != 0);
    uint32_t *dev_mask = masked ? malloc((words > 0 ? words : 1) * sizeof *dev_mask) : NULL;
    if (masked && dev_mask == NULL) {
        printf("FAIL  %-21s %-4s alpha=%-8g out of memory\n", more_names[op], dname, alpha);
        tally->failed++;
        return;
    }
    lcl_status status = run_more(ctx, op, fmt->dtype, count, alpha, arr->x, arr->dy, arr->dev, dev_mask, NULL);
    const char *who = "device";
    if (status == LCL_SUCCESS) {
        who = "CPU backend";
        status = run_more(ref, op, fmt->dtype, count, alpha, arr->x, arr->dy, arr->cpu, NULL, NULL);
    }
    if (status != LCL_SUCCESS) {
        printf("FAIL  %-21s %-4s alpha=%-8g %s: %s: %s\n", more_names[op], dname, alpha, who, lcl_status_string(status),
               lcl_last_error());
        tally->failed++;
        free(dev_mask);
        return;
    }
    struct diff vs_cpu = {0, 0, 0};
    size_t bad_bits = 0;
    size_t first_bad_bit = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t x = get_bits(arr->x, fmt->width, i);
        diff_add(&vs_cpu, fmt, i, get_bits(arr->dev, fmt->width, i), get_bits(arr->cpu, fmt->width, i));
        if (masked && (int)((dev_mask[i / 32] >> (i % 32)) & 1u) != (decode(fmt->dtype, x) > 0) && bad_bits++ == 0) {
            first_bad_bit = i;
        }
    }
    int pass = vs_cpu.mismatches == 0 && bad_bits == 0;
    char ulp[32];
    printf("%s  %-21s %-4s alpha=%-8g %zu elements, max diff %s%s\n", pass ? "PASS" : "FAIL", more_names[op], dname,
           alpha, count, format_ulp(vs_cpu.max_ulp, ulp, sizeof ulp), masked ? ", mask bits = (x > 0)" : "");
    if (vs_cpu.mismatches != 0) {
        size_t i = vs_cpu.first;
        printf("      device vs CPU backend: %zu of %zu elements differ; first at [%zu]:", vs_cpu.mismatches, count, i);
        print_value("x", fmt, get_bits(arr->x, fmt->width, i));
        if (backward) {
            print_value("dy", fmt, get_bits(arr->dy, fmt->width, i));
        }
        print_value("device", fmt, get_bits(arr->dev, fmt->width, i));
        print_value("cpu", fmt, get_bits(arr->cpu, fmt->width, i));
        printf("\n");
    }
    if (bad_bits != 0) {
        printf("      mask: %zu of %zu bits differ from x > 0; first at [%zu]:", bad_bits, count, first_bad_bit);
        print_value("x", fmt, get_bits(arr->x, fmt->width, first_bad_bit));
        printf(" bit=%u\n", (unsigned)((dev_mask[first_bad_bit / 32] >> (first_bad_bit % 32)) & 1u));
    }
    free(dev_mask);
    if (pass) {
        tally->passed++;
    } else {
        tally->failed++;
    }
}

void check_more(lcl_context *ctx, lcl_context *ref, const struct format *fmt, double alpha, size_t n,
                const struct arrays *arr, struct tally *tally) {
    for (int o = 0; o < MORE_OP_COUNT; o++) {
        check_more_op(ctx, ref, fmt, (enum more_op)o, alpha, n, arr, tally);
    }
    check_dalpha(ctx, ref, fmt, alpha, n, arr, tally);
}
