/* lcl_forward_host and lcl_backward_host: host arrays in and out, every dtype, sizes from 0
 * to large odd ones, out of place and in place, bit for bit against the reference. */
#include "common.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const size_t sizes[] = {0, 1, 7, 64, 1000, 65537, 1000003};
#define SIZE_COUNT (sizeof sizes / sizeof sizes[0])

static const double alphas[] = {0.01, 2.5, -0.5, 0.0, 1.0, 0.1, 1.0 / 3.0};
#define ALPHA_COUNT (sizeof alphas / sizeof alphas[0])

/* Out of place: the output starts poisoned, the inputs must come back unchanged. */
static void host_out_of_place(lcl_context *ctx, lcl_dtype dtype, size_t n, double alpha, test_rng *rng) {
    size_t bytes = n * elem_size(dtype);
    void *x = test_alloc(dtype, n), *dy = test_alloc(dtype, n), *out = test_alloc(dtype, n);
    void *x_copy = test_alloc(dtype, n), *dy_copy = test_alloc(dtype, n);
    fill_random(dtype, x, n, alpha, rng);
    fill_random(dtype, dy, n, alpha, rng);
    memcpy(x_copy, x, bytes);
    memcpy(dy_copy, dy, bytes);

    fill_poison(dtype, out, n);
    OK(lcl_forward_host(ctx, dtype, n, alpha, x, out));
    check_forward(dtype, alpha, n, x, out, "forward_host n=%zu", n);

    fill_poison(dtype, out, n);
    OK(lcl_backward_host(ctx, dtype, n, alpha, x, dy, out));
    check_backward(dtype, alpha, n, x, dy, out, "backward_host n=%zu", n);

    cr_assert(memcmp(x, x_copy, bytes) == 0 && memcmp(dy, dy_copy, bytes) == 0, "%s n=%zu: a host op changed its input",
              dtype_label(dtype), n);
    free(x);
    free(dy);
    free(out);
    free(x_copy);
    free(dy_copy);
}

/* In place: y is x, dx is dy. */
static void host_in_place(lcl_context *ctx, lcl_dtype dtype, size_t n, double alpha, test_rng *rng) {
    size_t bytes = n * elem_size(dtype);
    void *x = test_alloc(dtype, n), *dy = test_alloc(dtype, n), *buf = test_alloc(dtype, n);
    fill_random(dtype, x, n, alpha, rng);
    fill_random(dtype, dy, n, alpha, rng);

    memcpy(buf, x, bytes);
    OK(lcl_forward_host(ctx, dtype, n, alpha, buf, buf));
    check_forward(dtype, alpha, n, x, buf, "forward_host in place, n=%zu", n);

    memcpy(buf, dy, bytes);
    OK(lcl_backward_host(ctx, dtype, n, alpha, x, buf, buf));
    check_backward(dtype, alpha, n, x, dy, buf, "backward_host in place (dx is dy), n=%zu", n);
    free(x);
    free(dy);
    free(buf);
}

static void every_dtype_and_size(void (*run)(lcl_context *, lcl_dtype, size_t, double, test_rng *)) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d)
        for (size_t s = 0; s < SIZE_COUNT; ++s)
            run(ctx, test_float_dtypes[d], sizes[s], alphas[(d * SIZE_COUNT + s) % ALPHA_COUNT], &rng);
    lcl_context_release(ctx);
}

Test(host, out_of_place) { every_dtype_and_size(host_out_of_place); }
Test(host, in_place) { every_dtype_and_size(host_in_place); }

/* n = 0 touches nothing, so NULL arrays are fine. */
Test(host, empty_with_null_arrays) {
    lcl_context *ctx = test_context();
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        OK(lcl_forward_host(ctx, test_float_dtypes[d], 0, 0.5, NULL, NULL));
        OK(lcl_backward_host(ctx, test_float_dtypes[d], 0, 0.5, NULL, NULL, NULL));
    }
    lcl_context_release(ctx);
}

/* Misaligned host pointers: the arrays start 1..3 elements into an allocation. */
Test(host, misaligned_arrays) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    const size_t n = 4099;
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        size_t es = elem_size(dtype);
        char *x = test_alloc(dtype, n + 4), *out = test_alloc(dtype, n + 4);
        fill_random(dtype, x, n + 4, 0.01, &rng);
        for (size_t o = 1; o <= 3; ++o) {
            fill_poison(dtype, out, n + 4);
            OK(lcl_forward_host(ctx, dtype, n, 0.01, x + o * es, out + (4 - o) * es));
            check_forward(dtype, 0.01, n, x + o * es, out + (4 - o) * es, "forward_host, x at +%zu, y at +%zu", o,
                          4 - o);
            check_poisoned(dtype, 4 - o, out, "forward_host: before y");
            check_poisoned(dtype, o, out + (4 - o + n) * es, "forward_host: after y");
        }
        free(x);
        free(out);
    }
    lcl_context_release(ctx);
}
