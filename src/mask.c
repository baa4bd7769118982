/* The sign mask: lcl_forward_masked and lcl_backward_masked. Validation, then the CPU backend
 * (cpu_mask.c) or one launch of mask.cl's kernels; LEAKYCL_VERIFY recomputes on the CPU. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static lcl_status check_mask(const char *fn, const lcl_context *ctx, const lcl_tensor *mask, size_t n) {
    if (!mask)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: mask is NULL", fn);
    if (mask->ctx != ctx)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: mask belongs to another context", fn);
    if (mask->dtype != LCL_MASK)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: mask is %s, not a LCL_MASK tensor", fn,
                         lcl_dtype_name(mask->dtype));
    if (mask->n != n)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: mask has %zu elements but the tensors have %zu", fn, mask->n,
                         n);
    return LCL_SUCCESS;
}

static lcl_status check_disjoint(const char *fn, const lcl_tensor *mask, const char *name, const lcl_tensor *t) {
    if (lcl__tensor_overlap(mask, t) != LCL__DISJOINT)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: mask overlaps %s", fn, name);
    return LCL_SUCCESS;
}

/* `in` is x (forward) or dy (backward), `out` is y or dx. */
static lcl_status validate(const char *fn, bool forward, lcl_context *ctx, double alpha, const lcl_tensor *in,
                           const lcl_tensor *out, const lcl_tensor *mask) {
    const char *in_name = forward ? "x" : "dy";
    const char *out_name = forward ? "y" : "dx";
    if (!ctx)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: ctx is NULL", fn);
    lcl_status st = lcl__check_tensor(fn, in_name, ctx, in, NULL);
    if (st == LCL_SUCCESS)
        st = lcl__check_tensor(fn, out_name, ctx, out, in);
    if (st == LCL_SUCCESS)
        st = lcl__check_call(fn, ctx, in->dtype, alpha);
    if (st == LCL_SUCCESS)
        st = check_mask(fn, ctx, mask, in->n);
    if (st == LCL_SUCCESS && lcl__tensor_overlap(out, in) == LCL__PARTIAL)
        st = lcl__fail(LCL_ERROR_INVALID_ARGUMENT,
                       "%s: %s partially overlaps %s (in place needs the very same "
                       "elements)",
                       fn, out_name, in_name);
    if (st == LCL_SUCCESS)
        st = check_disjoint(fn, mask, in_name, in);
    if (st == LCL_SUCCESS)
        st = check_disjoint(fn, mask, out_name, out);
    return st;
}

/* mask.cl's work-items: on GPUs (a chunk of one vector) one per vector; on CPU devices each
 * owns whole words. */
static size_t mask_work_items(const lcl_context *ctx, lcl_dtype dtype, enum lcl__kernel_id id, size_t n) {
    const struct lcl__tunables *t = lcl__kernel_tunables(ctx, dtype, id);
    if (t->vectors_per_item == 1) {
        size_t vec = t->vector_width;
        return n / vec + (n % vec != 0);
    }
    size_t elements = lcl__cl_chunk_elements(ctx, dtype, id);
    size_t per_item = elements >= 32 ? elements / 32 : 1;
    size_t words = n / 32 + (n % 32 != 0);
    return words / per_item + (words % per_item != 0);
}

static lcl_status launch(lcl_context *ctx, bool forward, double alpha, const lcl_tensor *in, lcl_tensor *out,
                         const lcl_tensor *mask) {
    lcl_dtype dtype = in->dtype;
    struct lcl__launch l;
    enum lcl__kernel_id id = forward ? LCL__K_FORWARD_MASKED : LCL__K_BACKWARD_MASKED;
    lcl_status st = lcl__launch_begin(ctx, dtype, id, &l);
    if (st != LCL_SUCCESS)
        return st;
    if (forward) {
        lcl__launch_mem(&l, in->storage->mem);
        lcl__launch_ulong(&l, in->offset);
        lcl__launch_mem(&l, out->storage->mem);
        lcl__launch_ulong(&l, out->offset);
        lcl__launch_mem(&l, mask->storage->mem);
        lcl__launch_ulong(&l, mask->offset / 32);
    } else {
        lcl__launch_mem(&l, mask->storage->mem);
        lcl__launch_ulong(&l, mask->offset / 32);
        lcl__launch_mem(&l, in->storage->mem);
        lcl__launch_ulong(&l, in->offset);
        lcl__launch_mem(&l, out->storage->mem);
        lcl__launch_ulong(&l, out->offset);
    }
    lcl__launch_ulong(&l, in->n);
    lcl__launch_alpha(&l, alpha);
    return lcl__launch_end(ctx, &l, mask_work_items(ctx, dtype, id, in->n));
}

/* ---- LEAKYCL_VERIFY ------------------------------------------------------------------------- */

/* The first element whose mask bit differs, or n. */
static size_t first_bit_difference(const uint32_t *a, const uint32_t *b, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (((a[i / 32] ^ b[i / 32]) >> (i % 32)) & 1u)
            return i;
    return n;
}

static lcl_status verify(lcl_context *ctx, bool forward, double alpha, const lcl_tensor *in, lcl_tensor *out,
                         const lcl_tensor *mask) {
    const char *fn = forward ? "lcl_forward_masked" : "lcl_backward_masked";
    void *host_in = NULL, *host_mask = NULL, *device_out = NULL, *device_mask = NULL, *want = NULL;
    lcl_status st = lcl__verify_snapshot(in, &host_in);
    if (st == LCL_SUCCESS)
        st = lcl__verify_snapshot(mask, &host_mask);
    if (st == LCL_SUCCESS)
        st = launch(ctx, forward, alpha, in, out, mask);
    if (st == LCL_SUCCESS)
        st = lcl__verify_snapshot(out, &device_out);
    if (st == LCL_SUCCESS && forward)
        st = lcl__verify_snapshot(mask, &device_mask);
    size_t bytes = lcl_tensor_bytes(out);
    if (st == LCL_SUCCESS && !(want = malloc(bytes ? bytes : 1)))
        st = lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "LEAKYCL_VERIFY: out of host memory");
    if (st == LCL_SUCCESS) {
        size_t n = in->n;
        if (forward)
            lcl__cpu_forward_masked(in->dtype, n, alpha, host_in, want, host_mask);
        else
            lcl__cpu_backward_masked(in->dtype, n, alpha, host_mask, host_in, want);
        size_t i = lcl__first_difference(in->dtype, device_out, want, n);
        size_t bit = forward ? first_bit_difference(device_mask, host_mask, n) : n;
        if (i < n)
            st = lcl__fail(LCL_ERROR_OPENCL,
                           "LEAKYCL_VERIFY: %s %s, alpha %.17g, n %zu: first mismatch at index %zu: device and "
                           "CPU backend differ in %s",
                           fn, lcl_dtype_name(in->dtype), alpha, n, i, forward ? "y" : "dx");
        else if (bit < n)
            st = lcl__fail(LCL_ERROR_OPENCL,
                           "LEAKYCL_VERIFY: %s %s, n %zu: first mask mismatch at element %zu: device bit %u, CPU "
                           "backend bit %u",
                           fn, lcl_dtype_name(in->dtype), n, bit,
                           (unsigned)((((const uint32_t *)device_mask)[bit / 32] >> (bit % 32)) & 1u),
                           (unsigned)((((const uint32_t *)host_mask)[bit / 32] >> (bit % 32)) & 1u));
    }
    free(host_in);
    free(host_mask);
    free(device_out);
    free(device_mask);
    free(want);
    return st;
}

/* ---- the public functions ------------------------------------------------------------------- */

static lcl_status run(lcl_context *ctx, bool forward, double alpha, const lcl_tensor *in, lcl_tensor *out,
                      const lcl_tensor *mask) {
    if (in->n == 0)
        return LCL_SUCCESS;
    if (ctx->backend == LCL_BACKEND_CPU) {
        uint32_t *words = lcl__tensor_host_ptr(mask);
        if (forward)
            lcl__cpu_forward_masked(in->dtype, in->n, alpha, lcl__tensor_host_ptr(in), lcl__tensor_host_ptr(out),
                                    words);
        else
            lcl__cpu_backward_masked(in->dtype, in->n, alpha, words, lcl__tensor_host_ptr(in),
                                     lcl__tensor_host_ptr(out));
        return LCL_SUCCESS;
    }
    return ctx->verify ? verify(ctx, forward, alpha, in, out, mask) : launch(ctx, forward, alpha, in, out, mask);
}

lcl_status lcl_forward_masked(lcl_context *ctx, double alpha, const lcl_tensor *x, lcl_tensor *y, lcl_tensor *mask) {
    lcl_status st = validate("lcl_forward_masked", true, ctx, alpha, x, y, mask);
    return st != LCL_SUCCESS ? st : run(ctx, true, alpha, x, y, mask);
}

lcl_status lcl_backward_masked(lcl_context *ctx, double alpha, const lcl_tensor *mask, const lcl_tensor *dy,
                               lcl_tensor *dx) {
    lcl_status st = validate("lcl_backward_masked", false, ctx, alpha, dy, dx, mask);
    return st != LCL_SUCCESS ? st : run(ctx, false, alpha, dy, dx, mask);
}
