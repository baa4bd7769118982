/* The sign mask: lcl_forward_masked and lcl_backward_masked. Validation, then the CPU backend
 * (cpu/mask.c) or mask.cl's kernels (opencl/mask.c); LEAKYCL_VERIFY recomputes on the CPU. */
#include "cpu/cpu.h"
#include "opencl/opencl.h"

#include <string.h>

/* `in` is x (forward) or dy (backward), `out` is y or dx. */
struct masked {
    enum lcl__op op;
    double alpha;
    const lcl_tensor *in;
    lcl_tensor *out;
    const lcl_tensor *mask;
};

static lcl_status validate(const char *fn, lcl_context *ctx, const struct masked *m) {
    bool forward = m->op == LCL__OP_FORWARD;
    lcl_dtype dtype = m->in ? m->in->dtype : LCL_F32;
    size_t n = m->in ? m->in->n : 0;
    struct lcl__arg args[3] = {
        {forward ? "x" : "dy", SIZE_MAX, m->in, n, dtype, LCL__ARG_ANY_SIZE, 0},
        {forward ? "y" : "dx", SIZE_MAX, m->out, n, dtype, LCL__ARG_OUTPUT, 1u},
        {"mask", SIZE_MAX, m->mask, n, LCL_MASK, LCL__ARG_EXCLUSIVE, 0},
    };
    lcl_status st = lcl__check_args(fn, ctx, args, 2);
    if (st == LCL_SUCCESS)
        st = lcl__check_call(fn, ctx, dtype, m->alpha);
    if (st == LCL_SUCCESS)
        st = lcl__check_args(fn, ctx, args + 2, 1);
    return st == LCL_SUCCESS ? lcl__check_overlaps(fn, args, 3) : st;
}

static void run_cpu(const struct masked *m, const void *in, void *out, void *mask) {
    if (m->op == LCL__OP_FORWARD)
        lcl__cpu_forward_masked(m->in->dtype, m->in->n, m->alpha, in, out, mask);
    else
        lcl__cpu_backward_masked(m->in->dtype, m->in->n, m->alpha, mask, in, out);
}

/* ---- LEAKYCL_VERIFY ------------------------------------------------------------------------- */

static lcl_status launch(lcl_context *ctx, const void *p) {
    const struct masked *m = p;
    return lcl__cl_masked(ctx, m->op, m->alpha, m->in, m->out, m->mask);
}

/* in: the input and the mask before the call; want: the output and (forward) the mask. */
static lcl_status recompute(const void *p, void *const *in, void *const *want) {
    const struct masked *m = p;
    void *mask = in[1];
    if (m->op == LCL__OP_FORWARD) {
        memcpy(want[1], in[1], lcl_tensor_bytes(m->mask)); /* bits past n stay as they were */
        mask = want[1];
    }
    run_cpu(m, in[0], want[0], mask);
    return LCL_SUCCESS;
}

static uint32_t bit(const void *words, size_t i) { return (((const uint32_t *)words)[i / 32] >> (i % 32)) & 1u; }

static lcl_status compare(const char *fn, const void *p, void *const *in, void *const *got, void *const *want) {
    (void)in;
    const struct masked *m = p;
    lcl_dtype dtype = m->in->dtype;
    size_t n = m->in->n;
    bool forward = m->op == LCL__OP_FORWARD;
    size_t i = lcl__first_difference(dtype, got[0], want[0], n);
    if (i < n)
        return lcl__fail(LCL_ERROR_OPENCL,
                         "LEAKYCL_VERIFY: %s %s, alpha %.17g, n %zu: first mismatch at index %zu: device and CPU "
                         "backend differ in %s",
                         fn, lcl_dtype_name(dtype), m->alpha, n, i, forward ? "y" : "dx");
    for (i = 0; forward && i < n; ++i)
        if (bit(got[1], i) != bit(want[1], i))
            return lcl__fail(LCL_ERROR_OPENCL,
                             "LEAKYCL_VERIFY: %s %s, n %zu: first mask mismatch at element %zu: device bit %u, CPU "
                             "backend bit %u",
                             fn, lcl_dtype_name(dtype), n, i, (unsigned)bit(got[1], i), (unsigned)bit(want[1], i));
    return LCL_SUCCESS;
}

/* ---- the public functions ------------------------------------------------------------------- */

static lcl_status run(const char *fn, lcl_context *ctx, const struct masked *m) {
    lcl_status st = validate(fn, ctx, m);
    if (st != LCL_SUCCESS || m->in->n == 0)
        return st;
    if (ctx->backend == LCL_BACKEND_CPU) {
        run_cpu(m, lcl__tensor_host_ptr(m->in), lcl__tensor_host_ptr(m->out), lcl__tensor_host_ptr(m->mask));
        return LCL_SUCCESS;
    }
    if (!ctx->verify)
        return launch(ctx, m);
    bool forward = m->op == LCL__OP_FORWARD;
    const lcl_tensor *in[2] = {m->in, m->mask};
    const lcl_tensor *out[2] = {m->out, forward ? m->mask : NULL};
    struct lcl__verified v = {fn, m, in, 2, out, forward ? 2 : 1, launch, recompute, compare};
    return lcl__verify(ctx, &v);
}

lcl_status lcl_forward_masked(lcl_context *ctx, double alpha, const lcl_tensor *x, lcl_tensor *y, lcl_tensor *mask) {
    struct masked m = {LCL__OP_FORWARD, alpha, x, y, mask};
    return run("lcl_forward_masked", ctx, &m);
}

lcl_status lcl_backward_masked(lcl_context *ctx, double alpha, const lcl_tensor *mask, const lcl_tensor *dy,
                               lcl_tensor *dx) {
    struct masked m = {LCL__OP_BACKWARD, alpha, dy, dx, mask};
    return run("lcl_backward_masked", ctx, &m);
}
