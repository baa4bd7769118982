/* The dense layer: lcl_dense_forward and lcl_dense_backward. One validation path for both
 * backends, then CLBlast (cl_dense.c) or CBLAS (cpu_dense.c). Nothing is enqueued or written
 * until every argument has passed. */
#include "internal.h"

#include <stdint.h>

struct named {
    const char *name;
    const lcl_tensor *t;
    size_t n; /* the elements it must have */
    bool output;
};

static lcl_status check_tensor(const char *fn, const lcl_context *ctx, const struct named *t) {
    if (t->t->ctx != ctx)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s belongs to another context", fn, t->name);
    if (t->t->dtype != LCL_F32)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s is %s; the dense layer takes f32 only", fn, t->name,
                         lcl_dtype_name(t->t->dtype));
    if (t->t->n != t->n)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s has %zu elements, not %zu", fn, t->name, t->t->n, t->n);
    return LCL_SUCCESS;
}

/* A GEMM cannot write over what it reads, and outputs written in one call may not share
 * elements: any overlap of an output with another tensor is rejected, not only a partial one. */
static lcl_status check_overlaps(const char *fn, const struct named *ts, size_t count) {
    for (size_t o = 0; o < count; ++o)
        for (size_t i = 0; i < count; ++i)
            if (i != o && ts[o].output && ts[o].t && ts[i].t && lcl__tensor_overlap(ts[o].t, ts[i].t) != LCL__DISJOINT)
                return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s overlaps %s", fn, ts[o].name, ts[i].name);
    return LCL_SUCCESS;
}

static lcl_status check_sizes(const char *fn, const struct lcl__dense *call) {
    if (call->batch == 0 || call->in == 0 || call->out == 0)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: batch (%zu), in (%zu) and out (%zu) must be at least 1", fn,
                         call->batch, call->in, call->out);
    size_t longest = call->batch > call->out ? call->batch : call->out;
    if (call->in > SIZE_MAX / longest || call->batch > SIZE_MAX / call->out)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: batch %zu, in %zu, out %zu: a size overflows", fn,
                         call->batch, call->in, call->out);
    return LCL_SUCCESS;
}

/* ts: the tensors, the `required` ones (not NULL) first. */
static lcl_status validate(const char *fn, lcl_context *ctx, const struct lcl__dense *call, const struct named *ts,
                           size_t count, size_t required) {
    if (!ctx)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: ctx is NULL", fn);
    for (size_t i = 0; i < required; ++i)
        if (!ts[i].t)
            return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", fn, ts[i].name);
    lcl_status st = check_sizes(fn, call);
    if (st == LCL_SUCCESS)
        st = lcl__check_call(fn, ctx, LCL_F32, call->alpha);
    for (size_t i = 0; i < count && st == LCL_SUCCESS; ++i)
        if (ts[i].t)
            st = check_tensor(fn, ctx, &ts[i]);
    return st == LCL_SUCCESS ? check_overlaps(fn, ts, count) : st;
}

lcl_status lcl_dense_forward(lcl_context *ctx, size_t batch, size_t in, size_t out, double alpha, const lcl_tensor *x,
                             const lcl_tensor *w, const lcl_tensor *b, lcl_tensor *y) {
    static const char fn[] = "lcl_dense_forward";
    struct lcl__dense call = {batch, in, out, alpha};
    struct named ts[] = {
        {"x", x, batch * in, false}, {"w", w, out * in, false}, {"y", y, batch * out, true}, {"b", b, out, false}};
    lcl_status st = validate(fn, ctx, &call, ts, 4, 3);
    if (st != LCL_SUCCESS)
        return st;
    struct lcl__dense_args a = {.x = x, .w = w, .b = b, .out_y = y};
    return ctx->backend == LCL_BACKEND_CPU ? lcl__cpu_dense_forward(ctx, &call, &a)
                                           : lcl__cl_dense_forward(ctx, &call, &a);
}

lcl_status lcl_dense_backward(lcl_context *ctx, size_t batch, size_t in, size_t out, double alpha, const lcl_tensor *x,
                              const lcl_tensor *w, const lcl_tensor *y, const lcl_tensor *dy, lcl_tensor *dx,
                              lcl_tensor *dw, lcl_tensor *db) {
    static const char fn[] = "lcl_dense_backward";
    struct lcl__dense call = {batch, in, out, alpha};
    struct named ts[] = {{"x", x, batch * in, false},    {"w", w, out * in, false},    {"y", y, batch * out, false},
                         {"dy", dy, batch * out, false}, {"dx", dx, batch * in, true}, {"dw", dw, out * in, true},
                         {"db", db, out, true}};
    lcl_status st = validate(fn, ctx, &call, ts, 7, 4);
    if (st == LCL_SUCCESS && !(alpha >= 0))
        st =
            lcl__fail(LCL_ERROR_INVALID_ARGUMENT,
                      "%s: alpha %g < 0: the sign of y no longer tells the sign of x before the activation", fn, alpha);
    if (st != LCL_SUCCESS || (!dx && !dw && !db))
        return st;
    struct lcl__dense_args a = {.x = x, .w = w, .y = y, .dy = dy, .dx = dx, .dw = dw, .db = db};
    return ctx->backend == LCL_BACKEND_CPU ? lcl__cpu_dense_backward(ctx, &call, &a)
                                           : lcl__cl_dense_backward(ctx, &call, &a);
}
