/*
 * `leakycl tune --compare`: what the tuning cache buys, measured so that load on the machine
 * falls on both sides alike: per op and dtype a context with the cache's entries and one with
 * the defaults take turns, call for call, on the same inputs, after their outputs are compared
 * bit for bit.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "tune_ops.h"

/* Compares and times every op of one dtype; returns the number of ops that failed or differed. */
static int compare_dtype(lcl_context *defaults, lcl_context *tuned, lcl_dtype dtype, size_t n, unsigned reps) {
    struct tune_inputs in;
    if (tune_inputs_make(&in, dtype, n, 0xc0ffeeull + (uint64_t)dtype) != 0) {
        cli_error("tune: out of host memory");
        return 1;
    }
    struct tune_tensors *a = tune_tensors_make(defaults, &in), *b = tune_tensors_make(tuned, &in);
    int bad = !a || !b;
    for (int op = 0; op < TUNE_OP_COUNT && !bad; ++op) {
        enum tune_op o = (enum tune_op)op;
        char def_entry[128] = "", entry[128] = "", why[160] = "";
        struct tune_outputs want, got;
        double d = 0, t = 0;
        lcl_context_tuning(defaults, tune_op_name(o), dtype, def_entry, sizeof def_entry);
        lcl_context_tuning(tuned, tune_op_name(o), dtype, entry, sizeof entry);
        if (tune_op_outputs(a, o, &want) != LCL_SUCCESS || tune_op_outputs(b, o, &got) != LCL_SUCCESS) {
            cli_error("tune: %s %s failed: %s", tune_op_name(o), lcl_dtype_name(dtype), lcl_last_error());
            bad++;
            continue;
        }
        int same = tune_outputs_same(&in, o, &want, &got, why, sizeof why);
        tune_outputs_free(&want);
        tune_outputs_free(&got);
        if (!same) {
            cli_error("tune: %s %s: the tuned output differs from the defaults' (%s)", tune_op_name(o),
                      lcl_dtype_name(dtype), why);
            bad++;
            continue;
        }
        if (tune_head_to_head(a, b, o, reps, &d, &t) != 0) {
            cli_error("tune: %s %s failed: %s", tune_op_name(o), lcl_dtype_name(dtype), lcl_last_error());
            bad++;
            continue;
        }
        const char *shape = strstr(entry, " vw=");
        printf("%-16s %-5s %11.3f %11.3f %8.2fx  %s%s\n", tune_op_name(o), lcl_dtype_name(dtype), d * 1e3, t * 1e3,
               d / t, shape ? shape + 1 : entry, strcmp(entry, def_entry) == 0 ? " (= defaults)" : "");
        fflush(stdout);
    }
    tune_tensors_free(a);
    tune_tensors_free(b);
    tune_inputs_free(&in);
    return bad;
}

int tune_compare(const char *device, size_t n, unsigned reps, const int *dtypes) {
    lcl_context *defaults = NULL, *tuned = NULL;
    lcl_status st = lcl_context_create_tuned(device, NULL, &defaults);
    if (st == LCL_SUCCESS)
        st = lcl_context_create(device, &tuned);
    if (st != LCL_SUCCESS || lcl_context_backend(defaults) != LCL_BACKEND_OPENCL) {
        cli_error("tune: device '%s': %s", device,
                  st != LCL_SUCCESS ? lcl_last_error() : "the CPU backend has no kernel parameters");
        lcl_context_release(defaults);
        lcl_context_release(tuned);
        return -1;
    }
    printf("%s: %zu entries from the tuning cache; %zu elements, %u calls of each in turn, medians\n",
           lcl_context_device_name(tuned), lcl_context_tuned(tuned), n, reps);
    printf("%-16s %-5s %11s %11s %9s  %s\n", "op", "dtype", "default ms", "tuned ms", "speedup", "tuned entry");
    int bad = 0;
    for (int d = 0; d < 4; ++d)
        if (dtypes[d] && lcl_context_supports(defaults, (lcl_dtype)d))
            bad += compare_dtype(defaults, tuned, (lcl_dtype)d, n, reps);
    lcl_context_release(defaults);
    lcl_context_release(tuned);
    return bad ? -1 : 0;
}
