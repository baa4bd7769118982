/* PReLU: y and dx bit for bit against the reference with alpha[c] and against the CPU backend,
 * over [batch, channels, inner] shapes that put channel edges inside vectors (inner < vector
 * width, inner = 1 with few and many channels, inner not a multiple of the width) and at odd
 * element offsets; dalpha against an fp64 reference within 1e-5 * sum |dy x| for fp32 at a
 * million elements per channel, with identical bits on a second run; the ONNX PRelu case with
 * negative slopes; in place; bad calls rejected with nothing written. */
#include "common.h"

#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct shape {
    size_t batch, channels, inner;
} shape;

static size_t shape_n(shape s) { return s.batch * s.channels * s.inner; }

/* Slopes in the storage type: mixed signs, zero, one, above one. */
static void fill_slopes(lcl_dtype dtype, void *alpha, size_t channels, test_rng *rng) {
    static const double picks[] = {0.01, -0.5, 0.0, 1.0, 2.5, 0.25, -3.0, 0.1};
    for (size_t c = 0; c < channels; ++c)
        bits_set(dtype, alpha, c, bits_of(dtype, picks[(c + rng_below(rng, 8)) % 8]));
}

static double slope(lcl_dtype dtype, const void *alpha, size_t e, shape s) {
    return bits_value(dtype, bits_get(dtype, alpha, e / s.inner % s.channels));
}

/* The reference y or dx, element by element with the element's channel's slope. */
static void ref_prelu(lcl_dtype dtype, shape s, const void *alpha, const void *x, const void *dy, void *out) {
    for (size_t e = 0; e < shape_n(s); ++e) {
        double a = slope(dtype, alpha, e, s);
        uint64_t xe = bits_get(dtype, x, e);
        bits_set(dtype, out, e, dy ? ref_backward(dtype, a, xe, bits_get(dtype, dy, e)) : ref_forward(dtype, a, xe));
    }
}

/* dalpha in long double, and sum |dy x| over the alpha branch, per channel. */
static void ref_dalpha(lcl_dtype dtype, shape s, const void *x, const void *dy, long double *sum, double *sum_abs) {
    for (size_t c = 0; c < s.channels; ++c) {
        sum[c] = 0;
        sum_abs[c] = 0;
    }
    for (size_t e = 0; e < shape_n(s); ++e) {
        double v = bits_value(dtype, bits_get(dtype, x, e));
        if (v > 0)
            continue;
        long double p = (long double)v * (long double)bits_value(dtype, bits_get(dtype, dy, e));
        size_t c = e / s.inner % s.channels;
        sum[c] += p;
        sum_abs[c] += fabs((double)p);
    }
}

/* dalpha[c] against the reference: within tol * sum |dy x| plus the rounding to storage. */
static void check_dalpha(lcl_dtype dtype, shape s, const void *x, const void *dy, const void *got, double tol,
                         const char *what) {
    long double *sum = malloc(s.channels * sizeof *sum);
    double *sum_abs = malloc(s.channels * sizeof *sum_abs);
    cr_assert(sum && sum_abs);
    ref_dalpha(dtype, s, x, dy, sum, sum_abs);
    double storage_ulp = dtype == LCL_F16 ? 0x1p-11 : dtype == LCL_BF16 ? 0x1p-8 : dtype == LCL_F32 ? 0x1p-24 : 0x1p-53;
    for (size_t c = 0; c < s.channels; ++c) {
        double g = bits_value(dtype, bits_get(dtype, got, c));
        double want = (double)sum[c];
        double err = fabs(g - want);
        double bound = tol * sum_abs[c] + storage_ulp * fabs(want) + (dtype == LCL_F16 ? 0x1p-24 : 0x1p-149);
        cr_assert(err <= bound,
                  "%s: %s dalpha[%zu] of %zu = %.17g, fp64 reference %.17g: error %.3g > %.3g (sum |dy x| %.17g; "
                  "shape [%zu, %zu, %zu], seed %llu)",
                  what, dtype_label(dtype), c, s.channels, g, want, err, bound, sum_abs[c], s.batch, s.channels,
                  s.inner, (unsigned long long)test_seed());
    }
    free(sum);
    free(sum_abs);
}

/* Host inputs of one case. */
typedef struct inputs {
    lcl_dtype dtype;
    shape s;
    void *alpha, *x, *dy;
} inputs;

static void inputs_random(inputs *in, lcl_dtype dtype, shape s, test_rng *rng, int special) {
    size_t n = shape_n(s);
    in->dtype = dtype;
    in->s = s;
    in->alpha = test_alloc(dtype, s.channels);
    in->x = test_alloc(dtype, n);
    in->dy = test_alloc(dtype, n);
    fill_slopes(dtype, in->alpha, s.channels, rng);
    if (special) {
        fill_random(dtype, in->x, n, 0.5, rng);
        fill_random(dtype, in->dy, n, 0.5, rng);
    } else {
        /* Finite values of both signs, magnitudes near 1: dalpha stays meaningful. */
        for (size_t e = 0; e < n; ++e) {
            double v = ((double)rng_below(rng, 2000001) - 1000000.0) / 1000000.0;
            double g = ((double)rng_below(rng, 2000001) - 1000000.0) / 500000.0;
            bits_set(dtype, in->x, e, bits_of(dtype, v));
            bits_set(dtype, in->dy, e, bits_of(dtype, g));
        }
    }
}

static void inputs_free(inputs *in) {
    free(in->alpha);
    free(in->x);
    free(in->dy);
}

/* Results of one backend: y, dx (with dalpha), dx (without), dalpha. */
typedef struct results {
    void *y, *dx, *dx_plain, *dalpha;
} results;

static void results_free(results *r) {
    free(r->y);
    free(r->dx);
    free(r->dx_plain);
    free(r->dalpha);
}

/* Forward and both backwards on ctx, the tensors at element offset `off` of bigger buffers. */
static results run_all(lcl_context *ctx, const inputs *in, size_t off) {
    lcl_dtype dtype = in->dtype;
    size_t n = shape_n(in->s), size = elem_size(dtype);
    void *xb = test_alloc(dtype, n + off), *dyb = test_alloc(dtype, n + off);
    memcpy((char *)xb + off * size, in->x, n * size);
    memcpy((char *)dyb + off * size, in->dy, n * size);
    lcl_tensor *tx_all = tensor_with(ctx, dtype, n + off, xb), *tdy_all = tensor_with(ctx, dtype, n + off, dyb);
    lcl_tensor *tout_all = tensor_poisoned(ctx, dtype, n + 2 * off);
    lcl_tensor *talpha_all = tensor_new(ctx, dtype, in->s.channels + off);
    lcl_tensor *tx = view_new(tx_all, off, n), *tdy = view_new(tdy_all, off, n), *tout = view_new(tout_all, 2 * off, n);
    lcl_tensor *talpha = view_new(talpha_all, off, in->s.channels);
    OK(lcl_tensor_write(talpha, in->alpha));
    lcl_tensor *tdalpha = tensor_poisoned(ctx, dtype, in->s.channels);
    results r;
    OK(lcl_prelu_forward(ctx, in->s.channels, in->s.inner, talpha, tx, tout));
    r.y = tensor_fetch(tout);
    tensor_poison(tout);
    OK(lcl_prelu_backward(ctx, in->s.channels, in->s.inner, talpha, tx, tdy, tout, tdalpha));
    r.dx = tensor_fetch(tout);
    r.dalpha = tensor_fetch(tdalpha);
    tensor_poison(tout);
    OK(lcl_prelu_backward(ctx, in->s.channels, in->s.inner, talpha, tx, tdy, tout, NULL));
    r.dx_plain = tensor_fetch(tout);
    void *whole = tensor_fetch(tout_all);
    check_poisoned(dtype, 2 * off, whole, "prelu: elements before the output");
    free(whole);
    lcl_tensor *ts[] = {tx, tdy, tout, talpha, tdalpha, tx_all, tdy_all, tout_all, talpha_all};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; ++i)
        lcl_tensor_release(ts[i]);
    free(xb);
    free(dyb);
    return r;
}

static void check_case(lcl_context *ctx, lcl_context *cpu, lcl_dtype dtype, shape s, size_t off, test_rng *rng) {
    inputs in;
    inputs_random(&in, dtype, s, rng, 1);
    size_t n = shape_n(s);
    results r = run_all(ctx, &in, off), c = run_all(cpu, &in, 0);
    void *want = test_alloc(dtype, n);
    char what[128];
    snprintf(what, sizeof what, "shape [%zu, %zu, %zu], offset %zu", s.batch, s.channels, s.inner, off);

    ref_prelu(dtype, s, in.alpha, in.x, NULL, want);
    compare_args fwd = {dtype, n, in.x, NULL, want, r.y};
    assert_results(&fwd, "prelu_forward %s against the reference", what);
    compare_args fwd_cpu = {dtype, n, in.x, NULL, c.y, r.y};
    assert_results(&fwd_cpu, "prelu_forward %s against the CPU backend", what);

    ref_prelu(dtype, s, in.alpha, in.x, in.dy, want);
    compare_args bwd = {dtype, n, in.x, in.dy, want, r.dx};
    assert_results(&bwd, "prelu_backward (with dalpha) %s against the reference", what);
    compare_args plain = {dtype, n, in.x, in.dy, want, r.dx_plain};
    assert_results(&plain, "prelu_backward (no dalpha) %s against the reference", what);
    compare_args bwd_cpu = {dtype, n, in.x, in.dy, c.dx, r.dx};
    assert_results(&bwd_cpu, "prelu_backward %s against the CPU backend", what);
    free(want);
    results_free(&r);
    results_free(&c);
    inputs_free(&in);
}

Test(prelu, shapes_every_dtype) {
    static const shape shapes[] = {
        {1, 1, 1},
        {5, 3, 1},
        {17, 16, 1},
        {9, 100, 1},
        {3, 2, 3},
        {4, 5, 7},
        {2, 3, 8},
        {2, 3, 9},
        {3, 4, 33},
        {2, 6, 64},
        {1, 3, 1000},
        {7, 1, 129},
        {0, 4, 4},
        {2, 64, 50},
        {33, 7, 2},
        {4, 13, 15},
        {1, 1, 4099},
        /* A batch of 256 rows and more with a short inner: dalpha by column sums. */
        {300, 40, 1},
        {260, 5, 7},
        {257, 33, 3},
        {513, 64, 1},
        {256, 1, 1},
    };
    lcl_context *ctx = test_context(), *cpu = test_cpu_context();
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d)
        for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; ++k)
            check_case(ctx, cpu, test_float_dtypes[d], shapes[k], k % 5, &rng);
    lcl_context_release(cpu);
    lcl_context_release(ctx);
}

Test(prelu, large_shapes) {
    static const shape shapes[] = {{8, 3, 50176}, {65536, 3, 1}, {3, 1000, 7}};
    lcl_context *ctx = test_context(), *cpu = test_cpu_context();
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d)
        check_case(ctx, cpu, test_float_dtypes[d], shapes[d % 3], d, &rng);
    lcl_context_release(cpu);
    lcl_context_release(ctx);
}

/* dalpha for fp32 at a million elements per channel (NCHW-like and channels-last), within
 * 1e-5 * sum |dy x| of fp64, and the same bits on a second run. */
Test(prelu, dalpha_accuracy_and_determinism) {
    static const shape shapes[] = {{16, 2, 65536}, {1u << 20, 2, 1}};
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t k = 0; k < 2; ++k) {
        inputs in;
        inputs_random(&in, LCL_F32, shapes[k], &rng, 0);
        results a = run_all(ctx, &in, 0), b = run_all(ctx, &in, 3);
        char what[64];
        snprintf(what, sizeof what, "fp32 shape %zu", k);
        check_dalpha(LCL_F32, in.s, in.x, in.dy, a.dalpha, 1e-5, what);
        cr_assert(memcmp(a.dalpha, b.dalpha, in.s.channels * sizeof(float)) == 0,
                  "%s: two runs gave different dalpha: %.9g %.9g vs %.9g %.9g", what, (double)((float *)a.dalpha)[0],
                  (double)((float *)a.dalpha)[1], (double)((float *)b.dalpha)[0], (double)((float *)b.dalpha)[1]);
        results_free(&a);
        results_free(&b);
        inputs_free(&in);
    }
    lcl_context_release(ctx);
}

/* dalpha for every dtype and shape kind, on both backends. */
Test(prelu, dalpha_every_dtype) {
    static const shape shapes[] = {{3, 4, 1000},  {20000, 3, 1}, {7, 5, 3},    {1, 2, 1},
                                   {100, 1, 513}, {300, 40, 1},  {2000, 7, 9}, {600, 100, 2}};
    lcl_context *ctx = test_context(), *cpu = test_cpu_context();
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        double tol = dtype == LCL_F64 ? 1e-12 : 1e-5;
        for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; ++k) {
            inputs in;
            inputs_random(&in, dtype, shapes[k], &rng, 0);
            results r = run_all(ctx, &in, k), c = run_all(cpu, &in, 0);
            char what[64];
            snprintf(what, sizeof what, "shape %zu, this backend", k);
            check_dalpha(dtype, in.s, in.x, in.dy, r.dalpha, tol, what);
            snprintf(what, sizeof what, "shape %zu, CPU backend", k);
            check_dalpha(dtype, in.s, in.x, in.dy, c.dalpha, tol, what);
            results_free(&r);
            results_free(&c);
            inputs_free(&in);
        }
    }
    lcl_context_release(cpu);
    lcl_context_release(ctx);
}

/* n = 0: y and dx have nothing to write; dalpha is overwritten with zeros. */
Test(prelu, empty_batch_zeroes_dalpha) {
    lcl_context *ctx = test_context();
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        lcl_tensor *x = tensor_new(ctx, dtype, 0), *alpha = tensor_poisoned(ctx, dtype, 3);
        lcl_tensor *dalpha = tensor_poisoned(ctx, dtype, 3);
        OK(lcl_prelu_forward(ctx, 3, 5, alpha, x, x));
        OK(lcl_prelu_backward(ctx, 3, 5, alpha, x, x, x, dalpha));
        void *got = tensor_fetch(dalpha);
        for (size_t c = 0; c < 3; ++c)
            cr_assert(bits_get(dtype, got, c) == 0, "%s: dalpha[%zu] of an empty batch is 0x%llx, expected +0",
                      dtype_label(dtype), c, (unsigned long long)bits_get(dtype, got, c));
        free(got);
        lcl_tensor_release(x);
        lcl_tensor_release(alpha);
        lcl_tensor_release(dalpha);
    }
    lcl_context_release(ctx);
}

/* ONNX PRelu, slope broadcast over the last axis of [3, 4, 5] (channels 5, inner 1) and per
 * channel of NCHW [2, 3, 2, 2] (channels 3, inner 4), with negative slopes: negative x gives
 * positive y. Values are exact in every dtype. */
Test(prelu, onnx_negative_slopes) {
    lcl_context *ctx = test_context();
    static const double last_axis[5] = {-0.5, -1.0, -2.0, -0.25, -3.0};
    static const double nchw[3] = {-0.125, -4.0, 0.5};
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        for (int layout = 0; layout < 2; ++layout) {
            size_t channels = layout ? 3 : 5, inner = layout ? 4 : 1, n = layout ? 24 : 60;
            const double *slopes = layout ? nchw : last_axis;
            void *hx = test_alloc(dtype, n), *ha = test_alloc(dtype, channels);
            for (size_t e = 0; e < n; ++e)
                bits_set(dtype, hx, e, bits_of(dtype, ((double)(e % 9) - 4.0) * 0.5));
            for (size_t c = 0; c < channels; ++c)
                bits_set(dtype, ha, c, bits_of(dtype, slopes[c]));
            lcl_tensor *x = tensor_with(ctx, dtype, n, hx), *alpha = tensor_with(ctx, dtype, channels, ha);
            lcl_tensor *y = tensor_poisoned(ctx, dtype, n);
            OK(lcl_prelu_forward(ctx, channels, inner, alpha, x, y));
            void *got = tensor_fetch(y);
            for (size_t e = 0; e < n; ++e) {
                double xv = ((double)(e % 9) - 4.0) * 0.5, a = slopes[e / inner % channels];
                double want = xv > 0 ? xv : a * xv, g = bits_value(dtype, bits_get(dtype, got, e));
                cr_assert(g == want, "%s %s: y[%zu] = %g for x = %g, slope %g: expected %g", dtype_label(dtype),
                          layout ? "NCHW" : "last axis", e, g, xv, a, want);
                if (xv < 0 && a < 0)
                    cr_assert(g > 0, "negative x with a negative slope must give a positive y");
            }
            free(got);
            free(hx);
            free(ha);
            lcl_tensor_release(x);
            lcl_tensor_release(alpha);
            lcl_tensor_release(y);
        }
    }
    lcl_context_release(ctx);
}

/* y is x; dx is dy; dalpha is alpha (the slopes are read before they are overwritten). */
Test(prelu, in_place) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    const shape s = {5, 6, 37};
    size_t n = shape_n(s);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        inputs in;
        inputs_random(&in, dtype, s, &rng, 0);
        results separate = run_all(ctx, &in, 0);
        lcl_tensor *x = tensor_with(ctx, dtype, n, in.x), *dy = tensor_with(ctx, dtype, n, in.dy);
        lcl_tensor *alpha = tensor_with(ctx, dtype, s.channels, in.alpha);
        OK(lcl_prelu_backward(ctx, s.channels, s.inner, alpha, x, dy, dy, alpha));
        void *dx = tensor_fetch(dy), *dalpha = tensor_fetch(alpha);
        compare_args c = {dtype, n, in.x, in.dy, separate.dx, dx};
        assert_results(&c, "in-place prelu_backward against out of place");
        cr_assert(memcmp(dalpha, separate.dalpha, s.channels * elem_size(dtype)) == 0,
                  "%s: dalpha written over alpha differs from dalpha on its own", dtype_label(dtype));
        OK(lcl_tensor_write(alpha, in.alpha));
        OK(lcl_prelu_forward(ctx, s.channels, s.inner, alpha, x, x));
        void *y = tensor_fetch(x);
        compare_args f = {dtype, n, in.x, NULL, separate.y, y};
        assert_results(&f, "in-place prelu_forward against out of place");
        free(dx);
        free(dalpha);
        free(y);
        lcl_tensor_release(x);
        lcl_tensor_release(dy);
        lcl_tensor_release(alpha);
        results_free(&separate);
        inputs_free(&in);
    }
    lcl_context_release(ctx);
}

/* ---- bad calls ------------------------------------------------------------------------------ */

Test(prelu, bad_calls_change_nothing) {
    lcl_context *ctx = test_context(), *cpu = test_cpu_context();
    enum { C = 4, I = 5, N = 2 * C * I };
    float hx[N], ha[C] = {0.1f, -0.2f, 0.3f, 0.4f};
    for (size_t e = 0; e < N; ++e)
        hx[e] = (float)e - 20.0f;
    lcl_tensor *x = tensor_with(ctx, LCL_F32, N, hx), *alpha = tensor_with(ctx, LCL_F32, C, ha);
    lcl_tensor *y = tensor_poisoned(ctx, LCL_F32, N), *dalpha = tensor_poisoned(ctx, LCL_F32, C);
    lcl_tensor *short_alpha = tensor_with(ctx, LCL_F32, C - 1, ha), *f16_alpha = tensor_poisoned(ctx, LCL_F16, C);
    lcl_tensor *other_alpha = tensor_poisoned(cpu, LCL_F32, C), *f16_y = tensor_poisoned(ctx, LCL_F16, N);
    lcl_tensor *big = tensor_poisoned(ctx, LCL_F32, 2 * N), *over_x = view_new(big, 0, N),
               *over_y = view_new(big, 3, N);
    lcl_tensor *y_alpha = view_new(y, 0, C), *x_dalpha = view_new(x, 0, C), *y_dalpha = view_new(y, 4, C);
    lcl_tensor *mask = tensor_new(ctx, LCL_MASK, N);
    struct {
        lcl_status got;
        const char *what;
    } cases[] = {
        {lcl_prelu_forward(NULL, C, I, alpha, x, y), "NULL ctx"},
        {lcl_prelu_forward(ctx, C, I, NULL, x, y), "NULL alpha"},
        {lcl_prelu_forward(ctx, C, I, alpha, NULL, y), "NULL x"},
        {lcl_prelu_forward(ctx, C, I, alpha, x, NULL), "NULL y"},
        {lcl_prelu_forward(ctx, 0, I, alpha, x, y), "channels 0"},
        {lcl_prelu_forward(ctx, C, 0, alpha, x, y), "inner 0"},
        {lcl_prelu_forward(ctx, C, 3, alpha, x, y), "n not a multiple of channels * inner"},
        {lcl_prelu_forward(ctx, C, SIZE_MAX / 2, alpha, x, y), "channels * inner overflows"},
        {lcl_prelu_forward(ctx, C, I, short_alpha, x, y), "alpha of channels - 1"},
        {lcl_prelu_forward(ctx, C, I, f16_alpha, x, y), "alpha of another dtype"},
        {lcl_prelu_forward(ctx, C, I, other_alpha, x, y), "alpha of another context"},
        {lcl_prelu_forward(ctx, C, I, alpha, x, f16_y), "y of another dtype"},
        {lcl_prelu_forward(ctx, C, I, alpha, over_x, over_y), "y partly over x"},
        {lcl_prelu_forward(ctx, C, I, y_alpha, x, y), "y over alpha"},
        {lcl_prelu_forward(ctx, C, I, alpha, mask, mask), "mask tensors"},
        {lcl_prelu_backward(ctx, C, I, alpha, x, NULL, y, dalpha), "backward: NULL dy"},
        {lcl_prelu_backward(ctx, C, I, alpha, x, x, NULL, dalpha), "backward: NULL dx"},
        {lcl_prelu_backward(ctx, C, 3, alpha, x, x, y, dalpha), "backward: n not a multiple"},
        {lcl_prelu_backward(ctx, C, I, alpha, x, x, y, short_alpha), "backward: dalpha of channels - 1"},
        {lcl_prelu_backward(ctx, C, I, alpha, x, x, y, f16_alpha), "backward: dalpha of another dtype"},
        {lcl_prelu_backward(ctx, C, I, alpha, x, x, y, other_alpha), "backward: dalpha of another context"},
        {lcl_prelu_backward(ctx, C, I, alpha, x, x, y, x_dalpha), "backward: dalpha over x"},
        {lcl_prelu_backward(ctx, C, I, alpha, x, x, y, y_dalpha), "backward: dalpha over dx"},
        {lcl_prelu_backward(ctx, C, I, y_alpha, x, x, y, dalpha), "backward: dx over alpha"},
        {lcl_prelu_backward(ctx, C, I, alpha, over_x, over_x, over_y, dalpha), "backward: dx partly over dy"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        cr_assert(cases[i].got == LCL_ERROR_INVALID_ARGUMENT, "%s: got %s, expected LCL_ERROR_INVALID_ARGUMENT",
                  cases[i].what, lcl_status_string(cases[i].got));
        void *got = tensor_fetch(y);
        check_poisoned(LCL_F32, N, got, "%s: y", cases[i].what);
        free(got);
        got = tensor_fetch(dalpha);
        check_poisoned(LCL_F32, C, got, "%s: dalpha", cases[i].what);
        free(got);
        got = tensor_fetch(big);
        check_poisoned(LCL_F32, 2 * N, got, "%s: the buffer under the overlapping views", cases[i].what);
        free(got);
    }
    EXPECT_STATUS(lcl_prelu_forward(ctx, C, 3, alpha, x, y), LCL_ERROR_INVALID_ARGUMENT);
    cr_assert(strstr(lcl_last_error(), "multiple"), "message: \"%s\"", lcl_last_error());
    lcl_tensor *all[] = {x,      alpha,  y,   dalpha,  short_alpha, f16_alpha, other_alpha, f16_y,
                         over_x, over_y, big, y_alpha, x_dalpha,    y_dalpha,  mask};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        lcl_tensor_release(all[i]);
    lcl_context_release(cpu);
    lcl_context_release(ctx);
}

/* LEAKYCL_VERIFY=1 recomputes y, dx and dalpha and agrees with correct kernels. */
Test(prelu, verify_accepts_correct_kernels) {
    setenv("LEAKYCL_VERIFY", "1", 1);
    lcl_context *ctx = test_context(), *cpu = test_cpu_context();
    test_rng rng;
    rng_init(&rng, 0);
    static const shape shapes[] = {{3, 4, 1000}, {5000, 3, 1}, {7, 5, 3}};
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d)
        check_case(ctx, cpu, test_float_dtypes[d], shapes[d % 3], d, &rng);
    lcl_context_release(cpu);
    lcl_context_release(ctx);
    unsetenv("LEAKYCL_VERIFY");
}
