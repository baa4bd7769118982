/* leakycl-bench's driver: which devices, ops, dtypes and sizes, then one measured row each. */
#include "bench.h"
#include "measure.h"
#include "report.h"
#include "transfer.h"
#include "workloads.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BENCH_MAX_DEVICES 16

struct bench_options {
    const char *devices[BENCH_MAX_DEVICES];
    int device_count;
    bool ops[BENCH_OP_COUNT];
    bool dtypes[LCL_F64 + 1];
    bool views[BENCH_VIEW_COUNT];
    unsigned min_log2, max_log2, step_log2;
    struct bench_timing timing;
    const char *csv, *json, *plot;
    bool quick;
};

const char leakycl_bench_usage[] =
    "usage: leakycl-bench [options]   (also: leakycl bench [options])\n"
    "Times every op on each device against the device's own copy bandwidth and the CPU backend.\n"
    "  --device SPEC     a device to measure (repeatable; default: every OpenCL device; with\n"
    "                    --quick: the default device). The CPU backend is always measured.\n"
    "  --ops LIST        forward,backward,backward_from_output, forward_masked,backward_masked,\n"
    "                    prelu_forward,prelu_backward, batch_forward (4 items of n/4),\n"
    "                    batch_small_items,calls_small_items (1,000 items of 1,024 as one batch\n"
    "                    call or as 1,000 lcl_forward calls; n = 1,024,000, when --max >= 20)\n"
    "                    (default: all)\n"
    "  --dtypes LIST     f32,f16,bf16,f64 (default: all the device supports)\n"
    "  --views LIST      resident,offload (default: both)\n"
    "  --min K --max K   sizes 2^K elements, from 2^min to 2^max (default 10 and 27)\n"
    "  --step K          log2 step between sizes (default 1)\n"
    "  --time S          seconds per sample (default 0.1)\n"
    "  --samples N       samples per point, median and spread reported (default 5)\n"
    "  --csv FILE        also write the rows as CSV\n"
    "  --json FILE       also write the rows as JSON\n"
    "  --plot FILE.png   draw GB/s against size per device and op (needs gnuplot)\n"
    "  --quick           a quick look: default device and CPU backend, f32 and f16, forward\n"
    "                    and backward, sizes 2^12 to 2^24 every 4th power\n"
    "  --help            this text\n";

static void bench_error(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    fputs("leakycl-bench: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
}

/* ---- options ----------------------------------------------------------------------------- */

static int parse_uint(const char *option, const char *text, unsigned long max, unsigned long *out) {
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (!*text || *text == '-' || *text == '+' || *end || errno || v > max) {
        bench_error("%s: '%s' is not a whole number up to %lu", option, text, max);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_list(const char *option, const char *text, const char *const *names, size_t count, bool *set) {
    memset(set, 0, count * sizeof *set);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        size_t i = 0;
        while (i < count && strcmp(tok, names[i]) != 0)
            ++i;
        if (i == count) {
            bench_error("%s: unknown value '%s'", option, tok);
            return -1;
        }
        set[i] = true;
    }
    return 0;
}

static void set_defaults(struct bench_options *o) {
    memset(o, 0, sizeof *o);
    for (int i = 0; i < BENCH_OP_COUNT; ++i)
        o->ops[i] = true;
    for (int i = 0; i <= LCL_F64; ++i)
        o->dtypes[i] = true;
    o->views[BENCH_RESIDENT] = o->views[BENCH_OFFLOAD] = true;
    o->min_log2 = 10;
    o->max_log2 = 27;
    o->step_log2 = 1;
    o->timing = (struct bench_timing){.target_seconds = 0.1, .samples = 5, .max_reps = 100000};
}

static void apply_quick(struct bench_options *o) {
    o->quick = true;
    o->ops[BENCH_BACKWARD_FROM_OUTPUT] = false;
    for (int op = BENCH_PRELU_FORWARD; op < BENCH_OP_COUNT; ++op)
        o->ops[op] = false;
    o->dtypes[LCL_BF16] = o->dtypes[LCL_F64] = false;
    o->min_log2 = 12;
    o->max_log2 = 24;
    o->step_log2 = 4;
    o->timing.target_seconds = 0.03;
    o->timing.samples = 3;
}

/* Returns 0 to run, 1 after --help, 2 on a bad command line. */
static int parse_options(int argc, char **argv, struct bench_options *o) {
    static const char *const dtype_names[] = {"f32", "f16", "bf16", "f64"};
    static const char *const view_names[] = {"resident", "offload"};
    set_defaults(o);
    for (int i = 1; i < argc; ++i)
        if (strcmp(argv[i], "--quick") == 0)
            apply_quick(o); /* first, so explicit options override it wherever they stand */
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(leakycl_bench_usage, stdout);
            return 1;
        }
        if (strcmp(a, "--quick") == 0)
            continue;
        if (strncmp(a, "--", 2) != 0 || i + 1 >= argc) {
            bench_error(strncmp(a, "--", 2) ? "unexpected argument '%s' (see --help)" : "%s needs a value", a);
            return 2;
        }
        const char *v = argv[++i];
        unsigned long u = 0;
        int bad = 0;
        if (strcmp(a, "--device") == 0) {
            if (o->device_count == BENCH_MAX_DEVICES) {
                bench_error("--device: at most %d devices", BENCH_MAX_DEVICES);
                return 2;
            }
            o->devices[o->device_count++] = v;
        } else if (strcmp(a, "--ops") == 0) {
            bad = parse_list(a, v, bench_op_names, BENCH_OP_COUNT, o->ops);
        } else if (strcmp(a, "--dtypes") == 0) {
            bad = parse_list(a, v, dtype_names, LCL_F64 + 1, o->dtypes);
        } else if (strcmp(a, "--views") == 0) {
            bad = parse_list(a, v, view_names, BENCH_VIEW_COUNT, o->views);
        } else if (strcmp(a, "--min") == 0 || strcmp(a, "--max") == 0 || strcmp(a, "--step") == 0) {
            bad = parse_uint(a, v, 40, &u);
            unsigned *field = a[2] == 's' ? &o->step_log2 : a[3] == 'i' ? &o->min_log2 : &o->max_log2;
            *field = (unsigned)u;
        } else if (strcmp(a, "--samples") == 0) {
            bad = parse_uint(a, v, BENCH_MAX_SAMPLES, &u) || (u == 0 && (bench_error("--samples: at least 1"), 1));
            o->timing.samples = (int)u;
        } else if (strcmp(a, "--time") == 0) {
            char *end = NULL;
            o->timing.target_seconds = strtod(v, &end);
            if (!*v || *end || !(o->timing.target_seconds > 0 && o->timing.target_seconds <= 60)) {
                bench_error("--time: '%s' is not a number of seconds in (0, 60]", v);
                bad = 1;
            }
        } else if (strcmp(a, "--csv") == 0) {
            o->csv = v;
        } else if (strcmp(a, "--json") == 0) {
            o->json = v;
        } else if (strcmp(a, "--plot") == 0) {
            o->plot = v;
        } else {
            bench_error("unknown option '%s' (see --help)", a);
            return 2;
        }
        if (bad)
            return 2;
    }
    if (o->min_log2 > o->max_log2 || o->step_log2 == 0) {
        bench_error("sizes: need --min <= --max and --step >= 1");
        return 2;
    }
    return 0;
}

/* Every OpenCL device, as "opencl:P:D" specs. */
static int list_opencl_devices(char specs[][32], int max) {
    cl_platform_id platforms[16];
    cl_uint platform_count = 0;
    if (clGetPlatformIDs(16, platforms, &platform_count) != CL_SUCCESS)
        return 0;
    int count = 0;
    for (cl_uint p = 0; p < platform_count && p < 16; ++p) {
        cl_uint device_count = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &device_count) != CL_SUCCESS)
            continue;
        for (cl_uint d = 0; d < device_count && count < max; ++d)
            snprintf(specs[count++], 32, "opencl:%u:%u", (unsigned)p, (unsigned)d);
    }
    return count;
}

/* ---- measuring ------------------------------------------------------------------------------ */

struct bench_run {
    const struct bench_options *opt;
    struct bench_rows *rows;
    int failures;
    size_t points_done, points_total;
    bool progress;
};

static void progress(struct bench_run *run, const char *device, const char *what, lcl_dtype dtype, size_t n) {
    run->points_done++;
    if (run->progress)
        fprintf(stderr, "\r\033[K[%zu/%zu] %s %s %s n=%zu", run->points_done, run->points_total, device, what,
                lcl_dtype_name(dtype), n);
}

static struct bench_row *add_row(struct bench_run *run) {
    struct bench_rows *rows = run->rows;
    if (rows->count == rows->capacity) {
        size_t capacity = rows->capacity ? rows->capacity * 2 : 64;
        struct bench_row *grown = realloc(rows->rows, capacity * sizeof *grown);
        if (!grown)
            return NULL;
        rows->rows = grown;
        rows->capacity = capacity;
    }
    struct bench_row *r = &rows->rows[rows->count++];
    memset(r, 0, sizeof *r);
    return r;
}

static struct bench_row *record(struct bench_run *run, const char *spec, lcl_context *ctx, enum bench_view view,
                                enum bench_op op, lcl_dtype dtype, size_t n, const struct bench_stats *s,
                                double copy_seconds) {
    struct bench_row *r = add_row(run);
    if (!r)
        return NULL;
    snprintf(r->device, sizeof r->device, "%s", spec);
    snprintf(r->device_name, sizeof r->device_name, "%s", lcl_context_device_name(ctx));
    r->view = view;
    r->op = op;
    r->dtype = dtype;
    r->n = n;
    r->bytes = bench_op_bytes(op, dtype, n);
    r->seconds = s->median;
    r->spread = s->median > 0 ? (s->max - s->min) / s->median : 0;
    r->samples = s->samples;
    r->copy_seconds = copy_seconds;
    return r;
}

static void report_failure(struct bench_run *run, const char *spec, const char *what, lcl_dtype dtype, size_t n) {
    run->failures++;
    if (run->progress)
        fputc('\n', stderr);
    bench_error("%s: %s %s n=%zu failed: %s", spec, what, lcl_dtype_name(dtype), n, lcl_last_error());
}

/* The arrays of one (device, dtype, size) point: device tensors over buffers of our own (so
 * that the copy can be timed on the very same buffers) and host arrays for the offload view. */
struct point {
    lcl_tensor *x, *dy, *y;
    cl_mem mem[4]; /* x, dy, y, copy destination (OpenCL only) */
    void *host_copy_dst;
};

static void point_release(struct point *p) {
    lcl_tensor_release(p->x);
    lcl_tensor_release(p->dy);
    lcl_tensor_release(p->y);
    for (int i = 0; i < 4; ++i)
        if (p->mem[i])
            clReleaseMemObject(p->mem[i]);
    free(p->host_copy_dst);
    memset(p, 0, sizeof *p);
}

static int point_tensor(lcl_context *ctx, lcl_dtype dtype, size_t n, cl_mem *mem, lcl_tensor **t) {
    if (lcl_context_backend(ctx) == LCL_BACKEND_CPU)
        return lcl_tensor_create(ctx, dtype, n, t) == LCL_SUCCESS ? 0 : -1;
    cl_int err = CL_SUCCESS;
    *mem = clCreateBuffer(lcl_context_cl_context(ctx), CL_MEM_READ_WRITE, n * lcl_dtype_size(dtype), NULL, &err);
    if (err != CL_SUCCESS)
        return -1;
    return lcl_tensor_wrap_cl(ctx, dtype, *mem, 0, n, t) == LCL_SUCCESS ? 0 : -1;
}

static int point_create(lcl_context *ctx, lcl_dtype dtype, size_t n, const void *host_x, const void *host_dy,
                        struct point *p) {
    memset(p, 0, sizeof *p);
    if (point_tensor(ctx, dtype, n, &p->mem[0], &p->x) || point_tensor(ctx, dtype, n, &p->mem[1], &p->dy) ||
        point_tensor(ctx, dtype, n, &p->mem[2], &p->y) || lcl_tensor_write(p->x, host_x) != LCL_SUCCESS ||
        lcl_tensor_write(p->dy, host_dy) != LCL_SUCCESS || lcl_tensor_write(p->y, host_x) != LCL_SUCCESS)
        return -1;
    size_t bytes = n * lcl_dtype_size(dtype);
    if (lcl_context_backend(ctx) == LCL_BACKEND_CPU) {
        p->host_copy_dst = aligned_alloc(1 << 21, (bytes + (1 << 21) - 1) / (1 << 21) * (1 << 21));
        if (!p->host_copy_dst)
            return -1;
        memset(p->host_copy_dst, 1, bytes);
        return 0;
    }
    cl_int err = CL_SUCCESS;
    p->mem[3] = clCreateBuffer(lcl_context_cl_context(ctx), CL_MEM_READ_WRITE, bytes, NULL, &err);
    return err == CL_SUCCESS ? 0 : -1;
}

/* The device's own copy of `bytes`: clEnqueueCopyBuffer between two of the point's buffers,
 * or, for the CPU backend, a memcpy on as many threads as the backend uses. */
static int time_copy(lcl_context *ctx, struct point *p, const void *host_src, size_t bytes,
                     const struct bench_timing *t, struct bench_stats *s) {
    if (lcl_context_backend(ctx) == LCL_BACKEND_CPU) {
        struct bench_host_copy c = {host_src, p->host_copy_dst, bytes};
        struct bench_work w = bench_host_copy_work(&c);
        return bench_time(t, &w, s);
    }
    struct bench_cl_copy c = {lcl_context_cl_queue(ctx), p->mem[0], p->mem[3], bytes};
    struct bench_work w = bench_cl_copy_work(&c);
    return bench_time(t, &w, s);
}

/* Host arrays for one dtype at the largest size, filled once with fresh random data. */
struct host_arrays {
    void *x, *dy, *y;
};

static void *alloc_huge(size_t bytes) {
    size_t align = (size_t)2 << 20;
    void *p = aligned_alloc(align, (bytes + align - 1) / align * align);
    return p;
}

static int host_arrays_create(lcl_dtype dtype, size_t n, uint64_t *rng, struct host_arrays *h) {
    size_t bytes = n * lcl_dtype_size(dtype);
    h->x = alloc_huge(bytes);
    h->dy = alloc_huge(bytes);
    h->y = alloc_huge(bytes);
    if (!h->x || !h->dy || !h->y)
        return -1;
    bench_fill(dtype, h->x, n, rng);
    bench_fill(dtype, h->dy, n, rng);
    memcpy(h->y, h->x, bytes); /* touch every page before timing */
    return 0;
}

static void host_arrays_release(struct host_arrays *h) {
    free(h->x);
    free(h->dy);
    free(h->y);
    memset(h, 0, sizeof *h);
}

/* One op of extra.c on the point's tensors, recorded as a resident row. */
static void measure_extra(struct bench_run *run, const char *spec, lcl_context *ctx, enum bench_op op, lcl_dtype dtype,
                          size_t n, struct point *p, double copy_seconds) {
    struct bench_extra e;
    struct bench_stats s;
    progress(run, spec, bench_op_name(op), dtype, n);
    if (bench_extra_setup(&e, ctx, op, n, p->x, p->dy, p->y) != 0) {
        report_failure(run, spec, bench_op_name(op), dtype, n);
        return;
    }
    struct bench_work w = bench_extra_work(&e);
    if (bench_time(&run->opt->timing, &w, &s) == 0)
        record(run, spec, ctx, BENCH_RESIDENT, op, dtype, n, &s, copy_seconds);
    else
        report_failure(run, spec, bench_op_name(op), dtype, n);
    bench_extra_release(&e);
}

/* The point's tensors and the device's own copy of their bytes, timed; -1 (reported, nothing
 * kept) on failure. */
static int point_setup(struct bench_run *run, const char *spec, lcl_context *ctx, lcl_dtype dtype, size_t n,
                       const struct host_arrays *h, struct point *p, struct bench_stats *copy) {
    if (point_create(ctx, dtype, n, h->x, h->dy, p) != 0 ||
        time_copy(ctx, p, h->x, n * lcl_dtype_size(dtype), &run->opt->timing, copy) != 0) {
        report_failure(run, spec, "setup", dtype, n);
        point_release(p);
        return -1;
    }
    return 0;
}

/* 1,000 items of 1,024 elements as one batch call and as 1,000 calls, side by side. */
static void measure_small_items(struct bench_run *run, const char *spec, lcl_context *ctx, lcl_dtype dtype,
                                const struct host_arrays *h) {
    const struct bench_options *o = run->opt;
    size_t n = (size_t)BENCH_SMALL_ITEMS * BENCH_SMALL_ITEM_N;
    if (!o->views[BENCH_RESIDENT] || (!o->ops[BENCH_BATCH_SMALL_ITEMS] && !o->ops[BENCH_CALLS_SMALL_ITEMS]))
        return;
    struct point p;
    struct bench_stats copy = {0, 0, 0, 0};
    if (point_setup(run, spec, ctx, dtype, n, h, &p, &copy) != 0)
        return;
    for (int op = BENCH_BATCH_SMALL_ITEMS; op <= BENCH_CALLS_SMALL_ITEMS; ++op)
        if (o->ops[op])
            measure_extra(run, spec, ctx, (enum bench_op)op, dtype, n, &p, copy.median);
    point_release(&p);
}

static void measure_point(struct bench_run *run, const char *spec, lcl_context *ctx, lcl_dtype dtype, size_t n,
                          const struct host_arrays *h) {
    const struct bench_options *o = run->opt;
    struct point p;
    struct bench_stats copy = {0, 0, 0, 0};
    if (point_setup(run, spec, ctx, dtype, n, h, &p, &copy) != 0)
        return;
    struct bench_stats h2d = {0, 0, 0, 0};
    struct bench_stats d2h = {0, 0, 0, 0};
    if (o->views[BENCH_OFFLOAD] && p.mem[3] &&
        bench_time_transfers(ctx, p.mem[3], n * lcl_dtype_size(dtype), &o->timing, &h2d, &d2h) != 0)
        report_failure(run, spec, "transfers", dtype, n);
    for (int op = 0; op < BENCH_OP_COUNT; ++op) {
        if (!o->ops[op])
            continue;
        struct bench_stats s;
        if (op >= BENCH_FIRST_EXTRA_OP) {
            if (o->views[BENCH_RESIDENT] && op < BENCH_BATCH_SMALL_ITEMS)
                measure_extra(run, spec, ctx, (enum bench_op)op, dtype, n, &p, copy.median);
            continue;
        }
        if (o->views[BENCH_RESIDENT]) {
            struct bench_resident r = {ctx, (enum bench_op)op, p.x, p.dy, p.y};
            struct bench_work w = bench_resident_work(&r);
            progress(run, spec, bench_op_name((enum bench_op)op), dtype, n);
            if (bench_time(&o->timing, &w, &s) == 0)
                record(run, spec, ctx, BENCH_RESIDENT, (enum bench_op)op, dtype, n, &s, copy.median);
            else
                report_failure(run, spec, bench_op_name((enum bench_op)op), dtype, n);
        }
        /* Backward-from-output on host arrays is the same call as backward: not timed twice. */
        if (o->views[BENCH_OFFLOAD] && op != BENCH_BACKWARD_FROM_OUTPUT) {
            struct bench_offload f = {ctx, (enum bench_op)op, dtype, n, h->x, h->dy, h->y};
            struct bench_work w = bench_offload_work(&f);
            progress(run, spec, "offload", dtype, n);
            struct bench_row *r = NULL;
            if (bench_time(&o->timing, &w, &s) == 0) {
                if ((r = record(run, spec, ctx, BENCH_OFFLOAD, (enum bench_op)op, dtype, n, &s, copy.median))) {
                    r->h2d_seconds = h2d.median;
                    r->d2h_seconds = d2h.median;
                }
            } else
                report_failure(run, spec, "offload", dtype, n);
        }
    }
    point_release(&p);
}

/* The largest n the device can hold four arrays of (x, dy, y and the copy's destination). */
static size_t device_cap(lcl_context *ctx, lcl_dtype dtype) {
    size_t size = lcl_dtype_size(dtype);
    cl_device_id device = lcl_context_cl_device(ctx);
    if (!device) {
        long pages = sysconf(_SC_PHYS_PAGES);
        long page = sysconf(_SC_PAGESIZE);
        size_t ram = pages > 0 && page > 0 ? (size_t)pages * (size_t)page : ((size_t)4 << 30);
        return ram / 4 / (4 * size); /* the host arrays and the CPU tensors share the RAM */
    }
    cl_ulong global = 0;
    cl_ulong max_alloc = 0;
    clGetDeviceInfo(device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global, &global, NULL);
    clGetDeviceInfo(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL);
    size_t by_global = (size_t)(global / 2 / (4 * size));
    size_t by_alloc = (size_t)(max_alloc / size);
    return by_global < by_alloc ? by_global : by_alloc;
}

static void measure_device(struct bench_run *run, const char *spec, uint64_t *rng) {
    const struct bench_options *o = run->opt;
    lcl_context *ctx = NULL;
    if (lcl_context_create(spec, &ctx) != LCL_SUCCESS) {
        run->failures++;
        bench_error("%s: %s", spec, lcl_last_error());
        return;
    }
    for (int d = 0; d <= LCL_F64; ++d) {
        lcl_dtype dtype = (lcl_dtype)d;
        if (!o->dtypes[d] || !lcl_context_supports(ctx, dtype))
            continue;
        size_t cap = device_cap(ctx, dtype);
        size_t largest = (size_t)1 << o->max_log2;
        while (largest > cap && largest > 1)
            largest >>= 1;
        struct host_arrays h = {NULL, NULL, NULL};
        if (host_arrays_create(dtype, largest, rng, &h) != 0) {
            run->failures++;
            bench_error("%s: out of host memory for %zu elements of %s", spec, largest, lcl_dtype_name(dtype));
        } else {
            for (unsigned k = o->min_log2; k <= o->max_log2 && ((size_t)1 << k) <= largest; k += o->step_log2)
                measure_point(run, spec, ctx, dtype, (size_t)1 << k, &h);
            if (largest >= (size_t)BENCH_SMALL_ITEMS * BENCH_SMALL_ITEM_N)
                measure_small_items(run, spec, ctx, dtype, &h);
        }
        host_arrays_release(&h);
    }
    lcl_context_release(ctx);
}

/* Fills in each row's CPU-backend time from the CPU backend's row for the same point. */
static void attach_cpu_times(struct bench_rows *rows) {
    for (size_t i = 0; i < rows->count; ++i) {
        struct bench_row *r = &rows->rows[i];
        for (size_t j = 0; j < rows->count; ++j) {
            const struct bench_row *c = &rows->rows[j];
            if (strcmp(c->device, "cpu") == 0 && c->view == r->view && c->op == r->op && c->dtype == r->dtype &&
                c->n == r->n)
                r->cpu_seconds = c->seconds;
        }
    }
}

static size_t count_points(const struct bench_options *o, int device_count) {
    size_t per_size = 0;
    for (int op = 0; op < BENCH_BATCH_SMALL_ITEMS; ++op)
        if (o->ops[op])
            per_size += (size_t)o->views[BENCH_RESIDENT] +
                        (o->views[BENCH_OFFLOAD] && op != BENCH_BACKWARD_FROM_OUTPUT && op < BENCH_FIRST_EXTRA_OP);
    size_t sizes = (o->max_log2 - o->min_log2) / o->step_log2 + 1;
    size_t dtypes = 0;
    for (int d = 0; d <= LCL_F64; ++d)
        dtypes += o->dtypes[d];
    size_t small_items = 0;
    if (o->views[BENCH_RESIDENT] && ((size_t)1 << o->max_log2) >= (size_t)BENCH_SMALL_ITEMS * BENCH_SMALL_ITEM_N)
        small_items = (size_t)o->ops[BENCH_BATCH_SMALL_ITEMS] + o->ops[BENCH_CALLS_SMALL_ITEMS];
    return (per_size * sizes + small_items) * dtypes * (size_t)device_count;
}

int leakycl_bench_main(int argc, char **argv) {
    struct bench_options o;
    int parsed = parse_options(argc, argv, &o);
    if (parsed != 0)
        return parsed == 1 ? 0 : 2;
    char listed[BENCH_MAX_DEVICES][32];
    const char *devices[BENCH_MAX_DEVICES + 1];
    int device_count = 0;
    devices[device_count++] = "cpu"; /* first: every other device is compared with it */
    if (o.device_count == 0 && !o.quick) {
        int count = list_opencl_devices(listed, BENCH_MAX_DEVICES);
        for (int i = 0; i < count; ++i)
            devices[device_count++] = listed[i];
    } else if (o.device_count == 0) {
        const char *env = getenv("LEAKYCL_DEVICE");
        const char *spec = env && *env ? env : "auto";
        lcl_context *probe = NULL;
        /* "auto" may itself be the CPU backend: then there is nothing else to measure. */
        if (lcl_context_create(spec, &probe) == LCL_SUCCESS && lcl_context_backend(probe) == LCL_BACKEND_OPENCL)
            devices[device_count++] = spec;
        lcl_context_release(probe);
    }
    for (int i = 0; i < o.device_count; ++i)
        if (strcmp(o.devices[i], "cpu") != 0)
            devices[device_count++] = o.devices[i];

    struct bench_rows rows = {NULL, 0, 0};
    struct bench_run run = {.opt = &o, .rows = &rows, .progress = isatty(2) != 0};
    run.points_total = count_points(&o, device_count);
    uint64_t rng = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull | 1;
    double start = bench_now();
    for (int i = 0; i < device_count; ++i)
        measure_device(&run, devices[i], &rng);
    if (run.progress)
        fputs("\r\033[K", stderr);
    attach_cpu_times(&rows);

    bench_print_table(stdout, &rows);
    bench_print_crossovers(stdout, &rows);
    bench_print_transfers(stdout, &rows);
    printf("\n%zu points in %.1f s\n", rows.count, bench_now() - start);
    int status = run.failures ? 1 : 0;
    if (o.csv && bench_write_csv(o.csv, &rows) != 0)
        status = 1;
    if (o.json && bench_write_json(o.json, &rows) != 0)
        status = 1;
    if (o.plot && bench_plot(o.plot, &rows) != 0)
        status = 1;
    free(rows.rows);
    return status;
}
