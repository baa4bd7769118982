/* The sign mask: lcl_forward_masked writes y as lcl_forward does and bit i = (x[i] > 0);
 * lcl_backward_masked from that mask equals lcl_backward from x, bit for bit, for every alpha
 * (negative ones included), in place too. Sizes around word edges, odd element offsets for the
 * float tensors, mask views at multiples of 32, the bits past n left alone, and bad calls
 * rejected with nothing written. */
#include "common.h"

#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double alphas[] = {0.01, -0.5, 2.5, 0.0, -3.0, 1.0};
#define ALPHA_COUNT (sizeof alphas / sizeof alphas[0])

static size_t words_for(size_t n) { return n / 32 + (n % 32 != 0); }

/* A word pattern for the mask's words before an op: a bit past n that changes shows. */
#define MASK_POISON 0xa5c3e1f7u

static int bit_of(const uint32_t *words, size_t i) { return (int)((words[i / 32] >> (i % 32)) & 1u); }

/* The mask words against x's signs, and the bits past n against the poison. */
static void check_mask(lcl_dtype dtype, size_t n, const void *x, const uint32_t *words, const char *what) {
    for (size_t i = 0; i < n; ++i) {
        int want = bits_value(dtype, bits_get(dtype, x, i)) > 0;
        if (bit_of(words, i) != want) {
            char message[256];
            snprintf(message, sizeof message, "%s: %s mask bit %zu of %zu is %d, expected %d for x = %.17g (seed %llu)",
                     what, dtype_label(dtype), i, n, bit_of(words, i), want, bits_value(dtype, bits_get(dtype, x, i)),
                     (unsigned long long)test_seed());
            cr_assert_fail("%s", message);
        }
    }
    if (n % 32) {
        uint32_t kept = ~((1u << (n % 32)) - 1u);
        cr_assert((words[n / 32] & kept) == (MASK_POISON & kept),
                  "%s: bits past n = %zu in the last mask word changed: 0x%08x, were 0x%08x", what, n,
                  (unsigned)(words[n / 32] & kept), (unsigned)(MASK_POISON & kept));
    }
}

static lcl_tensor *mask_poisoned(lcl_context *ctx, size_t n) {
    lcl_tensor *m = tensor_new(ctx, LCL_MASK, n);
    size_t words = words_for(n);
    uint32_t *host = malloc((words ? words : 1) * sizeof *host);
    cr_assert(host);
    for (size_t w = 0; w < words; ++w)
        host[w] = MASK_POISON;
    OK(lcl_tensor_write(m, host));
    free(host);
    return m;
}

/* Forward masked, then backward masked from its mask, against the reference and lcl_backward;
 * x and the outputs at element offsets ox, oy (views), the mask a view at mask_off words. */
static void check_case(lcl_context *ctx, lcl_dtype dtype, size_t n, double alpha, size_t ox, size_t oy,
                       size_t mask_words_off, test_rng *rng) {
    void *x = test_alloc(dtype, n + ox), *dy = test_alloc(dtype, n + ox);
    fill_random(dtype, x, n + ox, alpha, rng);
    fill_random(dtype, dy, n + ox, alpha, rng);
    lcl_tensor *tx = tensor_with(ctx, dtype, n + ox, x), *tdy = tensor_with(ctx, dtype, n + ox, dy);
    lcl_tensor *tout = tensor_poisoned(ctx, dtype, n + oy);
    lcl_tensor *tmask = mask_poisoned(ctx, n + 32 * mask_words_off);
    lcl_tensor *vx = view_new(tx, ox, n), *vdy = view_new(tdy, ox, n), *vout = view_new(tout, oy, n);
    lcl_tensor *vmask = view_new(tmask, 32 * mask_words_off, n);
    const void *hx = (const char *)x + ox * elem_size(dtype), *hdy = (const char *)dy + ox * elem_size(dtype);
    char what[160];
    snprintf(what, sizeof what, "n %zu, alpha %g, x offset %zu, out offset %zu, mask word %zu", n, alpha, ox, oy,
             mask_words_off);

    OK(lcl_forward_masked(ctx, alpha, vx, vout, vmask));
    void *y = tensor_fetch(vout);
    check_forward(dtype, alpha, n, hx, y, "forward_masked, %s", what);
    uint32_t *words = tensor_fetch(vmask);
    check_mask(dtype, n, hx, words, what);
    free(words);
    words = tensor_fetch(tmask);
    for (size_t w = 0; w < mask_words_off; ++w)
        cr_assert(words[w] == MASK_POISON, "%s: mask word %zu before the view changed", what, w);
    free(words);

    tensor_poison(tout);
    OK(lcl_backward_masked(ctx, alpha, vmask, vdy, vout));
    void *dx = tensor_fetch(vout);
    check_backward(dtype, alpha, n, hx, hdy, dx, "backward_masked, %s", what);
    void *whole = tensor_fetch(tout);
    check_poisoned(dtype, oy, whole, "backward_masked, %s: before the output", what);
    free(whole);

    free(y);
    free(dx);
    lcl_tensor_release(vx);
    lcl_tensor_release(vdy);
    lcl_tensor_release(vout);
    lcl_tensor_release(vmask);
    lcl_tensor_release(tx);
    lcl_tensor_release(tdy);
    lcl_tensor_release(tout);
    lcl_tensor_release(tmask);
    free(x);
    free(dy);
}

Test(mask, sizes_around_words) {
    static const size_t sizes[] = {0, 1, 5, 31, 32, 33, 63, 64, 65, 96, 127, 128, 129, 255, 256, 257, 1000, 4099};
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; ++s)
            check_case(ctx, test_float_dtypes[d], sizes[s], alphas[(s + d) % ALPHA_COUNT], 0, 0, 0, &rng);
    lcl_context_release(ctx);
}

Test(mask, offsets) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d)
        for (size_t o = 0; o < 8; ++o)
            check_case(ctx, test_float_dtypes[d], 300 + 17 * o, alphas[o % ALPHA_COUNT], o, (o * 3) % 8, o % 3, &rng);
    lcl_context_release(ctx);
}

Test(mask, large) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d)
        check_case(ctx, test_float_dtypes[d], (1u << 20) + 7, -0.25, d, 0, 1, &rng);
    lcl_context_release(ctx);
}

/* Backward from the mask equals lcl_backward from x for every alpha, where backward from the
 * output cannot follow (alpha < 0), and equals it on the CPU backend bit for bit. */
Test(mask, equals_backward_from_x) {
    lcl_context *ctx = test_context(), *cpu = test_cpu_context();
    test_rng rng;
    rng_init(&rng, 0);
    const size_t n = 10007;
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        for (size_t a = 0; a < ALPHA_COUNT; ++a) {
            double alpha = alphas[a];
            void *x = test_alloc(dtype, n), *dy = test_alloc(dtype, n);
            fill_random(dtype, x, n, alpha, &rng);
            fill_random(dtype, dy, n, alpha, &rng);
            void *want = run_backward(cpu, dtype, alpha, n, x, dy);
            lcl_tensor *tx = tensor_with(ctx, dtype, n, x), *tdy = tensor_with(ctx, dtype, n, dy);
            lcl_tensor *ty = tensor_poisoned(ctx, dtype, n), *m = mask_poisoned(ctx, n);
            OK(lcl_forward_masked(ctx, alpha, tx, ty, m));
            /* In place: dx is dy. */
            OK(lcl_backward_masked(ctx, alpha, m, tdy, tdy));
            void *got = tensor_fetch(tdy);
            compare_args c = {dtype, n, x, dy, want, got};
            assert_results(&c, "in-place backward_masked against lcl_backward on the CPU backend, alpha %g", alpha);
            free(got);
            lcl_tensor_release(tx);
            lcl_tensor_release(tdy);
            lcl_tensor_release(ty);
            lcl_tensor_release(m);
            free(x);
            free(dy);
            free(want);
        }
    }
    lcl_context_release(cpu);
    lcl_context_release(ctx);
}

/* Forward masked in place: y is x. */
Test(mask, forward_in_place) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    const size_t n = 5001;
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        void *x = test_alloc(dtype, n);
        fill_random(dtype, x, n, -0.5, &rng);
        lcl_tensor *tx = tensor_with(ctx, dtype, n, x), *m = mask_poisoned(ctx, n);
        OK(lcl_forward_masked(ctx, -0.5, tx, tx, m));
        void *got = tensor_fetch(tx);
        check_forward(dtype, -0.5, n, x, got, "in-place forward_masked");
        uint32_t *words = tensor_fetch(m);
        check_mask(dtype, n, x, words, "in-place forward_masked");
        free(words);
        free(got);
        lcl_tensor_release(tx);
        lcl_tensor_release(m);
        free(x);
    }
    lcl_context_release(ctx);
}

/* Hand-picked signs: -0, +0, NaN, tiny subnormals, -inf and +inf, at both ends of a word. */
Test(mask, special_values) {
    lcl_context *ctx = test_context();
    float x[64];
    for (size_t i = 0; i < 64; ++i)
        x[i] = (float)i - 31.5f;
    x[0] = -0.0f;
    x[1] = 0.0f;
    x[31] = NAN;
    x[32] = 1e-45f;
    x[33] = -1e-45f;
    x[62] = -INFINITY;
    x[63] = INFINITY;
    lcl_tensor *tx = tensor_with(ctx, LCL_F32, 64, x), *ty = tensor_poisoned(ctx, LCL_F32, 64);
    lcl_tensor *m = mask_poisoned(ctx, 64);
    OK(lcl_forward_masked(ctx, -2.0, tx, ty, m));
    uint32_t words[2];
    OK(lcl_tensor_read(m, words));
    uint32_t want[2] = {0, 0};
    for (size_t i = 0; i < 64; ++i)
        if (x[i] > 0)
            want[i / 32] |= 1u << (i % 32);
    cr_assert(words[0] == want[0] && words[1] == want[1], "mask words 0x%08x 0x%08x, expected 0x%08x 0x%08x",
              (unsigned)words[0], (unsigned)words[1], (unsigned)want[0], (unsigned)want[1]);
    cr_assert(!(words[0] & 3u), "-0 and +0 must give bit 0");
    lcl_tensor_release(tx);
    lcl_tensor_release(ty);
    lcl_tensor_release(m);
    lcl_context_release(ctx);
}

/* ---- bad calls ------------------------------------------------------------------------------ */

#define MN 100

/* The call must fail with INVALID_ARGUMENT and leave y/dx and the mask as they were. */
static void expect_untouched(lcl_tensor *out, lcl_tensor *mask, const char *what) {
    void *got = tensor_fetch(out);
    check_poisoned(lcl_tensor_dtype(out), lcl_tensor_size(out), got, "%s: output", what);
    free(got);
    uint32_t *words = tensor_fetch(mask);
    for (size_t w = 0; w < words_for(lcl_tensor_size(mask)); ++w)
        cr_assert(words[w] == MASK_POISON, "%s: mask word %zu changed to 0x%08x", what, w, (unsigned)words[w]);
    free(words);
}

Test(mask, bad_calls_change_nothing) {
    lcl_context *ctx = test_context(), *cpu = test_cpu_context();
    float host[MN];
    for (size_t i = 0; i < MN; ++i)
        host[i] = (float)i - 50.0f;
    lcl_tensor *x = tensor_with(ctx, LCL_F32, MN, host), *y = tensor_poisoned(ctx, LCL_F32, MN);
    lcl_tensor *m = mask_poisoned(ctx, MN), *short_m = mask_poisoned(ctx, MN - 1),
               *f32_m = tensor_poisoned(ctx, LCL_F32, MN);
    lcl_tensor *other_m = mask_poisoned(cpu, MN), *f16 = tensor_poisoned(ctx, LCL_F16, MN);
    lcl_tensor *big = tensor_poisoned(ctx, LCL_F32, 2 * MN), *part = view_new(big, 3, MN), *base = view_new(big, 0, MN);
    struct {
        lcl_status got;
        const char *what;
    } cases[] = {
        {lcl_forward_masked(NULL, 0.1, x, y, m), "NULL ctx"},
        {lcl_forward_masked(ctx, 0.1, NULL, y, m), "NULL x"},
        {lcl_forward_masked(ctx, 0.1, x, NULL, m), "NULL y"},
        {lcl_forward_masked(ctx, 0.1, x, y, NULL), "NULL mask"},
        {lcl_forward_masked(ctx, NAN, x, y, m), "NaN alpha"},
        {lcl_forward_masked(ctx, INFINITY, x, y, m), "infinite alpha"},
        {lcl_forward_masked(ctx, 0.1, x, y, short_m), "mask of n - 1"},
        {lcl_forward_masked(ctx, 0.1, x, y, f32_m), "f32 tensor as the mask"},
        {lcl_forward_masked(ctx, 0.1, x, y, other_m), "mask of another context"},
        {lcl_forward_masked(ctx, 0.1, x, f16, m), "y of another dtype"},
        {lcl_forward_masked(ctx, 0.1, m, m, m), "mask as x"},
        {lcl_forward_masked(ctx, 0.1, base, part, m), "y partly over x"},
        {lcl_backward_masked(NULL, 0.1, m, x, y), "backward: NULL ctx"},
        {lcl_backward_masked(ctx, 0.1, NULL, x, y), "backward: NULL mask"},
        {lcl_backward_masked(ctx, 0.1, m, NULL, y), "backward: NULL dy"},
        {lcl_backward_masked(ctx, 0.1, m, x, NULL), "backward: NULL dx"},
        {lcl_backward_masked(ctx, NAN, m, x, y), "backward: NaN alpha"},
        {lcl_backward_masked(ctx, 0.1, short_m, x, y), "backward: mask of n - 1"},
        {lcl_backward_masked(ctx, 0.1, f32_m, x, y), "backward: f32 tensor as the mask"},
        {lcl_backward_masked(ctx, 0.1, other_m, x, y), "backward: mask of another context"},
        {lcl_backward_masked(ctx, 0.1, m, x, f16), "backward: dx of another dtype"},
        {lcl_backward_masked(ctx, 0.1, m, base, part), "backward: dx partly over dy"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        cr_assert(cases[i].got == LCL_ERROR_INVALID_ARGUMENT, "%s: got %s, expected LCL_ERROR_INVALID_ARGUMENT",
                  cases[i].what, lcl_status_string(cases[i].got));
        expect_untouched(y, m, cases[i].what);
    }
    /* A message for the last failure. */
    EXPECT_STATUS(lcl_forward_masked(ctx, 0.1, x, y, short_m), LCL_ERROR_INVALID_ARGUMENT);
    void *got = tensor_fetch(big);
    check_poisoned(LCL_F32, 2 * MN, got, "the buffer under the partial-overlap cases");
    free(got);
    got = tensor_fetch(f16);
    check_poisoned(LCL_F16, MN, got, "the f16 tensor");
    free(got);

    /* The same cl_mem wrapped as floats and as a mask: the mask may not overlap x or y. */
    if (is_opencl(ctx)) {
        cl_mem mem = app_buffer(lcl_context_cl_context(ctx), 4 * MN * sizeof(float));
        lcl_tensor *wx = NULL, *wm = NULL;
        OK(lcl_tensor_wrap_cl(ctx, LCL_F32, mem, 0, MN, &wx));
        OK(lcl_tensor_wrap_cl(ctx, LCL_MASK, mem, 64, MN, &wm));
        EXPECT_STATUS(lcl_forward_masked(ctx, 0.1, wx, y, wm), LCL_ERROR_INVALID_ARGUMENT);
        EXPECT_STATUS(lcl_forward_masked(ctx, 0.1, x, wx, wm), LCL_ERROR_INVALID_ARGUMENT);
        EXPECT_STATUS(lcl_backward_masked(ctx, 0.1, wm, x, wx), LCL_ERROR_INVALID_ARGUMENT);
        expect_untouched(y, m, "mask overlapping a float tensor");
        lcl_tensor_release(wx);
        lcl_tensor_release(wm);
        clReleaseMemObject(mem);
    }
    lcl_tensor *views[] = {part, base, big, f16, other_m, f32_m, short_m, m, y, x};
    for (size_t i = 0; i < sizeof views / sizeof views[0]; ++i)
        lcl_tensor_release(views[i]);
    lcl_context_release(cpu);
    lcl_context_release(ctx);
}

/* LEAKYCL_VERIFY=1 recomputes both masked ops and agrees with correct kernels. */
Test(mask, verify_accepts_correct_kernels) {
    setenv("LEAKYCL_VERIFY", "1", 1);
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d)
        check_case(ctx, test_float_dtypes[d], 10007, -0.5, 1, 2, 1, &rng);
    lcl_context_release(ctx);
    unsetenv("LEAKYCL_VERIFY");
}
