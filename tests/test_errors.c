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
    lcl_tensor *x, *dy, *y, *window;          /* f32, N; window is x[10, 20) */
    lcl_tensor *short_t, *f16_t, *f64_t;      /* f32 N-1, f16 N, f64 N */
    lcl_tensor *other_x, *other_y, *cpu_y;    /* f32 N, of other contexts */
    lcl_tensor *mask_x, *mask_y;              /* LCL_MASK, N */
    cl_mem mem;                               /* N floats, for wrap_cl */
    app_cl app;                               /* owns mem on the CPU backend */
    float hx[N], hdy[N], hy[N], hbuf[2 * N];
    uint16_t h16[2 * N];
    lcl_tensor *out_t;                        /* out arguments, preset to a sentinel */
    lcl_context *out_ctx;
} fx;

static lcl_tensor *const TENSOR_SENTINEL = (lcl_tensor *)(uintptr_t)0x5a5a5a50;

#define TENSOR_COUNT 11

/* The tensors a bad call could write (window is part of x). */
static void tensor_list(const fx *f, lcl_tensor *list[TENSOR_COUNT]) {
    lcl_tensor *const all[TENSOR_COUNT] = {f->x,       f->dy,      f->y,     f->short_t, f->f16_t, f->f64_t,
                                           f->other_x, f->other_y, f->cpu_y, f->mask_x,  f->mask_y};
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
        check_poisoned(mask ? LCL_F32 : lcl_tensor_dtype(t), mask ? lcl_tensor_bytes(t) / 4 : lcl_tensor_size(t),
                       got, "%s: tensor %zu", name, i);
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
#define DEFINE_CASE(name, expr, want)                                                                  \
    static lcl_status name(fx *f) {                                                                    \
        (void)f;                                                                                       \
        return expr;                                                                                   \
    }
#define CASE_ROW(name, expr, want) {#name, #expr, name, want},
#define CASE_TEST(table)                                                                               \
    table(DEFINE_CASE) static const error_case table##_rows[] = {table(CASE_ROW)};                     \
    Test(errors, table) { run_cases(table##_rows, sizeof table##_rows / sizeof table##_rows[0]); }

/* ---- NULL arguments ----------------------------------------------------------------------- */

#define null_arguments(X)                                                                                    \
    X(forward_null_context, lcl_forward(NULL, 0.5, f->x, f->y), INVALID)                                     \
    X(forward_null_x, lcl_forward(f->ctx, 0.5, NULL, f->y), INVALID)                                         \
    X(forward_null_y, lcl_forward(f->ctx, 0.5, f->x, NULL), INVALID)                                         \
    X(backward_null_context, lcl_backward(NULL, 0.5, f->x, f->dy, f->y), INVALID)                            \
    X(backward_null_x, lcl_backward(f->ctx, 0.5, NULL, f->dy, f->y), INVALID)                                \
    X(backward_null_dy, lcl_backward(f->ctx, 0.5, f->x, NULL, f->y), INVALID)                                \
    X(backward_null_dx, lcl_backward(f->ctx, 0.5, f->x, f->dy, NULL), INVALID)                               \
    X(from_output_null_context, lcl_backward_from_output(NULL, 0.5, f->x, f->dy, f->y), INVALID)             \
    X(from_output_null_y, lcl_backward_from_output(f->ctx, 0.5, NULL, f->dy, f->y), INVALID)                 \
    X(from_output_null_dy, lcl_backward_from_output(f->ctx, 0.5, f->x, NULL, f->y), INVALID)                 \
    X(from_output_null_dx, lcl_backward_from_output(f->ctx, 0.5, f->x, f->dy, NULL), INVALID)                \
    X(forward_host_null_context, lcl_forward_host(NULL, LCL_F32, N, 0.5, f->hx, f->hy), INVALID)             \
    X(forward_host_null_x, lcl_forward_host(f->ctx, LCL_F32, N, 0.5, NULL, f->hy), INVALID)                  \
    X(forward_host_null_y, lcl_forward_host(f->ctx, LCL_F32, N, 0.5, f->hx, NULL), INVALID)                  \
    X(backward_host_null_context, lcl_backward_host(NULL, LCL_F32, N, 0.5, f->hx, f->hdy, f->hy), INVALID)   \
    X(backward_host_null_x, lcl_backward_host(f->ctx, LCL_F32, N, 0.5, NULL, f->hdy, f->hy), INVALID)        \
    X(backward_host_null_dy, lcl_backward_host(f->ctx, LCL_F32, N, 0.5, f->hx, NULL, f->hy), INVALID)        \
    X(backward_host_null_dx, lcl_backward_host(f->ctx, LCL_F32, N, 0.5, f->hx, f->hdy, NULL), INVALID)       \
    X(tensor_create_null_context, lcl_tensor_create(NULL, LCL_F32, 4, &f->out_t), INVALID)                   \
    X(tensor_create_null_out, lcl_tensor_create(f->ctx, LCL_F32, 4, NULL), INVALID)                          \
    X(view_null_parent, lcl_tensor_view(NULL, 0, 1, &f->out_t), INVALID)                                     \
    X(view_null_out, lcl_tensor_view(f->x, 0, 1, NULL), INVALID)                                             \
    X(write_null_tensor, lcl_tensor_write(NULL, f->hx), INVALID)                                             \
    X(write_null_source, lcl_tensor_write(f->y, NULL), INVALID)                                              \
    X(read_null_tensor, lcl_tensor_read(NULL, f->hy), INVALID)                                               \
    X(read_null_destination, lcl_tensor_read(f->x, NULL), INVALID)                                           \
    X(wrap_null_context, lcl_tensor_wrap_cl(NULL, LCL_F32, f->mem, 0, 1, &f->out_t), INVALID)                \
    X(wrap_null_buffer, lcl_tensor_wrap_cl(f->ctx, LCL_F32, NULL, 0, 1, &f->out_t), INVALID)                 \
    X(wrap_null_out, lcl_tensor_wrap_cl(f->ctx, LCL_F32, f->mem, 0, 1, NULL), INVALID)                       \
    X(context_create_null_out, lcl_context_create("cpu", NULL), INVALID)                                     \
    X(context_wrap_null_queue, lcl_context_wrap_cl(NULL, &f->out_ctx), INVALID)                              \
    X(finish_null, lcl_finish(NULL), INVALID)
CASE_TEST(null_arguments)

/* ---- tensors that do not match ------------------------------------------------------------ */

#define mismatched_tensors(X)                                                                                \
    X(forward_short_output, lcl_forward(f->ctx, 0.5, f->x, f->short_t), INVALID)                             \
    X(forward_short_input, lcl_forward(f->ctx, 0.5, f->short_t, f->y), INVALID)                              \
    X(backward_short_x, lcl_backward(f->ctx, 0.5, f->short_t, f->dy, f->y), INVALID)                         \
    X(backward_short_dy, lcl_backward(f->ctx, 0.5, f->x, f->short_t, f->y), INVALID)                         \
    X(backward_short_dx, lcl_backward(f->ctx, 0.5, f->x, f->dy, f->short_t), INVALID)                        \
    X(from_output_short_dy, lcl_backward_from_output(f->ctx, 0.5, f->x, f->short_t, f->y), INVALID)          \
    X(forward_f16_output, lcl_forward(f->ctx, 0.5, f->x, f->f16_t), INVALID)                                 \
    X(forward_f16_input, lcl_forward(f->ctx, 0.5, f->f16_t, f->y), INVALID)                                  \
    X(backward_f16_x, lcl_backward(f->ctx, 0.5, f->f16_t, f->dy, f->y), INVALID)                             \
    X(backward_f16_dy, lcl_backward(f->ctx, 0.5, f->x, f->f16_t, f->y), INVALID)                             \
    X(backward_f64_dx, lcl_backward(f->ctx, 0.5, f->x, f->dy, f->f64_t), INVALID)                            \
    X(from_output_f64_y, lcl_backward_from_output(f->ctx, 0.5, f->f64_t, f->dy, f->y), INVALID)              \
    X(forward_output_of_other_context, lcl_forward(f->ctx, 0.5, f->x, f->other_y), INVALID)                  \
    X(forward_input_of_other_context, lcl_forward(f->ctx, 0.5, f->other_x, f->y), INVALID)                   \
    X(forward_tensors_of_other_context, lcl_forward(f->ctx, 0.5, f->other_x, f->other_y), INVALID)           \
    X(forward_output_of_cpu_context, lcl_forward(f->ctx, 0.5, f->x, f->cpu_y), INVALID)                      \
    X(backward_dy_of_other_context, lcl_backward(f->ctx, 0.5, f->x, f->other_x, f->y), INVALID)              \
    X(backward_dx_of_other_context, lcl_backward(f->ctx, 0.5, f->x, f->dy, f->other_y), INVALID)            \
    X(from_output_dx_of_cpu_context, lcl_backward_from_output(f->ctx, 0.5, f->x, f->dy, f->cpu_y), INVALID)
CASE_TEST(mismatched_tensors)

/* ---- alpha -------------------------------------------------------------------------------- */

#define bad_alpha(X)                                                                                         \
    X(forward_alpha_nan, lcl_forward(f->ctx, NAN, f->x, f->y), INVALID)                                      \
    X(forward_alpha_negative_nan, lcl_forward(f->ctx, -NAN, f->x, f->y), INVALID)                            \
    X(forward_alpha_inf, lcl_forward(f->ctx, INFINITY, f->x, f->y), INVALID)                                 \
    X(forward_alpha_minus_inf, lcl_forward(f->ctx, -INFINITY, f->x, f->y), INVALID)                          \
    X(backward_alpha_nan, lcl_backward(f->ctx, NAN, f->x, f->dy, f->y), INVALID)                             \
    X(backward_alpha_inf, lcl_backward(f->ctx, INFINITY, f->x, f->dy, f->y), INVALID)                        \
    X(backward_alpha_minus_inf, lcl_backward(f->ctx, -INFINITY, f->x, f->dy, f->y), INVALID)                 \
    X(from_output_alpha_nan, lcl_backward_from_output(f->ctx, NAN, f->x, f->dy, f->y), INVALID)              \
    X(from_output_alpha_inf, lcl_backward_from_output(f->ctx, INFINITY, f->x, f->dy, f->y), INVALID)         \
    X(from_output_alpha_minus_inf, lcl_backward_from_output(f->ctx, -INFINITY, f->x, f->dy, f->y), INVALID)  \
    X(from_output_alpha_negative, lcl_backward_from_output(f->ctx, -0.01, f->x, f->dy, f->y), INVALID)       \
    X(forward_host_alpha_nan, lcl_forward_host(f->ctx, LCL_F32, N, NAN, f->hx, f->hy), INVALID)              \
    X(forward_host_alpha_inf, lcl_forward_host(f->ctx, LCL_F32, N, INFINITY, f->hx, f->hy), INVALID)         \
    X(backward_host_alpha_minus_inf, lcl_backward_host(f->ctx, LCL_F32, N, -INFINITY, f->hx, f->hdy, f->hy), \
      INVALID)                                                                                               \
    X(backward_host_alpha_nan, lcl_backward_host(f->ctx, LCL_F32, N, NAN, f->hx, f->hdy, f->hy), INVALID)      \
    X(forward_alpha_beyond_fp32, lcl_forward(f->ctx, 1e39, f->x, f->y), INVALID)                             \
    X(backward_alpha_beyond_fp32, lcl_backward(f->ctx, -1e39, f->x, f->dy, f->y), INVALID)                   \
    X(forward_host_alpha_beyond_fp32, lcl_forward_host(f->ctx, LCL_F16, N, 1e39, f->hx, f->hy), INVALID)
CASE_TEST(bad_alpha)

/* ---- dtypes ------------------------------------------------------------------------------- */

#define BAD_DTYPE ((lcl_dtype)99)

#define bad_dtypes(X)                                                                                        \
    X(forward_mask, lcl_forward(f->ctx, 0.5, f->mask_x, f->mask_y), INVALID)                                 \
    X(forward_mask_output, lcl_forward(f->ctx, 0.5, f->x, f->mask_y), INVALID)                               \
    X(backward_mask, lcl_backward(f->ctx, 0.5, f->mask_x, f->mask_x, f->mask_y), INVALID)                    \
    X(from_output_mask, lcl_backward_from_output(f->ctx, 0.5, f->mask_x, f->mask_x, f->mask_y), INVALID)     \
    X(tensor_create_dtype_99, lcl_tensor_create(f->ctx, BAD_DTYPE, 4, &f->out_t), INVALID)                   \
    X(tensor_create_dtype_minus_1, lcl_tensor_create(f->ctx, (lcl_dtype)-1, 4, &f->out_t), INVALID)          \
    X(forward_host_dtype_99, lcl_forward_host(f->ctx, BAD_DTYPE, N, 0.5, f->hx, f->hy), INVALID)             \
    X(backward_host_dtype_99, lcl_backward_host(f->ctx, BAD_DTYPE, N, 0.5, f->hx, f->hdy, f->hy), INVALID)   \
    X(forward_host_mask, lcl_forward_host(f->ctx, LCL_MASK, N, 0.5, f->hx, f->hy), INVALID)                  \
    X(backward_host_mask, lcl_backward_host(f->ctx, LCL_MASK, N, 0.5, f->hx, f->hdy, f->hy), INVALID)        \
    X(wrap_dtype_99, lcl_tensor_wrap_cl(f->ctx, BAD_DTYPE, f->mem, 0, 1, &f->out_t), INVALID)
CASE_TEST(bad_dtypes)

/* ---- sizes and ranges --------------------------------------------------------------------- */

#define bad_ranges(X)                                                                                        \
    X(view_past_end, lcl_tensor_view(f->x, 60, 5, &f->out_t), INVALID)                                       \
    X(view_offset_past_end, lcl_tensor_view(f->x, N + 1, 0, &f->out_t), INVALID)                             \
    X(view_one_past_end, lcl_tensor_view(f->x, N, 1, &f->out_t), INVALID)                                    \
    X(view_offset_overflow, lcl_tensor_view(f->x, SIZE_MAX, 2, &f->out_t), INVALID)                          \
    X(view_size_overflow, lcl_tensor_view(f->x, 2, SIZE_MAX, &f->out_t), INVALID)                            \
    X(view_both_max, lcl_tensor_view(f->x, SIZE_MAX, SIZE_MAX, &f->out_t), INVALID)                          \
    X(view_of_view_past_its_end, lcl_tensor_view(f->window, 5, 6, &f->out_t), INVALID)                       \
    X(create_f32_bytes_overflow, lcl_tensor_create(f->ctx, LCL_F32, SIZE_MAX / 2, &f->out_t), INVALID)       \
    X(create_f64_bytes_overflow, lcl_tensor_create(f->ctx, LCL_F64, SIZE_MAX / 8 + 1, &f->out_t), INVALID)   \
    X(create_f16_bytes_overflow, lcl_tensor_create(f->ctx, LCL_F16, SIZE_MAX / 2 + 1, &f->out_t), INVALID)   \
    X(create_f16_too_big, lcl_tensor_create(f->ctx, LCL_F16, SIZE_MAX / 2, &f->out_t), LCL_ERROR_OUT_OF_MEMORY) \
    X(create_f32_too_big, lcl_tensor_create(f->ctx, LCL_F32, SIZE_MAX / 8, &f->out_t), LCL_ERROR_OUT_OF_MEMORY) \
    X(forward_host_bytes_overflow, lcl_forward_host(f->ctx, LCL_F32, SIZE_MAX / 2, 0.5, f->hx, f->hy), INVALID) \
    X(wrap_past_end, lcl_tensor_wrap_cl(f->ctx, LCL_F32, f->mem, 60, 5, &f->out_t), INVALID)                 \
    X(wrap_offset_overflow, lcl_tensor_wrap_cl(f->ctx, LCL_F32, f->mem, SIZE_MAX, 2, &f->out_t), INVALID)    \
    X(wrap_size_overflow, lcl_tensor_wrap_cl(f->ctx, LCL_F32, f->mem, 2, SIZE_MAX, &f->out_t), INVALID)      \
    X(wrap_mask_offset, lcl_tensor_wrap_cl(f->ctx, LCL_MASK, f->mem, 16, 32, &f->out_t), INVALID)
CASE_TEST(bad_ranges)

/* ---- host arrays that overlap ------------------------------------------------------------- */

#define host_overlaps(X)                                                                                     \
    X(forward_y_inside_x, lcl_forward_host(f->ctx, LCL_F32, N, 0.5, f->hbuf, f->hbuf + 8), INVALID)          \
    X(forward_x_inside_y, lcl_forward_host(f->ctx, LCL_F32, N, 0.5, f->hbuf + 8, f->hbuf), INVALID)          \
    X(forward_by_one_element, lcl_forward_host(f->ctx, LCL_F32, N, 0.5, f->hbuf, f->hbuf + N - 1), INVALID)  \
    X(forward_f16_by_one, lcl_forward_host(f->ctx, LCL_F16, N, 0.5, f->h16, f->h16 + 1), INVALID)           \
    X(backward_dx_overlaps_dy, lcl_backward_host(f->ctx, LCL_F32, N, 0.5, f->hx, f->hbuf, f->hbuf + 1),      \
      INVALID)                                                                                               \
    X(backward_dx_overlaps_x, lcl_backward_host(f->ctx, LCL_F32, N, 0.5, f->hbuf, f->hdy, f->hbuf + N - 1),  \
      INVALID)
CASE_TEST(host_overlaps)
