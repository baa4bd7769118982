/* Per-context buffers that batch, PReLU and dense calls reuse from call to call (a batch's item
 * table, PReLU's partial sums, the dense layer's dz), each with host staging to upload from. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define STAGING_SLOTS 2

struct lcl__workspace {
    pthread_mutex_t lock;
    cl_mem mem;
    size_t mem_bytes;
    /* Uploads alternate between slots, so filling one never waits for the upload just
     * enqueued, only for the one before it. */
    void *host[STAGING_SLOTS];
    size_t host_bytes[STAGING_SLOTS];
    cl_event uploaded[STAGING_SLOTS]; /* the last upload from each slot, or NULL */
    unsigned slot;                    /* the slot lcl__workspace_staging hands out next */
};

#define WORKSPACE_COUNT (sizeof((lcl_context *)0)->workspaces / sizeof((lcl_context *)0)->workspaces[0])

lcl_status lcl__workspace_lock(lcl_context *ctx, enum lcl__workspace_id id, struct lcl__workspace **out) {
    pthread_mutex_lock(&ctx->lock);
    struct lcl__workspace *ws = ctx->workspaces[id];
    if (!ws) {
        ws = calloc(1, sizeof *ws);
        if (ws && pthread_mutex_init(&ws->lock, NULL) != 0) {
            free(ws);
            ws = NULL;
        }
        ctx->workspaces[id] = ws;
    }
    pthread_mutex_unlock(&ctx->lock);
    if (!ws)
        return lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "out of host memory for a workspace");
    pthread_mutex_lock(&ws->lock);
    *out = ws;
    return LCL_SUCCESS;
}

void lcl__workspace_unlock(struct lcl__workspace *ws) { pthread_mutex_unlock(&ws->lock); }

lcl_status lcl__workspace_device(lcl_context *ctx, struct lcl__workspace *ws, size_t bytes, cl_mem *out) {
    if (!ws->mem || ws->mem_bytes < bytes) {
        /* Grow by half again, so a slowly growing demand does not reallocate every call. The old
         * buffer lives on until the kernels already enqueued on it are done. */
        size_t grown = bytes < SIZE_MAX / 3 * 2 ? bytes + bytes / 2 : bytes;
        if (grown < 4096)
            grown = 4096;
        if (grown > ctx->max_alloc && bytes <= ctx->max_alloc)
            grown = (size_t)ctx->max_alloc;
        if (bytes > ctx->max_alloc)
            return lcl__fail(LCL_ERROR_OUT_OF_MEMORY,
                             "a workspace of %zu bytes exceeds the device's largest allocation (%llu bytes)", bytes,
                             (unsigned long long)ctx->max_alloc);
        cl_int err = CL_SUCCESS;
        cl_mem mem = clCreateBuffer(ctx->cl_ctx, CL_MEM_READ_WRITE, grown, NULL, &err);
        lcl_status st = lcl__cl_check(err, "clCreateBuffer (workspace)");
        if (st != LCL_SUCCESS)
            return st;
        if (ws->mem)
            clReleaseMemObject(ws->mem);
        ws->mem = mem;
        ws->mem_bytes = grown;
    }
    *out = ws->mem;
    return LCL_SUCCESS;
}

/* Waits for the last upload from `slot` and forgets its event. */
static lcl_status wait_slot(struct lcl__workspace *ws, unsigned slot) {
    if (!ws->uploaded[slot])
        return LCL_SUCCESS;
    lcl_status st = lcl__cl_check(clWaitForEvents(1, &ws->uploaded[slot]), "clWaitForEvents (workspace upload)");
    clReleaseEvent(ws->uploaded[slot]);
    ws->uploaded[slot] = NULL;
    return st;
}

lcl_status lcl__workspace_staging(struct lcl__workspace *ws, size_t bytes, void **out) {
    unsigned slot = ws->slot;
    lcl_status st = wait_slot(ws, slot);
    if (st != LCL_SUCCESS)
        return st;
    if (ws->host_bytes[slot] < bytes) {
        size_t grown = bytes < SIZE_MAX / 3 * 2 ? bytes + bytes / 2 : bytes;
        void *p = realloc(ws->host[slot], grown);
        if (!p)
            return lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "out of host memory for %zu bytes of staging", bytes);
        ws->host[slot] = p;
        ws->host_bytes[slot] = grown;
    }
    *out = ws->host[slot];
    return LCL_SUCCESS;
}

lcl_status lcl__workspace_upload(lcl_context *ctx, struct lcl__workspace *ws, size_t bytes) {
    unsigned slot = ws->slot;
    lcl_status st = lcl__cl_check(
        clEnqueueWriteBuffer(ctx->queue, ws->mem, CL_FALSE, 0, bytes, ws->host[slot], 0, NULL, &ws->uploaded[slot]),
        "clEnqueueWriteBuffer (workspace)");
    if (st != LCL_SUCCESS)
        ws->uploaded[slot] = NULL;
    ws->slot = (slot + 1) % STAGING_SLOTS;
    return st;
}

void lcl__workspaces_release(lcl_context *ctx) {
    for (size_t i = 0; i < WORKSPACE_COUNT; ++i) {
        struct lcl__workspace *ws = ctx->workspaces[i];
        if (!ws)
            continue;
        for (unsigned s = 0; s < STAGING_SLOTS; ++s) {
            if (ws->uploaded[s]) {
                clWaitForEvents(1, &ws->uploaded[s]); /* release cannot report a failure */
                clReleaseEvent(ws->uploaded[s]);
            }
            free(ws->host[s]);
        }
        if (ws->mem)
            clReleaseMemObject(ws->mem);
        pthread_mutex_destroy(&ws->lock);
        free(ws);
        ctx->workspaces[i] = NULL;
    }
}
