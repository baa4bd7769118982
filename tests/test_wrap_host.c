/* lcl_tensor_wrap_host: the app's host arrays as CPU-backend tensors, computed in place with no
 * copy (the Python package relies on it), overlap checks between wraps, and the arguments it
 * refuses. Runs on the CPU backend under both ctest names (wrapping host memory is CPU-only);
 * on an OpenCL context the wrap must be refused. */
#include "common.h"

#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

Test(wrap_host, forward_in_the_apps_memory) {
    lcl_context *ctx = test_cpu_context();
    test_rng rng;
    rng_init(&rng, 1);
    for (int d = LCL_F32; d <= LCL_F64; ++d) {
        lcl_dtype dtype = (lcl_dtype)d;
        size_t n = 1001;
        void *x = test_alloc(dtype, n), *y = test_alloc(dtype, n);
        fill_random(dtype, x, n, 0.3, &rng);
        fill_poison(dtype, y, n);
        lcl_tensor *tx = NULL, *ty = NULL;
        OK(lcl_tensor_wrap_host(ctx, dtype, x, n, &tx));
        OK(lcl_tensor_wrap_host(ctx, dtype, y, n, &ty));
        OK(lcl_forward(ctx, 0.3, tx, ty));
        OK(lcl_finish(ctx));
        check_forward(dtype, 0.3, n, x, y, "%s wrapped", dtype_label(dtype));
        lcl_tensor_release(tx);
        lcl_tensor_release(ty);
        free(x); /* the app still owns its arrays after the release */
        free(y);
    }
    lcl_context_release(ctx);
}

Test(wrap_host, partial_overlap_between_wraps_is_rejected) {
    lcl_context *ctx = test_cpu_context();
    float *a = test_alloc(LCL_F32, 64);
    test_rng rng;
    rng_init(&rng, 2);
    fill_random(LCL_F32, a, 64, 0.5, &rng);
    float before[64];
    memcpy(before, a, sizeof before);
    lcl_tensor *x = NULL, *y = NULL, *same = NULL;
    OK(lcl_tensor_wrap_host(ctx, LCL_F32, a, 32, &x));
    OK(lcl_tensor_wrap_host(ctx, LCL_F32, a + 1, 32, &y));
    OK(lcl_tensor_wrap_host(ctx, LCL_F32, a, 32, &same));
    EXPECT_STATUS(lcl_forward(ctx, 0.5, x, y), LCL_ERROR_INVALID_ARGUMENT);
    cr_assert(memcmp(before, a, sizeof before) == 0, "a rejected call changed the array");
    OK(lcl_forward(ctx, 0.5, x, same)); /* two wraps of the very same range: in place */
    OK(lcl_finish(ctx));
    check_forward(LCL_F32, 0.5, 32, before, a, "in place through two wraps");
    lcl_tensor_release(x);
    lcl_tensor_release(y);
    lcl_tensor_release(same);
    free(a);
    lcl_context_release(ctx);
}

Test(wrap_host, refused_arguments) {
    lcl_context *ctx = test_cpu_context();
    float buf[8] = {0};
    lcl_tensor *t = NULL;
    EXPECT_STATUS(lcl_tensor_wrap_host(NULL, LCL_F32, buf, 8, &t), LCL_ERROR_INVALID_ARGUMENT);
    EXPECT_STATUS(lcl_tensor_wrap_host(ctx, LCL_F32, buf, 8, NULL), LCL_ERROR_INVALID_ARGUMENT);
    EXPECT_STATUS(lcl_tensor_wrap_host(ctx, LCL_F32, NULL, 8, &t), LCL_ERROR_INVALID_ARGUMENT);
    EXPECT_STATUS(lcl_tensor_wrap_host(ctx, (lcl_dtype)99, buf, 8, &t), LCL_ERROR_INVALID_ARGUMENT);
    EXPECT_STATUS(lcl_tensor_wrap_host(ctx, LCL_F32, (char *)buf + 1, 4, &t), LCL_ERROR_INVALID_ARGUMENT);
    EXPECT_STATUS(lcl_tensor_wrap_host(ctx, LCL_F32, buf, SIZE_MAX / 2, &t), LCL_ERROR_INVALID_ARGUMENT);
    cr_assert(t == NULL, "a refused wrap wrote its output");
    OK(lcl_tensor_wrap_host(ctx, LCL_F32, NULL, 0, &t)); /* empty: no memory needed */
    cr_assert(lcl_tensor_size(t) == 0);
    lcl_tensor_release(t);
    lcl_context_release(ctx);
}

Test(wrap_host, refused_on_an_opencl_context) {
    lcl_context *ctx = test_context();
    if (!is_opencl(ctx)) {
        lcl_context_release(ctx);
        return; /* the CPU run covers the CPU backend above */
    }
    float buf[4] = {0};
    lcl_tensor *t = NULL;
    EXPECT_STATUS(lcl_tensor_wrap_host(ctx, LCL_F32, buf, 4, &t), LCL_ERROR_INVALID_ARGUMENT);
    lcl_context_release(ctx);
}
