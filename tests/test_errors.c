/* The table of bad calls. Each must return its status, leave a non-empty lcl_last_error(),
 * leave every output (tensors and host arrays, poisoned first) unchanged and leave an out
 * argument untouched. */
#include "common.h"

#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 64
#define INVALID LCL_ERROR_INVALID_ARGUMENT

/* Everything a bad call may touch. All tensors and host arrays hold the poison before each
 * case, so a write anywhere shows. */
typedef struct fx {
    lcl_context *ctx, *other, *cpu;
    lcl_tensor *x, *dy, *y, *window;       /* f32, N; window is x[10, 20) */
    lcl_tensor *short_t, *f16_t, *f64_t;   /* f32 N-1, f16 N, f64 N */
    lcl_tensor *other_x, *other_y, *cpu_y; /* f32 N, of other contexts */
    lcl_tensor *mask_x, *mask_y;           /* LCL_MASK, N */
    cl_mem mem;                            /* N floats, for wrap_cl */
    app_cl app;                            /* owns mem on the CPU backend */
    float hx[N], hdy[N], hy[N], hbuf[2 * N];
    uint16_t h16[2 * N];
    lcl_tensor *slopes, *dslopes;   /* f32, 4: PReLU's alpha and dalpha */
    lcl_tensor *dx16, *dw16, *dy16; /* views of y, dy and x: a dense layer's 4 x 4 matrices */
    lcl_tensor *out_t;              /* out arguments, preset to a sentinel */
    lcl_context *out_ctx;
} fx;

static lcl_tensor *const TENSOR_SENTINEL = (lcl_tensor *)(uintptr_t)0x5a5a5a50;

#define TENSOR_COUNT 13

/* The tensors a bad call could write (window and the dense views are parts of others). */
static void tensor_list(const fx *f, lcl_tensor *list[TENSOR_COUNT]) {
    lcl_tensor *const all[TENSOR_COUNT] = {f->x,      f->dy,      f->y,       f->short_t, f->f16_t,
                                           f->f64_t,  f->other_x, f->other_y, f->cpu_y,   f->mask_x,
                                           f->mask_y, f->slopes,  f->dslopes};
    memcpy(list, all, sizeof all);
}

/* Mask tensors are poisoned word by word with the f32 pattern. */
static void poison_everything(fx *f) {
    lcl_tensor *list[TENSOR_COUNT];
    tensor_list(f, list);
    for (size_t i = 0; i < TENSOR_COUNT; ++i) {
        lcl_tensor *t = list[i];
        if (lcl_tensor_dtype(t) == LCL_MASK) {
            uint32_t words[(N + 31) / 32];
            fill_poison(LCL_F32, words, lcl_tensor_bytes(t) / 4);
            OK(lcl_tensor_write(t, words));
        } else {
            tensor_poison(t);
        }
    }
    fill_poison(LCL_F32, f->hx, N);
    fill_poison(LCL_F32, f->hdy, N);
    fill_poison(LCL_F32, f->hy, N);
    fill_poison(LCL_F32, f->hbuf, 2 * N);
    fill_poison(LCL_F16, f->h16, 2 * N);
    f->out_t = TENSOR_SENTINEL;
    f->out_ctx = (lcl_context *)TENSOR_SENTINEL;
}

static void check_everything(fx *f, const char *name) {
    lcl_tensor *list[TENSOR_COUNT];
    tensor_list(f, list);
    for (size_t i = 0; i < TENSOR_COUNT; ++i) {
        lcl_tensor *t = list[i];
        int mask = lcl_tensor_dtype(t) == LCL_MASK;
        void *got = tensor_fetch(t);
        check_poisoned(mask ? LCL_F32 : lcl_tensor_dtype(t), mask ? lcl_tensor_bytes(t) / 4 : lcl_tensor_size(t), got,
                       "%s: tensor %zu", name, i);
        free(got);
    }
    check_poisoned(LCL_F32, N, f->hy, "%s: host y", name);
    check_poisoned(LCL_F32, 2 * N, f->hbuf, "%s: host buffer", name);
    check_poisoned(LCL_F16, 2 * N, f->h16, "%s: host f16 buffer", name);
    cr_assert(f->out_t == TENSOR_SENTINEL, "%s: wrote its out tensor argument", name);
    cr_assert(f->out_ctx == (lcl_context *)TENSOR_SENTINEL, "%s: wrote its out context argument", name);
}

static void fx_open(fx *f) {
    memset(f, 0, sizeof *f);
    f->ctx = test_context();
    f->other = test_context();
    f->cpu = test_cpu_context();
    f->x = tensor_new(f->ctx, LCL_F32, N);
    f->dy = tensor_new(f->ctx, LCL_F32, N);
    f->y = tensor_new(f->ctx, LCL_F32, N);
    f->window = view_new(f->x, 10, 10);
    f->short_t = tensor_new(f->ctx, LCL_F32, N - 1);
    f->f16_t = tensor_new(f->ctx, LCL_F16, N);
    f->f64_t = tensor_new(f->ctx, LCL_F64, N);
    f->other_x = tensor_new(f->other, LCL_F32, N);
    f->other_y = tensor_new(f->other, LCL_F32, N);
    f->cpu_y = tensor_new(f->cpu, LCL_F32, N);
    f->mask_x = tensor_new(f->ctx, LCL_MASK, N);
    f->mask_y = tensor_new(f->ctx, LCL_MASK, N);
    f->slopes = tensor_new(f->ctx, LCL_F32, 4);
    f->dslopes = tensor_new(f->ctx, LCL_F32, 4);
    f->dy16 = view_new(f->x, 0, 16);
    f->dw16 = view_new(f->dy, 0, 16);
    f->dx16 = view_new(f->y, 0, 16);
    /* A real app buffer: on the CPU backend from the test's own OpenCL context. */
    if (is_opencl(f->ctx)) {
        f->mem = app_buffer(lcl_context_cl_context(f->ctx), N * sizeof(float));
    } else {
        app_cl_open(&f->app);
        f->mem = app_buffer(f->app.context, N * sizeof(float));
    }
}

static void fx_close(fx *f) {
    lcl_tensor *list[TENSOR_COUNT];
    tensor_list(f, list);
    for (size_t i = 0; i < TENSOR_COUNT; ++i)
        lcl_tensor_release(list[i]);
    lcl_tensor_release(f->window);
    lcl_tensor_release(f->dy16);
    lcl_tensor_release(f->dw16);
    lcl_tensor_release(f->dx16);
    clReleaseMemObject(f->mem);
    if (f->app.context)
        app_cl_close(&f->app);
    lcl_context_release(f->ctx);
    lcl_context_release(f->other);
    lcl_context_release(f->cpu);
}

typedef struct error_case {
    const char *name, *call;
    lcl_status (*run)(fx *f);
    lcl_status want;
} error_case;

static void run_cases(const error_case *cases, size_t count) {
    fx f;
    fx_open(&f);
    for (size_t i = 0; i < count; ++i) {
        poison_everything(&f);
        lcl_status got = cases[i].run(&f);
        char *message = strdup(lcl_last_error());
        cr_assert(got == cases[i].want, "%s: %s returned %s, expected %s (%s)", cases[i].name, cases[i].call,
                  lcl_status_string(got), lcl_status_string(cases[i].want), message);
        cr_assert(message[0] != '\0', "%s: %s failed without a message", cases[i].name, cases[i].call);
        free(message);
        check_everything(&f, cases[i].name);
    }
    fx_close(&f);
}

/* Each table row X(name, call on f, expected status) becomes a function and an entry. */
#define DEFINE_CASE(name, expr, want)                                                                                  \
    static lcl_status name(fx *f) {                                                                                    \
        (void)f;                                                                                                       \
        return expr;                                                                                                   \
    }
#define CASE_ROW(name, expr, want) {#name, #expr, name, want},
#define CASE_TEST(table)                                                                                               \
    table(DEFINE_CASE) static const error_case table##_rows[] = {table(CASE_ROW)};                                     \
    Test(errors, table) { run_cases(table##_rows, sizeof table##_rows / sizeof table##_rows[0]); }

/* ---- NULL arguments ----------------------------------------------------------------------- */

#define null_arguments(X)                                                                                              \
    X(forward_null_context, lcl_forward(NULL, 0.5, f->x, f->y), INVALID)                                               \
    X(forward_null_x, lcl_forward(f->ctx, 0.5, NULL, f->y), INVALID)                                                   \
    X(forward_null_y, lcl_forward(f->ctx, 0.5, f->x, NULL), INVALID)                                                   \
    X(backward_null_context, lcl_backward(NULL, 0.5, f->x, f->dy, f->y), INVALID)                                      \
    X(backward_null_x, lcl_backward(f->ctx, 0.5, NULL, f->dy, f->y), INVALID)                                          \
    X(backward_null_dy, lcl_backward(f->ctx, 0.5, f->x, NULL, f->y), INVALID)                                          \
    X(backward_null_dx, lcl_backward(f->ctx, 0.5, f->x, f->dy, NULL), INVALID)                                         \
    X(from_output_null_context, lcl_backward_from_output(NULL, 0.5, f->x, f->dy, f->y), INVALID)                       \
    X(from_output_null_y, lcl_backward_from_output(f->ctx, 0.5, NULL, f->dy, f->y), INVALID)                           \
    X(from_output_null_dy, lcl_backward_from_output(f->ctx, 0.5, f->x, NULL, f->y), INVALID)                           \
    X(from_output_null_dx, lcl_backward_from_output(f->ctx, 0.5, f->x, f->dy, NULL), INVALID)                          \
    X(forward_host_null_context, lcl_forward_host(NULL, LCL_F32, N, 0.5, f->hx, f->hy), INVALID)                       \
    X(forward_host_null_x, lcl_forward_host(f->ctx, LCL_F32, N, 0.5, NULL, f->hy), INVALID)                            \
    X(forward_host_null_y, lcl_forward_host(f->ctx, LCL_F32, N, 0.5, f->hx, NULL), INVALID)                            \
    X(backward_host_null_context, lcl_backward_host(NULL, LCL_F32, N, 0.5, f->hx, f->hdy, f->hy), INVALID)             \
    X(backward_host_null_x, lcl_backward_host(f->ctx, LCL_F32, N, 0.5, NULL, f->hdy, f->hy), INVALID)                  \
    X(backward_host_null_dy, lcl_backward_host(f->ctx, LCL_F32, N, 0.5, f->hx, NULL, f->hy), INVALID)                  \
    X(backward_host_null_dx, lcl_backward_host(f->ctx, LCL_F32, N, 0.5, f->hx, f->hdy, NULL), INVALID)                 \
    X(tensor_create_null_context, lcl_tensor_create(NULL, LCL_F32, 4, &f->out_t), INVALID)                             \
    X(tensor_create_null_out, lcl_tensor_create(f->ctx, LCL_F32, 4, NULL), INVALID)                                    \
    X(view_null_parent, lcl_tensor_view(NULL, 0, 1, &f->out_t), INVALID)                                               \
    X(view_null_out, lcl_tensor_view(f->x, 0, 1, NULL), INVALID)                                                       \
    X(write_null_tensor, lcl_tensor_write(NULL, f->hx), INVALID)                                                       \
    X(write_null_source, lcl_tensor_write(f->y, NULL), INVALID)                                                        \
    X(read_null_tensor, lcl_tensor_read(NULL, f->hy), INVALID)                                                         \
    X(read_null_destination, lcl_tensor_read(f->x, NULL), INVALID)                                                     \
    X(wrap_null_context, lcl_tensor_wrap_cl(NULL, LCL_F32, f->mem, 0, 1, &f->out_t), INVALID)                          \
    X(wrap_null_buffer, lcl_tensor_wrap_cl(f->ctx, LCL_F32, NULL, 0, 1, &f->out_t), INVALID)                           \
    X(wrap_null_out, lcl_tensor_wrap_cl(f->ctx, LCL_F32, f->mem, 0, 1, NULL), INVALID)                                 \
    X(context_create_null_out, lcl_context_create("cpu", NULL), INVALID)                                               \
    X(context_wrap_null_queue, lcl_context_wrap_cl(NULL, &f->out_ctx), INVALID)                                        \
    X(finish_null, lcl_finish(NULL), INVALID)
CASE_TEST(null_arguments)

/* ---- tensors that do not match ------------------------------------------------------------ */

#define mismatched_tensors(X)                                                                                          \
    X(forward_short_output, lcl_forward(f->ctx, 0.5, f->x, f->short_t), INVALID)                                       \
    X(forward_short_input, lcl_forward(f->ctx, 0.5, f->short_t, f->y), INVALID)                                        \
    X(backward_short_x, lcl_backward(f->ctx, 0.5, f->short_t, f->dy, f->y), INVALID)                                   \
    X(backward_short_dy, lcl_backward(f->ctx, 0.5, f->x, f->short_t, f->y), INVALID)                                   \
    X(backward_short_dx, lcl_backward(f->ctx, 0.5, f->x, f->dy, f->short_t), INVALID)                                  \
    X(from_output_short_dy, lcl_backward_from_output(f->ctx, 0.5, f->x, f->short_t, f->y), INVALID)                    \
    X(forward_f16_output, lcl_forward(f->ctx, 0.5, f->x, f->f16_t), INVALID)                                           \
    X(forward_f16_input, lcl_forward(f->ctx, 0.5, f->f16_t, f->y), INVALID)                                            \
    X(backward_f16_x, lcl_backward(f->ctx, 0.5, f->f16_t, f->dy, f->y), INVALID)                                       \
    X(backward_f16_dy, lcl_backward(f->ctx, 0.5, f->x, f->f16_t, f->y), INVALID)                                       \
    X(backward_f64_dx, lcl_backward(f->ctx, 0.5, f->x, f->dy, f->f64_t), INVALID)                                      \
    X(from_output_f64_y, lcl_backward_from_output(f->ctx, 0.5, f->f64_t, f->dy, f->y), INVALID)                        \
    X(forward_output_of_other_context, lcl_forward(f->ctx, 0.5, f->x, f->other_y), INVALID)                            \
    X(forward_input_of_other_context, lcl_forward(f->ctx, 0.5, f->other_x, f->y), INVALID)                             \
    X(forward_tensors_of_other_context, lcl_forward(f->ctx, 0.5, f->other_x, f->other_y), INVALID)                     \
    X(forward_output_of_cpu_context, lcl_forward(f->ctx, 0.5, f->x, f->cpu_y), INVALID)                                \
    X(backward_dy_of_other_context, lcl_backward(f->ctx, 0.5, f->x, f->other_x, f->y), INVALID)                        \
    X(backward_dx_of_other_context, lcl_backward(f->ctx, 0.5, f->x, f->dy, f->other_y), INVALID)                       \
    X(from_output_dx_of_cpu_context, lcl_backward_from_output(f->ctx, 0.5, f->x, f->dy, f->cpu_y), INVALID)
CASE_TEST(mismatched_tensors)

/* ---- alpha -------------------------------------------------------------------------------- */

#define bad_alpha(X)                                                                                                   \
    X(forward_alpha_nan, lcl_forward(f->ctx, NAN, f->x, f->y), INVALID)                                                \
    X(forward_alpha_negative_nan, lcl_forward(f->ctx, -NAN, f->x, f->y), INVALID)                                      \
    X(forward_alpha_inf, lcl_forward(f->ctx, INFINITY, f->x, f->y), INVALID)                                           \
    X(forward_alpha_minus_inf, lcl_forward(f->ctx, -INFINITY, f->x, f->y), INVALID)                                    \
    X(backward_alpha_nan, lcl_backward(f->ctx, NAN, f->x, f->dy, f->y), INVALID)                                       \
    X(backward_alpha_inf, lcl_backward(f->ctx, INFINITY, f->x, f->dy, f->y), INVALID)                                  \
    X(backward_alpha_minus_inf, lcl_backward(f->ctx, -INFINITY, f->x, f->dy, f->y), INVALID)                           \
    X(from_output_alpha_nan, lcl_backward_from_output(f->ctx, NAN, f->x, f->dy, f->y), INVALID)                        \
    X(from_output_alpha_inf, lcl_backward_from_output(f->ctx, INFINITY, f->x, f->dy, f->y), INVALID)                   \
    X(from_output_alpha_minus_inf, lcl_backward_from_output(f->ctx, -INFINITY, f->x, f->dy, f->y), INVALID)            \
    X(from_output_alpha_negative, lcl_backward_from_output(f->ctx, -0.01, f->x, f->dy, f->y), INVALID)                 \
    X(forward_host_alpha_nan, lcl_forward_host(f->ctx, LCL_F32, N, NAN, f->hx, f->hy), INVALID)                        \
    X(forward_host_alpha_inf, lcl_forward_host(f->ctx, LCL_F32, N, INFINITY, f->hx, f->hy), INVALID)                   \
    X(backward_host_alpha_minus_inf, lcl_backward_host(f->ctx, LCL_F32, N, -INFINITY, f->hx, f->hdy, f->hy), INVALID)  \
    X(backward_host_alpha_nan, lcl_backward_host(f->ctx, LCL_F32, N, NAN, f->hx, f->hdy, f->hy), INVALID)              \
    X(forward_alpha_beyond_fp32, lcl_forward(f->ctx, 1e39, f->x, f->y), INVALID)                                       \
    X(backward_alpha_beyond_fp32, lcl_backward(f->ctx, -1e39, f->x, f->dy, f->y), INVALID)                             \
    X(forward_host_alpha_beyond_fp32, lcl_forward_host(f->ctx, LCL_F16, N, 1e39, f->hx, f->hy), INVALID)
CASE_TEST(bad_alpha)

/* ---- dtypes ------------------------------------------------------------------------------- */

#define BAD_DTYPE ((lcl_dtype)99)

#define bad_dtypes(X)                                                                                                  \
    X(forward_mask, lcl_forward(f->ctx, 0.5, f->mask_x, f->mask_y), INVALID)                                           \
    X(forward_mask_output, lcl_forward(f->ctx, 0.5, f->x, f->mask_y), INVALID)                                         \
    X(backward_mask, lcl_backward(f->ctx, 0.5, f->mask_x, f->mask_x, f->mask_y), INVALID)                              \
    X(from_output_mask, lcl_backward_from_output(f->ctx, 0.5, f->mask_x, f->mask_x, f->mask_y), INVALID)               \
    X(tensor_create_dtype_99, lcl_tensor_create(f->ctx, BAD_DTYPE, 4, &f->out_t), INVALID)                             \
    X(tensor_create_dtype_minus_1, lcl_tensor_create(f->ctx, (lcl_dtype)-1, 4, &f->out_t), INVALID)                    \
    X(forward_host_dtype_99, lcl_forward_host(f->ctx, BAD_DTYPE, N, 0.5, f->hx, f->hy), INVALID)                       \
    X(backward_host_dtype_99, lcl_backward_host(f->ctx, BAD_DTYPE, N, 0.5, f->hx, f->hdy, f->hy), INVALID)             \
    X(forward_host_mask, lcl_forward_host(f->ctx, LCL_MASK, N, 0.5, f->hx, f->hy), INVALID)                            \
    X(backward_host_mask, lcl_backward_host(f->ctx, LCL_MASK, N, 0.5, f->hx, f->hdy, f->hy), INVALID)                  \
    X(wrap_dtype_99, lcl_tensor_wrap_cl(f->ctx, BAD_DTYPE, f->mem, 0, 1, &f->out_t), INVALID)
CASE_TEST(bad_dtypes)

/* ---- sizes and ranges --------------------------------------------------------------------- */

#define bad_ranges(X)                                                                                                  \
    X(view_past_end, lcl_tensor_view(f->x, 60, 5, &f->out_t), INVALID)                                                 \
    X(view_offset_past_end, lcl_tensor_view(f->x, N + 1, 0, &f->out_t), INVALID)                                       \
    X(view_one_past_end, lcl_tensor_view(f->x, N, 1, &f->out_t), INVALID)                                              \
    X(view_offset_overflow, lcl_tensor_view(f->x, SIZE_MAX, 2, &f->out_t), INVALID)                                    \
    X(view_size_overflow, lcl_tensor_view(f->x, 2, SIZE_MAX, &f->out_t), INVALID)                                      \
    X(view_both_max, lcl_tensor_view(f->x, SIZE_MAX, SIZE_MAX, &f->out_t), INVALID)                                    \
    X(view_of_view_past_its_end, lcl_tensor_view(f->window, 5, 6, &f->out_t), INVALID)                                 \
    X(create_f32_bytes_overflow, lcl_tensor_create(f->ctx, LCL_F32, SIZE_MAX / 2, &f->out_t), INVALID)                 \
    X(create_f64_bytes_overflow, lcl_tensor_create(f->ctx, LCL_F64, SIZE_MAX / 8 + 1, &f->out_t), INVALID)             \
    X(create_f16_bytes_overflow, lcl_tensor_create(f->ctx, LCL_F16, SIZE_MAX / 2 + 1, &f->out_t), INVALID)             \
    X(create_f16_too_big, lcl_tensor_create(f->ctx, LCL_F16, SIZE_MAX / 2, &f->out_t), LCL_ERROR_OUT_OF_MEMORY)        \
    X(create_f32_too_big, lcl_tensor_create(f->ctx, LCL_F32, SIZE_MAX / 8, &f->out_t), LCL_ERROR_OUT_OF_MEMORY)        \
    X(forward_host_bytes_overflow, lcl_forward_host(f->ctx, LCL_F32, SIZE_MAX / 2, 0.5, f->hx, f->hy), INVALID)        \
    X(wrap_past_end, lcl_tensor_wrap_cl(f->ctx, LCL_F32, f->mem, 60, 5, &f->out_t), INVALID)                           \
    X(wrap_offset_overflow, lcl_tensor_wrap_cl(f->ctx, LCL_F32, f->mem, SIZE_MAX, 2, &f->out_t), INVALID)              \
    X(wrap_size_overflow, lcl_tensor_wrap_cl(f->ctx, LCL_F32, f->mem, 2, SIZE_MAX, &f->out_t), INVALID)                \
    X(wrap_mask_offset, lcl_tensor_wrap_cl(f->ctx, LCL_MASK, f->mem, 16, 32, &f->out_t), INVALID)
CASE_TEST(bad_ranges)

/* ---- host arrays that overlap ------------------------------------------------------------- */

#define host_overlaps(X)                                                                                               \
    X(forward_y_inside_x, lcl_forward_host(f->ctx, LCL_F32, N, 0.5, f->hbuf, f->hbuf + 8), INVALID)                    \
    X(forward_x_inside_y, lcl_forward_host(f->ctx, LCL_F32, N, 0.5, f->hbuf + 8, f->hbuf), INVALID)                    \
    X(forward_by_one_element, lcl_forward_host(f->ctx, LCL_F32, N, 0.5, f->hbuf, f->hbuf + N - 1), INVALID)            \
    X(forward_f16_by_one, lcl_forward_host(f->ctx, LCL_F16, N, 0.5, f->h16, f->h16 + 1), INVALID)                      \
    X(backward_dx_overlaps_dy, lcl_backward_host(f->ctx, LCL_F32, N, 0.5, f->hx, f->hbuf, f->hbuf + 1), INVALID)       \
    X(backward_dx_overlaps_x, lcl_backward_host(f->ctx, LCL_F32, N, 0.5, f->hbuf, f->hdy, f->hbuf + N - 1), INVALID)
CASE_TEST(host_overlaps)

/* ---- batches ------------------------------------------------------------------------------ */

/* Two-item batches (compound literals cannot pass through the table's macro). */
static lcl_status forward2(fx *f, double a1, const lcl_tensor *x1, lcl_tensor *y0, lcl_tensor *y1) {
    const double alpha[] = {0.5, a1};
    const lcl_tensor *x[] = {f->x, x1};
    lcl_tensor *y[] = {y0, y1};
    return lcl_forward_batch(f->ctx, 2, alpha, x, y);
}

static lcl_status backward2(fx *f, const lcl_tensor *dy1, lcl_tensor *dx1) {
    const double alpha[] = {0.5, 0.5};
    const lcl_tensor *x[] = {f->x, f->dy};
    const lcl_tensor *dy[] = {f->dy, dy1};
    lcl_tensor *dx[] = {f->y, dx1};
    return lcl_backward_batch(f->ctx, 2, alpha, x, dy, dx);
}

#define bad_batches(X)                                                                                                 \
    X(batch_null_context, lcl_forward_batch(NULL, 0, NULL, NULL, NULL), INVALID)                                       \
    X(batch_null_arrays, lcl_forward_batch(f->ctx, 2, NULL, NULL, NULL), INVALID)                                      \
    X(batch_null_item, forward2(f, 0.5, NULL, f->y, f->short_t), INVALID)                                              \
    X(batch_item_alpha_nan, forward2(f, NAN, f->dy, f->y, f->f64_t), INVALID)                                          \
    X(batch_item_size_mismatch, forward2(f, 0.5, f->dy, f->y, f->short_t), INVALID)                                    \
    X(batch_item_dtype_mismatch, forward2(f, 0.5, f->dy, f->y, f->f16_t), INVALID)                                     \
    X(batch_item_of_other_context, forward2(f, 0.5, f->dy, f->y, f->other_y), INVALID)                                 \
    X(batch_item_mask, forward2(f, 0.5, f->mask_x, f->y, f->mask_y), INVALID)                                          \
    X(batch_outputs_overlap, forward2(f, 0.5, f->dy, f->y, f->y), INVALID)                                             \
    X(batch_output_overlaps_other_input, forward2(f, 0.5, f->dy, f->dy, f->y), INVALID)                                \
    X(batch_item_partial_overlap, forward2(f, 0.5, f->x, f->y, f->window), INVALID)                                    \
    X(backward_batch_null_dy_array, lcl_backward_batch(f->ctx, 1, (const double *)f->hx, NULL, NULL, NULL), INVALID)   \
    X(backward_batch_null_dy_item, backward2(f, NULL, f->short_t), INVALID)                                            \
    X(backward_batch_dx_overlaps_dy, backward2(f, f->x, f->window), INVALID)
CASE_TEST(bad_batches)

/* ---- PReLU -------------------------------------------------------------------------------- */

#define bad_prelu(X)                                                                                                   \
    X(prelu_null_context, lcl_prelu_forward(NULL, 4, 2, f->slopes, f->x, f->y), INVALID)                               \
    X(prelu_null_alpha, lcl_prelu_forward(f->ctx, 4, 2, NULL, f->x, f->y), INVALID)                                    \
    X(prelu_null_x, lcl_prelu_forward(f->ctx, 4, 2, f->slopes, NULL, f->y), INVALID)                                   \
    X(prelu_zero_channels, lcl_prelu_forward(f->ctx, 0, 2, f->slopes, f->x, f->y), INVALID)                            \
    X(prelu_zero_inner, lcl_prelu_forward(f->ctx, 4, 0, f->slopes, f->x, f->y), INVALID)                               \
    X(prelu_n_not_a_multiple, lcl_prelu_forward(f->ctx, 4, 3, f->slopes, f->x, f->y), INVALID)                         \
    X(prelu_shape_overflow, lcl_prelu_forward(f->ctx, 4, SIZE_MAX / 2, f->slopes, f->x, f->y), INVALID)                \
    X(prelu_alpha_wrong_size, lcl_prelu_forward(f->ctx, 8, 2, f->slopes, f->x, f->y), INVALID)                         \
    X(prelu_alpha_dtype_mismatch, lcl_prelu_forward(f->ctx, 4, 2, f->slopes, f->f16_t, f->y), INVALID)                 \
    X(prelu_y_size_mismatch, lcl_prelu_forward(f->ctx, 4, 2, f->slopes, f->x, f->short_t), INVALID)                    \
    X(prelu_y_of_other_context, lcl_prelu_forward(f->ctx, 4, 2, f->slopes, f->x, f->other_y), INVALID)                 \
    X(prelu_y_partially_overlaps_x, lcl_prelu_backward(f->ctx, 1, 10, f->window, f->window, f->dy, f->y, NULL),        \
      INVALID)                                                                                                         \
    X(prelu_mask_dtype, lcl_prelu_forward(f->ctx, 4, 2, f->slopes, f->mask_x, f->mask_y), INVALID)                     \
    X(prelu_backward_null_dy, lcl_prelu_backward(f->ctx, 4, 2, f->slopes, f->x, NULL, f->y, NULL), INVALID)            \
    X(prelu_backward_dalpha_wrong_size, lcl_prelu_backward(f->ctx, 4, 2, f->slopes, f->x, f->dy, f->y, f->y), INVALID) \
    X(prelu_backward_dx_overlaps_alpha, lcl_prelu_backward(f->ctx, 64, 1, f->y, f->x, f->dy, f->y, NULL), INVALID)     \
    X(prelu_backward_dalpha_is_dx, lcl_prelu_backward(f->ctx, 64, 1, f->x, f->x, f->dy, f->y, f->y), INVALID)
CASE_TEST(bad_prelu)

/* ---- the sign mask ------------------------------------------------------------------------ */

#define bad_masks(X)                                                                                                   \
    X(masked_null_context, lcl_forward_masked(NULL, 0.5, f->x, f->y, f->mask_y), INVALID)                              \
    X(masked_null_mask, lcl_forward_masked(f->ctx, 0.5, f->x, f->y, NULL), INVALID)                                    \
    X(masked_mask_not_a_mask, lcl_forward_masked(f->ctx, 0.5, f->x, f->y, f->dy), INVALID)                             \
    X(masked_mask_wrong_size, lcl_forward_masked(f->ctx, 0.5, f->short_t, f->short_t, f->mask_y), INVALID)             \
    X(masked_alpha_nan, lcl_forward_masked(f->ctx, NAN, f->x, f->y, f->mask_y), INVALID)                               \
    X(masked_y_dtype_mismatch, lcl_forward_masked(f->ctx, 0.5, f->x, f->f16_t, f->mask_y), INVALID)                    \
    X(masked_float_tensors_are_masks, lcl_forward_masked(f->ctx, 0.5, f->mask_x, f->mask_x, f->mask_y), INVALID)       \
    X(masked_y_partially_overlaps_x, lcl_forward_masked(f->ctx, 0.5, f->window, f->x, f->mask_y), INVALID)             \
    X(masked_mask_of_other_context, lcl_forward_masked(f->ctx, 0.5, f->x, f->y, f->other_y), INVALID)                  \
    X(backward_masked_null_dy, lcl_backward_masked(f->ctx, 0.5, f->mask_x, NULL, f->y), INVALID)                       \
    X(backward_masked_alpha_inf, lcl_backward_masked(f->ctx, INFINITY, f->mask_x, f->dy, f->y), INVALID)               \
    X(backward_masked_mask_not_a_mask, lcl_backward_masked(f->ctx, 0.5, f->x, f->dy, f->y), INVALID)
CASE_TEST(bad_masks)

/* ---- the dense layer: 4 x 4 matrices (dy16 = x[0, 16), dw16 = dy[0, 16), dx16 = y[0, 16)) ------ */

#define bad_dense(X)                                                                                                   \
    X(dense_null_context, lcl_dense_forward(NULL, 4, 4, 4, 0.5, f->dy16, f->dw16, NULL, f->dx16), INVALID)             \
    X(dense_null_x, lcl_dense_forward(f->ctx, 4, 4, 4, 0.5, NULL, f->dw16, NULL, f->dx16), INVALID)                    \
    X(dense_null_y, lcl_dense_forward(f->ctx, 4, 4, 4, 0.5, f->dy16, f->dw16, NULL, NULL), INVALID)                    \
    X(dense_zero_batch, lcl_dense_forward(f->ctx, 0, 4, 4, 0.5, f->dy16, f->dw16, NULL, f->dx16), INVALID)             \
    X(dense_x_wrong_size, lcl_dense_forward(f->ctx, 4, 4, 4, 0.5, f->x, f->dw16, NULL, f->dx16), INVALID)              \
    X(dense_bias_wrong_size, lcl_dense_forward(f->ctx, 4, 4, 4, 0.5, f->dy16, f->dw16, f->dy, f->dx16), INVALID)       \
    X(dense_f64_tensors, lcl_dense_forward(f->ctx, 8, 8, 8, 0.5, f->f64_t, f->f64_t, NULL, f->f64_t), INVALID)         \
    X(dense_y_of_other_context, lcl_dense_forward(f->ctx, 16, 4, 4, 0.5, f->x, f->dw16, NULL, f->other_y), INVALID)    \
    X(dense_alpha_nan, lcl_dense_forward(f->ctx, 4, 4, 4, NAN, f->dy16, f->dw16, NULL, f->dx16), INVALID)              \
    X(dense_y_overlaps_x, lcl_dense_forward(f->ctx, 4, 4, 4, 0.5, f->dy16, f->dw16, NULL, f->dy16), INVALID)           \
    X(dense_backward_alpha_negative,                                                                                   \
      lcl_dense_backward(f->ctx, 4, 4, 4, -0.5, f->dy16, f->dw16, f->dy16, f->dw16, f->dx16, NULL, NULL), INVALID)     \
    X(dense_backward_null_dy,                                                                                          \
      lcl_dense_backward(f->ctx, 4, 4, 4, 0.5, f->dy16, f->dw16, f->dy16, NULL, f->dx16, NULL, NULL), INVALID)         \
    X(dense_backward_dw_overlaps_dx,                                                                                   \
      lcl_dense_backward(f->ctx, 4, 4, 4, 0.5, f->dy16, f->dw16, f->dy16, f->dw16, f->dx16, f->dx16, NULL), INVALID)
CASE_TEST(bad_dense)

/* ---- contexts ----------------------------------------------------------------------------- */

#define bad_contexts(X)                                                                                                \
    X(context_create_unknown_spec, lcl_context_create("tpu", &f->out_ctx), INVALID)                                    \
    X(context_create_bad_indices, lcl_context_create("opencl:x:0", &f->out_ctx), INVALID)                              \
    X(context_create_no_such_platform, lcl_context_create("opencl:99:0", &f->out_ctx), LCL_ERROR_DEVICE_NOT_FOUND)     \
    X(wrap_buffer_on_cpu_backend, lcl_tensor_wrap_cl(f->cpu, LCL_F32, f->mem, 0, 1, &f->out_t), INVALID)               \
    X(wrap_buffer_of_other_context, lcl_tensor_wrap_cl(f->other, LCL_F32, f->mem, 0, 1, &f->out_t), INVALID)
CASE_TEST(bad_contexts)

/* ---- docs/ERRORS.md: rendered from the tables above, so that it cannot drift from them ------ */

typedef struct case_table {
    const error_case *rows;
    size_t count;
} case_table;

#define CASE_TABLE(table)                                                                                              \
    { table##_rows, sizeof table##_rows / sizeof table##_rows[0] }
static const case_table all_tables[] = {
    CASE_TABLE(null_arguments), CASE_TABLE(mismatched_tensors), CASE_TABLE(bad_alpha),    CASE_TABLE(bad_dtypes),
    CASE_TABLE(bad_ranges),     CASE_TABLE(host_overlaps),      CASE_TABLE(bad_batches),  CASE_TABLE(bad_prelu),
    CASE_TABLE(bad_masks),      CASE_TABLE(bad_dense),          CASE_TABLE(bad_contexts),
};
#define TABLE_COUNT (sizeof all_tables / sizeof all_tables[0])

/* The public function a row calls: the name before its '(', the batch helpers' own. */
static void row_function(const error_case *row, char *name, size_t size) {
    size_t len = strcspn(row->call, "(");
    snprintf(name, size, "%.*s", (int)len, row->call);
    if (strcmp(name, "forward2") == 0)
        snprintf(name, size, "lcl_forward_batch");
    else if (strcmp(name, "backward2") == 0)
        snprintf(name, size, "lcl_backward_batch");
}

static const char doc_head[] =
    "# Bad inputs and what they return\n"
    "\n"
    "Generated from the tables of `tests/test_errors.c`; do not edit. Each row is a call the test makes on\n"
    "the CPU backend and on an OpenCL device (`ctest -R errors`), checking that it returns the status shown,\n"
    "leaves a message for `lcl_last_error()`, changes no tensor and no host array (all poisoned first) and\n"
    "leaves its out argument untouched. The test also fails when this file differs from what the tables\n"
    "give; `LEAKYCL_UPDATE_ERRORS_DOC=1 build/tests/test_errors --filter errors/doc` rewrites it.\n"
    "\n"
    "In the calls: `f->ctx` is the context under test, `f->other` a second context, `f->cpu` a CPU-backend\n"
    "one; `f->x`, `f->dy`, `f->y` are f32 tensors of 64 elements of `f->ctx`; `f->window` is the view\n"
    "x[10, 20); `f->short_t` has 63 elements; `f->f16_t`, `f->f64_t` are f16 and f64, `f->mask_x`, `f->mask_y`\n"
    "LCL_MASK tensors of 64 elements; `f->other_x`, `f->other_y`, `f->cpu_y` belong to the other contexts;\n"
    "`f->slopes`, `f->dslopes` are f32 tensors of 4; `f->dy16`, `f->dw16`, `f->dx16` are the views [0, 16)\n"
    "of x, dy and y; `f->hx`, `f->hdy`, `f->hy` are host arrays of 64 floats, `f->hbuf` one of 128, `f->h16`\n"
    "128 halves; `f->mem` is a `cl_mem` of 64 floats in `f->ctx`'s OpenCL context; `forward2(f, a1, x1,\n"
    "y0, y1)` is `lcl_forward_batch` of the items (alpha 0.5, x, y0) and (a1, x1, y1), `backward2(f, dy1,\n"
    "dx1)` is `lcl_backward_batch` of (x, dy, y) and (dy, dy1, dx1).\n"
    "\n"
    "## Failures that come from the device, not from the arguments\n"
    "\n"
    "Checked by the fault sweep (`ctest -L fault`, `scripts/fault-sweep.sh`), which makes every OpenCL call\n"
    "leakycl and CLBlast make in a scenario of every op fail in turn:\n"
    "\n"
    "| The failing call | Status | The message names |\n"
    "|---|---|---|\n"
    "| any OpenCL call failing with CL_MEM_OBJECT_ALLOCATION_FAILURE or CL_OUT_OF_HOST_MEMORY | "
    "LCL_ERROR_OUT_OF_MEMORY | the call and the error |\n"
    "| clBuildProgram failing with CL_BUILD_PROGRAM_FAILURE | LCL_ERROR_BUILD_FAILED | the call, the error, "
    "the build log |\n"
    "| any other OpenCL call or error | LCL_ERROR_OPENCL | the call and the error |\n"
    "| an OpenCL call inside CLBlast (the dense layer) | LCL_ERROR_BLAS | the CLBlast routine and its status |\n"
    "| device discovery (clGetPlatformIDs, clGetDeviceIDs) for the specs \"opencl\", \"gpu\", \"opencl:P:D\" | "
    "as above | the call and the error |\n"
    "| device discovery for \"auto\" | LCL_SUCCESS: the CPU backend serves | |\n"
    "| clFinish, clWaitForEvents, clEnqueueUnmapMemObject inside `lcl_context_release` | none: it cannot "
    "report; nothing leaks | |\n"
    "\n"
    "A host allocation that fails inside leakycl returns LCL_ERROR_OUT_OF_MEMORY. A rejected call (every row\n"
    "below) changes nothing; a call that fails on the device after enqueueing part of its work may have\n"
    "written part of its outputs (its message says which chunk, for the host-array functions), and the\n"
    "context stays usable.\n";

static void render_function(FILE *out, const char *function) {
    fprintf(out, "\n## %s\n\n| Case | Call | Status |\n|---|---|---|\n", function);
    for (size_t t = 0; t < TABLE_COUNT; ++t)
        for (size_t i = 0; i < all_tables[t].count; ++i) {
            const error_case *row = &all_tables[t].rows[i];
            char name[64];
            row_function(row, name, sizeof name);
            if (strcmp(name, function) != 0)
                continue;
            fputs("| ", out);
            for (const char *c = row->name; *c; ++c)
                fputc(*c == '_' ? ' ' : *c, out);
            fprintf(out, " | `%s` | %s |\n", row->call, lcl_status_string(row->want));
        }
}

/* The document, each public function a section, in the order the tables first call them. */
static char *render_doc(size_t *length) {
    char *text = NULL;
    FILE *out = open_memstream(&text, length);
    cr_assert(out != NULL);
    fputs(doc_head, out);
    char seen[64][64];
    size_t seen_count = 0;
    for (size_t t = 0; t < TABLE_COUNT; ++t)
        for (size_t i = 0; i < all_tables[t].count; ++i) {
            char name[64];
            row_function(&all_tables[t].rows[i], name, sizeof name);
            size_t k = 0;
            while (k < seen_count && strcmp(seen[k], name) != 0)
                ++k;
            if (k < seen_count)
                continue;
            cr_assert(seen_count < 64);
            snprintf(seen[seen_count++], sizeof seen[0], "%s", name);
            render_function(out, name);
        }
    fclose(out);
    return text;
}

static char *read_file(const char *path, size_t *length) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = NULL;
    FILE *out = open_memstream(&text, length);
    char block[4096];
    size_t got;
    while ((got = fread(block, 1, sizeof block, f)) > 0)
        fwrite(block, 1, got, out);
    fclose(f);
    fclose(out);
    return text;
}

Test(errors, doc) {
    const char *path = LEAKYCL_SOURCE_DIR "/docs/ERRORS.md";
    size_t want_length = 0;
    char *want = render_doc(&want_length);
    const char *update = getenv("LEAKYCL_UPDATE_ERRORS_DOC");
    if (update && strcmp(update, "1") == 0) {
        FILE *f = fopen(path, "wb");
        cr_assert(f != NULL, "cannot write %s", path);
        fwrite(want, 1, want_length, f);
        fclose(f);
    }
    size_t have_length = 0;
    char *have = read_file(path, &have_length);
    cr_assert(have != NULL, "%s is missing: LEAKYCL_UPDATE_ERRORS_DOC=1 test_errors --filter errors/doc writes it",
              path);
    size_t at = 0;
    while (at < want_length && at < have_length && want[at] == have[at])
        ++at;
    cr_assert(at == want_length && at == have_length,
              "%s differs from the tables of tests/test_errors.c from byte %zu on: run "
              "LEAKYCL_UPDATE_ERRORS_DOC=1 test_errors --filter errors/doc and commit the result",
              path, at);
    free(want);
    free(have);
}

/* status.c's names come from the public enum at build time: every status has its own name,
 * spelled as its enumerator, and a value outside the enum has none. */
Test(errors, status_names) {
    static const struct {
        lcl_status status;
        const char *name;
    } expected[] = {
        {LCL_SUCCESS, "LCL_SUCCESS"},
        {LCL_ERROR_INVALID_ARGUMENT, "LCL_ERROR_INVALID_ARGUMENT"},
        {LCL_ERROR_UNSUPPORTED, "LCL_ERROR_UNSUPPORTED"},
        {LCL_ERROR_OUT_OF_MEMORY, "LCL_ERROR_OUT_OF_MEMORY"},
        {LCL_ERROR_DEVICE_NOT_FOUND, "LCL_ERROR_DEVICE_NOT_FOUND"},
        {LCL_ERROR_BUILD_FAILED, "LCL_ERROR_BUILD_FAILED"},
        {LCL_ERROR_OPENCL, "LCL_ERROR_OPENCL"},
        {LCL_ERROR_BLAS, "LCL_ERROR_BLAS"},
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; ++i)
        cr_expect_str_eq(lcl_status_string(expected[i].status), expected[i].name, "status %d", (int)expected[i].status);
    cr_expect_str_eq(lcl_status_string((lcl_status)(LCL_ERROR_BLAS + 1)), "LCL_UNKNOWN_STATUS");
    cr_expect_str_eq(lcl_status_string((lcl_status)-1), "LCL_UNKNOWN_STATUS");
}
