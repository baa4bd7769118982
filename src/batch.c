/* Batches: lcl_forward_batch and lcl_backward_batch. Every item is validated, and the items are
 * checked not to step on each other, before anything runs; then cpu/batch.c or opencl/batch.c. */
#include "cpu/cpu.h"
#include "opencl/opencl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *out_name(const struct lcl__batch *b) { return b->op == LCL__OP_FORWARD ? "y" : "dx"; }

/* ---- validation ----------------------------------------------------------------------------- */

static lcl_status check_item(const struct lcl__batch *b, lcl_context *ctx, size_t i) {
    const lcl_tensor *x = b->x[i];
    lcl_dtype dtype = x ? x->dtype : LCL_F32;
    size_t n = x ? x->n : 0;
    struct lcl__arg args[3];
    size_t count = 0;
    args[count++] = (struct lcl__arg){"x", i, x, n, dtype, LCL__ARG_ANY_SIZE, 0};
    if (b->dy)
        args[count++] = (struct lcl__arg){"dy", i, b->dy[i], n, dtype, 0, 0};
    args[count] = (struct lcl__arg){out_name(b), i, b->out[i], n, dtype, LCL__ARG_OUTPUT, (1u << count) - 1};
    count++;
    lcl_status st = lcl__check_args(b->fn, ctx, args, count);
    if (st != LCL_SUCCESS)
        return st;
    /* The message names the item; formatting it only on failure keeps long batches cheap. */
    if (lcl__check_call(b->fn, ctx, dtype, b->alpha[i]) != LCL_SUCCESS) {
        char where[96];
        snprintf(where, sizeof where, "%s: item %zu", b->fn, i);
        return lcl__check_call(where, ctx, dtype, b->alpha[i]);
    }
    return lcl__check_overlaps(b->fn, args, count);
}

/* One tensor of one item as a byte range of its memory, for the check across items. */
struct span {
    uintptr_t base; /* the cl_mem or the host block */
    size_t lo, hi;  /* bytes from its start */
    size_t item;
    int role; /* 0 x, 1 dy, 2 the output */
};

static int compare_spans(const void *pa, const void *pb) {
    const struct span *a = pa, *b = pb;
    if (a->base != b->base)
        return a->base < b->base ? -1 : 1;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    return (a->item > b->item) - (a->item < b->item);
}

/* The non-empty tensors of one role as spans, in item order; returns how many. */
static size_t role_spans(const struct lcl__batch *b, int role, struct span *out) {
    size_t used = 0;
    for (size_t i = 0; i < b->count; ++i) {
        const lcl_tensor *t = role == 0 ? b->x[i] : role == 1 ? b->dy[i] : b->out[i];
        if (t->n == 0)
            continue;
        const struct lcl__storage *s = t->storage;
        size_t lo = lcl__tensor_byte_offset(t);
        out[used++] =
            (struct span){(uintptr_t)(s->mem ? (void *)s->mem : s->host), lo, lo + lcl_tensor_bytes(t), i, role};
    }
    return used;
}

static bool spans_sorted(const struct span *s, size_t count) {
    for (size_t k = 1; k < count; ++k)
        if (compare_spans(&s[k - 1], &s[k]) > 0)
            return false;
    return true;
}

/* All spans of the batch into `out`, sorted by buffer and start; `scratch` holds as many. Each
 * role's list is usually in order already (items laid out along an arena), and the lists are
 * then merged in linear time. Returns how many. */
static size_t sort_spans(const struct lcl__batch *b, struct span *out, struct span *scratch) {
    int roles = b->dy ? 3 : 2;
    struct span *list[3];
    size_t count[3] = {0, 0, 0};
    size_t at = 0;
    for (int r = 0; r < roles; ++r) {
        int role = r == roles - 1 ? 2 : r;
        list[r] = scratch + at;
        count[r] = role_spans(b, role, list[r]);
        if (!spans_sorted(list[r], count[r]))
            qsort(list[r], count[r], sizeof *list[r], compare_spans);
        at += count[r];
    }
    size_t pos[3] = {0, 0, 0};
    for (size_t k = 0; k < at; ++k) {
        int best = -1;
        for (int r = 0; r < roles; ++r)
            if (pos[r] < count[r] && (best < 0 || compare_spans(&list[r][pos[r]], &list[best][pos[best]]) < 0))
                best = r;
        out[k] = list[best][pos[best]++];
    }
    return at;
}

/* The spans seen so far of one kind (outputs, or inputs) that reach furthest: the furthest of
 * all, and the furthest of an item other than that one's, so "does a span of another item than
 * mine reach past here" takes one look. */
struct reach {
    bool has1, has2;
    size_t end1, end2;
    size_t span1, span2;
};

static void reach_add(struct reach *r, const struct span *spans, size_t k) {
    size_t end = spans[k].hi;
    size_t item = spans[k].item;
    if (r->has1 && spans[r->span1].item == item) {
        if (end > r->end1) {
            r->end1 = end;
            r->span1 = k;
        }
    } else if (!r->has1 || end > r->end1) {
        /* The old furthest is of another item and reaches past every other span: it becomes the
         * furthest of an item other than the new one's. */
        if (r->has1) {
            r->has2 = true;
            r->end2 = r->end1;
            r->span2 = r->span1;
        }
        r->has1 = true;
        r->end1 = end;
        r->span1 = k;
    } else if (!r->has2 || end > r->end2) {
        r->has2 = true;
        r->end2 = end;
        r->span2 = k;
    }
}

/* A span of another item than `item` that reaches past `start`, or SIZE_MAX. */
static size_t reach_other(const struct reach *r, const struct span *spans, size_t item, size_t start) {
    if (r->has1 && spans[r->span1].item != item)
        return r->end1 > start ? r->span1 : SIZE_MAX;
    if (r->has2 && r->end2 > start)
        return r->span2;
    return SIZE_MAX;
}

/* Items run in any order, side by side: an item's output may share no element with another
 * item's tensors (inputs may be shared freely). */
static lcl_status check_across_items(const struct lcl__batch *b) {
    static const char *const in_names[] = {"x", "dy"};
    size_t per_item = b->dy ? 3 : 2;
    if (b->count > SIZE_MAX / sizeof(struct span) / per_item)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: count %zu is too large", b->fn, b->count);
    /* Room for the spans in order and for each role's list before the merge. */
    struct span *spans = malloc(2 * b->count * per_item * sizeof *spans);
    if (!spans)
        return lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "%s: out of host memory for %zu items", b->fn, b->count);
    size_t used = sort_spans(b, spans, spans + b->count * per_item);
    struct reach outs = {0}, ins = {0};
    lcl_status st = LCL_SUCCESS;
    for (size_t k = 0; k < used && st == LCL_SUCCESS; ++k) {
        const struct span *s = &spans[k];
        if (k == 0 || s->base != spans[k - 1].base)
            outs = ins = (struct reach){0};
        size_t other = reach_other(&outs, spans, s->item, s->lo);
        if (other == SIZE_MAX && s->role == 2)
            other = reach_other(&ins, spans, s->item, s->lo);
        if (other != SIZE_MAX) {
            const struct span *o = &spans[other];
            st = lcl__fail(LCL_ERROR_INVALID_ARGUMENT,
                           "%s: %s[%zu] and %s[%zu] share elements: an item's output may overlap no other item's "
                           "tensors",
                           b->fn, o->role == 2 ? out_name(b) : in_names[o->role], o->item,
                           s->role == 2 ? out_name(b) : in_names[s->role], s->item);
        }
        reach_add(s->role == 2 ? &outs : &ins, spans, k);
    }
    free(spans);
    return st;
}

static lcl_status validate(lcl_context *ctx, const struct lcl__batch *b) {
    if (!ctx)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: ctx is NULL", b->fn);
    if (b->count == 0)
        return LCL_SUCCESS;
    const char *null_array = !b->alpha                               ? "alpha"
                             : !b->x                                 ? "x"
                             : (b->op == LCL__OP_BACKWARD && !b->dy) ? "dy"
                             : !b->out                               ? out_name(b)
                                                                     : NULL;
    if (null_array)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: the array %s is NULL with count %zu", b->fn, null_array,
                         b->count);
    for (size_t i = 0; i < b->count; ++i) {
        lcl_status st = check_item(b, ctx, i);
        if (st != LCL_SUCCESS)
            return st;
    }
    return check_across_items(b);
}

/* ---- LEAKYCL_VERIFY: in[2i], in[2i + 1] are item i's x and dy, out[i] its output ------------ */

static lcl_status launch(lcl_context *ctx, const void *p) { return lcl__cl_batch(ctx, p); }

static struct lcl__eltwise item_call(const struct lcl__batch *b, size_t i) {
    return (struct lcl__eltwise){.op = b->op, .dtype = b->x[i]->dtype, .alpha = b->alpha[i], .n = b->x[i]->n};
}

static lcl_status recompute(const void *p, void *const *in, void *const *want) {
    const struct lcl__batch *b = p;
    for (size_t i = 0; i < b->count; ++i) {
        struct lcl__eltwise call = item_call(b, i);
        lcl__cpu_eltwise(&call, in[2 * i], in[2 * i + 1], want[i]);
    }
    return LCL_SUCCESS;
}

static lcl_status compare(const char *fn, const void *p, void *const *in, void *const *got, void *const *want) {
    const struct lcl__batch *b = p;
    for (size_t i = 0; i < b->count; ++i) {
        struct lcl__eltwise call = item_call(b, i);
        lcl_status st = lcl__verify_eltwise(&call, in[2 * i], in[2 * i + 1], got[i], want[i]);
        if (st != LCL_SUCCESS) {
            char *message = strdup(lcl_last_error());
            st = lcl__fail(st, "%s: item %zu: %s", fn, i, message ? message : "LEAKYCL_VERIFY mismatch");
            free(message);
            return st;
        }
    }
    return LCL_SUCCESS;
}

static lcl_status run_verified(lcl_context *ctx, const struct lcl__batch *b) {
    const lcl_tensor **in = calloc(2 * b->count, sizeof *in);
    if (!in)
        return lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "%s: LEAKYCL_VERIFY: out of host memory", b->fn);
    for (size_t i = 0; i < b->count; ++i) {
        in[2 * i] = b->x[i];
        in[2 * i + 1] = b->dy ? b->dy[i] : NULL;
    }
    struct lcl__verified v = {b->fn,    b,      in,        2 * b->count, (const lcl_tensor *const *)b->out,
                              b->count, launch, recompute, compare};
    lcl_status st = lcl__verify(ctx, &v);
    free(in);
    return st;
}

static lcl_status run(lcl_context *ctx, const struct lcl__batch *b) {
    lcl_status st = validate(ctx, b);
    if (st != LCL_SUCCESS || b->count == 0)
        return st;
    if (ctx->backend == LCL_BACKEND_CPU) {
        lcl__cpu_batch(b);
        return LCL_SUCCESS;
    }
    return ctx->verify ? run_verified(ctx, b) : lcl__cl_batch(ctx, b);
}

lcl_status lcl_forward_batch(lcl_context *ctx, size_t count, const double *alpha, const lcl_tensor *const *x,
                             lcl_tensor *const *y) {
    struct lcl__batch b = {"lcl_forward_batch", LCL__OP_FORWARD, count, alpha, x, NULL, y};
    return run(ctx, &b);
}

lcl_status lcl_backward_batch(lcl_context *ctx, size_t count, const double *alpha, const lcl_tensor *const *x,
                              const lcl_tensor *const *dy, lcl_tensor *const *dx) {
    struct lcl__batch b = {"lcl_backward_batch", LCL__OP_BACKWARD, count, alpha, x, dy, dx};
    return run(ctx, &b);
}
