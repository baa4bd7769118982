/* The things leakycl-bench times. */
#ifndef LEAKYCL_BENCH_WORKLOADS_H
#define LEAKYCL_BENCH_WORKLOADS_H

#include <stdint.h>

#include "measure.h"
#include "rows.h"

struct bench_resident {
    lcl_context *ctx;
    enum bench_op op;
    lcl_tensor *x, *dy, *y; /* backward-from-output reads x as its y */
};

struct bench_offload {
    lcl_context *ctx;
    enum bench_op op; /* forward or backward */
    lcl_dtype dtype;
    size_t n;
    const void *x, *dy;
    void *y;
};

struct bench_cl_copy {
    cl_command_queue queue;
    cl_mem src, dst;
    size_t bytes;
};

struct bench_host_copy {
    const void *src;
    void *dst;
    size_t bytes;
};

/* An op of extra.c on resident tensors x, dy, y of n elements (the caller's; extra.c adds a
 * mask, slopes and views of its own). */
struct bench_extra {
    lcl_context *ctx;
    enum bench_op op;
    size_t n;
    lcl_tensor *x, *dy, *y;
    lcl_tensor *mask, *alpha, *dalpha;
    lcl_tensor **vx, **vy; /* batch items */
    double *alphas;
    size_t items, channels, inner;
};

void bench_fill(lcl_dtype dtype, void *dst, size_t n, uint64_t *state);
/* Returns 0, or -1 (its message in lcl_last_error()) after releasing what it made. */
int bench_extra_setup(struct bench_extra *e, lcl_context *ctx, enum bench_op op, size_t n, lcl_tensor *x,
                      lcl_tensor *dy, lcl_tensor *y);
struct bench_work bench_extra_work(struct bench_extra *e);
void bench_extra_release(struct bench_extra *e);
struct bench_work bench_resident_work(struct bench_resident *w);
struct bench_work bench_offload_work(struct bench_offload *w);
struct bench_work bench_cl_copy_work(struct bench_cl_copy *w);
struct bench_work bench_host_copy_work(struct bench_host_copy *w);

#endif
