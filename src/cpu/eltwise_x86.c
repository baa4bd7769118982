/* x86-64 kernels for the CPU backend: AVX2 (and F16C for fp16), chosen at run time by eltwise.c,
 * so the library still runs on any x86-64. Bit-identical to the portable loops in eltwise.c: the
 * multiply and the compare are the scalar IEEE ones lane by lane, F16C's conversions round to
 * nearest even and keep subnormals like lcl__float_to_half_inline, and bf16 rounds as
 * lcl__float_to_bf16_inline does (a NaN stays a NaN; its payload may differ, which the contract
 * leaves open).
 *
 * Each kernel handles one thread's block: a scalar head until the output is 64-byte aligned,
 * a vector loop writing one 64-byte line per iteration, and a scalar tail. Loads are unaligned;
 * inputs need not share the output's alignment. The vector loop prefetches its inputs a few
 * KiB ahead: with only the hardware prefetchers, the fp16/bf16 loops (more work per byte) fell
 * to ~60% of copy bandwidth on AMD Zen, stalling on loads instead of overlapping them. With
 * `stream` it writes whole lines with non-temporal stores and fences them at the end. */
#define LCL__X86_SIMD 1
#include "x86.h"

#if defined(LCL__HAVE_X86_KERNELS)

#include "convert.h"

#include <stdint.h>
#include <string.h>

#define LCL__LINE 64

/* Elements before out reaches a line boundary (at most n); 0 if out is not even aligned to its
 * element size, in which case the caller must not stream. */
static inline size_t head_count(const void *out, size_t size, size_t n) {
    uintptr_t a = (uintptr_t)out;
    if (a % size != 0)
        return 0;
    size_t head = ((LCL__LINE - a % LCL__LINE) % LCL__LINE) / size;
    return head < n ? head : n;
}

/* ---- scalar element ops (heads and tails), via memcpy so no alignment is assumed ---------- */

static inline float load_f32(const void *p, size_t i) {
    float v;
    memcpy(&v, (const char *)p + i * sizeof v, sizeof v);
    return v;
}
static inline void store_f32(void *p, size_t i, float v) { memcpy((char *)p + i * sizeof v, &v, sizeof v); }
static inline double load_f64(const void *p, size_t i) {
    double v;
    memcpy(&v, (const char *)p + i * sizeof v, sizeof v);
    return v;
}
static inline void store_f64(void *p, size_t i, double v) { memcpy((char *)p + i * sizeof v, &v, sizeof v); }
static inline uint16_t load_u16(const void *p, size_t i) {
    uint16_t v;
    memcpy(&v, (const char *)p + i * sizeof v, sizeof v);
    return v;
}
static inline void store_u16(void *p, size_t i, uint16_t v) { memcpy((char *)p + i * sizeof v, &v, sizeof v); }

static inline float select_f32(float s, float pass, float alpha) {
    float scaled = alpha * pass;
    return s > 0 ? pass : scaled;
}
static inline double select_f64(double s, double pass, double alpha) {
    double scaled = alpha * pass;
    return s > 0 ? pass : scaled;
}

/* ---- vector element ops ---------------------------------------------------------------------- */

/* Lane by lane: s > 0 ? pass : alpha * pass (NaN > 0 is false, as in C). */
LCL__INLINE LCL__AVX2 __m256 select_ps(__m256 s, __m256 pass, __m256 alpha) {
    __m256 scaled = _mm256_mul_ps(alpha, pass);
    __m256 positive = _mm256_cmp_ps(s, _mm256_setzero_ps(), _CMP_GT_OQ);
    return _mm256_blendv_ps(scaled, pass, positive);
}
LCL__INLINE LCL__AVX2 __m256d select_pd(__m256d s, __m256d pass, __m256d alpha) {
    __m256d scaled = _mm256_mul_pd(alpha, pass);
    __m256d positive = _mm256_cmp_pd(s, _mm256_setzero_pd(), _CMP_GT_OQ);
    return _mm256_blendv_pd(scaled, pass, positive);
}

/* NTA: the inputs are read once; keeps them from pushing other data out of L2 and L3, and
 * measured a few percent faster than T0 for fp32/fp64 at 2^27 elements. */
LCL__INLINE void prefetch_inputs(const char *s, const char *g, bool backward) {
    _mm_prefetch(s, _MM_HINT_NTA);
    if (backward)
        _mm_prefetch(g, _MM_HINT_NTA);
}

/* Where the bf16 bits b are > 0 as a number: 0 < b <= 0x7f80 as signed 16-bit integers. */
LCL__INLINE LCL__AVX2 __m256i bf16_positive(__m256i b) {
    return _mm256_andnot_si256(_mm256_cmpgt_epi16(b, _mm256_set1_epi16(0x7f80)),
                               _mm256_cmpgt_epi16(b, _mm256_setzero_si256()));
}
/* fp16 <-> fp32 with F16C: exact widening, narrowing to nearest even whatever MXCSR says.
 * The empty asm keeps the compiler from folding the load into vcvtph2ps: on Zen 1 the memory
 * form takes 3 cycles of the conversion pipe against 2 for a load and the register form
 * (fp16 forward +10-25% in L1). */
LCL__INLINE LCL__AVX2_F16C __m256 f16_load(const char *p) {
    __m128i h = _mm_loadu_si128((const __m128i *)p);
    __asm__("" : "+x"(h));
    return _mm256_cvtph_ps(h);
}
LCL__INLINE LCL__AVX2_F16C __m256i f16_pack(__m256 lo, __m256 hi) {
    __m128i l = _mm256_cvtps_ph(lo, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m128i h = _mm256_cvtps_ph(hi, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm256_inserti128_si256(_mm256_castsi128_si256(l), h, 1);
}
/* Where the fp16 bits h are > 0 as a number: 0 < h <= 0x7c00 as signed 16-bit integers
 * (0x7c01 and up are NaNs; the sign bit makes negatives and -0 negative or zero). */
LCL__INLINE LCL__AVX2 __m256i f16_positive(__m256i h) {
    return _mm256_andnot_si256(_mm256_cmpgt_epi16(h, _mm256_set1_epi16(0x7c00)),
                               _mm256_cmpgt_epi16(h, _mm256_setzero_si256()));
}
LCL__INLINE LCL__AVX2_F16C float f16_scalar_load(const void *p, size_t i) { return _cvtsh_ss(load_u16(p, i)); }
LCL__INLINE LCL__AVX2_F16C void f16_scalar_store(void *p, size_t i, float v) {
    store_u16(p, i, (uint16_t)_cvtss_sh(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

/* ---- one element (heads and tails) and one 64-byte output line per call ------------------- */

/* The forward passes sel as the gradient too; `backward` and `stream` are constants after
 * inlining. */
LCL__INLINE void scalar_f32(const void *sel, const void *grad, void *out, size_t i, double alpha, bool backward) {
    store_f32(out, i, select_f32(load_f32(sel, i), load_f32(backward ? grad : sel, i), (float)alpha));
}
LCL__INLINE void scalar_f64(const void *sel, const void *grad, void *out, size_t i, double alpha, bool backward) {
    store_f64(out, i, select_f64(load_f64(sel, i), load_f64(backward ? grad : sel, i), alpha));
}
LCL__INLINE void scalar_bf16(const void *sel, const void *grad, void *out, size_t i, double alpha, bool backward) {
    float s = lcl__bf16_to_float_inline(load_u16(sel, i));
    float g = lcl__bf16_to_float_inline(load_u16(backward ? grad : sel, i));
    store_u16(out, i, lcl__float_to_bf16_inline(select_f32(s, g, (float)alpha)));
}
LCL__INLINE LCL__AVX2_F16C void scalar_f16(const void *sel, const void *grad, void *out, size_t i, double alpha,
                                           bool backward) {
    float s = f16_scalar_load(sel, i), g = f16_scalar_load(backward ? grad : sel, i);
    f16_scalar_store(out, i, select_f32(s, g, (float)alpha));
}

LCL__INLINE LCL__AVX2 void line_f32(const char *s, const char *g, char *o, double alpha, bool backward, bool stream) {
    __m256 a = _mm256_set1_ps((float)alpha);
    __m256 s0 = _mm256_loadu_ps((const float *)s), s1 = _mm256_loadu_ps((const float *)(s + 32));
    __m256 p0 = backward ? _mm256_loadu_ps((const float *)g) : s0;
    __m256 p1 = backward ? _mm256_loadu_ps((const float *)(g + 32)) : s1;
    lcl__store_si256(o, _mm256_castps_si256(select_ps(s0, p0, a)), stream);
    lcl__store_si256(o + 32, _mm256_castps_si256(select_ps(s1, p1, a)), stream);
}

LCL__INLINE LCL__AVX2 void line_f64(const char *s, const char *g, char *o, double alpha, bool backward, bool stream) {
    __m256d a = _mm256_set1_pd(alpha);
    __m256d s0 = _mm256_loadu_pd((const double *)s), s1 = _mm256_loadu_pd((const double *)(s + 32));
    __m256d p0 = backward ? _mm256_loadu_pd((const double *)g) : s0;
    __m256d p1 = backward ? _mm256_loadu_pd((const double *)(g + 32)) : s1;
    lcl__store_si256(o, _mm256_castpd_si256(select_pd(s0, p0, a)), stream);
    lcl__store_si256(o + 32, _mm256_castpd_si256(select_pd(s1, p1, a)), stream);
}

/* The 16-bit types: only alpha * g goes through fp32 and back, and the result is chosen on the
 * 16-bit integers: g's own bits where s > 0 (the value a round trip gives), else the rounded
 * product. The forward (g = s) may let a NaN s through as its own bits rather than as alpha * s:
 * NaN either way, so it needs only the sign test. Every op counts here: on Zen 1 each 256-bit
 * op is two 128-bit ones and an F16C conversion takes 2 cycles of its one pipe, so these loops
 * run at ~4-4.7 G elements/s per core in L1, not far above the ~3.3 a core needs to keep up
 * with its half of the memory bandwidth (fp16/bf16 forward, 4 bytes per element). */
LCL__INLINE LCL__AVX2 __m256i half_bf16(const char *s, const char *g, __m256 a, bool backward) {
    __m256i sr = _mm256_loadu_si256((const __m256i *)s);
    __m256i gr = backward ? _mm256_loadu_si256((const __m256i *)g) : sr;
    __m256i even = _mm256_castps_si256(_mm256_mul_ps(a, lcl__bf16_even(gr)));
    __m256i odd = _mm256_castps_si256(_mm256_mul_ps(a, lcl__bf16_odd(gr)));
    __m256i positive = backward ? bf16_positive(sr) : _mm256_cmpgt_epi16(sr, _mm256_setzero_si256());
    return _mm256_blendv_epi8(lcl__bf16_round(even, odd), gr, positive);
}

LCL__INLINE LCL__AVX2_F16C __m256i half_f16(const char *s, const char *g, __m256 a, bool backward) {
    __m256i sr = _mm256_loadu_si256((const __m256i *)s);
    __m256i gr = backward ? _mm256_loadu_si256((const __m256i *)g) : sr;
    __m256i scaled = f16_pack(_mm256_mul_ps(a, f16_load(g)), _mm256_mul_ps(a, f16_load(g + 16)));
    __m256i positive = backward ? f16_positive(sr) : _mm256_cmpgt_epi16(sr, _mm256_setzero_si256());
    return _mm256_blendv_epi8(scaled, gr, positive);
}

/* Both halves are computed before either is stored: in place, a load from a line that has a
 * streamed half pending made fp16 backward ~20% slower (it seems to flush the half line). */
LCL__INLINE LCL__AVX2 void line_bf16(const char *s, const char *g, char *o, double alpha, bool backward, bool stream) {
    __m256 a = _mm256_set1_ps((float)alpha);
    __m256i r0 = half_bf16(s, g, a, backward), r1 = half_bf16(s + 32, g + 32, a, backward);
    lcl__store_si256(o, r0, stream);
    lcl__store_si256(o + 32, r1, stream);
}

LCL__INLINE LCL__AVX2_F16C void line_f16(const char *s, const char *g, char *o, double alpha, bool backward,
                                         bool stream) {
    __m256 a = _mm256_set1_ps((float)alpha);
    __m256i r0 = half_f16(s, g, a, backward), r1 = half_f16(s + 32, g + 32, a, backward);
    lcl__store_si256(o, r0, stream);
    lcl__store_si256(o + 32, r1, stream);
}

/* ---- the kernels ------------------------------------------------------------------------------ */

typedef void scalar_fn(const void *sel, const void *grad, void *out, size_t i, double alpha, bool backward);
typedef void line_fn(const char *s, const char *g, char *o, double alpha, bool backward, bool stream);

/* The whole lines from element i on (returns where they end): prefetching while the prefetched
 * line is still inside the block, then the last LCL__PREFETCH_AHEAD bytes without (a prefetch
 * past the end of an array can land on a page that is not mapped, which costs a page walk each
 * time on AMD Zen). */
LCL__INLINE size_t lines(line_fn *line, size_t size, bool backward, bool stream, size_t i, size_t n, double alpha,
                         const char *s, const char *g, char *o) {
    size_t per_line = LCL__LINE / size, ahead = LCL__PREFETCH_AHEAD / size;
    for (; n - i >= per_line + ahead; i += per_line) {
        prefetch_inputs(s + (i + ahead) * size, g + (i + ahead) * size, backward);
        line(s + i * size, g + i * size, o + i * size, alpha, backward, stream);
    }
    for (; n - i >= per_line; i += per_line)
        line(s + i * size, g + i * size, o + i * size, alpha, backward, stream);
    return i;
}

/* One thread's block: scalar head, lines (streamed or not), scalar tail. The kernels below
 * call it with constant functions, which are inlined into them. */
LCL__INLINE void block(scalar_fn *scalar, line_fn *line, size_t size, bool backward, size_t n, double alpha,
                       const void *sel, const void *grad, void *out, bool stream) {
    const char *s = sel;
    const char *g = backward ? (const char *)grad : s;
    size_t i = 0, head = head_count(out, size, n);
    if ((uintptr_t)out % size != 0)
        stream = false;
    for (; i < head; ++i)
        scalar(sel, grad, out, i, alpha, backward);
    if (stream) {
        i = lines(line, size, backward, true, i, n, alpha, s, g, out);
        _mm_sfence();
    } else {
        i = lines(line, size, backward, false, i, n, alpha, s, g, out);
    }
    for (; i < n; ++i)
        scalar(sel, grad, out, i, alpha, backward);
}

LCL__AVX2 void lcl__forward_f32_avx2(size_t n, double alpha, const void *sel, const void *grad, void *out,
                                     bool stream) {
    block(scalar_f32, line_f32, 4, false, n, alpha, sel, grad, out, stream);
}
LCL__AVX2 void lcl__backward_f32_avx2(size_t n, double alpha, const void *sel, const void *grad, void *out,
                                      bool stream) {
    block(scalar_f32, line_f32, 4, true, n, alpha, sel, grad, out, stream);
}
LCL__AVX2 void lcl__forward_f64_avx2(size_t n, double alpha, const void *sel, const void *grad, void *out,
                                     bool stream) {
    block(scalar_f64, line_f64, 8, false, n, alpha, sel, grad, out, stream);
}
LCL__AVX2 void lcl__backward_f64_avx2(size_t n, double alpha, const void *sel, const void *grad, void *out,
                                      bool stream) {
    block(scalar_f64, line_f64, 8, true, n, alpha, sel, grad, out, stream);
}
LCL__AVX2 void lcl__forward_bf16_avx2(size_t n, double alpha, const void *sel, const void *grad, void *out,
                                      bool stream) {
    block(scalar_bf16, line_bf16, 2, false, n, alpha, sel, grad, out, stream);
}
LCL__AVX2 void lcl__backward_bf16_avx2(size_t n, double alpha, const void *sel, const void *grad, void *out,
                                       bool stream) {
    block(scalar_bf16, line_bf16, 2, true, n, alpha, sel, grad, out, stream);
}
LCL__AVX2_F16C void lcl__forward_f16_avx2(size_t n, double alpha, const void *sel, const void *grad, void *out,
                                          bool stream) {
    block(scalar_f16, line_f16, 2, false, n, alpha, sel, grad, out, stream);
}
LCL__AVX2_F16C void lcl__backward_f16_avx2(size_t n, double alpha, const void *sel, const void *grad, void *out,
                                           bool stream) {
    block(scalar_f16, line_f16, 2, true, n, alpha, sel, grad, out, stream);
}

#else
typedef int lcl__cpu_x86_empty; /* ISO C wants at least one declaration */
#endif
