/* The CPU backend's x86-64 kernels (eltwise_x86.c, mask_x86.c), picked at run time by eltwise.c
 * and mask.c, and the AVX2 helpers both share. */
#ifndef LEAKYCL_CPU_X86_H
#define LEAKYCL_CPU_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A per-block elementwise kernel: out[i] = op(sel[i], grad[i]) for i in [0, n) on one thread;
 * out may be the very array sel or grad is. With stream set, it may write out with non-temporal
 * stores (the caller sets it for outputs too large to stay in cache, in place or not) and
 * fences them before it returns. Pointers need no alignment beyond what the caller was given. */
typedef void lcl__cpu_block_fn(size_t n, double alpha, const void *sel, const void *grad, void *out, bool stream);

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LCL__HAVE_X86_KERNELS 1
/* Need AVX2 (eltwise.c checks at run time). */
lcl__cpu_block_fn lcl__forward_f32_avx2, lcl__backward_f32_avx2;
lcl__cpu_block_fn lcl__forward_f64_avx2, lcl__backward_f64_avx2;
lcl__cpu_block_fn lcl__forward_bf16_avx2, lcl__backward_bf16_avx2;
/* Need AVX2 and F16C. */
lcl__cpu_block_fn lcl__forward_f16_avx2, lcl__backward_f16_avx2;
/* Whether this CPU runs the AVX2 + F16C kernels (eltwise.c asks cpuid once; clang's
 * __builtin_cpu_supports does not know "f16c"). */
bool lcl__x86_has_f16c(void);

/* The sign mask's kernels: each does the whole words [w0, w1) of one thread, 32 elements and one
 * mask word at a time, bit for bit as mask.c's portable loops. With stream, y or dx (which the
 * caller has checked is 32-byte aligned at element 0) and the forward's mask words are written
 * with non-temporal stores, fenced before the kernel returns. Need AVX2 (the f16 ones F16C too). */
typedef void lcl__mask_forward_fn(size_t w0, size_t w1, double alpha, const void *x, void *y, uint32_t *mask,
                                  bool stream);
typedef void lcl__mask_backward_fn(size_t w0, size_t w1, double alpha, const uint32_t *mask, const void *dy, void *dx,
                                   bool stream);
lcl__mask_forward_fn lcl__mask_forward_f32_avx2, lcl__mask_forward_f64_avx2, lcl__mask_forward_bf16_avx2,
    lcl__mask_forward_f16_avx2;
lcl__mask_backward_fn lcl__mask_backward_f32_avx2, lcl__mask_backward_f64_avx2, lcl__mask_backward_bf16_avx2,
    lcl__mask_backward_f16_avx2;

#ifdef LCL__X86_SIMD
/* ---- the AVX2 helpers, for the two files that define LCL__X86_SIMD before including this ---- */
#include <immintrin.h>

#define LCL__AVX2 __attribute__((target("avx2")))
#define LCL__AVX2_F16C __attribute__((target("avx2,f16c")))
#ifndef LCL__INLINE /* as in cpu.h */
#define LCL__INLINE static inline __attribute__((always_inline))
#endif

/* How far ahead of the line being computed the inputs are prefetched, in bytes. Measured on a
 * 2-core AMD EPYC (Zen 1) VM at 2^27 elements: 1-4 KiB lifts fp16 forward from ~60% to ~90% of
 * a copy's bandwidth; from 2 to 8 KiB the differences were within the noise. The 16-bit types
 * do more work per byte and otherwise stall on their loads. */
#define LCL__PREFETCH_AHEAD 4096

LCL__INLINE LCL__AVX2 void lcl__store_si256(void *p, __m256i v, bool stream) {
    if (stream)
        _mm256_stream_si256((__m256i *)p, v);
    else
        _mm256_storeu_si256((__m256i *)p, v);
}

/* bf16 -> fp32 for the even and the odd 16-bit elements of a vector: a byte shuffle (cheaper
 * than a shift on AMD Zen) or a mask puts each on top of its 32-bit lane, its fp32 value. */
LCL__INLINE LCL__AVX2 __m256 lcl__bf16_even(__m256i raw) {
    const __m256i to_top = _mm256_setr_epi8(-1, -1, 0, 1, -1, -1, 4, 5, -1, -1, 8, 9, -1, -1, 12, 13, -1, -1, 0, 1, -1,
                                            -1, 4, 5, -1, -1, 8, 9, -1, -1, 12, 13);
    return _mm256_castsi256_ps(_mm256_shuffle_epi8(raw, to_top));
}
LCL__INLINE LCL__AVX2 __m256 lcl__bf16_odd(__m256i raw) {
    return _mm256_castsi256_ps(_mm256_and_si256(raw, _mm256_set1_epi32((int)0xffff0000u)));
}
/* The fp32 bits in the even and odd lanes rounded to nearest even into 16 bf16s, as
 * lcl__float_to_bf16_inline's (u + 0x7fff + ((u >> 16) & 1)) >> 16, but on 16-bit halves: the top
 * halves h (interleaved back into order), plus the carry out of low half l + lsb(h) + 0x7fff,
 * which is bit 15 of avg(l, 0x7ffe + lsb(h)) = (l + lsb(h) + 0x7fff) >> 1 (vpavgw adds in 17
 * bits). Fewer ops than in 32-bit lanes (bf16 forward +4% in L1), which counts on Zen 1 (see
 * eltwise_x86.c's line_bf16).
 * lcl__float_to_bf16_inline also makes a NaN quiet and keeps it from carrying into the sign;
 * not needed here, as only products alpha * g are rounded: an x86 multiply returns its NaN
 * operand with the quiet bit set (or the default NaN 0xffc00000 for 0 * inf), whose low half
 * is zero like g's, so it does not carry. */
LCL__INLINE LCL__AVX2 __m256i lcl__bf16_round(__m256i even, __m256i odd) {
    const __m256i to_bottom = _mm256_setr_epi8(2, 3, -1, -1, 6, 7, -1, -1, 10, 11, -1, -1, 14, 15, -1, -1, 2, 3, -1, -1,
                                               6, 7, -1, -1, 10, 11, -1, -1, 14, 15, -1, -1);
    __m256i h = _mm256_blend_epi16(_mm256_shuffle_epi8(even, to_bottom), odd, 0xaa);
    __m256i l = _mm256_blend_epi16(even, _mm256_slli_epi32(odd, 16), 0xaa);
    __m256i bias = _mm256_or_si256(_mm256_and_si256(h, _mm256_set1_epi16(1)), _mm256_set1_epi16(0x7ffe));
    __m256i carry = _mm256_cmpgt_epi16(_mm256_setzero_si256(), _mm256_avg_epu16(l, bias)); /* -1 or 0 */
    return _mm256_sub_epi16(h, carry);
}
#endif /* LCL__X86_SIMD */
#endif /* x86-64 */

#endif /* LEAKYCL_CPU_X86_H */
