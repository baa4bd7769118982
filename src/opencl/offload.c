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
 * its inputs untouched whatever fails.
 *
 * The streamed path is in stream.c, the zero-copy one in zero_copy.c. This file holds the settings,
 * the pieces both paths use and the entry that picks one; offload.h declares what the three files
 * share. */
#include "offload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- shared pieces -------------------------------------------------------------------------- */

void lcl__note_chunks(const char *fn, size_t first, size_t last, size_t count, size_t lo, size_t hi) {
    char text[200];
    if (first == last)
        snprintf(text, sizeof text, "; %s, chunk %zu of %zu (elements [%zu, %zu))", fn, first, count, lo, hi);
    else
        snprintf(text, sizeof text, "; %s, chunks %zu to %zu of %zu (elements [%zu, %zu))", fn, first, last, count, lo,
                 hi);
    lcl__append_error(text);
}

void lcl__release_events(cl_event *events, size_t count) {
    for (size_t i = 0; i < count; ++i) {
        if (events[i])
            clReleaseEvent(events[i]);
        events[i] = NULL;
    }
}

lcl_status lcl__wait_and_release(cl_event *events, size_t count) {
    lcl_status st = LCL_SUCCESS;
    if (count > 0)
        LCL__CL_CALL(st, clWaitForEvents((cl_uint)count, events), "clWaitForEvents");
    lcl__release_events(events, count);
    return st;
}

/* ---- entry ---------------------------------------------------------------------------------- */

lcl_status lcl__offload(lcl_context *ctx, const char *fn, const struct lcl__eltwise *call, const void *sel,
                        const void *grad, void *out, lcl__host_eltwise_fn *on_host) {
    struct lcl__zero_copy_plan plan;
    if (lcl__zero_copy_plan_make(ctx, call, sel, grad, out, &plan))
        return lcl__zero_copy(ctx, fn, call, &plan, sel, grad, out, on_host);
    return lcl__stream(ctx, fn, call, sel, grad, out);
}

void lcl__offload_release(lcl_context *ctx) {
    lcl__staging_release(ctx);
    lcl__host_queue_release(ctx);
}
