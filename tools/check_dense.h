/* `leakycl check` for the dense layer (check_dense.c). */
#ifndef LEAKYCL_TOOLS_CHECK_DENSE_H
#define LEAKYCL_TOOLS_CHECK_DENSE_H

#include <stdint.h>

#include "leakycl.h"

struct dense_tally {
    unsigned passed;
    unsigned failed;
};

/* Checks lcl_dense_forward and lcl_dense_backward on ctx against ref (the CPU backend) for one
 * alpha, on data drawn from seed; prints a line per op and counts it in tally. */
void check_dense(lcl_context *ctx, lcl_context *ref, double alpha, uint64_t seed, struct dense_tally *tally);

#endif /* LEAKYCL_TOOLS_CHECK_DENSE_H */
