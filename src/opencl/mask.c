/* The sign mask on OpenCL: one launch of mask.cl's forward or backward kernel. */
#include "opencl.h"

/* mask.cl's work-items: on GPUs (a chunk of one vector) one per vector; on CPU devices each
 * owns mask_words whole words. */
static size_t mask_work_items(const lcl_context *ctx, lcl_dtype dtype, enum lcl__kernel_id id, size_t n) {
    const struct lcl__tunables *t = lcl__kernel_tunables(ctx, dtype, id);
    size_t per_item = t->gpu_shape ? t->vector_width[dtype] : 32 * (size_t)t->mask_words;
    return n / per_item + (n % per_item != 0);
}

static void launch_mask(struct lcl__launch *l, const lcl_tensor *mask) {
    lcl__launch_mem(l, mask->storage->mem);
    lcl__launch_ulong(l, mask->offset / 32);
}

lcl_status lcl__cl_masked(lcl_context *ctx, enum lcl__op op, double alpha, const lcl_tensor *in, lcl_tensor *out,
                          const lcl_tensor *mask) {
    bool forward = op == LCL__OP_FORWARD;
    struct lcl__launch l;
    enum lcl__kernel_id id = forward ? LCL__K_FORWARD_MASKED : LCL__K_BACKWARD_MASKED;
    lcl_status st = lcl__launch_begin(ctx, in->dtype, id, &l);
    if (st != LCL_SUCCESS)
        return st;
    if (!forward)
        launch_mask(&l, mask);
    lcl__launch_tensor(&l, in);
    lcl__launch_tensor(&l, out);
    if (forward)
        launch_mask(&l, mask);
    lcl__launch_ulong(&l, in->n);
    lcl__launch_alpha(&l, alpha);
    return lcl__launch_end(ctx, &l, mask_work_items(ctx, in->dtype, id, in->n));
}
