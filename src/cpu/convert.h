/* Storage-type conversions for the CPU backend, bit-identical to the kernels' vload_half,
 * vstore_half_rte and bf16 rounding. Written without branches on data so loops over them
 * vectorise; they rely on the default rounding mode and on subnormals not being flushed. */
#ifndef LEAKYCL_CONVERT_H
#define LEAKYCL_CONVERT_H

#include <stdint.h>
#include <string.h>

static inline uint32_t lcl__f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float lcl__f32_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline float lcl__half_to_float_inline(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t magnitude = (uint32_t)(h & 0x7fffu) << 13; /* exponent and mantissa in float position */
    uint32_t exponent = magnitude & 0x0f800000u;
    float normal = lcl__f32_from_bits(magnitude + ((127u - 15u) << 23));
    float special = lcl__f32_from_bits(magnitude + ((255u - 31u) << 23)); /* inf and NaN */
    /* A subnormal half is its mantissa times 2^-24: exact in float. */
    float subnormal = (float)(h & 0x3ffu) * 0x1p-24f;
    float value = exponent == 0x0f800000u ? special : exponent == 0 ? subnormal : normal;
    return lcl__f32_from_bits(lcl__f32_bits(value) | sign);
}

static inline uint16_t lcl__float_to_half_inline(float f) {
    uint32_t u = lcl__f32_bits(f);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t a = u & 0x7fffffffu;
    /* Normal range: drop 13 mantissa bits rounding to nearest even; a carry into the exponent
     * is the correct result, including rounding past 65504 into infinity. */
    uint32_t normal = (a + ((uint32_t)(15 - 127) << 23) + 0xfffu + ((a >> 13) & 1u)) >> 13;
    /* Below 2^-14: adding 0.5 shifts the value into place and the FPU rounds it for us. */
    uint32_t subnormal = lcl__f32_bits(lcl__f32_from_bits(a) + 0.5f) - 0x3f000000u;
    uint32_t overflow = a > 0x7f800000u ? 0x7e00u : 0x7c00u; /* NaN stays NaN, else infinity */
    uint32_t h = a >= 0x47800000u ? overflow : a < 0x38800000u ? subnormal : normal;
    return (uint16_t)(h | sign);
}

static inline float lcl__bf16_to_float_inline(uint16_t b) { return lcl__f32_from_bits((uint32_t)b << 16); }

static inline uint16_t lcl__float_to_bf16_inline(float f) {
    uint32_t u = lcl__f32_bits(f);
    uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    uint32_t quiet_nan = (u >> 16) | 0x40u;
    return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? quiet_nan : rounded);
}

#endif /* LEAKYCL_CONVERT_H */
