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
    "alpha must be rejected. Prints one line per op, dtype and alpha; exits 1 if any differs or\n"
    "fails, 2 on a bad command line.\n"
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
static uint64_t random_element(const struct format *fmt, uint64_t *rng, const double *alphas,
                               size_t alpha_count) {
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
static void print_diff(const char *what, const char *got_name, const char *want_name, const struct diff *d,
                       size_t n, const struct format *fmt, size_t op_index, const void *a, const void *b,
                       const void *got, const void *want) {
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
static void check_op(lcl_context *ctx, lcl_context *ref, const struct format *fmt, size_t op_index,
                     double alpha, size_t n, const struct arrays *arr, struct tally *tally) {
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
    printf("%s  %-21s %-4s alpha=%-8g %zu elements, max diff %s\n", pass ? "PASS" : "FAIL",
           ops[op_index].name, dname, alpha, n, format_ulp(vs_cpu.max_ulp, ulp, sizeof ulp));
    if (vs_cpu.mismatches != 0) {
        print_diff("device vs CPU backend", "device", "cpu", &vs_cpu, n, fmt, op_index, a, b, arr->dev,
                   arr->cpu);
    }
    if (cpu_vs_formula.mismatches != 0) {
        print_diff("CPU backend vs formula", "cpu", "formula", &cpu_vs_formula, n, fmt, op_index, a, b,
                   arr->cpu, want);
    }
    free(want);
    if (pass) {
        tally->passed++;
    } else {
        tally->failed++;
    }
}

/* Checks every op and alpha for one dtype. Returns 0, or -1 when out of memory. */
static int check_dtype(lcl_context *ctx, lcl_context *ref, const struct format *fmt,
                       const struct check_options *opt, struct tally *tally) {
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
    fill_random(fmt, arr.x, n, opt->seed ^ (UINT64_C(0x100) * (uint64_t)fmt->dtype), opt->alphas,
                opt->alpha_count);
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
        cli_error("check: cannot open device '%s': %s: %s", spec, lcl_status_string(status),
                  lcl_last_error());
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
    printf("reference: %s, and the formula; bit for bit, a NaN matches any NaN\n",
           lcl_context_device_name(ref));
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
    printf("check: %u passed, %u failed, %u dtypes skipped, in %.1f s\n", tally.passed, tally.failed,
           tally.skipped, now_seconds() - start);
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
