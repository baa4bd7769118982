/* Host arrays on an OpenCL device: what offload.c (settings, shared pieces, the entry), stream.c
 * (the streamed path) and zero_copy.c (the zero-copy path) share. offload.c's head comment has
 * the whole picture. Internal. */
#ifndef LEAKYCL_OFFLOAD_H
#define LEAKYCL_OFFLOAD_H

#include "opencl.h"

/* ---- shared pieces (offload.c) ---------------------------------------------------------------- */

/* Adds where a call failed to the message of its failure: chunks [first, last] of count (one
 * unless a wait covered several), elements [lo, hi). */
void lcl__note_chunks(const char *fn, size_t first, size_t last, size_t count, size_t lo, size_t hi);
/* Releases the first `count` events (those not NULL) and sets them to NULL. */
void lcl__release_events(cl_event *events, size_t count);
/* Waits for `count` events and releases them, whatever the wait says. */
lcl_status lcl__wait_and_release(cl_event *events, size_t count);

/* ---- streamed (stream.c) ---------------------------------------------------------------------- */

/* The call in chunks through the context's staging, which it creates on first use; one streamed
 * call at a time holds it (stage_lock). */
lcl_status lcl__stream(lcl_context *ctx, const char *fn, const struct lcl__eltwise *call, const char *sel,
                       const char *grad, void *out);
/* Frees the staging, if any, once its queues are done (lcl__offload_release). */
void lcl__staging_release(lcl_context *ctx);

/* ---- zero-copy (zero_copy.c) ------------------------------------------------------------------ */

/* A zero-copy call: its distinct arrays (in place shares one) and how they are cut. Piece k
 * runs the kernel on elements [lo_k, hi_k) with lo_k = head_max + k*piece and hi_k =
 * min(head_min + (k+1)*piece, n); array a is wrapped from element head[a] + k*piece, an aligned
 * address, to hi_k, so no two buffers of one array overlap. The CPU backend does the rest:
 * [0, lo_0) and [hi_k, lo_k+1), each shorter than one alignment unit. */
struct lcl__zero_copy_plan {
    size_t count; /* distinct arrays, 1 to 3 */
    const char *base[3];
    size_t head[3]; /* elements before the array's first aligned address */
    cl_mem_flags flags[3];
    size_t of_sel, of_grad, of_out; /* indices into the above */
    size_t head_min, head_max;
    size_t piece; /* elements per piece, a multiple of the alignment */
    size_t pieces;
};
/* Whether the call can run zero-copy, and how. */
bool lcl__zero_copy_plan_make(const lcl_context *ctx, const struct lcl__eltwise *call, const void *sel,
                              const void *grad, const void *out, struct lcl__zero_copy_plan *p);
/* The planned call: its pieces on the context's host queue, then the edges through `on_host`. */
lcl_status lcl__zero_copy(lcl_context *ctx, const char *fn, const struct lcl__eltwise *call,
                          const struct lcl__zero_copy_plan *p, const char *sel, const char *grad, char *out,
                          lcl__host_eltwise_fn *on_host);
/* Frees the host queue, if any, once it is done (lcl__offload_release). */
void lcl__host_queue_release(lcl_context *ctx);

#endif /* LEAKYCL_OFFLOAD_H */
