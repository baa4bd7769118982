/* The streamed path of host arrays: the staging (pinned buffers on three queues, created on the
 * first streamed call and kept until the context goes) and the chunks through it. offload.c's
 * head comment has the whole picture. */
#include "offload.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define LCL__STAGE_SLOTS 3                       /* chunks in flight: uploading, computing, downloading */
#define LCL__STAGE_CHUNK_BYTES ((size_t)4 << 20) /* per buffer: amortises a command, pipelines early */
#define LCL__STAGE_MEM_SHARE 64                  /* a staging buffer takes at most 1/64 of device memory */
#define LCL__COPY_BLOCK ((size_t)256 << 10)      /* host copies into and out of staging, per thread */
#define LCL__COPY_PARALLEL_MIN ((size_t)1 << 20)

enum stage_queue { Q_UP, Q_KERNEL, Q_DOWN, Q_COUNT };
enum stage_array { A_SEL, A_GRAD, A_COUNT }; /* the output goes back through the last input's buffers */

struct stage_slot {
    cl_mem pinned[A_COUNT]; /* CL_MEM_ALLOC_HOST_PTR, mapped while the staging lives */
    void *host[A_COUNT];    /* their mapped addresses */
    cl_mem device[A_COUNT];
};

struct lcl__staging {
    size_t bytes;  /* of every buffer */
    bool has_grad; /* the A_GRAD buffers exist (since the first backward call) */
    cl_command_queue queues[Q_COUNT];
    struct stage_slot slots[LCL__STAGE_SLOTS];
};

/* ---- the staging: created on the first streamed call, kept until the context goes ----------- */

/* Bytes per staging buffer: LEAKYCL_CHUNK_BYTES, else a few MiB within the device's limits;
 * never under one fp64 element. */
static size_t stage_bytes(const lcl_context *ctx) {
    size_t bytes = ctx->chunk_bytes;
    if (bytes == 0) {
        bytes = LCL__STAGE_CHUNK_BYTES;
        if (ctx->global_mem / LCL__STAGE_MEM_SHARE < bytes)
            bytes = (size_t)(ctx->global_mem / LCL__STAGE_MEM_SHARE) / 64 * 64;
    }
    if (bytes > ctx->max_alloc)
        bytes = (size_t)ctx->max_alloc;
    return bytes < 8 ? 8 : bytes;
}

static void stage_array_free(struct lcl__staging *s, enum stage_array a) {
    for (size_t k = 0; k < LCL__STAGE_SLOTS; ++k) {
        struct stage_slot *slot = &s->slots[k];
        if (slot->host[a] &&
            clEnqueueUnmapMemObject(s->queues[Q_UP], slot->pinned[a], slot->host[a], 0, NULL, NULL) == CL_SUCCESS)
            clFinish(s->queues[Q_UP]); /* release cannot report; an unmap that fails goes with the buffer */
        if (slot->pinned[a])
            clReleaseMemObject(slot->pinned[a]);
        if (slot->device[a])
            clReleaseMemObject(slot->device[a]);
        slot->host[a] = NULL;
        slot->pinned[a] = slot->device[a] = NULL;
    }
}

static void staging_free(struct lcl__staging *s) {
    if (!s)
        return;
    for (size_t q = 0; q < Q_COUNT; ++q)
        if (s->queues[q])
            clFinish(s->queues[q]);
    if (s->queues[Q_UP]) {
        stage_array_free(s, A_SEL);
        stage_array_free(s, A_GRAD);
    }
    for (size_t q = 0; q < Q_COUNT; ++q)
        if (s->queues[q])
            clReleaseCommandQueue(s->queues[q]);
    free(s);
}

/* One pinned and one device buffer per slot for array a; on failure none of them is kept. */
static lcl_status stage_array_create(lcl_context *ctx, struct lcl__staging *s, enum stage_array a) {
    lcl_status st = LCL_SUCCESS;
    for (size_t k = 0; k < LCL__STAGE_SLOTS && st == LCL_SUCCESS; ++k) {
        struct stage_slot *slot = &s->slots[k];
        cl_int err = CL_SUCCESS;
        slot->pinned[a] = clCreateBuffer(ctx->cl_ctx, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, s->bytes, NULL, &err);
        if (LCL__CL_CALL(st, err, "clCreateBuffer(CL_MEM_ALLOC_HOST_PTR)"))
            break;
        slot->host[a] = clEnqueueMapBuffer(s->queues[Q_UP], slot->pinned[a], CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0,
                                           s->bytes, 0, NULL, NULL, &err);
        if (err != CL_SUCCESS)
            slot->host[a] = NULL;
        if (LCL__CL_CALL(st, err, "clEnqueueMapBuffer(staging)"))
            break;
        slot->device[a] = clCreateBuffer(ctx->cl_ctx, CL_MEM_READ_WRITE, s->bytes, NULL, &err);
        LCL__CL_CALL(st, err, "clCreateBuffer(staging)");
    }
    if (st != LCL_SUCCESS)
        stage_array_free(s, a);
    return st;
}

/* The context's staging with the buffers this call needs; the caller holds stage_lock. */
static lcl_status staging_get(lcl_context *ctx, bool need_grad, struct lcl__staging **out) {
    lcl_status st = LCL_SUCCESS;
    struct lcl__staging *s = ctx->staging;
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "out of host memory for the staging buffers");
        s->bytes = stage_bytes(ctx);
        for (size_t q = 0; q < Q_COUNT && st == LCL_SUCCESS; ++q) {
            cl_int err = CL_SUCCESS;
            s->queues[q] = clCreateCommandQueue(ctx->cl_ctx, ctx->device, 0, &err);
            if (err != CL_SUCCESS)
                s->queues[q] = NULL;
            LCL__CL_CALL(st, err, "clCreateCommandQueue(staging)");
        }
        if (st == LCL_SUCCESS)
            st = stage_array_create(ctx, s, A_SEL);
        if (st != LCL_SUCCESS) {
            staging_free(s);
            return st;
        }
        ctx->staging = s;
    }
    if (need_grad && !s->has_grad) {
        if ((st = stage_array_create(ctx, s, A_GRAD)) != LCL_SUCCESS)
            return st;
        s->has_grad = true;
    }
    *out = s;
    return LCL_SUCCESS;
}

void lcl__staging_release(lcl_context *ctx) {
    staging_free(ctx->staging);
    ctx->staging = NULL;
}

/* ---- streamed ------------------------------------------------------------------------------- */

/* memcpy, on the OpenMP threads for large blocks where they have cores to themselves: one
 * thread copies into and out of pinned memory at well under a PCIe bus's speed. */
static void copy_bytes(const lcl_context *ctx, void *dst, const void *src, size_t bytes) {
    if (!ctx->copy_threads || bytes < LCL__COPY_PARALLEL_MIN || omp_in_parallel() || omp_get_max_threads() < 2) {
        memcpy(dst, src, bytes);
        return;
    }
    size_t blocks = (bytes + LCL__COPY_BLOCK - 1) / LCL__COPY_BLOCK;
    char *d = dst;
    const char *s = src;
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < blocks; ++b) {
        size_t at = b * LCL__COPY_BLOCK;
        memcpy(d + at, s + at, bytes - at < LCL__COPY_BLOCK ? bytes - at : LCL__COPY_BLOCK);
    }
}

struct stream {
    lcl_context *ctx;
    struct lcl__staging *s;
    const struct lcl__eltwise *call;
    const char *sel;
    const char *grad;
    char *out;
    size_t size;                     /* bytes per element */
    size_t step;                     /* elements per chunk */
    size_t count;                    /* chunks */
    enum stage_array result;         /* the buffers the output comes back through */
    cl_event done[LCL__STAGE_SLOTS]; /* each slot's download */
};

static size_t chunk_first(const struct stream *w, size_t i) { return i * w->step; }

static size_t chunk_length(const struct stream *w, size_t i) {
    size_t first = chunk_first(w, i);
    return w->call->n - first < w->step ? w->call->n - first : w->step;
}

/* Chunk i into its slot's pinned buffers, then its upload, kernel and download enqueued, each on
 * its own queue after the one before. The caller drained the slot's previous chunk. */
static lcl_status stream_launch(struct stream *w, size_t i) {
    struct stage_slot *slot = &w->s->slots[i % LCL__STAGE_SLOTS];
    cl_command_queue *q = w->s->queues;
    size_t at = chunk_first(w, i) * w->size;
    size_t bytes = chunk_length(w, i) * w->size;
    cl_uint inputs = w->call->op == LCL__OP_BACKWARD ? 2 : 1;
    copy_bytes(w->ctx, slot->host[A_SEL], w->sel + at, bytes);
    if (inputs == 2)
        copy_bytes(w->ctx, slot->host[A_GRAD], w->grad + at, bytes);

    lcl_status st = LCL_SUCCESS;
    cl_event up[A_COUNT] = {NULL, NULL};
    cl_event ran = NULL;
    for (cl_uint a = 0; a < inputs && st == LCL_SUCCESS; ++a)
        LCL__CL_CALL(st,
                     clEnqueueWriteBuffer(q[Q_UP], slot->device[a], CL_FALSE, 0, bytes, slot->host[a], 0, NULL, &up[a]),
                     "clEnqueueWriteBuffer");
    /* Each queue is flushed before another waits on its events, as the spec asks. */
    if (st == LCL_SUCCESS && LCL__CL_CALL(st, clFlush(q[Q_UP]), "clFlush") == LCL_SUCCESS) {
        struct lcl__eltwise part = *w->call;
        part.n = chunk_length(w, i);
        struct lcl__cl_operands ops = {slot->device[A_SEL],     0, inputs == 2 ? slot->device[A_GRAD] : NULL, 0,
                                       slot->device[w->result], 0};
        st = lcl__cl_eltwise_enqueue(w->ctx, q[Q_KERNEL], &part, &ops, inputs, up, &ran);
    }
    if (st == LCL_SUCCESS && LCL__CL_CALL(st, clFlush(q[Q_KERNEL]), "clFlush") == LCL_SUCCESS &&
        LCL__CL_CALL(st,
                     clEnqueueReadBuffer(q[Q_DOWN], slot->device[w->result], CL_FALSE, 0, bytes, slot->host[w->result],
                                         1, &ran, &w->done[i % LCL__STAGE_SLOTS]),
                     "clEnqueueReadBuffer") == LCL_SUCCESS)
        LCL__CL_CALL(st, clFlush(q[Q_DOWN]), "clFlush");
    lcl__release_events(up, A_COUNT);
    lcl__release_events(&ran, 1);
    return st;
}

/* Waits for chunk i's download and copies it into the output. */
static lcl_status stream_drain(struct stream *w, size_t i) {
    struct stage_slot *slot = &w->s->slots[i % LCL__STAGE_SLOTS];
    lcl_status st = lcl__wait_and_release(&w->done[i % LCL__STAGE_SLOTS], 1);
    if (st == LCL_SUCCESS)
        copy_bytes(w->ctx, w->out + chunk_first(w, i) * w->size, slot->host[w->result], chunk_length(w, i) * w->size);
    return st;
}

/* Chunk i is launched once chunk i - SLOTS has come back, so that SLOTS chunks are in flight;
 * the last SLOTS steps only drain. */
static lcl_status stream_chunks(struct stream *w, size_t *failed) {
    lcl_status st;
    for (size_t i = 0; i < w->count + LCL__STAGE_SLOTS; ++i) {
        if (i >= LCL__STAGE_SLOTS) {
            *failed = i - LCL__STAGE_SLOTS;
            if ((st = stream_drain(w, i - LCL__STAGE_SLOTS)) != LCL_SUCCESS)
                return st;
        }
        *failed = i;
        if (i < w->count && (st = stream_launch(w, i)) != LCL_SUCCESS)
            return st;
    }
    return LCL_SUCCESS;
}

lcl_status lcl__stream(lcl_context *ctx, const char *fn, const struct lcl__eltwise *call, const char *sel,
                       const char *grad, void *out) {
    bool backward = call->op == LCL__OP_BACKWARD;
    pthread_mutex_lock(&ctx->stage_lock);
    struct lcl__staging *s = NULL;
    lcl_status st = staging_get(ctx, backward, &s);
    if (st == LCL_SUCCESS && s) {
        size_t size = lcl_dtype_size(call->dtype);
        struct stream w = {.ctx = ctx,
                           .s = s,
                           .call = call,
                           .sel = sel,
                           .grad = grad,
                           .out = out,
                           .size = size,
                           .step = s->bytes / size,
                           .count = (call->n + s->bytes / size - 1) / (s->bytes / size),
                           .result = backward ? A_GRAD : A_SEL};
        size_t failed = 0;
        st = stream_chunks(&w, &failed);
        if (st != LCL_SUCCESS) {
            /* Nothing may still run on the staging when the next call takes it. */
            for (size_t q = 0; q < Q_COUNT; ++q)
                clFinish(s->queues[q]); /* the failure being reported is the one that matters */
            lcl__release_events(w.done, LCL__STAGE_SLOTS);
            size_t lo = chunk_first(&w, failed);
            lcl__note_chunks(fn, failed, failed, w.count, lo, lo + chunk_length(&w, failed));
        }
    }
    pthread_mutex_unlock(&ctx->stage_lock);
    return st;
}
