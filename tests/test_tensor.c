/* Tensors: create, read, write, views, release order, sizes, dtypes, bytes, empty tensors and
 * LCL_MASK bit tensors. */
#include "common.h"

#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The bytes a tensor of n elements moves, from the header's definition. */
static size_t expected_bytes(lcl_dtype dtype, size_t n) {
    return dtype == LCL_MASK ? 4 * ((n + 31) / 32) : n * elem_size(dtype);
}

Test(tensor, dtype_size_and_name) {
    static const size_t sizes[] = {4, 2, 2, 8, 4};
    static const char *const names[] = {"f32", "f16", "bf16", "f64", "mask"};
    for (int d = LCL_F32; d <= LCL_MASK; ++d) {
        cr_assert(lcl_dtype_size((lcl_dtype)d) == sizes[d], "lcl_dtype_size(%d) = %zu", d,
                  lcl_dtype_size((lcl_dtype)d));
        cr_assert_str_eq(lcl_dtype_name((lcl_dtype)d), names[d]);
    }
    cr_assert(lcl_dtype_size((lcl_dtype)99) == 0);
    cr_assert_str_eq(lcl_dtype_name((lcl_dtype)99), "?");
    cr_assert_str_eq(lcl_dtype_name((lcl_dtype)-1), "?");
}

Test(tensor, create_size_dtype_bytes) {
    static const size_t sizes[] = {0, 1, 31, 32, 33, 64, 1000};
    lcl_context *ctx = test_context();
    for (int d = LCL_F32; d <= LCL_MASK; ++d)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; ++s) {
            lcl_tensor *t = tensor_new(ctx, (lcl_dtype)d, sizes[s]);
            cr_assert(lcl_tensor_size(t) == sizes[s]);
            cr_assert(lcl_tensor_dtype(t) == (lcl_dtype)d);
            size_t want = expected_bytes((lcl_dtype)d, sizes[s]);
            cr_assert(lcl_tensor_bytes(t) == want, "%s n=%zu: %zu bytes, expected %zu", dtype_label((lcl_dtype)d),
                      sizes[s], lcl_tensor_bytes(t), want);
            lcl_tensor_release(t);
        }
    lcl_context_release(ctx);
}

/* A copy in and out returns every bit, NaN payloads and signalling NaNs included. */
Test(tensor, write_read_round_trip) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    const size_t n = 4099;
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        void *host = test_alloc(dtype, n);
        for (size_t i = 0; i < n; ++i)
            bits_set(dtype, host, i, rng_next(&rng));
        lcl_tensor *t = tensor_with(ctx, dtype, n, host);
        void *back = tensor_fetch(t);
        cr_assert(memcmp(host, back, n * elem_size(dtype)) == 0, "%s: read gave other bits than written",
                  dtype_label(dtype));
        free(host);
        free(back);
        lcl_tensor_release(t);
    }
    lcl_context_release(ctx);
}

Test(tensor, empty_tensors) {
    lcl_context *ctx = test_context();
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        lcl_tensor *a = tensor_new(ctx, dtype, 0), *b = tensor_new(ctx, dtype, 0);
        cr_assert(lcl_tensor_bytes(a) == 0);
        OK(lcl_tensor_write(a, NULL));
        OK(lcl_tensor_read(a, NULL));
        OK(lcl_forward(ctx, 0.01, a, b));
        OK(lcl_backward(ctx, 0.01, a, a, b));
        OK(lcl_backward_from_output(ctx, 0.01, a, a, b));
        lcl_tensor *v = view_new(a, 0, 0);
        cr_assert(lcl_tensor_size(v) == 0);
        lcl_tensor_release(v);
        lcl_tensor_release(a);
        lcl_tensor_release(b);
    }
    OK(lcl_finish(ctx));
    lcl_context_release(ctx);
}

/* ---- views -------------------------------------------------------------------------------- */

static float *iota(size_t n, float start) {
    float *a = test_alloc(LCL_F32, n);
    for (size_t i = 0; i < n; ++i)
        a[i] = start + (float)i;
    return a;
}

/* A view reads and writes its window of the parent; views of views add their offsets. */
Test(tensor, views_share_the_parent) {
    lcl_context *ctx = test_context();
    float *host = iota(100, 0);
    lcl_tensor *parent = tensor_with(ctx, LCL_F32, 100, host);
    lcl_tensor *v = view_new(parent, 10, 50), *vv = view_new(v, 5, 20);
    cr_assert(lcl_tensor_size(v) == 50 && lcl_tensor_size(vv) == 20);
    cr_assert(lcl_tensor_dtype(vv) == LCL_F32 && lcl_tensor_bytes(vv) == 80);

    float *got = tensor_fetch(vv);
    for (size_t i = 0; i < 20; ++i)
        cr_assert(got[i] == (float)(15 + i), "view of view element %zu is %g, expected %zu", i, got[i], 15 + i);
    free(got);

    float *ones = iota(20, 1000);
    OK(lcl_tensor_write(vv, ones));
    got = tensor_fetch(parent);
    for (size_t i = 0; i < 100; ++i) {
        float want = i >= 15 && i < 35 ? (float)(1000 + i - 15) : (float)i;
        cr_assert(got[i] == want, "parent element %zu is %g after writing a view of a view, expected %g", i, got[i],
                  want);
    }
    free(got);
    free(ones);
    free(host);
    lcl_tensor_release(vv);
    lcl_tensor_release(v);
    lcl_tensor_release(parent);
    lcl_context_release(ctx);
}

Test(tensor, view_edges) {
    lcl_context *ctx = test_context();
    lcl_tensor *parent = tensor_new(ctx, LCL_F16, 64);
    lcl_tensor *end = view_new(parent, 64, 0), *all = view_new(parent, 0, 64), *last = view_new(parent, 63, 1);
    cr_assert(lcl_tensor_size(end) == 0 && lcl_tensor_size(all) == 64 && lcl_tensor_size(last) == 1);
    cr_assert(lcl_tensor_dtype(last) == LCL_F16 && lcl_tensor_bytes(last) == 2);
    lcl_tensor_release(end);
    lcl_tensor_release(all);
    lcl_tensor_release(last);
    lcl_tensor_release(parent);
    lcl_context_release(ctx);
}

/* The parent goes first: the views keep the memory, and still read, write and compute. */
Test(tensor, release_parent_before_views) {
    lcl_context *ctx = test_context();
    float *host = iota(64, -32);
    lcl_tensor *parent = tensor_with(ctx, LCL_F32, 64, host);
    lcl_tensor *x = view_new(parent, 0, 32), *y = view_new(parent, 32, 32);
    lcl_tensor *xx = view_new(x, 1, 30), *yy = view_new(y, 2, 30);
    lcl_tensor_release(parent);
    lcl_tensor_release(x);
    lcl_tensor_release(y);
    OK(lcl_forward(ctx, 0.5, xx, yy));
    float *got = tensor_fetch(yy);
    check_forward(LCL_F32, 0.5, 30, host + 1, got, "views of views after their parents were released");
    free(got);
    lcl_tensor_release(xx);
    lcl_tensor_release(yy);
    free(host);
    lcl_context_release(ctx);
}

Test(tensor, release_views_before_parent) {
    lcl_context *ctx = test_context();
    float *host = iota(64, -32);
    lcl_tensor *parent = tensor_with(ctx, LCL_F32, 64, host);
    lcl_tensor *v = view_new(parent, 3, 40), *vv = view_new(v, 1, 2);
    lcl_tensor_release(vv);
    lcl_tensor_release(v);
    OK(lcl_forward(ctx, 0.5, parent, parent));
    float *got = tensor_fetch(parent);
    check_forward(LCL_F32, 0.5, 64, host, got, "the parent after its views were released");
    free(got);
    free(host);
    lcl_tensor_release(parent);
    lcl_context_release(ctx);
}

/* The header allows releasing a tensor (and a view) that outlived its context. */
Test(tensor, release_after_context) {
    lcl_context *ctx = test_context();
    lcl_tensor *t = tensor_new(ctx, LCL_F64, 100), *v = view_new(t, 10, 10);
    lcl_context_release(ctx);
    lcl_tensor_release(v);
    lcl_tensor_release(t);
}

Test(tensor, null_is_harmless) {
    lcl_tensor_release(NULL);
    cr_assert(lcl_tensor_size(NULL) == 0);
    cr_assert(lcl_tensor_dtype(NULL) == LCL_F32);
    cr_assert(lcl_tensor_bytes(NULL) == 0);
}

/* ---- LCL_MASK ----------------------------------------------------------------------------- */

static uint32_t *random_words(size_t count, test_rng *rng) {
    uint32_t *w = test_alloc(LCL_F32, count);
    for (size_t i = 0; i < count; ++i)
        w[i] = (uint32_t)rng_next(rng);
    return w;
}

static void expect_words(const uint32_t *got, const uint32_t *want, size_t count, const char *what) {
    for (size_t i = 0; i < count; ++i)
        cr_assert(got[i] == want[i], "%s: word %zu is 0x%08x, expected 0x%08x", what, i, got[i], want[i]);
}

Test(tensor, mask_round_trip_and_views) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    uint32_t *words = random_words(4, &rng);
    lcl_tensor *mask = tensor_new(ctx, LCL_MASK, 100);
    cr_assert(lcl_tensor_bytes(mask) == 16);
    OK(lcl_tensor_write(mask, words));
    uint32_t *got = tensor_fetch(mask);
    expect_words(got, words, 4, "mask round trip");
    free(got);

    lcl_tensor *v = view_new(mask, 32, 64), *tail = view_new(mask, 96, 4);
    cr_assert(lcl_tensor_bytes(v) == 8 && lcl_tensor_bytes(tail) == 4 && lcl_tensor_dtype(v) == LCL_MASK);
    got = tensor_fetch(v);
    expect_words(got, words + 1, 2, "mask view at 32");
    free(got);

    uint32_t *fresh = random_words(2, &rng);
    OK(lcl_tensor_write(v, fresh));
    got = tensor_fetch(mask);
    uint32_t want[4] = {words[0], fresh[0], fresh[1], words[3]};
    expect_words(got, want, 4, "mask after writing the view at 32");
    free(got);
    free(fresh);
    free(words);
    lcl_tensor_release(v);
    lcl_tensor_release(tail);
    lcl_tensor_release(mask);
    lcl_context_release(ctx);
}

/* A mask view starts on a word: other offsets are refused and leave out untouched. */
Test(tensor, mask_view_offsets_multiple_of_32) {
    static const size_t bad[] = {1, 16, 31, 33, 63};
    lcl_context *ctx = test_context();
    lcl_tensor *mask = tensor_new(ctx, LCL_MASK, 128);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        lcl_tensor *sentinel = (lcl_tensor *)&ctx, *v = sentinel;
        EXPECT_STATUS(lcl_tensor_view(mask, bad[i], 8, &v), LCL_ERROR_INVALID_ARGUMENT);
        cr_assert(v == sentinel, "a refused view wrote its out argument");
    }
    lcl_tensor *ok = view_new(mask, 64, 64), *inner = view_new(ok, 32, 1);
    cr_assert(lcl_tensor_size(inner) == 1 && lcl_tensor_bytes(inner) == 4);
    lcl_tensor *sentinel = (lcl_tensor *)&ctx, *v = sentinel;
    EXPECT_STATUS(lcl_tensor_view(ok, 8, 8, &v), LCL_ERROR_INVALID_ARGUMENT);
    lcl_tensor_release(inner);
    lcl_tensor_release(ok);
    lcl_tensor_release(mask);
    lcl_context_release(ctx);
}
