/*
 * The ops `leakycl tune` times and checks: their inputs, tensors, calls and outputs.
 */
#include "tune_ops.h"

#include "check.h"
#include "measure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TUNE_ALPHA (-0.3) /* any alpha works; a negative one exercises the sign of the products */
#define TUNE_PRELU_BATCH 4

static const char *const op_names[TUNE_OP_COUNT] = {
    "forward",       "backward",       "forward_batch",  "backward_batch",
    "prelu_forward", "prelu_backward", "forward_masked", "backward_masked",
};

const char *tune_op_name(enum tune_op op) { return (unsigned)op < TUNE_OP_COUNT ? op_names[op] : "?"; }

/* ---- elements as bit patterns (check.h: `leakycl check`'s formats and random data) ---------------- */

static uint64_t element(lcl_dtype dtype, const void *a, size_t i) { return get_bits(a, format_of(dtype)->width, i); }

static int is_nan(lcl_dtype dtype, uint64_t v) {
    const struct format *f = format_of(dtype);
    uint64_t mant = ((uint64_t)1 << f->mant_bits) - 1;
    uint64_t exp = (((uint64_t)1 << f->exp_bits) - 1) << f->mant_bits;
    return (v & exp) == exp && (v & mant) != 0;
}

/* x > 0: sign clear, not zero, not NaN. */
static int is_positive(lcl_dtype dtype, uint64_t v) {
    return (v >> (format_of(dtype)->width - 1)) == 0 && v != 0 && !is_nan(dtype, v);
}

static uint64_t next_random(uint64_t *state) { /* splitmix64 */
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A value in [-4, 4). */
static double moderate(uint64_t *state) { return (double)(next_random(state) >> 11) / 9007199254740992.0 * 8.0 - 4.0; }

/* Moderate values, every 16th element instead +0, -0, the smallest or the largest subnormal of
 * either sign: no NaN, no inf, and no overflow in the slope gradient's sums. */
static void fill_finite(lcl_dtype dtype, void *a, size_t n, uint64_t *state) {
    const struct format *f = format_of(dtype);
    uint64_t sign = (uint64_t)1 << (f->width - 1), largest_subnormal = ((uint64_t)1 << f->mant_bits) - 1;
    const uint64_t specials[] = {0, sign, 1, sign | 1, largest_subnormal, sign | largest_subnormal};
    for (size_t i = 0; i < n; ++i) {
        uint64_t v = i % 16 == 0 ? specials[(i / 16) % 6] : encode(dtype, moderate(state));
        set_bits(a, f->width, i, v);
    }
}

int tune_inputs_make(struct tune_inputs *in, lcl_dtype dtype, size_t n, uint64_t seed) {
    size_t size = lcl_dtype_size(dtype);
    memset(in, 0, sizeof *in);
    in->dtype = dtype;
    in->n = n;
    in->x = malloc(n * size);
    in->dy = malloc(n * size);
    in->px = malloc(n * size);
    in->pdy = malloc(n * size);
    in->slopes = malloc(TUNE_PRELU_CHANNELS * size);
    in->mask = calloc(n / 32, sizeof *in->mask);
    if (!in->x || !in->dy || !in->px || !in->pdy || !in->slopes || !in->mask) {
        tune_inputs_free(in);
        return -1;
    }
    const struct format *f = format_of(dtype);
    const double alphas[] = {TUNE_ALPHA};
    uint64_t state = seed;
    fill_random(f, in->x, n, seed, alphas, 1);
    fill_random(f, in->dy, n, seed + 1, alphas, 1);
    fill_finite(dtype, in->px, n, &state);
    fill_finite(dtype, in->pdy, n, &state);
    for (size_t c = 0; c < TUNE_PRELU_CHANNELS; ++c)
        set_bits(in->slopes, f->width, c, encode(dtype, moderate(&state) / 4.0 + 0.5)); /* [-0.5, 1.5) */
    for (size_t i = 0; i < n; ++i)
        if (is_positive(dtype, element(dtype, in->x, i)))
            in->mask[i / 32] |= (uint32_t)1 << (i % 32);
    return 0;
}

void tune_inputs_free(struct tune_inputs *in) {
    free(in->x);
    free(in->dy);
    free(in->px);
    free(in->pdy);
    free(in->slopes);
    free(in->mask);
    memset(in, 0, sizeof *in);
}

/* ---- outputs ------------------------------------------------------------------------------------- */

void tune_outputs_free(struct tune_outputs *o) {
    free(o->out);
    free(o->extra);
    memset(o, 0, sizeof *o);
}

/* The first index where a and b differ (NaN equal to NaN), or n. */
static size_t first_difference(lcl_dtype dtype, const void *a, const void *b, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        uint64_t u = element(dtype, a, i), v = element(dtype, b, i);
        if (u != v && !(is_nan(dtype, u) && is_nan(dtype, v)))
            return i;
    }
    return n;
}

int tune_outputs_same(const struct tune_inputs *in, enum tune_op op, const struct tune_outputs *a,
                      const struct tune_outputs *b, char *msg, size_t size) {
    size_t i = first_difference(in->dtype, a->out, b->out, in->n);
    if (i < in->n) {
        snprintf(msg, size, "element %zu: 0x%llx against the defaults' 0x%llx", i,
                 (unsigned long long)element(in->dtype, b->out, i), (unsigned long long)element(in->dtype, a->out, i));
        return 0;
    }
    if (op == TUNE_PRELU_BACKWARD) {
        i = first_difference(in->dtype, a->extra, b->extra, TUNE_PRELU_CHANNELS);
        if (i < TUNE_PRELU_CHANNELS) {
            snprintf(msg, size, "slope gradient of channel %zu differs", i);
            return 0;
        }
    } else if (a->extra_bytes && memcmp(a->extra, b->extra, a->extra_bytes) != 0) {
        snprintf(msg, size, "the sign mask differs");
        return 0;
    }
    return 1;
}

/* ---- tensors and calls --------------------------------------------------------------------------- */

struct tune_tensors {
    lcl_context *ctx;
    const struct tune_inputs *in;
    lcl_tensor *x, *dy, *px, *pdy, *slopes, *out, *mask_in, *mask_out, *dalpha;
    lcl_tensor *x_items[TUNE_BATCH_ITEMS], *dy_items[TUNE_BATCH_ITEMS], *out_items[TUNE_BATCH_ITEMS];
    double alphas[TUNE_BATCH_ITEMS];
    void *poison; /* n elements' worth of POISON_BYTE */
};

static lcl_status tensor_from(lcl_context *ctx, lcl_dtype dtype, size_t n, const void *data, lcl_tensor **out) {
    lcl_status st = lcl_tensor_create(ctx, dtype, n, out);
    if (st == LCL_SUCCESS && data)
        st = lcl_tensor_write(*out, data);
    return st;
}

/* Batch items of uneven lengths covering [0, n): boundaries at i * n / items, every other one
 * moved 7 elements on. */
static size_t item_start(size_t n, size_t i) {
    return i == 0 ? 0 : i == TUNE_BATCH_ITEMS ? n : i * (n / TUNE_BATCH_ITEMS) + (i % 2 ? 7 : 0);
}

static lcl_status make_items(struct tune_tensors *t) {
    lcl_status st = LCL_SUCCESS;
    size_t n = t->in->n;
    for (size_t i = 0; i < TUNE_BATCH_ITEMS && st == LCL_SUCCESS; ++i) {
        size_t at = item_start(n, i), len = item_start(n, i + 1) - at;
        t->alphas[i] = (double)((int)(i % 5) - 1) * 0.37 + 0.01; /* negative, small, above 1 */
        st = lcl_tensor_view(t->x, at, len, &t->x_items[i]);
        if (st == LCL_SUCCESS)
            st = lcl_tensor_view(t->dy, at, len, &t->dy_items[i]);
        if (st == LCL_SUCCESS)
            st = lcl_tensor_view(t->out, at, len, &t->out_items[i]);
    }
    return st;
}

struct tune_tensors *tune_tensors_make(lcl_context *ctx, const struct tune_inputs *in) {
    struct tune_tensors *t = calloc(1, sizeof *t);
    size_t size = lcl_dtype_size(in->dtype);
    if (!t || !(t->poison = malloc(in->n * size))) {
        free(t);
        fprintf(stderr, "leakycl: tune: out of host memory\n");
        return NULL;
    }
    memset(t->poison, POISON_BYTE, in->n * size);
    t->ctx = ctx;
    t->in = in;
    lcl_dtype d = in->dtype;
    lcl_status st = tensor_from(ctx, d, in->n, in->x, &t->x);
    if (st == LCL_SUCCESS)
        st = tensor_from(ctx, d, in->n, in->dy, &t->dy);
    if (st == LCL_SUCCESS)
        st = tensor_from(ctx, d, in->n, in->px, &t->px);
    if (st == LCL_SUCCESS)
        st = tensor_from(ctx, d, in->n, in->pdy, &t->pdy);
    if (st == LCL_SUCCESS)
        st = tensor_from(ctx, d, TUNE_PRELU_CHANNELS, in->slopes, &t->slopes);
    if (st == LCL_SUCCESS)
        st = tensor_from(ctx, d, in->n, NULL, &t->out);
    if (st == LCL_SUCCESS)
        st = tensor_from(ctx, LCL_MASK, in->n, in->mask, &t->mask_in);
    if (st == LCL_SUCCESS)
        st = tensor_from(ctx, LCL_MASK, in->n, NULL, &t->mask_out);
    if (st == LCL_SUCCESS)
        st = tensor_from(ctx, d, TUNE_PRELU_CHANNELS, NULL, &t->dalpha);
    if (st == LCL_SUCCESS)
        st = make_items(t);
    if (st != LCL_SUCCESS) {
        fprintf(stderr, "leakycl: tune: tensors: %s: %s\n", lcl_status_string(st), lcl_last_error());
        tune_tensors_free(t);
        return NULL;
    }
    return t;
}

void tune_tensors_free(struct tune_tensors *t) {
    if (!t)
        return;
    for (size_t i = 0; i < TUNE_BATCH_ITEMS; ++i) {
        lcl_tensor_release(t->x_items[i]);
        lcl_tensor_release(t->dy_items[i]);
        lcl_tensor_release(t->out_items[i]);
    }
    lcl_tensor *all[] = {t->x, t->dy, t->px, t->pdy, t->slopes, t->out, t->mask_in, t->mask_out, t->dalpha};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        lcl_tensor_release(all[i]);
    free(t->poison);
    free(t);
}

lcl_status tune_op_enqueue(struct tune_tensors *t, enum tune_op op) {
    lcl_context *ctx = t->ctx;
    size_t inner = t->in->n / (TUNE_PRELU_CHANNELS * TUNE_PRELU_BATCH);
    switch (op) {
    case TUNE_FORWARD:
        return lcl_forward(ctx, TUNE_ALPHA, t->x, t->out);
    case TUNE_BACKWARD:
        return lcl_backward(ctx, TUNE_ALPHA, t->x, t->dy, t->out);
    case TUNE_FORWARD_BATCH:
        return lcl_forward_batch(ctx, TUNE_BATCH_ITEMS, t->alphas, (const lcl_tensor *const *)t->x_items, t->out_items);
    case TUNE_BACKWARD_BATCH:
        return lcl_backward_batch(ctx, TUNE_BATCH_ITEMS, t->alphas, (const lcl_tensor *const *)t->x_items,
                                  (const lcl_tensor *const *)t->dy_items, t->out_items);
    case TUNE_PRELU_FORWARD:
        return lcl_prelu_forward(ctx, TUNE_PRELU_CHANNELS, inner, t->slopes, t->px, t->out);
    case TUNE_PRELU_BACKWARD:
        return lcl_prelu_backward(ctx, TUNE_PRELU_CHANNELS, inner, t->slopes, t->px, t->pdy, t->out, t->dalpha);
    case TUNE_FORWARD_MASKED:
        return lcl_forward_masked(ctx, TUNE_ALPHA, t->x, t->out, t->mask_out);
    case TUNE_BACKWARD_MASKED:
        return lcl_backward_masked(ctx, TUNE_ALPHA, t->mask_in, t->dy, t->out);
    default:
        return LCL_ERROR_INVALID_ARGUMENT;
    }
}

/* The second output of op, if any: its tensor and bytes. */
static lcl_tensor *extra_output(struct tune_tensors *t, enum tune_op op, size_t *bytes) {
    if (op == TUNE_FORWARD_MASKED) {
        *bytes = t->in->n / 32 * sizeof(uint32_t);
        return t->mask_out;
    }
    if (op == TUNE_PRELU_BACKWARD) {
        *bytes = TUNE_PRELU_CHANNELS * lcl_dtype_size(t->in->dtype);
        return t->dalpha;
    }
    *bytes = 0;
    return NULL;
}

lcl_status tune_op_outputs(struct tune_tensors *t, enum tune_op op, struct tune_outputs *o) {
    size_t bytes = t->in->n * lcl_dtype_size(t->in->dtype), extra_bytes = 0;
    lcl_tensor *extra = extra_output(t, op, &extra_bytes);
    memset(o, 0, sizeof *o);
    o->out = malloc(bytes);
    o->extra = extra ? malloc(extra_bytes) : NULL;
    o->extra_bytes = extra_bytes;
    if (!o->out || (extra && !o->extra)) {
        tune_outputs_free(o);
        return LCL_ERROR_OUT_OF_MEMORY;
    }
    lcl_status st = lcl_tensor_write(t->out, t->poison);
    if (st == LCL_SUCCESS && extra)
        st = lcl_tensor_write(extra, t->poison);
    if (st == LCL_SUCCESS)
        st = tune_op_enqueue(t, op);
    if (st == LCL_SUCCESS)
        st = lcl_finish(t->ctx);
    if (st == LCL_SUCCESS)
        st = lcl_tensor_read(t->out, o->out);
    if (st == LCL_SUCCESS && extra)
        st = lcl_tensor_read(extra, o->extra);
    if (st != LCL_SUCCESS)
        tune_outputs_free(o);
    return st;
}

/* ---- timing -------------------------------------------------------------------------------------- */

int tune_time_once(struct tune_tensors *t, enum tune_op op, double *seconds) {
    double t0 = bench_now();
    if (tune_op_enqueue(t, op) != LCL_SUCCESS || lcl_finish(t->ctx) != LCL_SUCCESS)
        return -1;
    *seconds = bench_now() - t0;
    return 0;
}

int tune_time_median(struct tune_tensors *t, enum tune_op op, unsigned reps, double *median) {
    double samples[100], warm_up = 0;
    if (reps > 100 || tune_time_once(t, op, &warm_up) != 0)
        return -1;
    for (unsigned r = 0; r < reps; ++r)
        if (tune_time_once(t, op, &samples[r]) != 0)
            return -1;
    *median = bench_median(samples, reps);
    return 0;
}

int tune_head_to_head(struct tune_tensors *a, struct tune_tensors *b, enum tune_op op, unsigned reps, double *median_a,
                      double *median_b) {
    double sa[100], sb[100], warm_up = 0;
    if (reps > 100 || tune_time_once(a, op, &warm_up) != 0 || tune_time_once(b, op, &warm_up) != 0)
        return -1;
    for (unsigned r = 0; r < reps; ++r)
        if (tune_time_once(a, op, &sa[r]) != 0 || tune_time_once(b, op, &sb[r]) != 0)
            return -1;
    *median_a = bench_median(sa, reps);
    *median_b = bench_median(sb, reps);
    return 0;
}
