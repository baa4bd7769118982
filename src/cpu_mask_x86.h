/* The sign mask's AVX2 kernels (cpu_mask_x86.c), picked at run time by cpu_mask.c. Each does
 * the whole words [w0, w1) of one thread: 32 elements and one mask word at a time, bit for bit
 * as cpu_mask.c's portable loops. With stream, y or dx (which the caller has checked is 32-byte
 * aligned at element 0) and the forward's mask words are written with non-temporal stores,
 * fenced before the kernel returns. */
#ifndef LEAKYCL_CPU_MASK_X86_H
#define LEAKYCL_CPU_MASK_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LCL__HAVE_X86_MASK_KERNELS 1

typedef void lcl__mask_forward_fn(size_t w0, size_t w1, double alpha, const void *x, void *y, uint32_t *mask,
                                  bool stream);
typedef void lcl__mask_backward_fn(size_t w0, size_t w1, double alpha, const uint32_t *mask, const void *dy, void *dx,
                                   bool stream);

/* Need AVX2 (the f16 ones F16C too). */
lcl__mask_forward_fn lcl__mask_forward_f32_avx2, lcl__mask_forward_f64_avx2, lcl__mask_forward_bf16_avx2,
    lcl__mask_forward_f16_avx2;
lcl__mask_backward_fn lcl__mask_backward_f32_avx2, lcl__mask_backward_f64_avx2, lcl__mask_backward_bf16_avx2,
    lcl__mask_backward_f16_avx2;
#endif

#endif /* LEAKYCL_CPU_MASK_X86_H */
