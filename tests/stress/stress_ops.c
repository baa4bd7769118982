/* The calls a stress worker mixes. Each draws dtype, size, alpha, offsets and aliasing, runs
 * on views of the worker's own arenas, and checks every output element bit for bit against the
 * independent reference in common.c (mask bits against the sign of x); the rejected calls are
 * checked to return LCL_ERROR_INVALID_ARGUMENT with a message and to leave every watched
 * tensor as it was. A new op joins the mix with one function and one line in stress_ops[]. */
#include "stress.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int stress_fail(stress_worker *w, const char *fmt, ...) {
    if (!w->failed) {
        va_list ap;
        va_start(ap, fmt);
        int used = snprintf(w->message, sizeof w->message, "thread %d: ", w->id);
        vsnprintf(w->message + used, sizeof w->message - (size_t)used, fmt, ap);
        va_end(ap);
    }
    w->failed = 1;
    return 0;
}

#define CALL(w, expr)                                                                                                  \
    do {                                                                                                               \
        lcl_status call_status_ = (expr);                                                                              \
        if (call_status_ != LCL_SUCCESS)                                                                               \
            return stress_fail((w), "%s returned %s: %s", #expr, lcl_status_string(call_status_), lcl_last_error());   \
    } while (0)

/* ---- drawing arguments -------------------------------------------------------------------- */

static lcl_dtype pick_dtype(stress_worker *w) {
    lcl_dtype d = test_float_dtypes[rng_below(&w->rng, TEST_FLOAT_DTYPE_COUNT)];
    return lcl_context_supports(w->ctx, d) ? d : LCL_F32;
}

/* Mostly short runs (odd lengths, the vector tails), sometimes long ones, now and then none. */
static size_t pick_n(stress_worker *w) {
    size_t r = rng_below(&w->rng, 16);
    if (r == 0)
        return 0;
    if (r < 12)
        return 1 + rng_below(&w->rng, 70);
    return 1 + rng_below(&w->rng, STRESS_MAX_N);
}

static double pick_alpha(stress_worker *w, int nonnegative) {
    static const double alphas[] = {0.0, 0.01, 0.1, 1.0, 2.5, -0.5, -2.0, 1e-3, 65504.0, 0x1p-20};
    double a = alphas[rng_below(&w->rng, sizeof alphas / sizeof alphas[0])];
    return nonnegative ? fabs(a) : a;
}

static size_t pick_offset(stress_worker *w, size_t n) { return rng_below(&w->rng, STRESS_ARENA - n + 1); }

static stress_arenas *arenas_of(stress_worker *w, lcl_dtype d) { return &w->arenas[d]; }

/* ---- tensors and checks ------------------------------------------------------------------- */

static int make_view(stress_worker *w, lcl_tensor *parent, size_t offset, size_t n, lcl_tensor **out) {
    CALL(w, lcl_tensor_view(parent, offset, n, out));
    return 1;
}

static int poison(stress_worker *w, lcl_tensor *t) {
    lcl_dtype d = lcl_tensor_dtype(t);
    fill_poison(d, w->got, lcl_tensor_size(t));
    CALL(w, lcl_tensor_write(t, w->got));
    return 1;
}

/* Reads `out` into w->got and compares it with `want`; sel and dy only feed the message. */
static int check_output(stress_worker *w, const lcl_tensor *out, const void *sel, const void *dy, const void *want,
                        const char *what) {
    CALL(w, lcl_tensor_read(out, w->got));
    compare_args args = {lcl_tensor_dtype(out), lcl_tensor_size(out), sel, dy, want, w->got};
    char label[128];
    snprintf(label, sizeof label, "thread %d, %s", w->id, what);
    if (compare_results(&args, label, w->message, sizeof w->message) != 0) {
        w->failed = 1;
        return 0;
    }
    return 1;
}

static void release_all(lcl_tensor **list, size_t count) {
    for (size_t i = 0; i < count; ++i)
        lcl_tensor_release(list[i]);
}

/* ---- forward, backward, backward from output ---------------------------------------------- */

/* kind 0 forward, 1 backward, 2 backward from output; a quarter run in place, on the input's
 * handle or on a second view of the same elements. */
static int eltwise(stress_worker *w, int kind) {
    lcl_dtype d = pick_dtype(w);
    size_t n = pick_n(w);
    double alpha = pick_alpha(w, kind == 2);
    stress_arenas *ar = arenas_of(w, d);
    fill_random(d, w->x, n, alpha, &w->rng);
    fill_random(d, w->dy, n, alpha, &w->rng);
    const void *sel = w->x;
    if (kind == 2) {
        ref_forward_array(d, n, alpha, w->x, w->y);
        sel = w->y;
    }
    if (kind == 0)
        ref_forward_array(d, n, alpha, w->x, w->want);
    else
        ref_backward_array(d, n, alpha, w->x, w->dy, w->want);

    lcl_tensor *views[4] = {NULL};
    size_t place = rng_below(&w->rng, 8);
    size_t o_sel = pick_offset(w, n), o_dy = pick_offset(w, n);
    int ok = make_view(w, ar->a, o_sel, n, &views[0]) && make_view(w, ar->b, o_dy, n, &views[1]);
    lcl_tensor *tsel = views[0], *tdy = views[1], *out = NULL;
    lcl_tensor *in_place_of = kind == 0 ? tsel : tdy;
    if (ok && place == 0)
        out = in_place_of;
    else if (ok && place == 1)
        ok = make_view(w, kind == 0 ? ar->a : ar->b, kind == 0 ? o_sel : o_dy, n, &views[2]) && (out = views[2]);
    else if (ok)
        ok = make_view(w, ar->c, pick_offset(w, n), n, &views[2]) && (out = views[2]);
    ok = ok && lcl_tensor_write(tsel, sel) == LCL_SUCCESS && lcl_tensor_write(tdy, w->dy) == LCL_SUCCESS;
    if (ok && out != in_place_of && place != 1)
        ok = poison(w, out);
    lcl_status st = LCL_SUCCESS;
    if (ok) {
        if (kind == 0)
            st = lcl_forward(w->ctx, alpha, tsel, out);
        else if (kind == 1)
            st = lcl_backward(w->ctx, alpha, tsel, tdy, out);
        else
            st = lcl_backward_from_output(w->ctx, alpha, tsel, tdy, out);
        if (st != LCL_SUCCESS)
            ok = stress_fail(w, "op %d on %s n=%zu: %s", kind, dtype_label(d), n, lcl_last_error());
    }
    static const char *const names[] = {"forward", "backward", "backward_from_output"};
    char what[96];
    snprintf(what, sizeof what, "%s alpha=%g%s", names[kind], alpha, place < 2 ? " in place" : "");
    ok = ok && check_output(w, out, sel, kind ? w->dy : NULL, w->want, what);
    w->checked += ok;
    release_all(views, 3);
    return ok && !w->failed;
}

static int op_forward(stress_worker *w) { return eltwise(w, 0); }
static int op_backward(stress_worker *w) { return eltwise(w, 1); }
static int op_from_output(stress_worker *w) { return eltwise(w, 2); }

/* ---- the sign mask: forward_masked, then backward_masked from its mask -------------------- */

static int check_mask(stress_worker *w, const lcl_tensor *mask, lcl_dtype d, size_t n) {
    uint32_t *words = w->extra;
    CALL(w, lcl_tensor_read(mask, words));
    for (size_t i = 0; i < n; ++i) {
        int want = bits_value(d, bits_get(d, w->x, i)) > 0;
        int got = (int)(words[i / 32] >> (i % 32) & 1);
        if (want != got)
            return stress_fail(w, "forward_masked %s n=%zu: mask bit %zu is %d, x = %g", dtype_label(d), n, i, got,
                               bits_value(d, bits_get(d, w->x, i)));
    }
    return 1;
}

static int op_masked(stress_worker *w) {
    lcl_dtype d = pick_dtype(w);
    size_t n = pick_n(w);
    double alpha = pick_alpha(w, 0);
    stress_arenas *ar = arenas_of(w, d);
    fill_random(d, w->x, n, alpha, &w->rng);
    fill_random(d, w->dy, n, alpha, &w->rng);
    ref_forward_array(d, n, alpha, w->x, w->want);
    int in_place = rng_below(&w->rng, 3) == 0;
    lcl_tensor *v[5] = {NULL};
    size_t mask_offset = 32 * rng_below(&w->rng, (STRESS_ARENA - n) / 32 + 1);
    int ok = make_view(w, ar->a, pick_offset(w, n), n, &v[0]) && make_view(w, ar->mask, mask_offset, n, &v[1]) &&
             make_view(w, ar->b, pick_offset(w, n), n, &v[2]) && make_view(w, ar->c, pick_offset(w, n), n, &v[3]);
    lcl_tensor *x = v[0], *mask = v[1], *dy = v[2], *y = in_place ? v[0] : v[3], *dx = in_place ? v[2] : v[3];
    ok = ok && lcl_tensor_write(x, w->x) == LCL_SUCCESS && lcl_tensor_write(dy, w->dy) == LCL_SUCCESS;
    ok = ok && (in_place || poison(w, y));
    if (ok && lcl_forward_masked(w->ctx, alpha, x, y, mask) != LCL_SUCCESS)
        ok = stress_fail(w, "forward_masked %s n=%zu: %s", dtype_label(d), n, lcl_last_error());
    ok = ok && check_output(w, y, w->x, NULL, w->want, "forward_masked") && check_mask(w, mask, d, n);
    ref_backward_array(d, n, alpha, w->x, w->dy, w->want);
    ok = ok && (in_place || poison(w, dx));
    if (ok && lcl_backward_masked(w->ctx, alpha, mask, dy, dx) != LCL_SUCCESS)
        ok = stress_fail(w, "backward_masked %s n=%zu: %s", dtype_label(d), n, lcl_last_error());
    ok = ok && check_output(w, dx, w->x, w->dy, w->want, "backward_masked");
    w->checked += ok ? 2 : 0;
    release_all(v, 4);
    return ok && !w->failed;
}

/* ---- batches: items of mixed dtypes and sizes laid along the arenas ----------------------- */

#define STRESS_BATCH 5

typedef struct batch_item {
    lcl_dtype dtype;
    size_t n;
    void *x, *dy, *want;
    lcl_tensor *tx, *tdy, *tout;
} batch_item;

static int batch_setup(stress_worker *w, batch_item *it, int backward, int in_place, size_t cursor[]) {
    stress_arenas *ar = arenas_of(w, it->dtype);
    size_t *at = &cursor[it->dtype];
    size_t offset = *at + rng_below(&w->rng, 8);
    *at = offset + it->n;
    if (!make_view(w, ar->a, offset, it->n, &it->tx) || !make_view(w, ar->b, offset, it->n, &it->tdy))
        return 0;
    CALL(w, lcl_tensor_write(it->tx, it->x));
    CALL(w, lcl_tensor_write(it->tdy, it->dy));
    if (in_place) /* y on x, dx on dy: each item on its own elements */
        return make_view(w, backward ? ar->b : ar->a, offset, it->n, &it->tout);
    return make_view(w, ar->c, offset, it->n, &it->tout) && poison(w, it->tout);
}

static int op_batch(stress_worker *w) {
    int backward = (int)rng_below(&w->rng, 2), in_place = rng_below(&w->rng, 4) == 0;
    size_t count = 1 + rng_below(&w->rng, STRESS_BATCH), cursor[TEST_FLOAT_DTYPE_COUNT] = {0};
    batch_item items[STRESS_BATCH] = {{0}};
    double alpha[STRESS_BATCH];
    const lcl_tensor *xs[STRESS_BATCH], *dys[STRESS_BATCH];
    lcl_tensor *outs[STRESS_BATCH];
    int ok = 1;
    for (size_t i = 0; i < count && ok; ++i) {
        batch_item *it = &items[i];
        it->dtype = pick_dtype(w);
        it->n = rng_below(&w->rng, STRESS_ARENA / STRESS_BATCH - 8);
        if (rng_below(&w->rng, 2))
            it->n %= 80;
        alpha[i] = pick_alpha(w, 0);
        it->x = test_alloc(LCL_F64, it->n);
        it->dy = test_alloc(LCL_F64, it->n);
        it->want = test_alloc(LCL_F64, it->n);
        fill_random(it->dtype, it->x, it->n, alpha[i], &w->rng);
        fill_random(it->dtype, it->dy, it->n, alpha[i], &w->rng);
        if (backward)
            ref_backward_array(it->dtype, it->n, alpha[i], it->x, it->dy, it->want);
        else
            ref_forward_array(it->dtype, it->n, alpha[i], it->x, it->want);
        ok = batch_setup(w, it, backward, in_place, cursor);
        xs[i] = it->tx;
        dys[i] = it->tdy;
        outs[i] = it->tout;
    }
    lcl_status st = LCL_SUCCESS;
    if (ok)
        st = backward ? lcl_backward_batch(w->ctx, count, alpha, xs, dys, outs)
                      : lcl_forward_batch(w->ctx, count, alpha, xs, outs);
    if (ok && st != LCL_SUCCESS)
        ok = stress_fail(w, "batch of %zu: %s", count, lcl_last_error());
    for (size_t i = 0; i < count; ++i) {
        batch_item *it = &items[i];
        char what[64];
        snprintf(what, sizeof what, "%s batch item %zu of %zu", backward ? "backward" : "forward", i, count);
        ok = ok && check_output(w, it->tout, it->x, backward ? it->dy : NULL, it->want, what);
        lcl_tensor_release(it->tx);
        lcl_tensor_release(it->tdy);
        lcl_tensor_release(it->tout);
        free(it->x);
        free(it->dy);
        free(it->want);
    }
    w->checked += ok;
    return ok && !w->failed;
}

/* ---- PReLU: a slope per channel, read from a tensor of x's dtype -------------------------- */

static void prelu_reference(stress_worker *w, lcl_dtype d, size_t n, size_t channels, size_t inner, const void *slopes,
                            int backward) {
    for (size_t e = 0; e < n; ++e) {
        double a = bits_value(d, bits_get(d, slopes, e / inner % channels));
        uint64_t x = bits_get(d, w->x, e);
        bits_set(d, w->want, e, backward ? ref_backward(d, a, x, bits_get(d, w->dy, e)) : ref_forward(d, a, x));
    }
}

static int op_prelu(stress_worker *w) {
    lcl_dtype d = pick_dtype(w);
    int backward = (int)rng_below(&w->rng, 2), in_place = rng_below(&w->rng, 4) == 0;
    size_t channels = 1 + rng_below(&w->rng, 6), inner = 1 + rng_below(&w->rng, 9);
    size_t n = rng_below(&w->rng, 6) * channels * inner;
    stress_arenas *ar = arenas_of(w, d);
    void *slopes = w->extra;
    fill_random(d, slopes, channels, 0.25, &w->rng);
    fill_random(d, w->x, n, 0.25, &w->rng);
    fill_random(d, w->dy, n, 0.25, &w->rng);
    prelu_reference(w, d, n, channels, inner, slopes, backward);
    /* The slopes sit at the end of arena b, past every dy (n <= 270). */
    lcl_tensor *v[4] = {NULL};
    int ok = make_view(w, ar->b, STRESS_ARENA - 8 - rng_below(&w->rng, 8), channels, &v[0]) &&
             make_view(w, ar->a, pick_offset(w, n), n, &v[1]) &&
             make_view(w, ar->b, rng_below(&w->rng, 1000), n, &v[2]);
    lcl_tensor *alpha = v[0], *x = v[1], *dy = v[2];
    ok = ok && lcl_tensor_write(alpha, slopes) == LCL_SUCCESS && lcl_tensor_write(x, w->x) == LCL_SUCCESS &&
         lcl_tensor_write(dy, w->dy) == LCL_SUCCESS;
    lcl_tensor *out = in_place ? (backward ? dy : x) : NULL;
    if (ok && !in_place)
        ok = make_view(w, ar->c, pick_offset(w, n), n, &v[3]) && poison(w, out = v[3]);
    lcl_status st = LCL_SUCCESS;
    if (ok)
        st = backward ? lcl_prelu_backward(w->ctx, channels, inner, alpha, x, dy, out, NULL)
                      : lcl_prelu_forward(w->ctx, channels, inner, alpha, x, out);
    if (ok && st != LCL_SUCCESS)
        ok = stress_fail(w, "prelu %s [%zu, %zu]: %s", dtype_label(d), channels, inner, lcl_last_error());
    ok = ok &&
         check_output(w, out, w->x, backward ? w->dy : NULL, w->want, backward ? "prelu_backward" : "prelu_forward");
    w->checked += ok;
    release_all(v, 4);
    return ok && !w->failed;
}

/* ---- host arrays -------------------------------------------------------------------------- */

static int op_host(stress_worker *w) {
    lcl_dtype d = pick_dtype(w);
    size_t n = pick_n(w);
    int backward = (int)rng_below(&w->rng, 2), in_place = rng_below(&w->rng, 4) == 0;
    double alpha = pick_alpha(w, 0);
    fill_random(d, w->x, n, alpha, &w->rng);
    fill_random(d, w->dy, n, alpha, &w->rng);
    if (backward)
        ref_backward_array(d, n, alpha, w->x, w->dy, w->want);
    else
        ref_forward_array(d, n, alpha, w->x, w->want);
    /* In place, the output starts as the input it replaces. */
    void *out = w->got;
    if (in_place)
        memcpy(out, backward ? w->dy : w->x, n * elem_size(d));
    else
        fill_poison(d, out, n);
    const void *x = in_place && !backward ? out : w->x, *dy = in_place && backward ? out : w->dy;
    lcl_status st =
        backward ? lcl_backward_host(w->ctx, d, n, alpha, x, dy, out) : lcl_forward_host(w->ctx, d, n, alpha, x, out);
    if (st != LCL_SUCCESS)
        return stress_fail(w, "host %s n=%zu: %s", dtype_label(d), n, lcl_last_error());
    compare_args args = {d, n, w->x, backward ? w->dy : NULL, w->want, out};
    if (compare_results(&args, backward ? "backward_host" : "forward_host", w->message, sizeof w->message)) {
        w->failed = 1;
        return 0;
    }
    w->checked++;
    return 1;
}

/* ---- calls that must be rejected ----------------------------------------------------------- */

/* A rejected call: the right status, a message, and no watched tensor changed. */
typedef struct watch {
    lcl_tensor *t[3];
    void *before[3];
} watch;

static int watch_begin(stress_worker *w, watch *wt) {
    for (int i = 0; i < 3; ++i) {
        wt->before[i] = NULL;
        if (!wt->t[i])
            continue;
        wt->before[i] = malloc(lcl_tensor_bytes(wt->t[i]) + 1);
        CALL(w, lcl_tensor_read(wt->t[i], wt->before[i]));
    }
    return 1;
}

static int watch_end(stress_worker *w, watch *wt, lcl_status got, const char *what) {
    int ok = 1;
    if (got != LCL_ERROR_INVALID_ARGUMENT || lcl_last_error()[0] == '\0')
        ok = stress_fail(w, "%s returned %s (\"%s\"), expected LCL_ERROR_INVALID_ARGUMENT with a message", what,
                         lcl_status_string(got), lcl_last_error());
    for (int i = 0; i < 3 && ok; ++i) {
        if (!wt->t[i])
            continue;
        size_t bytes = lcl_tensor_bytes(wt->t[i]);
        ok = lcl_tensor_read(wt->t[i], w->got) == LCL_SUCCESS && memcmp(w->got, wt->before[i], bytes) == 0;
        if (!ok)
            stress_fail(w, "%s was rejected but changed tensor %d", what, i);
    }
    for (int i = 0; i < 3; ++i)
        free(wt->before[i]);
    if (ok)
        w->checked++;
    return ok;
}

static int op_invalid(stress_worker *w) {
    lcl_dtype d = pick_dtype(w);
    size_t n = 2 + rng_below(&w->rng, 60);
    stress_arenas *ar = arenas_of(w, d);
    lcl_tensor *v[4] = {NULL};
    size_t o = pick_offset(w, n + 1);
    int ok = make_view(w, ar->a, o, n, &v[0]) && make_view(w, ar->c, o, n, &v[1]) &&
             make_view(w, ar->a, o + 1, n, &v[2]) && make_view(w, ar->mask, 0, n, &v[3]);
    if (!ok) {
        release_all(v, 4);
        return 0;
    }
    lcl_tensor *x = v[0], *y = v[1], *shifted = v[2], *mask = v[3], *other = NULL;
    fill_random(d, w->x, n + 1, 0.5, &w->rng);
    watch wt = {{x, y, shifted}, {NULL}};
    size_t kind = rng_below(&w->rng, 9);
    const double nan_or_inf[] = {NAN, INFINITY, -INFINITY};
    ok = lcl_tensor_write(x, w->x) == LCL_SUCCESS && poison(w, y) && watch_begin(w, &wt);
    if (ok && kind == 5 && lcl_tensor_create(w->other, d, n, &other) != LCL_SUCCESS)
        ok = stress_fail(w, "a tensor on the other context: %s", lcl_last_error());
    memcpy(w->extra, w->x, (n + 1) * elem_size(d));
    lcl_status st = LCL_SUCCESS;
    double alpha = nan_or_inf[rng_below(&w->rng, 3)];
    const lcl_tensor *bad_x[2] = {x, x};
    lcl_tensor *bad_y[2] = {y, shifted};
    double bad_alpha[2] = {0.5, alpha};
    switch (ok ? kind : 0) {
    case 0:
        st = lcl_forward(w->ctx, alpha, x, y);
        break;
    case 1:
        st = lcl_backward(w->ctx, 0.5, x, y, NULL);
        break;
    case 2:
        st = lcl_forward(w->ctx, 0.5, x, shifted);
        break; /* partial overlap */
    case 3:
        st = lcl_backward_from_output(w->ctx, -0.5, x, x, y);
        break;
    case 4:
        st = lcl_forward(w->ctx, 0.5, mask, y);
        break;
    case 5:
        st = lcl_forward(w->ctx, 0.5, other, y);
        break;
    case 6:
        st = lcl_forward_batch(w->ctx, 2, bad_alpha, bad_x, bad_y);
        break; /* item 1: bad alpha */
    case 7:
        st = lcl_prelu_forward(w->ctx, n + 1, 1, x, x, y);
        break; /* n not a multiple */
    default:
        st = lcl_forward_host(w->ctx, d, n, 0.5, w->x, (char *)w->x + elem_size(d));
        break;
    }
    static const char *const names[] = {
        "forward with a NaN/inf alpha",    "backward with dx NULL",   "forward with a partial overlap",
        "backward_from_output, alpha < 0", "forward on a mask",       "forward across contexts",
        "batch with a bad alpha",          "prelu, n not a multiple", "host forward with a partial overlap"};
    ok = ok && watch_end(w, &wt, st, names[kind]);
    if (ok && memcmp(w->extra, w->x, (n + 1) * elem_size(d)) != 0)
        ok = stress_fail(w, "%s was rejected but changed a host array", names[kind]);
    lcl_tensor_release(other);
    release_all(v, 4);
    return ok && !w->failed;
}

/* ---- the dense layer (f32; a GEMM, so checked against fp64 within 1e-5 of sum |terms|) ----- */

typedef struct dense_shape {
    size_t batch, in, out;
    double alpha;
} dense_shape;

/* |got - want| within 1e-5 of the sum of the magnitudes that made want. */
static int dense_close(stress_worker *w, const char *what, const float *got, const double *want, const double *scale,
                       size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (!(fabs((double)got[i] - want[i]) <= 1e-5 * scale[i] + 1e-30))
            return stress_fail(w, "dense %s element %zu: got %.9g, expected %.9g", what, i, got[i], want[i]);
    return 1;
}

/* y = f(x . w^T + b) in fp64, with each output's scale; then dz, dx, dw, db from dy. */
static void dense_reference(const dense_shape *sh, const float *x, const float *wt, const float *b, const float *dy,
                            double *ref) {
    size_t nb = sh->batch, ni = sh->in, no = sh->out, ny = nb * no;
    double *y = ref, *ys = ref + ny, *dx = ys + ny, *dxs = dx + nb * ni, *dw = dxs + nb * ni, *dws = dw + no * ni;
    double *db = dws + no * ni, *dbs = db + no, *dz = dbs + no;
    for (size_t r = 0; r < nb; ++r)
        for (size_t j = 0; j < no; ++j) {
            double z = b[j], mag = fabs(b[j]);
            for (size_t k = 0; k < ni; ++k) {
                z += (double)x[r * ni + k] * wt[j * ni + k];
                mag += fabs((double)x[r * ni + k] * wt[j * ni + k]);
            }
            double a = (float)sh->alpha;
            y[r * no + j] = z > 0 ? z : a * z;
            ys[r * no + j] = z > 0 ? mag : fabs(a) * mag;
        }
    for (size_t i = 0; i < ny; ++i)
        dz[i] = y[i] > 0 ? dy[i] : (float)sh->alpha * dy[i];
    for (size_t r = 0; r < nb; ++r)
        for (size_t k = 0; k < ni; ++k) {
            dx[r * ni + k] = dxs[r * ni + k] = 0;
            for (size_t j = 0; j < no; ++j) {
                dx[r * ni + k] += dz[r * no + j] * wt[j * ni + k];
                dxs[r * ni + k] += fabs(dz[r * no + j] * wt[j * ni + k]);
            }
        }
    for (size_t j = 0; j < no; ++j) {
        db[j] = dbs[j] = 0;
        for (size_t r = 0; r < nb; ++r) {
            db[j] += dz[r * no + j];
            dbs[j] += fabs(dz[r * no + j]);
        }
        for (size_t k = 0; k < ni; ++k) {
            dw[j * ni + k] = dws[j * ni + k] = 0;
            for (size_t r = 0; r < nb; ++r) {
                dw[j * ni + k] += dz[r * no + j] * x[r * ni + k];
                dws[j * ni + k] += fabs(dz[r * no + j] * x[r * ni + k]);
            }
        }
    }
}

/* Fills: values in [-2, 2] on a 1/64 grid, so products are exact in fp32 and sums nearly so. */
static void dense_fill(stress_worker *w, float *a, size_t n) {
    for (size_t i = 0; i < n; ++i)
        a[i] = (float)((int)rng_below(&w->rng, 257) - 128) / 64.0f;
}

static int op_dense(stress_worker *w) {
    dense_shape sh = {1 + rng_below(&w->rng, 9), 1 + rng_below(&w->rng, 13), 1 + rng_below(&w->rng, 11),
                      pick_alpha(w, 1)};
    size_t nb = sh.batch, ni = sh.in, no = sh.out;
    float *x = w->x, *wt = (float *)w->x + 512, *b = (float *)w->x + 1024, *dy = w->dy;
    dense_fill(w, x, nb * ni);
    dense_fill(w, wt, no * ni);
    dense_fill(w, b, no);
    dense_fill(w, dy, nb * no);
    double *ref = w->want; /* room for STRESS_ARENA doubles: 8 arrays of at most 144 */
    dense_reference(&sh, x, wt, b, dy, ref);
    stress_arenas *ar = arenas_of(w, LCL_F32);
    lcl_tensor *v[8] = {NULL};
    int ok = make_view(w, ar->a, 0, nb * ni, &v[0]) && make_view(w, ar->a, 512, no * ni, &v[1]) &&
             make_view(w, ar->b, 0, no, &v[2]) && make_view(w, ar->b, 512, nb * no, &v[3]) &&
             make_view(w, ar->c, 0, nb * no, &v[4]) && make_view(w, ar->c, 1024, nb * ni, &v[5]) &&
             make_view(w, ar->c, 2048, no * ni, &v[6]) && make_view(w, ar->c, 3072, no, &v[7]);
    ok = ok && lcl_tensor_write(v[0], x) == LCL_SUCCESS && lcl_tensor_write(v[1], wt) == LCL_SUCCESS &&
         lcl_tensor_write(v[2], b) == LCL_SUCCESS && lcl_tensor_write(v[3], dy) == LCL_SUCCESS;
    lcl_status st = ok ? lcl_dense_forward(w->ctx, nb, ni, no, sh.alpha, v[0], v[1], v[2], v[4]) : LCL_SUCCESS;
    if (ok && st != LCL_SUCCESS)
        ok = stress_fail(w, "dense_forward [%zu x %zu -> %zu]: %s", nb, ni, no, lcl_last_error());
    float *got = w->got;
    size_t ny = nb * no;
    ok = ok && lcl_tensor_read(v[4], got) == LCL_SUCCESS && dense_close(w, "y", got, ref, ref + ny, ny);
    st = ok ? lcl_dense_backward(w->ctx, nb, ni, no, sh.alpha, v[0], v[1], v[4], v[3], v[5], v[6], v[7]) : LCL_SUCCESS;
    if (ok && st != LCL_SUCCESS)
        ok = stress_fail(w, "dense_backward [%zu x %zu -> %zu]: %s", nb, ni, no, lcl_last_error());
    const double *dx = ref + 2 * ny, *dw = dx + 2 * nb * ni, *db = dw + 2 * no * ni;
    ok = ok && lcl_tensor_read(v[5], got) == LCL_SUCCESS && dense_close(w, "dx", got, dx, dx + nb * ni, nb * ni);
    ok = ok && lcl_tensor_read(v[6], got) == LCL_SUCCESS && dense_close(w, "dw", got, dw, dw + no * ni, no * ni);
    ok = ok && lcl_tensor_read(v[7], got) == LCL_SUCCESS && dense_close(w, "db", got, db, db + no, no);
    w->checked += ok ? 2 : 0;
    release_all(v, 8);
    return ok && !w->failed;
}

/* The mix. Weights roughly follow how often an app makes each call. */
const stress_entry stress_ops[] = {
    {"forward", op_forward, 4}, {"backward", op_backward, 3}, {"backward_from_output", op_from_output, 2},
    {"masked", op_masked, 2},   {"batch", op_batch, 2},       {"prelu", op_prelu, 2},
    {"host", op_host, 2},       {"invalid", op_invalid, 2},   {"dense", op_dense, 1},
};
const size_t stress_op_count = sizeof stress_ops / sizeof stress_ops[0];
