/* In place: an output may be the very same range as an input (the same tensor, or views of
 * the same elements); an output that partly overlaps an input is rejected with nothing
 * changed. */
#include "common.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>

#define N 1031 /* prime: vector body and ragged tail */

typedef enum { OP_FORWARD, OP_BACKWARD, OP_FROM_OUTPUT } op_kind;
/* Which operand the output aliases. */
typedef enum { ALIAS_SEL, ALIAS_DY } alias_kind;

static lcl_status run_op(lcl_context *ctx, op_kind op, double alpha, lcl_tensor *sel, lcl_tensor *dy, lcl_tensor *out) {
    switch (op) {
    case OP_FORWARD:
        return lcl_forward(ctx, alpha, sel, out);
    case OP_BACKWARD:
        return lcl_backward(ctx, alpha, sel, dy, out);
    default:
        return lcl_backward_from_output(ctx, alpha, sel, dy, out);
    }
}

/* The expected output of op on host inputs (backward from output is backward on y). */
static void expected(op_kind op, lcl_dtype dtype, double alpha, const void *sel, const void *dy, void *out) {
    if (op == OP_FORWARD)
        ref_forward_array(dtype, N, alpha, sel, out);
    else
        ref_backward_array(dtype, N, alpha, sel, dy, out);
}

/* The output is the same tensor as one of the inputs. */
static void same_tensor(op_kind op, alias_kind alias) {
    static const char *const names[] = {"forward", "backward", "backward_from_output"};
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    const double alpha = 0.25;
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        void *sel = test_alloc(dtype, N), *dy = test_alloc(dtype, N), *want = test_alloc(dtype, N);
        fill_random(dtype, sel, N, alpha, &rng);
        fill_random(dtype, dy, N, alpha, &rng);
        expected(op, dtype, alpha, sel, dy, want);
        lcl_tensor *tsel = tensor_with(ctx, dtype, N, sel), *tdy = tensor_with(ctx, dtype, N, dy);
        lcl_tensor *out = alias == ALIAS_SEL ? tsel : tdy;
        OK(run_op(ctx, op, alpha, tsel, tdy, out));
        void *got = tensor_fetch(out);
        compare_args args = {dtype, N, sel, op == OP_FORWARD ? NULL : dy, want, got};
        assert_results(&args, "%s in place, output is %s", names[op], alias == ALIAS_SEL ? "the first input" : "dy");
        free(sel);
        free(dy);
        free(want);
        free(got);
        lcl_tensor_release(tsel);
        lcl_tensor_release(tdy);
    }
    lcl_context_release(ctx);
}

Test(inplace, forward_y_is_x) { same_tensor(OP_FORWARD, ALIAS_SEL); }
Test(inplace, backward_dx_is_dy) { same_tensor(OP_BACKWARD, ALIAS_DY); }
Test(inplace, backward_dx_is_x) { same_tensor(OP_BACKWARD, ALIAS_SEL); }
Test(inplace, backward_from_output_dx_is_dy) { same_tensor(OP_FROM_OUTPUT, ALIAS_DY); }
Test(inplace, backward_from_output_dx_is_y) { same_tensor(OP_FROM_OUTPUT, ALIAS_SEL); }

/* Input and output are two distinct views of the same elements [3, 3 + n) of one buffer;
 * elements outside them stay as they were. */
Test(inplace, views_of_the_same_range) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    const size_t size = N + 10, off = 3;
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        void *host = test_alloc(dtype, size), *want = test_alloc(dtype, size);
        fill_random(dtype, host, size, 2.5, &rng);
        lcl_tensor *buf = tensor_with(ctx, dtype, size, host);
        lcl_tensor *x = view_new(buf, off, N), *outer = view_new(buf, 1, size - 1);
        lcl_tensor *y = view_new(outer, off - 1, N); /* the same range, through a view of a view */
        OK(lcl_forward(ctx, 2.5, x, y));
        ref_forward_array(dtype, size, 2.5, host, want);
        for (size_t i = 0; i < size; ++i)
            if (i < off || i >= off + N)
                bits_set(dtype, want, i, bits_get(dtype, host, i));
        void *got = tensor_fetch(buf);
        compare_args args = {dtype, size, host, NULL, want, got};
        assert_results(&args, "forward on two views of [%zu, %zu) (whole buffer shown)", off, off + N);
        lcl_tensor_release(x);
        lcl_tensor_release(y);
        lcl_tensor_release(outer);
        lcl_tensor_release(buf);
        free(host);
        free(want);
        free(got);
    }
    lcl_context_release(ctx);
}

/* A view of all of a buffer and the buffer itself are the same range too. */
Test(inplace, whole_view_and_parent) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    void *host = test_alloc(LCL_F32, N), *dy = test_alloc(LCL_F32, N);
    fill_random(LCL_F32, host, N, 0.5, &rng);
    fill_random(LCL_F32, dy, N, 0.5, &rng);
    lcl_tensor *buf = tensor_with(ctx, LCL_F32, N, host), *tdy = tensor_with(ctx, LCL_F32, N, dy);
    lcl_tensor *whole = view_new(buf, 0, N);
    OK(lcl_backward(ctx, 0.5, buf, tdy, whole));
    void *got = tensor_fetch(buf);
    check_backward(LCL_F32, 0.5, N, host, dy, got, "backward, x the buffer, dx a view of all of it");
    lcl_tensor_release(whole);
    lcl_tensor_release(buf);
    lcl_tensor_release(tdy);
    free(host);
    free(dy);
    free(got);
    lcl_context_release(ctx);
}

/* ---- partial overlaps --------------------------------------------------------------------- */

#define SIZE 96

/* Element ranges [sel, sel + n), [dy, dy + n) and [out, out + n) of one buffer of SIZE. */
typedef struct layout_case {
    op_kind op;
    size_t sel, dy, out, n;
    int allowed; /* 1: the same or disjoint ranges; 0: a partial overlap */
} layout_case;

static const layout_case layouts[] = {
    {OP_FORWARD, 0, 0, 8, 40, 0},       {OP_FORWARD, 8, 0, 0, 40, 0},       {OP_FORWARD, 0, 0, 31, 32, 0},
    {OP_FORWARD, 31, 0, 0, 32, 0},      {OP_FORWARD, 0, 0, 1, 64, 0},       {OP_FORWARD, 0, 0, 32, 32, 1},
    {OP_FORWARD, 32, 0, 0, 32, 1},      {OP_BACKWARD, 0, 48, 50, 40, 0},    {OP_BACKWARD, 0, 48, 5, 40, 0},
    {OP_BACKWARD, 0, 40, 40, 40, 1},    {OP_BACKWARD, 0, 48, 48, 40, 1},    {OP_BACKWARD, 1, 48, 0, 40, 0},
    {OP_FROM_OUTPUT, 0, 48, 47, 40, 0}, {OP_FROM_OUTPUT, 0, 48, 48, 40, 1},
};

/* Runs one layout on views of one buffer (the input views go through views of views, so the
 * overlap must be judged on the root buffer) and checks accept/reject. */
static void run_layout(lcl_context *ctx, lcl_dtype dtype, const layout_case *c, const void *host) {
    lcl_tensor *buf = tensor_with(ctx, dtype, SIZE, host);
    lcl_tensor *outer = view_new(buf, 0, SIZE - 1);
    lcl_tensor *sel = view_new(outer, c->sel, c->n);
    lcl_tensor *dy = view_new(buf, c->dy, c->n), *out = view_new(buf, c->out, c->n);
    lcl_tensor_release(outer);
    lcl_status status = run_op(ctx, c->op, 0.5, sel, dy, out);
    char what[160];
    snprintf(what, sizeof what, "%s op %d: input at %zu, dy at %zu, output at %zu, n %zu", dtype_label(dtype),
             (int)c->op, c->sel, c->dy, c->out, c->n);
    if (c->allowed) {
        OK(status);
    } else {
        EXPECT_STATUS(status, LCL_ERROR_INVALID_ARGUMENT);
        void *got = tensor_fetch(buf);
        compare_args args = {dtype, SIZE, NULL, NULL, host, got};
        assert_results(&args, "%s: rejected, but the buffer changed", what);
        free(got);
    }
    lcl_tensor_release(sel);
    lcl_tensor_release(dy);
    lcl_tensor_release(out);
    lcl_tensor_release(buf);
}

Test(inplace, partial_overlap_rejected) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        void *host = test_alloc(dtype, SIZE);
        fill_random(dtype, host, SIZE, 0.5, &rng);
        for (size_t c = 0; c < sizeof layouts / sizeof layouts[0]; ++c)
            run_layout(ctx, dtype, &layouts[c], host);
        free(host);
    }
    lcl_context_release(ctx);
}

/* Two wraps of one app buffer are the same memory: same range in place, partial overlap
 * rejected. The CPU backend has no wraps (test_sizes checks that it refuses them). */
Test(inplace, wraps_of_one_app_buffer) {
    lcl_context *ctx = test_context();
    if (!is_opencl(ctx)) {
        lcl_context_release(ctx);
        return;
    }
    test_rng rng;
    rng_init(&rng, 0);
    void *host = test_alloc(LCL_F32, SIZE);
    fill_random(LCL_F32, host, SIZE, 0.5, &rng);
    cl_mem mem = app_buffer(lcl_context_cl_context(ctx), SIZE * sizeof(float));
    lcl_tensor *whole = NULL, *a = NULL, *b = NULL, *c = NULL;
    OK(lcl_tensor_wrap_cl(ctx, LCL_F32, mem, 0, SIZE, &whole));
    OK(lcl_tensor_write(whole, host));
    OK(lcl_tensor_wrap_cl(ctx, LCL_F32, mem, 8, 40, &a));
    OK(lcl_tensor_wrap_cl(ctx, LCL_F32, mem, 16, 40, &b));
    OK(lcl_tensor_wrap_cl(ctx, LCL_F32, mem, 8, 40, &c));
    EXPECT_STATUS(lcl_forward(ctx, 0.5, a, b), LCL_ERROR_INVALID_ARGUMENT);
    void *got = tensor_fetch(whole);
    compare_args unchanged = {LCL_F32, SIZE, NULL, NULL, host, got};
    assert_results(&unchanged, "wraps at 8 and 16: rejected, but the buffer changed");
    free(got);
    OK(lcl_forward(ctx, 0.5, a, c));
    got = tensor_fetch(c);
    check_forward(LCL_F32, 0.5, 40, (float *)host + 8, got, "in place through two wraps at offset 8");
    free(got);
    lcl_tensor_release(a);
    lcl_tensor_release(b);
    lcl_tensor_release(c);
    lcl_tensor_release(whole);
    clReleaseMemObject(mem);
    free(host);
    lcl_context_release(ctx);
}
