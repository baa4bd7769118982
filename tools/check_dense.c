/*
 * `leakycl check`, the dense layer: GEMMs are not bit-exact across BLAS libraries, so the device's
 * y, dx, dw and db are compared with the CPU backend's within a normwise relative error, and the
 * epilogue, which is exact, is checked bit for bit on each backend against its own GEMM: y must
 * equal f(z + b) where z is the same layer run with alpha = 1 and no bias (f is then the
 * identity). The backward with a negative alpha must be rejected, its outputs untouched. A
 * build without the BLAS a backend needs (LCL_ERROR_UNSUPPORTED) skips the dense lines.
 */
#include "check_dense.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A shape with odd sizes, one for every run: CLBlast compiles its kernels once per context. */
#define BATCH 67
#define IN 129
#define OUT 35
#define TOLERANCE 1e-5

enum { X, W, B, DY, Y, DX, DW, DB, Z, TENSOR_COUNT };
static const size_t sizes[TENSOR_COUNT] = {BATCH * IN, OUT *IN, OUT, BATCH *OUT, BATCH *OUT,
                                           BATCH *IN,  OUT *IN, OUT, BATCH *OUT};

/* Host copies of every tensor: the inputs, and one backend's outputs. */
struct layer {
    float *v[TENSOR_COUNT];
};

static uint64_t next(uint64_t *s) {
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static int layer_alloc(struct layer *l) {
    int ok = 1;
    for (int i = 0; i < TENSOR_COUNT; i++) {
        l->v[i] = malloc(sizes[i] * sizeof(float));
        ok = ok && l->v[i] != NULL;
    }
    return ok;
}

static void layer_free(struct layer *l) {
    for (int i = 0; i < TENSOR_COUNT; i++) {
        free(l->v[i]);
    }
}

static void fill_inputs(struct layer *l, uint64_t seed) {
    uint64_t s = seed ^ UINT64_C(0xD3A5E);
    for (int i = X; i <= DY; i++) {
        for (size_t k = 0; k < sizes[i]; k++) {
            l->v[i][k] = (float)((double)(next(&s) >> 11) * 0x1p-52 - 1.0); /* [-1, 1) */
        }
    }
}

/* Runs the forward (y, and z with alpha 1, no bias) and the backward on ctx; outputs into out. */
static lcl_status run_layer(lcl_context *ctx, double alpha, const struct layer *in, struct layer *out) {
    lcl_tensor *t[TENSOR_COUNT] = {NULL};
    lcl_status st = LCL_SUCCESS;
    for (int i = 0; i < TENSOR_COUNT && st == LCL_SUCCESS; i++) {
        st = lcl_tensor_create(ctx, LCL_F32, sizes[i], &t[i]);
        if (st == LCL_SUCCESS && i <= DY) {
            st = lcl_tensor_write(t[i], in->v[i]);
        }
    }
    if (st == LCL_SUCCESS) {
        st = lcl_dense_forward(ctx, BATCH, IN, OUT, 1.0, t[X], t[W], NULL, t[Z]);
    }
    if (st == LCL_SUCCESS) {
        st = lcl_dense_forward(ctx, BATCH, IN, OUT, alpha, t[X], t[W], t[B], t[Y]);
    }
    if (st == LCL_SUCCESS && alpha >= 0) {
        st = lcl_dense_backward(ctx, BATCH, IN, OUT, alpha, t[X], t[W], t[Y], t[DY], t[DX], t[DW], t[DB]);
    }
    for (int i = Y; i < TENSOR_COUNT && st == LCL_SUCCESS; i++) {
        if (alpha >= 0 || i == Y || i == Z) {
            st = lcl_tensor_read(t[i], out->v[i]);
        }
    }
    for (int i = 0; i < TENSOR_COUNT; i++) {
        lcl_tensor_release(t[i]);
    }
    return st;
}

static double rel_error(const float *got, const float *want, size_t n) {
    double diff = 0;
    double norm = 0;
    for (size_t i = 0; i < n; i++) {
        double e = (double)got[i] - (double)want[i];
        diff += e * e;
        norm += (double)want[i] * (double)want[i];
    }
    return norm > 0 ? sqrt(diff / norm) : sqrt(diff);
}

/* How many elements of y differ from f(z + b) in fp32, bit for bit. */
static size_t epilogue_mismatches(const struct layer *l, const float *b, double alpha) {
    float a = (float)alpha;
    size_t bad = 0;
    for (size_t r = 0; r < BATCH; r++) {
        for (size_t j = 0; j < OUT; j++) {
            float v = l->v[Z][r * OUT + j] + b[j];
            float want = v > 0 ? v : a * v;
            bad += memcmp(&want, &l->v[Y][r * OUT + j], sizeof want) != 0;
        }
    }
    return bad;
}

static void report(struct dense_tally *tally, int pass, const char *op, double alpha, const char *detail) {
    printf("%s  %-21s f32  alpha=%-8g %dx%dx%d (batch x in x out), %s\n", pass ? "PASS" : "FAIL", op, alpha, BATCH, IN,
           OUT, detail);
    if (pass) {
        tally->passed++;
    } else {
        tally->failed++;
    }
}

static void check_forward(const struct layer *in, const struct layer *dev, const struct layer *cpu, double alpha,
                          struct dense_tally *tally) {
    double err = rel_error(dev->v[Y], cpu->v[Y], sizes[Y]);
    size_t dev_bad = epilogue_mismatches(dev, in->v[B], alpha);
    size_t cpu_bad = epilogue_mismatches(cpu, in->v[B], alpha);
    char detail[160];
    snprintf(detail, sizeof detail, "y vs CPU backend: rel err %.2g; epilogue f(z + b): %zu + %zu mismatches", err,
             dev_bad, cpu_bad);
    report(tally, err <= TOLERANCE && dev_bad == 0 && cpu_bad == 0, "dense_forward", alpha, detail);
}

static void check_backward(const struct layer *dev, const struct layer *cpu, double alpha, struct dense_tally *tally) {
    double worst = 0;
    for (int i = DX; i <= DB; i++) {
        double err = rel_error(dev->v[i], cpu->v[i], sizes[i]);
        worst = err > worst || isnan(err) ? err : worst;
    }
    char detail[160];
    snprintf(detail, sizeof detail, "dx, dw, db vs CPU backend: worst rel err %.2g", worst);
    report(tally, worst <= TOLERANCE, "dense_backward", alpha, detail);
}

/* alpha < 0: the backward is rejected before anything is written. */
static void check_rejected(lcl_context *ctx, double alpha, struct dense_tally *tally) {
    lcl_tensor *t[TENSOR_COUNT] = {NULL};
    lcl_status st = LCL_SUCCESS;
    for (int i = 0; i < TENSOR_COUNT && st == LCL_SUCCESS; i++) {
        st = lcl_tensor_create(ctx, LCL_F32, sizes[i], &t[i]);
    }
    float *before = malloc(sizes[DW] * sizeof(float));
    float *after = malloc(sizes[DW] * sizeof(float));
    int untouched = 0;
    if (st == LCL_SUCCESS && before != NULL && after != NULL) {
        memset(before, 0x5A, sizes[DW] * sizeof(float));
        if (lcl_tensor_write(t[DW], before) == LCL_SUCCESS) {
            st = lcl_dense_backward(ctx, BATCH, IN, OUT, alpha, t[X], t[W], t[Y], t[DY], t[DX], t[DW], t[DB]);
            untouched =
                lcl_tensor_read(t[DW], after) == LCL_SUCCESS && memcmp(before, after, sizes[DW] * sizeof(float)) == 0;
        }
    }
    report(tally, st == LCL_ERROR_INVALID_ARGUMENT && untouched, "dense_backward", alpha,
           "alpha < 0 rejected (LCL_ERROR_INVALID_ARGUMENT), dw untouched");
    free(before);
    free(after);
    for (int i = 0; i < TENSOR_COUNT; i++) {
        lcl_tensor_release(t[i]);
    }
}

void check_dense(lcl_context *ctx, lcl_context *ref, double alpha, uint64_t seed, struct dense_tally *tally) {
    struct layer in, dev, cpu;
    int ok = layer_alloc(&in) & layer_alloc(&dev) & layer_alloc(&cpu);
    lcl_status st = LCL_SUCCESS;
    if (ok) {
        fill_inputs(&in, seed);
        const char *where = "device";
        if ((st = run_layer(ctx, alpha, &in, &dev)) == LCL_SUCCESS) {
            where = "CPU backend";
            st = run_layer(ref, alpha, &in, &cpu);
        }
        if (st != LCL_SUCCESS) {
            printf("%s  %-21s f32  alpha=%-8g %s: %s: %s\n", st == LCL_ERROR_UNSUPPORTED ? "NOTE" : "FAIL", "dense",
                   alpha, where, lcl_status_string(st), lcl_last_error());
        }
    } else {
        printf("FAIL  %-21s f32  alpha=%-8g out of memory\n", "dense", alpha);
    }
    if (ok && st == LCL_ERROR_UNSUPPORTED) {
        /* Built without the BLAS this backend needs: the message above names it. */
        printf("SKIP  %-21s f32  alpha=%-8g (the line above says why)\n", "dense", alpha);
    } else if (!ok || st != LCL_SUCCESS) {
        tally->failed++;
    } else {
        check_forward(&in, &dev, &cpu, alpha, tally);
        if (alpha >= 0) {
            check_backward(&dev, &cpu, alpha, tally);
        } else {
            check_rejected(ctx, alpha, tally);
        }
    }
    layer_free(&in);
    layer_free(&dev);
    layer_free(&cpu);
}
