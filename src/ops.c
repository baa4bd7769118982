/* The public elementwise ops: one validation path for both backends, then dispatch. Nothing
 * is enqueued or written until every argument has passed. */
#include "cpu/cpu.h"
#include "opencl/opencl.h"

/* One call and its tensors: sel (whose sign selects), grad (dy; NULL for the forward), out
 * (which may be the very tensor sel or grad is). */
struct eltwise {
    struct lcl__eltwise call;
    const lcl_tensor *sel, *grad;
    lcl_tensor *out;
};

static lcl_status validate(const char *fn, const char *const names[3], lcl_context *ctx, const struct eltwise *e) {
    lcl_dtype dtype = e->sel ? e->sel->dtype : LCL_F32;
    size_t n = e->sel ? e->sel->n : 0;
    struct lcl__arg args[3];
    size_t count = 0;
    args[count++] = (struct lcl__arg){names[0], SIZE_MAX, e->sel, n, dtype, LCL__ARG_ANY_SIZE, 0};
    if (names[1])
        args[count++] = (struct lcl__arg){names[1], SIZE_MAX, e->grad, n, dtype, 0, 0};
    args[count] = (struct lcl__arg){names[2], SIZE_MAX, e->out, n, dtype, LCL__ARG_OUTPUT, (1u << count) - 1};
    count++;
    lcl_status st = lcl__check_args(fn, ctx, args, count);
    if (st == LCL_SUCCESS)
        st = lcl__check_call(fn, ctx, dtype, e->call.alpha);
    return st == LCL_SUCCESS ? lcl__check_overlaps(fn, args, count) : st;
}

/* ---- LEAKYCL_VERIFY ------------------------------------------------------------------------- */

static lcl_status launch(lcl_context *ctx, const void *p) {
    const struct eltwise *e = p;
    return lcl__cl_eltwise(ctx, &e->call, e->sel, e->grad, e->out);
}

static lcl_status recompute(const void *p, void *const *in, void *const *want) {
    const struct eltwise *e = p;
    lcl__cpu_eltwise(&e->call, in[0], in[1], want[0]);
    return LCL_SUCCESS;
}

static lcl_status compare(const char *fn, const void *p, void *const *in, void *const *got, void *const *want) {
    (void)fn;
    const struct eltwise *e = p;
    return lcl__verify_eltwise(&e->call, in[0], in[1], got[0], want[0]);
}

static lcl_status run(const char *fn, lcl_context *ctx, const struct eltwise *e) {
    if (e->call.n == 0)
        return LCL_SUCCESS;
    if (ctx->backend == LCL_BACKEND_CPU) {
        lcl__cpu_eltwise(&e->call, lcl__tensor_host_ptr(e->sel), e->grad ? lcl__tensor_host_ptr(e->grad) : NULL,
                         lcl__tensor_host_ptr(e->out));
        return LCL_SUCCESS;
    }
    if (!ctx->verify)
        return launch(ctx, e);
    const lcl_tensor *in[2] = {e->sel, e->grad};
    const lcl_tensor *out[1] = {e->out};
    struct lcl__verified v = {fn, e, in, 2, out, 1, launch, recompute, compare};
    return lcl__verify(ctx, &v);
}

static lcl_status eltwise(const char *fn, const char *const names[3], lcl_context *ctx, double alpha,
                          const lcl_tensor *sel, const lcl_tensor *grad, lcl_tensor *out) {
    struct eltwise e = {
        {names[1] ? LCL__OP_BACKWARD : LCL__OP_FORWARD, sel ? sel->dtype : LCL_F32, alpha, sel ? sel->n : 0},
        sel,
        grad,
        out};
    lcl_status st = validate(fn, names, ctx, &e);
    /* With alpha >= 0, y > 0 exactly when x > 0: the backward kernel selecting on y is exact. */
    if (st == LCL_SUCCESS && names[0][0] == 'y' && alpha < 0)
        st = lcl__fail(LCL_ERROR_INVALID_ARGUMENT,
                       "%s: alpha %g < 0: the sign of y no longer tells the sign of x (use lcl_backward with x)", fn,
                       alpha);
    return st != LCL_SUCCESS ? st : run(fn, ctx, &e);
}

lcl_status lcl_forward(lcl_context *ctx, double alpha, const lcl_tensor *x, lcl_tensor *y) {
    static const char *const names[3] = {"x", NULL, "y"};
    return eltwise("lcl_forward", names, ctx, alpha, x, NULL, y);
}

lcl_status lcl_backward(lcl_context *ctx, double alpha, const lcl_tensor *x, const lcl_tensor *dy, lcl_tensor *dx) {
    static const char *const names[3] = {"x", "dy", "dx"};
    return eltwise("lcl_backward", names, ctx, alpha, x, dy, dx);
}

lcl_status lcl_backward_from_output(lcl_context *ctx, double alpha, const lcl_tensor *y, const lcl_tensor *dy,
                                    lcl_tensor *dx) {
    static const char *const names[3] = {"y", "dy", "dx"};
    return eltwise("lcl_backward_from_output", names, ctx, alpha, y, dy, dx);
}
