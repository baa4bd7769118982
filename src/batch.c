/* Batches: lcl_forward_batch and lcl_backward_batch. Every item is validated, and the items are
 * checked not to step on each other, before anything runs. On OpenCL the items are grouped by
 * dtype and buffers (views of one arena share their parent's buffer); one table of all groups'
 * items is uploaded into a per-context buffer and each group is one launch of batch.cl's kernel.
 * The CPU backend runs huge items (where cpu.c streams its stores) one after another, each on
 * all threads; other large items in one thread team, each thread its share of every item; and
 * small items side by side, one per thread. */
#include "internal.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fields per item in the table: x offset, dy offset, output offset, n, alpha bits (batch.cl). */
#define BATCH_FIELDS 5
/* Items smaller than this run one per thread on the CPU backend (cpu.c threads larger ones). */
#define CPU_SMALL_ITEM_BYTES ((size_t)256 << 10)

struct batch {
    const char *fn;
    enum lcl__op op;
    size_t count;
    const double *alpha;
    const lcl_tensor *const *x;
    const lcl_tensor *const *dy; /* NULL for the forward */
    lcl_tensor *const *out;
};

static const char *out_name(const struct batch *b) { return b->op == LCL__OP_FORWARD ? "y" : "dx"; }

/* ---- validation ----------------------------------------------------------------------------- */

static lcl_status check_item_tensor(const struct batch *b, const char *name, size_t i, const lcl_context *ctx,
                                    const lcl_tensor *t, const lcl_tensor *like) {
    if (!t)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s[%zu] is NULL", b->fn, name, i);
    if (t->ctx != ctx)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s[%zu] belongs to another context", b->fn, name, i);
    if (like && t->dtype != like->dtype)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s[%zu] is %s but x[%zu] is %s", b->fn, name, i,
                         lcl_dtype_name(t->dtype), i, lcl_dtype_name(like->dtype));
    if (like && t->n != like->n)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s[%zu] has %zu elements but x[%zu] has %zu", b->fn, name, i,
                         t->n, i, like->n);
    return LCL_SUCCESS;
}

static lcl_status check_item(const struct batch *b, const lcl_context *ctx, size_t i) {
    const lcl_tensor *x = b->x[i];
    lcl_status st = check_item_tensor(b, "x", i, ctx, x, NULL);
    if (st == LCL_SUCCESS && b->dy)
        st = check_item_tensor(b, "dy", i, ctx, b->dy[i], x);
    if (st == LCL_SUCCESS)
        st = check_item_tensor(b, out_name(b), i, ctx, b->out[i], x);
    if (st != LCL_SUCCESS)
        return st;
    /* The message names the item; formatting it only on failure keeps long batches cheap. */
    if (lcl__check_call(b->fn, ctx, x->dtype, b->alpha[i]) != LCL_SUCCESS) {
        char where[96];
        snprintf(where, sizeof where, "%s: item %zu", b->fn, i);
        return lcl__check_call(where, ctx, x->dtype, b->alpha[i]);
    }
    if (st == LCL_SUCCESS && lcl__tensor_overlap(b->out[i], x) == LCL__PARTIAL)
        st = lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: %s[%zu] partially overlaps x[%zu]", b->fn, out_name(b), i, i);
    if (st == LCL_SUCCESS && b->dy && lcl__tensor_overlap(b->out[i], b->dy[i]) == LCL__PARTIAL)
        st = lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: dx[%zu] partially overlaps dy[%zu]", b->fn, i, i);
    return st;
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
static size_t role_spans(const struct batch *b, int role, struct span *out) {
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
static size_t sort_spans(const struct batch *b, struct span *out, struct span *scratch) {
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
static lcl_status check_across_items(const struct batch *b) {
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

static lcl_status validate(lcl_context *ctx, const struct batch *b) {
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

/* ---- the CPU backend ------------------------------------------------------------------------ */

/* Elements [lo, hi) of item i. */
static void cpu_item_range(const struct batch *b, size_t i, size_t lo, size_t hi) {
    const lcl_tensor *x = b->x[i];
    size_t size = lcl_dtype_size(x->dtype);
    struct lcl__eltwise call = {.op = b->op, .dtype = x->dtype, .alpha = b->alpha[i], .n = hi - lo};
    lcl__cpu_eltwise(&call, (const char *)lcl__tensor_host_ptr(x) + lo * size,
                     b->dy ? (const char *)lcl__tensor_host_ptr(b->dy[i]) + lo * size : NULL,
                     (char *)lcl__tensor_host_ptr(b->out[i]) + lo * size);
}

static bool is_small(const struct batch *b, size_t i) { return lcl_tensor_bytes(b->x[i]) < CPU_SMALL_ITEM_BYTES; }

/* Items from where cpu.c streams its stores up run as whole lcl__cpu_eltwise calls, so that
 * they stream too. */
static bool is_huge(const struct batch *b, size_t i) {
    return lcl_tensor_bytes(b->x[i]) >= lcl__cpu_stream_min_bytes();
}

/* Where thread t of count starts in item i: near t/count of the way, on a 64-byte line of the
 * output, so that no two threads write one line. */
static size_t share_start(const struct batch *b, size_t i, size_t t, size_t count) {
    size_t n = b->x[i]->n;
    if (t == 0)
        return 0;
    if (t >= count)
        return n;
    size_t size = lcl_dtype_size(b->x[i]->dtype);
    size_t at = n / count * t + n % count * t / count;
    uintptr_t out = (uintptr_t)lcl__tensor_host_ptr(b->out[i]);
    if (out % size == 0) {
        size_t per_line = 64 / size;
        size_t first = (64 - out % 64) % 64 / size;
        at = at <= first ? first : first + (at - first) / per_line * per_line;
    }
    return at < n ? at : n;
}

static void run_cpu(const struct batch *b) {
    size_t large = 0;
    size_t small = 0;
    size_t small_bytes = 0;
    for (size_t i = 0; i < b->count; ++i) {
        if (b->x[i]->n == 0)
            continue;
        if (is_huge(b, i)) {
            cpu_item_range(b, i, 0, b->x[i]->n); /* threaded and streamed inside */
        } else if (is_small(b, i)) {
            small++;
            small_bytes += lcl_tensor_bytes(b->x[i]);
        } else {
            large++;
        }
    }
    /* Large items: one thread team for all of them, each thread its share of every item, with
     * no barrier between items (they share no output). */
    if (large > 0) {
#pragma omp parallel
        {
            size_t count = (size_t)omp_get_num_threads();
            size_t t = (size_t)omp_get_thread_num();
            for (size_t i = 0; i < b->count; ++i) {
                if (b->x[i]->n == 0 || is_small(b, i) || is_huge(b, i))
                    continue;
                size_t lo = share_start(b, i, t, count);
                size_t hi = share_start(b, i, t + 1, count);
                if (hi > lo)
                    cpu_item_range(b, i, lo, hi);
            }
        }
    }
    if (small == 0)
        return;
    /* Small items: whole, one per thread at a time (a team only when there is enough work). */
    if (small == 1 || small_bytes < CPU_SMALL_ITEM_BYTES) {
        for (size_t i = 0; i < b->count; ++i)
            if (b->x[i]->n > 0 && is_small(b, i))
                cpu_item_range(b, i, 0, b->x[i]->n);
        return;
    }
#pragma omp parallel for schedule(dynamic, 4)
    for (size_t i = 0; i < b->count; ++i)
        if (b->x[i]->n > 0 && is_small(b, i))
            cpu_item_range(b, i, 0, b->x[i]->n);
}

/* ---- the OpenCL backend --------------------------------------------------------------------- */

/* An item's launch group: items with equal keys share a launch. */
struct keyed {
    uintptr_t key[4]; /* dtype, x's, dy's and the output's buffer */
    size_t item;
};

static int compare_keyed(const void *pa, const void *pb) {
    const struct keyed *a = pa, *b = pb;
    for (int k = 0; k < 4; ++k)
        if (a->key[k] != b->key[k])
            return a->key[k] < b->key[k] ? -1 : 1;
    return (a->item > b->item) - (a->item < b->item);
}

static bool same_group(const struct keyed *a, const struct keyed *b) {
    return memcmp(a->key, b->key, sizeof a->key) == 0;
}

static uint64_t alpha_bits(lcl_dtype dtype, double alpha) {
    if (dtype == LCL_F64) {
        uint64_t u;
        memcpy(&u, &alpha, sizeof u);
        return u;
    }
    float a = (float)alpha;
    uint32_t u;
    memcpy(&u, &a, sizeof u);
    return u;
}

/* The ulongs of one group's table (batch.cl): prefix, fields and the first item of each
 * work-group. */
static size_t table_words(size_t items, size_t total, size_t local) {
    return items + 1 + items * BATCH_FIELDS + (total + local - 1) / local + 1;
}

/* The first item of each work-group: first[g] for the work-item g * local, first[groups] the
 * last item. */
static void fill_first_items(const uint64_t *prefix, size_t items, size_t total, size_t local, uint64_t *first) {
    size_t groups = (total + local - 1) / local;
    size_t item = 0;
    for (size_t g = 0; g < groups; ++g) {
        uint64_t wi = (uint64_t)g * local;
        while (item + 1 < items && prefix[item + 1] <= wi)
            ++item;
        first[g] = item;
    }
    first[groups] = items - 1;
}

/* One launch: items sorted[first, first + items) with `total` work-items, whose table starts
 * `offset` ulongs into the uploaded buffer. */
struct group {
    size_t first, items, total, offset;
};

/* The elements one work-item of batch.cl covers: its chunk, or on GPUs (a chunk of one vector)
 * LCL__GPU_BATCH_VECTORS vectors strided across the item, so that the item lookup each
 * work-item starts with is paid once per several vectors (once per vector it held a batch of
 * four large items to about half the bandwidth of a plain launch on an H200). */
static enum lcl__kernel_id batch_kernel(const struct batch *b) {
    return b->op == LCL__OP_FORWARD ? LCL__K_FORWARD_BATCH : LCL__K_BACKWARD_BATCH;
}

static size_t batch_elements_per_work_item(const lcl_context *ctx, const struct batch *b, lcl_dtype dtype) {
    size_t chunk = lcl__cl_chunk_elements(ctx, dtype, batch_kernel(b));
    return lcl__kernel_tunables(ctx, dtype, batch_kernel(b))->vectors_per_item == 1 ? chunk * LCL__GPU_BATCH_VECTORS
                                                                                      : chunk;
}

/* Splits the sorted items into groups, counts their work-items and places their tables;
 * returns the number of groups (0 after a failure) and the table's size in *words. */
static size_t plan_groups(lcl_context *ctx, const struct batch *b, const struct keyed *sorted, size_t used,
                          struct group *groups, size_t *words, lcl_status *st) {
    size_t count = 0;
    size_t at = 0;
    for (size_t first = 0; first < used; ++count) {
        lcl_dtype dtype = b->x[sorted[first].item]->dtype;
        size_t per_item = batch_elements_per_work_item(ctx, b, dtype);
        size_t local = lcl__kernel_tunables(ctx, dtype, batch_kernel(b))->work_group_size;
        size_t total = 0;
        size_t last = first;
        for (; last < used && same_group(&sorted[first], &sorted[last]); ++last) {
            size_t n = b->x[sorted[last].item]->n;
            size_t chunks = n / per_item + (n % per_item != 0);
            if (chunks > SIZE_MAX / 2 - local - total) {
                *st =
                    lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: the items of one buffer hold too many elements", b->fn);
                return 0;
            }
            total += chunks;
        }
        groups[count] = (struct group){first, last - first, total, at};
        at += table_words(last - first, total, local);
        first = last;
    }
    *words = at;
    return count;
}

/* Writes a group's table (batch.cl) at table + g->offset. */
static void fill_table(lcl_context *ctx, const struct batch *b, const struct keyed *sorted, const struct group *g,
                       uint64_t *table) {
    uint64_t *prefix = table + g->offset;
    uint64_t *fields = prefix + g->items + 1;
    lcl_dtype dtype = b->x[sorted[g->first].item]->dtype;
    size_t per_item = batch_elements_per_work_item(ctx, b, dtype);
    prefix[0] = 0;
    for (size_t j = 0; j < g->items; ++j) {
        size_t i = sorted[g->first + j].item;
        size_t n = b->x[i]->n;
        prefix[j + 1] = prefix[j] + n / per_item + (n % per_item != 0);
        uint64_t *f = fields + j * BATCH_FIELDS;
        f[0] = b->x[i]->offset;
        f[1] = b->dy ? b->dy[i]->offset : 0;
        f[2] = b->out[i]->offset;
        f[3] = n;
        f[4] = alpha_bits(dtype, b->alpha[i]);
    }
    fill_first_items(prefix, g->items, g->total, lcl__kernel_tunables(ctx, dtype, batch_kernel(b))->work_group_size,
                     fields + g->items * BATCH_FIELDS);
}

static lcl_status launch_group(lcl_context *ctx, const struct batch *b, cl_mem table, const struct group *g,
                               size_t first_item) {
    const lcl_tensor *x = b->x[first_item];
    enum lcl__kernel_id id = batch_kernel(b);
    struct lcl__launch l;
    lcl_status st = lcl__launch_begin(ctx, x->dtype, id, &l);
    if (st != LCL_SUCCESS)
        return st;
    lcl__launch_mem(&l, table);
    lcl__launch_ulong(&l, g->offset);
    lcl__launch_ulong(&l, g->items);
    lcl__launch_ulong(&l, g->total);
    lcl__launch_mem(&l, x->storage->mem);
    if (b->dy)
        lcl__launch_mem(&l, b->dy[first_item]->storage->mem);
    lcl__launch_mem(&l, b->out[first_item]->storage->mem);
    return lcl__launch_end(ctx, &l, g->total);
}

/* Uploads every group's table at once, then enqueues one launch per group. */
static lcl_status enqueue_groups(lcl_context *ctx, const struct batch *b, const struct keyed *sorted,
                                 const struct group *groups, size_t group_count, size_t words) {
    size_t bytes = words * sizeof(uint64_t);
    struct lcl__workspace *ws = NULL;
    lcl_status st = lcl__workspace_lock(ctx, LCL__WS_BATCH, &ws);
    if (st != LCL_SUCCESS)
        return st;
    void *staging = NULL;
    cl_mem table = NULL;
    st = lcl__workspace_staging(ws, bytes, &staging);
    if (st == LCL_SUCCESS) {
        for (size_t g = 0; g < group_count; ++g)
            fill_table(ctx, b, sorted, &groups[g], staging);
        st = lcl__workspace_device(ctx, ws, bytes, &table);
    }
    if (st == LCL_SUCCESS)
        st = lcl__workspace_upload(ctx, ws, bytes);
    for (size_t g = 0; g < group_count && st == LCL_SUCCESS; ++g)
        st = launch_group(ctx, b, table, &groups[g], sorted[groups[g].first].item);
    lcl__workspace_unlock(ws);
    return st;
}

static lcl_status run_opencl(lcl_context *ctx, const struct batch *b) {
    if (b->count > SIZE_MAX / (sizeof(struct keyed) + sizeof(struct group)))
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: count %zu is too large", b->fn, b->count);
    struct keyed *sorted = malloc(b->count * sizeof *sorted);
    struct group *groups = malloc(b->count * sizeof *groups);
    lcl_status st = LCL_SUCCESS;
    if (!sorted || !groups) {
        st = lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "%s: out of host memory for %zu items", b->fn, b->count);
        goto cleanup;
    }
    size_t used = 0;
    for (size_t i = 0; i < b->count; ++i) {
        if (b->x[i]->n == 0)
            continue;
        sorted[used++] =
            (struct keyed){{(uintptr_t)b->x[i]->dtype, (uintptr_t)b->x[i]->storage->mem,
                            b->dy ? (uintptr_t)b->dy[i]->storage->mem : 0, (uintptr_t)b->out[i]->storage->mem},
                           i};
    }
    if (used == 0)
        goto cleanup;
    /* One group (the common case: an arena) needs no sort. */
    size_t alike = 1;
    while (alike < used && same_group(&sorted[0], &sorted[alike]))
        ++alike;
    if (alike < used)
        qsort(sorted, used, sizeof *sorted, compare_keyed);
    size_t words = 0;
    size_t group_count = plan_groups(ctx, b, sorted, used, groups, &words, &st);
    if (st == LCL_SUCCESS)
        st = enqueue_groups(ctx, b, sorted, groups, group_count, words);
cleanup:
    free(sorted);
    free(groups);
    return st;
}

/* LEAKYCL_VERIFY: every item's inputs snapshotted before, its output compared after. */
static lcl_status run_verified(lcl_context *ctx, const struct batch *b) {
    struct lcl__verify *v = calloc(b->count, sizeof *v);
    if (!v)
        return lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "%s: LEAKYCL_VERIFY: out of host memory", b->fn);
    lcl_status st = LCL_SUCCESS;
    for (size_t i = 0; i < b->count && st == LCL_SUCCESS; ++i)
        if (b->x[i]->n > 0)
            st = lcl__verify_begin(b->x[i], b->dy ? b->dy[i] : NULL, &v[i]);
    if (st == LCL_SUCCESS)
        st = run_opencl(ctx, b);
    for (size_t i = 0; i < b->count; ++i) {
        if (st != LCL_SUCCESS || b->x[i]->n == 0) {
            lcl__verify_discard(&v[i]);
            continue;
        }
        const lcl_tensor *x = b->x[i];
        struct lcl__eltwise call = {.op = b->op, .dtype = x->dtype, .alpha = b->alpha[i], .n = x->n};
        st = lcl__verify_end(&call, b->out[i], &v[i]);
        if (st != LCL_SUCCESS) {
            char *message = strdup(lcl_last_error());
            st = lcl__fail(st, "%s: item %zu: %s", b->fn, i, message ? message : "LEAKYCL_VERIFY mismatch");
            free(message);
        }
    }
    free(v);
    return st;
}

static lcl_status run(lcl_context *ctx, const struct batch *b) {
    lcl_status st = validate(ctx, b);
    if (st != LCL_SUCCESS || b->count == 0)
        return st;
    if (ctx->backend == LCL_BACKEND_CPU) {
        run_cpu(b);
        return LCL_SUCCESS;
    }
    return ctx->verify ? run_verified(ctx, b) : run_opencl(ctx, b);
}

lcl_status lcl_forward_batch(lcl_context *ctx, size_t count, const double *alpha, const lcl_tensor *const *x,
                             lcl_tensor *const *y) {
    struct batch b = {"lcl_forward_batch", LCL__OP_FORWARD, count, alpha, x, NULL, y};
    return run(ctx, &b);
}

lcl_status lcl_backward_batch(lcl_context *ctx, size_t count, const double *alpha, const lcl_tensor *const *x,
                              const lcl_tensor *const *dy, lcl_tensor *const *dx) {
    struct batch b = {"lcl_backward_batch", LCL__OP_BACKWARD, count, alpha, x, dy, dx};
    return run(ctx, &b);
}
