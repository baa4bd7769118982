/* Tensors: device buffers (host memory on the CPU backend), views and host transfers. */
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Host memory for CPU-backend tensors (free() releases it). */
static void *aligned_alloc_host(size_t bytes) {
    void *p = NULL;
    /* No object can be larger (glibc refuses too): fail here rather than hand the allocator a
     * size that tools report as a negative argument. */
    if (bytes > (size_t)PTRDIFF_MAX)
        return NULL;
    /* 2 MiB lets the kernel back large tensors with huge pages; small ones need only a line. */
    size_t alignment = bytes >= ((size_t)4 << 20) ? ((size_t)2 << 20) : 64;
    if (posix_memalign(&p, alignment, bytes ? bytes : 1) != 0)
        return NULL;
    return p;
}

static void storage_release(struct lcl__storage *s) {
    if (atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    if (s->mem)
        clReleaseMemObject(s->mem);
    if (!s->borrowed)
        free(s->host);
    free(s);
}

/* A new tensor on storage s, whose reference it takes over; s is released if that fails. */
static lcl_status tensor_new(lcl_context *ctx, lcl_dtype dtype, size_t offset, size_t n, struct lcl__storage *storage,
                             lcl_tensor **out) {
    lcl_tensor *t = malloc(sizeof *t);
    if (!t) {
        storage_release(storage);
        return lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "out of host memory for a tensor");
    }
    *t = (lcl_tensor){.ctx = ctx, .dtype = dtype, .n = n, .offset = offset, .storage = storage};
    *out = t;
    return LCL_SUCCESS;
}

static struct lcl__storage *storage_new(void) {
    struct lcl__storage *s = calloc(1, sizeof *s);
    if (s)
        atomic_init(&s->refs, 1);
    return s;
}

static lcl_status allocate_storage(lcl_context *ctx, size_t bytes, struct lcl__storage *s) {
    s->bytes = bytes;
    if (bytes == 0)
        return LCL_SUCCESS;
    if (ctx->backend == LCL_BACKEND_CPU) {
        s->host = aligned_alloc_host(bytes);
        return s->host ? LCL_SUCCESS
                       : lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "lcl_tensor_create: cannot allocate %zu bytes", bytes);
    }
    if (bytes > ctx->max_alloc)
        return lcl__fail(LCL_ERROR_OUT_OF_MEMORY,
                         "lcl_tensor_create: %zu bytes exceed the device's largest allocation (%llu bytes)", bytes,
                         (unsigned long long)ctx->max_alloc);
    cl_int err = CL_SUCCESS;
    s->mem = clCreateBuffer(ctx->cl_ctx, CL_MEM_READ_WRITE, bytes, NULL, &err);
    return lcl__cl_check(err, "clCreateBuffer");
}

lcl_status lcl_tensor_create(lcl_context *ctx, lcl_dtype dtype, size_t n, lcl_tensor **out) {
    if (!ctx || !out)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "lcl_tensor_create: %s is NULL", ctx ? "out" : "ctx");
    if (!lcl__dtype_valid(dtype))
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "lcl_tensor_create: dtype %d is not a lcl_dtype", (int)dtype);
    size_t bytes = lcl__bytes_for(dtype, n);
    if (bytes == SIZE_MAX)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "lcl_tensor_create: %zu elements of %s overflow size_t", n,
                         lcl_dtype_name(dtype));
    struct lcl__storage *s = storage_new();
    if (!s)
        return lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "lcl_tensor_create: out of host memory");
    lcl_status st = allocate_storage(ctx, bytes, s);
    if (st != LCL_SUCCESS) {
        storage_release(s);
        return st;
    }
    return tensor_new(ctx, dtype, 0, n, s, out);
}

/* offset + n elements fit in `bytes`, without overflow, and a mask view starts on a word. */
static lcl_status check_range(const char *fn, lcl_dtype dtype, size_t offset, size_t n, size_t bytes) {
    if (dtype == LCL_MASK && offset % 32 != 0)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: a mask view must start at a multiple of 32, not %zu", fn,
                         offset);
    size_t end_bytes = offset > SIZE_MAX - n ? SIZE_MAX : lcl__bytes_for(dtype, offset + n);
    if (end_bytes == SIZE_MAX || end_bytes > bytes)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT,
                         "%s: elements [%zu, %zu + %zu) of %s run past the end of the buffer (%zu bytes)", fn, offset,
                         offset, n, lcl_dtype_name(dtype), bytes);
    return LCL_SUCCESS;
}

static lcl_status check_wrap_buffer(lcl_context *ctx, cl_mem buffer, size_t *bytes) {
    lcl_status st;
    cl_context owner = NULL;
    if (LCL__CL_CALL(st, clGetMemObjectInfo(buffer, CL_MEM_CONTEXT, sizeof owner, &owner, NULL),
                     "clGetMemObjectInfo(CL_MEM_CONTEXT)") ||
        LCL__CL_CALL(st, clGetMemObjectInfo(buffer, CL_MEM_SIZE, sizeof *bytes, bytes, NULL),
                     "clGetMemObjectInfo(CL_MEM_SIZE)"))
        return st;
    if (owner != ctx->cl_ctx)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "lcl_tensor_wrap_cl: the buffer belongs to another cl_context");
    return LCL_SUCCESS;
}

lcl_status lcl_tensor_wrap_cl(lcl_context *ctx, lcl_dtype dtype, cl_mem buffer, size_t offset, size_t n,
                              lcl_tensor **out) {
    if (!ctx || !buffer || !out)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "lcl_tensor_wrap_cl: %s is NULL",
                         !ctx      ? "ctx"
                         : !buffer ? "buffer"
                                   : "out");
    if (ctx->backend != LCL_BACKEND_OPENCL)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "lcl_tensor_wrap_cl: the context runs on the CPU backend");
    if (!lcl__dtype_valid(dtype))
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "lcl_tensor_wrap_cl: dtype %d is not a lcl_dtype", (int)dtype);
    size_t bytes = 0;
    lcl_status st = check_wrap_buffer(ctx, buffer, &bytes);
    if (st == LCL_SUCCESS)
        st = check_range("lcl_tensor_wrap_cl", dtype, offset, n, bytes);
    if (st != LCL_SUCCESS)
        return st;
    struct lcl__storage *s = storage_new();
    if (!s)
        return lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "lcl_tensor_wrap_cl: out of host memory");
    s->bytes = bytes;
    if (LCL__CL_CALL(st, clRetainMemObject(buffer), "clRetainMemObject") != LCL_SUCCESS) {
        free(s);
        return st;
    }
    s->mem = buffer;
    return tensor_new(ctx, dtype, offset, n, s, out);
}

lcl_status lcl_tensor_wrap_host(lcl_context *ctx, lcl_dtype dtype, void *host, size_t n, lcl_tensor **out) {
    if (!ctx || !out || (!host && n > 0))
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "lcl_tensor_wrap_host: %s is NULL",
                         !ctx   ? "ctx"
                         : !out ? "out"
                                : "host");
    if (ctx->backend != LCL_BACKEND_CPU)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "lcl_tensor_wrap_host: the context runs on an OpenCL device");
    if (!lcl__dtype_valid(dtype))
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "lcl_tensor_wrap_host: dtype %d is not a lcl_dtype", (int)dtype);
    size_t bytes = lcl__bytes_for(dtype, n);
    if (bytes == SIZE_MAX)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "lcl_tensor_wrap_host: %zu elements of %s overflow size_t", n,
                         lcl_dtype_name(dtype));
    if ((uintptr_t)host % lcl_dtype_size(dtype) != 0)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "lcl_tensor_wrap_host: %p is not aligned to %s's %zu bytes", host,
                         lcl_dtype_name(dtype), lcl_dtype_size(dtype));
    struct lcl__storage *s = storage_new();
    if (!s)
        return lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "lcl_tensor_wrap_host: out of host memory");
    /* An empty wrap keeps host NULL, as an empty created tensor does. */
    *s = (struct lcl__storage){.host = bytes ? host : NULL, .bytes = bytes, .borrowed = true};
    atomic_init(&s->refs, 1);
    return tensor_new(ctx, dtype, 0, n, s, out);
}

lcl_status lcl_tensor_view(lcl_tensor *parent, size_t offset, size_t n, lcl_tensor **out) {
    if (!parent || !out)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "lcl_tensor_view: %s is NULL", parent ? "out" : "parent");
    lcl_status st = check_range("lcl_tensor_view", parent->dtype, offset, n, lcl__bytes_for(parent->dtype, parent->n));
    if (st != LCL_SUCCESS)
        return st;
    atomic_fetch_add(&parent->storage->refs, 1);
    return tensor_new(parent->ctx, parent->dtype, parent->offset + offset, n, parent->storage, out);
}

void lcl_tensor_release(lcl_tensor *t) {
    if (!t)
        return;
    storage_release(t->storage);
    free(t);
}

size_t lcl_tensor_size(const lcl_tensor *t) { return t ? t->n : 0; }

lcl_dtype lcl_tensor_dtype(const lcl_tensor *t) { return t ? t->dtype : LCL_F32; }

size_t lcl_tensor_bytes(const lcl_tensor *t) { return t ? lcl__bytes_for(t->dtype, t->n) : 0; }

size_t lcl__tensor_byte_offset(const lcl_tensor *t) { return lcl__bytes_for(t->dtype, t->offset); }

void *lcl__tensor_host_ptr(const lcl_tensor *t) {
    return t->storage->host ? (char *)t->storage->host + lcl__tensor_byte_offset(t) : NULL;
}

enum lcl__overlap lcl__range_overlap(const void *a, size_t a_bytes, const void *b, size_t b_bytes) {
    uintptr_t a0 = (uintptr_t)a;
    uintptr_t b0 = (uintptr_t)b;
    if (a_bytes == 0 || b_bytes == 0 || a0 + a_bytes <= b0 || b0 + b_bytes <= a0)
        return LCL__DISJOINT;
    return (a0 == b0 && a_bytes == b_bytes) ? LCL__SAME : LCL__PARTIAL;
}

enum lcl__overlap lcl__tensor_overlap(const lcl_tensor *a, const lcl_tensor *b) {
    /* Two wraps of one cl_mem share memory though their storage records differ. */
    /* Host memory (created or wrapped with lcl_tensor_wrap_host) compares by address: two wraps
     * of one app array overlap wherever their bytes do. */
    if (a->storage->host && b->storage->host)
        return lcl__range_overlap(lcl__tensor_host_ptr(a), lcl_tensor_bytes(a), lcl__tensor_host_ptr(b),
                                  lcl_tensor_bytes(b));
    const void *a_base = a->storage->mem ? (const void *)a->storage->mem : a->storage->host;
    const void *b_base = b->storage->mem ? (const void *)b->storage->mem : b->storage->host;
    if (!a_base || a_base != b_base)
        return LCL__DISJOINT;
    /* Offsets within one buffer, compared as if the buffer started at address 1. */
    const char *origin = (const char *)1;
    return lcl__range_overlap(origin + lcl__tensor_byte_offset(a), lcl_tensor_bytes(a),
                              origin + lcl__tensor_byte_offset(b), lcl_tensor_bytes(b));
}

/* Copies the tensor's elements from src (write) or into dst (read); NULL host memory is fine
 * only when there is nothing to move. */
static lcl_status transfer(const char *fn, const lcl_tensor *t, bool write, const void *src, void *dst) {
    if (!t)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: tensor is NULL", fn);
    if ((write ? src : dst) == NULL && t->n > 0)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "%s: host pointer is NULL", fn);
    size_t bytes = lcl_tensor_bytes(t);
    if (bytes == 0)
        return LCL_SUCCESS;
    if (t->storage->host) {
        memcpy(write ? lcl__tensor_host_ptr(t) : dst, write ? src : lcl__tensor_host_ptr(t), bytes);
        return LCL_SUCCESS;
    }
    size_t at = lcl__tensor_byte_offset(t);
    if (write)
        return lcl__cl_check(
            clEnqueueWriteBuffer(t->ctx->queue, t->storage->mem, CL_TRUE, at, bytes, src, 0, NULL, NULL),
            "clEnqueueWriteBuffer");
    return lcl__cl_check(clEnqueueReadBuffer(t->ctx->queue, t->storage->mem, CL_TRUE, at, bytes, dst, 0, NULL, NULL),
                         "clEnqueueReadBuffer");
}

lcl_status lcl_tensor_write(lcl_tensor *t, const void *src) { return transfer("lcl_tensor_write", t, true, src, NULL); }

lcl_status lcl_tensor_read(const lcl_tensor *t, void *dst) { return transfer("lcl_tensor_read", t, false, NULL, dst); }
