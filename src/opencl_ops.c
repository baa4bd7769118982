/* The OpenCL backend of the elementwise ops: take a kernel from the pool, set its arguments,
 * enqueue it, give it back (arguments are captured at enqueue, so it is free again at once). */
#include "internal.h"

struct kernel_args {
    cl_kernel kernel;
    cl_uint next;
    cl_int err;
};

static void arg(struct kernel_args *a, size_t size, const void *value) {
    if (a->err == CL_SUCCESS)
        a->err = clSetKernelArg(a->kernel, a->next, size, value);
    a->next++;
}

static void arg_buffer(struct kernel_args *a, cl_mem mem, size_t element_offset) {
    cl_ulong offset = element_offset;
    arg(a, sizeof mem, &mem);
    arg(a, sizeof offset, &offset);
}

static void arg_alpha(struct kernel_args *a, lcl_dtype dtype, double alpha) {
    if (dtype == LCL_F64) {
        arg(a, sizeof alpha, &alpha);
    } else {
        float alpha32 = (float)alpha;
        arg(a, sizeof alpha32, &alpha32);
    }
}

/* Global size: one work-item per chunk of vectors, rounded up to whole work-groups (the
 * kernels skip the surplus), so odd n never forces a work-group size of 1. */
static size_t global_size(const lcl_context *ctx, lcl_dtype dtype, enum lcl__kernel_id id, size_t n) {
    size_t per_item = lcl__cl_chunk_elements(ctx, dtype, id);
    size_t items = n / per_item + (n % per_item != 0);
    size_t wg = lcl__kernel_tunables(ctx, dtype, id)->work_group_size;
    return (items + wg - 1) / wg * wg;
}

lcl_status lcl__cl_eltwise_enqueue(lcl_context *ctx, cl_command_queue queue, const struct lcl__eltwise *call,
                                   const struct lcl__cl_operands *ops, cl_uint wait_count, const cl_event *wait,
                                   cl_event *event) {
    if (call->n == 0)
        return LCL_SUCCESS;
    enum lcl__kernel_id id = call->op == LCL__OP_FORWARD ? LCL__K_FORWARD : LCL__K_BACKWARD;
    struct kernel_args a = {.kernel = NULL, .next = 0, .err = CL_SUCCESS};
    lcl_status st = lcl__kernel_acquire(ctx, call->dtype, id, &a.kernel);
    if (st != LCL_SUCCESS)
        return st;
    cl_ulong n = call->n;
    arg_buffer(&a, ops->sel, ops->sel_off);
    if (call->op == LCL__OP_BACKWARD)
        arg_buffer(&a, ops->grad, ops->grad_off);
    arg_buffer(&a, ops->out, ops->out_off);
    arg(&a, sizeof n, &n);
    arg_alpha(&a, call->dtype, call->alpha);
    st = lcl__cl_check(a.err, "clSetKernelArg");
    if (st == LCL_SUCCESS) {
        size_t global = global_size(ctx, call->dtype, id, call->n);
        size_t local = lcl__kernel_tunables(ctx, call->dtype, id)->work_group_size;
        st = lcl__cl_check(clEnqueueNDRangeKernel(queue, a.kernel, 1, NULL, &global, &local, wait_count,
                                                  wait_count ? wait : NULL, event),
                           "clEnqueueNDRangeKernel");
    }
    lcl__kernel_release_to_pool(ctx, call->dtype, id, a.kernel);
    return st;
}

lcl_status lcl__cl_eltwise_buffers(lcl_context *ctx, const struct lcl__eltwise *call, cl_mem sel, size_t sel_off,
                                   cl_mem grad, size_t grad_off, cl_mem out, size_t out_off) {
    struct lcl__cl_operands ops = {sel, sel_off, grad, grad_off, out, out_off};
    return lcl__cl_eltwise_enqueue(ctx, ctx->queue, call, &ops, 0, NULL, NULL);
}

lcl_status lcl__cl_eltwise(lcl_context *ctx, const struct lcl__eltwise *call, const lcl_tensor *sel,
                           const lcl_tensor *grad, lcl_tensor *out) {
    return lcl__cl_eltwise_buffers(ctx, call, sel->storage->mem, sel->offset, grad ? grad->storage->mem : NULL,
                                   grad ? grad->offset : 0, out->storage->mem, out->offset);
}
