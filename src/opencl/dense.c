/* The dense layer on OpenCL: CLBlast's SGEMM on the context's queue, and dense.cl's epilogues.
 * Forward: y = x . w^T, then one in-place pass y = f(y + b). Backward: dz = dy * f'(y) with db's
 * partial column sums in one pass, their pairwise sums into db, then dw = dz^T . x and
 * dx = dz . w. dz, the partials and CLBlast's temporary buffer live in workspaces the context
 * keeps, so after the first call of a size nothing is allocated. Without CLBlast at build time
 * both ops return LCL_ERROR_UNSUPPORTED. */
#include "opencl.h"

#ifdef LEAKYCL_HAVE_CLBLAST

#include <clblast_c.h>
#include <pthread.h>

/* CLBlast 1.5 (Debian 12's) is not safe to call from two threads at once: building its
 * per-device parameter database races on shared entries (a use-after-free under ASan, with two
 * contexts each making their first GEMM, found by tests/stress; CLBlast 1.6.1 fixed a race of
 * the same kind in its caches, issue 486). Contexts are independent in leakycl's contract, so
 * every CLBlast call is serialised here. The calls only enqueue work (apart from the first
 * compile of a shape), so the lock is held briefly. */
static pthread_mutex_t clblast_lock = PTHREAD_MUTEX_INITIALIZER;

/* CLBlast's own statuses; the others are OpenCL's codes, passed through (clblast_c.h). */
static const char *clblast_name(CLBlastStatusCode code) {
    if (code > -1000)
        return lcl__cl_error_name((cl_int)code);
    switch ((int)code) {
#define LCL__CLBLAST(name)                                                                                             \
    case name:                                                                                                         \
        return #name;
        LCL__CLBLAST(CLBlastNotImplemented)
        LCL__CLBLAST(CLBlastInvalidMatrixA)
        LCL__CLBLAST(CLBlastInvalidMatrixB)
        LCL__CLBLAST(CLBlastInvalidMatrixC)
        LCL__CLBLAST(CLBlastInvalidVectorX)
        LCL__CLBLAST(CLBlastInvalidVectorY)
        LCL__CLBLAST(CLBlastInvalidDimension)
        LCL__CLBLAST(CLBlastInvalidLeadDimA)
        LCL__CLBLAST(CLBlastInvalidLeadDimB)
        LCL__CLBLAST(CLBlastInvalidLeadDimC)
        LCL__CLBLAST(CLBlastInvalidIncrementX)
        LCL__CLBLAST(CLBlastInvalidIncrementY)
        LCL__CLBLAST(CLBlastInsufficientMemoryA)
        LCL__CLBLAST(CLBlastInsufficientMemoryB)
        LCL__CLBLAST(CLBlastInsufficientMemoryC)
        LCL__CLBLAST(CLBlastInsufficientMemoryX)
        LCL__CLBLAST(CLBlastInsufficientMemoryY)
        LCL__CLBLAST(CLBlastInsufficientMemoryTemp)
        LCL__CLBLAST(CLBlastInvalidBatchCount)
        LCL__CLBLAST(CLBlastInvalidOverrideKernel)
        LCL__CLBLAST(CLBlastMissingOverrideParameter)
        LCL__CLBLAST(CLBlastInvalidLocalMemUsage)
        LCL__CLBLAST(CLBlastNoHalfPrecision)
        LCL__CLBLAST(CLBlastNoDoublePrecision)
        LCL__CLBLAST(CLBlastInvalidVectorScalar)
        LCL__CLBLAST(CLBlastInsufficientMemoryScalar)
        LCL__CLBLAST(CLBlastDatabaseError)
        LCL__CLBLAST(CLBlastUnknownError)
        LCL__CLBLAST(CLBlastUnexpectedError)
#undef LCL__CLBLAST
    }
    return "unknown CLBlast status";
}

static lcl_status clblast_check(CLBlastStatusCode code, const char *call, const char *what) {
    if (code == CLBlastSuccess)
        return LCL_SUCCESS;
    return lcl__fail(LCL_ERROR_BLAS, "%s (%s) failed: %s (%d)", call, what, clblast_name(code), (int)code);
}

/* A matrix of a GEMM: its buffer, first element and leading dimension. */
struct matrix {
    cl_mem mem;
    size_t off, ld;
};

static struct matrix matrix_of(const lcl_tensor *t, size_t ld) {
    return (struct matrix){t->storage->mem, t->offset, ld};
}

/* One row-major SGEMM, c (m x n) = op(a) . op(b) over k; `what` names it in messages. CLBlast
 * would allocate its temporary buffer on every call that needs one (padded or transposed copies
 * for its indirect kernel): it gets the context's workspace instead, held until the GEMM is
 * enqueued (the queue is in order, so the next holder runs after it). */
static lcl_status sgemm(lcl_context *ctx, const char *what, CLBlastTranspose ta, CLBlastTranspose tb, size_t m,
                        size_t n, size_t k, struct matrix a, struct matrix b, struct matrix c) {
    struct lcl__workspace *ws = NULL;
    lcl_status st = lcl__workspace_lock(ctx, LCL__WS_GEMM, &ws);
    if (st != LCL_SUCCESS)
        return st;
    size_t temp_bytes = 0;
    atomic_store(&ctx->used_clblast, true);
    pthread_mutex_lock(&clblast_lock);
    st = clblast_check(CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, ta, tb, m, n, k, a.off, a.ld, b.off, b.ld,
                                                  c.off, c.ld, &ctx->queue, &temp_bytes),
                       "CLBlastSGemmTempBufferSize", what);
    pthread_mutex_unlock(&clblast_lock);
    cl_mem temp = NULL;
    if (st == LCL_SUCCESS)
        st = lcl__workspace_device(ctx, ws, temp_bytes ? temp_bytes : 1, &temp);
    cl_event event = NULL;
    if (st == LCL_SUCCESS) {
        pthread_mutex_lock(&clblast_lock);
        st = clblast_check(CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, ta, tb, m, n, k, 1.0f, a.mem, a.off, a.ld,
                                                      b.mem, b.off, b.ld, 0.0f, c.mem, c.off, c.ld, &ctx->queue, &event,
                                                      temp),
                           "CLBlastSgemmWithTempBuffer", what);
        pthread_mutex_unlock(&clblast_lock);
    }
    if (event)
        clReleaseEvent(event);
    lcl__workspace_unlock(ws);
    return st;
}

lcl_status lcl__cl_dense_forward(lcl_context *ctx, const struct lcl__dense *call, const struct lcl__dense_args *a) {
    const lcl_tensor *x = a->x, *w = a->w, *b = a->b;
    lcl_tensor *y = a->out_y;
    lcl_status st = sgemm(ctx, "y = x . w^T", CLBlastTransposeNo, CLBlastTransposeYes, call->batch, call->out, call->in,
                          matrix_of(x, call->in), matrix_of(w, call->in), matrix_of(y, call->out));
    struct lcl__launch l;
    if (st != LCL_SUCCESS || (st = lcl__launch_begin(ctx, LCL_F32, LCL__K_DENSE_FORWARD, &l)) != LCL_SUCCESS)
        return st;
    lcl__launch_tensor(&l, y);
    lcl__launch_tensor(&l, b ? b : y); /* never read without a bias, but must be a buffer */
    cl_uint has_bias = b != NULL;
    lcl__launch_arg(&l, sizeof has_bias, &has_bias);
    lcl__launch_ulong(&l, call->batch);
    lcl__launch_ulong(&l, call->out);
    lcl__launch_alpha(&l, call->alpha);
    size_t cols = ctx->tune.dense_columns;
    size_t segments = call->out / cols + (call->out % cols != 0);
    return lcl__launch_end(ctx, &l, call->batch * segments);
}

static size_t row_blocks_of(const struct lcl__dense *call) {
    return call->batch / LCL__DENSE_ROWS + (call->batch % LCL__DENSE_ROWS != 0);
}

/* The workspace holds db's partial sums (if any) and then dz, from element dz_off: the sums
 * come first because the second stage's kernel reads them from the buffer's start. */
static lcl_status dz_and_db(lcl_context *ctx, const struct lcl__dense *call, const struct lcl__dense_args *a, cl_mem ws,
                            size_t dz_off) {
    if (!a->db) {
        struct lcl__eltwise e = {
            .op = LCL__OP_BACKWARD, .dtype = LCL_F32, .alpha = call->alpha, .n = call->batch * call->out};
        struct lcl__cl_operands ops = {a->y->storage->mem, a->y->offset, a->dy->storage->mem,
                                       a->dy->offset,      ws,           dz_off};
        return lcl__cl_eltwise_enqueue(ctx, ctx->queue, &e, &ops, 0, NULL, NULL);
    }
    size_t row_blocks = row_blocks_of(call);
    struct lcl__launch l;
    lcl_status st = lcl__launch_begin(ctx, LCL_F32, LCL__K_DENSE_BACKWARD, &l);
    if (st != LCL_SUCCESS)
        return st;
    lcl__launch_tensor(&l, a->y);
    lcl__launch_tensor(&l, a->dy);
    lcl__launch_mem(&l, ws);
    lcl__launch_ulong(&l, dz_off);
    lcl__launch_mem(&l, ws);
    lcl__launch_ulong(&l, call->batch);
    lcl__launch_ulong(&l, call->out);
    lcl__launch_ulong(&l, LCL__DENSE_ROWS);
    lcl__launch_ulong(&l, row_blocks);
    lcl__launch_alpha(&l, call->alpha);
    st = lcl__launch_end(ctx, &l, row_blocks * call->out);
    if (st == LCL_SUCCESS && (st = lcl__launch_begin(ctx, LCL_F32, LCL__K_PRELU_DALPHA, &l)) == LCL_SUCCESS) {
        lcl__launch_mem(&l, ws);
        lcl__launch_ulong(&l, call->out);
        lcl__launch_ulong(&l, row_blocks);
        lcl__launch_tensor(&l, a->db);
        lcl__launch_ulong(&l, 0); /* the partials start the workspace */
        st = lcl__launch_end(ctx, &l, call->out);
    }
    return st;
}

lcl_status lcl__cl_dense_backward(lcl_context *ctx, const struct lcl__dense *call, const struct lcl__dense_args *a) {
    /* dz from a 64-byte boundary, where vector and non-temporal stores may go. */
    size_t dz_off = a->db ? (call->out * row_blocks_of(call) + 15) / 16 * 16 : 0;
    size_t dz_n = call->batch * call->out;
    if (dz_n > (SIZE_MAX / sizeof(float)) - dz_off)
        return lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "lcl_dense_backward: dz of %zu elements does not fit in memory",
                         dz_n);
    struct lcl__workspace *ws = NULL;
    lcl_status st = lcl__workspace_lock(ctx, LCL__WS_DENSE, &ws);
    if (st != LCL_SUCCESS)
        return st;
    cl_mem mem = NULL;
    st = lcl__workspace_device(ctx, ws, (dz_off + dz_n) * sizeof(float), &mem);
    if (st == LCL_SUCCESS)
        st = dz_and_db(ctx, call, a, mem, dz_off);
    struct matrix dz = {mem, dz_off, call->out};
    if (st == LCL_SUCCESS && a->dw)
        st = sgemm(ctx, "dw = dz^T . x", CLBlastTransposeYes, CLBlastTransposeNo, call->out, call->in, call->batch, dz,
                   matrix_of(a->x, call->in), matrix_of(a->dw, call->in));
    if (st == LCL_SUCCESS && a->dx)
        st = sgemm(ctx, "dx = dz . w", CLBlastTransposeNo, CLBlastTransposeNo, call->batch, call->in, call->out, dz,
                   matrix_of(a->w, call->in), matrix_of(a->dx, call->in));
    lcl__workspace_unlock(ws);
    return st;
}

/* CLBlast's program cache is process-wide and never shrinks by itself: its programs would keep
 * this context's cl_context alive after lcl_context_release (CLBlast issue 44). The cache
 * cannot be cleared per context, so other contexts recompile theirs (from PoCL's or the
 * driver's cache) on their next dense call. */
void lcl__cl_dense_release(lcl_context *ctx) {
    if (atomic_load(&ctx->used_clblast)) {
        pthread_mutex_lock(&clblast_lock);
        CLBlastClearCache();
        pthread_mutex_unlock(&clblast_lock);
    }
}

#else /* no CLBlast */

void lcl__cl_dense_release(lcl_context *ctx) { (void)ctx; }

lcl_status lcl__cl_dense_forward(lcl_context *ctx, const struct lcl__dense *call, const struct lcl__dense_args *a) {
    (void)ctx, (void)call, (void)a;
    return lcl__fail(LCL_ERROR_UNSUPPORTED, "lcl_dense_forward: leakycl was built without CLBlast, which the "
                                            "OpenCL backend's dense layer needs (Debian: libclblast-dev)");
}

lcl_status lcl__cl_dense_backward(lcl_context *ctx, const struct lcl__dense *call, const struct lcl__dense_args *a) {
    (void)ctx, (void)call, (void)a;
    return lcl__fail(LCL_ERROR_UNSUPPORTED, "lcl_dense_backward: leakycl was built without CLBlast, which the "
                                            "OpenCL backend's dense layer needs (Debian: libclblast-dev)");
}

#endif
