/* Thread stress: a plain program rather than a Criterion suite, so that it runs the same under
 * ThreadSanitizer, valgrind and ctest (Criterion forks, and its asserts belong to one thread).
 *
 *   leakycl_stress shared     8 threads share one context ($LEAKYCL_DEVICE), each making
 *                             $LEAKYCL_STRESS_CALLS (default 10000) mixed calls (stress_ops.c)
 *                             on its own tensors and checking every result bit for bit
 *   leakycl_stress contexts   8 threads each create a context, use it and release it, a few
 *                             rounds, all at once
 *   leakycl_stress first-dense like contexts, but in each round the 8 threads make their new
 *                             context's first dense call at the same moment: the first GEMM
 *                             builds CLBlast's process-wide state, which raced (src/opencl/dense.c)
 *
 * It prints how many calls were checked and exits 1 on the first wrong result (with the
 * element, the inputs and LEAKYCL_TEST_SEED to repeat it). */
#include "stress.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STRESS_THREADS 8

static size_t env_count(const char *name, size_t fallback) {
    const char *v = getenv(name);
    return v && *v ? (size_t)strtoull(v, NULL, 10) : fallback;
}

static int arenas_create(stress_worker *w) {
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        stress_arenas *ar = &w->arenas[d];
        if (!lcl_context_supports(w->ctx, (lcl_dtype)d))
            continue;
        if (lcl_tensor_create(w->ctx, (lcl_dtype)d, STRESS_ARENA, &ar->a) != LCL_SUCCESS ||
            lcl_tensor_create(w->ctx, (lcl_dtype)d, STRESS_ARENA, &ar->b) != LCL_SUCCESS ||
            lcl_tensor_create(w->ctx, (lcl_dtype)d, STRESS_ARENA, &ar->c) != LCL_SUCCESS ||
            lcl_tensor_create(w->ctx, LCL_MASK, STRESS_ARENA, &ar->mask) != LCL_SUCCESS)
            return stress_fail(w, "arena tensors: %s", lcl_last_error());
        /* Defined from the start: a rejected call's check compares elements no call wrote. */
        memset(w->extra, 0, (STRESS_ARENA + 1) * 8);
        lcl_tensor *all[] = {ar->a, ar->b, ar->c, ar->mask};
        for (size_t i = 0; i < 4; ++i)
            if (lcl_tensor_write(all[i], w->extra) != LCL_SUCCESS)
                return stress_fail(w, "arena tensors: %s", lcl_last_error());
    }
    return 1;
}

static void arenas_release(stress_worker *w) {
    for (size_t d = 0; d < TEST_FLOAT_DTYPE_COUNT; ++d) {
        stress_arenas *ar = &w->arenas[d];
        lcl_tensor_release(ar->a);
        lcl_tensor_release(ar->b);
        lcl_tensor_release(ar->c);
        lcl_tensor_release(ar->mask);
    }
}

/* $LEAKYCL_STRESS_ONLY=NAME narrows the mix to one op, for chasing a failure. */
static unsigned op_weight(size_t i) {
    const char *only = getenv("LEAKYCL_STRESS_ONLY");
    return only && *only && strcmp(only, stress_ops[i].name) != 0 ? 0 : stress_ops[i].weight;
}

static unsigned total_weight(void) {
    unsigned total = 0;
    for (size_t i = 0; i < stress_op_count; ++i)
        total += op_weight(i);
    return total;
}

/* Draws an op by weight and runs it. */
static int run_one(stress_worker *w, unsigned total) {
    size_t pick = rng_below(&w->rng, total);
    for (size_t i = 0; i < stress_op_count; ++i) {
        if (pick < op_weight(i))
            return stress_ops[i].run(w);
        pick -= op_weight(i);
    }
    return 0;
}

typedef struct shared_run {
    stress_worker *w;
    size_t calls;
} shared_run;

static void *shared_thread(void *arg) {
    shared_run *run = arg;
    stress_worker *w = run->w;
    unsigned total = total_weight();
    if (!arenas_create(w))
        return NULL;
    for (size_t k = 0; k < run->calls && !w->failed; ++k)
        run_one(w, total);
    arenas_release(w);
    return NULL;
}

static void worker_init(stress_worker *w, int id, lcl_context *ctx, lcl_context *other) {
    memset(w, 0, sizeof *w);
    w->id = id;
    w->ctx = ctx;
    w->other = other;
    rng_init(&w->rng, (uint64_t)id + 100);
    void **scratch[] = {&w->x, &w->dy, &w->y, &w->want, &w->got, &w->extra};
    for (size_t i = 0; i < sizeof scratch / sizeof scratch[0]; ++i)
        *scratch[i] = test_alloc(LCL_F64, STRESS_ARENA + 1);
}

static void worker_free(stress_worker *w) {
    free(w->x);
    free(w->dy);
    free(w->y);
    free(w->want);
    free(w->got);
    free(w->extra);
}

/* Joins the workers and reports: 0 when every call checked out. */
static int report(stress_worker *workers, const char *what, const char *device, double seconds) {
    size_t checked = 0;
    int failed = 0;
    for (int t = 0; t < STRESS_THREADS; ++t) {
        checked += workers[t].checked;
        if (workers[t].failed) {
            fprintf(stderr, "FAIL: %s\n", workers[t].message);
            failed = 1;
        }
    }
    printf("stress %s on %s: %zu calls checked by %d threads in %.1f s (seed %llu)%s\n", what, device, checked,
           STRESS_THREADS, seconds, (unsigned long long)test_seed(), failed ? ": FAILED" : "");
    return failed;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int stress_shared(size_t calls) {
    lcl_context *ctx = NULL, *other = NULL;
    if (lcl_context_create(NULL, &ctx) != LCL_SUCCESS || lcl_context_create("cpu", &other) != LCL_SUCCESS) {
        fprintf(stderr, "FAIL: lcl_context_create: %s\n", lcl_last_error());
        lcl_context_release(ctx);
        return 1;
    }
    static stress_worker workers[STRESS_THREADS];
    shared_run runs[STRESS_THREADS];
    pthread_t threads[STRESS_THREADS];
    double start = now_seconds();
    for (int t = 0; t < STRESS_THREADS; ++t) {
        worker_init(&workers[t], t, ctx, other);
        runs[t] = (shared_run){&workers[t], calls};
        if (pthread_create(&threads[t], NULL, shared_thread, &runs[t]) != 0) {
            fprintf(stderr, "FAIL: pthread_create\n");
            return 1;
        }
    }
    for (int t = 0; t < STRESS_THREADS; ++t)
        pthread_join(threads[t], NULL);
    int failed = report(workers, "shared context", lcl_context_device_name(ctx), now_seconds() - start);
    for (int t = 0; t < STRESS_THREADS; ++t)
        worker_free(&workers[t]);
    lcl_context_release(other);
    lcl_context_release(ctx);
    return failed;
}

/* ---- a context per thread ------------------------------------------------------------------ */

typedef struct own_run {
    stress_worker *w;
    size_t rounds, calls;
    pthread_barrier_t *start;
    const stress_entry *first; /* NULL, or the op every thread makes at once in each round */
} own_run;

static const stress_entry *op_named(const char *name) {
    for (size_t i = 0; i < stress_op_count; ++i)
        if (strcmp(stress_ops[i].name, name) == 0)
            return &stress_ops[i];
    return NULL;
}

/* One round: a fresh context, its first call of run->first made by every thread at the same
 * moment (where a library's process-wide state gets built), then the mixed calls. A thread
 * that failed still meets the others at the barrier, which every round has. */
static void own_round(own_run *run, size_t r, unsigned total) {
    stress_worker *w = run->w;
    int ready = !w->failed;
    if (ready && lcl_context_create(NULL, &w->ctx) != LCL_SUCCESS)
        ready = stress_fail(w, "round %zu: lcl_context_create: %s", r, lcl_last_error());
    ready = ready && arenas_create(w);
    if (run->first) {
        pthread_barrier_wait(run->start);
        if (ready)
            ready = run->first->run(w);
    }
    for (size_t k = 0; ready && k < run->calls && !w->failed; ++k)
        run_one(w, total);
    if (w->ctx)
        arenas_release(w);
    memset(w->arenas, 0, sizeof w->arenas);
    lcl_context_release(w->ctx);
    w->ctx = NULL;
}

static void *own_thread(void *arg) {
    own_run *run = arg;
    unsigned total = total_weight();
    pthread_barrier_wait(run->start);
    for (size_t r = 0; r < run->rounds && (run->first || !run->w->failed); ++r)
        own_round(run, r, total);
    return NULL;
}

static int stress_contexts(size_t rounds, size_t calls, const stress_entry *first) {
    lcl_context *other = NULL;
    if (lcl_context_create("cpu", &other) != LCL_SUCCESS)
        return 1;
    static stress_worker workers[STRESS_THREADS];
    own_run runs[STRESS_THREADS];
    pthread_t threads[STRESS_THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, STRESS_THREADS);
    double t0 = now_seconds();
    for (int t = 0; t < STRESS_THREADS; ++t) {
        worker_init(&workers[t], t, NULL, other);
        runs[t] = (own_run){&workers[t], rounds, calls, &start, first};
        if (pthread_create(&threads[t], NULL, own_thread, &runs[t]) != 0) {
            fprintf(stderr, "FAIL: pthread_create\n");
            return 1;
        }
    }
    for (int t = 0; t < STRESS_THREADS; ++t)
        pthread_join(threads[t], NULL);
    pthread_barrier_destroy(&start);
    const char *device = getenv("LEAKYCL_DEVICE");
    char what[96];
    snprintf(what, sizeof what, "context per thread (%zu rounds each%s%s)", rounds, first ? ", first call " : "",
             first ? first->name : "");
    int failed = report(workers, what, device && *device ? device : "auto", now_seconds() - t0);
    for (int t = 0; t < STRESS_THREADS; ++t)
        worker_free(&workers[t]);
    lcl_context_release(other);
    return failed;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "shared";
    (void)test_seed(); /* fixed before the threads start: they all read it */
    if (strcmp(mode, "shared") == 0)
        return stress_shared(env_count("LEAKYCL_STRESS_CALLS", 10000));
    if (strcmp(mode, "contexts") == 0)
        return stress_contexts(env_count("LEAKYCL_STRESS_ROUNDS", 4), env_count("LEAKYCL_STRESS_ROUND_CALLS", 50),
                               NULL);
    if (strcmp(mode, "first-dense") == 0)
        return stress_contexts(env_count("LEAKYCL_STRESS_ROUNDS", 4), env_count("LEAKYCL_STRESS_ROUND_CALLS", 0),
                               op_named("dense"));
    fprintf(stderr, "usage: %s [shared|contexts|first-dense]\n", argv[0]);
    return 2;
}
