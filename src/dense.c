/* The dense layer: lcl_dense_forward and lcl_dense_backward. One validation path for both
 * backends, then CLBlast (opencl/dense.c) or CBLAS (cpu/dense.c). Nothing is enqueued or written
 * until every argument has passed. */
#include "cpu/cpu.h"
#include "opencl/opencl.h"

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

/* Every output may share no element with any other tensor: a GEMM cannot write over what it
 * reads, and outputs written in one call may not share elements. */
static lcl_status validate(const char *fn, lcl_context *ctx, const struct lcl__dense *call, const struct lcl__arg *args,
                           size_t count) {
    lcl_status st = ctx ? check_sizes(fn, call) : lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: ctx is NULL", fn);
    if (st == LCL_SUCCESS)
        st = lcl__check_call(fn, ctx, LCL_F32, call->alpha);
    if (st == LCL_SUCCESS)
        st = lcl__check_args(fn, ctx, args, count);
    return st == LCL_SUCCESS ? lcl__check_overlaps(fn, args, count) : st;
}

#define IN(name, t, n)                                                                                                 \
    { name, SIZE_MAX, t, n, LCL_F32, 0, 0 }
#define OUT(name, t, n)                                                                                                \
    { name, SIZE_MAX, t, n, LCL_F32, LCL__ARG_OUTPUT | LCL__ARG_OPTIONAL, 0 }

lcl_status lcl_dense_forward(lcl_context *ctx, size_t batch, size_t in, size_t out, double alpha, const lcl_tensor *x,
                             const lcl_tensor *w, const lcl_tensor *b, lcl_tensor *y) {
    static const char fn[] = "lcl_dense_forward";
    struct lcl__dense call = {batch, in, out, alpha};
    struct lcl__arg args[] = {IN("x", x, batch * in),
                              IN("w", w, out * in),
                              {"y", SIZE_MAX, y, batch * out, LCL_F32, LCL__ARG_OUTPUT, 0},
                              {"b", SIZE_MAX, b, out, LCL_F32, LCL__ARG_OPTIONAL, 0}};
    lcl_status st = validate(fn, ctx, &call, args, 4);
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
    struct lcl__arg args[] = {IN("x", x, batch * in),    IN("w", w, out * in),      IN("y", y, batch * out),
                              IN("dy", dy, batch * out), OUT("dx", dx, batch * in), OUT("dw", dw, out * in),
                              OUT("db", db, out)};
    lcl_status st = validate(fn, ctx, &call, args, 7);
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
