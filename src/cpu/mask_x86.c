/* AVX2 (and F16C) kernels of the sign mask for the CPU backend; see x86.h. The lanes
 * compute what the portable loops do: the IEEE compare and multiply, F16C's round to nearest
 * even (subnormals kept), bf16's round to nearest even on the low 16 bits. The mask bits come
 * from the compare lanes by movemask; a 16-bit type's compare lanes are first packed to bytes. */
#define LCL__X86_SIMD 1
#include "x86.h"

#if defined(LCL__HAVE_X86_KERNELS)

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

typedef __m256i scaled_epi16_fn(__m256i raw, __m256 a);

/* alpha * v for 16 bf16s, rounded to nearest even back to bf16 (x86.h says why a NaN needs no care). */
LCL__INLINE LCL__AVX2 __m256i bf16_scaled(__m256i raw, __m256 a) {
    __m256i even = _mm256_castps_si256(_mm256_mul_ps(a, lcl__bf16_even(raw)));
    __m256i odd = _mm256_castps_si256(_mm256_mul_ps(a, lcl__bf16_odd(raw)));
    return lcl__bf16_round(even, odd);
}
/* alpha * v for 16 f16s through fp32, rounded to nearest even back to f16. */
LCL__INLINE LCL__AVX2_F16C __m256i f16_scaled(__m256i raw, __m256 a) {
    __m256 lo = _mm256_mul_ps(a, _mm256_cvtph_ps(_mm256_castsi256_si128(raw)));
    __m256 hi = _mm256_mul_ps(a, _mm256_cvtph_ps(_mm256_extracti128_si256(raw, 1)));
    __m128i l = _mm256_cvtps_ph(lo, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m128i h = _mm256_cvtps_ph(hi, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm256_inserti128_si256(_mm256_castsi128_si256(l), h, 1);
}
/* Where the 16-bit patterns are > 0 as numbers: 0 < b <= inf's pattern, as signed integers. */
LCL__INLINE LCL__AVX2 __m256i positive_epi16(__m256i b, short inf) {
    return _mm256_andnot_si256(_mm256_cmpgt_epi16(b, _mm256_set1_epi16(inf)),
                               _mm256_cmpgt_epi16(b, _mm256_setzero_si256()));
}

/* ---- one 64-byte line of input per call: the forward returns its 64 / size mask bits, the
 * backward takes them in its low bits ---------------------------------------------------------- */

typedef uint32_t forward_line_fn(const char *x, char *y, double alpha, bool stream);
typedef void backward_line_fn(const char *dy, char *dx, uint32_t bits, double alpha, bool stream);

LCL__INLINE LCL__AVX2 uint32_t forward_line_f32(const char *x, char *y, double alpha, bool stream) {
    const __m256 a = _mm256_set1_ps((float)alpha), zero = _mm256_setzero_ps();
    uint32_t bits = 0;
    for (int q = 0; q < 2; ++q) {
        __m256 v = _mm256_loadu_ps((const float *)(x + 32 * q));
        __m256 positive = _mm256_cmp_ps(v, zero, _CMP_GT_OQ);
        lcl__store_si256(y + 32 * q, _mm256_castps_si256(_mm256_blendv_ps(_mm256_mul_ps(a, v), v, positive)), stream);
        bits |= (uint32_t)_mm256_movemask_ps(positive) << (8 * q);
    }
    return bits;
}
LCL__INLINE LCL__AVX2 uint32_t forward_line_f64(const char *x, char *y, double alpha, bool stream) {
    const __m256d a = _mm256_set1_pd(alpha), zero = _mm256_setzero_pd();
    uint32_t bits = 0;
    for (int q = 0; q < 2; ++q) {
        __m256d v = _mm256_loadu_pd((const double *)(x + 32 * q));
        __m256d positive = _mm256_cmp_pd(v, zero, _CMP_GT_OQ);
        lcl__store_si256(y + 32 * q, _mm256_castpd_si256(_mm256_blendv_pd(_mm256_mul_pd(a, v), v, positive)), stream);
        bits |= (uint32_t)_mm256_movemask_pd(positive) << (4 * q);
    }
    return bits;
}
/* The 16-bit types: `inf` is the type's infinity pattern, `scaled` its alpha * v. */
LCL__INLINE LCL__AVX2 uint32_t forward_line_epi16(scaled_epi16_fn *scaled, short inf, const char *x, char *y,
                                                  double alpha, bool stream) {
    const __m256 a = _mm256_set1_ps((float)alpha);
    __m256i r0 = _mm256_loadu_si256((const __m256i *)x), r1 = _mm256_loadu_si256((const __m256i *)(x + 32));
    __m256i p0 = positive_epi16(r0, inf), p1 = positive_epi16(r1, inf);
    lcl__store_si256(y, _mm256_blendv_epi8(scaled(r0, a), r0, p0), stream);
    lcl__store_si256(y + 32, _mm256_blendv_epi8(scaled(r1, a), r1, p1), stream);
    return movemask_epi16x2(p0, p1);
}
LCL__INLINE LCL__AVX2 uint32_t forward_line_bf16(const char *x, char *y, double alpha, bool stream) {
    return forward_line_epi16(bf16_scaled, 0x7f80, x, y, alpha, stream);
}
LCL__INLINE LCL__AVX2_F16C uint32_t forward_line_f16(const char *x, char *y, double alpha, bool stream) {
    return forward_line_epi16(f16_scaled, 0x7c00, x, y, alpha, stream);
}

LCL__INLINE LCL__AVX2 void backward_line_f32(const char *dy, char *dx, uint32_t bits, double alpha, bool stream) {
    const __m256 a = _mm256_set1_ps((float)alpha);
    for (int q = 0; q < 2; ++q) {
        __m256 g = _mm256_loadu_ps((const float *)(dy + 32 * q));
        __m256 pass = bits_ps(bits >> (8 * q));
        lcl__store_si256(dx + 32 * q, _mm256_castps_si256(_mm256_blendv_ps(_mm256_mul_ps(a, g), g, pass)), stream);
    }
}
LCL__INLINE LCL__AVX2 void backward_line_f64(const char *dy, char *dx, uint32_t bits, double alpha, bool stream) {
    const __m256d a = _mm256_set1_pd(alpha);
    for (int q = 0; q < 2; ++q) {
        __m256d g = _mm256_loadu_pd((const double *)(dy + 32 * q));
        __m256d pass = bits_pd(bits >> (4 * q));
        lcl__store_si256(dx + 32 * q, _mm256_castpd_si256(_mm256_blendv_pd(_mm256_mul_pd(a, g), g, pass)), stream);
    }
}
LCL__INLINE LCL__AVX2 void backward_line_epi16(scaled_epi16_fn *scaled, const char *dy, char *dx, uint32_t bits,
                                               double alpha, bool stream) {
    const __m256 a = _mm256_set1_ps((float)alpha);
    __m256i g0 = _mm256_loadu_si256((const __m256i *)dy), g1 = _mm256_loadu_si256((const __m256i *)(dy + 32));
    lcl__store_si256(dx, _mm256_blendv_epi8(scaled(g0, a), g0, bits_epi16(bits)), stream);
    lcl__store_si256(dx + 32, _mm256_blendv_epi8(scaled(g1, a), g1, bits_epi16(bits >> 16)), stream);
}
LCL__INLINE LCL__AVX2 void backward_line_bf16(const char *dy, char *dx, uint32_t bits, double alpha, bool stream) {
    backward_line_epi16(bf16_scaled, dy, dx, bits, alpha, stream);
}
LCL__INLINE LCL__AVX2_F16C void backward_line_f16(const char *dy, char *dx, uint32_t bits, double alpha, bool stream) {
    backward_line_epi16(f16_scaled, dy, dx, bits, alpha, stream);
}

/* ---- the kernels: a word (32 elements, size / 2 lines) per iteration -------------------------- */

LCL__INLINE void forward_words(forward_line_fn *line, size_t size, size_t w0, size_t w1, double alpha, const void *x,
                               void *y, uint32_t *mask, bool stream) {
    for (size_t w = w0; w < w1; ++w) {
        const char *xw = (const char *)x + 32 * size * w;
        char *yw = (char *)y + 32 * size * w;
        uint32_t bits = 0;
        for (size_t l = 0; l < size / 2; ++l) {
            _mm_prefetch(xw + 64 * l + LCL__PREFETCH_AHEAD, _MM_HINT_T0);
            bits |= line(xw + 64 * l, yw + 64 * l, alpha, stream) << (64 / size * l);
        }
        store_word(mask + w, bits, stream);
    }
    if (stream)
        _mm_sfence();
}

LCL__INLINE void backward_words(backward_line_fn *line, size_t size, size_t w0, size_t w1, double alpha,
                                const uint32_t *mask, const void *dy, void *dx, bool stream) {
    for (size_t w = w0; w < w1; ++w) {
        const char *gw = (const char *)dy + 32 * size * w;
        char *dw = (char *)dx + 32 * size * w;
        uint32_t bits = mask[w];
        for (size_t l = 0; l < size / 2; ++l) {
            _mm_prefetch(gw + 64 * l + LCL__PREFETCH_AHEAD, _MM_HINT_T0);
            line(gw + 64 * l, dw + 64 * l, bits >> (64 / size * l), alpha, stream);
        }
    }
    if (stream)
        _mm_sfence();
}

LCL__AVX2 void lcl__mask_forward_f32_avx2(size_t w0, size_t w1, double alpha, const void *x, void *y, uint32_t *mask,
                                          bool stream) {
    forward_words(forward_line_f32, 4, w0, w1, alpha, x, y, mask, stream);
}
LCL__AVX2 void lcl__mask_forward_f64_avx2(size_t w0, size_t w1, double alpha, const void *x, void *y, uint32_t *mask,
                                          bool stream) {
    forward_words(forward_line_f64, 8, w0, w1, alpha, x, y, mask, stream);
}
LCL__AVX2 void lcl__mask_forward_bf16_avx2(size_t w0, size_t w1, double alpha, const void *x, void *y, uint32_t *mask,
                                           bool stream) {
    forward_words(forward_line_bf16, 2, w0, w1, alpha, x, y, mask, stream);
}
LCL__AVX2_F16C void lcl__mask_forward_f16_avx2(size_t w0, size_t w1, double alpha, const void *x, void *y,
                                               uint32_t *mask, bool stream) {
    forward_words(forward_line_f16, 2, w0, w1, alpha, x, y, mask, stream);
}

LCL__AVX2 void lcl__mask_backward_f32_avx2(size_t w0, size_t w1, double alpha, const uint32_t *mask, const void *dy,
                                           void *dx, bool stream) {
    backward_words(backward_line_f32, 4, w0, w1, alpha, mask, dy, dx, stream);
}
LCL__AVX2 void lcl__mask_backward_f64_avx2(size_t w0, size_t w1, double alpha, const uint32_t *mask, const void *dy,
                                           void *dx, bool stream) {
    backward_words(backward_line_f64, 8, w0, w1, alpha, mask, dy, dx, stream);
}
LCL__AVX2 void lcl__mask_backward_bf16_avx2(size_t w0, size_t w1, double alpha, const uint32_t *mask, const void *dy,
                                            void *dx, bool stream) {
    backward_words(backward_line_bf16, 2, w0, w1, alpha, mask, dy, dx, stream);
}
LCL__AVX2_F16C void lcl__mask_backward_f16_avx2(size_t w0, size_t w1, double alpha, const uint32_t *mask,
                                                const void *dy, void *dx, bool stream) {
    backward_words(backward_line_f16, 2, w0, w1, alpha, mask, dy, dx, stream);
}

#endif /* LCL__HAVE_X86_KERNELS */
