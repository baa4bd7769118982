/* What the harness checks after every call: the promises of leakycl.h that hold whatever the
 * arguments are. A finding aborts, which both libFuzzer and the replay report. */
#include "fuzz.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fz_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("leakycl fuzz finding: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

void fz_before(fz_state *s, fz_snapshot *snap) {
    memset(snap->tensor, 0, sizeof snap->tensor);
    for (size_t i = 0; i < s->count; ++i) {
        size_t bytes = lcl_tensor_bytes(s->pool[i]);
        snap->bytes[i] = bytes;
        snap->tensor[i] = malloc(bytes ? bytes : 1);
        if (!snap->tensor[i])
            fz_fail("harness out of memory");
        lcl_status st = lcl_tensor_read(s->pool[i], snap->tensor[i]);
        if (st != LCL_SUCCESS)
            fz_fail("lcl_tensor_read of pool tensor %zu: %s: %s", i, lcl_status_string(st), lcl_last_error());
    }
    memcpy(snap->host, s->host, sizeof snap->host);
}

void fz_snapshot_free(fz_snapshot *snap) {
    for (size_t i = 0; i < FZ_MAX_TENSORS; ++i)
        free(snap->tensor[i]);
    memset(snap->tensor, 0, sizeof snap->tensor);
}

/* A rejected call wrote nothing: every tensor and the host arrays are as before. */
static void check_unchanged(fz_state *s, const fz_snapshot *snap, const char *call) {
    for (size_t i = 0; i < s->count; ++i) {
        void *now = malloc(snap->bytes[i] ? snap->bytes[i] : 1);
        if (!now)
            fz_fail("harness out of memory");
        lcl_status st = lcl_tensor_read(s->pool[i], now);
        if (st != LCL_SUCCESS)
            fz_fail("after %s: lcl_tensor_read of pool tensor %zu: %s", call, i, lcl_last_error());
        if (memcmp(now, snap->tensor[i], snap->bytes[i]) != 0)
            fz_fail("%s was rejected (%s) but changed pool tensor %zu", call, lcl_last_error(), i);
        free(now);
    }
    if (memcmp(s->host, snap->host, sizeof snap->host) != 0)
        fz_fail("%s was rejected (%s) but changed a host array", call, lcl_last_error());
}

void fz_after(fz_state *s, fz_snapshot *snap, lcl_status status, const char *call) {
    if ((unsigned)status > (unsigned)LCL_ERROR_BLAS)
        fz_fail("%s returned %d, not a lcl_status", call, (int)status);
    if (status != LCL_SUCCESS && lcl_last_error()[0] == '\0')
        fz_fail("%s returned %s with an empty lcl_last_error()", call, lcl_status_string(status));
    if (status == LCL_ERROR_INVALID_ARGUMENT || status == LCL_ERROR_UNSUPPORTED)
        check_unchanged(s, snap, call);
    else if (status != LCL_SUCCESS)
        /* Nothing here is large, and PoCL does not fail: any other failure is a bug. */
        fz_fail("%s returned %s: %s", call, lcl_status_string(status), lcl_last_error());
}

/* ---- the reference for f32, bf16 and f64 ----------------------------------------------------- */

static float f32_of(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static uint32_t bits_of_f32(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

static uint16_t bf16_round(float f) {
    uint32_t bits = bits_of_f32(f);
    if (isnan(f))
        return (uint16_t)(bits >> 16 | 0x40);
    return (uint16_t)((bits + 0x7fff + (bits >> 16 & 1)) >> 16);
}

/* Host arrays on OpenCL may sit at any byte: every access goes through memcpy. */
static float load(lcl_dtype dtype, const void *a, size_t i) {
    if (dtype == LCL_BF16) {
        uint16_t h;
        memcpy(&h, (const char *)a + 2 * i, sizeof h);
        return f32_of((uint32_t)h << 16);
    }
    float f;
    memcpy(&f, (const char *)a + 4 * i, sizeof f);
    return f;
}

static void store(lcl_dtype dtype, void *a, size_t i, float v) {
    if (dtype == LCL_BF16) {
        uint16_t h = bf16_round(v);
        memcpy((char *)a + 2 * i, &h, sizeof h);
    } else {
        memcpy((char *)a + 4 * i, &v, sizeof v);
    }
}

static double load64(const void *a, size_t i) {
    double d;
    memcpy(&d, (const char *)a + 8 * i, sizeof d);
    return d;
}

int fz_reference(lcl_dtype dtype, double alpha, size_t n, const void *sel, const void *grad, void *out) {
    if (dtype == LCL_F64) {
        for (size_t i = 0; i < n; ++i) {
            double x = load64(sel, i);
            double v = grad ? load64(grad, i) : x;
            double r = x > 0 ? v : alpha * v;
            memcpy((char *)out + 8 * i, &r, sizeof r);
        }
        return 1;
    }
    if (dtype != LCL_F32 && dtype != LCL_BF16)
        return 0;
    volatile float a = (float)alpha; /* rounded once, as the contract says, never fused */
    for (size_t i = 0; i < n; ++i) {
        float x = load(dtype, sel, i);
        if (x > 0) {
            /* The pass-through branch copies the bits, NaN payloads included. */
            size_t bytes = lcl_dtype_size(dtype);
            memcpy((char *)out + i * bytes, (const char *)(grad ? grad : sel) + i * bytes, bytes);
            continue;
        }
        volatile float product = a * (grad ? load(dtype, grad, i) : x);
        store(dtype, out, i, product);
    }
    return 1;
}

static int is_nan_bits(lcl_dtype dtype, const void *a, size_t i) {
    uint16_t h;
    switch (dtype) {
    case LCL_F64:
        return isnan(load64(a, i));
    case LCL_F32:
        return isnan(load(LCL_F32, a, i));
    default:
        memcpy(&h, (const char *)a + 2 * i, sizeof h);
        return (h & 0x7fff) > (dtype == LCL_BF16 ? 0x7f80 : 0x7c00);
    }
}

size_t fz_first_difference(lcl_dtype dtype, const void *a, const void *b, size_t n) {
    size_t bytes = lcl_dtype_size(dtype);
    for (size_t i = 0; i < n; ++i) {
        if (memcmp((const char *)a + i * bytes, (const char *)b + i * bytes, bytes) == 0)
            continue;
        if (!(is_nan_bits(dtype, a, i) && is_nan_bits(dtype, b, i)))
            return i;
    }
    return n;
}
