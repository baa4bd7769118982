/* Sizes and offsets: every n up to 70, large odd n, and element offsets 0..7 through views,
 * views of views and wrapped app buffers, so vector bodies, ragged tails and misaligned
 * starts all run. Results must match the reference and the CPU backend bit for bit, and
 * nothing outside the output range may change. */
#include "common.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>

static const double alphas[] = {0.0, 0.01, 1.0, 2.5, -0.5, 0.1};
#define ALPHA_COUNT (sizeof alphas / sizeof alphas[0])

/* Forward and backward of random inputs on ctx, against the reference and the CPU backend. */
static void check_size(lcl_context *ctx, lcl_context *cpu, lcl_dtype dtype, size_t n, double alpha, test_rng *rng) {
    void *x = test_alloc(dtype, n), *dy = test_alloc(dtype, n);
    fill_random(dtype, x, n, alpha, rng);
    fill_random(dtype, dy, n, alpha, rng);

    void *y = run_forward(ctx, dtype, alpha, n, x), *y_cpu = run_forward(cpu, dtype, alpha, n, x);
    check_forward(dtype, alpha, n, x, y, "n=%zu", n);
    compare_args fwd = {dtype, n, x, NULL, y_cpu, y};
    assert_results(&fwd, "n=%zu, forward alpha=%g against the CPU backend", n, alpha);

    void *dx = run_backward(ctx, dtype, alpha, n, x, dy), *dx_cpu = run_backward(cpu, dtype, alpha, n, x, dy);
    check_backward(dtype, alpha, n, x, dy, dx, "n=%zu", n);
    compare_args bwd = {dtype, n, x, dy, dx_cpu, dx};
    assert_results(&bwd, "n=%zu, backward alpha=%g against the CPU backend", n, alpha);

    free(x);
    free(dy);
    free(y);
    free(y_cpu);
    free(dx);
    free(dx_cpu);
}

Test(sizes, every_n_up_to_70) {
    lcl_context *ctx = test_context(), *cpu = test_cpu_context();
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d)
        for (size_t n = 0; n <= 70; ++n)
            check_size(ctx, cpu, test_float_dtypes[d], n, alphas[n % ALPHA_COUNT], &rng);
    lcl_context_release(cpu);
    lcl_context_release(ctx);
}

Test(sizes, large_odd_n) {
    static const size_t sizes[] = {1000003, (1u << 20) + 7};
    lcl_context *ctx = test_context(), *cpu = test_cpu_context();
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d)
        for (size_t s = 0; s < 2; ++s)
            check_size(ctx, cpu, test_float_dtypes[d], sizes[s], alphas[(d + s) % ALPHA_COUNT], &rng);
    lcl_context_release(cpu);
    lcl_context_release(ctx);
}

/* ---- offsets ------------------------------------------------------------------------------ */

#define MAX_OFFSET 7
#define SLACK 5 /* poisoned elements after the last possible output element */

/* A view of n elements at offset; `nested` makes it a view of a view (the intermediate one is
 * released at once: the view keeps the memory alive). */
static lcl_tensor *view_at(lcl_tensor *parent, size_t offset, size_t n, int nested) {
    if (!nested || offset == 0)
        return view_new(parent, offset, n);
    size_t outer_offset = offset / 2;
    lcl_tensor *outer = view_new(parent, outer_offset, lcl_tensor_size(parent) - outer_offset);
    lcl_tensor *inner = view_new(outer, offset - outer_offset, n);
    lcl_tensor_release(outer);
    return inner;
}

/* The whole output buffer after an op on [offset, offset + n): inside it matches `want`,
 * outside it still holds the poison. */
static void check_window(lcl_dtype dtype, const void *whole, size_t size, size_t offset, size_t n,
                         const compare_args *inside, const char *what) {
    check_poisoned(dtype, offset, whole, "%s: elements before the output (offset %zu)", what, offset);
    const char *after = (const char *)whole + (offset + n) * elem_size(dtype);
    check_poisoned(dtype, size - offset - n, after, "%s: elements after the output (offset %zu, n %zu)", what, offset,
                   n);
    assert_results(inside, "%s (output offset %zu)", what, offset);
}

/* Buffers of one test: x and dy hold random data; the output buffer is poisoned per run. */
typedef struct offsets_fixture {
    lcl_context *ctx;
    lcl_dtype dtype;
    size_t n, size;
    double alpha;
    void *x, *dy;         /* host copies of the whole input buffers */
    lcl_tensor *tx, *tdy; /* whole input buffers */
    lcl_tensor *tout;     /* whole output buffer */
} offsets_fixture;

/* One forward and one backward with the inputs at ox (dy at another offset) and the output at oy. */
static void run_at_offsets(offsets_fixture *f, size_t ox, size_t oy, int nested) {
    lcl_dtype dtype = f->dtype;
    size_t n = f->n, ody = (ox + 3) % (MAX_OFFSET + 1);
    lcl_tensor *x = view_at(f->tx, ox, n, nested), *dy = view_at(f->tdy, ody, n, !nested);
    const void *hx = (const char *)f->x + ox * elem_size(dtype), *hdy = (const char *)f->dy + ody * elem_size(dtype);
    void *want = test_alloc(dtype, n);
    char what[128];

    tensor_poison(f->tout);
    lcl_tensor *out = view_at(f->tout, oy, n, nested);
    OK(lcl_forward(f->ctx, f->alpha, x, out));
    void *whole = tensor_fetch(f->tout);
    ref_forward_array(dtype, n, f->alpha, hx, want);
    compare_args fwd = {dtype, n, hx, NULL, want, (char *)whole + oy * elem_size(dtype)};
    snprintf(what, sizeof what, "%s forward n=%zu alpha=%g, x offset %zu%s", dtype_label(dtype), n, f->alpha, ox,
             nested ? " (views of views)" : "");
    check_window(dtype, whole, f->size, oy, n, &fwd, what);
    free(whole);

    tensor_poison(f->tout);
    OK(lcl_backward(f->ctx, f->alpha, x, dy, out));
    whole = tensor_fetch(f->tout);
    ref_backward_array(dtype, n, f->alpha, hx, hdy, want);
    compare_args bwd = {dtype, n, hx, hdy, want, (char *)whole + oy * elem_size(dtype)};
    snprintf(what, sizeof what, "%s backward n=%zu alpha=%g, x offset %zu, dy offset %zu%s", dtype_label(dtype), n,
             f->alpha, ox, ody, nested ? " (views of views)" : "");
    check_window(dtype, whole, f->size, oy, n, &bwd, what);
    free(whole);

    lcl_tensor_release(out);
    lcl_tensor_release(x);
    lcl_tensor_release(dy);
    free(want);
}

static void fixture_inputs(offsets_fixture *f, test_rng *rng) {
    f->size = f->n + MAX_OFFSET + SLACK;
    f->x = test_alloc(f->dtype, f->size);
    f->dy = test_alloc(f->dtype, f->size);
    fill_random(f->dtype, f->x, f->size, f->alpha, rng);
    fill_random(f->dtype, f->dy, f->size, f->alpha, rng);
}

static void fixture_free(offsets_fixture *f) {
    lcl_tensor_release(f->tx);
    lcl_tensor_release(f->tdy);
    lcl_tensor_release(f->tout);
    free(f->x);
    free(f->dy);
}

static void all_offsets(offsets_fixture *f) {
    for (size_t ox = 0; ox <= MAX_OFFSET; ++ox)
        for (size_t oy = 0; oy <= MAX_OFFSET; ++oy)
            run_at_offsets(f, ox, oy, (int)((ox + oy) % 2));
}

static const size_t offset_sizes[] = {5, 37};

Test(sizes, view_offsets) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d)
        for (size_t s = 0; s < 2; ++s) {
            offsets_fixture f = {.ctx = ctx,
                                 .dtype = test_float_dtypes[d],
                                 .n = offset_sizes[s],
                                 .alpha = alphas[(d + s) % ALPHA_COUNT]};
            fixture_inputs(&f, &rng);
            f.tx = tensor_with(ctx, f.dtype, f.size, f.x);
            f.tdy = tensor_with(ctx, f.dtype, f.size, f.dy);
            f.tout = tensor_new(ctx, f.dtype, f.size);
            all_offsets(&f);
            fixture_free(&f);
        }
    lcl_context_release(ctx);
}

/* x, dy and the output as disjoint views of one buffer, at unrelated offsets. */
Test(sizes, disjoint_views_of_one_buffer) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    const size_t n = 37, stride = 50;
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        void *host = test_alloc(dtype, 3 * stride);
        fill_random(dtype, host, 3 * stride, 0.01, &rng);
        for (size_t o = 0; o <= MAX_OFFSET; ++o) {
            size_t ox = o, ody = stride + (o * 5) % 8, oout = 2 * stride + (o * 3) % 8;
            fill_poison(dtype, (char *)host + 2 * stride * elem_size(dtype), stride);
            lcl_tensor *buf = tensor_with(ctx, dtype, 3 * stride, host);
            lcl_tensor *x = view_new(buf, ox, n), *dy = view_new(buf, ody, n), *out = view_new(buf, oout, n);
            OK(lcl_backward(ctx, 0.01, x, dy, out));
            void *whole = tensor_fetch(buf);
            check_backward(dtype, 0.01, n, (char *)host + ox * elem_size(dtype), (char *)host + ody * elem_size(dtype),
                           (char *)whole + oout * elem_size(dtype), "one buffer, offsets %zu, %zu, %zu", ox, ody, oout);
            compare_args inputs = {dtype, 2 * stride, NULL, NULL, host, whole};
            assert_results(&inputs, "one buffer: the inputs' part changed");
            check_poisoned(dtype, oout - 2 * stride, (char *)whole + 2 * stride * elem_size(dtype),
                           "one buffer: before the output");
            check_poisoned(dtype, 3 * stride - oout - n, (char *)whole + (oout + n) * elem_size(dtype),
                           "one buffer: after the output");
            free(whole);
            lcl_tensor_release(x);
            lcl_tensor_release(dy);
            lcl_tensor_release(out);
            lcl_tensor_release(buf);
        }
        free(host);
    }
    lcl_context_release(ctx);
}

/* ---- app buffers (lcl_tensor_wrap_cl) ----------------------------------------------------- */

static lcl_tensor *wrap(lcl_context *ctx, lcl_dtype dtype, cl_mem buffer, size_t offset, size_t n) {
    lcl_tensor *t = NULL;
    OK(lcl_tensor_wrap_cl(ctx, dtype, buffer, offset, n, &t));
    cr_assert(t != NULL && lcl_tensor_size(t) == n && lcl_tensor_dtype(t) == dtype);
    return t;
}

/* The fixture's whole buffers wrap app cl_mems; the views at offsets are wraps at offsets
 * (or views of those wraps, for `nested`), through view_at's own path. */
static void wrapped_offsets(lcl_context *ctx, lcl_dtype dtype, size_t n, double alpha, test_rng *rng) {
    offsets_fixture f = {.ctx = ctx, .dtype = dtype, .n = n, .alpha = alpha};
    fixture_inputs(&f, rng);
    cl_context clctx = lcl_context_cl_context(ctx);
    cr_assert(clctx != NULL, "an OpenCL context without a cl_context");
    size_t bytes = f.size * elem_size(dtype);
    cl_mem bx = app_buffer(clctx, bytes), bdy = app_buffer(clctx, bytes), bout = app_buffer(clctx, bytes);
    f.tx = wrap(ctx, dtype, bx, 0, f.size);
    f.tdy = wrap(ctx, dtype, bdy, 0, f.size);
    f.tout = wrap(ctx, dtype, bout, 0, f.size);
    OK(lcl_tensor_write(f.tx, f.x));
    OK(lcl_tensor_write(f.tdy, f.dy));
    all_offsets(&f);
    fixture_free(&f);
    clReleaseMemObject(bx);
    clReleaseMemObject(bdy);
    clReleaseMemObject(bout);
}

/* Wraps at element offsets of the app's buffer (not views): forward from x at ox to y at oy. */
static void wrap_at_offsets(lcl_context *ctx, lcl_dtype dtype, test_rng *rng) {
    const size_t n = 37, size = n + MAX_OFFSET + SLACK;
    cl_context clctx = lcl_context_cl_context(ctx);
    cl_mem bx = app_buffer(clctx, size * elem_size(dtype)), by = app_buffer(clctx, size * elem_size(dtype));
    void *x = test_alloc(dtype, size);
    fill_random(dtype, x, size, 2.5, rng);
    lcl_tensor *wx = wrap(ctx, dtype, bx, 0, size), *wy = wrap(ctx, dtype, by, 0, size);
    OK(lcl_tensor_write(wx, x));
    for (size_t ox = 0; ox <= MAX_OFFSET; ++ox) {
        size_t oy = (ox * 3 + 1) % (MAX_OFFSET + 1);
        tensor_poison(wy);
        lcl_tensor *tx = wrap(ctx, dtype, bx, ox, n), *ty = wrap(ctx, dtype, by, oy, n);
        OK(lcl_forward(ctx, 2.5, tx, ty));
        void *whole = tensor_fetch(wy);
        void *want = test_alloc(dtype, n);
        const void *hx = (char *)x + ox * elem_size(dtype);
        ref_forward_array(dtype, n, 2.5, hx, want);
        compare_args args = {dtype, n, hx, NULL, want, (char *)whole + oy * elem_size(dtype)};
        check_window(dtype, whole, size, oy, n, &args, "forward on wrap_cl at offsets");
        free(want);
        free(whole);
        lcl_tensor_release(tx);
        lcl_tensor_release(ty);
    }
    lcl_tensor_release(wx);
    lcl_tensor_release(wy);
    clReleaseMemObject(bx);
    clReleaseMemObject(by);
    free(x);
}

/* The CPU backend has no cl_context to wrap into: a real app buffer is refused. */
static void wrap_refused_on_cpu(lcl_context *ctx) {
    app_cl app;
    app_cl_open(&app);
    cl_mem buffer = app_buffer(app.context, 64 * sizeof(float));
    lcl_tensor *sentinel = (lcl_tensor *)&app, *t = sentinel;
    EXPECT_STATUS(lcl_tensor_wrap_cl(ctx, LCL_F32, buffer, 0, 64, &t), LCL_ERROR_INVALID_ARGUMENT);
    cr_assert(t == sentinel, "a refused wrap_cl wrote its out argument");
    clReleaseMemObject(buffer);
    app_cl_close(&app);
}

Test(sizes, wrap_cl_offsets) {
    lcl_context *ctx = test_context();
    if (!is_opencl(ctx)) {
        wrap_refused_on_cpu(ctx);
        lcl_context_release(ctx);
        return;
    }
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        wrapped_offsets(ctx, test_float_dtypes[d], 37, alphas[d % ALPHA_COUNT], &rng);
        wrap_at_offsets(ctx, test_float_dtypes[d], &rng);
    }
    lcl_context_release(ctx);
}
