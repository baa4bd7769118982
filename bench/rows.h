/* leakycl-bench's rows: what is measured (ops, views) and one measured point, with what each
 * row derives (rows.c). The leaf of bench/: the workloads, the report and the driver use it. */
#ifndef LEAKYCL_BENCH_ROWS_H
#define LEAKYCL_BENCH_ROWS_H

#include <stdbool.h>
#include <stddef.h>

#include "leakycl.h"

enum bench_op {
    BENCH_FORWARD,
    BENCH_BACKWARD,
    BENCH_BACKWARD_FROM_OUTPUT,
    /* extra.c: resident tensors only */
    BENCH_FORWARD_MASKED,    /* y and the sign mask */
    BENCH_BACKWARD_MASKED,   /* dx from the mask and dy */
    BENCH_PRELU_FORWARD,     /* [4, 16, n/64] */
    BENCH_PRELU_BACKWARD,    /* dx and dalpha */
    BENCH_BATCH_FORWARD,     /* one batch call of 4 items of n/4 (views of one buffer) */
    BENCH_BATCH_SMALL_ITEMS, /* one batch call of 1,000 items of 1,024 (n = 1,024,000 only) */
    BENCH_CALLS_SMALL_ITEMS, /* the same 1,000 items as 1,000 lcl_forward calls */
    BENCH_OP_COUNT
};
/* The first op measured by extra.c, and the size of the small-items rows. */
#define BENCH_FIRST_EXTRA_OP BENCH_FORWARD_MASKED
#define BENCH_SMALL_ITEMS 1000
#define BENCH_SMALL_ITEM_N 1024
enum bench_view { BENCH_RESIDENT, BENCH_OFFLOAD, BENCH_VIEW_COUNT };

/* One measured point. */
struct bench_row {
    char device[96]; /* the spec that selects it: "cpu", "opencl:0:0" */
    char device_name[96];
    enum bench_view view;
    enum bench_op op;
    lcl_dtype dtype;
    size_t n;
    size_t bytes;   /* what the op must move: its floor */
    double seconds; /* median per op */
    double spread;  /* (max - min) / median over the samples */
    int samples;
    double copy_seconds; /* the device's own copy of the same bytes (resident view), median */
    double cpu_seconds;  /* the CPU backend on the same point, 0 if not measured */
    /* Offload rows on OpenCL devices: one array of n elements moved between pinned host memory
     * and the device, each way (median); 0 if not measured. */
    double h2d_seconds, d2h_seconds;
};

struct bench_rows {
    struct bench_row *rows;
    size_t count;
    size_t capacity;
};

/* The names --ops takes, in op order. */
extern const char *const bench_op_names[BENCH_OP_COUNT];
const char *bench_op_name(enum bench_op op);
/* The bytes an op must move over n elements: its floor. */
size_t bench_op_bytes(enum bench_op op, lcl_dtype dtype, size_t n);
const char *bench_view_name(enum bench_view view);
double bench_gbps(const struct bench_row *r);
double bench_copy_share(const struct bench_row *r);
/* An offload row's share of what the bus allows: the slower direction's time for the arrays
 * the op moves in and out, over the op's time (0 if the transfers were not measured). */
double bench_bus_share(const struct bench_row *r);

#endif /* LEAKYCL_BENCH_ROWS_H */
