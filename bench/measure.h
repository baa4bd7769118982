/* Timing helpers of leakycl-bench. */
#ifndef LEAKYCL_BENCH_MEASURE_H
#define LEAKYCL_BENCH_MEASURE_H

#include <stddef.h>

#define BENCH_MAX_SAMPLES 31

/* Something to time: run() is repeated, then sync() waits for it all (NULL: run blocks). */
struct bench_work {
    int (*run)(void *arg);
    int (*sync)(void *arg);
    void *arg;
};

struct bench_timing {
    double target_seconds; /* per sample */
    int samples;
    long max_reps;
};

struct bench_stats {
    double median, min, max; /* seconds per run */
    int samples;
};

/* Seconds on a monotonic clock. */
double bench_now(void);
/* The median of samples[0, count) (count > 0); sorts them. */
double bench_median(double *samples, size_t count);
/* Returns 0, or -1 when the work failed (its message is in lcl_last_error() or on stderr). */
int bench_time(const struct bench_timing *cfg, const struct bench_work *w, struct bench_stats *out);

#endif
