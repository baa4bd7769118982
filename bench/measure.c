/* Timing: warm-up excluded, repetitions calibrated to a target time per sample, the median
 * and spread of several samples. Device work is timed from enqueue to lcl_finish/clFinish, so
 * a device op and the device's own copy are measured the same way. */
#include "measure.h"

#include <stdlib.h>
#include <time.h>

double bench_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *samples, size_t count) {
    qsort(samples, count, sizeof samples[0], compare_doubles);
    return count % 2 ? samples[count / 2] : 0.5 * (samples[count / 2 - 1] + samples[count / 2]);
}

/* Runs the work `reps` times and waits for it; returns seconds per run, or -1 on failure. */
static double timed_batch(const struct bench_work *w, long reps) {
    double start = bench_now();
    for (long r = 0; r < reps; ++r)
        if (w->run(w->arg) != 0)
            return -1;
    if (w->sync && w->sync(w->arg) != 0)
        return -1;
    return (bench_now() - start) / (double)reps;
}

int bench_time(const struct bench_timing *cfg, const struct bench_work *w, struct bench_stats *out) {
    if (timed_batch(w, 1) < 0) /* warm-up: first-use compiles, page faults */
        return -1;
    double once = timed_batch(w, 1);
    if (once < 0)
        return -1;
    long reps = once > 0 ? (long)(cfg->target_seconds / once) : cfg->max_reps;
    if (reps < 1)
        reps = 1;
    if (reps > cfg->max_reps)
        reps = cfg->max_reps;
    double samples[BENCH_MAX_SAMPLES];
    int count = cfg->samples < BENCH_MAX_SAMPLES ? cfg->samples : BENCH_MAX_SAMPLES;
    for (int s = 0; s < count; ++s)
        if ((samples[s] = timed_batch(w, reps)) < 0)
            return -1;
    out->median = bench_median(samples, (size_t)count);
    out->min = samples[0];
    out->max = samples[count - 1];
    out->samples = count;
    return 0;
}
