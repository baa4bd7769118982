/* Leaky ReLU on host arrays: computed in place in host memory on the CPU backend; on OpenCL
 * devices uploaded, computed and downloaded in chunks that fit the device's allocations. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Big enough to amortise a launch and a transfer, small enough for any device. */
#define LCL__DEFAULT_CHUNK_BYTES ((size_t)64 << 20)

static size_t chunk_elements(const lcl_context *ctx, lcl_dtype dtype, size_t n) {
    size_t bytes = LCL__DEFAULT_CHUNK_BYTES;
    const char *env = getenv("LEAKYCL_CHUNK_BYTES");
    if (env && *env) {
        char *end = NULL;
        errno = 0;
        unsigned long long value = strtoull(env, &end, 10);
        if (errno == 0 && *end == '\0' && value > 0)
            bytes = value < SIZE_MAX ? (size_t)value : SIZE_MAX;
    }
    if (bytes > ctx->max_alloc)
        bytes = (size_t)ctx->max_alloc;
    size_t elements = bytes / lcl_dtype_size(dtype);
    if (elements == 0)
        elements = 1;
    return elements < n ? elements : n;
}

static lcl_status check_host_arrays(const char *fn, const struct lcl__eltwise *call, const void *sel,
                                    const void *grad, const void *out) {
    if (call->n > 0 && (!sel || !out || (call->op == LCL__OP_BACKWARD && !grad)))
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: a host array is NULL with n = %zu", fn, call->n);
    size_t bytes = lcl__bytes_for(call->dtype, call->n);
    if (bytes == SIZE_MAX)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: n = %zu overflows the address space", fn, call->n);
    if (lcl__range_overlap(out, bytes, sel, bytes) == LCL__PARTIAL ||
        (grad && lcl__range_overlap(out, bytes, grad, bytes) == LCL__PARTIAL))
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT,
                         "%s: the output partially overlaps an input (in place needs the very same array)", fn);
    return LCL_SUCCESS;
}

struct device_chunk {
    cl_mem sel;
    cl_mem grad;
};

static void release_chunk(struct device_chunk *c) {
    if (c->sel)
        clReleaseMemObject(c->sel);
    if (c->grad)
        clReleaseMemObject(c->grad);
}

static lcl_status create_chunk(lcl_context *ctx, size_t bytes, bool with_grad, struct device_chunk *c) {
    cl_int err = CL_SUCCESS;
    c->sel = clCreateBuffer(ctx->cl_ctx, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err == CL_SUCCESS && with_grad)
        c->grad = clCreateBuffer(ctx->cl_ctx, CL_MEM_READ_WRITE, bytes, NULL, &err);
    return lcl__cl_check(err, "clCreateBuffer");
}

/* The output of each chunk overwrites the gradient (backward) or the input (forward) on the
 * device, so a chunk needs one buffer per input. */
static lcl_status run_chunks(lcl_context *ctx, const struct lcl__eltwise *call, const char *sel, const char *grad,
                             char *out) {
    size_t size = lcl_dtype_size(call->dtype);
    size_t step = chunk_elements(ctx, call->dtype, call->n);
    bool backward = call->op == LCL__OP_BACKWARD;
    struct device_chunk c = {NULL, NULL};
    lcl_status st = create_chunk(ctx, step * size, backward, &c);
    for (size_t first = 0; st == LCL_SUCCESS && first < call->n; first += step) {
        struct lcl__eltwise part = *call;
        part.n = call->n - first < step ? call->n - first : step;
        size_t at = first * size;
        size_t bytes = part.n * size;
        cl_mem result = backward ? c.grad : c.sel;
        if (LCL__CL_CALL(st, clEnqueueWriteBuffer(ctx->queue, c.sel, CL_FALSE, 0, bytes, sel + at, 0, NULL, NULL),
                         "clEnqueueWriteBuffer") ||
            (backward && LCL__CL_CALL(st, clEnqueueWriteBuffer(ctx->queue, c.grad, CL_FALSE, 0, bytes, grad + at, 0,
                                                                NULL, NULL),
                                      "clEnqueueWriteBuffer")) ||
            (st = lcl__cl_eltwise_buffers(ctx, &part, c.sel, 0, c.grad, 0, result, 0)) != LCL_SUCCESS ||
            LCL__CL_CALL(st, clEnqueueReadBuffer(ctx->queue, result, CL_TRUE, 0, bytes, out + at, 0, NULL, NULL),
                         "clEnqueueReadBuffer"))
            break;
    }
    if (st != LCL_SUCCESS && ctx->queue)
        clFinish(ctx->queue); /* no transfer may still touch the app's arrays after we return */
    release_chunk(&c);
    return st;
}

/* LEAKYCL_VERIFY: keep copies of the inputs (an in-place call overwrites them), then compare. */
static lcl_status run_opencl_verified(lcl_context *ctx, const struct lcl__eltwise *call, const void *sel,
                                     const void *grad, void *out) {
    size_t bytes = lcl__bytes_for(call->dtype, call->n);
    void *sel_copy = malloc(bytes);
    void *grad_copy = grad ? malloc(bytes) : NULL;
    lcl_status st = LCL_SUCCESS;
    if (!sel_copy || (grad && !grad_copy)) {
        st = lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "LEAKYCL_VERIFY: out of host memory");
    } else {
        memcpy(sel_copy, sel, bytes);
        if (grad)
            memcpy(grad_copy, grad, bytes);
        st = run_chunks(ctx, call, sel, grad, out);
        if (st == LCL_SUCCESS)
            st = lcl__verify_compare(call, sel_copy, grad_copy, out);
    }
    free(sel_copy);
    free(grad_copy);
    return st;
}

static lcl_status run_host(const char *fn, lcl_context *ctx, const struct lcl__eltwise *call, const void *sel,
                           const void *grad, void *out) {
    lcl_status st = lcl__check_call(fn, ctx, call->dtype, call->alpha);
    if (st == LCL_SUCCESS)
        st = check_host_arrays(fn, call, sel, grad, out);
    if (st != LCL_SUCCESS || call->n == 0)
        return st;
    if (ctx->backend == LCL_BACKEND_CPU) {
        lcl__cpu_eltwise(call, sel, grad, out);
        return LCL_SUCCESS;
    }
    if (ctx->verify)
        return run_opencl_verified(ctx, call, sel, grad, out);
    return run_chunks(ctx, call, sel, grad, out);
}

lcl_status lcl_forward_host(lcl_context *ctx, lcl_dtype dtype, size_t n, double alpha, const void *x, void *y) {
    struct lcl__eltwise call = {.op = LCL__OP_FORWARD, .dtype = dtype, .alpha = alpha, .n = n};
    return run_host("lcl_forward_host", ctx, &call, x, NULL, y);
}

lcl_status lcl_backward_host(lcl_context *ctx, lcl_dtype dtype, size_t n, double alpha, const void *x,
                             const void *dy, void *dx) {
    struct lcl__eltwise call = {.op = LCL__OP_BACKWARD, .dtype = dtype, .alpha = alpha, .n = n};
    return run_host("lcl_backward_host", ctx, &call, x, dy, dx);
}
