/* Kernel plumbing: LEAKYCL_KERNEL_DIR loads a planted copy of kernels/, LEAKYCL_VERIFY=1
 * catches a wrong kernel and names the first differing index, and a kernel that does not
 * compile gives LCL_ERROR_BUILD_FAILED with the build log. Both variables are read at context
 * creation. On the CPU backend they must change nothing. */
#include "common.h"

#include <criterion/criterion.h>

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef LEAKYCL_SOURCE_DIR
#error "LEAKYCL_SOURCE_DIR must name the source tree (tests/CMakeLists.txt defines it)"
#endif

TestSuite(kernels, .fini = kernels_plant_remove);

/* The planted fault: every alpha * v becomes 1 + alpha * v, so any finite x <= 0 comes out
 * wrong (NaN and infinite x still give what they should). */
static void plant_wrong_alpha_branch(void) {
    size_t count = kernels_plant("alpha *", "(compute_t)1 + alpha *", 0);
    cr_assert(count > 0, "the kernels have no \"alpha *\" to plant a fault in: update test_kernels.c");
}

/* x > 0 up to FIRST_BAD, then -1, then a random mix: the first wrong element is FIRST_BAD. */
#define N 100
#define FIRST_BAD 37

static float *planted_input(void) {
    test_rng rng;
    rng_init(&rng, 0);
    float *x = test_alloc(LCL_F32, N);
    fill_random(LCL_F32, x, N, 0.5, &rng);
    for (size_t i = 0; i < FIRST_BAD; ++i)
        x[i] = 1.0f + (float)i;
    x[FIRST_BAD] = -1.0f;
    return x;
}

/* Whether `text` holds `number` as a whole number (not part of a longer one). */
static int mentions_number(const char *text, unsigned number) {
    char digits[16];
    snprintf(digits, sizeof digits, "%u", number);
    size_t len = strlen(digits);
    for (const char *p = strstr(text, digits); p; p = strstr(p + 1, digits))
        if ((p == text || !isdigit((unsigned char)p[-1])) && !isdigit((unsigned char)p[len]))
            return 1;
    return 0;
}

/* On the CPU backend the kernel variables mean nothing: ops run and are exact. */
static void cpu_ignores_kernel_variables(lcl_context *ctx) {
    cr_assert(lcl_context_backend(ctx) == LCL_BACKEND_CPU);
    float *x = planted_input();
    void *y = run_forward(ctx, LCL_F32, 0.5, N, x);
    check_forward(LCL_F32, 0.5, N, x, y, "CPU backend with planted kernels");
    free(y);
    void *dx = run_backward(ctx, LCL_F32, 0.5, N, x, x);
    check_backward(LCL_F32, 0.5, N, x, x, dx, "CPU backend with planted kernels");
    free(dx);
    free(x);
}

Test(kernels, verify_catches_a_planted_mismatch) {
    plant_wrong_alpha_branch();
    setenv("LEAKYCL_VERIFY", "1", 1);
    lcl_context *ctx = test_context();
    if (!is_opencl(ctx)) {
        cpu_ignores_kernel_variables(ctx);
        lcl_context_release(ctx);
        return;
    }
    float *x = planted_input();
    lcl_tensor *tx = tensor_with(ctx, LCL_F32, N, x), *ty = tensor_poisoned(ctx, LCL_F32, N);
    EXPECT_STATUS(lcl_forward(ctx, 0.5, tx, ty), LCL_ERROR_OPENCL);
    const char *message = lcl_last_error();
    cr_assert(mentions_number(message, FIRST_BAD), "the message does not name index %d: \"%s\"", FIRST_BAD, message);
    lcl_tensor_release(tx);
    lcl_tensor_release(ty);
    free(x);
    lcl_context_release(ctx);
}

/* Without LEAKYCL_VERIFY the same plant gives wrong numbers and no error: proof that the
 * plant above is a real fault that only the check caught. */
Test(kernels, planted_mismatch_is_silent_without_verify) {
    plant_wrong_alpha_branch();
    unsetenv("LEAKYCL_VERIFY");
    lcl_context *ctx = test_context();
    if (!is_opencl(ctx)) {
        cpu_ignores_kernel_variables(ctx);
        lcl_context_release(ctx);
        return;
    }
    float *x = planted_input();
    float *y = run_forward(ctx, LCL_F32, 0.5, N, x);
    check_forward(LCL_F32, 0.5, FIRST_BAD, x, y, "planted kernel before the first negative");
    cr_assert(y[FIRST_BAD] == 0.5f, "the planted kernel gave %g for x = -1, expected 1 - 0.5 = 0.5",
              (double)y[FIRST_BAD]);
    free(x);
    free(y);
    lcl_context_release(ctx);
}

/* With the real kernels, LEAKYCL_VERIFY=1 agrees with the device on every dtype and op,
 * NaNs included (a NaN's payload is not a mismatch). */
Test(kernels, verify_accepts_correct_kernels) {
    unsetenv("LEAKYCL_KERNEL_DIR");
    setenv("LEAKYCL_VERIFY", "1", 1);
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    const size_t n = 10007;
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        void *x = test_alloc(dtype, n), *dy = test_alloc(dtype, n), *out = test_alloc(dtype, n);
        fill_random(dtype, x, n, 0.2, &rng);
        fill_random(dtype, dy, n, 0.2, &rng);
        void *y = run_forward(ctx, dtype, 0.2, n, x);
        check_forward(dtype, 0.2, n, x, y, "LEAKYCL_VERIFY=1");
        void *dx = run_backward_from_output(ctx, dtype, 0.2, n, y, dy);
        check_backward(dtype, 0.2, n, x, dy, dx, "LEAKYCL_VERIFY=1, from output");
        fill_poison(dtype, out, n);
        OK(lcl_backward_host(ctx, dtype, n, -0.5, x, dy, out));
        check_backward(dtype, -0.5, n, x, dy, out, "LEAKYCL_VERIFY=1, host");
        free(x);
        free(dy);
        free(out);
        free(y);
        free(dx);
    }
    lcl_context_release(ctx);
}

/* A kernel that does not compile: LCL_ERROR_BUILD_FAILED (at creation, or at the first op,
 * as programs build lazily), the compiler's log in the message, the output untouched, and the
 * same answer again on the next call. */
Test(kernels, build_failure_gives_the_log) {
    size_t count = kernels_plant("__kernel void lcl_forward", "planted_syntax_error __kernel void lcl_forward", 1);
    cr_assert(count == 1, "found %zu lcl_forward kernels to plant a syntax error in", count);
    lcl_context *ctx = NULL;
    lcl_status status = lcl_context_create(NULL, &ctx);
    if (status == LCL_SUCCESS && !is_opencl(ctx)) {
        const char *device = getenv("LEAKYCL_DEVICE");
        cr_assert(!device || strcmp(device, "opencl") != 0, "LEAKYCL_DEVICE=opencl gave the CPU backend");
        cpu_ignores_kernel_variables(ctx);
        lcl_context_release(ctx);
        return;
    }
    if (status == LCL_SUCCESS) {
        lcl_tensor *t = tensor_poisoned(ctx, LCL_F32, 64), *y = tensor_poisoned(ctx, LCL_F32, 64);
        for (int attempt = 0; attempt < 2; ++attempt) {
            EXPECT_STATUS(lcl_forward(ctx, 0.5, t, y), LCL_ERROR_BUILD_FAILED);
            const char *log = lcl_last_error();
            cr_assert(strstr(log, "error") && strstr(log, "planted_syntax_error"),
                      "attempt %d: the message holds no compiler error about the plant: \"%s\"", attempt, log);
            void *got = tensor_fetch(y);
            check_poisoned(LCL_F32, 64, got, "output of a forward whose kernel failed to build");
            free(got);
        }
        lcl_tensor_release(t);
        lcl_tensor_release(y);
        lcl_context_release(ctx);
        return;
    }
    EXPECT_STATUS(status, LCL_ERROR_BUILD_FAILED);
    cr_assert(strstr(lcl_last_error(), "planted_syntax_error"), "no build log: \"%s\"", lcl_last_error());
}

/* The variables are read once, at creation: setting them later changes nothing. */
Test(kernels, environment_read_at_creation) {
    unsetenv("LEAKYCL_KERNEL_DIR");
    unsetenv("LEAKYCL_VERIFY");
    lcl_context *ctx = test_context();
    kernels_plant("__kernel void lcl_forward", "planted_syntax_error __kernel void lcl_forward", 1);
    float *x = planted_input();
    void *y = run_forward(ctx, LCL_F32, 0.5, N, x);
    check_forward(LCL_F32, 0.5, N, x, y, "LEAKYCL_KERNEL_DIR set after the context was created");
    free(x);
    free(y);
    lcl_context_release(ctx);
}
