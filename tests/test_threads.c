/* One context, eight threads: each runs a few hundred mixed ops (tensor and host, every
 * dtype and op, random sizes) on its own tensors, plus reads of one shared input, and checks
 * every result bit for bit. Workers never assert (Criterion's asserts belong to the test's
 * thread); they report their first failure, and the test asserts after joining them. */
#include "common.h"

#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 8
#define OPS_PER_THREAD 250
#define MAX_N 300
#define SHARED_N 4096

static const double alphas[] = {0.0, 0.01, 1.0, 2.5, -0.5, 0.1};
#define ALPHA_COUNT (sizeof alphas / sizeof alphas[0])

/* One op's host data: sel is x (or y for backward_from_output), got receives the result. */
typedef struct job {
    lcl_dtype dtype;
    size_t n, offset;
    double alpha;
    int op; /* 0 forward, 1 backward, 2 from output, 3 host forward, 4 host backward, 5 shared */
    void *x, *dy, *y, *want, *got;
    const void *sel;
} job;

typedef struct worker {
    lcl_context *ctx;
    lcl_tensor *shared; /* f32, SHARED_N, only read, by every thread */
    const float *shared_host;
    int id;
    job job; /* its buffers are allocated by the test's thread */
    int failed;
    char message[1400];
} worker;

static int is_forward(int op) { return op == 0 || op == 3 || op == 5; }

/* Records the first failure; returns 0 so callers can `return fail_status(...)`. */
static int fail_status(worker *w, const char *call, lcl_status status) {
    const job *j = &w->job;
    if (!w->failed)
        snprintf(w->message, sizeof w->message, "thread %d, op %d on %s n=%zu: %s returned %s: %s", w->id, j->op,
                 dtype_label(j->dtype), j->n, call, lcl_status_string(status), lcl_last_error());
    w->failed = 1;
    return 0;
}

#define TRY(w, call)                                                                                                   \
    do {                                                                                                               \
        lcl_status try_status_ = (call);                                                                               \
        if (try_status_ != LCL_SUCCESS)                                                                                \
            return fail_status((w), #call, try_status_);                                                               \
    } while (0)

static int make_tensor(worker *w, const void *data, lcl_tensor **t) {
    TRY(w, lcl_tensor_create(w->ctx, w->job.dtype, w->job.n, t));
    TRY(w, lcl_tensor_write(*t, data));
    return 1;
}

static lcl_status tensor_op(worker *w, lcl_tensor *sel, lcl_tensor *dy, lcl_tensor *out) {
    const job *j = &w->job;
    switch (j->op) {
    case 0:
    case 5:
        return lcl_forward(w->ctx, j->alpha, sel, out);
    case 1:
        return lcl_backward(w->ctx, j->alpha, sel, dy, out);
    default:
        return lcl_backward_from_output(w->ctx, j->alpha, sel, dy, out);
    }
}

/* Inputs written, output poisoned, the op, the output read into got. `sel` is NULL for the
 * shared op, whose input is a view of the shared tensor. */
static int run_tensor_op(worker *w) {
    job *j = &w->job;
    lcl_tensor *sel = NULL, *dy = NULL, *out = NULL;
    fill_poison(j->dtype, j->got, j->n);
    int ok = make_tensor(w, j->dy, &dy) && make_tensor(w, j->got, &out);
    lcl_status status = LCL_SUCCESS;
    if (ok && j->op == 5 && (status = lcl_tensor_view(w->shared, j->offset, j->n, &sel)) != LCL_SUCCESS)
        ok = fail_status(w, "lcl_tensor_view of the shared tensor", status);
    else if (ok && j->op != 5)
        ok = make_tensor(w, j->sel, &sel);
    if (ok && (status = tensor_op(w, sel, dy, out)) != LCL_SUCCESS)
        ok = fail_status(w, "the op", status);
    if (ok && (status = lcl_tensor_read(out, j->got)) != LCL_SUCCESS)
        ok = fail_status(w, "lcl_tensor_read", status);
    lcl_tensor_release(sel);
    lcl_tensor_release(dy);
    lcl_tensor_release(out);
    return ok;
}

static int run_host_op(worker *w) {
    job *j = &w->job;
    fill_poison(j->dtype, j->got, j->n);
    if (j->op == 3)
        TRY(w, lcl_forward_host(w->ctx, j->dtype, j->n, j->alpha, j->x, j->got));
    else
        TRY(w, lcl_backward_host(w->ctx, j->dtype, j->n, j->alpha, j->x, j->dy, j->got));
    return 1;
}

/* A random job: op, dtype, size and alpha, inputs filled, the expected result computed. */
static void plan_job(worker *w, test_rng *rng) {
    job *j = &w->job;
    j->op = (int)rng_below(rng, 6);
    j->dtype = j->op == 5 ? LCL_F32 : test_float_dtypes[rng_below(rng, TEST_FLOAT_DTYPE_COUNT)];
    j->n = 1 + rng_below(rng, MAX_N);
    j->offset = rng_below(rng, SHARED_N - MAX_N);
    j->alpha = alphas[rng_below(rng, ALPHA_COUNT)];
    if (j->op == 2 && j->alpha < 0)
        j->alpha = -j->alpha;
    fill_random(j->dtype, j->x, j->n, j->alpha, rng);
    fill_random(j->dtype, j->dy, j->n, j->alpha, rng);
    if (j->op == 5)
        memcpy(j->x, w->shared_host + j->offset, j->n * sizeof(float));
    j->sel = j->x;
    if (is_forward(j->op)) {
        ref_forward_array(j->dtype, j->n, j->alpha, j->x, j->want);
        return;
    }
    ref_backward_array(j->dtype, j->n, j->alpha, j->x, j->dy, j->want);
    if (j->op == 2) { /* backward from the forward's output */
        ref_forward_array(j->dtype, j->n, j->alpha, j->x, j->y);
        j->sel = j->y;
    }
}

static int check_job(worker *w) {
    const job *j = &w->job;
    compare_args args = {j->dtype, j->n, j->sel, is_forward(j->op) ? NULL : j->dy, j->want, j->got};
    char label[96];
    snprintf(label, sizeof label, "thread %d, op %d, alpha %g, shared offset %zu", w->id, j->op, j->alpha, j->offset);
    if (compare_results(&args, label, w->message, sizeof w->message) == 0)
        return 1;
    w->failed = 1;
    return 0;
}

static void *work(void *arg) {
    worker *w = arg;
    test_rng rng;
    rng_init(&rng, (uint64_t)w->id + 1);
    for (int i = 0; i < OPS_PER_THREAD; ++i) {
        plan_job(w, &rng);
        int ran = w->job.op == 3 || w->job.op == 4 ? run_host_op(w) : run_tensor_op(w);
        if (!ran || !check_job(w))
            break;
    }
    return NULL;
}

static void worker_alloc(worker *w) {
    job *j = &w->job;
    j->x = test_alloc(LCL_F64, MAX_N);
    j->dy = test_alloc(LCL_F64, MAX_N);
    j->y = test_alloc(LCL_F64, MAX_N);
    j->want = test_alloc(LCL_F64, MAX_N);
    j->got = test_alloc(LCL_F64, MAX_N);
}

static void worker_free(worker *w) {
    job *j = &w->job;
    free(j->x);
    free(j->dy);
    free(j->y);
    free(j->want);
    free(j->got);
}

Test(threads, eight_threads_share_a_context, .timeout = 240) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    float *shared_host = test_alloc(LCL_F32, SHARED_N);
    fill_random(LCL_F32, shared_host, SHARED_N, 0.5, &rng);
    lcl_tensor *shared = tensor_with(ctx, LCL_F32, SHARED_N, shared_host);

    static worker workers[THREADS];
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; ++t) {
        workers[t] = (worker){.ctx = ctx, .shared = shared, .shared_host = shared_host, .id = t};
        worker_alloc(&workers[t]);
        cr_assert(pthread_create(&threads[t], NULL, work, &workers[t]) == 0);
    }
    for (int t = 0; t < THREADS; ++t)
        pthread_join(threads[t], NULL);
    for (int t = 0; t < THREADS; ++t)
        cr_assert(!workers[t].failed, "%s", workers[t].message);

    /* The shared input was only read. */
    float *after = tensor_fetch(shared);
    compare_args unchanged = {LCL_F32, SHARED_N, NULL, NULL, shared_host, after};
    assert_results(&unchanged, "the shared input tensor changed");
    for (int t = 0; t < THREADS; ++t)
        worker_free(&workers[t]);
    free(after);
    free(shared_host);
    lcl_tensor_release(shared);
    lcl_context_release(ctx);
}
