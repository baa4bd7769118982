/* Validation shared by every op: the checks of a table of named tensors, of alpha and of the
 * context, and of the host functions' arrays. Nothing is enqueued or written until every argument has passed. */
#include "internal.h"

#include <math.h>
#include <stdio.h>

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

lcl_status lcl__check_host_call(const char *fn, const lcl_context *ctx, const struct lcl__eltwise *call,
                                const void *sel, const void *grad, const void *out) {
    lcl_status st = lcl__check_call(fn, ctx, call->dtype, call->alpha);
    if (st != LCL_SUCCESS)
        return st;
    if (call->n > 0 && (!sel || !out || (call->op == LCL__OP_BACKWARD && !grad)))
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: a host array is NULL with n = %zu", fn, call->n);
    size_t bytes = lcl__bytes_for(call->dtype, call->n);
    if (bytes == SIZE_MAX)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: n = %zu overflows the address space", fn, call->n);
    if (lcl__range_overlap(out, bytes, sel, bytes) == LCL__PARTIAL ||
        (grad && lcl__range_overlap(out, bytes, grad, bytes) == LCL__PARTIAL))
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT,
                         "%s: the output partially overlaps an input (in place needs the very same array)", fn);
    return LCL_SUCCESS;
}

/* The argument's name for messages: "x", or "x[3]" for a batch item. */
static const char *label(const struct lcl__arg *a, char *buf, size_t size) {
    if (a->item == SIZE_MAX)
        return a->name;
    snprintf(buf, size, "%s[%zu]", a->name, a->item);
    return buf;
}

static lcl_status check_arg(const char *fn, const lcl_context *ctx, const struct lcl__arg *a) {
    char buf[64];
    const lcl_tensor *t = a->t;
    if (!t)
        return (a->flags & LCL__ARG_OPTIONAL)
                   ? LCL_SUCCESS
                   : lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", fn, label(a, buf, sizeof buf));
    if (t->ctx != ctx)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s belongs to another context", fn,
                         label(a, buf, sizeof buf));
    if (t->dtype != a->dtype)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s is %s, not %s", fn, label(a, buf, sizeof buf),
                         lcl_dtype_name(t->dtype), lcl_dtype_name(a->dtype));
    if (!(a->flags & LCL__ARG_ANY_SIZE) && t->n != a->n)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s has %zu elements, not %zu", fn, label(a, buf, sizeof buf),
                         t->n, a->n);
    return LCL_SUCCESS;
}

lcl_status lcl__check_args(const char *fn, const lcl_context *ctx, const struct lcl__arg *args, size_t count) {
    if (!ctx)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: ctx is NULL", fn);
    for (size_t i = 0; i < count; ++i) {
        lcl_status st = check_arg(fn, ctx, &args[i]);
        if (st != LCL_SUCCESS)
            return st;
    }
    return LCL_SUCCESS;
}

/* Whether a and b (both not NULL) may share what they share. */
static bool overlap_allowed(const struct lcl__arg *args, size_t a, size_t b, enum lcl__overlap o) {
    if (o == LCL__DISJOINT)
        return true;
    if ((args[a].flags | args[b].flags) & LCL__ARG_EXCLUSIVE)
        return false;
    if (!((args[a].flags | args[b].flags) & LCL__ARG_OUTPUT))
        return true; /* inputs may share freely */
    unsigned same = (args[a].same_ok >> b) | (args[b].same_ok >> a);
    return o == LCL__SAME && (same & 1u);
}

static int rank(const struct lcl__arg *a) {
    return (a->flags & LCL__ARG_EXCLUSIVE) ? 2 : (a->flags & LCL__ARG_OUTPUT) ? 1 : 0;
}

lcl_status lcl__check_overlaps(const char *fn, const struct lcl__arg *args, size_t count) {
    for (size_t a = 0; a < count; ++a) {
        for (size_t b = a + 1; b < count; ++b) {
            if (!args[a].t || !args[b].t)
                continue;
            enum lcl__overlap o = lcl__tensor_overlap(args[a].t, args[b].t);
            if (overlap_allowed(args, a, b, o))
                continue;
            /* Name the one with the strictest rule first: "mask overlaps y", "y partially overlaps x". */
            size_t first = rank(&args[b]) > rank(&args[a]) ? b : a;
            size_t second = first == a ? b : a;
            char buf1[64], buf2[64];
            bool in_place = ((args[first].same_ok >> second) | (args[second].same_ok >> first)) & 1u;
            return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s %s %s%s", fn, label(&args[first], buf1, sizeof buf1),
                             in_place ? "partially overlaps" : "overlaps", label(&args[second], buf2, sizeof buf2),
                             in_place ? " (in place needs the very same elements)" : "");
        }
    }
    return LCL_SUCCESS;
}
