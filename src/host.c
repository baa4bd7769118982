/* Leaky ReLU on host arrays: validation (validate.c), then the CPU backend in host memory, or an
 * OpenCL device through opencl/offload.c (zero-copy or streamed), checked by LEAKYCL_VERIFY if
 * asked. */
#include "cpu/cpu.h"
#include "opencl/opencl.h"

#include <stdlib.h>
#include <string.h>

/* LEAKYCL_VERIFY on host arrays: copies of the inputs (an in-place call overwrites them), the
 * CPU backend's result from them, then the comparison verify.c makes for tensors too. */
static lcl_status run_opencl_verified(lcl_context *ctx, const char *fn, const struct lcl__eltwise *call,
                                      const void *sel, const void *grad, void *out) {
    size_t bytes = lcl__bytes_for(call->dtype, call->n);
    void *sel_copy = malloc(bytes);
    void *grad_copy = grad ? malloc(bytes) : NULL;
    void *expected = malloc(bytes);
    lcl_status st = LCL_SUCCESS;
    if (!sel_copy || (grad && !grad_copy) || !expected) {
        st = lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "LEAKYCL_VERIFY: out of host memory");
    } else {
        memcpy(sel_copy, sel, bytes);
        if (grad)
            memcpy(grad_copy, grad, bytes);
        st = lcl__offload(ctx, fn, call, sel, grad, out, lcl__cpu_eltwise);
        if (st == LCL_SUCCESS) {
            lcl__cpu_eltwise(call, sel_copy, grad_copy, expected);
            st = lcl__verify_eltwise(call, sel_copy, grad_copy, out, expected);
        }
    }
    free(sel_copy);
    free(grad_copy);
    free(expected);
    return st;
}

static lcl_status run_host(const char *fn, lcl_context *ctx, const struct lcl__eltwise *call, const void *sel,
                           const void *grad, void *out) {
    lcl_status st = lcl__check_host_call(fn, ctx, call, sel, grad, out);
    if (st != LCL_SUCCESS || call->n == 0)
        return st;
    if (ctx->backend == LCL_BACKEND_CPU) {
        lcl__cpu_eltwise(call, sel, grad, out);
        return LCL_SUCCESS;
    }
    if (ctx->verify)
        return run_opencl_verified(ctx, fn, call, sel, grad, out);
    return lcl__offload(ctx, fn, call, sel, grad, out, lcl__cpu_eltwise);
}

lcl_status lcl_forward_host(lcl_context *ctx, lcl_dtype dtype, size_t n, double alpha, const void *x, void *y) {
    struct lcl__eltwise call = {.op = LCL__OP_FORWARD, .dtype = dtype, .alpha = alpha, .n = n};
    return run_host("lcl_forward_host", ctx, &call, x, NULL, y);
}

lcl_status lcl_backward_host(lcl_context *ctx, lcl_dtype dtype, size_t n, double alpha, const void *x, const void *dy,
                             void *dx) {
    struct lcl__eltwise call = {.op = LCL__OP_BACKWARD, .dtype = dtype, .alpha = alpha, .n = n};
    return run_host("lcl_backward_host", ctx, &call, x, dy, dx);
}
