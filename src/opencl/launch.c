/* Every kernel launch: a kernel from the pool, its arguments, the enqueue, the kernel back. */
#include "opencl.h"

lcl_status lcl__launch_begin(lcl_context *ctx, lcl_dtype dtype, enum lcl__kernel_id id, struct lcl__launch *l) {
    *l = (struct lcl__launch){.dtype = dtype, .id = id, .kernel = NULL, .next = 0, .err = CL_SUCCESS};
    return lcl__kernel_acquire(ctx, dtype, id, &l->kernel);
}

void lcl__launch_arg(struct lcl__launch *l, size_t size, const void *value) {
    if (l->err == CL_SUCCESS)
        l->err = clSetKernelArg(l->kernel, l->next, size, value);
    l->next++;
}

void lcl__launch_mem(struct lcl__launch *l, cl_mem mem) { lcl__launch_arg(l, sizeof mem, &mem); }

void lcl__launch_ulong(struct lcl__launch *l, size_t value) {
    cl_ulong v = value;
    lcl__launch_arg(l, sizeof v, &v);
}

void lcl__launch_alpha(struct lcl__launch *l, double alpha) {
    if (l->dtype == LCL_F64) {
        lcl__launch_arg(l, sizeof alpha, &alpha);
    } else {
        float alpha32 = (float)alpha;
        lcl__launch_arg(l, sizeof alpha32, &alpha32);
    }
}

void lcl__launch_tensor(struct lcl__launch *l, const lcl_tensor *t) {
    lcl__launch_mem(l, t->storage->mem);
    lcl__launch_ulong(l, t->offset);
}

lcl_status lcl__launch_end_on(lcl_context *ctx, struct lcl__launch *l, size_t items, cl_command_queue queue,
                              cl_uint wait_count, const cl_event *wait, cl_event *event) {
    lcl_status st = lcl__cl_check(l->err, "clSetKernelArg");
    if (st == LCL_SUCCESS && items > 0) {
        /* Rounded up to whole work-groups (the kernels skip the surplus), so that odd sizes
         * never force a work-group size of 1. */
        size_t local = lcl__kernel_tunables(ctx, l->dtype, l->id)->work_group_size;
        size_t global = (items + local - 1) / local * local;
        st = lcl__cl_check(clEnqueueNDRangeKernel(queue, l->kernel, 1, NULL, &global, &local, wait_count,
                                                  wait_count ? wait : NULL, event),
                           "clEnqueueNDRangeKernel");
    }
    lcl__kernel_release_to_pool(ctx, l->dtype, l->id, l->kernel);
    l->kernel = NULL;
    return st;
}

lcl_status lcl__launch_end(lcl_context *ctx, struct lcl__launch *l, size_t items) {
    return lcl__launch_end_on(ctx, l, items, ctx->queue, 0, NULL, NULL);
}
