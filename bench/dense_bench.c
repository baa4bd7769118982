/*
 * leakycl-bench-dense: the dense layer's forward against the GEMM alone, and against the unfused
 * sequence an app would write without it, on one device and the same sizes:
 *
 *   gemm     y = x . w^T alone (CLBlast's SGEMM on the context's queue, or cblas_sgemm)
 *   fused    lcl_dense_forward: the GEMM, then one pass y = f(y + b)
 *   unfused  the GEMM, then a separate bias pass, then lcl_forward in place
 *   pass     lcl_forward in place over y alone: the cost of one pass over y
 *
 * Reports the median of --samples samples (each --reps calls, then lcl_finish / clFinish), the
 * fused GFLOP/s (2 * batch * in * out per call), fused / gemm, (fused - gemm) / pass (the
 * epilogue's cost in passes over y: at most about 1) and unfused / fused.
 *
 *   leakycl-bench-dense [--device SPEC] [--shape BxIxO]... [--reps R] [--samples S] [--csv]
 */
#include <leakycl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef LEAKYCL_BENCH_CLBLAST
#include <clblast_c.h>
#endif
#ifdef LEAKYCL_BENCH_CBLAS
#include <cblas.h>
#endif

#define MAX_SHAPES 16
#define ALPHA 0.01

struct shape {
    size_t batch, in, out;
};

struct layer {
    lcl_context *ctx;
    struct shape s;
    cl_mem mem[4]; /* OpenCL: x, w, b, y as the app's buffers; NULL on the CPU backend */
    lcl_tensor *x, *w, *b, *y;
    float *host[4]; /* CPU backend: the tensors' data, for cblas and the bias pass */
    cl_kernel bias;
};

static double now(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, lcl_status st) {
    fprintf(stderr, "leakycl-bench-dense: %s: %s: %s\n", what, lcl_status_string(st), lcl_last_error());
    exit(1);
}

static void fill(float *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)((double)(seed >> 8) / (1 << 24) * 2 - 1);
    }
}

static const char bias_source[] = "__kernel void bias(__global float *y, __global const float *b, ulong out) {\n"
                                  "    size_t i = get_global_id(0);\n"
                                  "    y[i] += b[i % out];\n"
                                  "}\n";

static cl_kernel build_bias(lcl_context *ctx) {
    cl_int err = CL_SUCCESS;
    const char *src = bias_source;
    cl_program p = clCreateProgramWithSource(lcl_context_cl_context(ctx), 1, &src, NULL, &err);
    cl_device_id dev = lcl_context_cl_device(ctx);
    if (err != CL_SUCCESS || clBuildProgram(p, 1, &dev, "", NULL, NULL) != CL_SUCCESS) {
        fprintf(stderr, "leakycl-bench-dense: cannot build the bias kernel\n");
        exit(1);
    }
    cl_kernel k = clCreateKernel(p, "bias", &err);
    clReleaseProgram(p);
    if (err != CL_SUCCESS)
        exit(1);
    return k;
}

static void layer_create(lcl_context *ctx, struct shape s, struct layer *l) {
    memset(l, 0, sizeof *l);
    l->ctx = ctx;
    l->s = s;
    size_t n[4] = {s.batch * s.in, s.out * s.in, s.out, s.batch * s.out};
    lcl_tensor **t[4] = {&l->x, &l->w, &l->b, &l->y};
    int opencl = lcl_context_backend(ctx) == LCL_BACKEND_OPENCL;
    for (int i = 0; i < 4; i++) {
        l->host[i] = malloc(n[i] * sizeof(float));
        if (!l->host[i])
            exit(1);
        fill(l->host[i], n[i], 7u + (unsigned)i);
        lcl_status st;
        if (opencl) {
            cl_int err = CL_SUCCESS;
            l->mem[i] =
                clCreateBuffer(lcl_context_cl_context(ctx), CL_MEM_READ_WRITE, n[i] * sizeof(float), NULL, &err);
            if (err != CL_SUCCESS)
                die("clCreateBuffer", LCL_ERROR_OPENCL);
            st = lcl_tensor_wrap_cl(ctx, LCL_F32, l->mem[i], 0, n[i], t[i]);
        } else {
            st = lcl_tensor_create(ctx, LCL_F32, n[i], t[i]);
        }
        if (st != LCL_SUCCESS || (st = lcl_tensor_write(*t[i], l->host[i])) != LCL_SUCCESS)
            die("tensor", st);
    }
    if (opencl)
        l->bias = build_bias(ctx);
}

static void layer_release(struct layer *l) {
    lcl_tensor *t[4] = {l->x, l->w, l->b, l->y};
    for (int i = 0; i < 4; i++) {
        lcl_tensor_release(t[i]);
        if (l->mem[i])
            clReleaseMemObject(l->mem[i]);
        free(l->host[i]);
    }
    if (l->bias)
        clReleaseKernel(l->bias);
}

/* The CPU backend's tensors live in host memory the bench cannot name: it reads y back only
 * for correctness elsewhere, so cblas and the bias pass work on its own host copies, the same
 * sizes and the same memory traffic. */
static void gemm(struct layer *l) {
    struct shape s = l->s;
    (void)s; /* unused when built without either BLAS */
    if (l->mem[0]) {
#ifdef LEAKYCL_BENCH_CLBLAST
        cl_command_queue q = lcl_context_cl_queue(l->ctx);
        CLBlastStatusCode c =
            CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeYes, s.batch, s.out, s.in, 1.0f,
                         l->mem[0], 0, s.in, l->mem[1], 0, s.in, 0.0f, l->mem[3], 0, s.out, &q, NULL);
        if (c != CLBlastSuccess) {
            fprintf(stderr, "leakycl-bench-dense: CLBlastSgemm: %d\n", (int)c);
            exit(1);
        }
#endif
    } else {
#ifdef LEAKYCL_BENCH_CBLAS
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)s.batch, (int)s.out, (int)s.in, 1.0f, l->host[0],
                    (int)s.in, l->host[1], (int)s.in, 0.0f, l->host[3], (int)s.out);
#endif
    }
}

static void bias_pass(struct layer *l) {
    struct shape s = l->s;
    if (l->mem[0]) {
        cl_ulong out = s.out;
        size_t global = s.batch * s.out;
        clSetKernelArg(l->bias, 0, sizeof(cl_mem), &l->mem[3]);
        clSetKernelArg(l->bias, 1, sizeof(cl_mem), &l->mem[2]);
        clSetKernelArg(l->bias, 2, sizeof out, &out);
        clEnqueueNDRangeKernel(lcl_context_cl_queue(l->ctx), l->bias, 1, NULL, &global, NULL, 0, NULL, NULL);
    } else {
        float *y = l->host[3];
        const float *b = l->host[2];
#pragma omp parallel for schedule(static)
        for (size_t r = 0; r < s.batch; r++)
            for (size_t j = 0; j < s.out; j++)
                y[r * s.out + j] += b[j];
    }
}

enum variant { GEMM, FUSED, UNFUSED, PASS, VARIANTS };
static const char *const variant_names[VARIANTS] = {"gemm", "fused", "unfused", "pass"};

static void run(struct layer *l, enum variant v) {
    struct shape s = l->s;
    lcl_status st = LCL_SUCCESS;
    switch (v) {
    case GEMM:
        gemm(l);
        break;
    case FUSED:
        st = lcl_dense_forward(l->ctx, s.batch, s.in, s.out, ALPHA, l->x, l->w, l->b, l->y);
        break;
    case UNFUSED:
        gemm(l);
        bias_pass(l);
        st = lcl_forward(l->ctx, ALPHA, l->y, l->y);
        break;
    case PASS:
        st = lcl_forward(l->ctx, ALPHA, l->y, l->y);
        break;
    case VARIANTS:
        break;
    }
    if (st != LCL_SUCCESS)
        die(variant_names[v], st);
}

static double median_seconds(struct layer *l, enum variant v, int reps, int samples) {
    double t[64];
    run(l, v); /* warm-up: kernels compiled, workspaces grown */
    lcl_finish(l->ctx);
    for (int k = 0; k < samples; k++) {
        double start = now();
        for (int r = 0; r < reps; r++)
            run(l, v);
        lcl_finish(l->ctx);
        t[k] = (now() - start) / reps;
    }
    for (int i = 1; i < samples; i++)
        for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
            double x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    return t[samples / 2];
}

int main(int argc, char **argv) {
    const char *device = NULL;
    struct shape shapes[MAX_SHAPES];
    int count = 0, reps = 5, samples = 3, csv = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--csv") == 0) {
            csv = 1;
        } else if (i + 1 < argc && strcmp(argv[i], "--device") == 0) {
            device = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--reps") == 0) {
            reps = atoi(argv[++i]);
        } else if (i + 1 < argc && strcmp(argv[i], "--samples") == 0) {
            samples = atoi(argv[++i]);
        } else if (i + 1 < argc && strcmp(argv[i], "--shape") == 0 && count < MAX_SHAPES &&
                   sscanf(argv[++i], "%zux%zux%zu", &shapes[count].batch, &shapes[count].in, &shapes[count].out) == 3) {
            count++;
        } else {
            fprintf(stderr, "usage: leakycl-bench-dense [--device SPEC] [--shape BxIxO]... [--reps R] "
                            "[--samples S<=64] [--csv]\n");
            return 2;
        }
    }
    if (reps < 1 || samples < 1 || samples > 64)
        return 2;
    if (count == 0) {
        shapes[count++] = (struct shape){256, 512, 512};
        shapes[count++] = (struct shape){512, 1024, 1024};
    }
    lcl_context *ctx = NULL;
    lcl_status st = lcl_context_create(device, &ctx);
    if (st != LCL_SUCCESS)
        die("lcl_context_create", st);
    if (csv)
        printf("device,batch,in,out,gemm_ms,fused_ms,unfused_ms,pass_ms,fused_gflops,fused_over_gemm,"
               "epilogue_passes,unfused_over_fused\n");
    else
        printf("device: %s\n%-16s %9s %9s %9s %9s %8s %10s %10s %10s\n", lcl_context_device_name(ctx),
               "batch x in x out", "gemm ms", "fused ms", "unfused", "pass ms", "GFLOP/s", "fused/gemm", "epi/pass",
               "unfus/fus");
    for (int k = 0; k < count; k++) {
        struct layer l;
        layer_create(ctx, shapes[k], &l);
        double t[VARIANTS];
        for (int v = 0; v < VARIANTS; v++)
            t[v] = median_seconds(&l, (enum variant)v, reps, samples);
        struct shape s = shapes[k];
        double gflops = 2.0 * (double)s.batch * (double)s.in * (double)s.out / t[FUSED] * 1e-9;
        double passes = (t[FUSED] - t[GEMM]) / t[PASS];
        if (csv)
            printf("\"%s\",%zu,%zu,%zu,%.4f,%.4f,%.4f,%.4f,%.2f,%.3f,%.2f,%.3f\n", lcl_context_device_name(ctx),
                   s.batch, s.in, s.out, t[GEMM] * 1e3, t[FUSED] * 1e3, t[UNFUSED] * 1e3, t[PASS] * 1e3, gflops,
                   t[FUSED] / t[GEMM], passes, t[UNFUSED] / t[FUSED]);
        else
            printf("%5zux%5zux%5zu %9.3f %9.3f %9.3f %9.3f %8.1f %10.3f %10.2f %10.3f\n", s.batch, s.in, s.out,
                   t[GEMM] * 1e3, t[FUSED] * 1e3, t[UNFUSED] * 1e3, t[PASS] * 1e3, gflops, t[FUSED] / t[GEMM], passes,
                   t[UNFUSED] / t[FUSED]);
        layer_release(&l);
    }
    lcl_context_release(ctx);
    return 0;
}
