/*
 * `leakycl check`: runs every op for every dtype the device supports on seeded random data that
 * mixes signs, magnitudes and special values, and compares each result bit for bit (a NaN
 * matches any NaN) with the CPU backend's, element by element (check.h says why that suffices).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "check_dense.h"
#include "cli.h"
#include "measure.h"

#define MAX_ALPHAS 16
#define DEFAULT_N 1000003u
#define DEFAULT_SEED 1u

static const char check_usage[] =
    "usage: leakycl check [--device SPEC] [--n N] [--seed S] [--dtype D]... [--alpha A]...\n"
    "\n"
    "Runs forward, backward, backward_from_output, forward_host and backward_host on the device for\n"
    "every dtype it supports, on random data (signs, magnitudes, +-0, NaN, +-inf, subnormals,\n"
    "overflowing and underflowing products), and compares every element bit for bit with the CPU\n"
    "backend (a NaN matches any NaN); backward_from_output with a negative\n"
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
    for (size_t i = 0; i < n; i++) {
        diff_add(&vs_cpu, fmt, i, get_bits(arr->dev, fmt->width, i), get_bits(arr->cpu, fmt->width, i));
    }
    int pass = vs_cpu.mismatches == 0;
    char ulp[32];
    printf("%s  %-21s %-4s alpha=%-8g %zu elements, max diff %s\n", pass ? "PASS" : "FAIL", ops[op_index].name, dname,
           alpha, n, format_ulp(vs_cpu.max_ulp, ulp, sizeof ulp));
    if (vs_cpu.mismatches != 0) {
        print_diff("device vs CPU backend", "device", "cpu", &vs_cpu, n, fmt, op_index, a, b, arr->dev, arr->cpu);
    }
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
        /* y for backward_from_output: the CPU backend's forward. */
        lcl_status status = lcl_forward_host(ref, fmt->dtype, n, alpha, arr.x, arr.y);
        if (status != LCL_SUCCESS) {
            cli_error("check: the CPU backend's forward: %s: %s", lcl_status_string(status), lcl_last_error());
            rc = -1;
            goto cleanup;
        }
        for (size_t o = 0; o < OP_COUNT; o++) {
            check_op(ctx, ref, fmt, o, alpha, n, &arr, tally);
        }
        check_more(ctx, ref, fmt, alpha, n, &arr, tally);
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
    printf("reference: %s; bit for bit, a NaN matches any NaN\n", lcl_context_device_name(ref));
    printf("data:      n = %" PRIu64 " per array, seed %" PRIu64 "\n", opt.n, opt.seed);

    struct tally tally = {0, 0, 0};
    int rc = CLI_EXIT_OK;
    double start = bench_now();
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
           bench_now() - start);
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
