/* LEAKYCL_VERIFY: every OpenCL op recomputed on the CPU backend and compared bit for bit (a
 * reduction within its error bound). One harness for every op: the inputs are read back before
 * the op is enqueued (an in-place op overwrites them), the outputs after it; the op recomputes
 * from the host copies and compares. */
#include "cpu/convert.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double lcl__element_double(lcl_dtype dtype, const void *p, size_t i) {
    switch (dtype) {
    case LCL_F32:
        return ((const float *)p)[i];
    case LCL_F64:
        return ((const double *)p)[i];
    case LCL_F16:
        return lcl__half_to_float_inline(((const uint16_t *)p)[i]);
    case LCL_BF16:
        return lcl__bf16_to_float_inline(((const uint16_t *)p)[i]);
    case LCL_MASK:
        break;
    }
    return 0;
}

size_t lcl__first_difference(lcl_dtype dtype, const void *a, const void *b, size_t n) {
    size_t size = lcl_dtype_size(dtype);
    const unsigned char *pa = a;
    const unsigned char *pb = b;
    for (size_t i = 0; i < n; ++i, pa += size, pb += size) {
        if (memcmp(pa, pb, size) != 0 &&
            !(isnan(lcl__element_double(dtype, pa, 0)) && isnan(lcl__element_double(dtype, pb, 0))))
            return i;
    }
    return n;
}

/* A malloc'd host copy of t's elements; *out stays NULL for a NULL t. */
static lcl_status snapshot(const lcl_tensor *t, void **out) {
    if (!t)
        return LCL_SUCCESS;
    size_t bytes = lcl_tensor_bytes(t);
    *out = malloc(bytes ? bytes : 1);
    if (!*out)
        return lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "LEAKYCL_VERIFY: out of host memory");
    return lcl_tensor_read(t, *out);
}

static void free_all(void **p, size_t count) {
    for (size_t i = 0; p && i < count; ++i)
        free(p[i]);
    free(p);
}

lcl_status lcl__verify(lcl_context *ctx, const struct lcl__verified *v) {
    void **in = calloc(v->in_count ? v->in_count : 1, sizeof *in);
    void **got = calloc(v->out_count, sizeof *got);
    void **want = calloc(v->out_count, sizeof *want);
    lcl_status st = in && got && want
                        ? LCL_SUCCESS
                        : lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "%s: LEAKYCL_VERIFY: out of host memory", v->fn);
    for (size_t i = 0; i < v->in_count && st == LCL_SUCCESS; ++i)
        st = snapshot(v->in[i], &in[i]);
    if (st == LCL_SUCCESS)
        st = v->launch(ctx, v->call);
    for (size_t i = 0; i < v->out_count && st == LCL_SUCCESS; ++i) {
        st = snapshot(v->out[i], &got[i]);
        size_t bytes = v->out[i] ? lcl_tensor_bytes(v->out[i]) : 0;
        if (st == LCL_SUCCESS && v->out[i] && !(want[i] = malloc(bytes ? bytes : 1)))
            st = lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "LEAKYCL_VERIFY: out of host memory");
    }
    if (st == LCL_SUCCESS)
        st = v->recompute(v->call, in, want);
    if (st == LCL_SUCCESS)
        st = v->compare(v->fn, v->call, in, got, want);
    free_all(in, v->in_count);
    free_all(got, v->out_count);
    free_all(want, v->out_count);
    return st;
}

lcl_status lcl__verify_eltwise(const struct lcl__eltwise *call, const void *sel, const void *grad,
                               const void *device_out, const void *expected) {
    size_t i = lcl__first_difference(call->dtype, device_out, expected, call->n);
    if (i == call->n)
        return LCL_SUCCESS;
    char inputs[96];
    int len = snprintf(inputs, sizeof inputs, "x %.9g", lcl__element_double(call->dtype, sel, i));
    if (grad && len > 0 && (size_t)len < sizeof inputs)
        snprintf(inputs + len, sizeof inputs - (size_t)len, ", dy %.9g", lcl__element_double(call->dtype, grad, i));
    return lcl__fail(LCL_ERROR_OPENCL,
                     "LEAKYCL_VERIFY: %s %s, alpha %.17g, n %zu: first mismatch at index %zu (%s): device gave %.9g, "
                     "CPU backend gave %.9g",
                     call->op == LCL__OP_FORWARD ? "forward" : "backward", lcl_dtype_name(call->dtype), call->alpha,
                     call->n, i, inputs, lcl__element_double(call->dtype, device_out, i),
                     lcl__element_double(call->dtype, expected, i));
}
