/* AVX2 (and F16C) kernels of the sign mask for the CPU backend; see x86.h. The lanes
 * compute what the portable loops do: the IEEE compare and multiply, F16C's round to nearest
 * even (subnormals kept), bf16's round to nearest even on the low 16 bits. The mask bits come
 * from the compare lanes by movemask; a 16-bit type's compare lanes are first packed to bytes. */
#define LCL__X86_SIMD 1
#include "x86.h"

#if defined(LCL__HAVE_X86_KERNELS)

LCL__INLINE LCL__AVX2 void store_ps(float *p, __m256 v, bool stream) {
    if (stream)
        _mm256_stream_ps(p, v);
    else
        _mm256_storeu_ps(p, v);
}

LCL__INLINE LCL__AVX2 void store_pd(double *p, __m256d v, bool stream) {
    if (stream)
        _mm256_stream_pd(p, v);
    else
        _mm256_storeu_pd(p, v);
}

LCL__INLINE void store_word(uint32_t *p, uint32_t bits, bool stream) {
    if (stream)
        _mm_stream_si32((int *)p, (int)bits);
    else
        *p = bits;
}

/* The 16-bit lanes of two compare results (-1 or 0), 16 each, as 32 bits in element order. */
LCL__INLINE LCL__AVX2 uint32_t movemask_epi16x2(__m256i lo, __m256i hi) {
    /* packs works within 128-bit halves: lo0 hi0 lo1 hi1; the permute restores lo0 lo1 hi0 hi1. */
    __m256i bytes = _mm256_permute4x64_epi64(_mm256_packs_epi16(lo, hi), 0xd8);
    return (uint32_t)_mm256_movemask_epi8(bytes);
}

/* Lanes where bit j of `bits` is set, for 16-bit lanes (bits 0-15) and 32/64-bit ones. */
LCL__INLINE LCL__AVX2 __m256i bits_epi16(uint32_t bits) {
    const __m256i lane =
        _mm256_setr_epi16(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, (short)0x8000);
    return _mm256_cmpeq_epi16(_mm256_and_si256(_mm256_set1_epi16((short)(bits & 0xffffu)), lane), lane);
}
LCL__INLINE LCL__AVX2 __m256 bits_ps(uint32_t bits) {
    const __m256i lane = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_castsi256_ps(
        _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)(bits & 0xffu)), lane), lane));
}
LCL__INLINE LCL__AVX2 __m256d bits_pd(uint32_t bits) {
    const __m256i lane = _mm256_setr_epi64x(1, 2, 4, 8);
    return _mm256_castsi256_pd(
        _mm256_cmpeq_epi64(_mm256_and_si256(_mm256_set1_epi64x((long long)(bits & 0xfu)), lane), lane));
}

/* ---- bf16 and f16 helpers ------------------------------------------------------------------ */

/* alpha * v for 16 bf16s, rounded to nearest even back to bf16 (x86.h says why a NaN needs no care). */
LCL__INLINE LCL__AVX2 __m256i bf16_scaled(__m256i raw, __m256 a) {
    __m256i even = _mm256_castps_si256(_mm256_mul_ps(a, lcl__bf16_even(raw)));
    __m256i odd = _mm256_castps_si256(_mm256_mul_ps(a, lcl__bf16_odd(raw)));
    return lcl__bf16_round(even, odd);
}
/* Where the 16-bit patterns are > 0 as numbers: 0 < b <= inf's pattern, as signed integers. */
LCL__INLINE LCL__AVX2 __m256i positive_epi16(__m256i b, short inf) {
    return _mm256_andnot_si256(_mm256_cmpgt_epi16(b, _mm256_set1_epi16(inf)),
                               _mm256_cmpgt_epi16(b, _mm256_setzero_si256()));
}
/* alpha * v for 16 f16s through fp32, rounded to nearest even back to f16. */
LCL__INLINE LCL__AVX2_F16C __m256i f16_scaled(__m256i raw, __m256 a) {
    __m256 lo = _mm256_mul_ps(a, _mm256_cvtph_ps(_mm256_castsi256_si128(raw)));
    __m256 hi = _mm256_mul_ps(a, _mm256_cvtph_ps(_mm256_extracti128_si256(raw, 1)));
    __m128i l = _mm256_cvtps_ph(lo, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m128i h = _mm256_cvtps_ph(hi, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm256_inserti128_si256(_mm256_castsi128_si256(l), h, 1);
}

/* ---- forward: y and the mask, a word (32 elements) per iteration --------------------------- */

LCL__AVX2 void lcl__mask_forward_f32_avx2(size_t w0, size_t w1, double alpha, const void *x, void *y, uint32_t *mask,
                                          bool stream) {
    const __m256 a = _mm256_set1_ps((float)alpha), zero = _mm256_setzero_ps();
    for (size_t w = w0; w < w1; ++w) {
        const float *xw = (const float *)x + 32 * w;
        float *yw = (float *)y + 32 * w;
        _mm_prefetch((const char *)xw + LCL__PREFETCH_AHEAD, _MM_HINT_T0);
        _mm_prefetch((const char *)xw + LCL__PREFETCH_AHEAD + 64, _MM_HINT_T0);
        uint32_t bits = 0;
        for (int q = 0; q < 4; ++q) {
            __m256 v = _mm256_loadu_ps(xw + 8 * q);
            __m256 positive = _mm256_cmp_ps(v, zero, _CMP_GT_OQ);
            store_ps(yw + 8 * q, _mm256_blendv_ps(_mm256_mul_ps(a, v), v, positive), stream);
            bits |= (uint32_t)_mm256_movemask_ps(positive) << (8 * q);
        }
        store_word(mask + w, bits, stream);
    }
    if (stream)
        _mm_sfence();
}

LCL__AVX2 void lcl__mask_forward_f64_avx2(size_t w0, size_t w1, double alpha, const void *x, void *y, uint32_t *mask,
                                          bool stream) {
    const __m256d a = _mm256_set1_pd(alpha), zero = _mm256_setzero_pd();
    for (size_t w = w0; w < w1; ++w) {
        const double *xw = (const double *)x + 32 * w;
        double *yw = (double *)y + 32 * w;
        for (int line = 0; line < 4; ++line)
            _mm_prefetch((const char *)xw + LCL__PREFETCH_AHEAD + 64 * line, _MM_HINT_T0);
        uint32_t bits = 0;
        for (int q = 0; q < 8; ++q) {
            __m256d v = _mm256_loadu_pd(xw + 4 * q);
            __m256d positive = _mm256_cmp_pd(v, zero, _CMP_GT_OQ);
            store_pd(yw + 4 * q, _mm256_blendv_pd(_mm256_mul_pd(a, v), v, positive), stream);
            bits |= (uint32_t)_mm256_movemask_pd(positive) << (4 * q);
        }
        store_word(mask + w, bits, stream);
    }
    if (stream)
        _mm_sfence();
}

LCL__AVX2 void lcl__mask_forward_bf16_avx2(size_t w0, size_t w1, double alpha, const void *x, void *y, uint32_t *mask,
                                           bool stream) {
    const __m256 a = _mm256_set1_ps((float)alpha);
    for (size_t w = w0; w < w1; ++w) {
        const char *xw = (const char *)x + 64 * w;
        char *yw = (char *)y + 64 * w;
        _mm_prefetch(xw + LCL__PREFETCH_AHEAD, _MM_HINT_T0);
        __m256i r0 = _mm256_loadu_si256((const __m256i *)xw), r1 = _mm256_loadu_si256((const __m256i *)(xw + 32));
        __m256i p0 = positive_epi16(r0, 0x7f80), p1 = positive_epi16(r1, 0x7f80);
        lcl__store_si256(yw, _mm256_blendv_epi8(bf16_scaled(r0, a), r0, p0), stream);
        lcl__store_si256(yw + 32, _mm256_blendv_epi8(bf16_scaled(r1, a), r1, p1), stream);
        store_word(mask + w, movemask_epi16x2(p0, p1), stream);
    }
    if (stream)
        _mm_sfence();
}

LCL__AVX2_F16C void lcl__mask_forward_f16_avx2(size_t w0, size_t w1, double alpha, const void *x, void *y,
                                               uint32_t *mask, bool stream) {
    const __m256 a = _mm256_set1_ps((float)alpha);
    for (size_t w = w0; w < w1; ++w) {
        const char *xw = (const char *)x + 64 * w;
        char *yw = (char *)y + 64 * w;
        _mm_prefetch(xw + LCL__PREFETCH_AHEAD, _MM_HINT_T0);
        __m256i r0 = _mm256_loadu_si256((const __m256i *)xw), r1 = _mm256_loadu_si256((const __m256i *)(xw + 32));
        __m256i p0 = positive_epi16(r0, 0x7c00), p1 = positive_epi16(r1, 0x7c00);
        lcl__store_si256(yw, _mm256_blendv_epi8(f16_scaled(r0, a), r0, p0), stream);
        lcl__store_si256(yw + 32, _mm256_blendv_epi8(f16_scaled(r1, a), r1, p1), stream);
        store_word(mask + w, movemask_epi16x2(p0, p1), stream);
    }
    if (stream)
        _mm_sfence();
}

/* ---- backward: dx from the mask and dy ------------------------------------------------------ */

LCL__AVX2 void lcl__mask_backward_f32_avx2(size_t w0, size_t w1, double alpha, const uint32_t *mask, const void *dy,
                                           void *dx, bool stream) {
    const __m256 a = _mm256_set1_ps((float)alpha);
    for (size_t w = w0; w < w1; ++w) {
        const float *gw = (const float *)dy + 32 * w;
        float *dw = (float *)dx + 32 * w;
        _mm_prefetch((const char *)gw + LCL__PREFETCH_AHEAD, _MM_HINT_T0);
        _mm_prefetch((const char *)gw + LCL__PREFETCH_AHEAD + 64, _MM_HINT_T0);
        uint32_t bits = mask[w];
        for (int q = 0; q < 4; ++q) {
            __m256 g = _mm256_loadu_ps(gw + 8 * q);
            store_ps(dw + 8 * q, _mm256_blendv_ps(_mm256_mul_ps(a, g), g, bits_ps(bits >> (8 * q))), stream);
        }
    }
    if (stream)
        _mm_sfence();
}

LCL__AVX2 void lcl__mask_backward_f64_avx2(size_t w0, size_t w1, double alpha, const uint32_t *mask, const void *dy,
                                           void *dx, bool stream) {
    const __m256d a = _mm256_set1_pd(alpha);
    for (size_t w = w0; w < w1; ++w) {
        const double *gw = (const double *)dy + 32 * w;
        double *dw = (double *)dx + 32 * w;
        for (int line = 0; line < 4; ++line)
            _mm_prefetch((const char *)gw + LCL__PREFETCH_AHEAD + 64 * line, _MM_HINT_T0);
        uint32_t bits = mask[w];
        for (int q = 0; q < 8; ++q) {
            __m256d g = _mm256_loadu_pd(gw + 4 * q);
            store_pd(dw + 4 * q, _mm256_blendv_pd(_mm256_mul_pd(a, g), g, bits_pd(bits >> (4 * q))), stream);
        }
    }
    if (stream)
        _mm_sfence();
}

LCL__AVX2 void lcl__mask_backward_bf16_avx2(size_t w0, size_t w1, double alpha, const uint32_t *mask, const void *dy,
                                            void *dx, bool stream) {
    const __m256 a = _mm256_set1_ps((float)alpha);
    for (size_t w = w0; w < w1; ++w) {
        const char *gw = (const char *)dy + 64 * w;
        char *dw = (char *)dx + 64 * w;
        _mm_prefetch(gw + LCL__PREFETCH_AHEAD, _MM_HINT_T0);
        uint32_t bits = mask[w];
        __m256i g0 = _mm256_loadu_si256((const __m256i *)gw), g1 = _mm256_loadu_si256((const __m256i *)(gw + 32));
        lcl__store_si256(dw, _mm256_blendv_epi8(bf16_scaled(g0, a), g0, bits_epi16(bits)), stream);
        lcl__store_si256(dw + 32, _mm256_blendv_epi8(bf16_scaled(g1, a), g1, bits_epi16(bits >> 16)), stream);
    }
    if (stream)
        _mm_sfence();
}

LCL__AVX2_F16C void lcl__mask_backward_f16_avx2(size_t w0, size_t w1, double alpha, const uint32_t *mask,
                                                const void *dy, void *dx, bool stream) {
    const __m256 a = _mm256_set1_ps((float)alpha);
    for (size_t w = w0; w < w1; ++w) {
        const char *gw = (const char *)dy + 64 * w;
        char *dw = (char *)dx + 64 * w;
        _mm_prefetch(gw + LCL__PREFETCH_AHEAD, _MM_HINT_T0);
        uint32_t bits = mask[w];
        __m256i g0 = _mm256_loadu_si256((const __m256i *)gw), g1 = _mm256_loadu_si256((const __m256i *)(gw + 32));
        lcl__store_si256(dw, _mm256_blendv_epi8(f16_scaled(g0, a), g0, bits_epi16(bits)), stream);
        lcl__store_si256(dw + 32, _mm256_blendv_epi8(f16_scaled(g1, a), g1, bits_epi16(bits >> 16)), stream);
    }
    if (stream)
        _mm_sfence();
}

#endif /* LCL__HAVE_X86_KERNELS */
