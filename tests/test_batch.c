/* Batches: lcl_forward_batch and lcl_backward_batch. Items as views of one arena (one launch),
 * spread over several buffers and dtypes (several), in place, empty, many small next to a few
 * huge; each item's output must equal the reference and lcl_forward / lcl_backward on the CPU
 * backend bit for bit, and nothing between the items may change. Bad batches are rejected
 * whole, before anything is written. */
#include "common.h"

#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double alphas[] = {0.01, -0.5, 2.5, 0.0, 1.0, 0.1};
#define ALPHA_COUNT (sizeof alphas / sizeof alphas[0])

/* An arena of items: item i is [offset[i], offset[i] + n[i]) of every arena buffer, with a
 * poisoned gap after each item. */
typedef struct arena {
    lcl_dtype dtype;
    size_t count, size;
    size_t *offset, *n;
    double *alpha;
} arena;

static void arena_layout(arena *a, lcl_dtype dtype, size_t count, const size_t *sizes, test_rng *rng) {
    a->dtype = dtype;
    a->count = count;
    a->offset = calloc(count ? count : 1, sizeof *a->offset);
    a->n = calloc(count ? count : 1, sizeof *a->n);
    a->alpha = calloc(count ? count : 1, sizeof *a->alpha);
    cr_assert(a->offset && a->n && a->alpha);
    size_t at = rng_below(rng, 5);
    for (size_t i = 0; i < count; ++i) {
        a->offset[i] = at;
        a->n[i] = sizes[i];
        a->alpha[i] = alphas[(i + rng_below(rng, ALPHA_COUNT)) % ALPHA_COUNT];
        at += sizes[i] + rng_below(rng, 4); /* a gap of 0 to 3 elements */
    }
    a->size = at + 3;
}

static void arena_free(arena *a) {
    free(a->offset);
    free(a->n);
    free(a->alpha);
}

/* Views of `parent` at the arena's items. */
static lcl_tensor **arena_views(const arena *a, lcl_tensor *parent) {
    lcl_tensor **views = calloc(a->count ? a->count : 1, sizeof *views);
    cr_assert(views);
    for (size_t i = 0; i < a->count; ++i)
        views[i] = view_new(parent, a->offset[i], a->n[i]);
    return views;
}

static void views_release(lcl_tensor **views, size_t count) {
    for (size_t i = 0; i < count; ++i)
        lcl_tensor_release(views[i]);
    free(views);
}

/* Whether element e of the arena lies in no item. */
static int in_gap(const arena *a, size_t e) {
    for (size_t i = 0; i < a->count; ++i)
        if (e >= a->offset[i] && e < a->offset[i] + a->n[i])
            return 0;
    return 1;
}

/* Every item of the output arena `got` against the reference; gaps still poisoned. */
static void check_arena(const arena *a, int backward, const void *x, const void *dy, const void *got,
                        const char *what) {
    size_t size = elem_size(a->dtype);
    for (size_t i = 0; i < a->count; ++i) {
        const char *xi = (const char *)x + a->offset[i] * size;
        const char *gi = (const char *)got + a->offset[i] * size;
        if (backward)
            check_backward(a->dtype, a->alpha[i], a->n[i], xi, (const char *)dy + a->offset[i] * size, gi,
                           "%s: item %zu of %zu (n %zu, offset %zu)", what, i, a->count, a->n[i], a->offset[i]);
        else
            check_forward(a->dtype, a->alpha[i], a->n[i], xi, gi, "%s: item %zu of %zu (n %zu, offset %zu)", what, i,
                          a->count, a->n[i], a->offset[i]);
    }
    for (size_t e = 0; e < a->size; ++e)
        if (in_gap(a, e))
            check_poisoned(a->dtype, 1, (const char *)got + e * size, "%s: arena element %zu, between items", what, e);
}

/* Forward and backward of the arena's items on ctx: x, dy and the output each one buffer. */
static void run_arena(lcl_context *ctx, const arena *a, test_rng *rng, const char *what) {
    void *x = test_alloc(a->dtype, a->size), *dy = test_alloc(a->dtype, a->size);
    fill_random(a->dtype, x, a->size, 0.5, rng);
    fill_random(a->dtype, dy, a->size, 0.5, rng);
    lcl_tensor *tx = tensor_with(ctx, a->dtype, a->size, x), *tdy = tensor_with(ctx, a->dtype, a->size, dy);
    lcl_tensor *tout = tensor_poisoned(ctx, a->dtype, a->size);
    lcl_tensor **vx = arena_views(a, tx), **vdy = arena_views(a, tdy), **vout = arena_views(a, tout);

    OK(lcl_forward_batch(ctx, a->count, a->alpha, (const lcl_tensor *const *)vx, vout));
    void *got = tensor_fetch(tout);
    check_arena(a, 0, x, NULL, got, what);
    free(got);

    tensor_poison(tout);
    OK(lcl_backward_batch(ctx, a->count, a->alpha, (const lcl_tensor *const *)vx, (const lcl_tensor *const *)vdy,
                          vout));
    got = tensor_fetch(tout);
    check_arena(a, 1, x, dy, got, what);
    free(got);

    views_release(vx, a->count);
    views_release(vdy, a->count);
    views_release(vout, a->count);
    lcl_tensor_release(tx);
    lcl_tensor_release(tdy);
    lcl_tensor_release(tout);
    free(x);
    free(dy);
}

Test(batch, one_arena_every_dtype) {
    static const size_t sizes[] = {1, 7, 0, 64, 100, 1024, 31, 5000, 3, 129, 65537, 2, 0, 777};
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        arena a;
        arena_layout(&a, test_float_dtypes[d], sizeof sizes / sizeof sizes[0], sizes, &rng);
        char what[64];
        snprintf(what, sizeof what, "%s arena", dtype_label(a.dtype));
        run_arena(ctx, &a, &rng, what);
        arena_free(&a);
    }
    lcl_context_release(ctx);
}

/* A thousand short items beside two long ones, in one arena: the long ones must not starve the
 * short ones' work-items or the reverse (every element checked). */
Test(batch, many_short_and_a_few_long) {
    enum { COUNT = 1002 };
    size_t *sizes = calloc(COUNT, sizeof *sizes);
    cr_assert(sizes);
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t i = 0; i < COUNT; ++i)
        sizes[i] = 1 + rng_below(&rng, 1100);
    sizes[17] = (1u << 20) + 3;
    sizes[900] = 300001;
    lcl_context *ctx = test_context();
    arena a;
    arena_layout(&a, LCL_F32, COUNT, sizes, &rng);
    run_arena(ctx, &a, &rng, "f32, 1000 short and 2 long items");
    arena_free(&a);
    free(sizes);
    lcl_context_release(ctx);
}

/* Items on several buffers and of several dtypes: one group per (dtype, buffers), each right. */
Test(batch, several_buffers_and_dtypes) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    enum { COUNT = 12 };
    const lcl_tensor *xs[COUNT];
    lcl_tensor *dys[COUNT], *ys[COUNT], *owned[3 * COUNT];
    void *hx[COUNT], *hdy[COUNT];
    double al[COUNT];
    size_t owned_count = 0;
    /* Two f32 arenas, an f16 one, and stand-alone f64 and bf16 tensors. */
    lcl_tensor *f32_a = tensor_poisoned(ctx, LCL_F32, 4000), *f32_b = tensor_poisoned(ctx, LCL_F32, 4000);
    lcl_tensor *f16_a = tensor_poisoned(ctx, LCL_F16, 4000);
    for (size_t i = 0; i < COUNT; ++i) {
        lcl_dtype dtype = i % 4 == 3 ? LCL_F64 : i % 4 == 2 ? LCL_F16 : i % 5 == 4 ? LCL_BF16 : LCL_F32;
        size_t n = 50 + 37 * i;
        al[i] = alphas[i % ALPHA_COUNT];
        hx[i] = test_alloc(dtype, n);
        hdy[i] = test_alloc(dtype, n);
        fill_random(dtype, hx[i], n, al[i], &rng);
        fill_random(dtype, hdy[i], n, al[i], &rng);
        lcl_tensor *x = tensor_with(ctx, dtype, n, hx[i]);
        lcl_tensor *dy = tensor_with(ctx, dtype, n, hdy[i]);
        lcl_tensor *y;
        if (dtype == LCL_F32)
            y = view_new(i % 2 ? f32_a : f32_b, 300 * i, n);
        else if (dtype == LCL_F16)
            y = view_new(f16_a, 300 * i + 1, n);
        else
            y = tensor_poisoned(ctx, dtype, n);
        xs[i] = x;
        dys[i] = dy;
        ys[i] = y;
        owned[owned_count++] = x;
        owned[owned_count++] = dy;
        owned[owned_count++] = y;
    }
    for (int backward = 0; backward < 2; ++backward) {
        if (backward)
            OK(lcl_backward_batch(ctx, COUNT, al, xs, (const lcl_tensor *const *)dys, ys));
        else
            OK(lcl_forward_batch(ctx, COUNT, al, xs, ys));
        for (size_t i = 0; i < COUNT; ++i) {
            void *got = tensor_fetch(ys[i]);
            lcl_dtype dtype = lcl_tensor_dtype(xs[i]);
            size_t n = lcl_tensor_size(xs[i]);
            if (backward)
                check_backward(dtype, al[i], n, hx[i], hdy[i], got, "mixed batch item %zu", i);
            else
                check_forward(dtype, al[i], n, hx[i], got, "mixed batch item %zu", i);
            free(got);
        }
    }
    for (size_t i = 0; i < owned_count; ++i)
        lcl_tensor_release(owned[i]);
    for (size_t i = 0; i < COUNT; ++i) {
        free(hx[i]);
        free(hdy[i]);
    }
    lcl_tensor_release(f32_a);
    lcl_tensor_release(f32_b);
    lcl_tensor_release(f16_a);
    lcl_context_release(ctx);
}

/* y[i] is x[i] (forward), dx[i] is dy[i] (backward): per item in place. */
Test(batch, in_place) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    static const size_t sizes[] = {33, 1000, 5, 4096, 0, 77};
    enum { COUNT = sizeof sizes / sizeof sizes[0] };
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        arena a;
        arena_layout(&a, test_float_dtypes[d], COUNT, sizes, &rng);
        void *x = test_alloc(a.dtype, a.size), *dy = test_alloc(a.dtype, a.size);
        fill_random(a.dtype, x, a.size, 0.5, &rng);
        fill_random(a.dtype, dy, a.size, 0.5, &rng);
        lcl_tensor *tx = tensor_with(ctx, a.dtype, a.size, x), *tdy = tensor_with(ctx, a.dtype, a.size, dy);
        lcl_tensor **vx = arena_views(&a, tx), **vdy = arena_views(&a, tdy);
        OK(lcl_backward_batch(ctx, COUNT, a.alpha, (const lcl_tensor *const *)vx, (const lcl_tensor *const *)vdy, vdy));
        void *got = tensor_fetch(tdy);
        for (size_t i = 0; i < COUNT; ++i) {
            size_t o = a.offset[i] * elem_size(a.dtype);
            check_backward(a.dtype, a.alpha[i], a.n[i], (char *)x + o, (char *)dy + o, (char *)got + o,
                           "%s in-place backward item %zu", dtype_label(a.dtype), i);
        }
        free(got);
        OK(lcl_forward_batch(ctx, COUNT, a.alpha, (const lcl_tensor *const *)vx, vx));
        got = tensor_fetch(tx);
        for (size_t i = 0; i < COUNT; ++i) {
            size_t o = a.offset[i] * elem_size(a.dtype);
            check_forward(a.dtype, a.alpha[i], a.n[i], (char *)x + o, (char *)got + o, "%s in-place forward item %zu",
                          dtype_label(a.dtype), i);
        }
        free(got);
        views_release(vx, COUNT);
        views_release(vdy, COUNT);
        lcl_tensor_release(tx);
        lcl_tensor_release(tdy);
        free(x);
        free(dy);
        arena_free(&a);
    }
    lcl_context_release(ctx);
}

/* The same inputs read by several items (inputs may be shared), each writing its own output. */
Test(batch, shared_inputs) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    const size_t n = 1000;
    float *x = test_alloc(LCL_F32, n);
    fill_random(LCL_F32, x, n, 0.5, &rng);
    lcl_tensor *tx = tensor_with(ctx, LCL_F32, n, x), *tout = tensor_poisoned(ctx, LCL_F32, 3 * n);
    const lcl_tensor *xs[3] = {tx, tx, tx};
    lcl_tensor *ys[3] = {view_new(tout, 0, n), view_new(tout, n, n), view_new(tout, 2 * n, n)};
    double al[3] = {0.5, -2.0, 0.0};
    OK(lcl_forward_batch(ctx, 3, al, xs, ys));
    for (size_t i = 0; i < 3; ++i) {
        void *got = tensor_fetch(ys[i]);
        check_forward(LCL_F32, al[i], n, x, got, "shared x, item %zu", i);
        free(got);
        lcl_tensor_release(ys[i]);
    }
    lcl_tensor_release(tx);
    lcl_tensor_release(tout);
    free(x);
    lcl_context_release(ctx);
}

/* count 0 is a no-op, NULL arrays included; a batch of only empty items too. */
Test(batch, empty) {
    lcl_context *ctx = test_context();
    OK(lcl_forward_batch(ctx, 0, NULL, NULL, NULL));
    OK(lcl_backward_batch(ctx, 0, NULL, NULL, NULL, NULL));
    lcl_tensor *e = tensor_new(ctx, LCL_F32, 0), *f = tensor_new(ctx, LCL_F64, 0);
    const lcl_tensor *xs[2] = {e, f};
    lcl_tensor *ys[2] = {e, f};
    double al[2] = {0.1, 0.2};
    OK(lcl_forward_batch(ctx, 2, al, xs, ys));
    OK(lcl_backward_batch(ctx, 2, al, xs, xs, ys));
    lcl_tensor_release(e);
    lcl_tensor_release(f);
    lcl_context_release(ctx);
}

/* The batch gives what lcl_forward gives on each item, on this backend and on the CPU one. */
Test(batch, equals_per_item_calls) {
    lcl_context *ctx = test_context(), *cpu = test_cpu_context();
    test_rng rng;
    rng_init(&rng, 0);
    static const size_t sizes[] = {1023, 1, 4097, 250000, 16};
    enum { COUNT = sizeof sizes / sizeof sizes[0] };
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        arena a;
        arena_layout(&a, test_float_dtypes[d], COUNT, sizes, &rng);
        void *x = test_alloc(a.dtype, a.size);
        fill_random(a.dtype, x, a.size, 0.5, &rng);
        void *results[2];
        lcl_context *ctxs[2] = {ctx, cpu};
        for (int k = 0; k < 2; ++k) {
            lcl_tensor *tx = tensor_with(ctxs[k], a.dtype, a.size, x), *ty = tensor_poisoned(ctxs[k], a.dtype, a.size);
            lcl_tensor **vx = arena_views(&a, tx), **vy = arena_views(&a, ty);
            OK(lcl_forward_batch(ctxs[k], COUNT, a.alpha, (const lcl_tensor *const *)vx, vy));
            results[k] = tensor_fetch(ty);
            views_release(vx, COUNT);
            views_release(vy, COUNT);
            lcl_tensor_release(tx);
            lcl_tensor_release(ty);
        }
        for (size_t i = 0; i < COUNT; ++i) {
            size_t o = a.offset[i] * elem_size(a.dtype);
            void *single = run_forward(cpu, a.dtype, a.alpha[i], a.n[i], (char *)x + o);
            compare_args vs_single = {a.dtype, a.n[i], (char *)x + o, NULL, single, (char *)results[0] + o};
            assert_results(&vs_single, "%s item %zu: batch against lcl_forward on the CPU backend",
                           dtype_label(a.dtype), i);
            compare_args vs_cpu = {
                a.dtype, a.n[i], (char *)x + o, NULL, (char *)results[1] + o, (char *)results[0] + o};
            assert_results(&vs_cpu, "%s item %zu: batch against the CPU backend's batch", dtype_label(a.dtype), i);
            free(single);
        }
        free(results[0]);
        free(results[1]);
        free(x);
        arena_free(&a);
    }
    lcl_context_release(cpu);
    lcl_context_release(ctx);
}

/* ---- bad batches: rejected whole, nothing written ------------------------------------------- */

#define BN 64
#define BCOUNT 4

typedef struct bad_fx {
    lcl_context *ctx, *other;
    lcl_tensor *xbuf, *ybuf, *f16, *other_t, *mask;
    const lcl_tensor *x[BCOUNT], *dy[BCOUNT];
    lcl_tensor *y[BCOUNT];
    double alpha[BCOUNT];
} bad_fx;

/* Four good items: x[i] and dy[i] views of xbuf, y[i] views of ybuf. */
static void bad_setup(bad_fx *f) {
    f->ctx = test_context();
    f->other = test_cpu_context();
    f->xbuf = tensor_new(f->ctx, LCL_F32, 2 * BCOUNT * BN);
    float host[2 * BCOUNT * BN];
    for (size_t i = 0; i < 2 * BCOUNT * BN; ++i)
        host[i] = (float)i - 200.0f;
    OK(lcl_tensor_write(f->xbuf, host));
    f->ybuf = tensor_poisoned(f->ctx, LCL_F32, BCOUNT * BN);
    f->f16 = tensor_poisoned(f->ctx, LCL_F16, BN);
    f->other_t = tensor_poisoned(f->other, LCL_F32, BN);
    f->mask = tensor_new(f->ctx, LCL_MASK, BN);
    for (size_t i = 0; i < BCOUNT; ++i) {
        f->x[i] = view_new(f->xbuf, i * BN, BN);
        f->dy[i] = view_new(f->xbuf, (BCOUNT + i) * BN, BN);
        f->y[i] = view_new(f->ybuf, i * BN, BN);
        f->alpha[i] = 0.1 * (double)(i + 1);
    }
}

static void bad_teardown(bad_fx *f) {
    for (size_t i = 0; i < BCOUNT; ++i) {
        lcl_tensor_release((lcl_tensor *)f->x[i]);
        lcl_tensor_release((lcl_tensor *)f->dy[i]);
        lcl_tensor_release(f->y[i]);
    }
    lcl_tensor_release(f->xbuf);
    lcl_tensor_release(f->ybuf);
    lcl_tensor_release(f->f16);
    lcl_tensor_release(f->other_t);
    lcl_tensor_release(f->mask);
    lcl_context_release(f->other);
    lcl_context_release(f->ctx);
}

/* Both ops with the fixture's arrays as they stand: rejected, ybuf (and f16) untouched, and the
 * message mentions `needle`. */
static void expect_rejected(bad_fx *f, const char *name, const char *needle) {
    for (int backward = 0; backward < 2; ++backward) {
        lcl_status st = backward ? lcl_backward_batch(f->ctx, BCOUNT, f->alpha, f->x, f->dy, f->y)
                                 : lcl_forward_batch(f->ctx, BCOUNT, f->alpha, f->x, f->y);
        EXPECT_STATUS(st, LCL_ERROR_INVALID_ARGUMENT);
        cr_assert(strstr(lcl_last_error(), needle), "%s (%s): the message \"%s\" does not mention \"%s\"", name,
                  backward ? "backward" : "forward", lcl_last_error(), needle);
        void *got = tensor_fetch(f->ybuf);
        check_poisoned(LCL_F32, BCOUNT * BN, got, "%s (%s): outputs", name, backward ? "backward" : "forward");
        free(got);
        got = tensor_fetch(f->f16);
        check_poisoned(LCL_F16, BN, got, "%s (%s): f16 tensor", name, backward ? "backward" : "forward");
        free(got);
    }
}

Test(batch, bad_calls_change_nothing) {
    bad_fx f;
    bad_setup(&f);
    /* The fixture itself is good. */
    OK(lcl_forward_batch(f.ctx, BCOUNT, f.alpha, f.x, f.y));
    tensor_poison(f.ybuf);

    EXPECT_STATUS(lcl_forward_batch(NULL, BCOUNT, f.alpha, f.x, f.y), LCL_ERROR_INVALID_ARGUMENT);
    EXPECT_STATUS(lcl_forward_batch(f.ctx, BCOUNT, NULL, f.x, f.y), LCL_ERROR_INVALID_ARGUMENT);
    EXPECT_STATUS(lcl_forward_batch(f.ctx, BCOUNT, f.alpha, NULL, f.y), LCL_ERROR_INVALID_ARGUMENT);
    EXPECT_STATUS(lcl_backward_batch(f.ctx, BCOUNT, f.alpha, f.x, NULL, f.y), LCL_ERROR_INVALID_ARGUMENT);
    EXPECT_STATUS(lcl_backward_batch(f.ctx, BCOUNT, f.alpha, f.x, f.dy, NULL), LCL_ERROR_INVALID_ARGUMENT);

    /* The last item is the bad one: the good items before it must not have run. */
    f.alpha[3] = NAN;
    expect_rejected(&f, "NaN alpha in the last item", "item 3");
    f.alpha[3] = INFINITY;
    expect_rejected(&f, "infinite alpha", "item 3");
    f.alpha[3] = 1e300;
    expect_rejected(&f, "alpha beyond fp32", "item 3");
    f.alpha[3] = 0.4;

    const lcl_tensor *saved_x = f.x[3];
    lcl_tensor *saved_y = f.y[3];
    f.x[3] = NULL;
    expect_rejected(&f, "NULL x item", "x[3]");
    f.x[3] = saved_x;
    f.y[3] = NULL;
    expect_rejected(&f, "NULL y item", "[3]");
    f.y[3] = f.f16;
    expect_rejected(&f, "dtype mismatch in an item", "[3]");
    f.y[3] = f.other_t;
    expect_rejected(&f, "item of another context", "[3]");
    lcl_tensor *short_y = view_new(f.ybuf, 3 * BN, BN - 1);
    f.y[3] = short_y;
    expect_rejected(&f, "size mismatch in an item", "[3]");
    lcl_tensor *mask_x = tensor_new(f.ctx, LCL_MASK, BN), *mask_y = tensor_new(f.ctx, LCL_MASK, BN);
    f.x[3] = mask_x;
    f.y[3] = mask_y;
    expect_rejected(&f, "mask item", "3");
    f.x[3] = saved_x;
    /* y[3] partly over x[3]: x[3] is xbuf[3 BN, 4 BN); the output sits 5 elements in. */
    lcl_tensor *partial = view_new(f.xbuf, 3 * BN + 5, BN);
    f.y[3] = partial;
    expect_rejected(&f, "partial overlap within an item", "overlaps");
    /* Across items: y[3] is y[2]; y[3] is x[1]; y[3] straddles y[2] and its own slot. */
    f.y[3] = f.y[2];
    expect_rejected(&f, "two items with one output", "share elements");
    f.y[3] = (lcl_tensor *)f.x[1];
    expect_rejected(&f, "an output that is another item's input", "share elements");
    lcl_tensor *straddle = view_new(f.ybuf, 2 * BN + 10, BN);
    f.y[3] = straddle;
    expect_rejected(&f, "an output straddling another item's output", "share elements");
    f.y[3] = saved_y;

    lcl_tensor_release(short_y);
    lcl_tensor_release(mask_x);
    lcl_tensor_release(mask_y);
    lcl_tensor_release(partial);
    lcl_tensor_release(straddle);
    bad_teardown(&f);
}

/* LEAKYCL_VERIFY=1 checks every item of a batch and agrees with correct kernels. */
Test(batch, verify_accepts_a_batch) {
    setenv("LEAKYCL_VERIFY", "1", 1);
    static const size_t sizes[] = {100, 0, 4099, 3, 20000};
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        arena a;
        arena_layout(&a, test_float_dtypes[d], sizeof sizes / sizeof sizes[0], sizes, &rng);
        run_arena(ctx, &a, &rng, "LEAKYCL_VERIFY=1");
        arena_free(&a);
    }
    lcl_context_release(ctx);
    unsetenv("LEAKYCL_VERIFY");
}

/* Several threads batching on one context at once (the item table's buffer is shared). */
#include <pthread.h>

typedef struct thread_job {
    lcl_context *ctx;
    size_t id;
    int failures;
    char message[512];
} thread_job;

static void *batch_thread(void *arg) {
    thread_job *job = arg;
    test_rng rng;
    rng_init(&rng, job->id + 1);
    enum { COUNT = 40 };
    for (int round = 0; round < 10 && !job->failures; ++round) {
        size_t n = 100 + rng_below(&rng, 300);
        float *x = malloc(COUNT * n * sizeof *x), *want = malloc(COUNT * n * sizeof *want),
              *got = malloc(COUNT * n * sizeof *got);
        double al[COUNT];
        for (size_t i = 0; i < COUNT * n; ++i)
            x[i] = (float)((double)rng_below(&rng, 2001) - 1000.0) / 8.0f;
        for (size_t i = 0; i < COUNT; ++i)
            al[i] = (double)(job->id + i) / 16.0 - 1.0;
        lcl_tensor *tx = NULL, *ty = NULL;
        lcl_tensor *vx[COUNT], *vy[COUNT];
        if (lcl_tensor_create(job->ctx, LCL_F32, COUNT * n, &tx) ||
            lcl_tensor_create(job->ctx, LCL_F32, COUNT * n, &ty) || lcl_tensor_write(tx, x)) {
            job->failures++;
            snprintf(job->message, sizeof job->message, "setup: %s", lcl_last_error());
        }
        for (size_t i = 0; i < COUNT && !job->failures; ++i)
            if (lcl_tensor_view(tx, i * n, n, &vx[i]) || lcl_tensor_view(ty, i * n, n, &vy[i]))
                job->failures++;
        if (!job->failures &&
            (lcl_forward_batch(job->ctx, COUNT, al, (const lcl_tensor *const *)vx, vy) || lcl_tensor_read(ty, got))) {
            job->failures++;
            snprintf(job->message, sizeof job->message, "batch: %s", lcl_last_error());
        }
        for (size_t i = 0; i < COUNT && !job->failures; ++i) {
            ref_forward_array(LCL_F32, n, al[i], x + i * n, want + i * n);
            compare_args c = {LCL_F32, n, x + i * n, NULL, want + i * n, got + i * n};
            char label[64];
            snprintf(label, sizeof label, "thread %zu round %d item %zu", job->id, round, i);
            if (compare_results(&c, label, job->message, sizeof job->message))
                job->failures++;
        }
        if (!job->failures)
            for (size_t i = 0; i < COUNT; ++i) {
                lcl_tensor_release(vx[i]);
                lcl_tensor_release(vy[i]);
            }
        lcl_tensor_release(tx);
        lcl_tensor_release(ty);
        free(x);
        free(want);
        free(got);
    }
    return NULL;
}

Test(batch, threads_share_a_context) {
    lcl_context *ctx = test_context();
    enum { THREADS = 4 };
    pthread_t threads[THREADS];
    thread_job jobs[THREADS];
    for (size_t t = 0; t < THREADS; ++t) {
        jobs[t] = (thread_job){ctx, t, 0, ""};
        cr_assert(pthread_create(&threads[t], NULL, batch_thread, &jobs[t]) == 0);
    }
    for (size_t t = 0; t < THREADS; ++t)
        pthread_join(threads[t], NULL);
    for (size_t t = 0; t < THREADS; ++t)
        cr_assert(jobs[t].failures == 0, "%s", jobs[t].message);
    lcl_context_release(ctx);
}
