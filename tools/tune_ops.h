/*
 * The ops `leakycl tune` times (tools/tune_ops.c): inputs in host memory with every kind of
 * element, tensors on one candidate's context, one call of an op, and its outputs read back
 * for the bit-for-bit check against the defaults' outputs.
 */
#ifndef LEAKYCL_TOOLS_TUNE_OPS_H
#define LEAKYCL_TOOLS_TUNE_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "leakycl.h"

/* The ops, named as the library's tuning entries name them. */
enum tune_op {
    TUNE_FORWARD,
    TUNE_BACKWARD,
    TUNE_FORWARD_BATCH,
    TUNE_BACKWARD_BATCH,
    TUNE_PRELU_FORWARD,
    TUNE_PRELU_BACKWARD,
    TUNE_FORWARD_MASKED,
    TUNE_BACKWARD_MASKED,
    TUNE_OP_COUNT
};
const char *tune_op_name(enum tune_op op);

#define TUNE_BATCH_ITEMS 16
#define TUNE_PRELU_CHANNELS 32

/* One dtype's inputs in host memory: x and dy mix negatives, +-0, NaN, +-inf and subnormals;
 * px and pdy (PReLU) keep NaN and inf out so that the slope gradient's bits mean something;
 * slopes has a channel's slope each, mask is x's sign mask. */
struct tune_inputs {
    lcl_dtype dtype;
    size_t n;
    void *x, *dy, *px, *pdy, *slopes;
    uint32_t *mask;
};
/* Fills in for dtype and n (a multiple of 32 * TUNE_PRELU_CHANNELS). Returns 0, or -1 when out of
 * memory. */
int tune_inputs_make(struct tune_inputs *in, lcl_dtype dtype, size_t n, uint64_t seed);
void tune_inputs_free(struct tune_inputs *in);

/* An op's outputs read back: out (n elements of the dtype) and, for the masked forward and the
 * PReLU backward, the mask or the slope gradient. */
struct tune_outputs {
    void *out;
    void *extra;
    size_t extra_bytes;
};
void tune_outputs_free(struct tune_outputs *o);
/* Whether a and b agree bit for bit (any NaN equals any NaN); on a difference writes where
 * into msg. */
int tune_outputs_same(const struct tune_inputs *in, enum tune_op op, const struct tune_outputs *a,
                      const struct tune_outputs *b, char *msg, size_t size);

/* The tensors of one context. */
struct tune_tensors;
/* Creates ctx's tensors and writes the inputs. Returns NULL after printing why. */
struct tune_tensors *tune_tensors_make(lcl_context *ctx, const struct tune_inputs *in);
void tune_tensors_free(struct tune_tensors *t);

/* Enqueues one call of op (no wait). */
lcl_status tune_op_enqueue(struct tune_tensors *t, enum tune_op op);
/* Poisons op's outputs, runs it once, waits, and reads its outputs into o. */
lcl_status tune_op_outputs(struct tune_tensors *t, enum tune_op op, struct tune_outputs *o);

/* One call of op, enqueued and waited for, in seconds of wall time; 0 on success. */
int tune_time_once(struct tune_tensors *t, enum tune_op op, double *seconds);
/* The median of reps timed calls after one untimed warm-up call; 0 on success. */
int tune_time_median(struct tune_tensors *t, enum tune_op op, unsigned reps, double *median);
/* a against b, head to head: a warm-up call of each, then reps calls of each in turn, so that
 * both see the same load; the median of each's times. 0 on success. reps is at most 100. */
int tune_head_to_head(struct tune_tensors *a, struct tune_tensors *b, enum tune_op op, unsigned reps, double *median_a,
                      double *median_b);

/* `leakycl tune --compare` (tune_compare.c): on `device`, a context reading the tuning cache
 * against one with the defaults, per op and dtype selected in dtypes[lcl_dtype]: outputs
 * compared bit for bit, then reps calls of each in turn on n elements. Prints a table; returns
 * 0, or -1 after a failure or a difference (printed). */
int tune_compare(const char *device, size_t n, unsigned reps, const int *dtypes);

#endif /* LEAKYCL_TOOLS_TUNE_OPS_H */
