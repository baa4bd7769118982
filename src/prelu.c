/* PReLU: lcl_prelu_forward and lcl_prelu_backward. Validation, then the CPU backend
 * (cpu_prelu.c) or prelu.cl's kernels: one launch for y, or for dx alone; with dalpha, a launch
 * that writes dx and the per-block partial sums into a per-context buffer, then a launch that
 * adds each channel's partials. LEAKYCL_VERIFY recomputes on the CPU backend: y and dx bit for
 * bit, dalpha within the error bound both backends keep. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct prelu_args {
    const lcl_tensor *alpha, *x, *dy;
    lcl_tensor *out, *dalpha;
};

static lcl_status check_tensor(const char *fn, const char *name, const lcl_context *ctx, const lcl_tensor *t,
                               const lcl_tensor *like, size_t n) {
    if (!t)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", fn, name);
    if (t->ctx != ctx)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s belongs to another context", fn, name);
    if (like && t->dtype != like->dtype)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s is %s but x is %s", fn, name, lcl_dtype_name(t->dtype),
                         lcl_dtype_name(like->dtype));
    if (like && t->n != n)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s has %zu elements, not %zu", fn, name, t->n, n);
    return LCL_SUCCESS;
}

static lcl_status check_overlap(const char *fn, const char *a_name, const lcl_tensor *a, const char *b_name,
                                const lcl_tensor *b, bool same_ok) {
    enum lcl__overlap o = lcl__tensor_overlap(a, b);
    if (o == LCL__PARTIAL || (o == LCL__SAME && !same_ok))
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s %s %s", fn, a_name,
                         same_ok ? "partially overlaps" : "overlaps", b_name);
    return LCL_SUCCESS;
}

static lcl_status check_shape(const char *fn, size_t channels, size_t inner, size_t n) {
    if (channels == 0 || inner == 0)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: channels (%zu) and inner (%zu) must be at least 1", fn,
                         channels, inner);
    if (inner > SIZE_MAX / channels)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: channels %zu * inner %zu overflows", fn, channels, inner);
    if (n % (channels * inner) != 0)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT,
                         "%s: x has %zu elements, not a multiple of channels %zu * inner %zu", fn, n, channels, inner);
    return LCL_SUCCESS;
}

static lcl_status validate(const char *fn, lcl_context *ctx, const struct lcl__prelu *call,
                           const struct prelu_args *a) {
    bool backward = call->op == LCL__OP_BACKWARD;
    const char *out_name = backward ? "dx" : "y";
    if (!ctx)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: ctx is NULL", fn);
    lcl_status st = check_tensor(fn, "x", ctx, a->x, NULL, 0);
    if (st != LCL_SUCCESS)
        return st;
    size_t n = a->x->n;
    st = check_tensor(fn, "alpha", ctx, a->alpha, a->x, call->channels);
    if (st == LCL_SUCCESS && backward)
        st = check_tensor(fn, "dy", ctx, a->dy, a->x, n);
    if (st == LCL_SUCCESS)
        st = check_tensor(fn, out_name, ctx, a->out, a->x, n);
    if (st == LCL_SUCCESS && a->dalpha)
        st = check_tensor(fn, "dalpha", ctx, a->dalpha, a->x, call->channels);
    if (st == LCL_SUCCESS)
        st = lcl__check_call(fn, ctx, a->x->dtype, 0.0);
    if (st == LCL_SUCCESS)
        st = check_shape(fn, call->channels, call->inner, n);
    if (st == LCL_SUCCESS)
        st = check_overlap(fn, out_name, a->out, "x", a->x, true);
    if (st == LCL_SUCCESS && backward)
        st = check_overlap(fn, out_name, a->out, "dy", a->dy, true);
    if (st == LCL_SUCCESS)
        st = check_overlap(fn, out_name, a->out, "alpha", a->alpha, false);
    if (st == LCL_SUCCESS && a->dalpha) {
        st = check_overlap(fn, "dalpha", a->dalpha, "alpha", a->alpha, true);
        if (st == LCL_SUCCESS)
            st = check_overlap(fn, "dalpha", a->dalpha, "x", a->x, false);
        if (st == LCL_SUCCESS)
            st = check_overlap(fn, "dalpha", a->dalpha, "dy", a->dy, false);
        if (st == LCL_SUCCESS)
            st = check_overlap(fn, "dalpha", a->dalpha, "dx", a->out, false);
    }
    return st;
}

/* ---- OpenCL --------------------------------------------------------------------------------- */

static void launch_tensor(struct lcl__launch *l, const lcl_tensor *t) {
    lcl__launch_mem(l, t->storage->mem);
    lcl__launch_ulong(l, t->offset);
}

/* y, or dx alone: one launch over the plain kernels' work-items. */
static lcl_status launch_elementwise(lcl_context *ctx, const struct lcl__prelu *call, const struct prelu_args *a) {
    bool backward = call->op == LCL__OP_BACKWARD;
    struct lcl__launch l;
    enum lcl__kernel_id id = backward ? LCL__K_PRELU_BACKWARD : LCL__K_PRELU_FORWARD;
    lcl_status st = lcl__launch_begin(ctx, call->dtype, id, &l);
    if (st != LCL_SUCCESS)
        return st;
    launch_tensor(&l, a->alpha);
    launch_tensor(&l, a->x);
    if (backward)
        launch_tensor(&l, a->dy);
    launch_tensor(&l, a->out);
    lcl__launch_ulong(&l, call->n);
    lcl__launch_ulong(&l, call->channels);
    lcl__launch_ulong(&l, call->inner);
    size_t per_item = lcl__cl_chunk_elements(ctx, call->dtype, id);
    return lcl__launch_end(ctx, &l, call->n / per_item + (call->n % per_item != 0));
}

bool lcl__prelu_by_columns(const struct lcl__prelu *call) {
    size_t batch = call->n / (call->channels * call->inner);
    return call->inner < LCL__PRELU_BLOCK / 2 && batch >= LCL__PRELU_ROWS;
}

/* Stage one by channel blocks; *per_channel gets the partials per channel. */
static lcl_status launch_blocks(lcl_context *ctx, const struct lcl__prelu *call, const struct prelu_args *a,
                                cl_mem partial, size_t blocks) {
    struct lcl__launch l;
    lcl_status st = lcl__launch_begin(ctx, call->dtype, LCL__K_PRELU_BACKWARD_PARTIAL, &l);
    if (st != LCL_SUCCESS)
        return st;
    launch_tensor(&l, a->alpha);
    launch_tensor(&l, a->x);
    launch_tensor(&l, a->dy);
    launch_tensor(&l, a->out);
    lcl__launch_mem(&l, partial);
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
static lcl_status launch_columns(lcl_context *ctx, const struct lcl__prelu *call, const struct prelu_args *a,
                                 cl_mem partial, size_t row_blocks, size_t segments) {
    struct lcl__launch l;
    lcl_status st = lcl__launch_begin(ctx, call->dtype, LCL__K_PRELU_BACKWARD_COLUMNS, &l);
    if (st != LCL_SUCCESS)
        return st;
    launch_tensor(&l, a->alpha);
    launch_tensor(&l, a->x);
    launch_tensor(&l, a->dy);
    launch_tensor(&l, a->out);
    lcl__launch_mem(&l, partial);
    lcl__launch_ulong(&l, call->channels);
    lcl__launch_ulong(&l, call->inner);
    lcl__launch_ulong(&l, call->n / (call->channels * call->inner));
    lcl__launch_ulong(&l, LCL__PRELU_ROWS);
    lcl__launch_ulong(&l, row_blocks);
    lcl__launch_ulong(&l, segments);
    return lcl__launch_end(ctx, &l, row_blocks * segments);
}

/* Each run of LCL__PRELU_FOLD partials of a channel into one, written after the partials. */
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
static lcl_status launch_with_dalpha(lcl_context *ctx, const struct lcl__prelu *call, const struct prelu_args *a) {
    size_t channels = call->channels;
    size_t per_channel = call->n / channels;
    size_t blocks = per_channel / LCL__PRELU_BLOCK + (per_channel % LCL__PRELU_BLOCK != 0);
    size_t batch = call->n / (channels * call->inner);
    size_t row_blocks = batch / LCL__PRELU_ROWS + (batch % LCL__PRELU_ROWS != 0);
    const struct lcl__tunables *t = lcl__kernel_tunables(ctx, call->dtype, LCL__K_PRELU_BACKWARD_COLUMNS);
    size_t cols_per_item = (size_t)t->vector_width * 4; /* LCL_PRELU_COLS */
    size_t cols = channels * call->inner;
    size_t segments = cols / cols_per_item + (cols % cols_per_item != 0);
    bool by_columns = lcl__prelu_by_columns(call);
    /* Partials: blocks per channel, or row_blocks per column; either at most n / 256 + channels. */
    size_t partials_per_channel = by_columns ? call->inner * row_blocks : blocks;
    size_t partials = partials_per_channel * channels;
    /* GPUs fold many partials per channel in parallel first (prelu.cl's lcl_prelu_fold). */
    bool fold = t->vectors_per_item == 1 && partials_per_channel > LCL__PRELU_FOLD;
    size_t groups = partials_per_channel / LCL__PRELU_FOLD + (partials_per_channel % LCL__PRELU_FOLD != 0);
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
        launch_tensor(&l, a->dalpha);
        lcl__launch_ulong(&l, fold ? partials : 0);
        st = lcl__launch_end(ctx, &l, channels);
    }
    lcl__workspace_unlock(ws);
    return st;
}

static lcl_status launch(lcl_context *ctx, const struct lcl__prelu *call, const struct prelu_args *a) {
    if (call->op == LCL__OP_BACKWARD && a->dalpha)
        return launch_with_dalpha(ctx, call, a);
    return call->n == 0 ? LCL_SUCCESS : launch_elementwise(ctx, call, a);
}

/* ---- LEAKYCL_VERIFY ------------------------------------------------------------------------- */

/* Device and CPU dalpha agree within the bound: both are within tol * sum|dy x| of the exact
 * sum before rounding to storage, which adds half an ulp of the storage type each. */
static bool dalpha_close(lcl_dtype dtype, double got, double want, double sum_abs) {
    if (isnan(got) || isnan(want) || isnan(sum_abs))
        return isnan(got) == isnan(want);
    if (isinf(got) || isinf(want))
        return got == want || isinf(sum_abs);
    double tol = dtype == LCL_F64 ? 1e-11 : 2e-5;
    double ulp = dtype == LCL_F16 ? 0x1p-10 : dtype == LCL_BF16 ? 0x1p-7 : dtype == LCL_F32 ? 0x1p-23 : 0x1p-52;
    double tiny = dtype == LCL_F16 ? 0x1p-24 : dtype == LCL_F64 ? 0x1p-1074 : 0x1p-149;
    return fabs(got - want) <= tol * sum_abs + ulp * (fabs(got) + fabs(want)) + tiny;
}

static lcl_status compare(const char *fn, const struct lcl__prelu *call, const void *x, const void *dy,
                          const void *device_out, const void *want_out, const void *device_dalpha,
                          const void *want_dalpha) {
    size_t i = lcl__first_difference(call->dtype, device_out, want_out, call->n);
    if (i < call->n)
        return lcl__fail(LCL_ERROR_OPENCL,
                         "LEAKYCL_VERIFY: %s %s, channels %zu, inner %zu, n %zu: first mismatch at index %zu (x %.9g): "
                         "device gave %.9g, CPU backend gave %.9g",
                         fn, lcl_dtype_name(call->dtype), call->channels, call->inner, call->n, i,
                         lcl__element_double(call->dtype, x, i), lcl__element_double(call->dtype, device_out, i),
                         lcl__element_double(call->dtype, want_out, i));
    if (!device_dalpha)
        return LCL_SUCCESS;
    double *sum_abs = malloc(call->channels * sizeof *sum_abs);
    if (!sum_abs)
        return lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "LEAKYCL_VERIFY: out of host memory");
    lcl__prelu_sum_abs(call, x, dy, sum_abs);
    lcl_status st = LCL_SUCCESS;
    for (size_t c = 0; c < call->channels && st == LCL_SUCCESS; ++c) {
        double got = lcl__element_double(call->dtype, device_dalpha, c);
        double want = lcl__element_double(call->dtype, want_dalpha, c);
        if (!dalpha_close(call->dtype, got, want, sum_abs[c]))
            st = lcl__fail(LCL_ERROR_OPENCL,
                           "LEAKYCL_VERIFY: %s %s, channels %zu, inner %zu, n %zu: dalpha[%zu]: device gave %.17g, "
                           "CPU backend gave %.17g (sum |dy x| %.17g)",
                           fn, lcl_dtype_name(call->dtype), call->channels, call->inner, call->n, c, got, want,
                           sum_abs[c]);
    }
    free(sum_abs);
    return st;
}

static lcl_status verify(const char *fn, lcl_context *ctx, const struct lcl__prelu *call, const struct prelu_args *a) {
    void *alpha = NULL, *x = NULL, *dy = NULL, *out = NULL, *dalpha = NULL, *want = NULL, *want_dalpha = NULL;
    bool backward = call->op == LCL__OP_BACKWARD;
    lcl_status st = lcl__verify_snapshot(a->alpha, &alpha);
    if (st == LCL_SUCCESS)
        st = lcl__verify_snapshot(a->x, &x);
    if (st == LCL_SUCCESS && backward)
        st = lcl__verify_snapshot(a->dy, &dy);
    if (st == LCL_SUCCESS)
        st = launch(ctx, call, a);
    if (st == LCL_SUCCESS)
        st = lcl__verify_snapshot(a->out, &out);
    if (st == LCL_SUCCESS && a->dalpha)
        st = lcl__verify_snapshot(a->dalpha, &dalpha);
    size_t out_bytes = lcl_tensor_bytes(a->out);
    size_t dalpha_bytes = lcl__bytes_for(call->dtype, call->channels);
    if (st == LCL_SUCCESS &&
        (!(want = malloc(out_bytes ? out_bytes : 1)) || !(want_dalpha = malloc(dalpha_bytes ? dalpha_bytes : 1))))
        st = lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "LEAKYCL_VERIFY: out of host memory");
    if (st == LCL_SUCCESS)
        st = lcl__cpu_prelu(call, alpha, x, dy, want, a->dalpha ? want_dalpha : NULL);
    if (st == LCL_SUCCESS)
        st = compare(fn, call, x, dy, out, want, dalpha, want_dalpha);
    free(alpha);
    free(x);
    free(dy);
    free(out);
    free(dalpha);
    free(want);
    free(want_dalpha);
    return st;
}

/* ---- the public functions ------------------------------------------------------------------- */

static lcl_status run(const char *fn, lcl_context *ctx, const struct lcl__prelu *call, const struct prelu_args *a) {
    lcl_status st = validate(fn, ctx, call, a);
    if (st != LCL_SUCCESS)
        return st;
    if (ctx->backend == LCL_BACKEND_CPU)
        return lcl__cpu_prelu(call, lcl__tensor_host_ptr(a->alpha), lcl__tensor_host_ptr(a->x),
                              a->dy ? lcl__tensor_host_ptr(a->dy) : NULL, lcl__tensor_host_ptr(a->out),
                              a->dalpha ? lcl__tensor_host_ptr(a->dalpha) : NULL);
    return ctx->verify ? verify(fn, ctx, call, a) : launch(ctx, call, a);
}

lcl_status lcl_prelu_forward(lcl_context *ctx, size_t channels, size_t inner, const lcl_tensor *alpha,
                             const lcl_tensor *x, lcl_tensor *y) {
    struct prelu_args a = {alpha, x, NULL, y, NULL};
    struct lcl__prelu call = {LCL__OP_FORWARD, x ? x->dtype : LCL_F32, x ? x->n : 0, channels, inner};
    return run("lcl_prelu_forward", ctx, &call, &a);
}

lcl_status lcl_prelu_backward(lcl_context *ctx, size_t channels, size_t inner, const lcl_tensor *alpha,
                              const lcl_tensor *x, const lcl_tensor *dy, lcl_tensor *dx, lcl_tensor *dalpha) {
    struct prelu_args a = {alpha, x, dy, dx, dalpha};
    struct lcl__prelu call = {LCL__OP_BACKWARD, x ? x->dtype : LCL_F32, x ? x->n : 0, channels, inner};
    return run("lcl_prelu_backward", ctx, &call, &a);
}
