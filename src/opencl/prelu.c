/* PReLU on OpenCL: one launch of prelu.cl for y, or for dx alone; with dalpha, a launch that
 * writes dx and the per-block partial sums into a per-context buffer, on GPU-shaped devices a
 * launch that folds many partials per channel in parallel, then a launch that adds each
 * channel's partials. */
#include "opencl.h"

/* y, or dx alone: one launch over the plain kernels' work-items. */
static lcl_status launch_elementwise(lcl_context *ctx, const struct lcl__prelu *call, const struct lcl__prelu_args *a) {
    bool backward = call->op == LCL__OP_BACKWARD;
    struct lcl__launch l;
    enum lcl__kernel_id id = backward ? LCL__K_PRELU_BACKWARD : LCL__K_PRELU_FORWARD;
    lcl_status st = lcl__launch_begin(ctx, call->dtype, id, &l);
    if (st != LCL_SUCCESS)
        return st;
    lcl__launch_tensor(&l, a->alpha);
    lcl__launch_tensor(&l, a->x);
    if (backward)
        lcl__launch_tensor(&l, a->dy);
    lcl__launch_tensor(&l, a->out);
    lcl__launch_ulong(&l, call->n);
    lcl__launch_ulong(&l, call->channels);
    lcl__launch_ulong(&l, call->inner);
    size_t per_item = lcl__chunk_elements(lcl__kernel_tunables(ctx, call->dtype, id), call->dtype);
    return lcl__launch_end(ctx, &l, call->n / per_item + (call->n % per_item != 0));
}

/* Stage one's launches, by blocks or by columns, start with the same five arguments. */
static lcl_status begin_partials(lcl_context *ctx, const struct lcl__prelu *call, const struct lcl__prelu_args *a,
                                 enum lcl__kernel_id id, cl_mem partial, struct lcl__launch *l) {
    lcl_status st = lcl__launch_begin(ctx, call->dtype, id, l);
    if (st != LCL_SUCCESS)
        return st;
    lcl__launch_tensor(l, a->alpha);
    lcl__launch_tensor(l, a->x);
    lcl__launch_tensor(l, a->dy);
    lcl__launch_tensor(l, a->out);
    lcl__launch_mem(l, partial);
    return LCL_SUCCESS;
}

/* Stage one by channel blocks; *per_channel gets the partials per channel. */
static lcl_status launch_blocks(lcl_context *ctx, const struct lcl__prelu *call, const struct lcl__prelu_args *a,
                                cl_mem partial, size_t blocks) {
    struct lcl__launch l;
    lcl_status st = begin_partials(ctx, call, a, LCL__K_PRELU_BACKWARD_PARTIAL, partial, &l);
    if (st != LCL_SUCCESS)
        return st;
    lcl__launch_ulong(&l, call->channels);
    lcl__launch_ulong(&l, call->inner);
    lcl__launch_ulong(&l, call->n / call->channels);
    lcl__launch_ulong(&l, LCL__PRELU_BLOCK);
    lcl__launch_ulong(&l, blocks);
    cl_uint channel_major = call->inner >= LCL__PRELU_BLOCK / 2; /* runs of 1 KiB and more */
    lcl__launch_arg(&l, sizeof channel_major, &channel_major);
    return lcl__launch_end(ctx, &l, blocks * call->channels);
}

/* Stage one by columns (short inner, long batch). */
static lcl_status launch_columns(lcl_context *ctx, const struct lcl__prelu *call, const struct lcl__prelu_args *a,
                                 cl_mem partial, size_t row_blocks, size_t segments) {
    struct lcl__launch l;
    lcl_status st = begin_partials(ctx, call, a, LCL__K_PRELU_BACKWARD_COLUMNS, partial, &l);
    if (st != LCL_SUCCESS)
        return st;
    lcl__launch_ulong(&l, call->channels);
    lcl__launch_ulong(&l, call->inner);
    lcl__launch_ulong(&l, call->n / (call->channels * call->inner));
    lcl__launch_ulong(&l, LCL__PRELU_ROWS);
    lcl__launch_ulong(&l, row_blocks);
    lcl__launch_ulong(&l, segments);
    return lcl__launch_end(ctx, &l, row_blocks * segments);
}

/* Each run of prelu_fold (the tunables) partials of a channel into one, written after the partials. */
static lcl_status launch_fold(lcl_context *ctx, lcl_dtype dtype, cl_mem partial, size_t channels, size_t per_channel,
                              size_t groups, size_t folded_off) {
    struct lcl__launch l;
    lcl_status st = lcl__launch_begin(ctx, dtype, LCL__K_PRELU_FOLD, &l);
    if (st != LCL_SUCCESS)
        return st;
    lcl__launch_mem(&l, partial);
    lcl__launch_ulong(&l, channels);
    lcl__launch_ulong(&l, per_channel);
    lcl__launch_ulong(&l, groups);
    lcl__launch_mem(&l, partial);
    lcl__launch_ulong(&l, folded_off);
    return lcl__launch_end(ctx, &l, channels * groups);
}

/* dx and dalpha: the partial sums, then their sum per channel. */
static lcl_status launch_with_dalpha(lcl_context *ctx, const struct lcl__prelu *call, const struct lcl__prelu_args *a) {
    size_t channels = call->channels;
    size_t per_channel = call->n / channels;
    size_t blocks = per_channel / LCL__PRELU_BLOCK + (per_channel % LCL__PRELU_BLOCK != 0);
    size_t batch = call->n / (channels * call->inner);
    size_t row_blocks = batch / LCL__PRELU_ROWS + (batch % LCL__PRELU_ROWS != 0);
    const struct lcl__tunables *t = lcl__kernel_tunables(ctx, call->dtype, LCL__K_PRELU_BACKWARD_COLUMNS);
    size_t cols_per_item = (size_t)t->vector_width[call->dtype] * t->prelu_column_vectors;
    size_t cols = channels * call->inner;
    size_t segments = cols / cols_per_item + (cols % cols_per_item != 0);
    bool by_columns = lcl__prelu_by_columns(call);
    /* Partials: blocks per channel, or row_blocks per column; either at most n / 256 + channels. */
    size_t partials_per_channel = by_columns ? call->inner * row_blocks : blocks;
    size_t partials = partials_per_channel * channels;
    /* GPUs fold many partials per channel in parallel first (prelu.cl's lcl_prelu_fold). */
    size_t per_fold = ctx->tune.prelu_fold;
    bool fold = ctx->tune.gpu_shape && partials_per_channel > per_fold;
    size_t groups = partials_per_channel / per_fold + (partials_per_channel % per_fold != 0);
    size_t folded = fold ? groups * channels : 0;
    size_t compute_size = call->dtype == LCL_F64 ? 8 : 4;
    struct lcl__workspace *ws = NULL;
    lcl_status st = lcl__workspace_lock(ctx, LCL__WS_PRELU, &ws);
    if (st != LCL_SUCCESS)
        return st;
    cl_mem partial = NULL;
    st = lcl__workspace_device(ctx, ws, (partials + folded ? partials + folded : 1) * compute_size, &partial);
    if (st == LCL_SUCCESS && partials > 0)
        st = by_columns ? launch_columns(ctx, call, a, partial, row_blocks, segments)
                        : launch_blocks(ctx, call, a, partial, blocks);
    if (st == LCL_SUCCESS && fold)
        st = launch_fold(ctx, call->dtype, partial, channels, partials_per_channel, groups, partials);
    struct lcl__launch l;
    if (st == LCL_SUCCESS && (st = lcl__launch_begin(ctx, call->dtype, LCL__K_PRELU_DALPHA, &l)) == LCL_SUCCESS) {
        lcl__launch_mem(&l, partial);
        lcl__launch_ulong(&l, channels);
        lcl__launch_ulong(&l, fold ? groups : partials_per_channel);
        lcl__launch_tensor(&l, a->dalpha);
        lcl__launch_ulong(&l, fold ? partials : 0);
        st = lcl__launch_end(ctx, &l, channels);
    }
    lcl__workspace_unlock(ws);
    return st;
}

lcl_status lcl__cl_prelu(lcl_context *ctx, const struct lcl__prelu *call, const struct lcl__prelu_args *a) {
    if (call->op == LCL__OP_BACKWARD && a->dalpha)
        return launch_with_dalpha(ctx, call, a);
    return call->n == 0 ? LCL_SUCCESS : launch_elementwise(ctx, call, a);
}
