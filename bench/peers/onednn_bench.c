/* oneDNN's eltwise relu with alpha = 0.01 (its leaky ReLU), forward_inference and backward from
 * the source, out of place, timed by leakycl-bench's method (bench/measure.c); CSV rows on stdout
 * in the columns of bench/peers/peerlib.py. Built and run by bench/peers/run_peers.py:
 *
 *     cc -O2 -fopenmp bench/peers/onednn_bench.c -o onednn_bench -ldnnl
 *     OMP_NUM_THREADS=2 ./onednn_bench --min 20 --max 24 --step 2 [--time S] [--samples N]
 *                                      [--dtypes f32,bf16] [--ops forward,backward]
 *
 * oneDNN 2.x (op descriptors) and 3.x (primitive descriptors made directly) are both handled.
 * Threads: oneDNN's CPU runtime; with its OpenMP runtime, OMP_NUM_THREADS or --threads. */
#define _POSIX_C_SOURCE 200809L
#include <dnnl.h>
#include <omp.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ALPHA 0.01f
#define MAX_SAMPLES 31
#define MAX_REPS 100000L

struct options {
    unsigned min_log2, max_log2, step_log2;
    double target_seconds;
    int samples, threads;
    int ops[2];    /* forward, backward */
    int dtypes[2]; /* f32, bf16 */
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define CHECK(call)                                                                                                    \
    do {                                                                                                               \
        dnnl_status_t st_ = (call);                                                                                    \
        if (st_ != dnnl_success) {                                                                                     \
            fprintf(stderr, "onednn: %s failed: status %d\n", #call, (int)st_);                                        \
            return -1;                                                                                                 \
        }                                                                                                              \
    } while (0)

/* ---- data: bench_fill's distribution (no zeros, no subnormals, magnitudes 2^-4 to 2^4) --------- */

static uint64_t rng_next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void fill(int bf16, void *dst, size_t n, uint64_t *state) {
    for (size_t i = 0; i < n; ++i) {
        uint64_t r = rng_next(state);
        uint64_t sign = r & 1, exp_off = (r >> 1) % 9, mant = r >> 12;
        if (bf16)
            ((uint16_t *)dst)[i] = (uint16_t)(sign << 15 | (123 + exp_off) << 7 | (mant & 0x7f));
        else
            ((uint32_t *)dst)[i] = (uint32_t)(sign << 31 | (123 + exp_off) << 23 | (mant & 0x7fffff));
    }
}

static float load(int bf16, const void *p, size_t i) {
    uint32_t bits = bf16 ? (uint32_t)((const uint16_t *)p)[i] << 16 : ((const uint32_t *)p)[i];
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* The contract, one multiply in fp32 rounded once to storage: 1 if out matches bit for bit. */
static int matches(int bf16, int backward, const void *x, const void *dy, const void *out, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        float v = load(bf16, x, i);
        float g = backward ? load(bf16, dy, i) : v;
        float want = v > 0 ? g : ALPHA * g;
        uint32_t bits;
        memcpy(&bits, &want, sizeof bits);
        if (bf16) {
            /* round to nearest even, as oneDNN and leakycl store bf16 (no NaNs in this data) */
            bits = (bits + 0x7fff + ((bits >> 16) & 1)) >> 16;
            if (((const uint16_t *)out)[i] != (uint16_t)bits)
                return 0;
        } else if (((const uint32_t *)out)[i] != bits) {
            return 0;
        }
    }
    return 1;
}

/* ---- oneDNN ---------------------------------------------------------------------------------- */

struct prims {
    dnnl_primitive_t fwd, bwd;
};

static void prims_release(struct prims *p) {
    if (p->fwd)
        dnnl_primitive_destroy(p->fwd);
    if (p->bwd)
        dnnl_primitive_destroy(p->bwd);
    memset(p, 0, sizeof *p);
}

/* Creates the forward_inference and backward primitives for n elements of dt, and three memory
 * objects over the caller's arrays. Returns -1 when oneDNN has no implementation (e.g. bf16 on
 * a CPU without the instructions its bf16 kernels need). */
static int make(dnnl_engine_t engine, dnnl_data_type_t dt, size_t n, void *x, void *dy, void *out, struct prims *p,
                dnnl_memory_t mem[3]) {
    dnnl_dims_t dims = {(dnnl_dim_t)n};
#if DNNL_VERSION_MAJOR >= 3
    dnnl_memory_desc_t md = NULL;
    CHECK(dnnl_memory_desc_create_with_tag(&md, 1, dims, dt, dnnl_a));
    dnnl_primitive_desc_t fwd_pd = NULL, train_pd = NULL, bwd_pd = NULL;
    dnnl_status_t st = dnnl_eltwise_forward_primitive_desc_create(&fwd_pd, engine, dnnl_forward_inference,
                                                                  dnnl_eltwise_relu, md, md, ALPHA, 0.f, NULL);
    if (st == dnnl_success)
        st = dnnl_eltwise_forward_primitive_desc_create(&train_pd, engine, dnnl_forward_training, dnnl_eltwise_relu, md,
                                                        md, ALPHA, 0.f, NULL);
    if (st == dnnl_success)
        st = dnnl_eltwise_backward_primitive_desc_create(&bwd_pd, engine, dnnl_eltwise_relu, md, md, md, ALPHA, 0.f,
                                                         train_pd, NULL);
#else
    dnnl_memory_desc_t mdv;
    const dnnl_memory_desc_t *md = &mdv;
    CHECK(dnnl_memory_desc_init_by_tag(&mdv, 1, dims, dt, dnnl_a));
    dnnl_eltwise_desc_t fwd_d, train_d, bwd_d;
    dnnl_primitive_desc_t fwd_pd = NULL, train_pd = NULL, bwd_pd = NULL;
    CHECK(dnnl_eltwise_forward_desc_init(&fwd_d, dnnl_forward_inference, dnnl_eltwise_relu, md, ALPHA, 0.f));
    CHECK(dnnl_eltwise_forward_desc_init(&train_d, dnnl_forward_training, dnnl_eltwise_relu, md, ALPHA, 0.f));
    CHECK(dnnl_eltwise_backward_desc_init(&bwd_d, dnnl_eltwise_relu, md, md, ALPHA, 0.f));
    dnnl_status_t st = dnnl_primitive_desc_create(&fwd_pd, &fwd_d, NULL, engine, NULL);
    if (st == dnnl_success)
        st = dnnl_primitive_desc_create(&train_pd, &train_d, NULL, engine, NULL);
    if (st == dnnl_success)
        st = dnnl_primitive_desc_create(&bwd_pd, &bwd_d, NULL, engine, train_pd);
#endif
    if (st == dnnl_success)
        st = dnnl_primitive_create(&p->fwd, fwd_pd);
    if (st == dnnl_success)
        st = dnnl_primitive_create(&p->bwd, bwd_pd);
    void *handles[3] = {x, dy, out};
    for (int i = 0; i < 3 && st == dnnl_success; ++i)
        st = dnnl_memory_create(&mem[i], md, engine, handles[i]);
    if (fwd_pd)
        dnnl_primitive_desc_destroy(fwd_pd);
    if (train_pd)
        dnnl_primitive_desc_destroy(train_pd);
    if (bwd_pd)
        dnnl_primitive_desc_destroy(bwd_pd);
#if DNNL_VERSION_MAJOR >= 3
    dnnl_memory_desc_destroy(md);
#endif
    return st == dnnl_success ? 0 : -1;
}

struct work {
    dnnl_primitive_t prim;
    dnnl_stream_t stream;
    int nargs;
    dnnl_exec_arg_t args[3];
};

static int run(const struct work *w) {
    return dnnl_primitive_execute(w->prim, w->stream, w->nargs, w->args) == dnnl_success ? 0 : -1;
}

static double timed_batch(const struct work *w, long reps) {
    double start = now();
    for (long r = 0; r < reps; ++r)
        if (run(w) != 0)
            return -1;
    if (dnnl_stream_wait(w->stream) != dnnl_success)
        return -1;
    return (now() - start) / (double)reps;
}

/* leakycl-bench's method: warm-up excluded, reps calibrated to the target, median of samples. */
static int measure(const struct options *o, const struct work *w, double *median, double *spread) {
    if (timed_batch(w, 1) < 0)
        return -1;
    double once = timed_batch(w, 1);
    if (once < 0)
        return -1;
    long reps = once > 0 ? (long)(o->target_seconds / once) : MAX_REPS;
    reps = reps < 1 ? 1 : reps > MAX_REPS ? MAX_REPS : reps;
    double s[MAX_SAMPLES];
    for (int i = 0; i < o->samples; ++i)
        if ((s[i] = timed_batch(w, reps)) < 0)
            return -1;
    qsort(s, (size_t)o->samples, sizeof s[0], compare_doubles);
    int c = o->samples;
    *median = c % 2 ? s[c / 2] : 0.5 * (s[c / 2 - 1] + s[c / 2]);
    *spread = *median > 0 ? (s[c - 1] - s[0]) / *median : 0;
    return 0;
}

/* ---- driver ---------------------------------------------------------------------------------- */

static int parse_list(const char *text, const char *const names[2], int set[2]) {
    set[0] = set[1] = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (strcmp(t, names[0]) == 0)
            set[0] = 1;
        else if (strcmp(t, names[1]) == 0)
            set[1] = 1;
        else
            fprintf(stderr, "onednn: '%s' not supported here, skipped\n", t);
    }
    return 0;
}

static int parse(int argc, char **argv, struct options *o) {
    static const char *const op_names[2] = {"forward", "backward"};
    static const char *const dtype_names[2] = {"f32", "bf16"};
    *o = (struct options){10, 27, 1, 0.1, 5, 0, {1, 1}, {1, 0}};
    for (int i = 1; i < argc; ++i)
        if (strcmp(argv[i], "--quick") == 0)
            *o = (struct options){12, 24, 4, 0.03, 3, 0, {1, 1}, {1, 0}};
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (strcmp(a, "--quick") == 0)
            continue;
        if (i + 1 >= argc) {
            fprintf(stderr, "onednn: %s needs a value\n", a);
            return 2;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--min") == 0)
            o->min_log2 = (unsigned)atoi(v);
        else if (strcmp(a, "--max") == 0)
            o->max_log2 = (unsigned)atoi(v);
        else if (strcmp(a, "--step") == 0)
            o->step_log2 = (unsigned)atoi(v);
        else if (strcmp(a, "--time") == 0)
            o->target_seconds = atof(v);
        else if (strcmp(a, "--samples") == 0)
            o->samples = atoi(v);
        else if (strcmp(a, "--threads") == 0)
            o->threads = atoi(v);
        else if (strcmp(a, "--ops") == 0)
            parse_list(v, op_names, o->ops);
        else if (strcmp(a, "--dtypes") == 0)
            parse_list(v, dtype_names, o->dtypes);
        else {
            fprintf(stderr, "onednn: unknown option %s\n", a);
            return 2;
        }
    }
    if (o->min_log2 > o->max_log2 || o->max_log2 > 40 || o->step_log2 < 1 || o->samples < 1 ||
        o->samples > MAX_SAMPLES || !(o->target_seconds > 0)) {
        fprintf(stderr, "onednn: bad sizes or timing options\n");
        return 2;
    }
    return 0;
}

int main(int argc, char **argv) {
    struct options o;
    int bad = parse(argc, argv, &o);
    if (bad)
        return bad;
    if (o.threads > 0)
        omp_set_num_threads(o.threads);
    const dnnl_version_t *ver = dnnl_version();
    int threads = omp_get_max_threads();
    fprintf(stderr, "onednn: oneDNN %d.%d.%d (%s), %d threads%s\n", ver->major, ver->minor, ver->patch,
            ver->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP runtime" : "non-OpenMP runtime", threads,
            ver->cpu_runtime == DNNL_RUNTIME_OMP ? "" : " (thread count not controlled)");
    dnnl_engine_t engine = NULL;
    dnnl_stream_t stream = NULL;
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success) {
        fprintf(stderr, "onednn: no CPU engine\n");
        return 1;
    }
    puts("source,call,op,dtype,n,bytes,seconds,spread,samples,gbps,threads,note");
    fflush(stdout);
    uint64_t rng = ((uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid() << 32) | 1;
    int failures = 0;
    size_t largest = (size_t)1 << o.max_log2;
    for (int bf16 = 0; bf16 < 2; ++bf16) {
        if (!o.dtypes[bf16])
            continue;
        size_t size = bf16 ? 2 : 4;
        size_t align = (size_t)2 << 20, alloc = (largest * size + align - 1) / align * align;
        void *bx = aligned_alloc(align, alloc), *bdy = aligned_alloc(align, alloc);
        if (!bx || !bdy) {
            fprintf(stderr, "onednn: out of memory for 2^%u elements\n", o.max_log2);
            free(bx), free(bdy);
            return 1;
        }
        fill(bf16, bx, largest, &rng);
        fill(bf16, bdy, largest, &rng);
        for (unsigned k = o.min_log2; k <= o.max_log2; k += o.step_log2) {
            size_t n = (size_t)1 << k, bytes = n * size;
            size_t a = (bytes + align - 1) / align * align;
            /* fresh arrays per point, every page touched before timing, as leakycl-bench's tensors */
            void *x = aligned_alloc(align, a), *dy = aligned_alloc(align, a), *out = aligned_alloc(align, a);
            struct prims p = {NULL, NULL};
            dnnl_memory_t mem[3] = {NULL, NULL, NULL};
            if (!x || !dy || !out) {
                fprintf(stderr, "onednn: out of memory at n=%zu\n", n);
                failures++;
            } else if (memcpy(x, bx, bytes), memcpy(dy, bdy, bytes), memcpy(out, bx, bytes),
                       make(engine, bf16 ? dnnl_bf16 : dnnl_f32, n, x, dy, out, &p, mem) != 0) {
                fprintf(stderr, "onednn: %s eltwise relu not available here, skipped\n", bf16 ? "bf16" : "f32");
                k = o.max_log2; /* the same for every size */
            } else {
                for (int op = 0; op < 2; ++op) {
                    if (!o.ops[op])
                        continue;
                    struct work w = {op ? p.bwd : p.fwd, stream, op ? 3 : 2, {{0, NULL}}};
                    if (op == 0) {
                        w.args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, mem[0]};
                        w.args[1] = (dnnl_exec_arg_t){DNNL_ARG_DST, mem[2]};
                    } else {
                        w.args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, mem[0]};
                        w.args[1] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_DST, mem[1]};
                        w.args[2] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_SRC, mem[2]};
                    }
                    double median = 0, spread = 0;
                    if (run(&w) != 0 || dnnl_stream_wait(stream) != dnnl_success || measure(&o, &w, &median, &spread)) {
                        fprintf(stderr, "onednn: %s n=%zu failed\n", op ? "backward" : "forward", n);
                        failures++;
                        continue;
                    }
                    int same = matches(bf16, op, x, dy, out, n);
                    if (!same)
                        fprintf(stderr, "onednn: %s %s n=%zu: MISMATCH vs the piecewise formula\n",
                                op ? "backward" : "forward", bf16 ? "bf16" : "f32", n);
                    size_t moved = (op ? 3 : 2) * bytes;
                    printf("onednn,%s,%s,%s,%zu,%zu,%.9g,%.4f,%d,%.4f,%d,%s\n",
                           op ? "dnnl_eltwise_relu backward (src; diff_dst -> diff_src)"
                              : "dnnl_eltwise_relu forward_inference (src -> dst)",
                           op ? "backward" : "forward", bf16 ? "bf16" : "f32", n, moved, median, spread, o.samples,
                           (double)moved / median / 1e9, threads, same ? "" : "MISMATCH vs the piecewise formula");
                    fflush(stdout);
                }
            }
            for (int i = 0; i < 3; ++i)
                if (mem[i])
                    dnnl_memory_destroy(mem[i]);
            prims_release(&p);
            free(x), free(dy), free(out);
        }
        free(bx), free(bdy);
    }
    dnnl_stream_destroy(stream);
    dnnl_engine_destroy(engine);
    return failures ? 1 : 0;
}
