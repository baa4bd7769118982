/* leakycl-bench-interleaved: ratios between ops that a shared, noisy machine cannot skew. The
 * forward of f32, f16 and bf16 and the masked forward of f16 and bf16 on one device take turns
 * call by call (each call waited for), ROUNDS times, so every op sees the same moments of the
 * machine's load; per op the median call time, then the two ratios issue 12 asks of PoCL:
 * a dtype's forward elements per second against f32's, and the masked forward's time against
 * the plain forward's of the same dtype. Data: random, with negatives, +-0, NaN, +-inf and
 * subnormals (bench_fill).
 *
 * usage: leakycl-bench-interleaved [DEVICE [LOG2_N [ROUNDS [PARAMS]]]]   (default: opencl, 24, 41)
 * PARAMS: kernel shapes in place of the tuning cache, as lcl_context_create_tuned takes them
 * ("forward bf16 vw=16 vpt=8 wgs=64", lines apart); without it, the device's defaults. */
#include "workloads.h"

#include <stdio.h>
#include <stdlib.h>

#define ALPHA 0.01
#define OP_COUNT 5

struct op {
    const char *name;
    lcl_dtype dtype;
    bool masked;
    lcl_tensor *x, *y, *mask;
    double *seconds;
};

static int setup(lcl_context *ctx, struct op *op, size_t n, size_t rounds, uint64_t *state) {
    void *host = malloc(n * lcl_dtype_size(op->dtype));
    op->seconds = calloc(rounds, sizeof *op->seconds);
    int bad = !host || !op->seconds || lcl_tensor_create(ctx, op->dtype, n, &op->x) != LCL_SUCCESS ||
              lcl_tensor_create(ctx, op->dtype, n, &op->y) != LCL_SUCCESS ||
              (op->masked && lcl_tensor_create(ctx, LCL_MASK, n, &op->mask) != LCL_SUCCESS);
    if (!bad) {
        bench_fill(op->dtype, host, n, state);
        bad = lcl_tensor_write(op->x, host) != LCL_SUCCESS;
    }
    free(host);
    return bad ? -1 : 0;
}

static int run(lcl_context *ctx, const struct op *op) {
    lcl_status st =
        op->masked ? lcl_forward_masked(ctx, ALPHA, op->x, op->y, op->mask) : lcl_forward(ctx, ALPHA, op->x, op->y);
    return st == LCL_SUCCESS && lcl_finish(ctx) == LCL_SUCCESS ? 0 : -1;
}

static void release(struct op *op) {
    lcl_tensor_release(op->x);
    lcl_tensor_release(op->y);
    lcl_tensor_release(op->mask);
    free(op->seconds);
}

int main(int argc, char **argv) {
    const char *device = argc > 1 ? argv[1] : "opencl";
    int log2_n = argc > 2 ? atoi(argv[2]) : 24;
    size_t rounds = argc > 3 ? (size_t)atol(argv[3]) : 41;
    const char *params = argc > 4 ? argv[4] : "";
    if (log2_n < 10 || log2_n > 30 || rounds < 1 || rounds > 100000) {
        fprintf(stderr, "usage: leakycl-bench-interleaved [DEVICE [LOG2_N (10..30) [ROUNDS [PARAMS]]]]\n");
        return 2;
    }
    size_t n = (size_t)1 << log2_n;
    struct op ops[OP_COUNT] = {
        {.name = "forward f32", .dtype = LCL_F32},
        {.name = "forward f16", .dtype = LCL_F16},
        {.name = "forward bf16", .dtype = LCL_BF16},
        {.name = "forward_masked f16", .dtype = LCL_F16, .masked = true},
        {.name = "forward_masked bf16", .dtype = LCL_BF16, .masked = true},
    };
    lcl_context *ctx = NULL;
    uint64_t state = 0x9e3779b97f4a7c15ull;
    int status = 1;
    if (lcl_context_create_tuned(device, params, &ctx) != LCL_SUCCESS) {
        fprintf(stderr, "%s: %s\n", device, lcl_last_error());
        return 1;
    }
    for (size_t k = 0; k < OP_COUNT; ++k)
        if (setup(ctx, &ops[k], n, rounds, &state) || run(ctx, &ops[k])) /* the untimed call: build, touch */
            goto done;
    for (size_t r = 0; r < rounds; ++r) {
        for (size_t k = 0; k < OP_COUNT; ++k) {
            double t0 = bench_now();
            if (run(ctx, &ops[k]))
                goto done;
            ops[k].seconds[r] = bench_now() - t0;
        }
    }
    double med[OP_COUNT];
    printf("%s%s%s, n = 2^%d, %zu rounds of the five calls in turn; median call times\n", device, *params ? ", " : "",
           params, log2_n, rounds);
    for (size_t k = 0; k < OP_COUNT; ++k) {
        med[k] = bench_median(ops[k].seconds, rounds);
        printf("  %-20s %9.3f ms\n", ops[k].name, med[k] * 1e3);
    }
    printf("elements per second against f32's forward: f16 %.2fx, bf16 %.2fx\n", med[0] / med[1], med[0] / med[2]);
    printf("masked forward time against the plain forward's: f16 %.2fx, bf16 %.2fx\n", med[3] / med[1],
           med[4] / med[2]);
    status = 0;
done:
    if (status)
        fprintf(stderr, "failed: %s\n", lcl_last_error());
    for (size_t k = 0; k < OP_COUNT; ++k)
        release(&ops[k]);
    lcl_context_release(ctx);
    return status;
}
