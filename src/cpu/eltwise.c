/* The CPU backend: per-block kernels (portable C loops here, AVX2/F16C ones in eltwise_x86.c picked
 * at run time), threaded with OpenMP over contiguous blocks whose boundaries fall on output cache
 * lines. It is also the reference that LEAKYCL_VERIFY checks the devices against, so every kernel
 * gives the same bits as the portable loops (up to a NaN's payload). */
#include "cpu.h"
#include "element.h"
#include "x86.h"

#include <omp.h>
#include <unistd.h>

/* Below this many elements a thread team costs more than it saves (on 2 cores, one thread does
 * 2^16 elements in 10-15 us, and a sleeping thread takes a good part of that to wake). */
#define LCL__PARALLEL_MIN 65536

/* Outputs of at least half the last-level cache are written with non-temporal stores: they
 * cannot stay in cache anyway, and ordinary stores would first read every line of an
 * out-of-place output from memory (half again the traffic forward, a third more backward). In
 * place the line was just read, yet streaming still measured faster (2-core EPYC VM, 2^27 fp32
 * forward: ~100% of a copy's bandwidth against ~80%), so it streams too. Smaller outputs stay
 * in cache for whatever reads them next. (That VM reports an 8 MiB L3: from 2^20 fp32
 * elements on, streaming was faster there.) */
#define LCL__STREAM_MIN_FALLBACK ((size_t)16 << 20)

size_t lcl__cpu_stream_min_bytes(void) {
    static atomic_size_t cached; /* 0 until computed; racing threads store the same value */
    size_t bytes = atomic_load_explicit(&cached, memory_order_relaxed);
    if (bytes == 0) {
        long l3 = -1;
#if defined(_SC_LEVEL3_CACHE_SIZE)
        l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
        bytes = l3 > 0 ? (size_t)l3 / 2 : LCL__STREAM_MIN_FALLBACK;
        if (bytes < ((size_t)1 << 20))
            bytes = (size_t)1 << 20;
        atomic_store_explicit(&cached, bytes, memory_order_relaxed);
    }
    return bytes;
}

/* Portable kernels: element.h's functions for the dtype, inlined into one loop. out may be the
 * very array sel or grad is: every element is read before it is written at its index. */
LCL__INLINE void forward_loop(lcl__forward_fn *forward, size_t n, double alpha, const void *x, void *y) {
#pragma omp simd
    for (size_t i = 0; i < n; ++i)
        forward(x, y, i, alpha);
}
LCL__INLINE void backward_loop(lcl__positive_fn *positive, lcl__leaky_fn *leaky, size_t n, double alpha, const void *x,
                               const void *dy, void *dx) {
#pragma omp simd
    for (size_t i = 0; i < n; ++i)
        leaky(dy, dx, i, alpha, positive(x, i));
}

static void forward_f32(size_t n, double alpha, const void *sel, const void *grad, void *out, bool stream) {
    (void)grad, (void)stream;
    forward_loop(lcl__forward_f32, n, alpha, sel, out);
}
static void backward_f32(size_t n, double alpha, const void *sel, const void *grad, void *out, bool stream) {
    (void)stream;
    backward_loop(lcl__positive_f32, lcl__leaky_f32, n, alpha, sel, grad, out);
}
static void forward_f64(size_t n, double alpha, const void *sel, const void *grad, void *out, bool stream) {
    (void)grad, (void)stream;
    forward_loop(lcl__forward_f64, n, alpha, sel, out);
}
static void backward_f64(size_t n, double alpha, const void *sel, const void *grad, void *out, bool stream) {
    (void)stream;
    backward_loop(lcl__positive_f64, lcl__leaky_f64, n, alpha, sel, grad, out);
}
static void forward_f16(size_t n, double alpha, const void *sel, const void *grad, void *out, bool stream) {
    (void)grad, (void)stream;
    forward_loop(lcl__forward_f16, n, alpha, sel, out);
}
static void backward_f16(size_t n, double alpha, const void *sel, const void *grad, void *out, bool stream) {
    (void)stream;
    backward_loop(lcl__positive_f16, lcl__leaky_f16, n, alpha, sel, grad, out);
}
static void forward_bf16(size_t n, double alpha, const void *sel, const void *grad, void *out, bool stream) {
    (void)grad, (void)stream;
    forward_loop(lcl__forward_bf16, n, alpha, sel, out);
}
static void backward_bf16(size_t n, double alpha, const void *sel, const void *grad, void *out, bool stream) {
    (void)stream;
    backward_loop(lcl__positive_bf16, lcl__leaky_bf16, n, alpha, sel, grad, out);
}

/* A dtype's forward and backward kernels. */
struct kernels {
    lcl__cpu_block_fn *forward, *backward;
};

static const struct kernels portable[LCL__FLOAT_DTYPE_COUNT] = {
    [LCL_F32] = {forward_f32, backward_f32},
    [LCL_F64] = {forward_f64, backward_f64},
    [LCL_F16] = {forward_f16, backward_f16},
    [LCL_BF16] = {forward_bf16, backward_bf16},
};

#if defined(LCL__HAVE_X86_KERNELS)
#include <cpuid.h>

enum { LCL__X86_KNOWN = 1, LCL__X86_AVX2 = 2, LCL__X86_F16C = 4 };

/* What the x86 kernels may use, found once: cpuid traps to the hypervisor in a VM. F16C is
 * read from cpuid directly (some compilers' __builtin_cpu_supports do not know it); the OS
 * support for 256-bit registers that it also needs is part of the "avx2" check. */
static int x86_features(void) {
    static atomic_int cached;
    int features = atomic_load_explicit(&cached, memory_order_relaxed);
    if (features == 0) {
        features = LCL__X86_KNOWN;
        if (__builtin_cpu_supports("avx2")) {
            unsigned eax, ebx, ecx, edx;
            features |= LCL__X86_AVX2;
            if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 29)))
                features |= LCL__X86_F16C;
        }
        atomic_store_explicit(&cached, features, memory_order_relaxed);
    }
    return features;
}

bool lcl__x86_has_f16c(void) {
    int needed = LCL__X86_AVX2 | LCL__X86_F16C;
    return (x86_features() & needed) == needed;
}
#endif

/* The fastest kernel this machine runs for op and dtype. */
static lcl__cpu_block_fn *pick_kernel(enum lcl__op op, lcl_dtype dtype) {
    if (!lcl__dtype_is_float(dtype))
        return NULL;
    const struct kernels *k = &portable[dtype];
#if defined(LCL__HAVE_X86_KERNELS)
    static const struct kernels avx2[LCL__FLOAT_DTYPE_COUNT] = {
        [LCL_F32] = {lcl__forward_f32_avx2, lcl__backward_f32_avx2},
        [LCL_F64] = {lcl__forward_f64_avx2, lcl__backward_f64_avx2},
        [LCL_F16] = {lcl__forward_f16_avx2, lcl__backward_f16_avx2}, /* needs F16C too */
        [LCL_BF16] = {lcl__forward_bf16_avx2, lcl__backward_bf16_avx2},
    };
    int features = x86_features();
    if ((features & LCL__X86_AVX2) && (dtype != LCL_F16 || (features & LCL__X86_F16C)))
        k = &avx2[dtype];
#endif
    return op == LCL__OP_FORWARD ? k->forward : k->backward;
}

/* Where thread t of count starts: near t/count of the way, moved onto an output line boundary
 * so that no two threads write one line and streamed stores start aligned. */
static size_t block_start(size_t n, size_t size, uintptr_t out, size_t t, size_t count) {
    if (t == 0)
        return 0;
    if (t >= count)
        return n;
    size_t at = n / count * t + n % count * t / count;
    if (out % size == 0) {
        size_t per_line = 64 / size;
        size_t first = (64 - out % 64) % 64 / size; /* the first element on a line boundary */
        at = at <= first ? first : first + (at - first + per_line / 2) / per_line * per_line;
    }
    return at < n ? at : n;
}

void lcl__cpu_eltwise(const struct lcl__eltwise *call, const void *sel, const void *grad, void *out) {
    lcl__cpu_block_fn *kernel = pick_kernel(call->op, call->dtype);
    size_t n = call->n;
    if (!kernel || n == 0)
        return;
    size_t size = lcl_dtype_size(call->dtype);
    size_t bytes = n * size;
    double alpha = call->alpha;
    bool stream = bytes >= lcl__cpu_stream_min_bytes();
    if (n < LCL__PARALLEL_MIN) {
        kernel(n, alpha, sel, grad, out, stream);
        return;
    }
    const char *s = sel;
    const char *g = grad;
    char *o = out;
#pragma omp parallel
    {
        size_t count = (size_t)omp_get_num_threads();
        size_t t = (size_t)omp_get_thread_num();
        size_t lo = block_start(n, size, (uintptr_t)out, t, count);
        size_t hi = block_start(n, size, (uintptr_t)out, t + 1, count);
        if (hi > lo)
            kernel(hi - lo, alpha, s + lo * size, g ? g + lo * size : NULL, o + lo * size, stream);
    }
}
