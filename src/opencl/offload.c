/* Host arrays on an OpenCL device, two ways:
 *
 * - Zero-copy, where the device shares host memory (CL_DEVICE_HOST_UNIFIED_MEMORY: PoCL,
 *   integrated GPUs). Each array is wrapped with CL_MEM_USE_HOST_PTR from its first address
 *   that meets CL_DEVICE_MEM_BASE_ADDR_ALIGN, the kernel runs on the wrapped memory, and the
 *   output is mapped and unmapped so that the results are in host memory when the call
 *   returns. The elements before that address (fewer than one alignment unit per array) are
 *   computed on the host by the function the caller passes (the CPU backend: bit for bit the
 *   same), once the device is done.
 * - Streamed, everywhere else: chunks pass through pinned staging buffers (CL_MEM_ALLOC_HOST_PTR,
 *   mapped for the context's life) on three in-order queues, so that the upload of one chunk,
 *   the kernel on the one before and the download of the one before that overlap.
 *
 * Either way nothing but the output array is ever written: the device sees the app's inputs only
 * through read-only buffers (zero-copy) or not at all (streamed), so an out-of-place call leaves
 * its inputs untouched whatever fails. */
#include "opencl.h"

#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LCL__STAGE_SLOTS 3                       /* chunks in flight: uploading, computing, downloading */
#define LCL__STAGE_CHUNK_BYTES ((size_t)4 << 20) /* per buffer: amortises a command, pipelines early */
#define LCL__STAGE_MEM_SHARE 64                  /* a staging buffer takes at most 1/64 of device memory */
#define LCL__ZC_WINDOW 8                         /* zero-copy pieces enqueued before the host waits */
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

/* ---- settings ----------------------------------------------------------------------------- */

/* A decimal environment variable, or `fallback` when it is unset or not a whole number. */
static size_t env_size(const char *name, size_t fallback) {
    const char *env = getenv(name);
    if (!env || *env < '0' || *env > '9')
        return fallback;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(env, &end, 10);
    if (errno != 0 || *end != '\0')
        return fallback;
    return value < SIZE_MAX ? (size_t)value : SIZE_MAX;
}

lcl_status lcl__offload_init(lcl_context *ctx, cl_device_type type) {
    lcl_status st;
    cl_uint align_bits = 0;
    if (LCL__CL_CALL(
            st, clGetDeviceInfo(ctx->device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof ctx->global_mem, &ctx->global_mem, NULL),
            "clGetDeviceInfo(CL_DEVICE_GLOBAL_MEM_SIZE)") ||
        LCL__CL_CALL(st,
                     clGetDeviceInfo(ctx->device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits, NULL),
                     "clGetDeviceInfo(CL_DEVICE_MEM_BASE_ADDR_ALIGN)"))
        return st;
    /* Deprecated since OpenCL 2.0 but still answered; a device that refuses the query is treated
     * as one with memory of its own, which the streamed path serves. */
    cl_bool unified = CL_FALSE;
    if (clGetDeviceInfo(ctx->device, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified, NULL) != CL_SUCCESS)
        unified = CL_FALSE;
    /* At least 64 bytes, so that every element size divides it and heads are whole elements. */
    size_t align = align_bits / 8;
    ctx->base_align = align < 64 ? 64 : align;
    bool power_of_two = (ctx->base_align & (ctx->base_align - 1)) == 0;
    const char *zero_copy = getenv("LEAKYCL_ZERO_COPY");
    ctx->zero_copy = unified == CL_TRUE && power_of_two && !(zero_copy && strcmp(zero_copy, "0") == 0);
    ctx->copy_threads = (type & CL_DEVICE_TYPE_CPU) == 0;
    ctx->chunk_bytes = env_size("LEAKYCL_CHUNK_BYTES", 0);
    return LCL_SUCCESS;
}

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

/* ---- the staging: created on the first streamed call, kept until the context goes ----------- */

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

void lcl__offload_release(lcl_context *ctx) {
    staging_free(ctx->staging);
    ctx->staging = NULL;
    if (ctx->host_queue) {
        clFinish(ctx->host_queue);
        clReleaseCommandQueue(ctx->host_queue);
        ctx->host_queue = NULL;
    }
}

/* ---- shared pieces -------------------------------------------------------------------------- */

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

/* Adds where a call failed to the message of its failure: chunks [first, last] of count (one
 * unless a wait covered several), elements [lo, hi). */
static void note_chunks(const char *fn, size_t first, size_t last, size_t count, size_t lo, size_t hi) {
    char text[200];
    if (first == last)
        snprintf(text, sizeof text, "; %s, chunk %zu of %zu (elements [%zu, %zu))", fn, first, count, lo, hi);
    else
        snprintf(text, sizeof text, "; %s, chunks %zu to %zu of %zu (elements [%zu, %zu))", fn, first, last, count, lo,
                 hi);
    lcl__append_error(text);
}

static void release_events(cl_event *events, size_t count) {
    for (size_t i = 0; i < count; ++i) {
        if (events[i])
            clReleaseEvent(events[i]);
        events[i] = NULL;
    }
}

/* Waits for `count` events and releases them, whatever the wait says. */
static lcl_status wait_and_release(cl_event *events, size_t count) {
    lcl_status st = LCL_SUCCESS;
    if (count > 0)
        LCL__CL_CALL(st, clWaitForEvents((cl_uint)count, events), "clWaitForEvents");
    release_events(events, count);
    return st;
}

/* ---- streamed ------------------------------------------------------------------------------- */

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
    release_events(up, A_COUNT);
    release_events(&ran, 1);
    return st;
}

/* Waits for chunk i's download and copies it into the output. */
static lcl_status stream_drain(struct stream *w, size_t i) {
    struct stage_slot *slot = &w->s->slots[i % LCL__STAGE_SLOTS];
    lcl_status st = wait_and_release(&w->done[i % LCL__STAGE_SLOTS], 1);
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

static lcl_status stream(lcl_context *ctx, const char *fn, const struct lcl__eltwise *call, const char *sel,
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
            release_events(w.done, LCL__STAGE_SLOTS);
            size_t lo = chunk_first(&w, failed);
            note_chunks(fn, failed, failed, w.count, lo, lo + chunk_length(&w, failed));
        }
    }
    pthread_mutex_unlock(&ctx->stage_lock);
    return st;
}

/* ---- zero-copy ------------------------------------------------------------------------------ */

/* A zero-copy call: its distinct arrays (in place shares one) and how they are cut. Piece k
 * runs the kernel on elements [lo_k, hi_k) with lo_k = head_max + k*piece and hi_k =
 * min(head_min + (k+1)*piece, n); array a is wrapped from element head[a] + k*piece, an aligned
 * address, to hi_k, so no two buffers of one array overlap. The CPU backend does the rest:
 * [0, lo_0) and [hi_k, lo_k+1), each shorter than one alignment unit. */
struct zc_plan {
    size_t count; /* distinct arrays, 1 to 3 */
    const char *base[3];
    size_t head[3]; /* elements before the array's first aligned address */
    cl_mem_flags flags[3];
    size_t of_sel, of_grad, of_out; /* indices into the above */
    size_t head_min, head_max;
    size_t piece; /* elements per piece, a multiple of the alignment */
    size_t pieces;
};

static size_t plan_array(struct zc_plan *p, const void *array, size_t align, size_t size, cl_mem_flags access) {
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

/* Whether the call can run zero-copy, and how. */
static bool zc_plan_make(const lcl_context *ctx, const struct lcl__eltwise *call, const void *sel, const void *grad,
                         const void *out, struct zc_plan *p) {
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

static size_t piece_lo(const struct zc_plan *p, size_t k) { return p->head_max + k * p->piece; }

static size_t piece_hi(const struct zc_plan *p, size_t k, size_t n) {
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

/* Piece k: wraps the arrays, enqueues the kernel, then maps and unmaps the output's part so
 * that the results are in host memory once *unmapped completes. */
static lcl_status zc_piece(lcl_context *ctx, cl_command_queue queue, const struct lcl__eltwise *call,
                           const struct zc_plan *p, size_t k, cl_event *unmapped) {
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

static lcl_status zero_copy(lcl_context *ctx, const char *fn, const struct lcl__eltwise *call, const struct zc_plan *p,
                            const char *sel, const char *grad, char *out, lcl__host_eltwise_fn *on_host) {
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
            if ((st = wait_and_release(pending, waiting)) != LCL_SUCCESS)
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
        st = wait_and_release(pending, waiting);
    }
    if (st != LCL_SUCCESS) {
        clFinish(queue); /* the failure being reported is the one that matters */
        release_events(pending, waiting);
        note_chunks(fn, failed_first, failed_last, p->pieces, piece_lo(p, failed_first),
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

/* ---- entry ---------------------------------------------------------------------------------- */

lcl_status lcl__offload(lcl_context *ctx, const char *fn, const struct lcl__eltwise *call, const void *sel,
                        const void *grad, void *out, lcl__host_eltwise_fn *on_host) {
    struct zc_plan plan;
    if (zc_plan_make(ctx, call, sel, grad, out, &plan))
        return zero_copy(ctx, fn, call, &plan, sel, grad, out, on_host);
    return stream(ctx, fn, call, sel, grad, out);
}
