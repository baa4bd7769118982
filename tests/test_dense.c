/* The dense layer: y, dx, dw and db against an fp64 reference written here (plain loops, double
 * accumulation) within a normwise relative error of 1e-5; a central-difference gradient check
 * of a scalar loss in fp64 against the backend's gradients (1e-3); sizes 1x1x1, odd, batch 1,
 * no bias and a large case, alpha 0, 0.01 and 0.2, tensors at odd element offsets; db's bits
 * the same on a second run; NaN in x reaching y; bad calls rejected with nothing written.
 * CLBlast compiles its GEMM kernels on first use, so the number of shapes stays small. */
#include "common.h"

#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct dims {
    size_t batch, in, out;
} dims;

/* Host arrays of one case; b may be NULL. */
typedef struct layer {
    dims d;
    double alpha;
    float *x, *w, *b, *dy;
} layer;

typedef struct grads {
    float *y, *dx, *dw, *db;
} grads;

static float uniform(test_rng *rng) { return (float)(((double)rng_below(rng, 2000001) - 1000000.0) / 1000000.0); }

static float *random_floats(size_t n, test_rng *rng) {
    float *p = malloc((n ? n : 1) * sizeof *p);
    cr_assert(p);
    for (size_t i = 0; i < n; ++i)
        p[i] = uniform(rng);
    return p;
}

static layer layer_random(dims d, double alpha, int bias, test_rng *rng) {
    layer l = {d,
               alpha,
               random_floats(d.batch * d.in, rng),
               random_floats(d.out * d.in, rng),
               NULL,
               random_floats(d.batch * d.out, rng)};
    if (bias)
        l.b = random_floats(d.out, rng);
    return l;
}

static void layer_free(layer *l) {
    free(l->x);
    free(l->w);
    free(l->b);
    free(l->dy);
}

static void grads_free(grads *g) {
    free(g->y);
    free(g->dx);
    free(g->dw);
    free(g->db);
}

/* ---- the fp64 reference --------------------------------------------------------------------- */

static double leaky(double alpha, double v) { return v > 0 ? v : alpha * v; }

/* z = x . w^T + b (before the activation); x and w given in double. */
static void ref_pre(dims d, const double *x, const double *w, const double *b, double *z) {
    for (size_t r = 0; r < d.batch; ++r)
        for (size_t j = 0; j < d.out; ++j) {
            double s = b ? b[j] : 0.0;
            for (size_t k = 0; k < d.in; ++k)
                s += x[r * d.in + k] * w[j * d.in + k];
            z[r * d.out + j] = s;
        }
}

static double *widen(const float *p, size_t n) {
    double *q = malloc((n ? n : 1) * sizeof *q);
    cr_assert(q);
    for (size_t i = 0; i < n; ++i)
        q[i] = p[i];
    return q;
}

/* y, dx, dw and db of the layer in double. The backward selects on the sign of y_sel, the
 * backend's own forward output: the backward takes y, and where the fp64 and the fp32 products
 * fall on opposite sides of 0 the two would otherwise take different branches. */
typedef struct ref {
    double *y, *dx, *dw, *db;
} ref;

static ref ref_layer(const layer *l, const float *y_sel) {
    dims d = l->d;
    double *x = widen(l->x, d.batch * d.in), *w = widen(l->w, d.out * d.in);
    double *b = l->b ? widen(l->b, d.out) : NULL;
    ref r = {malloc(d.batch * d.out * sizeof(double)), calloc(d.batch * d.in, sizeof(double)),
             calloc(d.out * d.in, sizeof(double)), calloc(d.out, sizeof(double))};
    double *dz = malloc(d.batch * d.out * sizeof(double));
    cr_assert(r.y && r.dx && r.dw && r.db && dz);
    ref_pre(d, x, w, b, r.y);
    for (size_t i = 0; i < d.batch * d.out; ++i) {
        dz[i] = y_sel[i] > 0 ? l->dy[i] : l->alpha * l->dy[i];
        r.y[i] = leaky(l->alpha, r.y[i]);
    }
    for (size_t row = 0; row < d.batch; ++row)
        for (size_t j = 0; j < d.out; ++j) {
            double g = dz[row * d.out + j];
            r.db[j] += g;
            for (size_t k = 0; k < d.in; ++k) {
                r.dx[row * d.in + k] += g * w[j * d.in + k];
                r.dw[j * d.in + k] += g * x[row * d.in + k];
            }
        }
    free(dz);
    free(x);
    free(w);
    free(b);
    return r;
}

static void ref_free(ref *r) {
    free(r->y);
    free(r->dx);
    free(r->dw);
    free(r->db);
}

/* ||got - want|| / ||want||, or ||got|| when want is all zero. */
static double rel_error(const float *got, const double *want, size_t n) {
    double diff = 0, norm = 0;
    for (size_t i = 0; i < n; ++i) {
        double e = (double)got[i] - want[i];
        diff += e * e;
        norm += want[i] * want[i];
    }
    return norm > 0 ? sqrt(diff / norm) : sqrt(diff);
}

static void assert_close(const char *what, const layer *l, const float *got, const double *want, size_t n, double tol) {
    double err = rel_error(got, want, n);
    size_t worst = 0;
    for (size_t i = 1; i < n; ++i)
        if (fabs(got[i] - want[i]) > fabs(got[worst] - want[worst]))
            worst = i;
    cr_assert(err <= tol,
              "%s: batch %zu, in %zu, out %zu, alpha %g, %s bias: normwise relative error %.3g > %.3g (worst "
              "element %zu: got %.9g, reference %.17g; seed %llu)",
              what, l->d.batch, l->d.in, l->d.out, l->alpha, l->b ? "with" : "no", err, tol, worst, (double)got[worst],
              want[worst], (unsigned long long)test_seed());
}

/* ---- running the library -------------------------------------------------------------------- */

/* A view of n elements at offset `off` in a fresh tensor, written from `data` or poisoned. */
static lcl_tensor *placed(lcl_context *ctx, size_t n, size_t off, const float *data, lcl_tensor **parent) {
    *parent = tensor_poisoned(ctx, LCL_F32, n + off + 3);
    lcl_tensor *v = view_new(*parent, off, n);
    if (data)
        OK(lcl_tensor_write(v, data));
    return v;
}

/* Forward, then backward into every gradient, the tensors at element offsets from `off`. */
static grads run_layer(lcl_context *ctx, const layer *l, size_t off) {
    dims d = l->d;
    enum { X, W, B, DY, Y, DX, DW, DB, COUNT };
    const size_t n[COUNT] = {d.batch * d.in,  d.out * d.in,   d.out,        d.batch * d.out,
                             d.batch * d.out, d.batch * d.in, d.out * d.in, d.out};
    const float *data[COUNT] = {l->x, l->w, l->b, l->dy, NULL, NULL, NULL, NULL};
    lcl_tensor *parent[COUNT] = {NULL}, *t[COUNT] = {NULL};
    for (int i = 0; i < COUNT; ++i)
        if (i != B || l->b)
            t[i] = placed(ctx, n[i], off + (size_t)i % 3, data[i], &parent[i]);
    OK(lcl_dense_forward(ctx, d.batch, d.in, d.out, l->alpha, t[X], t[W], t[B], t[Y]));
    OK(lcl_dense_backward(ctx, d.batch, d.in, d.out, l->alpha, t[X], t[W], t[Y], t[DY], t[DX], t[DW], t[DB]));
    grads g = {tensor_fetch(t[Y]), tensor_fetch(t[DX]), tensor_fetch(t[DW]), tensor_fetch(t[DB])};
    for (int i = Y; i < COUNT; ++i) { /* nothing written around the outputs */
        float *whole = tensor_fetch(parent[i]);
        size_t start = off + (size_t)i % 3;
        check_poisoned(LCL_F32, start, whole, "dense: before output %d", i);
        check_poisoned(LCL_F32, 3, whole + start + n[i], "dense: after output %d", i);
        free(whole);
    }
    for (int i = 0; i < COUNT; ++i) {
        lcl_tensor_release(t[i]);
        lcl_tensor_release(parent[i]);
    }
    return g;
}

static void check_layer(lcl_context *ctx, const layer *l, size_t off) {
    dims d = l->d;
    grads g = run_layer(ctx, l, off);
    ref r = ref_layer(l, g.y);
    assert_close("y", l, g.y, r.y, d.batch * d.out, 1e-5);
    assert_close("dx", l, g.dx, r.dx, d.batch * d.in, 1e-5);
    assert_close("dw", l, g.dw, r.dw, d.out * d.in, 1e-5);
    assert_close("db", l, g.db, r.db, d.out, 1e-5);
    ref_free(&r);
    grads_free(&g);
}

/* ---- accuracy --------------------------------------------------------------------------------- */

Test(dense, small_shapes_alphas_and_bias) {
    static const dims shapes[] = {{1, 1, 1}, {7, 13, 5}, {1, 13, 5}, {70, 13, 5}};
    static const double alphas[] = {0.0, 0.01, 0.2};
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s)
        for (size_t a = 0; a < 3; ++a)
            for (int bias = 0; bias < 2; ++bias) {
                layer l = layer_random(shapes[s], alphas[a], bias, &rng);
                check_layer(ctx, &l, (s + a) % 4);
                layer_free(&l);
            }
    lcl_context_release(ctx);
}

/* 512 x 1024 x 1024, and db's bits the same on a second run. */
Test(dense, large_and_deterministic, .timeout = 240) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    layer l = layer_random((dims){512, 1024, 1024}, 0.01, 1, &rng);
    check_layer(ctx, &l, 0);
    grads a = run_layer(ctx, &l, 1), b = run_layer(ctx, &l, 2);
    cr_assert(memcmp(a.db, b.db, l.d.out * sizeof(float)) == 0, "db differs between two runs");
    grads_free(&a);
    grads_free(&b);
    layer_free(&l);
    lcl_context_release(ctx);
}

/* The loss L = sum(dy . y): central differences on the fp64 reference give dL/dx, dL/dw and
 * dL/db, which the backend's gradients (dy as the incoming gradient) must match to 1e-3. */
typedef struct params {
    double *x, *w, *b;
} params;

static double loss(const layer *l, const params *p) {
    dims d = l->d;
    double *z = malloc(d.batch * d.out * sizeof *z), sum = 0;
    cr_assert(z);
    ref_pre(d, p->x, p->w, p->b, z);
    for (size_t i = 0; i < d.batch * d.out; ++i)
        sum += l->dy[i] * leaky(l->alpha, z[i]);
    free(z);
    return sum;
}

/* dL/dv[i] for the n values of v (one of p's arrays), by central differences. */
static double *numeric_grad(const layer *l, const params *p, double *v, size_t n) {
    const double h = 1e-6;
    double *out = malloc(n * sizeof *out);
    cr_assert(out);
    for (size_t i = 0; i < n; ++i) {
        double keep = v[i];
        v[i] = keep + h;
        double up = loss(l, p);
        v[i] = keep - h;
        double down = loss(l, p);
        v[i] = keep;
        out[i] = (up - down) / (2 * h);
    }
    return out;
}

Test(dense, finite_differences) {
    static const double alphas[] = {0.0, 0.01, 0.2};
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    for (size_t a = 0; a < 3; ++a) {
        layer l = layer_random((dims){7, 13, 5}, alphas[a], 1, &rng);
        dims d = l.d;
        grads g = run_layer(ctx, &l, 1);
        params p = {widen(l.x, d.batch * d.in), widen(l.w, d.out * d.in), widen(l.b, d.out)};
        double *num_dx = numeric_grad(&l, &p, p.x, d.batch * d.in);
        double *num_dw = numeric_grad(&l, &p, p.w, d.out * d.in);
        double *num_db = numeric_grad(&l, &p, p.b, d.out);
        assert_close("dx against finite differences", &l, g.dx, num_dx, d.batch * d.in, 1e-3);
        assert_close("dw against finite differences", &l, g.dw, num_dw, d.out * d.in, 1e-3);
        assert_close("db against finite differences", &l, g.db, num_db, d.out, 1e-3);
        free(num_dx);
        free(num_dw);
        free(num_db);
        free(p.x);
        free(p.w);
        free(p.b);
        grads_free(&g);
        layer_free(&l);
    }
    lcl_context_release(ctx);
}

/* A NaN in row r of x makes row r of y NaN and leaves the other rows finite. */
Test(dense, nan_propagates) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    layer l = layer_random((dims){7, 13, 5}, 0.01, 1, &rng);
    l.x[3 * 13 + 4] = NAN;
    lcl_tensor *x = tensor_with(ctx, LCL_F32, 7 * 13, l.x), *w = tensor_with(ctx, LCL_F32, 5 * 13, l.w);
    lcl_tensor *b = tensor_with(ctx, LCL_F32, 5, l.b), *y = tensor_poisoned(ctx, LCL_F32, 7 * 5);
    OK(lcl_dense_forward(ctx, 7, 13, 5, 0.01, x, w, b, y));
    float *got = tensor_fetch(y);
    for (size_t r = 0; r < 7; ++r)
        for (size_t j = 0; j < 5; ++j)
            cr_assert(r == 3 ? isnan(got[r * 5 + j]) : isfinite(got[r * 5 + j]), "y[%zu][%zu] = %g", r, j,
                      (double)got[r * 5 + j]);
    free(got);
    lcl_tensor_release(x);
    lcl_tensor_release(w);
    lcl_tensor_release(b);
    lcl_tensor_release(y);
    layer_free(&l);
    lcl_context_release(ctx);
}

/* Any gradient may be skipped: the others come out as with all three. */
Test(dense, optional_gradients) {
    lcl_context *ctx = test_context();
    test_rng rng;
    rng_init(&rng, 0);
    layer l = layer_random((dims){7, 13, 5}, 0.2, 1, &rng);
    grads all = run_layer(ctx, &l, 0);
    lcl_tensor *x = tensor_with(ctx, LCL_F32, 7 * 13, l.x), *w = tensor_with(ctx, LCL_F32, 5 * 13, l.w);
    lcl_tensor *y = tensor_with(ctx, LCL_F32, 7 * 5, all.y), *dy = tensor_with(ctx, LCL_F32, 7 * 5, l.dy);
    lcl_tensor *dx = tensor_poisoned(ctx, LCL_F32, 7 * 13), *dw = tensor_poisoned(ctx, LCL_F32, 5 * 13);
    lcl_tensor *db = tensor_poisoned(ctx, LCL_F32, 5);
    for (int mask = 0; mask < 8; ++mask) {
        tensor_poison(dx);
        tensor_poison(dw);
        tensor_poison(db);
        OK(lcl_dense_backward(ctx, 7, 13, 5, 0.2, x, w, y, dy, mask & 1 ? dx : NULL, mask & 2 ? dw : NULL,
                              mask & 4 ? db : NULL));
        lcl_tensor *outs[3] = {dx, dw, db};
        float *want[3] = {all.dx, all.dw, all.db};
        for (int k = 0; k < 3; ++k) {
            float *got = tensor_fetch(outs[k]);
            size_t n = lcl_tensor_size(outs[k]);
            if (mask & (1 << k))
                cr_assert(memcmp(got, want[k], n * sizeof(float)) == 0, "gradient %d with mask %d differs", k, mask);
            else
                check_poisoned(LCL_F32, n, got, "gradient %d not asked for (mask %d)", k, mask);
            free(got);
        }
    }
    lcl_tensor *ts[] = {x, w, y, dy, dx, dw, db};
    for (size_t i = 0; i < 7; ++i)
        lcl_tensor_release(ts[i]);
    grads_free(&all);
    layer_free(&l);
    lcl_context_release(ctx);
}

/* ---- bad calls ---------------------------------------------------------------------------------- */

Test(dense, bad_calls_change_nothing) {
    enum { B = 3, I = 4, O = 2 };
    lcl_context *ctx = test_context(), *cpu = test_cpu_context();
    float hx[B * I], hw[O * I], hb[O] = {0.5f, -0.5f};
    for (size_t i = 0; i < B * I; ++i)
        hx[i] = (float)i - 5.0f;
    for (size_t i = 0; i < O * I; ++i)
        hw[i] = 0.25f * (float)i - 1.0f;
    lcl_tensor *x = tensor_with(ctx, LCL_F32, B * I, hx), *w = tensor_with(ctx, LCL_F32, O * I, hw);
    lcl_tensor *b = tensor_with(ctx, LCL_F32, O, hb), *dy = tensor_with(ctx, LCL_F32, B * O, hx);
    lcl_tensor *yin = tensor_with(ctx, LCL_F32, B * O, hx);
    lcl_tensor *y = tensor_poisoned(ctx, LCL_F32, B * O), *dx = tensor_poisoned(ctx, LCL_F32, B * I);
    lcl_tensor *dw = tensor_poisoned(ctx, LCL_F32, O * I), *db = tensor_poisoned(ctx, LCL_F32, O);
    lcl_tensor *short_x = tensor_with(ctx, LCL_F32, B * I - 1, hx), *f16_x = tensor_poisoned(ctx, LCL_F16, B * I);
    lcl_tensor *f64_y = tensor_poisoned(ctx, LCL_F64, B * O), *other_w = tensor_poisoned(cpu, LCL_F32, O * I);
    lcl_tensor *long_b = tensor_with(ctx, LCL_F32, O + 1, hx);
    /* Overlaps: one buffer holding x and (partly, or wholly) y. */
    lcl_tensor *big = tensor_poisoned(ctx, LCL_F32, 4 * B * I);
    lcl_tensor *big_x = view_new(big, 0, B * I), *big_y = view_new(big, B * I - 2, B * O);
    lcl_tensor *x_as_dy = view_new(big, 0, B * O), *dx_over = view_new(big, 1, B * I);
    lcl_tensor *poisoned[] = {y, dx, dw, db, big};
    struct {
        lcl_status got;
        const char *what;
    } cases[] = {
        {lcl_dense_forward(NULL, B, I, O, 0.1, x, w, b, y), "NULL ctx"},
        {lcl_dense_forward(ctx, B, I, O, 0.1, NULL, w, b, y), "NULL x"},
        {lcl_dense_forward(ctx, B, I, O, 0.1, x, NULL, b, y), "NULL w"},
        {lcl_dense_forward(ctx, B, I, O, 0.1, x, w, b, NULL), "NULL y"},
        {lcl_dense_forward(ctx, 0, I, O, 0.1, x, w, b, y), "batch 0"},
        {lcl_dense_forward(ctx, B, I, O, NAN, x, w, b, y), "NaN alpha"},
        {lcl_dense_forward(ctx, B, I, O, INFINITY, x, w, b, y), "infinite alpha"},
        {lcl_dense_forward(ctx, B, I, O, 1e300, x, w, b, y), "alpha beyond fp32"},
        {lcl_dense_forward(ctx, B + 1, I, O, 0.1, x, w, b, y), "batch too large for x"},
        {lcl_dense_forward(ctx, B, I + 1, O, 0.1, x, w, b, y), "in too large for x"},
        {lcl_dense_forward(ctx, B, I, O + 1, 0.1, x, w, b, y), "out too large for w"},
        {lcl_dense_forward(ctx, B, I, O, 0.1, short_x, w, b, y), "x one short"},
        {lcl_dense_forward(ctx, B, I, O, 0.1, x, w, long_b, y), "b one long"},
        {lcl_dense_forward(ctx, B, I, O, 0.1, f16_x, w, b, y), "f16 x"},
        {lcl_dense_forward(ctx, B, I, O, 0.1, x, w, b, f64_y), "f64 y"},
        {lcl_dense_forward(ctx, B, I, O, 0.1, x, other_w, b, y), "w of another context"},
        {lcl_dense_forward(ctx, B, I, O, 0.1, big_x, w, b, big_y), "y partly over x"},
        {lcl_dense_forward(ctx, SIZE_MAX / 2, 3, O, 0.1, x, w, b, y), "batch * in overflows"},
        {lcl_dense_backward(ctx, B, I, O, -0.1, x, w, yin, dy, dx, dw, db), "backward: alpha < 0"},
        {lcl_dense_backward(ctx, B, I, O, NAN, x, w, yin, dy, dx, dw, db), "backward: NaN alpha"},
        {lcl_dense_backward(ctx, B, I, O, 0.1, NULL, w, yin, dy, dx, dw, db), "backward: NULL x"},
        {lcl_dense_backward(ctx, B, I, O, 0.1, x, NULL, yin, dy, dx, dw, db), "backward: NULL w"},
        {lcl_dense_backward(ctx, B, I, O, 0.1, x, w, NULL, dy, dx, dw, db), "backward: NULL y"},
        {lcl_dense_backward(ctx, B, I, O, 0.1, x, w, yin, NULL, dx, dw, db), "backward: NULL dy"},
        {lcl_dense_backward(ctx, B, I, O, 0.1, x, w, yin, dy, dw, dw, db), "backward: dx of the wrong size"},
        {lcl_dense_backward(ctx, B, I, O, 0.1, x, w, yin, dy, dx, dw, y), "backward: db of the wrong size"},
        {lcl_dense_backward(ctx, B, I, O, 0.1, f16_x, w, yin, dy, dx, dw, db), "backward: f16 x"},
        {lcl_dense_backward(ctx, B, I, O, 0.1, big_x, w, yin, x_as_dy, dx_over, dw, db), "backward: dx over x"},
        {lcl_dense_backward(ctx, B, I, O, 0.1, x, w, yin, dy, dx, dw, x_as_dy), "backward: db over x's buffer"},
    };
    (void)dx_over;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        cr_assert(cases[i].got == LCL_ERROR_INVALID_ARGUMENT, "%s: got %s, expected LCL_ERROR_INVALID_ARGUMENT",
                  cases[i].what, lcl_status_string(cases[i].got));
        for (size_t k = 0; k < sizeof poisoned / sizeof poisoned[0]; ++k) {
            void *got = tensor_fetch(poisoned[k]);
            check_poisoned(LCL_F32, lcl_tensor_size(poisoned[k]), got, "%s: output %zu", cases[i].what, k);
            free(got);
        }
    }
    EXPECT_STATUS(lcl_dense_forward(ctx, B, I, O, 0.1, f16_x, w, b, y), LCL_ERROR_INVALID_ARGUMENT);
    cr_assert(strstr(lcl_last_error(), "f32"), "message: \"%s\"", lcl_last_error());
    EXPECT_STATUS(lcl_dense_backward(ctx, B, I, O, -1, x, w, yin, dy, dx, dw, db), LCL_ERROR_INVALID_ARGUMENT);
    cr_assert(strstr(lcl_last_error(), "alpha"), "message: \"%s\"", lcl_last_error());
    EXPECT_STATUS(lcl_dense_forward(ctx, B, I, O, 0.1, big_x, w, b, big_y), LCL_ERROR_INVALID_ARGUMENT);
    cr_assert(strstr(lcl_last_error(), "overlaps"), "message: \"%s\"", lcl_last_error());
    lcl_tensor *all[] = {x,     w,     b,       dy,     yin, y,     dx,    dw,      db,     short_x,
                         f16_x, f64_y, other_w, long_b, big, big_x, big_y, x_as_dy, dx_over};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        lcl_tensor_release(all[i]);
    lcl_context_release(cpu);
    lcl_context_release(ctx);
}
