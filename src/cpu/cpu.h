/* The CPU backend (src/cpu/): host arrays in, host arrays out, arguments already validated. It
 * is also the reference LEAKYCL_VERIFY checks the OpenCL backend against. */
#ifndef LEAKYCL_CPU_H
#define LEAKYCL_CPU_H

#include "internal.h"

/* For the small functions a kernel is built from, passed to it as constant function pointers:
 * forced inline, so that no call is left in its loops. */
#define LCL__INLINE static inline __attribute__((always_inline))

/* Elementwise on host arrays of dtype (eltwise.c); out may equal sel or grad. */
void lcl__cpu_eltwise(const struct lcl__eltwise *call, const void *sel, const void *grad, void *out);
/* Outputs from this many bytes (half the last-level cache) go out with non-temporal stores:
 * they cannot stay in cache anyway. */
size_t lcl__cpu_stream_min_bytes(void);

/* A batch's items (batch.c), validated: they share no output element. */
void lcl__cpu_batch(const struct lcl__batch *b);

/* PReLU (prelu.c); out may equal x or dy, dalpha may equal alpha. Fails only when out of
 * memory for dalpha's partial sums, before anything is written. */
lcl_status lcl__cpu_prelu(const struct lcl__prelu *call, const void *alpha, const void *x, const void *dy, void *out,
                          void *dalpha);

/* The sign mask (mask.c): n bits in ceil(n / 32) words; bits past n in the last word are left as
 * they were. y may equal x, dx may equal dy. */
void lcl__cpu_forward_masked(lcl_dtype dtype, size_t n, double alpha, const void *x, void *y, uint32_t *mask);
void lcl__cpu_backward_masked(lcl_dtype dtype, size_t n, double alpha, const uint32_t *mask, const void *dy, void *dx);

/* The dense layer through CBLAS (dense.c). */
lcl_status lcl__cpu_dense_forward(lcl_context *ctx, const struct lcl__dense *call, const struct lcl__dense_args *a);
lcl_status lcl__cpu_dense_backward(lcl_context *ctx, const struct lcl__dense *call, const struct lcl__dense_args *a);

#endif /* LEAKYCL_CPU_H */
