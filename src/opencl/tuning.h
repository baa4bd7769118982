/* Per op and dtype, the tunables in force, and the per-user tuning cache that `leakycl tune`
 * fills and contexts read at creation (opencl/tuning.c). Internal. */
#ifndef LEAKYCL_TUNING_H
#define LEAKYCL_TUNING_H

#include "leakycl.h"

/* The ops whose kernels are shaped apart. Each has its own program where its tunables differ
 * from another op's of the same dtype; ops with equal ones share one program. */
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

/* Copies ctx->tune (the device's defaults) to every op and dtype, then overlays the cache's
 * entries for ctx's device unless LEAKYCL_TUNING=0. An entry sets the vector width (LCL_VEC),
 * the vectors per work-item (LCL_CHUNK) and the work-group size (LCL_WG) of one op and dtype;
 * every other field stays the default. None of them changes a result bit: each element is
 * computed alone, the sign mask's bit i is element i's whatever the shape, and the PReLU slope
 * gradient's partition is fixed by the sizes (prelu_backward keeps its vector width, which sets
 * the lane sums within a block, and prelu_fold stays the default). Never fails: an unreadable,
 * corrupt or foreign cache, or a device section that does not fit the device, is ignored whole.
 * max_wg is CL_DEVICE_MAX_WORK_GROUP_SIZE, the limit of a tuned work-group size. */
void lcl__tuning_init(lcl_context *ctx, size_t max_wg);

#endif /* LEAKYCL_TUNING_H */
