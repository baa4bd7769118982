/* PReLU on the CPU backend. Channel runs (the `inner` consecutive elements of one channel in one
 * batch row) of at least LONG_RUN elements go to lcl__cpu_eltwise with that channel's slope
 * (cpu.c's fastest kernels, one thread each since we call it from our own threads); shorter runs
 * take the portable loops here.
 *
 * y, and dx without dalpha: each thread takes a contiguous range of elements.
 * dx with dalpha: the OpenCL kernels' partition. Channel c's batch * inner elements, numbered
 * m = b * inner + i, are cut into blocks of LCL__PRELU_BLOCK; a thread takes a block, sums
 * dy * x where !(x > 0) over it in the compute type (LANES interleaved running sums, flushed into
 * LANES block sums every FLUSH_STEPS rounds, scalar leftovers likewise), then writes its dx (the
 * block's x and dy are read before dx is written, so dx may be x or dy). A channel's block sums
 * are then added pairwise in index order and rounded once to dalpha's storage (which may be
 * alpha itself: every slope was read by then). For a short inner and a long batch (channels
 * last), as on OpenCL, units are instead blocks of LCL__PRELU_ROWS rows of COLS columns, each
 * column summed over its rows. Which thread takes which unit never changes a sum, so the bits
 * do not depend on the thread count. */
#include "convert.h"
#include "internal.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Below this many bytes of output one thread does it all. */
#define PARALLEL_MIN_BYTES ((size_t)256 << 10)
/* Runs at least this long go to lcl__cpu_eltwise. */
#define LONG_RUN 64
#define LANES 8
#define FLUSH_STEPS 32
/* Columns per unit of the column scheme. */
#define COLS 32
#define PAIRWISE_DEPTH 64

static size_t next_channel(size_t c, size_t channels) { return c + 1 == channels ? 0 : c + 1; }

/* p where keep, else +0, by masking its bits: the compiler makes branches of a ?: here, which
 * random signs defeat (measured 8x slower), and p * keep would turn a NaN p into NaN, not 0. */
static inline float keep_f32(bool keep, float p) {
    uint32_t u;
    memcpy(&u, &p, sizeof u);
    u &= (uint32_t)0 - (uint32_t)keep;
    memcpy(&p, &u, sizeof p);
    return p;
}

/* The LANES running sums as GCC vectors of 16 bytes, what every x86-64 has (wider ones are
 * split badly: GCC turns their compares into scalar code), and the compare lanes that mask the
 * products. */
typedef float lcl__v4f __attribute__((vector_size(16)));
typedef int32_t lcl__v4i __attribute__((vector_size(16)));
typedef double lcl__v2d __attribute__((vector_size(16)));
typedef int64_t lcl__v2l __attribute__((vector_size(16)));
#define VECTORS(VF, compute) (LANES / (sizeof(VF) / sizeof(compute)))

static inline double keep_f64(bool keep, double p) {
    uint64_t u;
    memcpy(&u, &p, sizeof u);
    u &= (uint64_t)0 - (uint64_t)keep;
    memcpy(&p, &u, sizeof p);
    return p;
}

/* out[k] for the `run` elements from k, with slope a (forward when dy is NULL). */
static void long_run(const struct lcl__prelu *call, double a, const char *x, const char *dy, char *out, size_t k,
                     size_t run) {
    size_t size = lcl_dtype_size(call->dtype);
    struct lcl__eltwise e = {.op = dy ? LCL__OP_BACKWARD : LCL__OP_FORWARD, .dtype = call->dtype, .alpha = a, .n = run};
    lcl__cpu_eltwise(&e, x + k * size, dy ? dy + k * size : NULL, out + k * size);
}

#define LCL__CPU_PRELU_LOOPS(suffix, storage, compute, LOAD, STORE, KEEP, VF, VI)                                      \
    /* out for the `run` elements from k with slope a: forward (dy NULL) or backward. */                               \
    static void run_##suffix(const struct lcl__prelu *call, compute a, const storage *x, const storage *dy,            \
                             storage *out, size_t k, size_t run) {                                                     \
        if (run >= LONG_RUN) {                                                                                         \
            long_run(call, (double)a, (const char *)x, (const char *)dy, (char *)out, k, run);                         \
        } else if (!dy) {                                                                                              \
            for (size_t e = k; e < k + run; ++e) {                                                                     \
                compute v = LOAD(x[e]);                                                                                \
                compute scaled = a * v;                                                                                \
                out[e] = STORE(v > 0 ? v : scaled);                                                                    \
            }                                                                                                          \
        } else {                                                                                                       \
            for (size_t e = k; e < k + run; ++e) {                                                                     \
                compute v = LOAD(x[e]);                                                                                \
                compute g = LOAD(dy[e]);                                                                               \
                compute scaled = a * g;                                                                                \
                out[e] = STORE(v > 0 ? g : scaled);                                                                    \
            }                                                                                                          \
        }                                                                                                              \
    }                                                                                                                  \
    /* Elements [lo, hi), walking the channels. */                                                                     \
    static void range_##suffix(const struct lcl__prelu *call, const storage *alpha, const storage *x,                  \
                               const storage *dy, storage *out, size_t lo, size_t hi) {                                \
        size_t inner = call->inner, channels = call->channels;                                                         \
        size_t row = lo / inner;                                                                                       \
        size_t pos = lo - row * inner;                                                                                 \
        size_t c = row % channels;                                                                                     \
        for (size_t e = lo; e < hi; pos = 0, c = next_channel(c, channels)) {                                          \
            size_t run = inner - pos < hi - e ? inner - pos : hi - e;                                                  \
            run_##suffix(call, LOAD(alpha[c]), x, dy, out, e, run);                                                    \
            e += run;                                                                                                  \
        }                                                                                                              \
    }                                                                                                                  \
    /* Block blk of channel c: its dalpha partial sum, then its dx. */                                                 \
    static compute block_##suffix(const struct lcl__prelu *call, const storage *alpha, const storage *x,               \
                                  const storage *dy, storage *out, size_t c, size_t blk) {                             \
        size_t inner = call->inner, channels = call->channels;                                                         \
        size_t per_channel = call->n / channels;                                                                       \
        size_t m0 = blk * LCL__PRELU_BLOCK;                                                                            \
        size_t m_end = m0 + LCL__PRELU_BLOCK < per_channel ? m0 + LCL__PRELU_BLOCK : per_channel;                      \
        VF running[LANES / 2] = {{0}}, sums[LANES / 2] = {{0}}, zero = {0};                                            \
        compute srun = 0, ssum = 0;                                                                                    \
        unsigned steps = 0, ssteps = 0;                                                                                \
        size_t b = m0 / inner;                                                                                         \
        for (size_t m = m0, i = m0 - b * inner; m < m_end; ++b, i = 0) {                                               \
            size_t run = inner - i < m_end - m ? inner - i : m_end - m;                                                \
            size_t base = (b * channels + c) * inner + i;                                                              \
            size_t k = 0;                                                                                              \
            for (; k + LANES <= run; k += LANES) {                                                                     \
                compute vl[LANES], gl[LANES];                                                                          \
                for (size_t l = 0; l < LANES; ++l) {                                                                   \
                    vl[l] = LOAD(x[base + k + l]);                                                                     \
                    gl[l] = LOAD(dy[base + k + l]);                                                                    \
                }                                                                                                      \
                for (size_t q = 0; q < VECTORS(VF, compute); ++q) {                                                    \
                    VF v, g;                                                                                           \
                    memcpy(&v, vl + q * (LANES / VECTORS(VF, compute)), sizeof v);                                     \
                    memcpy(&g, gl + q * (LANES / VECTORS(VF, compute)), sizeof g);                                     \
                    VI keep = ~(v > zero); /* the alpha branch: !(x > 0), NaN x included */                            \
                    running[q] += (VF)((VI)(g * v) & keep);                                                            \
                }                                                                                                      \
                if (++steps == FLUSH_STEPS) {                                                                          \
                    for (size_t q = 0; q < VECTORS(VF, compute); ++q) {                                                \
                        sums[q] += running[q];                                                                         \
                        running[q] = zero;                                                                             \
                    }                                                                                                  \
                    steps = 0;                                                                                         \
                }                                                                                                      \
            }                                                                                                          \
            for (; k < run; ++k) {                                                                                     \
                compute v = LOAD(x[base + k]);                                                                         \
                compute p = LOAD(dy[base + k]) * v;                                                                    \
                srun += KEEP(!(v > 0), p);                                                                             \
                if (++ssteps == FLUSH_STEPS) {                                                                         \
                    ssum += srun;                                                                                      \
                    srun = 0;                                                                                          \
                    ssteps = 0;                                                                                        \
                }                                                                                                      \
            }                                                                                                          \
            run_##suffix(call, LOAD(alpha[c]), x, dy, out, base, run);                                                 \
            m += run;                                                                                                  \
        }                                                                                                              \
        compute lane[LANES];                                                                                           \
        for (size_t q = 0; q < VECTORS(VF, compute); ++q) {                                                            \
            sums[q] += running[q];                                                                                     \
            memcpy(lane + q * (LANES / VECTORS(VF, compute)), &sums[q], sizeof sums[q]);                               \
        }                                                                                                              \
        ssum += srun;                                                                                                  \
        return (((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]))) + ssum;     \
    }                                                                                                                  \
    /* Rows [r0, r1) of columns [j0, j0 + width): dx, and each column's sum into sums. */                              \
    static void columns_##suffix(const struct lcl__prelu *call, const storage *alpha, const storage *x,                \
                                 const storage *dy, storage *out, size_t j0, size_t width, size_t r0, size_t r1,       \
                                 compute *sums) {                                                                      \
        size_t cols = call->channels * call->inner;                                                                    \
        compute slope[COLS], running[COLS];                                                                            \
        for (size_t l = 0; l < width; ++l) {                                                                           \
            slope[l] = LOAD(alpha[(j0 + l) / call->inner]);                                                            \
            running[l] = 0;                                                                                            \
            sums[l] = 0;                                                                                               \
        }                                                                                                              \
        unsigned steps = 0;                                                                                            \
        for (size_t r = r0; r < r1; ++r) {                                                                             \
            size_t base = r * cols + j0;                                                                               \
            for (size_t l = 0; l < width; ++l) {                                                                       \
                compute v = LOAD(x[base + l]);                                                                         \
                compute g = LOAD(dy[base + l]);                                                                        \
                compute scaled = slope[l] * g;                                                                         \
                running[l] += KEEP(!(v > 0), g * v);                                                                   \
                out[base + l] = STORE(v > 0 ? g : scaled);                                                             \
            }                                                                                                          \
            if (++steps == FLUSH_STEPS) {                                                                              \
                for (size_t l = 0; l < width; ++l) {                                                                   \
                    sums[l] += running[l];                                                                             \
                    running[l] = 0;                                                                                    \
                }                                                                                                      \
                steps = 0;                                                                                             \
            }                                                                                                          \
        }                                                                                                              \
        for (size_t l = 0; l < width; ++l)                                                                             \
            sums[l] += running[l];                                                                                     \
    }                                                                                                                  \
    /* The pairwise sum of count values, in index order. */                                                            \
    static compute pairwise_##suffix(const compute *v, size_t count) {                                                 \
        compute stack[PAIRWISE_DEPTH];                                                                                 \
        unsigned level[PAIRWISE_DEPTH];                                                                                \
        unsigned top = 0;                                                                                              \
        for (size_t k = 0; k < count; ++k) {                                                                           \
            compute s = v[k];                                                                                          \
            unsigned l = 0;                                                                                            \
            while (top > 0 && level[top - 1] == l) {                                                                   \
                s = stack[top - 1] + s;                                                                                \
                --top;                                                                                                 \
                ++l;                                                                                                   \
            }                                                                                                          \
            stack[top] = s;                                                                                            \
            level[top] = l;                                                                                            \
            ++top;                                                                                                     \
        }                                                                                                              \
        compute sum = 0;                                                                                               \
        while (top > 0)                                                                                                \
            sum = stack[--top] + sum;                                                                                  \
        return sum;                                                                                                    \
    }                                                                                                                  \
    static lcl_status prelu_##suffix(const struct lcl__prelu *call, const void *alpha_v, const void *x_v,              \
                                     const void *dy_v, void *out_v, void *dalpha_v) {                                  \
        const storage *alpha = alpha_v, *x = x_v, *dy = dy_v;                                                          \
        storage *out = out_v;                                                                                          \
        size_t n = call->n, channels = call->channels;                                                                 \
        bool threads = n * sizeof(storage) >= PARALLEL_MIN_BYTES;                                                      \
        if (!dalpha_v) {                                                                                               \
            if (!threads) {                                                                                            \
                range_##suffix(call, alpha, x, dy, out, 0, n);                                                         \
                return LCL_SUCCESS;                                                                                    \
            }                                                                                                          \
            _Pragma("omp parallel") {                                                                                  \
                size_t count = (size_t)omp_get_num_threads();                                                          \
                size_t t = (size_t)omp_get_thread_num();                                                               \
                size_t lo = n / count * t + n % count * t / count;                                                     \
                size_t hi = n / count * (t + 1) + n % count * (t + 1) / count;                                         \
                range_##suffix(call, alpha, x, dy, out, lo, hi);                                                       \
            }                                                                                                          \
            return LCL_SUCCESS;                                                                                        \
        }                                                                                                              \
        size_t per_channel = n / channels;                                                                             \
        size_t blocks = per_channel / LCL__PRELU_BLOCK + (per_channel % LCL__PRELU_BLOCK != 0);                        \
        size_t batch = per_channel / call->inner, cols = channels * call->inner;                                       \
        size_t row_blocks = batch / LCL__PRELU_ROWS + (batch % LCL__PRELU_ROWS != 0);                                  \
        size_t segments = cols / COLS + (cols % COLS != 0);                                                            \
        bool by_columns = lcl__prelu_by_columns(call);                                                                 \
        size_t partials_per_channel = by_columns ? call->inner * row_blocks : blocks;                                  \
        compute *partial = malloc((partials_per_channel > 0 ? partials_per_channel * channels : 1) * sizeof *partial); \
        if (!partial)                                                                                                  \
            return lcl__fail(LCL_ERROR_OUT_OF_MEMORY,                                                                  \
                             "lcl_prelu_backward: out of host memory for %zu "                                         \
                             "partial sums",                                                                           \
                             partials_per_channel * channels);                                                         \
        if (by_columns) {                                                                                              \
            /* A unit is a row block of COLS columns; consecutive units, consecutive columns. */                       \
            size_t units = row_blocks * segments;                                                                      \
            _Pragma("omp parallel for schedule(static) if(threads)") for (size_t u = 0; u < units; ++u) {              \
                size_t seg = u % segments, rb = u / segments;                                                          \
                size_t j0 = seg * COLS, width = cols - j0 < COLS ? cols - j0 : COLS;                                   \
                size_t r0 = rb * LCL__PRELU_ROWS;                                                                      \
                size_t r1 = r0 + LCL__PRELU_ROWS < batch ? r0 + LCL__PRELU_ROWS : batch;                               \
                compute sums[COLS];                                                                                    \
                columns_##suffix(call, alpha, x, dy, out, j0, width, r0, r1, sums);                                    \
                for (size_t l = 0; l < width; ++l)                                                                     \
                    partial[(j0 + l) * row_blocks + rb] = sums[l];                                                     \
            }                                                                                                          \
        } else {                                                                                                       \
            size_t units = blocks * channels;                                                                          \
            /* Long inner: consecutive blocks of a channel are one run of memory; short inner:    \
             * consecutive channels of one block share cache lines. */                    \
            bool channel_major = call->inner >= LCL__PRELU_BLOCK / 2;                                                  \
            _Pragma("omp parallel for schedule(static) if(threads)") for (size_t u = 0; u < units; ++u) {              \
                size_t c = channel_major ? u / blocks : u % channels;                                                  \
                size_t blk = channel_major ? u % blocks : u / channels;                                                \
                partial[c * blocks + blk] = block_##suffix(call, alpha, x, dy, out, c, blk);                           \
            }                                                                                                          \
        }                                                                                                              \
        storage *dalpha = dalpha_v;                                                                                    \
        for (size_t c = 0; c < channels; ++c)                                                                          \
            dalpha[c] = STORE(pairwise_##suffix(partial + c * partials_per_channel, partials_per_channel));            \
        free(partial);                                                                                                 \
        return LCL_SUCCESS;                                                                                            \
    }

#define LCL__IDENTITY(v) (v)
LCL__CPU_PRELU_LOOPS(f32, float, float, LCL__IDENTITY, LCL__IDENTITY, keep_f32, lcl__v4f, lcl__v4i)
LCL__CPU_PRELU_LOOPS(f64, double, double, LCL__IDENTITY, LCL__IDENTITY, keep_f64, lcl__v2d, lcl__v2l)
LCL__CPU_PRELU_LOOPS(f16, uint16_t, float, lcl__half_to_float_inline, lcl__float_to_half_inline, keep_f32, lcl__v4f,
                     lcl__v4i)
LCL__CPU_PRELU_LOOPS(bf16, uint16_t, float, lcl__bf16_to_float_inline, lcl__float_to_bf16_inline, keep_f32, lcl__v4f,
                     lcl__v4i)

lcl_status lcl__cpu_prelu(const struct lcl__prelu *call, const void *alpha, const void *x, const void *dy, void *out,
                          void *dalpha) {
    const void *grad = call->op == LCL__OP_BACKWARD ? dy : NULL;
    switch (call->dtype) {
    case LCL_F32:
        return prelu_f32(call, alpha, x, grad, out, dalpha);
    case LCL_F64:
        return prelu_f64(call, alpha, x, grad, out, dalpha);
    case LCL_F16:
        return prelu_f16(call, alpha, x, grad, out, dalpha);
    case LCL_BF16:
        return prelu_bf16(call, alpha, x, grad, out, dalpha);
    case LCL_MASK:
        break;
    }
    return LCL_SUCCESS;
}

void lcl__prelu_sum_abs(const struct lcl__prelu *call, const void *x, const void *dy, double *sum_abs) {
    for (size_t c = 0; c < call->channels; ++c)
        sum_abs[c] = 0;
    size_t c = 0;
    size_t pos = 0;
    for (size_t e = 0; e < call->n; ++e) {
        double v = lcl__element_double(call->dtype, x, e);
        if (!(v > 0))
            sum_abs[c] += fabs(v * lcl__element_double(call->dtype, dy, e));
        if (++pos == call->inner) {
            pos = 0;
            c = next_channel(c, call->channels);
        }
    }
}
