/* PReLU on the CPU backend. Channel runs (the `inner` consecutive elements of one channel in one
 * batch row) of at least LONG_RUN elements go to lcl__cpu_eltwise with that channel's slope
 * (eltwise.c's fastest kernels, one thread each since we call it from our own threads); shorter runs
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
#include "cpu.h"

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

static inline double keep_f64(bool keep, double p) {
    uint64_t u;
    memcpy(&u, &p, sizeof u);
    u &= (uint64_t)0 - (uint64_t)keep;
    memcpy(&p, &u, sizeof p);
    return p;
}

/* out[k] for the `run` elements from k, with slope a (forward when dy is NULL). */
static void long_run(lcl_dtype dtype, double a, const void *x, const void *dy, void *out, size_t k, size_t run) {
    size_t size = lcl_dtype_size(dtype);
    struct lcl__eltwise e = {.op = dy ? LCL__OP_BACKWARD : LCL__OP_FORWARD, .dtype = dtype, .alpha = a, .n = run};
    lcl__cpu_eltwise(&e, (const char *)x + k * size, dy ? (const char *)dy + k * size : NULL, (char *)out + k * size);
}

/* The loops, once per dtype. */
#define STORAGE float
#define COMPUTE float
#define LOAD(s) (s)
#define STORE(c) (c)
#define VF lcl__v4f
#define VI lcl__v4i
#define KEEP keep_f32
#define TYPED(name) name##_f32
#define DTYPE LCL_F32
#include "prelu_loops.h"
#define STORAGE uint16_t
#define COMPUTE float
#define LOAD(s) lcl__half_to_float_inline(s)
#define STORE(c) lcl__float_to_half_inline(c)
#define VF lcl__v4f
#define VI lcl__v4i
#define KEEP keep_f32
#define TYPED(name) name##_f16
#define DTYPE LCL_F16
#include "prelu_loops.h"
#define STORAGE uint16_t
#define COMPUTE float
#define LOAD(s) lcl__bf16_to_float_inline(s)
#define STORE(c) lcl__float_to_bf16_inline(c)
#define VF lcl__v4f
#define VI lcl__v4i
#define KEEP keep_f32
#define TYPED(name) name##_bf16
#define DTYPE LCL_BF16
#include "prelu_loops.h"
#define STORAGE double
#define COMPUTE double
#define LOAD(s) (s)
#define STORE(c) (c)
#define VF lcl__v2d
#define VI lcl__v2l
#define KEEP keep_f64
#define TYPED(name) name##_f64
#define DTYPE LCL_F64
#include "prelu_loops.h"

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
