/* The kernels' tunables per op and dtype, and the per-user tuning cache that `leakycl tune`
 * fills and contexts read at creation (tuning.c). Internal. */
#ifndef LEAKYCL_TUNING_H
#define LEAKYCL_TUNING_H

#include "leakycl.h"

#include <stddef.h>

/* The ops whose kernels are shaped apart. Each has its own program where its values differ
 * from another op's of the same dtype; ops with equal values share one program. */
enum lcl__tune_op {
    LCL__TUNE_FORWARD,
    LCL__TUNE_BACKWARD, /* also backward from the output */
    LCL__TUNE_FORWARD_BATCH,
    LCL__TUNE_BACKWARD_BATCH,
    LCL__TUNE_PRELU_FORWARD,
    LCL__TUNE_PRELU_BACKWARD, /* dx and the slope gradient's stages */
    LCL__TUNE_FORWARD_MASKED,
    LCL__TUNE_BACKWARD_MASKED,
    LCL__TUNE_DENSE, /* the dense layer's epilogues */
    LCL__TUNE_OP_COUNT
};
#define LCL__TUNE_DTYPE_COUNT 4 /* the float dtypes */

/* The shape of one op's kernels for one dtype, passed to them as -D options. None of them
 * changes a result bit: every kernel computes each element alone, the sign mask's bit i is
 * element i's whatever the shape, and the PReLU slope gradient's partition (LCL__PRELU_BLOCK,
 * LCL__PRELU_ROWS) is fixed by the sizes alone, so it is deliberately not a tunable. */
struct lcl__tunables {
    unsigned vector_width;     /* LCL_VEC: elements per vector, 2, 4, 8 or 16 */
    unsigned vectors_per_item; /* LCL_CHUNK: a power of two up to 64; 1 selects the GPU shapes */
    size_t work_group_size;    /* LCL_WG: a power of two up to the device's limit */
};

/* A context's table: the device's defaults, and the values in force per op and dtype. */
struct lcl__tuning {
    struct lcl__tunables defaults[LCL__TUNE_DTYPE_COUNT];
    struct lcl__tunables table[LCL__TUNE_OP_COUNT][LCL__TUNE_DTYPE_COUNT];
    size_t max_work_group_size; /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    size_t from_cache;          /* entries the cache supplied */
};

/* Sets ctx's table to the defaults already in ctx (vector_width, chunk, work_group_size), then
 * overlays the cache's entries for ctx's device unless LEAKYCL_TUNING=0. Never fails: an
 * unreadable, corrupt or foreign cache, or a device section that does not fit the device, is
 * ignored whole and the defaults stay. */
void lcl__tuning_init(lcl_context *ctx);

int lcl__tunables_equal(const struct lcl__tunables *a, const struct lcl__tunables *b);

#endif /* LEAKYCL_TUNING_H */
