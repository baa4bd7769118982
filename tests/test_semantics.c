/* DESIGN.md's semantics table: hand-picked values with hand-written expectations, then every
 * f16 and bf16 bit pattern and a random mix of every dtype against the reference. */
#include "common.h"

#include <criterion/criterion.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const double alphas[] = {0.0, 0.01, 1.0, 2.5, -0.5};
#define ALPHA_COUNT (sizeof alphas / sizeof alphas[0])

/* Alphas that exercise rounding alpha to the compute type and products that overflow or
 * underflow, on top of the table's. */
static const double more_alphas[] = {0.1, 1.0 / 3.0, -3.75, 1e30, 1e-30};
#define MORE_ALPHA_COUNT (sizeof more_alphas / sizeof more_alphas[0])

/* A value that is exact in every dtype: a number, k times the smallest subnormal, k times
 * the largest finite (k = ±1, ±2), or alpha rounded to storage. */
typedef enum { NUM, TINY, MAX, ALPHA } kind;
typedef struct value {
    kind kind;
    double v;
} value;

#define V(x) ((value){NUM, (x)})
#define VTINY(k) ((value){TINY, (k)})
#define VMAX(k) ((value){MAX, (k)})
#define VALPHA ((value){ALPHA, 0})

static uint64_t value_bits(lcl_dtype dtype, double alpha, value v) {
    uint64_t sign = signbit(v.v) ? bits_of(dtype, -0.0) : 0;
    switch (v.kind) {
    case TINY:
        return sign | (uint64_t)fabs(v.v);
    case MAX:
        return sign | (bits_of(dtype, INFINITY) - 1);
    case ALPHA:
        return bits_of(dtype, alpha);
    default:
        return bits_of(dtype, v.v);
    }
}

/* ---- hand-picked forward cases ------------------------------------------------------------ */

typedef struct forward_case {
    double alpha;
    value x, y;
} forward_case;

static const forward_case forward_cases[] = {
    /* x > 0 is false for ±0: f(±0) = alpha * ±0, whose sign is sign(alpha) * sign(x). */
    {0.01, V(0.0), V(0.0)},
    {0.01, V(-0.0), V(-0.0)},
    {0.0, V(0.0), V(0.0)},
    {0.0, V(-0.0), V(-0.0)},
    {2.5, V(-0.0), V(-0.0)},
    {-0.5, V(0.0), V(-0.0)},
    {-0.5, V(-0.0), V(0.0)},
    /* NaN takes the alpha branch and stays NaN. */
    {0.01, V(NAN), V(NAN)},
    {0.01, V(-NAN), V(NAN)},
    {0.0, V(NAN), V(NAN)},
    {-0.5, V(NAN), V(NAN)},
    /* ±inf follow the formula: 0 * -inf is NaN. */
    {0.01, V(INFINITY), V(INFINITY)},
    {0.01, V(-INFINITY), V(-INFINITY)},
    {0.0, V(-INFINITY), V(NAN)},
    {-0.5, V(-INFINITY), V(INFINITY)},
    {-0.5, V(INFINITY), V(INFINITY)},
    {2.5, V(-INFINITY), V(-INFINITY)},
    /* Piecewise, not max(alpha * x, x): they differ for alpha > 1 and alpha < 0. */
    {2.5, V(3.0), V(3.0)},
    {2.5, V(-2.0), V(-5.0)},
    {-0.5, V(-2.0), V(1.0)},
    {-0.5, V(4.0), V(4.0)},
    {1.0, V(-3.0), V(-3.0)},
    {0.0, V(-3.0), V(-0.0)},
    {0.0, V(3.0), V(3.0)},
    /* Subnormals are kept, and products rounded to nearest even (2.5 -> 2, 0.5 -> 0). */
    {0.01, VTINY(1), VTINY(1)},
    {1.0, VTINY(-1), VTINY(-1)},
    {2.5, VTINY(-1), VTINY(-2)},
    {-0.5, VTINY(-1), V(0.0)},
    {-0.5, VTINY(-2), VTINY(1)},
    {0.0, VTINY(-1), V(-0.0)},
    /* The largest finite: kept, or overflowing to infinity. */
    {0.01, VMAX(1), VMAX(1)},
    {1.0, VMAX(-1), VMAX(-1)},
    {2.5, VMAX(-1), V(-INFINITY)},
    {2.5, VMAX(1), VMAX(1)},
    /* 1 stays 1; -1 gives -alpha. */
    {2.5, V(1.0), V(1.0)},
    {-0.5, V(-1.0), V(0.5)},
};
#define FORWARD_CASE_COUNT (sizeof forward_cases / sizeof forward_cases[0])

/* Runs every case of one alpha, each repeated so it lands in the vector body and in the tail. */
#define REPEAT 9

static void forward_cases_for(lcl_context *ctx, lcl_dtype dtype, double alpha) {
    size_t idx[FORWARD_CASE_COUNT], k = 0;
    for (size_t c = 0; c < FORWARD_CASE_COUNT; ++c)
        if (forward_cases[c].alpha == alpha)
            idx[k++] = c;
    if (k == 0)
        return;
    size_t n = k * REPEAT;
    void *x = test_alloc(dtype, n);
    for (size_t i = 0; i < n; ++i)
        bits_set(dtype, x, i, value_bits(dtype, alpha, forward_cases[idx[i % k]].x));
    void *y = run_forward(ctx, dtype, alpha, n, x);
    for (size_t i = 0; i < n; ++i) {
        const forward_case *c = &forward_cases[idx[i % k]];
        uint64_t want = value_bits(dtype, alpha, c->y), got = bits_get(dtype, y, i);
        cr_assert(bits_same(dtype, got, want),
                  "%s forward alpha=%g: element %zu (case %zu): f(%g) gave 0x%llx (%g), expected 0x%llx (%g)",
                  dtype_label(dtype), alpha, i, idx[i % k], bits_value(dtype, bits_get(dtype, x, i)),
                  (unsigned long long)got, bits_value(dtype, got), (unsigned long long)want, bits_value(dtype, want));
    }
    free(x);
    free(y);
}

Test(forward, hand_picked_values) {
    lcl_context *ctx = test_context();
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d)
        for (size_t a = 0; a < ALPHA_COUNT; ++a)
            forward_cases_for(ctx, test_float_dtypes[d], alphas[a]);
    lcl_context_release(ctx);
}

/* The reference must agree with the hand-written table, or every other test proves nothing. */
Test(forward, reference_agrees_with_table) {
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        for (size_t c = 0; c < FORWARD_CASE_COUNT; ++c) {
            const forward_case *fc = &forward_cases[c];
            uint64_t x = value_bits(dtype, fc->alpha, fc->x), want = value_bits(dtype, fc->alpha, fc->y);
            uint64_t got = ref_forward(dtype, fc->alpha, x);
            cr_assert(bits_same(dtype, got, want), "%s reference, case %zu: 0x%llx, expected 0x%llx",
                      dtype_label(dtype), c, (unsigned long long)got, (unsigned long long)want);
        }
    }
}

/* ---- hand-picked backward cases ----------------------------------------------------------- */

typedef struct backward_case {
    double alpha;
    value x, dy, dx;
} backward_case;

static const backward_case backward_cases[] = {
    /* The gradient at ±0 is alpha. */
    {0.01, V(0.0), V(1.0), VALPHA},
    {0.01, V(-0.0), V(1.0), VALPHA},
    {2.5, V(0.0), V(-2.0), V(-5.0)},
    {2.5, V(-0.0), V(1.0), V(2.5)},
    {-0.5, V(0.0), V(1.0), V(-0.5)},
    {0.0, V(-0.0), V(5.0), V(0.0)},
    {0.0, V(-1.0), V(-5.0), V(-0.0)},
    /* A positive subnormal x is > 0 (not flushed); a negative one takes alpha. */
    {0.01, VTINY(1), V(3.0), V(3.0)},
    {2.5, VTINY(-1), V(3.0), V(7.5)},
    /* NaN x takes the alpha branch; ±inf x select like any number. */
    {2.5, V(NAN), V(2.0), V(5.0)},
    {2.5, V(INFINITY), V(2.0), V(2.0)},
    {2.5, V(-INFINITY), V(2.0), V(5.0)},
    /* dy passes through or is multiplied, NaN and inf included. */
    {0.01, V(1.0), V(NAN), V(NAN)},
    {0.01, V(-1.0), V(NAN), V(NAN)},
    {0.0, V(-1.0), V(INFINITY), V(NAN)},
    {-0.5, V(-1.0), V(-INFINITY), V(INFINITY)},
    {1.0, V(-1.0), VTINY(-1), VTINY(-1)},
    {2.5, V(-1.0), VMAX(1), V(INFINITY)},
    {2.5, V(1.0), VMAX(-1), VMAX(-1)},
    {2.5, V(-4.0), VTINY(1), VTINY(2)},
    /* Not max-based: a negative x with alpha > 1 scales dy up. */
    {2.5, V(-3.0), V(3.0), V(7.5)},
    {-0.5, V(-3.0), V(3.0), V(-1.5)},
};
#define BACKWARD_CASE_COUNT (sizeof backward_cases / sizeof backward_cases[0])

static void backward_cases_for(lcl_context *ctx, lcl_dtype dtype, double alpha) {
    size_t idx[BACKWARD_CASE_COUNT], k = 0;
    for (size_t c = 0; c < BACKWARD_CASE_COUNT; ++c)
        if (backward_cases[c].alpha == alpha)
            idx[k++] = c;
    if (k == 0)
        return;
    size_t n = k * REPEAT;
    void *x = test_alloc(dtype, n), *dy = test_alloc(dtype, n);
    for (size_t i = 0; i < n; ++i) {
        bits_set(dtype, x, i, value_bits(dtype, alpha, backward_cases[idx[i % k]].x));
        bits_set(dtype, dy, i, value_bits(dtype, alpha, backward_cases[idx[i % k]].dy));
    }
    void *dx = run_backward(ctx, dtype, alpha, n, x, dy);
    for (size_t i = 0; i < n; ++i) {
        const backward_case *c = &backward_cases[idx[i % k]];
        uint64_t want = value_bits(dtype, alpha, c->dx), got = bits_get(dtype, dx, i);
        cr_assert(bits_same(dtype, got, want),
                  "%s backward alpha=%g: element %zu (case %zu): x=%g dy=%g gave 0x%llx (%g), expected 0x%llx (%g)",
                  dtype_label(dtype), alpha, i, idx[i % k], bits_value(dtype, bits_get(dtype, x, i)),
                  bits_value(dtype, bits_get(dtype, dy, i)), (unsigned long long)got, bits_value(dtype, got),
                  (unsigned long long)want, bits_value(dtype, want));
    }
    free(x);
    free(dy);
    free(dx);
}

Test(backward, hand_picked_values) {
    lcl_context *ctx = test_context();
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d)
        for (size_t a = 0; a < ALPHA_COUNT; ++a)
            backward_cases_for(ctx, test_float_dtypes[d], alphas[a]);
    lcl_context_release(ctx);
}

Test(backward, reference_agrees_with_table) {
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        for (size_t c = 0; c < BACKWARD_CASE_COUNT; ++c) {
            const backward_case *bc = &backward_cases[c];
            uint64_t x = value_bits(dtype, bc->alpha, bc->x), dy = value_bits(dtype, bc->alpha, bc->dy);
            uint64_t want = value_bits(dtype, bc->alpha, bc->dx), got = ref_backward(dtype, bc->alpha, x, dy);
            cr_assert(bits_same(dtype, got, want), "%s reference, case %zu: 0x%llx, expected 0x%llx",
                      dtype_label(dtype), c, (unsigned long long)got, (unsigned long long)want);
        }
    }
}

/* ---- every 16-bit pattern ----------------------------------------------------------------- */

#define ALL16 65536u

/* Pattern i at element i; with `scramble`, an odd multiple of i, so another permutation. */
static void *all_patterns(lcl_dtype dtype, int scramble) {
    void *a = test_alloc(dtype, ALL16);
    for (uint32_t i = 0; i < ALL16; ++i)
        bits_set(dtype, a, i, scramble ? (i * 40503u + 12345u) & 0xffffu : i);
    return a;
}

static void forward_all_patterns(lcl_dtype dtype) {
    lcl_context *ctx = test_context();
    void *x = all_patterns(dtype, 0);
    for (size_t a = 0; a < ALPHA_COUNT; ++a) {
        void *y = run_forward(ctx, dtype, alphas[a], ALL16, x);
        check_forward(dtype, alphas[a], ALL16, x, y, "all %s bit patterns", dtype_label(dtype));
        free(y);
    }
    free(x);
    lcl_context_release(ctx);
}

Test(forward, f16_all_bit_patterns) { forward_all_patterns(LCL_F16); }
Test(forward, bf16_all_bit_patterns) { forward_all_patterns(LCL_BF16); }

/* Every pattern as dy, and (scrambled) every pattern as x. */
static void backward_all_patterns(lcl_dtype dtype) {
    lcl_context *ctx = test_context();
    void *x = all_patterns(dtype, 1), *dy = all_patterns(dtype, 0);
    for (size_t a = 0; a < ALPHA_COUNT; ++a) {
        void *dx = run_backward(ctx, dtype, alphas[a], ALL16, x, dy);
        check_backward(dtype, alphas[a], ALL16, x, dy, dx, "all %s bit patterns", dtype_label(dtype));
        free(dx);
    }
    free(x);
    free(dy);
    lcl_context_release(ctx);
}

Test(backward, f16_all_bit_patterns) { backward_all_patterns(LCL_F16); }
Test(backward, bf16_all_bit_patterns) { backward_all_patterns(LCL_BF16); }

/* ---- a random mix, every dtype ------------------------------------------------------------ */

#define MIX_N 40009 /* prime: a ragged tail for any vector width */

static void random_mix(int backward, double alpha) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        void *x = test_alloc(dtype, MIX_N), *dy = test_alloc(dtype, MIX_N);
        fill_random(dtype, x, MIX_N, alpha, &rng);
        fill_random(dtype, dy, MIX_N, alpha, &rng);
        void *out = backward ? run_backward(ctx, dtype, alpha, MIX_N, x, dy) : run_forward(ctx, dtype, alpha, MIX_N, x);
        if (backward)
            check_backward(dtype, alpha, MIX_N, x, dy, out, "random mix");
        else
            check_forward(dtype, alpha, MIX_N, x, out, "random mix");
        free(x);
        free(dy);
        free(out);
    }
    lcl_context_release(ctx);
}

Test(forward, random_mix) {
    for (size_t a = 0; a < ALPHA_COUNT; ++a)
        random_mix(0, alphas[a]);
    for (size_t a = 0; a < MORE_ALPHA_COUNT; ++a)
        random_mix(0, more_alphas[a]);
}

Test(backward, random_mix) {
    for (size_t a = 0; a < ALPHA_COUNT; ++a)
        random_mix(1, alphas[a]);
    for (size_t a = 0; a < MORE_ALPHA_COUNT; ++a)
        random_mix(1, more_alphas[a]);
}

/* ---- backward from the forward output ----------------------------------------------------- */

/* x: every pattern for the 16-bit dtypes, a random mix for the others. */
static void *from_output_inputs(lcl_dtype dtype, double alpha, size_t *n, test_rng *rng) {
    if (elem_size(dtype) == 2) {
        *n = ALL16;
        return all_patterns(dtype, 1);
    }
    *n = MIX_N;
    void *x = test_alloc(dtype, *n);
    fill_random(dtype, x, *n, alpha, rng);
    return x;
}

static void from_output_matches(lcl_context *ctx, lcl_dtype dtype, double alpha, test_rng *rng) {
    size_t n = 0;
    void *x = from_output_inputs(dtype, alpha, &n, rng);
    void *dy = test_alloc(dtype, n);
    fill_random(dtype, dy, n, alpha, rng);
    void *y = run_forward(ctx, dtype, alpha, n, x);
    void *from_y = run_backward_from_output(ctx, dtype, alpha, n, y, dy);
    void *from_x = run_backward(ctx, dtype, alpha, n, x, dy);
    compare_args args = {dtype, n, y, dy, from_x, from_y};
    assert_results(&args, "backward_from_output vs backward, alpha=%g", alpha);
    check_backward(dtype, alpha, n, x, dy, from_y, "backward_from_output (input x shown)");
    free(x);
    free(dy);
    free(y);
    free(from_y);
    free(from_x);
}

Test(backward, from_output_equals_backward_for_nonnegative_alpha) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d)
        for (size_t a = 0; a < ALPHA_COUNT; ++a)
            if (alphas[a] >= 0)
                from_output_matches(ctx, test_float_dtypes[d], alphas[a], &rng);
    lcl_context_release(ctx);
}

Test(backward, from_output_rejects_negative_alpha) {
    static const double negative[] = {-0.5, -1.0, -DBL_MIN, -1e300};
    lcl_context *ctx = test_context();
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        lcl_tensor *y = tensor_poisoned(ctx, dtype, 33), *dy = tensor_poisoned(ctx, dtype, 33);
        lcl_tensor *dx = tensor_poisoned(ctx, dtype, 33);
        for (size_t a = 0; a < sizeof negative / sizeof negative[0]; ++a) {
            EXPECT_STATUS(lcl_backward_from_output(ctx, negative[a], y, dy, dx), LCL_ERROR_INVALID_ARGUMENT);
            void *got = tensor_fetch(dx);
            check_poisoned(dtype, 33, got, "dx after a rejected backward_from_output, alpha=%g", negative[a]);
            free(got);
        }
        lcl_tensor_release(y);
        lcl_tensor_release(dy);
        lcl_tensor_release(dx);
    }
    lcl_context_release(ctx);
}

/* An alpha beyond the fp32 range is finite in f64's compute type: valid there, and rejected
 * (tests/test_errors.c) for the dtypes that compute in fp32. */
Test(forward, f64_takes_an_alpha_beyond_fp32) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    const double alpha = -1e39;
    void *x = test_alloc(LCL_F64, MIX_N), *dy = test_alloc(LCL_F64, MIX_N);
    fill_random(LCL_F64, x, MIX_N, alpha, &rng);
    fill_random(LCL_F64, dy, MIX_N, alpha, &rng);
    void *y = run_forward(ctx, LCL_F64, alpha, MIX_N, x);
    void *dx = run_backward(ctx, LCL_F64, alpha, MIX_N, x, dy);
    check_forward(LCL_F64, alpha, MIX_N, x, y, "f64, alpha -1e39");
    check_backward(LCL_F64, alpha, MIX_N, x, dy, dx, "f64, alpha -1e39");
    free(x);
    free(dy);
    free(y);
    free(dx);
    lcl_context_release(ctx);
}
