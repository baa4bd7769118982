/* The sign mask on the CPU backend: a word (32 elements) at a time, so each word is written
 * whole by one thread; threads take contiguous ranges of words. The arithmetic is the plain
 * backend's; a partial last word keeps its bits past n. Whole words go to the AVX2 kernels of
 * mask_x86.c where the CPU has AVX2 (and F16C for f16), else to the portable loops here. */
#include "cpu.h"
#include "element.h"
#include "x86.h"

#include <omp.h>

/* Below this many bytes of output one thread does it all. */
#define PARALLEL_MIN_BYTES ((size_t)256 << 10)

/* One call over words [w0, w1): forward when mask_out is set, else backward. */
struct mask_call {
    lcl_dtype dtype;
    size_t n;
    double alpha;
    const void *in; /* x or dy */
    void *out;      /* y or dx */
    uint32_t *mask_out;
    const uint32_t *mask_in;
    bool stream;
};

/* ---- the portable loops: element functions (element.h) inlined into one loop over words ----- */

/* The `count` elements of the word from element i0; the forward returns their mask bits. A
 * constant count of 32 (whole words) lets the compiler unroll and vectorise. */
LCL__INLINE uint32_t forward_word(lcl__forward_fn *forward, const void *x, void *y, size_t i0, unsigned count,
                                  double alpha) {
    uint32_t bits = 0;
    for (unsigned j = 0; j < count; ++j)
        bits |= (uint32_t)forward(x, y, i0 + j, alpha) << j;
    return bits;
}
LCL__INLINE void backward_word(lcl__leaky_fn *leaky, const void *dy, void *dx, size_t i0, unsigned count, double alpha,
                               uint32_t bits) {
    for (unsigned j = 0; j < count; ++j)
        leaky(dy, dx, i0 + j, alpha, (bits >> j) & 1u);
}

/* Words [w0, w1) of n elements; a partial last word keeps its mask bits past n. */
LCL__INLINE void forward_words(lcl__forward_fn *forward, const struct mask_call *m, size_t w0, size_t w1) {
    for (size_t w = w0; w < w1; ++w) {
        if (m->n - w * 32 >= 32) {
            m->mask_out[w] = forward_word(forward, m->in, m->out, w * 32, 32, m->alpha);
        } else {
            unsigned count = (unsigned)(m->n - w * 32);
            uint32_t bits = forward_word(forward, m->in, m->out, w * 32, count, m->alpha);
            m->mask_out[w] = (m->mask_out[w] & ~((UINT32_C(1) << count) - 1)) | bits;
        }
    }
}
LCL__INLINE void backward_words(lcl__leaky_fn *leaky, const struct mask_call *m, size_t w0, size_t w1) {
    for (size_t w = w0; w < w1; ++w) {
        if (m->n - w * 32 >= 32)
            backward_word(leaky, m->in, m->out, w * 32, 32, m->alpha, m->mask_in[w]);
        else
            backward_word(leaky, m->in, m->out, w * 32, (unsigned)(m->n - w * 32), m->alpha, m->mask_in[w]);
    }
}

#if defined(LCL__HAVE_X86_KERNELS)
/* The AVX2 kernels per float dtype (x86.h); the f16 ones need F16C too. */
static const struct {
    lcl__mask_forward_fn *forward;
    lcl__mask_backward_fn *backward;
} x86_kernels[LCL__FLOAT_DTYPE_COUNT] = {
    [LCL_F32] = {lcl__mask_forward_f32_avx2, lcl__mask_backward_f32_avx2},
    [LCL_F64] = {lcl__mask_forward_f64_avx2, lcl__mask_backward_f64_avx2},
    [LCL_F16] = {lcl__mask_forward_f16_avx2, lcl__mask_backward_f16_avx2},
    [LCL_BF16] = {lcl__mask_forward_bf16_avx2, lcl__mask_backward_bf16_avx2},
};

/* Runs the whole words of [w0, w1) through the AVX2 kernels; returns where the portable loops
 * take over (w0 when this CPU cannot run them, else the partial last word, if any). */
static size_t mask_words_x86(const struct mask_call *m, size_t w0, size_t w1) {
    size_t full_end = m->n / 32 < w1 ? m->n / 32 : w1;
    if (full_end <= w0 || !lcl__dtype_is_float(m->dtype) || !__builtin_cpu_supports("avx2") ||
        (m->dtype == LCL_F16 && !lcl__x86_has_f16c()))
        return w0;
    if (m->mask_out)
        x86_kernels[m->dtype].forward(w0, full_end, m->alpha, m->in, m->out, m->mask_out, m->stream);
    else
        x86_kernels[m->dtype].backward(w0, full_end, m->alpha, m->mask_in, m->in, m->out, m->stream);
    return full_end;
}
#endif

static void mask_words(const struct mask_call *m, size_t w0, size_t w1) {
#if defined(LCL__HAVE_X86_KERNELS)
    w0 = mask_words_x86(m, w0, w1);
    if (w0 >= w1)
        return;
#endif
    switch (m->dtype) {
    case LCL_F32:
        m->mask_out ? forward_words(lcl__forward_f32, m, w0, w1) : backward_words(lcl__leaky_f32, m, w0, w1);
        break;
    case LCL_F64:
        m->mask_out ? forward_words(lcl__forward_f64, m, w0, w1) : backward_words(lcl__leaky_f64, m, w0, w1);
        break;
    case LCL_F16:
        m->mask_out ? forward_words(lcl__forward_f16, m, w0, w1) : backward_words(lcl__leaky_f16, m, w0, w1);
        break;
    case LCL_BF16:
        m->mask_out ? forward_words(lcl__forward_bf16, m, w0, w1) : backward_words(lcl__leaky_bf16, m, w0, w1);
        break;
    case LCL_MASK:
        break;
    }
}

static void run_threaded(struct mask_call *m) {
    size_t words = m->n / 32 + (m->n % 32 != 0);
    size_t bytes = m->n * lcl_dtype_size(m->dtype);
    m->stream = bytes >= lcl__cpu_stream_min_bytes() && (uintptr_t)m->out % 32 == 0;
    if (bytes < PARALLEL_MIN_BYTES) {
        mask_words(m, 0, words);
        return;
    }
#pragma omp parallel
    {
        size_t count = (size_t)omp_get_num_threads();
        size_t t = (size_t)omp_get_thread_num();
        /* Ranges of whole words, edges on multiples of 2 words (64 elements: a cache line of
         * output for every dtype up to 8 bytes when the output is aligned). */
        size_t pairs = (words + 1) / 2;
        size_t lo = 2 * (pairs / count * t + pairs % count * t / count);
        size_t hi = 2 * (pairs / count * (t + 1) + pairs % count * (t + 1) / count);
        if (hi > words)
            hi = words;
        if (lo < hi)
            mask_words(m, lo, hi);
    }
}

void lcl__cpu_forward_masked(lcl_dtype dtype, size_t n, double alpha, const void *x, void *y, uint32_t *mask) {
    struct mask_call m = {dtype, n, alpha, x, y, mask, NULL, false};
    run_threaded(&m);
}

void lcl__cpu_backward_masked(lcl_dtype dtype, size_t n, double alpha, const uint32_t *mask, const void *dy, void *dx) {
    struct mask_call m = {dtype, n, alpha, dy, dx, NULL, mask, false};
    run_threaded(&m);
}
