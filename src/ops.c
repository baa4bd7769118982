/* The public elementwise ops: one validation path for both backends, then dispatch. Nothing
 * is enqueued or written until every argument has passed. */
#include "internal.h"

#include <math.h>

/* alpha and the context, the checks every op and host function shares. */
lcl_status lcl__check_call(const char *fn, const lcl_context *ctx, lcl_dtype dtype, double alpha) {
    if (!ctx)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: ctx is NULL", fn);
    if (!isfinite(alpha))
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: alpha must be finite, not %g", fn, alpha);
    if (!lcl__dtype_is_float(dtype))
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: dtype %s (%d) is not a float dtype", fn,
                         lcl_dtype_name(dtype), (int)dtype);
    /* alpha is rounded to the compute type first: it must stay finite there too. */
    if (dtype != LCL_F64 && !isfinite((float)alpha))
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: alpha %g overflows fp32, the compute type of %s", fn, alpha,
                         lcl_dtype_name(dtype));
    if (!lcl_context_supports(ctx, dtype))
        return lcl__fail(LCL_ERROR_UNSUPPORTED, "%s: %s needs cl_khr_fp64, which %s lacks", fn, lcl_dtype_name(dtype),
                         ctx->device_name);
    return LCL_SUCCESS;
}

lcl_status lcl__check_tensor(const char *fn, const char *name, const lcl_context *ctx, const lcl_tensor *t,
                             const lcl_tensor *like) {
    if (!t)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", fn, name);
    if (t->ctx != ctx)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s belongs to another context", fn, name);
    if (like && t->dtype != like->dtype)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s is %s but the first tensor is %s", fn, name,
                         lcl_dtype_name(t->dtype), lcl_dtype_name(like->dtype));
    if (like && t->n != like->n)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s has %zu elements but the first tensor has %zu", fn, name,
                         t->n, like->n);
    return LCL_SUCCESS;
}

static lcl_status check_no_partial_overlap(const char *fn, const char *out_name, const lcl_tensor *out,
                                           const char *in_name, const lcl_tensor *in) {
    if (in && lcl__tensor_overlap(out, in) == LCL__PARTIAL)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT,
                         "%s: %s partially overlaps %s (in place needs the very same elements)", fn, out_name, in_name);
    return LCL_SUCCESS;
}

/* What the tensors are called in messages: the one whose sign selects, dy, the output. */
struct tensor_names {
    const char *sel;
    const char *grad;
    const char *out;
};

static lcl_status validate(const char *fn, const struct tensor_names *names, lcl_context *ctx, double alpha,
                           const lcl_tensor *sel, const lcl_tensor *grad, const lcl_tensor *out, bool has_grad) {
    if (!ctx)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: ctx is NULL", fn);
    lcl_status st = lcl__check_tensor(fn, names->sel, ctx, sel, NULL);
    if (st == LCL_SUCCESS && has_grad)
        st = lcl__check_tensor(fn, names->grad, ctx, grad, sel);
    if (st == LCL_SUCCESS)
        st = lcl__check_tensor(fn, names->out, ctx, out, sel);
    if (st == LCL_SUCCESS)
        st = lcl__check_call(fn, ctx, sel->dtype, alpha);
    if (st == LCL_SUCCESS)
        st = check_no_partial_overlap(fn, names->out, out, names->sel, sel);
    if (st == LCL_SUCCESS && has_grad)
        st = check_no_partial_overlap(fn, names->out, out, names->grad, grad);
    return st;
}

static lcl_status run_opencl(lcl_context *ctx, const struct lcl__eltwise *call, const lcl_tensor *sel,
                             const lcl_tensor *grad, lcl_tensor *out) {
    if (!ctx->verify)
        return lcl__cl_eltwise(ctx, call, sel, grad, out);
    struct lcl__verify v = {NULL, NULL};
    lcl_status st = lcl__verify_begin(sel, grad, &v);
    if (st != LCL_SUCCESS)
        return st;
    st = lcl__cl_eltwise(ctx, call, sel, grad, out);
    if (st != LCL_SUCCESS) {
        lcl__verify_discard(&v);
        return st;
    }
    return lcl__verify_end(call, out, &v);
}

static lcl_status run(lcl_context *ctx, enum lcl__op op, double alpha, const lcl_tensor *sel, const lcl_tensor *grad,
                      lcl_tensor *out) {
    struct lcl__eltwise call = {.op = op, .dtype = sel->dtype, .alpha = alpha, .n = sel->n};
    if (call.n == 0)
        return LCL_SUCCESS;
    if (ctx->backend == LCL_BACKEND_CPU) {
        lcl__cpu_eltwise(&call, lcl__tensor_host_ptr(sel), grad ? lcl__tensor_host_ptr(grad) : NULL,
                         lcl__tensor_host_ptr(out));
        return LCL_SUCCESS;
    }
    return run_opencl(ctx, &call, sel, grad, out);
}

lcl_status lcl_forward(lcl_context *ctx, double alpha, const lcl_tensor *x, lcl_tensor *y) {
    static const struct tensor_names names = {"x", NULL, "y"};
    lcl_status st = validate("lcl_forward", &names, ctx, alpha, x, NULL, y, false);
    return st != LCL_SUCCESS ? st : run(ctx, LCL__OP_FORWARD, alpha, x, NULL, y);
}

lcl_status lcl_backward(lcl_context *ctx, double alpha, const lcl_tensor *x, const lcl_tensor *dy, lcl_tensor *dx) {
    static const struct tensor_names names = {"x", "dy", "dx"};
    lcl_status st = validate("lcl_backward", &names, ctx, alpha, x, dy, dx, true);
    return st != LCL_SUCCESS ? st : run(ctx, LCL__OP_BACKWARD, alpha, x, dy, dx);
}

lcl_status lcl_backward_from_output(lcl_context *ctx, double alpha, const lcl_tensor *y, const lcl_tensor *dy,
                                    lcl_tensor *dx) {
    static const struct tensor_names names = {"y", "dy", "dx"};
    lcl_status st = validate("lcl_backward_from_output", &names, ctx, alpha, y, dy, dx, true);
    if (st == LCL_SUCCESS && alpha < 0)
        st = lcl__fail(LCL_ERROR_INVALID_ARGUMENT,
                       "lcl_backward_from_output: alpha %g < 0: the sign of y no longer tells the sign of x "
                       "(use lcl_backward with x)",
                       alpha);
    /* With alpha >= 0, y > 0 exactly when x > 0: the backward kernel selecting on y is exact. */
    return st != LCL_SUCCESS ? st : run(ctx, LCL__OP_BACKWARD, alpha, y, dy, dx);
}
