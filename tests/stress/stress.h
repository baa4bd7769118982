/* The thread stress test's parts: a worker (one thread, its own tensors, its random stream)
 * and the table of calls it mixes. See stress.c. */
#ifndef LEAKYCL_STRESS_H
#define LEAKYCL_STRESS_H

#include "common.h"

#include <stddef.h>

#define STRESS_ARENA 4096 /* elements per arena tensor, per dtype */
#define STRESS_MAX_N 700  /* elements per call at most */

/* A thread's tensors for one dtype: three arenas the calls take views of, and a mask. */
typedef struct stress_arenas {
    lcl_tensor *a, *b, *c;
    lcl_tensor *mask;
} stress_arenas;

typedef struct stress_worker {
    lcl_context *ctx;
    lcl_context *other; /* another context, for the calls that must be rejected */
    int id;
    test_rng rng;
    stress_arenas arenas[TEST_FLOAT_DTYPE_COUNT];
    /* Host scratch, room for STRESS_MAX_N f64 each. */
    void *x, *dy, *y, *want, *got, *extra;
    size_t checked; /* calls whose results (or rejection) were checked */
    int failed;
    char message[1600];
} stress_worker;

/* One kind of call: draws its arguments, makes the call(s), checks every result. Returns 0 on
 * a failure (after stress_fail), else 1. */
typedef int (*stress_op)(stress_worker *w);

typedef struct stress_entry {
    const char *name;
    stress_op run;
    unsigned weight;
} stress_entry;

extern const stress_entry stress_ops[];
extern const size_t stress_op_count;

/* Records the first failure of the worker; returns 0. */
int stress_fail(stress_worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* LEAKYCL_STRESS_H */
