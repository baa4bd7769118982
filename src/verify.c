/* LEAKYCL_VERIFY: every OpenCL op recomputed on the CPU backend and compared bit for bit.
 * Inputs are snapshotted before the op is enqueued, since an in-place op overwrites them. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_nan_bits(lcl_dtype dtype, const unsigned char *p) {
    switch (dtype) {
    case LCL_F32: {
        uint32_t u;
        memcpy(&u, p, 4);
        return (u & 0x7fffffffu) > 0x7f800000u;
    }
    case LCL_F64: {
        uint64_t u;
        memcpy(&u, p, 8);
        return (u & 0x7fffffffffffffffull) > 0x7ff0000000000000ull;
    }
    case LCL_F16: {
        uint16_t u;
        memcpy(&u, p, 2);
        return (u & 0x7fffu) > 0x7c00u;
    }
    case LCL_BF16: {
        uint16_t u;
        memcpy(&u, p, 2);
        return (u & 0x7fffu) > 0x7f80u;
    }
    case LCL_MASK:
        break;
    }
    return false;
}

size_t lcl__first_difference(lcl_dtype dtype, const void *a, const void *b, size_t n) {
    size_t size = lcl_dtype_size(dtype);
    const unsigned char *pa = a;
    const unsigned char *pb = b;
    for (size_t i = 0; i < n; ++i, pa += size, pb += size) {
        if (memcmp(pa, pb, size) != 0 && !(is_nan_bits(dtype, pa) && is_nan_bits(dtype, pb)))
            return i;
    }
    return n;
}

double lcl__element_double(lcl_dtype dtype, const void *p, size_t i) {
    switch (dtype) {
    case LCL_F32:
        return ((const float *)p)[i];
    case LCL_F64:
        return ((const double *)p)[i];
    case LCL_F16:
        return lcl__half_to_float(((const uint16_t *)p)[i]);
    case LCL_BF16:
        return lcl__bf16_to_float(((const uint16_t *)p)[i]);
    case LCL_MASK:
        break;
    }
    return 0;
}

lcl_status lcl__verify_snapshot(const lcl_tensor *t, void **out) {
    *out = NULL;
    if (!t)
        return LCL_SUCCESS;
    *out = malloc(lcl_tensor_bytes(t) ? lcl_tensor_bytes(t) : 1);
    if (!*out)
        return lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "LEAKYCL_VERIFY: out of host memory");
    return lcl_tensor_read(t, *out);
}

void lcl__verify_discard(struct lcl__verify *v) {
    free(v->sel);
    free(v->grad);
    v->sel = v->grad = NULL;
}

lcl_status lcl__verify_begin(const lcl_tensor *sel, const lcl_tensor *grad, struct lcl__verify *v) {
    lcl_status st = lcl__verify_snapshot(sel, &v->sel);
    if (st == LCL_SUCCESS)
        st = lcl__verify_snapshot(grad, &v->grad);
    if (st != LCL_SUCCESS)
        lcl__verify_discard(v);
    return st;
}

lcl_status lcl__verify_compare(const struct lcl__eltwise *call, const void *sel, const void *grad,
                               const void *device_out) {
    size_t bytes = lcl__bytes_for(call->dtype, call->n);
    void *expected = malloc(bytes ? bytes : 1);
    if (!expected)
        return lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "LEAKYCL_VERIFY: out of host memory");
    lcl__cpu_eltwise(call, sel, grad, expected);
    size_t i = lcl__first_difference(call->dtype, device_out, expected, call->n);
    lcl_status st = LCL_SUCCESS;
    if (i < call->n) {
        char inputs[96];
        int len = snprintf(inputs, sizeof inputs, "x %.9g", lcl__element_double(call->dtype, sel, i));
        if (grad && len > 0 && (size_t)len < sizeof inputs)
            snprintf(inputs + len, sizeof inputs - (size_t)len, ", dy %.9g", lcl__element_double(call->dtype, grad, i));
        st = lcl__fail(LCL_ERROR_OPENCL,
                       "LEAKYCL_VERIFY: %s %s, alpha %.17g, n %zu: first mismatch at index %zu (%s): device gave "
                       "%.9g, CPU backend gave %.9g",
                       call->op == LCL__OP_FORWARD ? "forward" : "backward", lcl_dtype_name(call->dtype), call->alpha,
                       call->n, i, inputs, lcl__element_double(call->dtype, device_out, i),
                       lcl__element_double(call->dtype, expected, i));
    }
    free(expected);
    return st;
}

lcl_status lcl__verify_end(const struct lcl__eltwise *call, const lcl_tensor *out, struct lcl__verify *v) {
    void *device_out = NULL;
    lcl_status st = lcl__verify_snapshot(out, &device_out);
    if (st == LCL_SUCCESS)
        st = lcl__verify_compare(call, v->sel, v->grad, device_out);
    free(device_out);
    lcl__verify_discard(v);
    return st;
}
