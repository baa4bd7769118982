/* The zero-copy path of host arrays: the app's memory wrapped with CL_MEM_USE_HOST_PTR piece by
 * piece on the context's host queue, the unaligned edges on the host. offload.c's head comment
 * has the whole picture. */
#include "offload.h"

#include <string.h>

#define LCL__ZC_WINDOW 8 /* zero-copy pieces enqueued before the host waits */

static size_t plan_array(struct lcl__zero_copy_plan *p, const void *array, size_t align, size_t size,
                         cl_mem_flags access) {
    size_t a = 0;
    while (a < p->count && p->base[a] != array)
        ++a;
    if (a == p->count) {
        p->base[a] = array;
        p->head[a] = (align - (uintptr_t)array % align) % align / size;
        p->flags[a] = 0;
        p->count++;
    }
    p->flags[a] |= access;
    return a;
}

bool lcl__zero_copy_plan_make(const lcl_context *ctx, const struct lcl__eltwise *call, const void *sel,
                              const void *grad, const void *out, struct lcl__zero_copy_plan *p) {
    size_t size = lcl_dtype_size(call->dtype);
    size_t align = ctx->base_align;
    if (!ctx->zero_copy || (uintptr_t)sel % size != 0 || (uintptr_t)out % size != 0 ||
        (grad && (uintptr_t)grad % size != 0))
        return false;
    /* Buffers over overlapping host memory are undefined in OpenCL; in place is one buffer. */
    size_t bytes = call->n * size;
    if (grad && lcl__range_overlap(sel, bytes, grad, bytes) == LCL__PARTIAL)
        return false;
    memset(p, 0, sizeof *p);
    p->of_sel = plan_array(p, sel, align, size, CL_MEM_READ_ONLY);
    p->of_grad = grad ? plan_array(p, grad, align, size, CL_MEM_READ_ONLY) : 0;
    p->of_out = plan_array(p, out, align, size, CL_MEM_WRITE_ONLY);
    p->head_min = p->head_max = p->head[0];
    for (size_t a = 0; a < p->count; ++a) {
        if ((p->flags[a] & CL_MEM_READ_ONLY) && (p->flags[a] & CL_MEM_WRITE_ONLY))
            p->flags[a] = CL_MEM_READ_WRITE;
        p->flags[a] |= CL_MEM_USE_HOST_PTR;
        p->head_min = p->head[a] < p->head_min ? p->head[a] : p->head_min;
        p->head_max = p->head[a] > p->head_max ? p->head[a] : p->head_max;
    }
    /* A piece and what its buffers reach before it (under one alignment unit) fit one allocation. */
    size_t piece_bytes = ctx->chunk_bytes ? ctx->chunk_bytes : SIZE_MAX;
    size_t room = ctx->max_alloc > align ? (size_t)(ctx->max_alloc - align) : align;
    piece_bytes = piece_bytes < room ? piece_bytes : room;
    piece_bytes = piece_bytes < align ? align : piece_bytes / align * align;
    p->piece = piece_bytes / size;
    p->pieces = call->n > p->head_max ? (call->n - p->head_max + p->piece - 1) / p->piece : 0;
    return true;
}

static size_t piece_lo(const struct lcl__zero_copy_plan *p, size_t k) { return p->head_max + k * p->piece; }

static size_t piece_hi(const struct lcl__zero_copy_plan *p, size_t k, size_t n) {
    size_t hi = p->head_min + (k + 1) * p->piece;
    return hi < n ? hi : n;
}

static lcl_status host_queue_get(lcl_context *ctx, cl_command_queue *out) {
    lcl_status st = LCL_SUCCESS;
    pthread_mutex_lock(&ctx->lock);
    if (!ctx->host_queue) {
        cl_int err = CL_SUCCESS;
        cl_command_queue q = clCreateCommandQueue(ctx->cl_ctx, ctx->device, 0, &err);
        if (LCL__CL_CALL(st, err, "clCreateCommandQueue(host arrays)") == LCL_SUCCESS)
            ctx->host_queue = q;
    }
    *out = ctx->host_queue;
    pthread_mutex_unlock(&ctx->lock);
    return st;
}

void lcl__host_queue_release(lcl_context *ctx) {
    if (ctx->host_queue) {
        clFinish(ctx->host_queue);
        clReleaseCommandQueue(ctx->host_queue);
        ctx->host_queue = NULL;
    }
}

/* Piece k: wraps the arrays, enqueues the kernel, then maps and unmaps the output's part so
 * that the results are in host memory once *unmapped completes. */
static lcl_status zc_piece(lcl_context *ctx, cl_command_queue queue, const struct lcl__eltwise *call,
                           const struct lcl__zero_copy_plan *p, size_t k, cl_event *unmapped) {
    size_t size = lcl_dtype_size(call->dtype);
    size_t lo = piece_lo(p, k);
    size_t hi = piece_hi(p, k, call->n);
    size_t first[3]; /* each buffer's first element */
    cl_mem mem[3] = {NULL, NULL, NULL};
    lcl_status st = LCL_SUCCESS;
    for (size_t a = 0; a < p->count && st == LCL_SUCCESS; ++a) {
        cl_int err = CL_SUCCESS;
        first[a] = p->head[a] + k * p->piece;
        /* USE_HOST_PTR takes a void *; read-only buffers are never written through it. */
        void *host = (void *)(p->base[a] + first[a] * size);
        mem[a] = clCreateBuffer(ctx->cl_ctx, p->flags[a], (hi - first[a]) * size, host, &err);
        if (err != CL_SUCCESS)
            mem[a] = NULL;
        LCL__CL_CALL(st, err, "clCreateBuffer(CL_MEM_USE_HOST_PTR)");
    }
    if (st == LCL_SUCCESS) {
        struct lcl__eltwise part = *call;
        part.n = hi - lo;
        struct lcl__cl_operands ops = {
            mem[p->of_sel],         lo - first[p->of_sel], call->op == LCL__OP_BACKWARD ? mem[p->of_grad] : NULL,
            lo - first[p->of_grad], mem[p->of_out],        lo - first[p->of_out]};
        st = lcl__cl_eltwise_enqueue(ctx, queue, &part, &ops, 0, NULL, NULL);
    }
    void *mapped = NULL;
    if (st == LCL_SUCCESS) {
        cl_int err = CL_SUCCESS;
        mapped = clEnqueueMapBuffer(queue, mem[p->of_out], CL_FALSE, CL_MAP_READ, (lo - first[p->of_out]) * size,
                                    (hi - lo) * size, 0, NULL, NULL, &err);
        LCL__CL_CALL(st, err, "clEnqueueMapBuffer");
    }
    if (st == LCL_SUCCESS &&
        LCL__CL_CALL(st, clEnqueueUnmapMemObject(queue, mem[p->of_out], mapped, 0, NULL, unmapped),
                     "clEnqueueUnmapMemObject") == LCL_SUCCESS &&
        LCL__CL_CALL(st, clFlush(queue), "clFlush") != LCL_SUCCESS) {
        /* The caller waits for the pieces that succeeded only: this one's event is ours to drop. */
        clReleaseEvent(*unmapped);
        *unmapped = NULL;
    }
    /* The queue keeps what its commands use until they finish. */
    for (size_t a = 0; a < p->count; ++a)
        if (mem[a])
            clReleaseMemObject(mem[a]);
    return st;
}

/* The elements [lo, hi) on the host. */
static void host_range(lcl__host_eltwise_fn *on_host, const struct lcl__eltwise *call, const char *sel,
                       const char *grad, char *out, size_t lo, size_t hi) {
    if (hi <= lo)
        return;
    size_t size = lcl_dtype_size(call->dtype);
    struct lcl__eltwise part = *call;
    part.n = hi - lo;
    on_host(&part, sel + lo * size, grad ? grad + lo * size : NULL, out + lo * size);
}

lcl_status lcl__zero_copy(lcl_context *ctx, const char *fn, const struct lcl__eltwise *call,
                          const struct lcl__zero_copy_plan *p, const char *sel, const char *grad, char *out,
                          lcl__host_eltwise_fn *on_host) {
    lcl_status st = LCL_SUCCESS;
    cl_command_queue queue = NULL;
    cl_event pending[LCL__ZC_WINDOW];
    size_t waiting = 0; /* pieces enqueued and not yet waited for: [k - waiting, k) */
    size_t k = 0;
    size_t failed_first = 0; /* the pieces a failure concerns */
    size_t failed_last = 0;
    if (p->pieces > 0 && (st = host_queue_get(ctx, &queue)) != LCL_SUCCESS)
        return st;
    for (; k < p->pieces; ++k) {
        if (waiting == LCL__ZC_WINDOW) {
            failed_first = k - waiting;
            failed_last = k - 1;
            if ((st = lcl__wait_and_release(pending, waiting)) != LCL_SUCCESS)
                break;
            waiting = 0;
        }
        failed_first = failed_last = k;
        if ((st = zc_piece(ctx, queue, call, p, k, &pending[waiting])) != LCL_SUCCESS)
            break;
        waiting++;
    }
    if (st == LCL_SUCCESS && waiting > 0) {
        failed_first = k - waiting;
        failed_last = k - 1;
        st = lcl__wait_and_release(pending, waiting);
    }
    if (st != LCL_SUCCESS) {
        clFinish(queue); /* the failure being reported is the one that matters */
        lcl__release_events(pending, waiting);
        lcl__note_chunks(fn, failed_first, failed_last, p->pieces, piece_lo(p, failed_first),
                         piece_hi(p, failed_last, call->n));
        return st;
    }
    /* The device is done: the host fills the gaps, which no buffer of this call wraps any more. */
    size_t done = 0;
    for (k = 0; k < p->pieces; ++k) {
        host_range(on_host, call, sel, grad, out, done, piece_lo(p, k));
        done = piece_hi(p, k, call->n);
    }
    host_range(on_host, call, sel, grad, out, done, call->n);
    return LCL_SUCCESS;
}
