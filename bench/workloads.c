/* What leakycl-bench times: the ops on device-resident tensors, the ops on host arrays
 * (offload), and the copies they are compared with. */
#include "workloads.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_ALPHA 0.01

/* Nonzero values of both signs, magnitudes 2^-4 to 2^4, as the storage type's bits: no zeros
 * (they flatter a select) and no subnormals (they slow some CPUs for reasons beside the op). */
void bench_fill(lcl_dtype dtype, void *dst, size_t n, uint64_t *state) {
    for (size_t i = 0; i < n; ++i) {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        uint64_t r = *state;
        uint64_t sign = r & 1;
        uint64_t exp_off = (r >> 1) % 9; /* 0..8 -> 2^-4 .. 2^4 */
        uint64_t mant = r >> 12;
        switch (dtype) {
        case LCL_F32:
            ((uint32_t *)dst)[i] = (uint32_t)(sign << 31 | (123 + exp_off) << 23 | (mant & 0x7fffff));
            break;
        case LCL_F64:
            ((uint64_t *)dst)[i] = sign << 63 | (1019 + exp_off) << 52 | (mant & 0xfffffffffffffull);
            break;
        case LCL_F16:
            ((uint16_t *)dst)[i] = (uint16_t)(sign << 15 | (11 + exp_off) << 10 | (mant & 0x3ff));
            break;
        case LCL_BF16:
            ((uint16_t *)dst)[i] = (uint16_t)(sign << 15 | (123 + exp_off) << 7 | (mant & 0x7f));
            break;
        case LCL_MASK:
            break;
        }
    }
}

static int op_status(lcl_status st) { return st == LCL_SUCCESS ? 0 : -1; }

static int run_resident(void *arg) {
    struct bench_resident *w = arg;
    switch (w->op) {
    case BENCH_FORWARD:
        return op_status(lcl_forward(w->ctx, BENCH_ALPHA, w->x, w->y));
    case BENCH_BACKWARD:
        return op_status(lcl_backward(w->ctx, BENCH_ALPHA, w->x, w->dy, w->y));
    case BENCH_BACKWARD_FROM_OUTPUT:
        return op_status(lcl_backward_from_output(w->ctx, BENCH_ALPHA, w->x, w->dy, w->y));
    default:
        break; /* extra.c runs the others */
    }
    return -1;
}

static int sync_context(void *arg) { return op_status(lcl_finish(((struct bench_resident *)arg)->ctx)); }

struct bench_work bench_resident_work(struct bench_resident *w) {
    return (struct bench_work){run_resident, sync_context, w};
}

static int run_offload(void *arg) {
    struct bench_offload *w = arg;
    if (w->op == BENCH_FORWARD)
        return op_status(lcl_forward_host(w->ctx, w->dtype, w->n, BENCH_ALPHA, w->x, w->y));
    return op_status(lcl_backward_host(w->ctx, w->dtype, w->n, BENCH_ALPHA, w->x, w->dy, w->y));
}

struct bench_work bench_offload_work(struct bench_offload *w) {
    return (struct bench_work){run_offload, NULL, w};
}

static int run_cl_copy(void *arg) {
    struct bench_cl_copy *w = arg;
    return clEnqueueCopyBuffer(w->queue, w->src, w->dst, 0, 0, w->bytes, 0, NULL, NULL) == CL_SUCCESS ? 0 : -1;
}

static int sync_cl_copy(void *arg) { return clFinish(((struct bench_cl_copy *)arg)->queue) == CL_SUCCESS ? 0 : -1; }

struct bench_work bench_cl_copy_work(struct bench_cl_copy *w) {
    return (struct bench_work){run_cl_copy, sync_cl_copy, w};
}

/* memcpy split over the same threads the CPU backend uses, block edges on cache lines. */
static int run_host_copy(void *arg) {
    struct bench_host_copy *w = arg;
    if (w->bytes < ((size_t)1 << 18)) {
        memcpy(w->dst, w->src, w->bytes);
        return 0;
    }
#pragma omp parallel
    {
        size_t threads = (size_t)omp_get_num_threads();
        size_t t = (size_t)omp_get_thread_num();
        size_t block = (w->bytes / threads + 63) / 64 * 64;
        size_t begin = t * block < w->bytes ? t * block : w->bytes;
        size_t end = begin + block < w->bytes ? begin + block : w->bytes;
        memcpy((char *)w->dst + begin, (const char *)w->src + begin, end - begin);
    }
    return 0;
}

struct bench_work bench_host_copy_work(struct bench_host_copy *w) {
    return (struct bench_work){run_host_copy, NULL, w};
}
