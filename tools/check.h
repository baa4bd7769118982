/* Internal to `leakycl check`: the data (check_data.c), the ops beyond the elementwise ones
 * (check_more.c) and what the command (cmd_check.c) shares with them. Results are compared bit
 * for bit with the CPU backend's (a NaN matches any NaN), which the tests check against their own
 * reference; PReLU's slope gradient against an fp64 sum. */
#ifndef LEAKYCL_TOOLS_CHECK_H
#define LEAKYCL_TOOLS_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "leakycl.h"

#define POISON_BYTE 0x5A

/* A storage format as bit patterns. */
struct format {
    lcl_dtype dtype;
    unsigned width;     /* bits per element */
    unsigned exp_bits;  /* exponent field */
    unsigned mant_bits; /* fraction field */
};
extern const struct format formats[];
#define FORMAT_COUNT 4
const struct format *format_of(lcl_dtype dtype);

uint64_t get_bits(const void *array, unsigned width, size_t i);
void set_bits(void *array, unsigned width, size_t i, uint64_t bits);
/* A double rounded to the storage format, as bits; and back, for messages. */
uint64_t encode(lcl_dtype dtype, double value);
double decode(lcl_dtype dtype, uint64_t bits);
/* n seeded random elements: every kind of value an activation or gradient can hold. */
void fill_random(const struct format *fmt, void *array, size_t n, uint64_t seed, const double *alphas,
                 size_t alpha_count);

/* How one array differs from another. */
struct diff {
    size_t mismatches;
    uint64_t max_ulp; /* UINT64_MAX: a NaN where a number was wanted, or the reverse */
    size_t first;     /* the first differing index */
};
void diff_add(struct diff *d, const struct format *fmt, size_t i, uint64_t got, uint64_t want);
const char *format_ulp(uint64_t ulp, char *buf, size_t size);
void print_value(const char *label, const struct format *fmt, uint64_t bits);

struct tally {
    unsigned passed;
    unsigned failed;
    unsigned skipped;
};

/* The buffers for one dtype: inputs, the forward output (y for backward_from_output), and the
 * device's and the CPU backend's outputs. */
struct arrays {
    void *x, *dy, *y, *dev, *cpu;
};

/* Batches, the sign mask, PReLU and its slope gradient for one dtype and alpha; a line each. */
void check_more(lcl_context *ctx, lcl_context *ref, const struct format *fmt, double alpha, size_t n,
                const struct arrays *arr, struct tally *tally);

#endif /* LEAKYCL_TOOLS_CHECK_H */
