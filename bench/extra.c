/* The ops beyond the elementwise ones, on resident tensors: the sign mask, PReLU and batches.
 * Each is timed like the others (repeated, then lcl_finish) and its row reports the bytes it
 * must move: the masked ops' 1 bit per element included, PReLU's slopes left out. */
#include "workloads.h"

#include <stdlib.h>
#include <string.h>

#define EXTRA_ALPHA 0.01
#define PRELU_CHANNELS 16
#define PRELU_BATCH 4
#define FEW_ITEMS 4

static int fail(struct bench_extra *e) {
    bench_extra_release(e);
    return -1;
}

/* count views of n / count elements (n elements in all for few items; 1,024 each for small). */
static int make_items(struct bench_extra *e, size_t count, size_t each) {
    e->items = count;
    e->vx = calloc(count, sizeof *e->vx);
    e->vy = calloc(count, sizeof *e->vy);
    e->alphas = calloc(count, sizeof *e->alphas);
    if (!e->vx || !e->vy || !e->alphas)
        return -1;
    for (size_t i = 0; i < count; ++i) {
        size_t size = i + 1 < count ? each : e->n - each * (count - 1);
        e->alphas[i] = EXTRA_ALPHA;
        if (lcl_tensor_view(e->x, i * each, size, &e->vx[i]) != LCL_SUCCESS ||
            lcl_tensor_view(e->y, i * each, size, &e->vy[i]) != LCL_SUCCESS)
            return -1;
    }
    return 0;
}

int bench_extra_setup(struct bench_extra *e, lcl_context *ctx, enum bench_op op, size_t n, lcl_tensor *x,
                      lcl_tensor *dy, lcl_tensor *y) {
    memset(e, 0, sizeof *e);
    *e = (struct bench_extra){.ctx = ctx, .op = op, .n = n, .x = x, .dy = dy, .y = y};
    lcl_dtype dtype = lcl_tensor_dtype(x);
    switch (op) {
    case BENCH_FORWARD_MASKED:
    case BENCH_BACKWARD_MASKED:
        if (lcl_tensor_create(ctx, LCL_MASK, n, &e->mask) != LCL_SUCCESS ||
            lcl_forward_masked(ctx, EXTRA_ALPHA, x, y, e->mask) != LCL_SUCCESS)
            return fail(e);
        return 0;
    case BENCH_PRELU_FORWARD:
    case BENCH_PRELU_BACKWARD: {
        bool shaped = n % (PRELU_CHANNELS * PRELU_BATCH) == 0;
        e->channels = shaped ? PRELU_CHANNELS : 1;
        e->inner = shaped ? n / (PRELU_CHANNELS * PRELU_BATCH) : 1;
        void *slopes = calloc(e->channels, lcl_dtype_size(dtype));
        uint64_t state = 88172645463325252ull;
        if (!slopes)
            return fail(e);
        bench_fill(dtype, slopes, e->channels, &state);
        int bad = lcl_tensor_create(ctx, dtype, e->channels, &e->alpha) != LCL_SUCCESS ||
                  lcl_tensor_write(e->alpha, slopes) != LCL_SUCCESS ||
                  lcl_tensor_create(ctx, dtype, e->channels, &e->dalpha) != LCL_SUCCESS;
        free(slopes);
        return bad ? fail(e) : 0;
    }
    case BENCH_BATCH_FORWARD: {
        size_t count = n >= FEW_ITEMS ? FEW_ITEMS : 1;
        return make_items(e, count, n / count) ? fail(e) : 0;
    }
    case BENCH_BATCH_SMALL_ITEMS:
    case BENCH_CALLS_SMALL_ITEMS:
        if (n != (size_t)BENCH_SMALL_ITEMS * BENCH_SMALL_ITEM_N)
            return fail(e);
        return make_items(e, BENCH_SMALL_ITEMS, BENCH_SMALL_ITEM_N) ? fail(e) : 0;
    default:
        return fail(e);
    }
}

static int op_status(lcl_status st) { return st == LCL_SUCCESS ? 0 : -1; }

static int run_extra(void *arg) {
    struct bench_extra *e = arg;
    switch (e->op) {
    case BENCH_FORWARD_MASKED:
        return op_status(lcl_forward_masked(e->ctx, EXTRA_ALPHA, e->x, e->y, e->mask));
    case BENCH_BACKWARD_MASKED:
        return op_status(lcl_backward_masked(e->ctx, EXTRA_ALPHA, e->mask, e->dy, e->y));
    case BENCH_PRELU_FORWARD:
        return op_status(lcl_prelu_forward(e->ctx, e->channels, e->inner, e->alpha, e->x, e->y));
    case BENCH_PRELU_BACKWARD:
        return op_status(lcl_prelu_backward(e->ctx, e->channels, e->inner, e->alpha, e->x, e->dy, e->y, e->dalpha));
    case BENCH_BATCH_FORWARD:
    case BENCH_BATCH_SMALL_ITEMS:
        return op_status(lcl_forward_batch(e->ctx, e->items, e->alphas, (const lcl_tensor *const *)e->vx, e->vy));
    case BENCH_CALLS_SMALL_ITEMS:
        for (size_t i = 0; i < e->items; ++i)
            if (lcl_forward(e->ctx, EXTRA_ALPHA, e->vx[i], e->vy[i]) != LCL_SUCCESS)
                return -1;
        return 0;
    default:
        return -1;
    }
}

static int sync_extra(void *arg) { return op_status(lcl_finish(((struct bench_extra *)arg)->ctx)); }

struct bench_work bench_extra_work(struct bench_extra *e) {
    return (struct bench_work){run_extra, sync_extra, e};
}

void bench_extra_release(struct bench_extra *e) {
    for (size_t i = 0; e->vx && i < e->items; ++i)
        lcl_tensor_release(e->vx[i]);
    for (size_t i = 0; e->vy && i < e->items; ++i)
        lcl_tensor_release(e->vy[i]);
    free(e->vx);
    free(e->vy);
    free(e->alphas);
    lcl_tensor_release(e->mask);
    lcl_tensor_release(e->alpha);
    lcl_tensor_release(e->dalpha);
    e->vx = e->vy = NULL;
    e->alphas = NULL;
    e->mask = e->alpha = e->dalpha = NULL;
}
