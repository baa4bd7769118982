/* The sign mask on the CPU backend: a word (32 elements) at a time, so each word is written
 * whole by one thread; threads take contiguous ranges of words. The arithmetic is the plain
 * backend's; a partial last word keeps its bits past n. Whole words go to the AVX2 kernels of
 * mask_x86.c where the CPU has AVX2 (and F16C for f16), else to the portable loops here. */
#include "cpu.h"
#include "convert.h"
#include "x86.h"

#include <omp.h>

/* Below this many bytes of output one thread does it all. */
#define PARALLEL_MIN_BYTES ((size_t)256 << 10)

#define LCL__CPU_MASK_LOOPS(suffix, storage, compute, LOAD, STORE)                                                     \
    static void forward_masked_##suffix(size_t w0, size_t w1, size_t n, double alpha, const void *x_v, void *y_v,      \
                                        uint32_t *mask) {                                                              \
        const storage *x = x_v;                                                                                        \
        storage *y = y_v;                                                                                              \
        compute a = (compute)alpha;                                                                                    \
        for (size_t w = w0; w < w1; ++w) {                                                                             \
            const storage *xw = x + w * 32;                                                                            \
            storage *yw = y + w * 32;                                                                                  \
            unsigned count = n - w * 32 < 32 ? (unsigned)(n - w * 32) : 32;                                            \
            uint32_t bits = 0;                                                                                         \
            if (count == 32) {                                                                                         \
                for (unsigned j = 0; j < 32; ++j) {                                                                    \
                    compute v = LOAD(xw[j]);                                                                           \
                    compute scaled = a * v;                                                                            \
                    bits |= (uint32_t)(v > 0) << j;                                                                    \
                    yw[j] = STORE(v > 0 ? v : scaled);                                                                 \
                }                                                                                                      \
                mask[w] = bits;                                                                                        \
            } else {                                                                                                   \
                for (unsigned j = 0; j < count; ++j) {                                                                 \
                    compute v = LOAD(xw[j]);                                                                           \
                    compute scaled = a * v;                                                                            \
                    bits |= (uint32_t)(v > 0) << j;                                                                    \
                    yw[j] = STORE(v > 0 ? v : scaled);                                                                 \
                }                                                                                                      \
                mask[w] = (mask[w] & ~((UINT32_C(1) << count) - 1)) | bits;                                            \
            }                                                                                                          \
        }                                                                                                              \
    }                                                                                                                  \
    static void backward_masked_##suffix(size_t w0, size_t w1, size_t n, double alpha, const uint32_t *mask,           \
                                         const void *dy_v, void *dx_v) {                                               \
        const storage *dy = dy_v;                                                                                      \
        storage *dx = dx_v;                                                                                            \
        compute a = (compute)alpha;                                                                                    \
        for (size_t w = w0; w < w1; ++w) {                                                                             \
            const storage *gw = dy + w * 32;                                                                           \
            storage *dw = dx + w * 32;                                                                                 \
            unsigned count = n - w * 32 < 32 ? (unsigned)(n - w * 32) : 32;                                            \
            uint32_t bits = mask[w];                                                                                   \
            if (count == 32) {                                                                                         \
                for (unsigned j = 0; j < 32; ++j) {                                                                    \
                    compute g = LOAD(gw[j]);                                                                           \
                    compute scaled = a * g;                                                                            \
                    dw[j] = STORE((bits >> j) & 1u ? g : scaled);                                                      \
                }                                                                                                      \
            } else {                                                                                                   \
                for (unsigned j = 0; j < count; ++j) {                                                                 \
                    compute g = LOAD(gw[j]);                                                                           \
                    compute scaled = a * g;                                                                            \
                    dw[j] = STORE((bits >> j) & 1u ? g : scaled);                                                      \
                }                                                                                                      \
            }                                                                                                          \
        }                                                                                                              \
    }

#define LCL__IDENTITY(v) (v)
LCL__CPU_MASK_LOOPS(f32, float, float, LCL__IDENTITY, LCL__IDENTITY)
LCL__CPU_MASK_LOOPS(f64, double, double, LCL__IDENTITY, LCL__IDENTITY)
LCL__CPU_MASK_LOOPS(f16, uint16_t, float, lcl__half_to_float_inline, lcl__float_to_half_inline)
LCL__CPU_MASK_LOOPS(bf16, uint16_t, float, lcl__bf16_to_float_inline, lcl__float_to_bf16_inline)

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
            forward_masked_f32(w0, w1, m->n, m->alpha, m->in, m->out, m->mask_out);
            break;
        case LCL_F64:
            forward_masked_f64(w0, w1, m->n, m->alpha, m->in, m->out, m->mask_out);
            break;
        case LCL_F16:
            forward_masked_f16(w0, w1, m->n, m->alpha, m->in, m->out, m->mask_out);
            break;
        case LCL_BF16:
            forward_masked_bf16(w0, w1, m->n, m->alpha, m->in, m->out, m->mask_out);
            break;
        case LCL_MASK:
            break;
        }
        return;
    }
    switch (m->dtype) {
    case LCL_F32:
        backward_masked_f32(w0, w1, m->n, m->alpha, m->mask_in, m->in, m->out);
        break;
    case LCL_F64:
        backward_masked_f64(w0, w1, m->n, m->alpha, m->mask_in, m->in, m->out);
        break;
    case LCL_F16:
        backward_masked_f16(w0, w1, m->n, m->alpha, m->mask_in, m->in, m->out);
        break;
    case LCL_BF16:
        backward_masked_bf16(w0, w1, m->n, m->alpha, m->mask_in, m->in, m->out);
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
