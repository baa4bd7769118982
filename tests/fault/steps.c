/* The scenario's steps, in order: contexts, tensors, then every public op once. Each step is
 * one public call (or, for the setup, a run of them that a retry resumes), its outputs listed so
 * that the harness can set, check and compare them. A new op is one function and one row. */
#include "scenario.h"

#define END SCENARIO_END
#define N SCENARIO_N

static lcl_status main_context(struct side *s) { return side_create_contexts(s, 0); }
static lcl_status zero_copy_context(struct side *s) { return side_create_contexts(s, 1); }
static lcl_status wrapping_context(struct side *s) { return side_create_contexts(s, 2); }

static lcl_status forward(struct side *s) { return lcl_forward(s->ctx, 0.125, s->t[B_X], s->t[B_Y]); }

static lcl_status backward(struct side *s) { return lcl_backward(s->ctx, 0.125, s->t[B_X], s->t[B_DY], s->t[B_DX]); }

static lcl_status backward_from_output(struct side *s) {
    return lcl_backward_from_output(s->ctx, 0.5, s->t[B_Y], s->t[B_DY], s->t[B_DX]);
}

static lcl_status forward_view_in_place(struct side *s) {
    return lcl_forward(s->ctx, -0.75, s->t[B_X2_VIEW], s->t[B_X2_VIEW]);
}

static lcl_status forward_f16(struct side *s) { return lcl_forward(s->ctx, 0.375, s->t[B_X16], s->t[B_Y16]); }

/* Three items along one arena (one launch) and one f16 item of its own (a second launch). */
static lcl_status forward_batch(struct side *s) {
    const double alpha[] = {0.125, -0.5, 2.0, 0.25};
    const lcl_tensor *x[] = {s->t[B_ITEM_X0], s->t[B_ITEM_X1], s->t[B_ITEM_X2], s->t[B_X16]};
    lcl_tensor *y[] = {s->t[B_ITEM_Y0], s->t[B_ITEM_Y1], s->t[B_ITEM_Y2], s->t[B_Y16]};
    return lcl_forward_batch(s->ctx, 4, alpha, x, y);
}

static lcl_status backward_batch(struct side *s) {
    const double alpha[] = {0.25, 1.5, -0.125};
    const lcl_tensor *x[] = {s->t[B_ITEM_X0], s->t[B_ITEM_X1], s->t[B_ITEM_X2]};
    const lcl_tensor *dy[] = {s->t[B_ITEM_DY0], s->t[B_ITEM_DY1], s->t[B_ITEM_DY2]};
    lcl_tensor *dx[] = {s->t[B_ITEM_DX0], s->t[B_ITEM_DX1], s->t[B_ITEM_DX2]};
    return lcl_backward_batch(s->ctx, 3, alpha, x, dy, dx);
}

static lcl_status prelu_forward(struct side *s) {
    return lcl_prelu_forward(s->ctx, 4, 25, s->t[B_ALPHA], s->t[B_X], s->t[B_Y]);
}

static lcl_status prelu_backward(struct side *s) {
    return lcl_prelu_backward(s->ctx, 4, 25, s->t[B_ALPHA], s->t[B_X], s->t[B_DY], s->t[B_DX], s->t[B_DALPHA]);
}

static lcl_status forward_masked(struct side *s) {
    return lcl_forward_masked(s->ctx, -0.25, s->t[B_X], s->t[B_Y], s->t[B_MASK]);
}

static lcl_status backward_masked(struct side *s) {
    return lcl_backward_masked(s->ctx, -0.25, s->t[B_MASK], s->t[B_DY], s->t[B_DX]);
}

static lcl_status forward_host(lcl_context *ctx, struct side *s) {
    return lcl_forward_host(ctx, LCL_F32, N, 0.125, side_host_in(s, 0), side_host_out(s, 0));
}

static lcl_status backward_host(lcl_context *ctx, struct side *s) {
    return lcl_backward_host(ctx, LCL_F32, N, -0.5, side_host_in(s, 0), side_host_in(s, 1), side_host_out(s, 1));
}

static lcl_status forward_streamed(struct side *s) { return forward_host(s->ctx, s); }
static lcl_status backward_streamed(struct side *s) { return backward_host(s->ctx, s); }
static lcl_status forward_zero_copy(struct side *s) { return forward_host(s->zc, s); }
static lcl_status backward_zero_copy(struct side *s) { return backward_host(s->zc, s); }

static lcl_status forward_wrapped(struct side *s) { return lcl_forward(s->wrapped, 0.125, s->t[B_WX], s->t[B_WY]); }

/* Multiples of 1/8 in and at most 7 terms per dot product: the GEMMs are exact on both backends. */
static lcl_status dense_forward(struct side *s) {
    return lcl_dense_forward(s->ctx, 5, 7, 3, 0.125, s->t[B_DENSE_X], s->t[B_DENSE_W], s->t[B_DENSE_B],
                             s->t[B_DENSE_Y]);
}

static lcl_status dense_backward(struct side *s) {
    return lcl_dense_backward(s->ctx, 5, 7, 3, 0.125, s->t[B_DENSE_X], s->t[B_DENSE_W], s->t[B_DENSE_Y],
                              s->t[B_DENSE_DY], s->t[B_DENSE_DX], s->t[B_DENSE_DW], s->t[B_DENSE_DB]);
}

static lcl_status finish(struct side *s) { return lcl_finish(s->ctx); }

static const struct scenario_step steps[] = {
    {"lcl_context_create", main_context, {END}},
    {"lcl_context_create (zero-copy)", zero_copy_context, {END}},
    {"lcl_context_wrap_cl", wrapping_context, {END}},
    {"tensors and views", side_create_tensors, {END}},
    {"lcl_tensor_write (inputs)", side_write_inputs, {END}},
    {"lcl_forward", forward, {B_Y, END}},
    {"lcl_backward", backward, {B_DX, END}},
    {"lcl_backward_from_output", backward_from_output, {B_DX, END}},
    {"lcl_forward (view, in place)", forward_view_in_place, {B_X2, END}},
    {"lcl_forward (f16)", forward_f16, {B_Y16, END}},
    {"lcl_forward_batch", forward_batch, {B_ARENA_Y, B_Y16, END}},
    {"lcl_backward_batch", backward_batch, {B_ARENA_DX, END}},
    {"lcl_prelu_forward", prelu_forward, {B_Y, END}},
    {"lcl_prelu_backward", prelu_backward, {B_DX, B_DALPHA, END}},
    {"lcl_forward_masked", forward_masked, {B_Y, B_MASK, END}},
    {"lcl_backward_masked", backward_masked, {B_DX, END}},
    {"lcl_forward_host (streamed)", forward_streamed, {B_HOST_Y, END}},
    {"lcl_backward_host (streamed)", backward_streamed, {B_HOST_DX, END}},
    {"lcl_forward_host (zero-copy)", forward_zero_copy, {B_HOST_Y, END}},
    {"lcl_backward_host (zero-copy)", backward_zero_copy, {B_HOST_DX, END}},
    {"lcl_forward (wrapped)", forward_wrapped, {B_WY, END}},
    {"lcl_dense_forward", dense_forward, {B_DENSE_Y, END}},
    {"lcl_dense_backward", dense_backward, {B_DENSE_DX, B_DENSE_DW, B_DENSE_DB, END}},
    {"lcl_finish", finish, {END}},
};

const struct scenario_step *scenario_steps(size_t *count) {
    *count = sizeof steps / sizeof steps[0];
    return steps;
}
