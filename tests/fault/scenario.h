/* The fault scenario's pieces: a "side" (the device under test, or the CPU backend as the
 * reference) holding contexts, tensors and host arrays, and the steps run on both. */
#ifndef LEAKYCL_FAULT_SCENARIO_H
#define LEAKYCL_FAULT_SCENARIO_H

#include "leakycl.h"

#include <stdbool.h>
#include <stdint.h>

#define SCENARIO_N 1000

/* Every buffer a step may write, tensors first, then host arrays. */
enum buffer_id {
    B_X,
    B_DY,
    B_Y,
    B_DX,
    B_X2,
    B_X16,
    B_Y16,
    B_ARENA_X,
    B_ARENA_DY,
    B_ARENA_Y,
    B_ARENA_DX,
    B_ALPHA,
    B_DALPHA,
    B_MASK,
    B_DENSE_X,
    B_DENSE_W,
    B_DENSE_B,
    B_DENSE_Y,
    B_DENSE_DY,
    B_DENSE_DX,
    B_DENSE_DW,
    B_DENSE_DB,
    B_WX,
    B_WY,      /* wrapped app buffers on the device side (lcl_tensor_wrap_cl) */
    B_X2_VIEW, /* views: x2[3, 503), and the batch items of the arenas */
    B_ITEM_X0,
    B_ITEM_X1,
    B_ITEM_X2,
    B_ITEM_DY0,
    B_ITEM_DY1,
    B_ITEM_DY2,
    B_ITEM_Y0,
    B_ITEM_Y1,
    B_ITEM_Y2,
    B_ITEM_DX0,
    B_ITEM_DX1,
    B_ITEM_DX2,
    B_TENSOR_COUNT,
    B_HOST_Y = B_TENSOR_COUNT,
    B_HOST_DX,
    B_COUNT
};

#define SCENARIO_MAX_OUTPUTS 4
#define SCENARIO_END (-1)

struct side {
    bool reference; /* the CPU backend: the zero-copy and wrapping contexts are the main one */
    lcl_context *ctx, *zc, *wrapped;
    cl_command_queue app_queue; /* the app's own objects behind the wrapping context */
    cl_mem app_mem[2];
    lcl_tensor *t[B_TENSOR_COUNT];
    void *read[B_TENSOR_COUNT]; /* outputs as last read back */
    float host_x[SCENARIO_N + 1], host_dy[SCENARIO_N + 1], host_y[SCENARIO_N + 1], host_dx[SCENARIO_N + 1];
};

struct scenario_step {
    const char *name;
    lcl_status (*op)(struct side *s);
    int outputs[SCENARIO_MAX_OUTPUTS]; /* buffer ids, SCENARIO_END after the last */
};

/* side.c */
void side_init(struct side *s, bool reference);
void side_release(struct side *s);
lcl_status side_create_contexts(struct side *s, int which); /* 0 main, 1 zero-copy, 2 wrapping */
lcl_status side_create_tensors(struct side *s);
lcl_status side_write_inputs(struct side *s);
/* Writes each output's starting image; reads each output back. */
lcl_status side_prepare(struct side *s, const struct scenario_step *step);
lcl_status side_collect(struct side *s, const struct scenario_step *step);
/* After a failed op that enqueued nothing: every output still holds its starting image. */
void side_check_unchanged(struct side *s, const struct scenario_step *step);
void side_compare(const struct side *dev, const struct side *ref, const struct scenario_step *step);
/* The host arrays' first element: one float in, so that they start off the alignment. */
const float *side_host_in(const struct side *s, int which); /* 0 x, 1 dy */
float *side_host_out(struct side *s, int which);            /* 0 y, 1 dx */

/* steps.c */
const struct scenario_step *scenario_steps(size_t *count);

/* scenario.c: records a failed check (printed to stderr; the scenario then exits 1). */
void scenario_problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
