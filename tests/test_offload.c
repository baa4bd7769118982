/* Offload of host arrays (lcl_forward_host, lcl_backward_host) through both OpenCL paths:
 * zero-copy (host-unified devices such as PoCL: the arrays wrapped in place, heads and gaps
 * under one alignment unit on the CPU backend) and streamed (pinned staging, chunks in flight on
 * three queues; forced here with LEAKYCL_ZERO_COPY=0). Many chunks (a small LEAKYCL_CHUNK_BYTES),
 * ragged last chunks, sizes around chunk multiples, arrays at every element offset from a
 * 128-byte boundary, in place, every dtype, bit for bit against the CPU backend and the tests'
 * reference; a failure midway (tests/fault/midway.c, under the fault shim) leaves the inputs untouched;
 * threads share one context; LEAKYCL_VERIFY catches a planted kernel fault on the host path.
 *
 * The variables are read at context creation, so each test sets them before test_context()
 * (Criterion runs each test in a process of its own). On the CPU backend they change nothing
 * and every test still checks the results. */
#include "common.h"

#include <criterion/criterion.h>

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef LEAKYCL_SOURCE_DIR
#error "LEAKYCL_SOURCE_DIR must name the source tree (tests/CMakeLists.txt defines it)"
#endif

#define ALIGN 128         /* the boundary the arrays' offsets count from (PoCL's CL_DEVICE_MEM_BASE_ADDR_ALIGN) */
#define ROOM ((size_t)64) /* spare elements around each array, poisoned, to catch a write outside it */

TestSuite(offload, .fini = kernels_plant_remove);

enum mode { ZERO_COPY, STREAMED };

static const char *mode_name(enum mode mode) { return mode == ZERO_COPY ? "zero-copy" : "streamed"; }

/* The path and the chunk size (0: the device's own) for the contexts created next. */
static void offload_settings(enum mode mode, size_t chunk_bytes) {
    setenv("LEAKYCL_ZERO_COPY", mode == STREAMED ? "0" : "1", 1);
    if (chunk_bytes) {
        char text[32];
        snprintf(text, sizeof text, "%zu", chunk_bytes);
        setenv("LEAKYCL_CHUNK_BYTES", text, 1);
    } else {
        unsetenv("LEAKYCL_CHUNK_BYTES");
    }
}

/* The suite's context, with those settings. */
static lcl_context *offload_context(enum mode mode, size_t chunk_bytes) {
    offload_settings(mode, chunk_bytes);
    return test_context();
}

/* Room for ROOM + n + ROOM elements from a 128-byte boundary, all poisoned. */
static char *poisoned_room(lcl_dtype dtype, size_t n) {
    size_t bytes = (n + 2 * ROOM) * elem_size(dtype);
    char *p = aligned_alloc(ALIGN, (bytes + ALIGN - 1) / ALIGN * ALIGN);
    cr_assert(p != NULL, "out of host memory for %zu bytes", bytes);
    fill_poison(dtype, p, n + 2 * ROOM);
    return p;
}

/* Where the arrays start, in elements from a 128-byte boundary (0 to 31). */
typedef struct placement {
    size_t x, dy, out;
} placement;

typedef struct host_call {
    lcl_dtype dtype;
    size_t n;
    double alpha;
    bool backward;
    bool in_place; /* y is x, or dx is dy */
    placement at;
} host_call;

static lcl_status call_host(lcl_context *ctx, const host_call *c, const void *x, const void *dy, void *out) {
    return c->backward ? lcl_backward_host(ctx, c->dtype, c->n, c->alpha, x, dy, out)
                       : lcl_forward_host(ctx, c->dtype, c->n, c->alpha, x, out);
}

/* One call checked every way: exact against the CPU backend and the reference, the inputs
 * unchanged out of place, nothing written around the output. */
static void check_call(lcl_context *ctx, lcl_context *cpu, const host_call *c, test_rng *rng, const char *what) {
    lcl_dtype dtype = c->dtype;
    size_t es = elem_size(dtype), n = c->n, bytes = n * es;
    char *x_room = poisoned_room(dtype, n), *dy_room = poisoned_room(dtype, n), *out_room = poisoned_room(dtype, n);
    char *x = x_room + (ROOM - ALIGN / es + c->at.x) * es; /* ROOM is a multiple of ALIGN / es elements */
    char *dy = dy_room + (ROOM - ALIGN / es + c->at.dy) * es;
    fill_random(dtype, x, n, c->alpha, rng);
    fill_random(dtype, dy, n, c->alpha, rng);
    void *x_copy = test_alloc(dtype, n), *dy_copy = test_alloc(dtype, n), *want = test_alloc(dtype, n);
    memcpy(x_copy, x, bytes);
    memcpy(dy_copy, dy, bytes);
    OK(call_host(cpu, c, x_copy, dy_copy, want));

    char *out_room_used = c->in_place ? (c->backward ? dy_room : x_room) : out_room;
    char *out = c->in_place ? (c->backward ? dy : x) : out_room + (ROOM - ALIGN / es + c->at.out) * es;
    size_t before = (size_t)(out - out_room_used) / es;
    OK(call_host(ctx, c, x, dy, out));

    compare_args args = {dtype, n, x_copy, c->backward ? dy_copy : NULL, want, out};
    assert_results(&args, "%s %s %s%s n=%zu alpha=%g, x/dy/out at +%zu/+%zu/+%zu elements: %s", what,
                   dtype_label(dtype), c->backward ? "backward" : "forward", c->in_place ? " in place" : "", n,
                   c->alpha, c->at.x, c->at.dy, c->at.out, "against the CPU backend");
    if (c->backward)
        check_backward(dtype, c->alpha, n, x_copy, dy_copy, out, "%s %s backward n=%zu against the reference", what,
                       dtype_label(dtype), n);
    else
        check_forward(dtype, c->alpha, n, x_copy, out, "%s %s forward n=%zu against the reference", what,
                      dtype_label(dtype), n);
    check_poisoned(dtype, before, out_room_used, "%s %s n=%zu: before the output", what, dtype_label(dtype), n);
    check_poisoned(dtype, 2 * ROOM - before, out + bytes, "%s %s n=%zu: after the output", what, dtype_label(dtype), n);
    if (!c->in_place)
        cr_assert(memcmp(x, x_copy, bytes) == 0 && memcmp(dy, dy_copy, bytes) == 0,
                  "%s %s n=%zu: an out-of-place call changed an input", what, dtype_label(dtype), n);
    else if (c->backward)
        cr_assert(memcmp(x, x_copy, bytes) == 0, "%s %s n=%zu: backward in place changed x", what, dtype_label(dtype),
                  n);
    free(x_room);
    free(dy_room);
    free(out_room);
    free(x_copy);
    free(dy_copy);
    free(want);
}

/* Forward and backward, out of place and in place. */
static void check_four(lcl_context *ctx, lcl_context *cpu, host_call c, test_rng *rng, const char *what) {
    static const double alphas[] = {0.01, -0.5, 2.5, 0.0, 1.0 / 3.0};
    for (int k = 0; k < 4; ++k) {
        c.backward = k & 1;
        c.in_place = k >> 1;
        c.alpha = alphas[rng_below(rng, sizeof alphas / sizeof alphas[0])];
        check_call(ctx, cpu, &c, rng, what);
    }
}

/* k*step - 1, k*step, k*step + 1 for a few k, and a few small sizes. */
static size_t sizes_around(size_t step, size_t *sizes) {
    static const size_t multiples[] = {1, 2, 3, 5};
    static const size_t small[] = {1, 2, 31, 33, 200};
    size_t count = 0;
    for (size_t m = 0; m < sizeof multiples / sizeof multiples[0]; ++m)
        for (int d = -1; d <= 1; ++d)
            sizes[count++] = multiples[m] * step + (size_t)d;
    for (size_t s = 0; s < sizeof small / sizeof small[0]; ++s)
        sizes[count++] = small[s];
    return count;
}

/* Every dtype at sizes around multiples of the streamed chunk and the zero-copy piece (the
 * chunk rounded down to 128 bytes), arrays aligned and not. */
static void chunk_sizes(enum mode mode, size_t chunk_bytes) {
    lcl_context *ctx = offload_context(mode, chunk_bytes), *cpu = test_cpu_context();
    test_rng rng;
    rng_init(&rng, 0);
    char what[64];
    snprintf(what, sizeof what, "%s, %zu-byte chunks", mode_name(mode), chunk_bytes);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        size_t es = elem_size(dtype), sizes[40];
        size_t count = sizes_around(chunk_bytes / es, sizes);
        if (chunk_bytes % ALIGN != 0)
            count += sizes_around(chunk_bytes / ALIGN * ALIGN / es, sizes + count);
        for (size_t s = 0; s < count; ++s) {
            host_call c = {.dtype = dtype, .n = sizes[s]};
            check_four(ctx, cpu, c, &rng, what);
            c.at = (placement){1 + s % 31, (5 * s + 2) % 32, (7 * s + 3) % 32};
            check_four(ctx, cpu, c, &rng, what);
        }
    }
    lcl_context_release(ctx);
    lcl_context_release(cpu);
}

Test(offload, chunk_multiples_zero_copy) { chunk_sizes(ZERO_COPY, 1024); }
Test(offload, chunk_multiples_streamed) { chunk_sizes(STREAMED, 1024); }
/* 1000 bytes: a ragged number of elements per chunk for fp64, a zero-copy piece of 896 bytes. */
Test(offload, ragged_chunks_zero_copy) { chunk_sizes(ZERO_COPY, 1000); }
Test(offload, ragged_chunks_streamed) { chunk_sizes(STREAMED, 1000); }

/* x, dy and the output at every offset of 0 to 31 elements from a 128-byte boundary (every
 * `stride`-th), each array at a different one, over several chunks (so zero-copy has gaps
 * between pieces) or over n elements with the default chunk. */
static void every_offset(enum mode mode, size_t chunk_bytes, size_t chunks, size_t stride) {
    lcl_context *ctx = offload_context(mode, chunk_bytes), *cpu = test_cpu_context();
    test_rng rng;
    rng_init(&rng, 1);
    char what[64];
    snprintf(what, sizeof what, "%s, %zu-byte chunks", mode_name(mode), chunk_bytes);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        size_t step = (chunk_bytes ? chunk_bytes : 400000) / elem_size(test_float_dtypes[d]);
        for (size_t o = d % stride; o < 32; o += stride) {
            host_call c = {
                .dtype = test_float_dtypes[d], .n = chunks * step + 7, .at = {o, (5 * o + 1) % 32, (7 * o + 3) % 32}};
            check_four(ctx, cpu, c, &rng, what);
        }
    }
    lcl_context_release(ctx);
    lcl_context_release(cpu);
}

Test(offload, every_offset_zero_copy) { every_offset(ZERO_COPY, 1024, 3, 1); }
Test(offload, every_offset_streamed) { every_offset(STREAMED, 1024, 3, 1); }
/* The default chunk: one zero-copy piece with a head per array, a streamed call in one chunk. */
Test(offload, every_offset_default_chunk_zero_copy) { every_offset(ZERO_COPY, 0, 1, 5); }
Test(offload, every_offset_default_chunk_streamed) { every_offset(STREAMED, 0, 1, 5); }

/* Arrays of several default-sized (4 MiB) chunks, the last one ragged. */
Test(offload, large_streamed) {
    lcl_context *ctx = offload_context(STREAMED, 0), *cpu = test_cpu_context();
    test_rng rng;
    rng_init(&rng, 2);
    host_call f32 = {.dtype = LCL_F32, .n = 5 * (1 << 20) + 3, .at = {3, 0, 17}};
    check_four(ctx, cpu, f32, &rng, "streamed, default chunks");
    host_call f16 = {.dtype = LCL_F16, .n = 5 * (1 << 20) + 3, .at = {0, 9, 0}};
    check_four(ctx, cpu, f16, &rng, "streamed, default chunks");
    lcl_context_release(ctx);
    lcl_context_release(cpu);
}

/* ---- failures --------------------------------------------------------------------------------- */

/* A failure midway through the chunks is tests/fault/midway.c's, under the OpenCL fault shim. */

/* Rejected calls write nothing: the output stays poisoned, the inputs unchanged. */
static void rejected_calls(enum mode mode) {
    lcl_context *ctx = offload_context(mode, 1024);
    test_rng rng;
    rng_init(&rng, 4);
    const size_t n = 3000;
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        lcl_dtype dtype = test_float_dtypes[d];
        size_t es = elem_size(dtype), bytes = n * es;
        char *x = poisoned_room(dtype, n + 1), *dy = poisoned_room(dtype, n), *out = poisoned_room(dtype, n);
        fill_random(dtype, x, n + 1, 0.5, &rng);
        fill_random(dtype, dy, n, 0.5, &rng);
        void *x_copy = test_alloc(dtype, n + 1), *dy_copy = test_alloc(dtype, n);
        memcpy(x_copy, x, bytes + es);
        memcpy(dy_copy, dy, bytes);
        EXPECT_STATUS(lcl_forward_host(ctx, dtype, n, NAN, x, out), LCL_ERROR_INVALID_ARGUMENT);
        EXPECT_STATUS(lcl_backward_host(ctx, dtype, n, INFINITY, x, dy, out), LCL_ERROR_INVALID_ARGUMENT);
        EXPECT_STATUS(lcl_forward_host(ctx, LCL_MASK, n, 0.5, x, out), LCL_ERROR_INVALID_ARGUMENT);
        EXPECT_STATUS(lcl_forward_host(ctx, dtype, n, 0.5, NULL, out), LCL_ERROR_INVALID_ARGUMENT);
        EXPECT_STATUS(lcl_backward_host(ctx, dtype, n, 0.5, x, NULL, out), LCL_ERROR_INVALID_ARGUMENT);
        EXPECT_STATUS(lcl_forward_host(NULL, dtype, n, 0.5, x, out), LCL_ERROR_INVALID_ARGUMENT);
        EXPECT_STATUS(lcl_backward_host(ctx, dtype, n, 0.5, x, dy, dy + es), LCL_ERROR_INVALID_ARGUMENT);
        check_poisoned(dtype, n + 2 * ROOM, out, "%s %s: output of rejected calls", mode_name(mode),
                       dtype_label(dtype));
        /* The output one element into x: a partial overlap. */
        EXPECT_STATUS(lcl_forward_host(ctx, dtype, n, 0.5, x, x + es), LCL_ERROR_INVALID_ARGUMENT);
        cr_assert(memcmp(x, x_copy, bytes + es) == 0 && memcmp(dy, dy_copy, bytes) == 0,
                  "%s %s: a rejected call changed an array", mode_name(mode), dtype_label(dtype));
        free(x);
        free(dy);
        free(out);
        free(x_copy);
        free(dy_copy);
    }
    lcl_context_release(ctx);
}

Test(offload, rejected_calls_zero_copy) { rejected_calls(ZERO_COPY); }
Test(offload, rejected_calls_streamed) { rejected_calls(STREAMED); }

/* ---- threads ---------------------------------------------------------------------------------- */

#define THREADS 4
#define CALLS_PER_THREAD 24

typedef struct worker {
    lcl_context *ctx;
    int id;
    int failed;
    char message[1400];
} worker;

/* Random calls of several chunks each, checked against the reference; never asserts. */
static void *work(void *arg) {
    worker *w = arg;
    test_rng rng;
    rng_init(&rng, 100 + (uint64_t)w->id);
    for (int i = 0; i < CALLS_PER_THREAD && !w->failed; ++i) {
        lcl_dtype dtype = test_float_dtypes[rng_below(&rng, TEST_FLOAT_DTYPE_COUNT)];
        size_t es = elem_size(dtype), n = 1 + rng_below(&rng, (size_t)6 * 1024 / es), off = rng_below(&rng, 32);
        bool backward = rng_below(&rng, 2), in_place = rng_below(&rng, 2);
        char *x = malloc((n + 32) * es), *dy = malloc((n + 32) * es), *out = malloc((n + 32) * es);
        void *want = malloc(n * es), *x_copy = malloc(n * es), *dy_copy = malloc(n * es);
        if (!x || !dy || !out || !want || !x_copy || !dy_copy) {
            snprintf(w->message, sizeof w->message, "thread %d: out of host memory", w->id);
            w->failed = 1;
        } else {
            char *xs = x + off * es, *dys = dy + (31 - off) * es;
            fill_random(dtype, xs, n, 0.25, &rng);
            fill_random(dtype, dys, n, 0.25, &rng);
            memcpy(x_copy, xs, n * es);
            memcpy(dy_copy, dys, n * es);
            char *dst = in_place ? (backward ? dys : xs) : out + off * es;
            lcl_status st;
            if (backward) {
                ref_backward_array(dtype, n, 0.25, x_copy, dy_copy, want);
                st = lcl_backward_host(w->ctx, dtype, n, 0.25, xs, dys, dst);
            } else {
                ref_forward_array(dtype, n, 0.25, x_copy, want);
                st = lcl_forward_host(w->ctx, dtype, n, 0.25, xs, dst);
            }
            if (st != LCL_SUCCESS) {
                snprintf(w->message, sizeof w->message, "thread %d, call %d: %s: %s", w->id, i, lcl_status_string(st),
                         lcl_last_error());
                w->failed = 1;
            } else {
                compare_args args = {dtype, n, x_copy, backward ? dy_copy : NULL, want, dst};
                char label[64];
                snprintf(label, sizeof label, "thread %d, call %d", w->id, i);
                if (compare_results(&args, label, w->message, sizeof w->message) > 0)
                    w->failed = 1;
            }
        }
        free(x);
        free(dy);
        free(out);
        free(want);
        free(x_copy);
        free(dy_copy);
    }
    return NULL;
}

/* Threads share one context: zero-copy calls run side by side, streamed calls take turns with
 * the staging. */
static void threads_share(enum mode mode) {
    lcl_context *ctx = offload_context(mode, 1024);
    worker workers[THREADS];
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; ++t) {
        workers[t] = (worker){.ctx = ctx, .id = t, .failed = 0, .message = ""};
        cr_assert(pthread_create(&threads[t], NULL, work, &workers[t]) == 0, "pthread_create failed");
    }
    for (int t = 0; t < THREADS; ++t)
        pthread_join(threads[t], NULL);
    for (int t = 0; t < THREADS; ++t)
        cr_assert(!workers[t].failed, "%s: %s", mode_name(mode), workers[t].message);
    lcl_context_release(ctx);
}

Test(offload, threads_zero_copy) { threads_share(ZERO_COPY); }
Test(offload, threads_streamed) { threads_share(STREAMED); }

/* ---- LEAKYCL_VERIFY on the host path ------------------------------------------------------------ */

/* Every `alpha *` in kernels/ made `(compute_t)1 + alpha *`, as test_kernels.c plants it. */
static void plant_wrong_alpha_branch(void) {
    size_t count = kernels_plant("alpha *", "(compute_t)1 + alpha *", 0);
    cr_assert(count > 0, "the kernels have no \"alpha *\" to plant a fault in: update test_offload.c");
}

/* With the planted fault and LEAKYCL_VERIFY=1, a host call on either path fails and names the
 * first wrong element, past the chunks and the head the CPU backend computes. */
static void verify_catches(enum mode mode) {
    plant_wrong_alpha_branch();
    setenv("LEAKYCL_VERIFY", "1", 1);
    lcl_context *ctx = offload_context(mode, 1024);
    const size_t n = 4000, first_bad = 1000;
    float *x = aligned_alloc(ALIGN, n * sizeof(float)), *y = aligned_alloc(ALIGN, n * sizeof(float));
    cr_assert(x && y);
    for (size_t i = 0; i < n; ++i)
        x[i] = i < first_bad ? 1.0f + (float)i : -1.0f - (float)(i % 7);
    if (!is_opencl(ctx)) {
        OK(lcl_forward_host(ctx, LCL_F32, n, 0.5, x, y));
        check_forward(LCL_F32, 0.5, n, x, y, "CPU backend with planted kernels");
    } else {
        EXPECT_STATUS(lcl_forward_host(ctx, LCL_F32, n, 0.5, x, y), LCL_ERROR_OPENCL);
        cr_assert(strstr(lcl_last_error(), "1000") != NULL, "%s: the message does not name index %zu: \"%s\"",
                  mode_name(mode), first_bad, lcl_last_error());
    }
    free(x);
    free(y);
    lcl_context_release(ctx);
}

Test(offload, verify_catches_a_planted_fault_zero_copy) { verify_catches(ZERO_COPY); }
Test(offload, verify_catches_a_planted_fault_streamed) { verify_catches(STREAMED); }

/* With the real kernels LEAKYCL_VERIFY=1 agrees, in place too. */
static void verify_agrees(enum mode mode) {
    unsetenv("LEAKYCL_KERNEL_DIR");
    setenv("LEAKYCL_VERIFY", "1", 1);
    lcl_context *ctx = offload_context(mode, 1024), *cpu = test_cpu_context();
    test_rng rng;
    rng_init(&rng, 5);
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        host_call c = {.dtype = test_float_dtypes[d], .n = 4099, .at = {3, 0, 30}};
        check_four(ctx, cpu, c, &rng, "LEAKYCL_VERIFY=1");
    }
    lcl_context_release(ctx);
    lcl_context_release(cpu);
}

Test(offload, verify_agrees_zero_copy) { verify_agrees(ZERO_COPY); }
Test(offload, verify_agrees_streamed) { verify_agrees(STREAMED); }

/* A context on the app's queue: the host functions use queues of their own beside it, and
 * releasing the context leaves the app's queue and context working. */
Test(offload, wrapped_app_queue) {
    app_cl app;
    app_cl_open(&app);
    lcl_context *cpu = test_cpu_context();
    test_rng rng;
    rng_init(&rng, 6);
    for (int m = 0; m < 2; ++m) {
        enum mode mode = m ? STREAMED : ZERO_COPY;
        offload_settings(mode, 1024);
        lcl_context *ctx = NULL;
        OK(lcl_context_wrap_cl(app.queue, &ctx));
        for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
            host_call c = {.dtype = test_float_dtypes[d], .n = 2 * 1024 + 5, .at = {7, 2, 11}};
            check_four(ctx, cpu, c, &rng, mode == ZERO_COPY ? "wrapped queue, zero-copy" : "wrapped queue, streamed");
        }
        lcl_context_release(ctx);
        cr_assert(clFinish(app.queue) == CL_SUCCESS, "the app's queue fails after the context's release");
    }
    lcl_context_release(cpu);
    app_cl_close(&app);
}
