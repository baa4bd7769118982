/* PReLU: lcl_prelu_forward and lcl_prelu_backward. Validation, then the CPU backend
 * (cpu/prelu.c) or prelu.cl's kernels (opencl/prelu.c). LEAKYCL_VERIFY recomputes on the CPU
 * backend: y and dx bit for bit, dalpha within the error bound both backends keep. */
#include "cpu/cpu.h"
#include "opencl/opencl.h"

#include <math.h>
#include <stdlib.h>

struct prelu {
    struct lcl__prelu call;
    struct lcl__prelu_args a;
};

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

/* The output may be the very x or dy (in place), dalpha the very alpha; nothing else overlaps. */
static lcl_status validate(const char *fn, lcl_context *ctx, const struct prelu *p) {
    const struct lcl__prelu_args *a = &p->a;
    bool backward = p->call.op == LCL__OP_BACKWARD;
    lcl_dtype dtype = a->x ? a->x->dtype : LCL_F32;
    size_t n = a->x ? a->x->n : 0, channels = p->call.channels;
    struct lcl__arg args[5];
    size_t count = 0;
    args[count++] = (struct lcl__arg){"x", SIZE_MAX, a->x, n, dtype, LCL__ARG_ANY_SIZE, 0};
    args[count++] = (struct lcl__arg){"alpha", SIZE_MAX, a->alpha, channels, dtype, 0, 0};
    if (backward)
        args[count++] = (struct lcl__arg){"dy", SIZE_MAX, a->dy, n, dtype, 0, 0};
    unsigned same_ok = backward ? 1u | 4u : 1u; /* x, dy */
    args[count] = (struct lcl__arg){backward ? "dx" : "y", SIZE_MAX, a->out, n, dtype, LCL__ARG_OUTPUT, same_ok};
    count++;
    if (backward)
        args[count++] =
            (struct lcl__arg){"dalpha", SIZE_MAX, a->dalpha, channels, dtype, LCL__ARG_OUTPUT | LCL__ARG_OPTIONAL, 2u};
    lcl_status st = lcl__check_args(fn, ctx, args, count);
    if (st == LCL_SUCCESS)
        st = lcl__check_call(fn, ctx, dtype, 0.0);
    if (st == LCL_SUCCESS)
        st = check_shape(fn, channels, p->call.inner, n);
    return st == LCL_SUCCESS ? lcl__check_overlaps(fn, args, count) : st;
}

/* ---- LEAKYCL_VERIFY ------------------------------------------------------------------------- */

/* sum |dy * x| over each channel's alpha branch, in fp64: the scale of dalpha's error. */
static void sum_abs_per_channel(const struct lcl__prelu *call, const void *x, const void *dy, double *sum_abs) {
    for (size_t c = 0; c < call->channels; ++c)
        sum_abs[c] = 0;
    for (size_t e = 0; e < call->n; ++e) {
        double v = lcl__element_double(call->dtype, x, e);
        if (!(v > 0))
            sum_abs[e / call->inner % call->channels] += fabs(v * lcl__element_double(call->dtype, dy, e));
    }
}

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

/* in: alpha, x, dy; got and want: the output and dalpha (NULL without). */
static lcl_status compare(const char *fn, const void *p, void *const *in, void *const *got, void *const *want) {
    const struct lcl__prelu *call = &((const struct prelu *)p)->call;
    const void *x = in[1], *dy = in[2], *device_out = got[0], *want_out = want[0];
    const void *device_dalpha = got[1], *want_dalpha = want[1];
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
    sum_abs_per_channel(call, x, dy, sum_abs);
    lcl_status st = LCL_SUCCESS;
    for (size_t c = 0; c < call->channels && st == LCL_SUCCESS; ++c) {
        double device = lcl__element_double(call->dtype, device_dalpha, c);
        double cpu = lcl__element_double(call->dtype, want_dalpha, c);
        if (!dalpha_close(call->dtype, device, cpu, sum_abs[c]))
            st = lcl__fail(LCL_ERROR_OPENCL,
                           "LEAKYCL_VERIFY: %s %s, channels %zu, inner %zu, n %zu: dalpha[%zu]: device gave %.17g, "
                           "CPU backend gave %.17g (sum |dy x| %.17g)",
                           fn, lcl_dtype_name(call->dtype), call->channels, call->inner, call->n, c, device, cpu,
                           sum_abs[c]);
    }
    free(sum_abs);
    return st;
}

static lcl_status launch(lcl_context *ctx, const void *p) {
    const struct prelu *q = p;
    return lcl__cl_prelu(ctx, &q->call, &q->a);
}

static lcl_status recompute(const void *p, void *const *in, void *const *want) {
    const struct prelu *q = p;
    return lcl__cpu_prelu(&q->call, in[0], in[1], in[2], want[0], want[1]);
}

/* ---- the public functions ------------------------------------------------------------------- */

static lcl_status run(const char *fn, lcl_context *ctx, const struct prelu *p) {
    const struct lcl__prelu_args *a = &p->a;
    lcl_status st = validate(fn, ctx, p);
    if (st != LCL_SUCCESS)
        return st;
    if (ctx->backend == LCL_BACKEND_CPU)
        return lcl__cpu_prelu(&p->call, lcl__tensor_host_ptr(a->alpha), lcl__tensor_host_ptr(a->x),
                              a->dy ? lcl__tensor_host_ptr(a->dy) : NULL, lcl__tensor_host_ptr(a->out),
                              a->dalpha ? lcl__tensor_host_ptr(a->dalpha) : NULL);
    if (!ctx->verify)
        return launch(ctx, p);
    const lcl_tensor *in[3] = {a->alpha, a->x, a->dy};
    const lcl_tensor *out[2] = {a->out, a->dalpha};
    struct lcl__verified v = {fn, p, in, 3, out, 2, launch, recompute, compare};
    return lcl__verify(ctx, &v);
}

lcl_status lcl_prelu_forward(lcl_context *ctx, size_t channels, size_t inner, const lcl_tensor *alpha,
                             const lcl_tensor *x, lcl_tensor *y) {
    struct prelu p = {{LCL__OP_FORWARD, x ? x->dtype : LCL_F32, x ? x->n : 0, channels, inner},
                      {alpha, x, NULL, y, NULL}};
    return run("lcl_prelu_forward", ctx, &p);
}

lcl_status lcl_prelu_backward(lcl_context *ctx, size_t channels, size_t inner, const lcl_tensor *alpha,
                              const lcl_tensor *x, const lcl_tensor *dy, lcl_tensor *dx, lcl_tensor *dalpha) {
    struct prelu p = {{LCL__OP_BACKWARD, x ? x->dtype : LCL_F32, x ? x->n : 0, channels, inner},
                      {alpha, x, dy, dx, dalpha}};
    return run("lcl_prelu_backward", ctx, &p);
}
