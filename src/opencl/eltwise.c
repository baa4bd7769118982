/* The elementwise ops on OpenCL: one launch of eltwise.cl's kernel, a work-item per chunk. */
#include "opencl.h"

lcl_status lcl__cl_eltwise_enqueue(lcl_context *ctx, cl_command_queue queue, const struct lcl__eltwise *call,
                                   const struct lcl__cl_operands *ops, cl_uint wait_count, const cl_event *wait,
                                   cl_event *event) {
    if (call->n == 0)
        return LCL_SUCCESS;
    bool backward = call->op == LCL__OP_BACKWARD;
    struct lcl__launch l;
    enum lcl__kernel_id id = backward ? LCL__K_BACKWARD : LCL__K_FORWARD;
    lcl_status st = lcl__launch_begin(ctx, call->dtype, id, &l);
    if (st != LCL_SUCCESS)
        return st;
    lcl__launch_mem(&l, ops->sel);
    lcl__launch_ulong(&l, ops->sel_off);
    if (backward) {
        lcl__launch_mem(&l, ops->grad);
        lcl__launch_ulong(&l, ops->grad_off);
    }
    lcl__launch_mem(&l, ops->out);
    lcl__launch_ulong(&l, ops->out_off);
    lcl__launch_ulong(&l, call->n);
    lcl__launch_alpha(&l, call->alpha);
    size_t per_item = lcl__chunk_elements(lcl__kernel_tunables(ctx, call->dtype, id), call->dtype);
    size_t items = call->n / per_item + (call->n % per_item != 0);
    return lcl__launch_end_on(ctx, &l, items, queue, wait_count, wait, event);
}

lcl_status lcl__cl_eltwise(lcl_context *ctx, const struct lcl__eltwise *call, const lcl_tensor *sel,
                           const lcl_tensor *grad, lcl_tensor *out) {
    struct lcl__cl_operands ops = {sel->storage->mem,       sel->offset,       grad ? grad->storage->mem : NULL,
                                   grad ? grad->offset : 0, out->storage->mem, out->offset};
    return lcl__cl_eltwise_enqueue(ctx, ctx->queue, call, &ops, 0, NULL, NULL);
}
