/* The sign mask on the CPU backend: a word (32 elements) at a time, so each word is written
 * whole by one thread; threads take contiguous ranges of words. The arithmetic is the plain
 * backend's; a partial last word keeps its bits past n. Whole words go to the AVX2 kernels of
 * mask_x86.c where the CPU has AVX2 (and F16C for f16), else to the portable loops here. */
#include "convert.h"
#include "cpu.h"
#include "x86.h"

#include <omp.h>

/* Below this many bytes of output one thread does it all. */
#define PARALLEL_MIN_BYTES ((size_t)256 << 10)

/* ---- the portable loops: an element function per dtype, inlined into one loop over words ---- */

/* y[i] from x[i] (the plain backend's arithmetic, in the dtype's compute type); returns the mask
 * bit, x[i] > 0. */
typedef bool forward_element_fn(const void *x, void *y, size_t i, double alpha);
/* dx[i] from dy[i] and its mask bit. */
typedef void backward_element_fn(const void *dy, void *dx, size_t i, double alpha, bool pass);

static inline bool forward_f32(const void *x, void *y, size_t i, double alpha) {
    float v = ((const float *)x)[i], scaled = (float)alpha * v;
    ((float *)y)[i] = v > 0 ? v : scaled;
    return v > 0;
}
static inline bool forward_f64(const void *x, void *y, size_t i, double alpha) {
    double v = ((const double *)x)[i], scaled = alpha * v;
    ((double *)y)[i] = v > 0 ? v : scaled;
    return v > 0;
}
static inline bool forward_f16(const void *x, void *y, size_t i, double alpha) {
    float v = lcl__half_to_float_inline(((const uint16_t *)x)[i]), scaled = (float)alpha * v;
    ((uint16_t *)y)[i] = lcl__float_to_half_inline(v > 0 ? v : scaled);
    return v > 0;
}
static inline bool forward_bf16(const void *x, void *y, size_t i, double alpha) {
    float v = lcl__bf16_to_float_inline(((const uint16_t *)x)[i]), scaled = (float)alpha * v;
    ((uint16_t *)y)[i] = lcl__float_to_bf16_inline(v > 0 ? v : scaled);
    return v > 0;
}

static inline void backward_f32(const void *dy, void *dx, size_t i, double alpha, bool pass) {
    float g = ((const float *)dy)[i], scaled = (float)alpha * g;
    ((float *)dx)[i] = pass ? g : scaled;
}
static inline void backward_f64(const void *dy, void *dx, size_t i, double alpha, bool pass) {
    double g = ((const double *)dy)[i], scaled = alpha * g;
    ((double *)dx)[i] = pass ? g : scaled;
}
static inline void backward_f16(const void *dy, void *dx, size_t i, double alpha, bool pass) {
    float g = lcl__half_to_float_inline(((const uint16_t *)dy)[i]), scaled = (float)alpha * g;
    ((uint16_t *)dx)[i] = lcl__float_to_half_inline(pass ? g : scaled);
}
static inline void backward_bf16(const void *dy, void *dx, size_t i, double alpha, bool pass) {
    float g = lcl__bf16_to_float_inline(((const uint16_t *)dy)[i]), scaled = (float)alpha * g;
    ((uint16_t *)dx)[i] = lcl__float_to_bf16_inline(pass ? g : scaled);
}

/* The `count` elements of the word from element i0: the forward returns their mask bits. A
 * constant count of 32 (whole words) lets the compiler unroll and vectorise. */
LCL__INLINE uint32_t forward_word(forward_element_fn *element, const void *x, void *y, size_t i0, unsigned count,
                                  double alpha) {
    uint32_t bits = 0;
    for (unsigned j = 0; j < count; ++j)
        bits |= (uint32_t)element(x, y, i0 + j, alpha) << j;
    return bits;
}
LCL__INLINE void backward_word(backward_element_fn *element, const void *dy, void *dx, size_t i0, unsigned count,
                               double alpha, uint32_t bits) {
    for (unsigned j = 0; j < count; ++j)
        element(dy, dx, i0 + j, alpha, (bits >> j) & 1u);
}

/* Words [w0, w1) of n elements; a partial last word keeps its mask bits past n. */
LCL__INLINE void forward_words(forward_element_fn *element, size_t w0, size_t w1, size_t n, double alpha, const void *x,
                               void *y, uint32_t *mask) {
    for (size_t w = w0; w < w1; ++w) {
        if (n - w * 32 >= 32) {
            mask[w] = forward_word(element, x, y, w * 32, 32, alpha);
        } else {
            unsigned count = (unsigned)(n - w * 32);
            uint32_t bits = forward_word(element, x, y, w * 32, count, alpha);
            mask[w] = (mask[w] & ~((UINT32_C(1) << count) - 1)) | bits;
        }
    }
}
LCL__INLINE void backward_words(backward_element_fn *element, size_t w0, size_t w1, size_t n, double alpha,
                                const uint32_t *mask, const void *dy, void *dx) {
    for (size_t w = w0; w < w1; ++w) {
        if (n - w * 32 >= 32)
            backward_word(element, dy, dx, w * 32, 32, alpha, mask[w]);
        else
            backward_word(element, dy, dx, w * 32, (unsigned)(n - w * 32), alpha, mask[w]);
    }
}

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

#if defined(LCL__HAVE_X86_KERNELS)
/* The AVX2 kernel for whole words, or NULL where this CPU lacks what it needs. */
static lcl__mask_forward_fn *pick_forward(lcl_dtype dtype) {
    if (!__builtin_cpu_supports("avx2"))
        return NULL;
    switch (dtype) {
    case LCL_F32:
        return lcl__mask_forward_f32_avx2;
    case LCL_F64:
        return lcl__mask_forward_f64_avx2;
    case LCL_BF16:
        return lcl__mask_forward_bf16_avx2;
    case LCL_F16:
        return lcl__x86_has_f16c() ? lcl__mask_forward_f16_avx2 : NULL;
    case LCL_MASK:
        break;
    }
    return NULL;
}

static lcl__mask_backward_fn *pick_backward(lcl_dtype dtype) {
    if (!__builtin_cpu_supports("avx2"))
        return NULL;
    switch (dtype) {
    case LCL_F32:
        return lcl__mask_backward_f32_avx2;
    case LCL_F64:
        return lcl__mask_backward_f64_avx2;
    case LCL_BF16:
        return lcl__mask_backward_bf16_avx2;
    case LCL_F16:
        return lcl__x86_has_f16c() ? lcl__mask_backward_f16_avx2 : NULL;
    case LCL_MASK:
        break;
    }
    return NULL;
}

/* Runs the whole words of [w0, w1) through the AVX2 kernels; returns where the portable loops
 * take over (w0 when there is no kernel, else the partial last word, if any). */
static size_t mask_words_x86(const struct mask_call *m, size_t w0, size_t w1) {
    size_t full_end = m->n / 32 < w1 ? m->n / 32 : w1;
    if (full_end <= w0)
        return w0;
    if (m->mask_out) {
        lcl__mask_forward_fn *kernel = pick_forward(m->dtype);
        if (!kernel)
            return w0;
        kernel(w0, full_end, m->alpha, m->in, m->out, m->mask_out, m->stream);
    } else {
        lcl__mask_backward_fn *kernel = pick_backward(m->dtype);
        if (!kernel)
            return w0;
        kernel(w0, full_end, m->alpha, m->mask_in, m->in, m->out, m->stream);
    }
    return full_end;
}
#endif

static void mask_words(const struct mask_call *m, size_t w0, size_t w1) {
#if defined(LCL__HAVE_X86_KERNELS)
    w0 = mask_words_x86(m, w0, w1);
    if (w0 >= w1)
        return;
#endif
    if (m->mask_out) {
        switch (m->dtype) {
        case LCL_F32:
            forward_words(forward_f32, w0, w1, m->n, m->alpha, m->in, m->out, m->mask_out);
            break;
        case LCL_F64:
            forward_words(forward_f64, w0, w1, m->n, m->alpha, m->in, m->out, m->mask_out);
            break;
        case LCL_F16:
            forward_words(forward_f16, w0, w1, m->n, m->alpha, m->in, m->out, m->mask_out);
            break;
        case LCL_BF16:
            forward_words(forward_bf16, w0, w1, m->n, m->alpha, m->in, m->out, m->mask_out);
            break;
        case LCL_MASK:
            break;
        }
        return;
    }
    switch (m->dtype) {
    case LCL_F32:
        backward_words(backward_f32, w0, w1, m->n, m->alpha, m->mask_in, m->in, m->out);
        break;
    case LCL_F64:
        backward_words(backward_f64, w0, w1, m->n, m->alpha, m->mask_in, m->in, m->out);
        break;
    case LCL_F16:
        backward_words(backward_f16, w0, w1, m->n, m->alpha, m->mask_in, m->in, m->out);
        break;
    case LCL_BF16:
        backward_words(backward_bf16, w0, w1, m->n, m->alpha, m->mask_in, m->in, m->out);
        break;
    case LCL_MASK:
        break;
    }
}

static void run_threaded(struct mask_call *m) {
    size_t words = m->n / 32 + (m->n % 32 != 0);
    size_t bytes = m->n * lcl_dtype_size(m->dtype);
    m->stream = bytes >= lcl__cpu_stream_min_bytes() && (uintptr_t)m->out % 32 == 0;
    if (m->n * lcl_dtype_size(m->dtype) < PARALLEL_MIN_BYTES) {
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
