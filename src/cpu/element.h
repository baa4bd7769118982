/* One element of each storage type for the CPU backend's portable loops (eltwise.c, mask.c): the
 * plain backend's arithmetic in the dtype's compute type (fp64 for f64, else fp32), rounded back
 * to storage. The loops take these as constant function pointers, which LCL__INLINE inlines. */
#ifndef LEAKYCL_CPU_ELEMENT_H
#define LEAKYCL_CPU_ELEMENT_H

#include "convert.h"

#include <stdbool.h>
#include <stddef.h>

/* y[i] = x[i] > 0 ? x[i] : alpha * x[i]; returns x[i] > 0 (the sign mask's bit). y may be x. One
 * function rather than lcl__leaky_fn's with lcl__positive_fn's answer: GCC does not merge the
 * two f16 conversions of x[i] that would take. */
typedef bool lcl__forward_fn(const void *x, void *y, size_t i, double alpha);
/* Whether element i of x is > 0 (false for a NaN). */
typedef bool lcl__positive_fn(const void *x, size_t i);
/* out[i] = pass ? g[i] : alpha * g[i]; out may be g. The product is computed either way, so that
 * the loops stay free of branches (the CPU sources build with -fno-trapping-math). */
typedef void lcl__leaky_fn(const void *g, void *out, size_t i, double alpha, bool pass);

static inline bool lcl__forward_f32(const void *x, void *y, size_t i, double alpha) {
    float v = ((const float *)x)[i], scaled = (float)alpha * v;
    ((float *)y)[i] = v > 0 ? v : scaled;
    return v > 0;
}
static inline bool lcl__forward_f64(const void *x, void *y, size_t i, double alpha) {
    double v = ((const double *)x)[i], scaled = alpha * v;
    ((double *)y)[i] = v > 0 ? v : scaled;
    return v > 0;
}
static inline bool lcl__forward_f16(const void *x, void *y, size_t i, double alpha) {
    float v = lcl__half_to_float_inline(((const uint16_t *)x)[i]), scaled = (float)alpha * v;
    ((uint16_t *)y)[i] = lcl__float_to_half_inline(v > 0 ? v : scaled);
    return v > 0;
}
static inline bool lcl__forward_bf16(const void *x, void *y, size_t i, double alpha) {
    float v = lcl__bf16_to_float_inline(((const uint16_t *)x)[i]), scaled = (float)alpha * v;
    ((uint16_t *)y)[i] = lcl__float_to_bf16_inline(v > 0 ? v : scaled);
    return v > 0;
}

static inline bool lcl__positive_f32(const void *x, size_t i) { return ((const float *)x)[i] > 0; }
static inline bool lcl__positive_f64(const void *x, size_t i) { return ((const double *)x)[i] > 0; }
static inline bool lcl__positive_f16(const void *x, size_t i) {
    return lcl__half_to_float_inline(((const uint16_t *)x)[i]) > 0;
}
static inline bool lcl__positive_bf16(const void *x, size_t i) {
    return lcl__bf16_to_float_inline(((const uint16_t *)x)[i]) > 0;
}

static inline void lcl__leaky_f32(const void *g, void *out, size_t i, double alpha, bool pass) {
    float v = ((const float *)g)[i], scaled = (float)alpha * v;
    ((float *)out)[i] = pass ? v : scaled;
}
static inline void lcl__leaky_f64(const void *g, void *out, size_t i, double alpha, bool pass) {
    double v = ((const double *)g)[i], scaled = alpha * v;
    ((double *)out)[i] = pass ? v : scaled;
}
static inline void lcl__leaky_f16(const void *g, void *out, size_t i, double alpha, bool pass) {
    float v = lcl__half_to_float_inline(((const uint16_t *)g)[i]), scaled = (float)alpha * v;
    ((uint16_t *)out)[i] = lcl__float_to_half_inline(pass ? v : scaled);
}
static inline void lcl__leaky_bf16(const void *g, void *out, size_t i, double alpha, bool pass) {
    float v = lcl__bf16_to_float_inline(((const uint16_t *)g)[i]), scaled = (float)alpha * v;
    ((uint16_t *)out)[i] = lcl__float_to_bf16_inline(pass ? v : scaled);
}

#endif /* LEAKYCL_CPU_ELEMENT_H */
