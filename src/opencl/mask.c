/* The sign mask on OpenCL: one launch of mask.cl's forward or backward kernel. */
#include "opencl.h"

/* mask.cl's work-items: on GPUs (a chunk of one vector) one per vector; on CPU devices each
 * owns mask_words whole words. */
static size_t mask_work_items(const lcl_context *ctx, lcl_dtype dtype, size_t n) {
    size_t per_item = ctx->tune.gpu_shape ? ctx->tune.vector_width[dtype] : 32 * (size_t)ctx->tune.mask_words[dtype];
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
    lcl_status st = lcl__launch_begin(ctx, in->dtype, forward ? LCL__K_FORWARD_MASKED : LCL__K_BACKWARD_MASKED, &l);
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
    return lcl__launch_end(ctx, &l, mask_work_items(ctx, in->dtype, in->n));
}
