/* The dense layer on the CPU backend: CBLAS (OpenBLAS) for the products, and loops here for the
 * epilogues, in the calling thread. Not on OpenMP threads: Debian's OpenBLAS runs its own
 * pthreads, and OpenMP's threads, spinning after a parallel region, took the cores from the next
 * GEMM (measured: the forward at 256x512x512 on 2 cores went from 7 ms to 22 ms); an epilogue is
 * one pass over y, 1/in of the GEMM's work. dz is lcl_backward_from_output's arithmetic, and in
 * the same pass db's partial sums with the OpenCL kernel's partition and order: per column, over
 * blocks of LCL__DENSE_ROWS rows, flushed every FLUSH_ROWS rows; then each column's partials
 * pairwise. dz lives in a host workspace the context keeps (one backward at a time per context
 * uses it). Without CBLAS at build time both ops return LCL_ERROR_UNSUPPORTED. */
#include "cpu.h"

#ifdef LEAKYCL_HAVE_CBLAS

#include <cblas.h>
#include <limits.h>
#include <string.h>

#define FLUSH_ROWS 16

static float *host_f32(const lcl_tensor *t) { return lcl__tensor_host_ptr(t); }

/* CBLAS counts rows, columns and leading dimensions in int. */
static lcl_status check_int_sizes(const char *fn, const struct lcl__dense *call) {
    if (call->batch > INT_MAX || call->in > INT_MAX || call->out > INT_MAX)
        return lcl__fail(LCL_ERROR_UNSUPPORTED, "%s: batch %zu, in %zu, out %zu: CBLAS takes sizes up to %d", fn,
                         call->batch, call->in, call->out, INT_MAX);
    return LCL_SUCCESS;
}

/* y = f(y + b) in place; without b, y = f(y) (a -0 stays -0, as lcl_forward keeps it). */
static void epilogue(const struct lcl__dense *call, const float *b, float *y) {
    size_t batch = call->batch, out = call->out;
    float alpha = (float)call->alpha;
    for (size_t r = 0; r < batch; ++r) {
        float *row = y + r * out;
        if (b) {
#pragma omp simd
            for (size_t j = 0; j < out; ++j) {
                float v = row[j] + b[j];
                float scaled = alpha * v;
                row[j] = v > 0 ? v : scaled;
            }
        } else {
#pragma omp simd
            for (size_t j = 0; j < out; ++j) {
                float v = row[j];
                float scaled = alpha * v;
                row[j] = v > 0 ? v : scaled;
            }
        }
    }
}

lcl_status lcl__cpu_dense_forward(lcl_context *ctx, const struct lcl__dense *call, const struct lcl__dense_args *a) {
    (void)ctx;
    lcl_status st = check_int_sizes("lcl_dense_forward", call);
    if (st != LCL_SUCCESS)
        return st;
    float *y = host_f32(a->out_y);
    /* beta = 0: OpenBLAS sets C to zero first rather than scaling it, so whatever y held (NaN
     * included) does not leak into the result. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)call->batch, (int)call->out, (int)call->in, 1.0f,
                host_f32(a->x), (int)call->in, host_f32(a->w), (int)call->in, 0.0f, y, (int)call->out);
    epilogue(call, a->b ? host_f32(a->b) : NULL, y);
    return LCL_SUCCESS;
}

/* Pairwise in index order, as prelu.cl's lcl_prelu_dalpha adds the OpenCL partials. */
static float pairwise(const float *v, size_t n) {
    if (n <= 2)
        return n == 2 ? v[0] + v[1] : v[0];
    size_t half = (size_t)1;
    while (half * 2 < n)
        half *= 2;
    return pairwise(v, half) + pairwise(v + half, n - half);
}

/* dz = dy where y > 0, else alpha * dy; with partial (db wanted), each column's sums over the
 * row blocks into partial[j * row_blocks + rb], run and sum holding `out` running sums. */
static void dz_pass(const struct lcl__dense *call, const float *y, const float *dy, float *dz, float *partial,
                    float *run, float *sum) {
    size_t batch = call->batch, out = call->out;
    size_t row_blocks = batch / LCL__DENSE_ROWS + (batch % LCL__DENSE_ROWS != 0);
    float alpha = (float)call->alpha;
    for (size_t rb = 0; rb < row_blocks; ++rb) {
        size_t r1 = (rb + 1) * LCL__DENSE_ROWS < batch ? (rb + 1) * LCL__DENSE_ROWS : batch;
        if (partial) {
            memset(run, 0, out * sizeof *run);
            memset(sum, 0, out * sizeof *sum);
        }
        for (size_t r = rb * LCL__DENSE_ROWS, steps = 1; r < r1; ++r, ++steps) {
            const float *yr = y + r * out, *gr = dy + r * out;
            float *dr = dz + r * out;
#pragma omp simd
            for (size_t j = 0; j < out; ++j) {
                float scaled = alpha * gr[j];
                dr[j] = yr[j] > 0 ? gr[j] : scaled;
            }
            if (!partial)
                continue;
            for (size_t j = 0; j < out; ++j)
                run[j] += dr[j];
            if (steps % FLUSH_ROWS == 0)
                for (size_t j = 0; j < out; ++j) {
                    sum[j] += run[j];
                    run[j] = 0;
                }
        }
        for (size_t j = 0; partial && j < out; ++j)
            partial[j * row_blocks + rb] = sum[j] + run[j];
    }
}

lcl_status lcl__cpu_dense_backward(lcl_context *ctx, const struct lcl__dense *call, const struct lcl__dense_args *a) {
    size_t dz_n = call->batch * call->out;
    size_t row_blocks = call->batch / LCL__DENSE_ROWS + (call->batch % LCL__DENSE_ROWS != 0);
    size_t partial_n = a->db ? call->out * (row_blocks + 2) : 0; /* and the running sums */
    lcl_status st = check_int_sizes("lcl_dense_backward", call);
    if (st != LCL_SUCCESS)
        return st;
    if (dz_n > SIZE_MAX / sizeof(float) - partial_n)
        return lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "lcl_dense_backward: dz of %zu elements does not fit in memory",
                         dz_n);
    struct lcl__workspace *ws = NULL;
    st = lcl__workspace_lock(ctx, LCL__WS_DENSE, &ws);
    if (st != LCL_SUCCESS)
        return st;
    void *room = NULL;
    st = lcl__workspace_staging(ws, (dz_n + partial_n) * sizeof(float), &room);
    if (st == LCL_SUCCESS) {
        float *dz = room, *partial = a->db ? dz + dz_n : NULL;
        float *run = partial ? partial + call->out * row_blocks : NULL, *sum = run ? run + call->out : NULL;
        dz_pass(call, host_f32(a->y), host_f32(a->dy), dz, partial, run, sum);
        int batch = (int)call->batch, in = (int)call->in, out = (int)call->out;
        for (size_t j = 0; a->db && j < call->out; ++j)
            host_f32(a->db)[j] = pairwise(partial + j * row_blocks, row_blocks);
        if (a->dw)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, batch, 1.0f, dz, out, host_f32(a->x), in,
                        0.0f, host_f32(a->dw), in);
        if (a->dx)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, in, out, 1.0f, dz, out, host_f32(a->w), in,
                        0.0f, host_f32(a->dx), in);
    }
    lcl__workspace_unlock(ws);
    return st;
}

#else /* no CBLAS */

lcl_status lcl__cpu_dense_forward(lcl_context *ctx, const struct lcl__dense *call, const struct lcl__dense_args *a) {
    (void)ctx, (void)call, (void)a;
    return lcl__fail(LCL_ERROR_UNSUPPORTED, "lcl_dense_forward: leakycl was built without CBLAS (OpenBLAS), which "
                                            "the CPU backend's dense layer needs (Debian: libopenblas-dev)");
}

lcl_status lcl__cpu_dense_backward(lcl_context *ctx, const struct lcl__dense *call, const struct lcl__dense_args *a) {
    (void)ctx, (void)call, (void)a;
    return lcl__fail(LCL_ERROR_UNSUPPORTED, "lcl_dense_backward: leakycl was built without CBLAS (OpenBLAS), which "
                                            "the CPU backend's dense layer needs (Debian: libopenblas-dev)");
}

#endif
