/* The CPU backend's per-block kernels (cpu.c threads them, cpu_x86.c holds the x86 ones).
 * A kernel computes out[i] = op(sel[i], grad[i]) for i in [0, n) on one thread; out may be the
 * very array sel or grad is. With stream set, it may write out with non-temporal stores (the
 * caller sets it for outputs too large to stay in cache, in place or not) and fences them
 * before it returns. Pointers need no alignment beyond what the caller was given. */
#ifndef LEAKYCL_CPU_KERNELS_H
#define LEAKYCL_CPU_KERNELS_H

#include <stdbool.h>
#include <stddef.h>

typedef void lcl__cpu_block_fn(size_t n, double alpha, const void *sel, const void *grad, void *out, bool stream);

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LCL__HAVE_X86_KERNELS 1
/* Need AVX2 (cpu.c checks at run time). */
lcl__cpu_block_fn lcl__forward_f32_avx2, lcl__backward_f32_avx2;
lcl__cpu_block_fn lcl__forward_f64_avx2, lcl__backward_f64_avx2;
lcl__cpu_block_fn lcl__forward_bf16_avx2, lcl__backward_bf16_avx2;
/* Need AVX2 and F16C. */
lcl__cpu_block_fn lcl__forward_f16_avx2, lcl__backward_f16_avx2;
/* Whether this CPU runs the AVX2 + F16C kernels (cpu.c asks cpuid once; clang's
 * __builtin_cpu_supports does not know "f16c"). */
bool lcl__x86_has_f16c(void);
#endif

#endif /* LEAKYCL_CPU_KERNELS_H */
