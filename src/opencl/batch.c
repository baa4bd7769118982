/* Batches on OpenCL: the items are grouped by dtype and buffers (views of one arena share
 * their parent's buffer); one table of all groups' items is uploaded into a per-context buffer
 * and each group is one launch of batch.cl's kernel. */
#include "opencl.h"

#include <stdlib.h>
#include <string.h>

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
    return items + 1 + items * LCL__BATCH_FIELDS + (total + local - 1) / local + 1;
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

static enum lcl__kernel_id batch_kernel(const struct lcl__batch *b) {
    return b->op == LCL__OP_FORWARD ? LCL__K_FORWARD_BATCH : LCL__K_BACKWARD_BATCH;
}

/* The elements one work-item of batch.cl covers: its chunk, or on GPUs (a chunk of one vector)
 * batch_vectors (the tunables) vectors strided across the item, so that the item lookup each
 * work-item starts with is paid once per several vectors (once per vector it held a batch of
 * four large items to about half the bandwidth of a plain launch on an H200). */
static size_t batch_elements_per_work_item(const lcl_context *ctx, const struct lcl__batch *b, lcl_dtype dtype) {
    const struct lcl__tunables *t = lcl__kernel_tunables(ctx, dtype, batch_kernel(b));
    size_t chunk = lcl__chunk_elements(t, dtype);
    return t->gpu_shape ? chunk * t->batch_vectors : chunk;
}

/* Splits the sorted items into groups, counts their work-items and places their tables;
 * returns the number of groups (0 after a failure) and the table's size in *words. */
static size_t plan_groups(lcl_context *ctx, const struct lcl__batch *b, const struct keyed *sorted, size_t used,
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
static void fill_table(lcl_context *ctx, const struct lcl__batch *b, const struct keyed *sorted, const struct group *g,
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
        uint64_t *f = fields + j * LCL__BATCH_FIELDS;
        f[0] = b->x[i]->offset;
        f[1] = b->dy ? b->dy[i]->offset : 0;
        f[2] = b->out[i]->offset;
        f[3] = n;
        f[4] = alpha_bits(dtype, b->alpha[i]);
    }
    fill_first_items(prefix, g->items, g->total, lcl__kernel_tunables(ctx, dtype, batch_kernel(b))->work_group_size,
                     fields + g->items * LCL__BATCH_FIELDS);
}

static lcl_status launch_group(lcl_context *ctx, const struct lcl__batch *b, cl_mem table, const struct group *g,
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
static lcl_status enqueue_groups(lcl_context *ctx, const struct lcl__batch *b, const struct keyed *sorted,
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

lcl_status lcl__cl_batch(lcl_context *ctx, const struct lcl__batch *b) {
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
