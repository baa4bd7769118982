/* Batches on the CPU backend: huge items (where eltwise.c streams its stores) run one after
 * another, each on all threads; other large items in one thread team, each thread its share of
 * every item; and small items side by side, one per thread. */
#include "cpu.h"

#include <omp.h>

/* Items smaller than this run one per thread (eltwise.c threads larger ones). */
#define CPU_SMALL_ITEM_BYTES ((size_t)256 << 10)

/* Elements [lo, hi) of item i. */
static void cpu_item_range(const struct lcl__batch *b, size_t i, size_t lo, size_t hi) {
    const lcl_tensor *x = b->x[i];
    size_t size = lcl_dtype_size(x->dtype);
    struct lcl__eltwise call = {.op = b->op, .dtype = x->dtype, .alpha = b->alpha[i], .n = hi - lo};
    lcl__cpu_eltwise(&call, (const char *)lcl__tensor_host_ptr(x) + lo * size,
                     b->dy ? (const char *)lcl__tensor_host_ptr(b->dy[i]) + lo * size : NULL,
                     (char *)lcl__tensor_host_ptr(b->out[i]) + lo * size);
}

static bool is_small(const struct lcl__batch *b, size_t i) { return lcl_tensor_bytes(b->x[i]) < CPU_SMALL_ITEM_BYTES; }

/* Items from where eltwise.c streams its stores up run as whole lcl__cpu_eltwise calls, so that
 * they stream too. */
static bool is_huge(const struct lcl__batch *b, size_t i) {
    return lcl_tensor_bytes(b->x[i]) >= lcl__cpu_stream_min_bytes();
}

/* Where thread t of count starts in item i: near t/count of the way, on a 64-byte line of the
 * output, so that no two threads write one line. */
static size_t share_start(const struct lcl__batch *b, size_t i, size_t t, size_t count) {
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

void lcl__cpu_batch(const struct lcl__batch *b) {
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
