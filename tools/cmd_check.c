/*
 * `leakycl check`: runs every op for every dtype the device supports on seeded random data that
 * mixes signs, magnitudes and special values, and compares each result bit for bit (a NaN
 * matches any NaN) with the CPU backend's and with the formula evaluated here, element by element.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_dense.h"
#include "cli.h"

#define MAX_ALPHAS 16
#define DEFAULT_N 1000003u
#define DEFAULT_SEED 1u
#define POISON_BYTE 0x5A

static const char check_usage[] =
    "usage: leakycl check [--device SPEC] [--n N] [--seed S] [--dtype D]... [--alpha A]...\n"
    "\n"
    "Runs forward, backward, backward_from_output, forward_host and backward_host on the device for\n"
    "every dtype it supports, on random data (signs, magnitudes, +-0, NaN, +-inf, subnormals,\n"
    "overflowing and underflowing products), and compares every element bit for bit with the CPU\n"
    "backend and with the formula (a NaN matches any NaN); backward_from_output with a negative\n"
    "alpha must be rejected. Then the same for forward_batch and backward_batch (7 uneven views of\n"
    "one buffer), forward_masked (and its bits against x > 0), backward_masked (from the mask\n"
    "alone), prelu_forward and prelu_backward ([n/15, 3, 5], slopes alpha, -alpha/2, 2 alpha), and\n"
    "prelu_dalpha against an fp64 sum (within 1e-5 of sum |dy x|, 1e-12 for f64). For f32, also\n"
    "dense_forward and dense_backward (67x129x35, any --n) against the CPU backend within a\n"
    "normwise relative error of 1e-5 (GEMMs are not bit-exact), with each backend's epilogue bit\n"
    "for bit f(z + b) of its own GEMM; a negative alpha's backward must be rejected. Prints one line\n"
    "per op, dtype and alpha; exits 1 if any differs or fails, 2 on a bad command line.\n"
    "\n"
    "options:\n"
    "  --device SPEC  auto, cpu, opencl, gpu or opencl:P:D (default: $LEAKYCL_DEVICE, else auto)\n"
    "  --n N          elements per array (default 1000003)\n"
    "  --seed S       seed of the random data (default 1)\n"
    "  --dtype D      f32, f16, bf16 or f64; repeat for several (default: all the device supports)\n"
    "  --alpha A      a finite slope; repeat for several (default: 0.01, 2.5 and -0.5)\n"
    "  -h, --help     show this text\n";

/* ---- the storage formats, as bit patterns ---------------------------------------------------- */

struct format {
    lcl_dtype dtype;
    unsigned width;     /* bits per element */
    unsigned exp_bits;  /* exponent field */
    unsigned mant_bits; /* fraction field */
};

static const struct format formats[] = {
    {LCL_F32, 32, 8, 23},
    {LCL_F16, 16, 5, 10},
    {LCL_BF16, 16, 8, 7},
    {LCL_F64, 64, 11, 52},
};
#define FORMAT_COUNT (sizeof formats / sizeof formats[0])

static const struct format *format_of(lcl_dtype dtype) {
    for (size_t i = 0; i < FORMAT_COUNT; i++) {
        if (formats[i].dtype == dtype) {
            return &formats[i];
        }
    }
    return &formats[0];
}

static uint64_t get_bits(const void *array, unsigned width, size_t i) {
    switch (width) {
    case 16:
        return ((const uint16_t *)array)[i];
    case 32:
        return ((const uint32_t *)array)[i];
    default:
        return ((const uint64_t *)array)[i];
    }
}

static void set_bits(void *array, unsigned width, size_t i, uint64_t bits) {
    switch (width) {
    case 16:
        ((uint16_t *)array)[i] = (uint16_t)bits;
        break;
    case 32:
        ((uint32_t *)array)[i] = (uint32_t)bits;
        break;
    default:
        ((uint64_t *)array)[i] = bits;
        break;
    }
}

static float f32_from_bits(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static uint32_t f32_bits(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

static double f64_from_bits(uint64_t bits) {
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static uint64_t f64_bits(double d) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return bits;
}

/* binary16 -> binary32, exact. */
static float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1f) {
        return f32_from_bits(sign | 0x7f800000u | (mant << 13));
    }
    if (exp == 0) {
        float value = ldexpf((float)mant, -24); /* subnormal or zero: mant * 2^-24, exact */
        return sign ? -value : value;
    }
    return f32_from_bits(sign | ((exp + 112u) << 23) | (mant << 13));
}

/* binary32 -> binary16, rounded to nearest even; subnormals kept; a NaN stays a (quiet) NaN. */
static uint16_t f32_to_f16(float f) {
    uint32_t x = f32_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) {
        return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
    }
    if (ax >= 0x477ff000u) { /* 65520 and up (the tie above 65504 rounds to even: inf) */
        return (uint16_t)(sign | 0x7c00u);
    }
    if (ax >= 0x38800000u) { /* a normal binary16: >= 2^-14 */
        uint32_t rounded = ax + 0xfffu + ((ax >> 13) & 1u) - 0x38000000u;
        return (uint16_t)(sign | (rounded >> 13));
    }
    /* A binary16 subnormal, m * 2^-24: adding 0.5 puts the m in the low fraction bits, and the
       addition rounds to nearest even. */
    float shifted = f32_from_bits(ax) + 0.5f;
    return (uint16_t)(sign | (f32_bits(shifted) - 0x3f000000u));
}

static float bf16_to_f32(uint16_t b) { return f32_from_bits((uint32_t)b << 16); }

/* binary32 -> bfloat16, rounded to nearest even; a NaN stays a (quiet) NaN. */
static uint16_t f32_to_bf16(float f) {
    uint32_t x = f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) {
        return (uint16_t)((x >> 16) | 0x40u);
    }
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

/* A double, rounded to the storage format, as bits (used for x = alpha in the data). */
static uint64_t encode(lcl_dtype dtype, double value) {
    switch (dtype) {
    case LCL_F16:
        return f32_to_f16((float)value);
    case LCL_BF16:
        return f32_to_bf16((float)value);
    case LCL_F64:
        return f64_bits(value);
    default:
        return f32_bits((float)value);
    }
}

/* The element as a double, for messages. */
static double decode(lcl_dtype dtype, uint64_t bits) {
    switch (dtype) {
    case LCL_F16:
        return f16_to_f32((uint16_t)bits);
    case LCL_BF16:
        return bf16_to_f32((uint16_t)bits);
    case LCL_F64:
        return f64_from_bits(bits);
    default:
        return f32_from_bits((uint32_t)bits);
    }
}

static int is_nan(const struct format *fmt, uint64_t bits) {
    uint64_t exp_mask = ((UINT64_C(1) << fmt->exp_bits) - 1) << fmt->mant_bits;
    uint64_t mant_mask = (UINT64_C(1) << fmt->mant_bits) - 1;
    return (bits & exp_mask) == exp_mask && (bits & mant_mask) != 0;
}

/* The distance in units in the last place between two non-NaN patterns, counting -0 and +0 as
 * one apart (they differ bit for bit); UINT64_MAX when one is a NaN and the other is not. */
static uint64_t ulp_distance(const struct format *fmt, uint64_t a, uint64_t b) {
    int nan_a = is_nan(fmt, a);
    int nan_b = is_nan(fmt, b);
    if (nan_a || nan_b) {
        return nan_a && nan_b ? 0 : UINT64_MAX;
    }
    uint64_t sign = UINT64_C(1) << (fmt->width - 1);
    uint64_t mag_a = a & (sign - 1);
    uint64_t mag_b = b & (sign - 1);
    /* Order the patterns on a line: +x -> x, -x -> -x - 1 (so -0 -> -1, +0 -> 0). */
    uint64_t ord_a = (a & sign) ? (uint64_t)0 - mag_a - 1 : mag_a;
    uint64_t ord_b = (b & sign) ? (uint64_t)0 - mag_b - 1 : mag_b;
    return (int64_t)ord_a >= (int64_t)ord_b ? ord_a - ord_b : ord_b - ord_a;
}

/* ---- the formula, as the contract states it -------------------------------------------------- */

/* out = v if sel > 0, else alpha * v: one multiply in the compute type (fp32 for F32, F16 and BF16,
 * fp64 for F64, alpha rounded to it first), rounded once to the storage type. Forward is
 * (sel, v) = (x, x); backward (x, dy); backward from the output (y, dy). */
static uint64_t formula(lcl_dtype dtype, double alpha, uint64_t sel, uint64_t v) {
    float a32 = (float)alpha;
    switch (dtype) {
    case LCL_F16:
        return f16_to_f32((uint16_t)sel) > 0.0f ? v : f32_to_f16(a32 * f16_to_f32((uint16_t)v));
    case LCL_BF16:
        return bf16_to_f32((uint16_t)sel) > 0.0f ? v : f32_to_bf16(a32 * bf16_to_f32((uint16_t)v));
    case LCL_F64:
        return f64_from_bits(sel) > 0.0 ? v : f64_bits(alpha * f64_from_bits(v));
    default:
        return f32_from_bits((uint32_t)sel) > 0.0f ? v : f32_bits(a32 * f32_from_bits((uint32_t)v));
    }
}

/* ---- random data ------------------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* One element: a mix of every kind of value an activation or gradient can hold, and of values
 * where the formula is delicate (x equal to +-alpha, products that overflow or go subnormal). */
static uint64_t random_element(const struct format *fmt, uint64_t *rng, const double *alphas, size_t alpha_count) {
    uint64_t r = splitmix64(rng);
    uint64_t bits = splitmix64(rng);
    unsigned kind = (unsigned)(r % 100);
    uint64_t sign = (r >> 32) & 1u;
    uint64_t exp_max = (UINT64_C(1) << fmt->exp_bits) - 1; /* inf / NaN */
    uint64_t bias = exp_max >> 1;
    uint64_t mant_mask = (UINT64_C(1) << fmt->mant_bits) - 1;
    uint64_t mant = bits & mant_mask;
    uint64_t exp;
    if (kind < 30) { /* any bit pattern */
        return fmt->width == 64 ? bits : bits & ((UINT64_C(1) << fmt->width) - 1);
    }
    if (kind < 60) { /* ordinary magnitudes, 2^-10 .. 2^10 */
        exp = bias - 10 + (r >> 40) % 21;
    } else if (kind < 65) { /* +-0 */
        exp = 0;
        mant = 0;
    } else if (kind < 68) { /* +-inf */
        exp = exp_max;
        mant = 0;
    } else if (kind < 72) { /* NaN, quiet or signalling, any payload */
        exp = exp_max;
        mant = mant != 0 ? mant : 1;
    } else if (kind < 82) { /* subnormal */
        exp = 0;
        mant = mant != 0 ? mant : 1;
    } else if (kind < 88) { /* the smallest normals: alpha * x goes subnormal */
        exp = 1 + (r >> 40) % 4;
    } else if (kind < 93) { /* the largest finite values: alpha > 1 overflows to inf */
        exp = exp_max - 1 - (r >> 40) % 3;
    } else { /* x = +-alpha, +-1 */
        size_t pick = (size_t)((r >> 40) % (alpha_count + 1));
        uint64_t value = encode(fmt->dtype, pick < alpha_count ? alphas[pick] : 1.0);
        uint64_t sign_bit = UINT64_C(1) << (fmt->width - 1);
        return sign ? value ^ sign_bit : value;
    }
    return (sign << (fmt->width - 1)) | (exp << fmt->mant_bits) | mant;
}

static void fill_random(const struct format *fmt, void *array, size_t n, uint64_t seed, const double *alphas,
                        size_t alpha_count) {
    uint64_t rng = seed;
    for (size_t i = 0; i < n; i++) {
        set_bits(array, fmt->width, i, random_element(fmt, &rng, alphas, alpha_count));
    }
}

/* ---- the ops ---------------------------------------------------------------------------------- */

enum op { OP_FORWARD, OP_BACKWARD, OP_BACKWARD_FROM_OUTPUT, OP_FORWARD_HOST, OP_BACKWARD_HOST };

static const struct {
    const char *name;
    const char *sel_name; /* the input the branch tests */
    enum op op;
    int has_dy;
} ops[] = {
    {"forward", "x", OP_FORWARD, 0},
    {"backward", "x", OP_BACKWARD, 1},
    {"backward_from_output", "y", OP_BACKWARD_FROM_OUTPUT, 1},
    {"forward_host", "x", OP_FORWARD_HOST, 0},
    {"backward_host", "x", OP_BACKWARD_HOST, 1},
};
#define OP_COUNT (sizeof ops / sizeof ops[0])

/* Runs one op on @p ctx: @p a is x (or y), @p b is dy (or NULL); @p out, poisoned first, receives
 * the result. Tensors are created, filled and released here. */
static lcl_status run_op(lcl_context *ctx, enum op op, lcl_dtype dtype, size_t n, double alpha, const void *a,
                         const void *b, void *out) {
    size_t bytes = n * lcl_dtype_size(dtype);
    memset(out, POISON_BYTE, bytes);
    if (op == OP_FORWARD_HOST) {
        return lcl_forward_host(ctx, dtype, n, alpha, a, out);
    }
    if (op == OP_BACKWARD_HOST) {
        return lcl_backward_host(ctx, dtype, n, alpha, a, b, out);
    }
    lcl_tensor *ta = NULL;
    lcl_tensor *tb = NULL;
    lcl_tensor *tout = NULL;
    lcl_status status = lcl_tensor_create(ctx, dtype, n, &ta);
    if (status == LCL_SUCCESS) {
        status = lcl_tensor_write(ta, a);
    }
    if (status == LCL_SUCCESS && b != NULL) {
        status = lcl_tensor_create(ctx, dtype, n, &tb);
        if (status == LCL_SUCCESS) {
            status = lcl_tensor_write(tb, b);
        }
    }
    if (status == LCL_SUCCESS) {
        status = lcl_tensor_create(ctx, dtype, n, &tout);
    }
    if (status == LCL_SUCCESS) {
        status = lcl_tensor_write(tout, out); /* the poison: every element must be written */
    }
    if (status == LCL_SUCCESS) {
        switch (op) {
        case OP_FORWARD:
            status = lcl_forward(ctx, alpha, ta, tout);
            break;
        case OP_BACKWARD:
            status = lcl_backward(ctx, alpha, ta, tb, tout);
            break;
        default:
            status = lcl_backward_from_output(ctx, alpha, ta, tb, tout);
            break;
        }
    }
    if (status == LCL_SUCCESS) {
        status = lcl_tensor_read(tout, out);
    }
    lcl_tensor_release(tout);
    lcl_tensor_release(tb);
    lcl_tensor_release(ta);
    return status;
}

/* How one array differs from another. */
struct diff {
    size_t mismatches;
    uint64_t max_ulp; /* UINT64_MAX: a NaN where a number was wanted, or the reverse */
    size_t first;     /* the first differing index */
};

static void diff_add(struct diff *d, const struct format *fmt, size_t i, uint64_t got, uint64_t want) {
    if (got == want || (is_nan(fmt, got) && is_nan(fmt, want))) {
        return;
    }
    uint64_t ulp = ulp_distance(fmt, got, want);
    if (d->mismatches == 0) {
        d->first = i;
    }
    d->mismatches++;
    if (ulp > d->max_ulp) {
        d->max_ulp = ulp;
    }
}

static const char *format_ulp(uint64_t ulp, char *buf, size_t size) {
    if (ulp == UINT64_MAX) {
        snprintf(buf, size, "NaN vs number");
    } else {
        snprintf(buf, size, "%" PRIu64 " ulp", ulp);
    }
    return buf;
}

static void print_value(const char *label, const struct format *fmt, uint64_t bits) {
    printf(" %s=%.17g (0x%0*" PRIx64 ")", label, decode(fmt->dtype, bits), (int)(fmt->width / 4), bits);
}

/* Prints the line for one differing pair, naming the first index, the inputs and both values. */
static void print_diff(const char *what, const char *got_name, const char *want_name, const struct diff *d, size_t n,
                       const struct format *fmt, size_t op_index, const void *a, const void *b, const void *got,
                       const void *want) {
    char ulp[32];
    printf("      %s: %zu of %zu elements differ, max diff %s; first at [%zu]:", what, d->mismatches, n,
           format_ulp(d->max_ulp, ulp, sizeof ulp), d->first);
    print_value(ops[op_index].sel_name, fmt, get_bits(a, fmt->width, d->first));
    if (ops[op_index].has_dy) {
        print_value("dy", fmt, get_bits(b, fmt->width, d->first));
    }
    print_value(got_name, fmt, get_bits(got, fmt->width, d->first));
    print_value(want_name, fmt, get_bits(want, fmt->width, d->first));
    printf("\n");
}

/* ---- the command ------------------------------------------------------------------------------ */

struct check_options {
    const char *device;
    uint64_t n;
    uint64_t seed;
    lcl_dtype dtypes[FORMAT_COUNT];
    size_t dtype_count;
    double alphas[MAX_ALPHAS];
    size_t alpha_count;
};

static int parse_options(int argc, char **argv, struct check_options *opt) {
    memset(opt, 0, sizeof *opt);
    opt->n = DEFAULT_N;
    opt->seed = DEFAULT_SEED;
    for (int i = 1; i < argc; i++) {
        const char *value = NULL;
        int found;
        if ((found = cli_option(argc, argv, &i, "check", "--device", &value)) != 0) {
            if (found < 0) {
                return -1;
            }
            if (value[0] == '\0') {
                cli_error("check: --device wants a spec (auto, cpu, opencl, gpu, opencl:P:D)");
                return -1;
            }
            opt->device = value;
        } else if ((found = cli_option(argc, argv, &i, "check", "--n", &value)) != 0) {
            if (found < 0 || cli_parse_u64("check", "--n", value, UINT64_C(1) << 40, &opt->n) != 0) {
                return -1;
            }
        } else if ((found = cli_option(argc, argv, &i, "check", "--seed", &value)) != 0) {
            if (found < 0 || cli_parse_u64("check", "--seed", value, UINT64_MAX, &opt->seed) != 0) {
                return -1;
            }
        } else if ((found = cli_option(argc, argv, &i, "check", "--dtype", &value)) != 0) {
            lcl_dtype dtype;
            if (found < 0 || cli_parse_dtype("check", "--dtype", value, &dtype) != 0) {
                return -1;
            }
            int seen = 0;
            for (size_t k = 0; k < opt->dtype_count; k++) {
                seen |= opt->dtypes[k] == dtype;
            }
            if (!seen) {
                opt->dtypes[opt->dtype_count++] = dtype;
            }
        } else if ((found = cli_option(argc, argv, &i, "check", "--alpha", &value)) != 0) {
            double alpha;
            if (found < 0 || cli_parse_double("check", "--alpha", value, &alpha) != 0) {
                return -1;
            }
            if (opt->alpha_count == MAX_ALPHAS) {
                cli_error("check: at most %d --alpha options", MAX_ALPHAS);
                return -1;
            }
            opt->alphas[opt->alpha_count++] = alpha;
        } else if (argv[i][0] == '-') {
            cli_error("check: unknown option '%s' (see 'leakycl check --help')", argv[i]);
            return -1;
        } else {
            cli_error("check: unexpected argument '%s' (see 'leakycl check --help')", argv[i]);
            return -1;
        }
    }
    if (opt->dtype_count == 0) {
        for (size_t k = 0; k < FORMAT_COUNT; k++) {
            opt->dtypes[opt->dtype_count++] = formats[k].dtype;
        }
    }
    if (opt->alpha_count == 0) {
        opt->alphas[0] = 0.01;
        opt->alphas[1] = 2.5;
        opt->alphas[2] = -0.5;
        opt->alpha_count = 3;
    }
    return 0;
}

struct tally {
    unsigned passed;
    unsigned failed;
    unsigned skipped;
};

/* The buffers for one dtype: inputs, the formula's forward output (y for backward_from_output),
 * and the device's and the CPU backend's outputs. */
struct arrays {
    void *x, *dy, *y, *dev, *cpu;
};

/* Checks one op for one dtype and alpha; prints its line. */
static void check_op(lcl_context *ctx, lcl_context *ref, const struct format *fmt, size_t op_index, double alpha,
                     size_t n, const struct arrays *arr, struct tally *tally) {
    enum op op = ops[op_index].op;
    const void *a = op == OP_BACKWARD_FROM_OUTPUT ? arr->y : arr->x;
    const void *b = ops[op_index].has_dy ? arr->dy : NULL;
    const char *dname = lcl_dtype_name(fmt->dtype);
    size_t bytes = n * lcl_dtype_size(fmt->dtype);

    if (op == OP_BACKWARD_FROM_OUTPUT && alpha < 0) {
        /* The contract: rejected with INVALID_ARGUMENT, and the output is left as it was. */
        memset(arr->cpu, POISON_BYTE, bytes);
        lcl_status status = run_op(ctx, op, fmt->dtype, n, alpha, a, b, arr->dev);
        int untouched = memcmp(arr->dev, arr->cpu, bytes) == 0;
        if (status == LCL_ERROR_INVALID_ARGUMENT && untouched) {
            printf("PASS  %-21s %-4s alpha=%-8g rejected as it should be (LCL_ERROR_INVALID_ARGUMENT)\n",
                   ops[op_index].name, dname, alpha);
            tally->passed++;
        } else {
            printf("FAIL  %-21s %-4s alpha=%-8g wanted LCL_ERROR_INVALID_ARGUMENT and the output untouched, "
                   "got %s%s\n",
                   ops[op_index].name, dname, alpha, lcl_status_string(status),
                   untouched ? "" : " and a changed output");
            tally->failed++;
        }
        return;
    }

    lcl_status status = run_op(ctx, op, fmt->dtype, n, alpha, a, b, arr->dev);
    if (status != LCL_SUCCESS) {
        printf("FAIL  %-21s %-4s alpha=%-8g device: %s: %s\n", ops[op_index].name, dname, alpha,
               lcl_status_string(status), lcl_last_error());
        tally->failed++;
        return;
    }
    status = run_op(ref, op, fmt->dtype, n, alpha, a, b, arr->cpu);
    if (status != LCL_SUCCESS) {
        printf("FAIL  %-21s %-4s alpha=%-8g CPU backend: %s: %s\n", ops[op_index].name, dname, alpha,
               lcl_status_string(status), lcl_last_error());
        tally->failed++;
        return;
    }

    struct diff vs_cpu = {0, 0, 0};
    struct diff cpu_vs_formula = {0, 0, 0};
    void *want = malloc(bytes > 0 ? bytes : 1); /* the formula's result, for messages */
    if (want == NULL) {
        printf("FAIL  %-21s %-4s alpha=%-8g out of memory\n", ops[op_index].name, dname, alpha);
        tally->failed++;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t sel = get_bits(a, fmt->width, i);
        uint64_t v = b != NULL ? get_bits(b, fmt->width, i) : sel;
        uint64_t expected = formula(fmt->dtype, alpha, sel, v);
        uint64_t cpu_bits = get_bits(arr->cpu, fmt->width, i);
        set_bits(want, fmt->width, i, expected);
        diff_add(&vs_cpu, fmt, i, get_bits(arr->dev, fmt->width, i), cpu_bits);
        diff_add(&cpu_vs_formula, fmt, i, cpu_bits, expected);
    }
    int pass = vs_cpu.mismatches == 0 && cpu_vs_formula.mismatches == 0;
    char ulp[32];
    printf("%s  %-21s %-4s alpha=%-8g %zu elements, max diff %s\n", pass ? "PASS" : "FAIL", ops[op_index].name, dname,
           alpha, n, format_ulp(vs_cpu.max_ulp, ulp, sizeof ulp));
    if (vs_cpu.mismatches != 0) {
        print_diff("device vs CPU backend", "device", "cpu", &vs_cpu, n, fmt, op_index, a, b, arr->dev, arr->cpu);
    }
    if (cpu_vs_formula.mismatches != 0) {
        print_diff("CPU backend vs formula", "cpu", "formula", &cpu_vs_formula, n, fmt, op_index, a, b, arr->cpu, want);
    }
    free(want);
    if (pass) {
        tally->passed++;
    } else {
        tally->failed++;
    }
}

/* ---- batches, the sign mask and PReLU --------------------------------------------------------- */

/* Ops beyond the elementwise ones, checked the same way: bit for bit against the CPU backend and
 * the formula (PReLU's with each element's channel slope); the masked forward's bits against
 * x > 0; PReLU's dalpha against an fp64 sum. */
enum more_op {
    MORE_FORWARD_BATCH,
    MORE_BACKWARD_BATCH,
    MORE_FORWARD_MASKED,
    MORE_BACKWARD_MASKED,
    MORE_PRELU_FORWARD,
    MORE_PRELU_BACKWARD,
    MORE_OP_COUNT
};

static const char *const more_names[MORE_OP_COUNT] = {"forward_batch",   "backward_batch", "forward_masked",
                                                      "backward_masked", "prelu_forward",  "prelu_backward"};

/* Batch items: n cut into BATCH_ITEMS views of one buffer, of uneven sizes. */
#define BATCH_ITEMS 7
/* PReLU's shape: [n / (3 * 5), 3, 5] over the first multiple of 15 elements. */
#define PRELU_CHANNELS 3
#define PRELU_INNER 5

/* Channel c's slope, as its storage type holds it: alpha, -alpha / 2, 2 * alpha. */
static double prelu_slope(lcl_dtype dtype, double alpha, size_t c) {
    static const double scale[PRELU_CHANNELS] = {1.0, -0.5, 2.0};
    return decode(dtype, encode(dtype, alpha * scale[c]));
}

static size_t more_count(enum more_op op, size_t n) {
    return op >= MORE_PRELU_FORWARD ? n / (PRELU_CHANNELS * PRELU_INNER) * (PRELU_CHANNELS * PRELU_INNER) : n;
}

/* Tensors of one run, released together. */
struct more_tensors {
    lcl_tensor *x, *dy, *out, *mask, *alpha, *dalpha;
    lcl_tensor *vx[BATCH_ITEMS], *vdy[BATCH_ITEMS], *vout[BATCH_ITEMS];
};

static void more_release(struct more_tensors *t) {
    lcl_tensor *all[] = {t->x, t->dy, t->out, t->mask, t->alpha, t->dalpha};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        lcl_tensor_release(all[i]);
    }
    for (size_t k = 0; k < BATCH_ITEMS; k++) {
        lcl_tensor_release(t->vx[k]);
        lcl_tensor_release(t->vdy[k]);
        lcl_tensor_release(t->vout[k]);
    }
}

static lcl_status tensor_from(lcl_context *ctx, lcl_dtype dtype, size_t n, const void *src, lcl_tensor **t) {
    lcl_status status = lcl_tensor_create(ctx, dtype, n, t);
    if (status == LCL_SUCCESS && src != NULL) {
        status = lcl_tensor_write(*t, src);
    }
    return status;
}

static lcl_status run_batch(lcl_context *ctx, enum more_op op, lcl_dtype dtype, size_t n, double alpha,
                            struct more_tensors *t) {
    double alphas[BATCH_ITEMS];
    size_t at = 0;
    lcl_status status = LCL_SUCCESS;
    for (size_t k = 0; k < BATCH_ITEMS && status == LCL_SUCCESS; k++) {
        /* Sizes grow with k: 1, 2, ... 7 parts of n / 28, the last takes the rest. */
        size_t size = k + 1 < BATCH_ITEMS ? n / 28 * (k + 1) : n - at;
        alphas[k] = alpha;
        status = lcl_tensor_view(t->x, at, size, &t->vx[k]);
        if (status == LCL_SUCCESS) {
            status = lcl_tensor_view(t->dy, at, size, &t->vdy[k]);
        }
        if (status == LCL_SUCCESS) {
            status = lcl_tensor_view(t->out, at, size, &t->vout[k]);
        }
        at += size;
    }
    (void)dtype;
    if (status != LCL_SUCCESS) {
        return status;
    }
    if (op == MORE_FORWARD_BATCH) {
        return lcl_forward_batch(ctx, BATCH_ITEMS, alphas, (const lcl_tensor *const *)t->vx, t->vout);
    }
    return lcl_backward_batch(ctx, BATCH_ITEMS, alphas, (const lcl_tensor *const *)t->vx,
                              (const lcl_tensor *const *)t->vdy, t->vout);
}

/* Runs one op on ctx: x and dy in, `out` (poisoned first) gets y or dx, `mask` (if not NULL) the
 * masked forward's words, `dalpha` (if not NULL) PReLU's slope gradient. */
static lcl_status run_more(lcl_context *ctx, enum more_op op, lcl_dtype dtype, size_t n, double alpha, const void *x,
                           const void *dy, void *out, void *mask, void *dalpha) {
    struct more_tensors t;
    memset(&t, 0, sizeof t);
    memset(out, POISON_BYTE, n * lcl_dtype_size(dtype));
    lcl_status status = tensor_from(ctx, dtype, n, x, &t.x);
    if (status == LCL_SUCCESS) {
        status = tensor_from(ctx, dtype, n, dy, &t.dy);
    }
    if (status == LCL_SUCCESS) {
        status = tensor_from(ctx, dtype, n, out, &t.out);
    }
    if (status == LCL_SUCCESS) {
        status = lcl_tensor_create(ctx, LCL_MASK, n, &t.mask);
    }
    if (status == LCL_SUCCESS && op >= MORE_PRELU_FORWARD) {
        unsigned char slopes[PRELU_CHANNELS * 8];
        const struct format *fmt = format_of(dtype);
        for (size_t c = 0; c < PRELU_CHANNELS; c++) {
            set_bits(slopes, fmt->width, c, encode(dtype, prelu_slope(dtype, alpha, c)));
        }
        status = tensor_from(ctx, dtype, PRELU_CHANNELS, slopes, &t.alpha);
        if (status == LCL_SUCCESS) {
            status = tensor_from(ctx, dtype, PRELU_CHANNELS, NULL, &t.dalpha);
        }
    }
    if (status == LCL_SUCCESS) {
        switch (op) {
        case MORE_FORWARD_BATCH:
        case MORE_BACKWARD_BATCH:
            status = run_batch(ctx, op, dtype, n, alpha, &t);
            break;
        case MORE_FORWARD_MASKED:
            status = lcl_forward_masked(ctx, alpha, t.x, t.out, t.mask);
            break;
        case MORE_BACKWARD_MASKED:
            /* The mask comes from x, then dx from the mask and dy alone. */
            status = lcl_forward_masked(ctx, alpha, t.x, t.out, t.mask);
            if (status == LCL_SUCCESS) {
                status = lcl_tensor_write(t.out, out);
            }
            if (status == LCL_SUCCESS) {
                status = lcl_backward_masked(ctx, alpha, t.mask, t.dy, t.out);
            }
            break;
        case MORE_PRELU_FORWARD:
            status = lcl_prelu_forward(ctx, PRELU_CHANNELS, PRELU_INNER, t.alpha, t.x, t.out);
            break;
        default:
            status = lcl_prelu_backward(ctx, PRELU_CHANNELS, PRELU_INNER, t.alpha, t.x, t.dy, t.out, t.dalpha);
            break;
        }
    }
    if (status == LCL_SUCCESS) {
        status = lcl_tensor_read(t.out, out);
    }
    if (status == LCL_SUCCESS && mask != NULL) {
        status = lcl_tensor_read(t.mask, mask);
    }
    if (status == LCL_SUCCESS && dalpha != NULL && t.dalpha != NULL) {
        status = lcl_tensor_read(t.dalpha, dalpha);
    }
    more_release(&t);
    return status;
}

/* x and dy with every element brought to a magnitude of at most 1 (a NaN or infinity becomes
 * +-0.5, a larger value its mantissa in [0.5, 1)): PReLU's slope gradient then stays finite,
 * even in fp16, and comparable with fp64. */
static void finite_copy(const struct format *fmt, const void *src, void *dst, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint64_t bits = get_bits(src, fmt->width, i);
        double v = decode(fmt->dtype, bits);
        if (!isfinite(v)) {
            bits = encode(fmt->dtype, v < 0 ? -0.5 : 0.5);
        } else if (fabs(v) > 1) {
            int exponent;
            bits = encode(fmt->dtype, frexp(v, &exponent));
        }
        set_bits(dst, fmt->width, i, bits);
    }
}

/* dalpha from both backends against an fp64 sum: within 1e-5 (fp64: 1e-12) of sum |dy x|, plus
 * the rounding into the storage type. Prints one line. */
static void check_dalpha(lcl_context *ctx, lcl_context *ref, const struct format *fmt, double alpha, size_t n,
                         const struct arrays *arr, struct tally *tally) {
    size_t count = more_count(MORE_PRELU_BACKWARD, n);
    size_t bytes = count * lcl_dtype_size(fmt->dtype);
    void *x = malloc(bytes > 0 ? bytes : 1);
    void *dy = malloc(bytes > 0 ? bytes : 1);
    unsigned char got[2][PRELU_CHANNELS * 8];
    lcl_context *ctxs[2] = {ctx, ref};
    const char *dname = lcl_dtype_name(fmt->dtype);
    lcl_status status = x != NULL && dy != NULL ? LCL_SUCCESS : LCL_ERROR_OUT_OF_MEMORY;
    if (status == LCL_SUCCESS) {
        finite_copy(fmt, arr->x, x, count);
        finite_copy(fmt, arr->dy, dy, count);
    }
    for (int k = 0; k < 2 && status == LCL_SUCCESS; k++) {
        status = run_more(ctxs[k], MORE_PRELU_BACKWARD, fmt->dtype, count, alpha, x, dy, arr->dev, NULL, got[k]);
    }
    if (status != LCL_SUCCESS) {
        printf("FAIL  %-21s %-4s alpha=%-8g %s: %s\n", "prelu_dalpha", dname, alpha, lcl_status_string(status),
               status == LCL_ERROR_OUT_OF_MEMORY ? "out of memory" : lcl_last_error());
        tally->failed++;
        free(x);
        free(dy);
        return;
    }
    double sum[PRELU_CHANNELS] = {0}, sum_abs[PRELU_CHANNELS] = {0};
    for (size_t i = 0; i < count; i++) {
        double v = decode(fmt->dtype, get_bits(x, fmt->width, i));
        if (!(v > 0)) {
            double p = v * decode(fmt->dtype, get_bits(dy, fmt->width, i));
            sum[i / PRELU_INNER % PRELU_CHANNELS] += p;
            sum_abs[i / PRELU_INNER % PRELU_CHANNELS] += fabs(p);
        }
    }
    double tol = fmt->dtype == LCL_F64 ? 1e-12 : 1e-5;
    double worst = 0; /* the largest error as a share of its bound */
    for (int k = 0; k < 2; k++) {
        for (size_t c = 0; c < PRELU_CHANNELS; c++) {
            double d = decode(fmt->dtype, get_bits(got[k], fmt->width, c));
            double bound = tol * sum_abs[c] + fabs(sum[c]) * ldexp(1.0, -(int)fmt->mant_bits - 1) + 1e-300;
            double rounded = decode(fmt->dtype, encode(fmt->dtype, sum[c])); /* an infinity if it overflows */
            double share = isinf(rounded) ? (d == rounded ? 0 : INFINITY) : fabs(d - sum[c]) / bound;
            worst = share > worst || isnan(share) ? share : worst;
        }
    }
    int pass = worst <= 1.0;
    printf("%s  %-21s %-4s alpha=%-8g %zu elements, device and CPU within %.2g of the bound (1e%d * sum|dy x|)\n",
           pass ? "PASS" : "FAIL", "prelu_dalpha", dname, alpha, count, worst, fmt->dtype == LCL_F64 ? -12 : -5);
    if (!pass) {
        for (int k = 0; k < 2; k++) {
            printf("      %s:", k == 0 ? "device" : "cpu");
            for (size_t c = 0; c < PRELU_CHANNELS; c++) {
                printf(" dalpha[%zu]=%.17g", c, decode(fmt->dtype, get_bits(got[k], fmt->width, c)));
            }
            printf("\n");
        }
        printf("      fp64: dalpha = %.17g %.17g %.17g\n", sum[0], sum[1], sum[2]);
    }
    if (pass) {
        tally->passed++;
    } else {
        tally->failed++;
    }
    free(x);
    free(dy);
}

/* Checks one of the ops above for one dtype and alpha; prints its line. */
static void check_more_op(lcl_context *ctx, lcl_context *ref, const struct format *fmt, enum more_op op, double alpha,
                          size_t n, const struct arrays *arr, struct tally *tally) {
    size_t count = more_count(op, n);
    int backward = op == MORE_BACKWARD_BATCH || op == MORE_BACKWARD_MASKED || op == MORE_PRELU_BACKWARD;
    int masked = op == MORE_FORWARD_MASKED;
    const char *dname = lcl_dtype_name(fmt->dtype);
    size_t words = count / 32 + (count % 32 != 0);
    uint32_t *dev_mask = masked ? malloc((words > 0 ? words : 1) * sizeof *dev_mask) : NULL;
    if (masked && dev_mask == NULL) {
        printf("FAIL  %-21s %-4s alpha=%-8g out of memory\n", more_names[op], dname, alpha);
        tally->failed++;
        return;
    }
    lcl_status status = run_more(ctx, op, fmt->dtype, count, alpha, arr->x, arr->dy, arr->dev, dev_mask, NULL);
    const char *who = "device";
    if (status == LCL_SUCCESS) {
        who = "CPU backend";
        status = run_more(ref, op, fmt->dtype, count, alpha, arr->x, arr->dy, arr->cpu, NULL, NULL);
    }
    if (status != LCL_SUCCESS) {
        printf("FAIL  %-21s %-4s alpha=%-8g %s: %s: %s\n", more_names[op], dname, alpha, who, lcl_status_string(status),
               lcl_last_error());
        tally->failed++;
        free(dev_mask);
        return;
    }
    struct diff vs_cpu = {0, 0, 0};
    struct diff vs_formula = {0, 0, 0};
    size_t bad_bits = 0;
    size_t first_bad_bit = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t x = get_bits(arr->x, fmt->width, i);
        uint64_t v = backward ? get_bits(arr->dy, fmt->width, i) : x;
        double a = op >= MORE_PRELU_FORWARD ? prelu_slope(fmt->dtype, alpha, i / PRELU_INNER % PRELU_CHANNELS) : alpha;
        uint64_t dev = get_bits(arr->dev, fmt->width, i);
        diff_add(&vs_cpu, fmt, i, dev, get_bits(arr->cpu, fmt->width, i));
        diff_add(&vs_formula, fmt, i, dev, formula(fmt->dtype, a, x, v));
        if (masked && (int)((dev_mask[i / 32] >> (i % 32)) & 1u) != (decode(fmt->dtype, x) > 0) && bad_bits++ == 0) {
            first_bad_bit = i;
        }
    }
    int pass = vs_cpu.mismatches == 0 && vs_formula.mismatches == 0 && bad_bits == 0;
    char ulp[32];
    printf("%s  %-21s %-4s alpha=%-8g %zu elements, max diff %s%s\n", pass ? "PASS" : "FAIL", more_names[op], dname,
           alpha, count,
           format_ulp(vs_cpu.max_ulp > vs_formula.max_ulp ? vs_cpu.max_ulp : vs_formula.max_ulp, ulp, sizeof ulp),
           masked ? ", mask bits = (x > 0)" : "");
    const struct diff *diffs[2] = {&vs_cpu, &vs_formula};
    for (int k = 0; k < 2; k++) {
        if (diffs[k]->mismatches != 0) {
            size_t i = diffs[k]->first;
            printf("      device vs %s: %zu of %zu elements differ; first at [%zu]:", k ? "formula" : "CPU backend",
                   diffs[k]->mismatches, count, i);
            print_value("x", fmt, get_bits(arr->x, fmt->width, i));
            if (backward) {
                print_value("dy", fmt, get_bits(arr->dy, fmt->width, i));
            }
            print_value("device", fmt, get_bits(arr->dev, fmt->width, i));
            if (k == 0) {
                print_value("cpu", fmt, get_bits(arr->cpu, fmt->width, i));
            }
            printf("\n");
        }
    }
    if (bad_bits != 0) {
        printf("      mask: %zu of %zu bits differ from x > 0; first at [%zu]:", bad_bits, count, first_bad_bit);
        print_value("x", fmt, get_bits(arr->x, fmt->width, first_bad_bit));
        printf(" bit=%u\n", (unsigned)((dev_mask[first_bad_bit / 32] >> (first_bad_bit % 32)) & 1u));
    }
    free(dev_mask);
    if (pass) {
        tally->passed++;
    } else {
        tally->failed++;
    }
}

/* Checks every op and alpha for one dtype. Returns 0, or -1 when out of memory. */
static int check_dtype(lcl_context *ctx, lcl_context *ref, const struct format *fmt, const struct check_options *opt,
                       struct tally *tally) {
    size_t n = (size_t)opt->n;
    size_t bytes = n * lcl_dtype_size(fmt->dtype);
    size_t alloc = bytes > 0 ? bytes : 1;
    struct arrays arr = {malloc(alloc), malloc(alloc), malloc(alloc), malloc(alloc), malloc(alloc)};
    int rc = 0;
    if (arr.x == NULL || arr.dy == NULL || arr.y == NULL || arr.dev == NULL || arr.cpu == NULL) {
        cli_error("check: out of memory for %zu %s elements", n, lcl_dtype_name(fmt->dtype));
        rc = -1;
        goto cleanup;
    }
    /* Each dtype and array has its own stream, so --dtype picks the same data as the default. */
    fill_random(fmt, arr.x, n, opt->seed ^ (UINT64_C(0x100) * (uint64_t)fmt->dtype), opt->alphas, opt->alpha_count);
    fill_random(fmt, arr.dy, n, opt->seed ^ (UINT64_C(0x100) * (uint64_t)fmt->dtype + 1), opt->alphas,
                opt->alpha_count);
    for (size_t k = 0; k < opt->alpha_count; k++) {
        double alpha = opt->alphas[k];
        for (size_t i = 0; i < n; i++) {
            uint64_t x = get_bits(arr.x, fmt->width, i);
            set_bits(arr.y, fmt->width, i, formula(fmt->dtype, alpha, x, x));
        }
        for (size_t o = 0; o < OP_COUNT; o++) {
            check_op(ctx, ref, fmt, o, alpha, n, &arr, tally);
        }
        for (int o = 0; o < MORE_OP_COUNT; o++) {
            check_more_op(ctx, ref, fmt, (enum more_op)o, alpha, n, &arr, tally);
        }
        check_dalpha(ctx, ref, fmt, alpha, n, &arr, tally);
        if (fmt->dtype == LCL_F32) {
            struct dense_tally dense = {0, 0};
            check_dense(ctx, ref, alpha, opt->seed, &dense);
            tally->passed += dense.passed;
            tally->failed += dense.failed;
        }
    }
cleanup:
    free(arr.x);
    free(arr.dy);
    free(arr.y);
    free(arr.dev);
    free(arr.cpu);
    return rc;
}

static double now_seconds(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int check_run(int argc, char **argv) {
    struct check_options opt;
    if (parse_options(argc, argv, &opt) != 0) {
        return CLI_EXIT_USAGE;
    }
    if (opt.n > SIZE_MAX / sizeof(double)) {
        cli_error("check: --n %" PRIu64 " is too large for this machine", opt.n);
        return CLI_EXIT_USAGE;
    }

    lcl_context *ctx = NULL;
    lcl_status status = lcl_context_create(opt.device, &ctx);
    if (status != LCL_SUCCESS) {
        const char *env = getenv("LEAKYCL_DEVICE");
        const char *spec = opt.device != NULL ? opt.device : env != NULL && env[0] != '\0' ? env : "auto";
        cli_error("check: cannot open device '%s': %s: %s", spec, lcl_status_string(status), lcl_last_error());
        return status == LCL_ERROR_INVALID_ARGUMENT ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
    }
    lcl_context *ref = NULL;
    status = lcl_context_create("cpu", &ref);
    if (status != LCL_SUCCESS) {
        cli_error("check: cannot open the CPU backend: %s: %s", lcl_status_string(status), lcl_last_error());
        lcl_context_release(ctx);
        return CLI_EXIT_FAILURE;
    }

    char spec[256];
    const char *env = getenv("LEAKYCL_DEVICE");
    if (opt.device != NULL) {
        snprintf(spec, sizeof spec, "%s", opt.device);
    } else if (env != NULL && env[0] != '\0') {
        snprintf(spec, sizeof spec, "LEAKYCL_DEVICE=%s", env);
    } else {
        snprintf(spec, sizeof spec, "default: auto");
    }
    if (lcl_context_backend(ctx) == LCL_BACKEND_OPENCL) {
        printf("device:    %s (OpenCL; spec %s)\n", lcl_context_device_name(ctx), spec);
    } else {
        printf("device:    %s (spec %s)\n", lcl_context_device_name(ctx), spec);
    }
    printf("reference: %s, and the formula; bit for bit, a NaN matches any NaN\n", lcl_context_device_name(ref));
    printf("data:      n = %" PRIu64 " per array, seed %" PRIu64 "\n", opt.n, opt.seed);

    struct tally tally = {0, 0, 0};
    int rc = CLI_EXIT_OK;
    double start = now_seconds();
    for (size_t k = 0; k < opt.dtype_count; k++) {
        const struct format *fmt = format_of(opt.dtypes[k]);
        if (!lcl_context_supports(ctx, fmt->dtype)) {
            printf("SKIP  %-4s not supported by this device\n", lcl_dtype_name(fmt->dtype));
            tally.skipped++;
            continue;
        }
        if (!lcl_context_supports(ref, fmt->dtype)) {
            printf("FAIL  %-4s not supported by the CPU backend\n", lcl_dtype_name(fmt->dtype));
            tally.failed++;
            continue;
        }
        if (check_dtype(ctx, ref, fmt, &opt, &tally) != 0) {
            rc = CLI_EXIT_FAILURE;
            break;
        }
        fflush(stdout);
    }
    printf("check: %u passed, %u failed, %u dtypes skipped, in %.1f s\n", tally.passed, tally.failed, tally.skipped,
           now_seconds() - start);
    lcl_context_release(ref);
    lcl_context_release(ctx);
    if (tally.failed != 0) {
        rc = CLI_EXIT_FAILURE;
    }
    return rc;
}

const struct cli_command cli_cmd_check = {
    "check",
    "run every op for every dtype on a device and compare it bit for bit with the CPU backend",
    check_usage,
    check_run,
};
