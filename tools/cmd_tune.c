/*
 * `leakycl tune`: times the kernels' shape parameters per op and dtype on one OpenCL device, as
 * CLBlast's tuner does (every candidate of a small grid around the device's defaults, the first
 * call excluded as warm-up, the median of several timed calls, each to a finished queue), checks
 * each candidate's outputs bit for bit against the defaults' before accepting it, times each
 * op's winner once more against the defaults call for call (the least of many noisy medians is
 * biased low), and stores the winners in the per-user tuning cache that contexts read at creation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "measure.h"
#include "tune_ops.h"

static const char tune_usage[] =
    "usage: leakycl tune [options]\n"
    "\n"
    "Times the OpenCL kernels' shape parameters (vw: elements per vector, vpt: vectors per\n"
    "work-item, wgs: work-group size) for every op and dtype the device supports, on a grid\n"
    "around the device's defaults. Each candidate's outputs must equal the defaults' bit for bit\n"
    "on random data with negatives, +-0, NaN, +-inf and subnormals, or it is rejected (and the\n"
    "command fails). Per op and dtype the fastest candidate (median of the timed calls, the first\n"
    "call excluded) is timed again against the defaults, a call of each in turn, in two rounds,\n"
    "and wins if it beats them by 3% in both; else the defaults stay. The winners replace\n"
    "the device's section of the tuning cache ($LEAKYCL_TUNING_FILE, else\n"
    "$XDG_CACHE_HOME/leakycl/tuning, else ~/.cache/leakycl/tuning); entries of ops and dtypes\n"
    "not tuned in this run are kept. Contexts read it at creation (LEAKYCL_TUNING=0 ignores it),\n"
    "and 'leakycl devices' says which devices are tuned.\n"
    "\n"
    "options:\n"
    "  --device SPEC  the OpenCL device (default: $LEAKYCL_DEVICE, else 'opencl')\n"
    "  --size K       2^K elements per call, 15 to 28 (default 22)\n"
    "  --reps N       timed calls per candidate and op, 1 to 100 (default 7)\n"
    "  --dtypes LIST  f32,f16,bf16,f64 (default: all the device supports)\n"
    "  --quick        two candidates per dtype, 2^16 elements, 3 calls: a smoke test\n"
    "  --dry-run      measure and print, store nothing\n"
    "  --compare      search nothing: time the cache's entries against the defaults, a call of\n"
    "                 each in turn per op and dtype, after checking their outputs are the same\n"
    "                 bit for bit (default size 24, 15 calls)\n"
    "  -h, --help     show this text\n";

#define MAX_CANDIDATES 64
#define WIN_MARGIN 0.97  /* a candidate must take at most this share of the defaults' time */
#define CONFIRM_ROUNDS 2 /* head-to-head rounds against the defaults a winner must all win */

struct tune_options {
    const char *device;
    unsigned size_log2;
    unsigned reps;
    int dtypes[4]; /* indexed by lcl_dtype */
    int quick, dry_run, compare;
};

struct shape {
    unsigned vw, vpt;
    size_t wgs;
};

/* ---- options ------------------------------------------------------------------------------------- */

static int parse_dtypes(const char *text, int *dtypes) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s", text);
    memset(dtypes, 0, 4 * sizeof *dtypes);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        lcl_dtype d;
        if (cli_parse_dtype("tune", "--dtypes", tok, &d) != 0)
            return -1;
        dtypes[d] = 1;
    }
    return 0;
}

static int parse_options(int argc, char **argv, struct tune_options *o) {
    const char *env = getenv("LEAKYCL_DEVICE");
    *o = (struct tune_options){
        .device = env && *env ? env : "opencl", .size_log2 = 22, .reps = 7, .dtypes = {1, 1, 1, 1}};
    int sized = 0, repped = 0;
    for (int i = 1; i < argc; i++) {
        const char *value = NULL;
        uint64_t number = 0;
        int r;
        if (strcmp(argv[i], "--quick") == 0) {
            o->quick = 1;
        } else if (strcmp(argv[i], "--dry-run") == 0) {
            o->dry_run = 1;
        } else if (strcmp(argv[i], "--compare") == 0) {
            o->compare = 1;
        } else if ((r = cli_option(argc, argv, &i, "tune", "--device", &value)) != 0) {
            if (r < 0)
                return -1;
            o->device = value;
        } else if ((r = cli_option(argc, argv, &i, "tune", "--size", &value)) != 0) {
            if (r < 0 || cli_parse_u64("tune", "--size", value, 28, &number) != 0)
                return -1;
            if (number < 15) {
                cli_error("tune: --size %s is too small (at least 15)", value);
                return -1;
            }
            o->size_log2 = (unsigned)number;
            sized = 1;
        } else if ((r = cli_option(argc, argv, &i, "tune", "--reps", &value)) != 0) {
            if (r < 0 || cli_parse_u64("tune", "--reps", value, 100, &number) != 0)
                return -1;
            if (number < 1) {
                cli_error("tune: --reps wants at least 1");
                return -1;
            }
            o->reps = (unsigned)number;
            repped = 1;
        } else if ((r = cli_option(argc, argv, &i, "tune", "--dtypes", &value)) != 0) {
            if (r < 0 || parse_dtypes(value, o->dtypes) != 0)
                return -1;
        } else {
            cli_error("tune: unknown %s '%s' (see 'leakycl tune --help')", argv[i][0] == '-' ? "option" : "argument",
                      argv[i]);
            return -1;
        }
    }
    if (o->quick && !sized)
        o->size_log2 = 16;
    if (o->quick && !repped)
        o->reps = 3;
    if (o->compare && !o->quick && !sized)
        o->size_log2 = 24;
    if (o->compare && !o->quick && !repped)
        o->reps = 15;
    return 0;
}

/* ---- candidates ---------------------------------------------------------------------------------- */

static int read_shape(const lcl_context *ctx, const char *op, lcl_dtype dtype, struct shape *s) {
    char entry[128];
    if (lcl_context_tuning(ctx, op, dtype, entry, sizeof entry) != LCL_SUCCESS)
        return -1;
    const char *vw = strstr(entry, " vw=");
    return vw && sscanf(vw, " vw=%u vpt=%u wgs=%zu", &s->vw, &s->vpt, &s->wgs) == 3 ? 0 : -1;
}

static void add_candidate(struct shape *out, size_t *count, unsigned vw, unsigned vpt, size_t wgs) {
    if (vw < 2 || vw > 16 || vpt < 1 || vpt > 64 || (size_t)vw * vpt > 512 || wgs < 1 || *count >= MAX_CANDIDATES)
        return;
    for (size_t i = 0; i < *count; ++i)
        if (out[i].vw == vw && out[i].vpt == vpt && out[i].wgs == wgs)
            return;
    out[(*count)++] = (struct shape){vw, vpt, wgs};
}

/* The defaults first, then the grid around them: half, same and double the vector width; on
 * CPU shapes (vpt > 1) half, same and double the vectors per work-item and a quarter, the same
 * and four times the work-group size; on GPU shapes work-groups from half to four times the
 * default. The library rejects what the device cannot take; those are skipped. */
static size_t make_grid(const struct shape *def, int quick, struct shape *out) {
    size_t count = 0;
    add_candidate(out, &count, def->vw, def->vpt, def->wgs);
    if (quick) {
        add_candidate(out, &count, def->vw < 16 ? def->vw * 2 : def->vw / 2, def->vpt, def->wgs);
        return count;
    }
    unsigned vws[] = {def->vw / 2, def->vw, def->vw * 2};
    unsigned vpts_cpu[] = {def->vpt / 2, def->vpt, def->vpt * 2};
    size_t wgs_cpu[] = {def->wgs / 4, def->wgs, def->wgs * 4};
    size_t wgs_gpu[] = {def->wgs / 2, def->wgs, def->wgs * 2, def->wgs * 4};
    for (size_t a = 0; a < 3; ++a) {
        if (def->vpt == 1) {
            for (size_t c = 0; c < 4; ++c)
                if (wgs_gpu[c] % 16 == 0)
                    add_candidate(out, &count, vws[a], 1, wgs_gpu[c]);
            continue;
        }
        for (size_t b = 0; b < 3; ++b)
            for (size_t c = 0; c < 3; ++c)
                if (vpts_cpu[b] > 1)
                    add_candidate(out, &count, vws[a], vpts_cpu[b], wgs_cpu[c]);
    }
    return count;
}

/* ---- measuring ----------------------------------------------------------------------------------- */

/* One dtype's state: the inputs, the defaults' context, outputs and times, the best so far. */
struct dtype_run {
    const struct tune_options *o;
    lcl_dtype dtype;
    struct tune_inputs in;
    struct tune_outputs reference[TUNE_OP_COUNT];
    double default_time[TUNE_OP_COUNT];
    double best_time[TUNE_OP_COUNT];
    struct shape best[TUNE_OP_COUNT];
    int confirmed[TUNE_OP_COUNT]; /* the winner beat the defaults head to head too */
    unsigned mismatches, failures, skipped;
};

static void shape_text(const struct shape *s, char *buf, size_t size) {
    snprintf(buf, size, "vw=%u vpt=%u wgs=%zu", s->vw, s->vpt, s->wgs);
}

static int same_shape(const struct shape *a, const struct shape *b) {
    return a->vw == b->vw && a->vpt == b->vpt && a->wgs == b->wgs;
}

/* The shape op gets from candidate s. prelu_backward keeps the default vector width, which
 * orders its slope gradient's sums (the library refuses another); the masked ops of the CPU
 * shapes keep the default vectors per work-item, which they ignore (a work-item owns a line of
 * mask words), so that no meaningless value is stored for them. */
static struct shape op_shape(enum tune_op op, const struct shape *s, const struct shape *def) {
    struct shape o = *s;
    if (op == TUNE_PRELU_BACKWARD)
        o.vw = def->vw;
    if ((op == TUNE_FORWARD_MASKED || op == TUNE_BACKWARD_MASKED) && def->vpt > 1)
        o.vpt = def->vpt;
    return o;
}

/* Times and checks one candidate's context on every op. */
static void measure_candidate(struct dtype_run *run, lcl_context *ctx, const struct shape *cand,
                              const struct shape *def) {
    struct tune_tensors *t = tune_tensors_make(ctx, &run->in);
    if (!t) {
        run->failures++;
        return;
    }
    for (int op = 0; op < TUNE_OP_COUNT; ++op) {
        struct shape shape = op_shape((enum tune_op)op, cand, def);
        const struct shape *s = &shape;
        if (!same_shape(s, cand))
            continue; /* the op keeps part of the defaults: the grid has what it runs as a candidate of its own */
        char text[64];
        shape_text(s, text, sizeof text);
        struct tune_outputs got;
        char why[160];
        double median = 0;
        lcl_status st = tune_op_outputs(t, (enum tune_op)op, &got);
        if (st != LCL_SUCCESS) {
            printf("    %s %s: fails (%s: %s), rejected\n", tune_op_name((enum tune_op)op), text, lcl_status_string(st),
                   lcl_last_error());
            run->failures++;
            continue;
        }
        int same = tune_outputs_same(&run->in, (enum tune_op)op, &run->reference[op], &got, why, sizeof why);
        tune_outputs_free(&got);
        if (!same) {
            fprintf(stderr, "leakycl: tune: %s %s %s: MISMATCH with the defaults (%s), rejected\n",
                    tune_op_name((enum tune_op)op), lcl_dtype_name(run->dtype), text, why);
            run->mismatches++;
            continue;
        }
        if (tune_time_median(t, (enum tune_op)op, run->o->reps, &median) != 0) {
            run->failures++;
            continue;
        }
        if (median < run->best_time[op]) {
            run->best_time[op] = median;
            run->best[op] = *s;
        }
    }
    tune_tensors_free(t);
}

/* The candidate's parameter text: the same shape for every op of the dtype. */
static void candidate_params(lcl_dtype dtype, const struct shape *cand, const struct shape *def, char *buf,
                             size_t size) {
    size_t at = 0;
    for (int op = 0; op < TUNE_OP_COUNT && at < size; ++op) {
        struct shape s = op_shape((enum tune_op)op, cand, def);
        at += (size_t)snprintf(buf + at, size - at, "%s %s vw=%u vpt=%u wgs=%zu\n", tune_op_name((enum tune_op)op),
                               lcl_dtype_name(dtype), s.vw, s.vpt, s.wgs);
    }
}

/* The defaults' outputs (the reference) and times; 0 on success. */
static int measure_defaults(struct dtype_run *run, lcl_context *ctx) {
    struct tune_tensors *t = tune_tensors_make(ctx, &run->in);
    int rc = t ? 0 : -1;
    for (int op = 0; op < TUNE_OP_COUNT && rc == 0; ++op) {
        if (tune_op_outputs(t, (enum tune_op)op, &run->reference[op]) != LCL_SUCCESS ||
            tune_time_median(t, (enum tune_op)op, run->o->reps, &run->default_time[op]) != 0)
            rc = -1;
        if (rc != 0)
            cli_error("tune: the defaults fail on %s %s: %s", tune_op_name((enum tune_op)op),
                      lcl_dtype_name(run->dtype), lcl_last_error());
    }
    tune_tensors_free(t);
    return rc;
}

/* The search keeps the least of many noisy medians, which flatters whichever candidate was
 * lucky. So each op's winner is timed again against the defaults, a call of each in turn, in
 * CONFIRM_ROUNDS rounds (the second with the winner calling first), and stays only if its median
 * is below WIN_MARGIN of theirs in every round: on a shared host one round let identical shapes
 * differ by up to 15%. The table reports the rounds' mean medians. */
static int time_against_defaults(struct dtype_run *run, struct tune_tensors *def_t, struct tune_tensors *t, int op) {
    enum tune_op o = (enum tune_op)op;
    double def_sum = 0, best_sum = 0;
    int wins = 1;
    for (int round = 0; round < CONFIRM_ROUNDS; ++round) {
        double d = 0, b = 0;
        int rc = round % 2 ? tune_head_to_head(t, def_t, o, run->o->reps, &b, &d)
                           : tune_head_to_head(def_t, t, o, run->o->reps, &d, &b);
        if (rc != 0)
            return -1;
        wins = wins && b < WIN_MARGIN * d;
        def_sum += d;
        best_sum += b;
    }
    run->default_time[op] = def_sum / CONFIRM_ROUNDS;
    run->best_time[op] = best_sum / CONFIRM_ROUNDS;
    run->confirmed[op] = wins;
    return 0;
}

static void confirm_winner(struct dtype_run *run, struct tune_tensors *def_t, int op, const struct shape *def) {
    char params[1024];
    lcl_context *ctx = NULL;
    struct tune_tensors *t = NULL;
    enum tune_op o = (enum tune_op)op;
    candidate_params(run->dtype, &run->best[op], def, params, sizeof params);
    int ok = lcl_context_create_tuned(run->o->device, params, &ctx) == LCL_SUCCESS &&
             (t = tune_tensors_make(ctx, &run->in)) != NULL && time_against_defaults(run, def_t, t, op) == 0;
    if (!ok) {
        char text[64];
        shape_text(&run->best[op], text, sizeof text);
        printf("    %s %s: could not time the winner %s again (%s); the defaults stay\n", tune_op_name(o),
               lcl_dtype_name(run->dtype), text, lcl_last_error());
    }
    if (!run->confirmed[op])
        run->best[op] = *def;
    tune_tensors_free(t);
    lcl_context_release(ctx);
}

static void confirm_winners(struct dtype_run *run, lcl_context *defaults, const struct shape *def) {
    struct tune_tensors *def_t = tune_tensors_make(defaults, &run->in);
    for (int op = 0; op < TUNE_OP_COUNT; ++op) {
        if (!def_t || same_shape(&run->best[op], def)) {
            run->best[op] = *def;
            run->best_time[op] = run->default_time[op];
        } else
            confirm_winner(run, def_t, op, def);
    }
    tune_tensors_free(def_t);
}

/* Prints the dtype's table and appends its winners to params. */
static void report_dtype(struct dtype_run *run, const struct shape *def, char *params, size_t size) {
    char def_text[64], win_text[64];
    shape_text(def, def_text, sizeof def_text);
    printf("  %-16s %12s %12s %8s  %s\n", "op", "default ms", "best ms", "speedup", "stored");
    for (int op = 0; op < TUNE_OP_COUNT; ++op) {
        int wins = run->confirmed[op];
        const struct shape *chosen = wins ? &run->best[op] : def;
        shape_text(chosen, win_text, sizeof win_text);
        printf("  %-16s %12.3f %12.3f %7.2fx  %s%s\n", tune_op_name((enum tune_op)op), run->default_time[op] * 1e3,
               run->best_time[op] * 1e3, run->default_time[op] / run->best_time[op], win_text,
               wins ? "" : " (defaults)");
        size_t at = strlen(params);
        snprintf(params + at, size - at, "%s %s %s\n", tune_op_name((enum tune_op)op), lcl_dtype_name(run->dtype),
                 win_text);
    }
}

/* Tunes one dtype; returns 0, or -1 when the defaults themselves fail. */
static int tune_dtype(const struct tune_options *o, lcl_context *defaults, lcl_dtype dtype, char *params, size_t size,
                      unsigned *mismatches) {
    struct dtype_run run = {.o = o, .dtype = dtype};
    struct shape def, grid[MAX_CANDIDATES];
    if (read_shape(defaults, "forward", dtype, &def) != 0 ||
        tune_inputs_make(&run.in, dtype, (size_t)1 << o->size_log2, 0x1eaccc1ull + (uint64_t)dtype) != 0) {
        cli_error("tune: %s: cannot read the defaults or allocate the inputs", lcl_dtype_name(dtype));
        return -1;
    }
    size_t count = make_grid(&def, o->quick, grid);
    char def_text[64];
    shape_text(&def, def_text, sizeof def_text);
    printf("%s: defaults %s, %zu candidates\n", lcl_dtype_name(dtype), def_text, count);
    fflush(stdout);
    int rc = measure_defaults(&run, defaults);
    for (int op = 0; op < TUNE_OP_COUNT; ++op) {
        run.best_time[op] = run.default_time[op];
        run.best[op] = def;
    }
    for (size_t c = 1; c < count && rc == 0; ++c) {
        char candidate[1024];
        lcl_context *ctx = NULL;
        candidate_params(dtype, &grid[c], &def, candidate, sizeof candidate);
        if (lcl_context_create_tuned(o->device, candidate, &ctx) != LCL_SUCCESS) {
            run.skipped++; /* the device cannot take it (e.g. a work-group over its limit) */
            continue;
        }
        measure_candidate(&run, ctx, &grid[c], &def);
        lcl_context_release(ctx);
    }
    if (rc == 0)
        confirm_winners(&run, defaults, &def);
    if (rc == 0) {
        report_dtype(&run, &def, params, size);
        printf("  (%u candidates skipped as unfit for the device, %u op runs failed, %u mismatched)\n", run.skipped,
               run.failures, run.mismatches);
    }
    *mismatches += run.mismatches;
    for (int op = 0; op < TUNE_OP_COUNT; ++op)
        tune_outputs_free(&run.reference[op]);
    tune_inputs_free(&run.in);
    return rc;
}

/* Entries already cached for the dtypes not tuned in this run, so that storing keeps them. */
static void keep_cached(const struct tune_options *o, char *params, size_t size) {
    lcl_context *cached = NULL;
    if (lcl_context_create(o->device, &cached) != LCL_SUCCESS)
        return;
    for (int d = 0; d < 4 && lcl_context_tuned(cached) > 0; ++d) {
        if (o->dtypes[d] && lcl_context_supports(cached, (lcl_dtype)d))
            continue;
        for (int op = 0; op < TUNE_OP_COUNT; ++op) {
            size_t at = strlen(params);
            if (lcl_context_tuning(cached, tune_op_name((enum tune_op)op), (lcl_dtype)d, params + at, size - at - 1) ==
                LCL_SUCCESS)
                strcat(params + at, "\n");
        }
    }
    lcl_context_release(cached);
}

static int tune_run(int argc, char **argv) {
    struct tune_options o;
    if (parse_options(argc, argv, &o) != 0)
        return CLI_EXIT_USAGE;
    if (o.compare)
        return tune_compare(o.device, (size_t)1 << o.size_log2, o.reps, o.dtypes) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
    double start = bench_now();
    lcl_context *defaults = NULL;
    lcl_status st = lcl_context_create_tuned(o.device, NULL, &defaults);
    if (st != LCL_SUCCESS) {
        cli_error("tune: device '%s': %s: %s", o.device, lcl_status_string(st), lcl_last_error());
        return CLI_EXIT_FAILURE;
    }
    if (lcl_context_backend(defaults) != LCL_BACKEND_OPENCL) {
        cli_error("tune: '%s' is the CPU backend, which has no kernel parameters to tune", o.device);
        lcl_context_release(defaults);
        return CLI_EXIT_FAILURE;
    }
    printf("tuning %s on 2^%u elements, %u timed calls per candidate\n", lcl_context_device_name(defaults), o.size_log2,
           o.reps);
    static char params[16384];
    params[0] = '\0';
    unsigned mismatches = 0;
    int rc = CLI_EXIT_OK;
    for (int d = 0; d < 4 && rc == CLI_EXIT_OK; ++d)
        if (o.dtypes[d] && lcl_context_supports(defaults, (lcl_dtype)d) &&
            tune_dtype(&o, defaults, (lcl_dtype)d, params, sizeof params, &mismatches) != 0)
            rc = CLI_EXIT_FAILURE;
    char path[4096] = "";
    lcl_tuning_path(path, sizeof path);
    if (rc == CLI_EXIT_OK && !o.dry_run) {
        keep_cached(&o, params, sizeof params);
        st = lcl_tuning_store(defaults, params);
        if (st != LCL_SUCCESS) {
            cli_error("tune: storing the winners: %s: %s", lcl_status_string(st), lcl_last_error());
            rc = CLI_EXIT_FAILURE;
        } else {
            printf("stored in %s\n", path);
        }
    }
    if (mismatches) {
        cli_error("tune: %u candidate runs gave other bits than the defaults (a kernel bug; they were rejected)",
                  mismatches);
        rc = CLI_EXIT_FAILURE;
    }
    printf("took %.1f s\n", bench_now() - start);
    lcl_context_release(defaults);
    return rc;
}

const struct cli_command cli_cmd_tune = {
    "tune",
    "time the kernels' shapes per op and dtype on a device and store the fastest",
    tune_usage,
    tune_run,
};
