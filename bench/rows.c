/* What a row of leakycl-bench derives: names, the bytes an op must move, GB/s and shares. */
#include "rows.h"

const char *const bench_op_names[BENCH_OP_COUNT] = {
    "forward",       "backward",       "backward_from_output", "forward_masked",    "backward_masked",
    "prelu_forward", "prelu_backward", "batch_forward",        "batch_small_items", "calls_small_items"};

const char *bench_op_name(enum bench_op op) { return (unsigned)op < BENCH_OP_COUNT ? bench_op_names[op] : "?"; }

const char *bench_view_name(enum bench_view view) { return view == BENCH_RESIDENT ? "resident" : "offload"; }

double bench_gbps(const struct bench_row *r) { return r->seconds > 0 ? (double)r->bytes / r->seconds / 1e9 : 0; }

double bench_copy_share(const struct bench_row *r) {
    if (r->copy_seconds <= 0 || r->seconds <= 0)
        return 0;
    double copy_gbps = 2.0 * (double)r->n * (double)lcl_dtype_size(r->dtype) / r->copy_seconds / 1e9;
    return bench_gbps(r) / copy_gbps;
}

double bench_bus_share(const struct bench_row *r) {
    if (r->view != BENCH_OFFLOAD || r->h2d_seconds <= 0 || r->d2h_seconds <= 0 || r->seconds <= 0)
        return 0;
    double arrays_in = r->op == BENCH_FORWARD ? 1 : 2;
    double in = arrays_in * r->h2d_seconds;
    return (in > r->d2h_seconds ? in : r->d2h_seconds) / r->seconds;
}

size_t bench_op_bytes(enum bench_op op, lcl_dtype dtype, size_t n) {
    size_t size = lcl_dtype_size(dtype);
    size_t mask = (n + 31) / 32 * 4;
    switch (op) {
    case BENCH_BACKWARD:
    case BENCH_BACKWARD_FROM_OUTPUT:
    case BENCH_PRELU_BACKWARD:
        return 3 * n * size;
    case BENCH_FORWARD_MASKED:
    case BENCH_BACKWARD_MASKED:
        return 2 * n * size + mask;
    default:
        return 2 * n * size;
    }
}
