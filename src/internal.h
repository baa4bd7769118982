/* Internal declarations shared by the library's files; nothing here is public. */
#ifndef LEAKYCL_INTERNAL_H
#define LEAKYCL_INTERNAL_H

#include "leakycl.h"
#include "opencl/tuning.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define LCL__DTYPE_COUNT 5
#define LCL__FLOAT_DTYPE_COUNT 4

/* ---- errors (error.c) ---------------------------------------------------------------------- */

/* Records a message for lcl_last_error() in this thread and returns status. */
lcl_status lcl__fail(lcl_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends to the message recorded last (e.g. a build log after the headline). */
void lcl__append_error(const char *text);
/* CL_SUCCESS -> LCL_SUCCESS; otherwise records "<call> failed: <CL error name> (<code>)". */
lcl_status lcl__cl_check(cl_int err, const char *call);
/* The status an OpenCL error maps to, without a message: allocation failures are out of memory. */
lcl_status lcl__cl_status(cl_int err);
const char *lcl__cl_error_name(cl_int err);

#define LCL__CL_CALL(status_var, call_expr, call_name) ((status_var) = lcl__cl_check((call_expr), (call_name)))

/* ---- the OpenCL state a context keeps (opencl/program.c fills it) -------------------------- */

enum lcl__kernel_id {
    LCL__K_FORWARD,
    LCL__K_BACKWARD,
    LCL__K_FORWARD_BATCH, /* batch.cl */
    LCL__K_BACKWARD_BATCH,
    LCL__K_PRELU_FORWARD, /* prelu.cl */
    LCL__K_PRELU_BACKWARD,
    LCL__K_PRELU_BACKWARD_PARTIAL,
    LCL__K_PRELU_BACKWARD_COLUMNS,
    LCL__K_PRELU_DALPHA,
    LCL__K_PRELU_FOLD,
    LCL__K_FORWARD_MASKED, /* mask.cl */
    LCL__K_BACKWARD_MASKED,
    LCL__K_DENSE_FORWARD, /* dense.cl */
    LCL__K_DENSE_BACKWARD,
    LCL__KERNEL_COUNT
};

/* Every constant the host and the kernels share, for one device (opencl/tunables.c). Each field
 * is a -D build option of every program (the name in brackets) and sizes the host's launches. */
struct lcl__tunables {
    bool gpu_shape;         /* [LCL_GPU_SHAPE] a vector per work-item, whole-vector aligned accesses, the
                               sign mask's words put together in local memory; else the CPU shape:
                               `chunk` contiguous vectors per work-item */
    size_t work_group_size; /* [LCL_WG] launch width, a divisor of the rounded-up global size */
    unsigned vector_width[LCL__FLOAT_DTYPE_COUNT]; /* [LCL_VEC] elements per vector, per dtype */
    unsigned chunk;                                /* [LCL_CHUNK] vectors per work-item of the plain kernels */
    bool nontemporal;                              /* [LCL_NT] non-temporal stores (clang: PoCL) */
    bool soft_half;                                /* [LCL_SOFT_HALF] f16 through integer arithmetic, not vload_half */
    unsigned mask_words;                           /* [LCL_MASK_WORDS] sign-mask words per work-item, CPU shape */
    unsigned batch_vectors;                        /* [LCL_BATCH_VECTORS] vectors per work-item of a batch, GPU shape */
    unsigned prelu_fold;           /* [LCL_PRELU_FOLD] partials per work-item of the dalpha fold, GPU shape */
    unsigned prelu_column_vectors; /* [LCL_PRELU_COLVECS] vectors of columns per work-item, dalpha by columns */
    unsigned dense_columns;        /* [LCL_DENSE_COLS] columns per work-item of the dense backward's dz */
};
/* The tunables in force per op and dtype: ctx->tune overlaid by the tuning cache (opencl/tuning.c). */
struct lcl__tuning {
    struct lcl__tunables table[LCL__TUNE_OP_COUNT][LCL__FLOAT_DTYPE_COUNT];
    size_t max_work_group_size; /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    size_t from_cache;          /* entries the cache supplied */
};
/* Fields per item in a batch's table (opencl/batch.c writes it, batch.cl reads it: LCL_BATCH_FIELDS):
 * x offset, dy offset, output offset, n, alpha bits. */
#define LCL__BATCH_FIELDS 5

/* A pool of cl_kernel objects for one kernel: clSetKernelArg is not thread-safe on one kernel,
 * so each launch takes a kernel of its own from the pool and puts it back after enqueueing. */
struct lcl__kernel_pool {
    cl_kernel *free;
    size_t free_count;
    size_t capacity;
};

struct lcl__program {
    cl_program program; /* NULL until first built */
    struct lcl__kernel_pool pools[LCL__KERNEL_COUNT];
};

/* ---- contexts (context.c) ------------------------------------------------------------------ */

struct lcl_context {
    lcl_backend backend;
    char device_name[256];
    cl_platform_id platform;
    cl_device_id device;
    cl_context cl_ctx;
    cl_command_queue queue;
    bool has_fp64;
    bool verify;               /* LEAKYCL_VERIFY=1 at creation */
    char *kernel_dir;          /* LEAKYCL_KERNEL_DIR at creation, or NULL */
    cl_ulong max_alloc;        /* CL_DEVICE_MAX_MEM_ALLOC_SIZE, or SIZE_MAX on the CPU backend */
    struct lcl__tunables tune; /* the kernels' build options and launch shapes */
    pthread_mutex_t lock;      /* guards programs and kernel pools, and creates host_queue */
    struct lcl__tuning tuning; /* ctx->tune per op and dtype, as tuned (opencl/tuning.c) */
    struct lcl__program programs[LCL__TUNE_OP_COUNT][LCL__FLOAT_DTYPE_COUNT]; /* per tuned op */
    /* Host arrays (host.c; opencl/offload.c, stream.c, zero_copy.c). */
    cl_ulong global_mem;          /* CL_DEVICE_GLOBAL_MEM_SIZE */
    size_t base_align;            /* CL_DEVICE_MEM_BASE_ADDR_ALIGN in bytes: where a USE_HOST_PTR buffer may start */
    bool zero_copy;               /* host-unified memory, and LEAKYCL_ZERO_COPY is not 0 at creation */
    size_t chunk_bytes;           /* LEAKYCL_CHUNK_BYTES at creation, or 0 for the device's own choice */
    bool copy_threads;            /* staging copies on the OpenMP threads: not on CPU devices, whose own
                                 threads those would compete with */
    cl_command_queue host_queue;  /* zero-copy launches; created on first use under lock */
    pthread_mutex_t stage_lock;   /* one streamed call at a time owns the staging */
    struct lcl__staging *staging; /* created on first streamed call under stage_lock */
    /* Buffers that batch, PReLU and dense calls reuse (workspace.c); created on first use under lock. */
    struct lcl__workspace *workspaces[4];
    atomic_bool used_clblast; /* CLBlast keeps programs for this context in its process-wide cache */
};

/* ---- tensors (tensor.c) -------------------------------------------------------------------- */

/* The memory a tensor and all its views share; freed when the last of them is released. */
struct lcl__storage {
    atomic_size_t refs;
    cl_mem mem;   /* OpenCL backend (NULL for an empty tensor) */
    void *host;   /* CPU backend (NULL for an empty tensor) */
    size_t bytes; /* usable bytes from the start of mem or host */
    /* host belongs to the app (lcl_tensor_wrap_host): not freed here */
    bool borrowed;
};

struct lcl_tensor {
    lcl_context *ctx;
    lcl_dtype dtype;
    size_t n;
    size_t offset; /* elements from the start of the storage */
    struct lcl__storage *storage;
};

size_t lcl__bytes_for(lcl_dtype dtype, size_t n); /* SIZE_MAX when it overflows */
bool lcl__dtype_valid(lcl_dtype dtype);
bool lcl__dtype_is_float(lcl_dtype dtype);
size_t lcl__tensor_byte_offset(const lcl_tensor *t);
/* The tensor's first element in host memory (CPU backend only). */
void *lcl__tensor_host_ptr(const lcl_tensor *t);
/* Where two tensors' bytes sit relative to each other. */
enum lcl__overlap { LCL__DISJOINT, LCL__SAME, LCL__PARTIAL };
enum lcl__overlap lcl__tensor_overlap(const lcl_tensor *a, const lcl_tensor *b);
enum lcl__overlap lcl__range_overlap(const void *a, size_t a_bytes, const void *b, size_t b_bytes);

/* ---- the ops' calls, as the backends receive them once validated ----------------------------- */

enum lcl__op { LCL__OP_FORWARD, LCL__OP_BACKWARD };

/* One elementwise call: out = op(sel, grad) where sel is the tensor whose sign selects (x for
 * the forward and backward, y for backward-from-output) and grad is dy (NULL for the forward). */
struct lcl__eltwise {
    enum lcl__op op;
    lcl_dtype dtype;
    double alpha;
    size_t n;
};

/* A batch: item i is out[i] = op(x[i], dy[i]) with alpha[i]. */
struct lcl__batch {
    const char *fn;
    enum lcl__op op;
    size_t count;
    const double *alpha;
    const lcl_tensor *const *x;
    const lcl_tensor *const *dy; /* NULL for the forward */
    lcl_tensor *const *out;
};

/* PReLU: out = y (forward) or dx (backward) on [n / (channels * inner), channels, inner];
 * dalpha (backward only) may be NULL. */
struct lcl__prelu {
    enum lcl__op op;
    lcl_dtype dtype;
    size_t n, channels, inner;
};
/* dalpha's partition (both backends): blocks of LCL__PRELU_BLOCK elements of one channel, or, for
 * an inner shorter than LCL__PRELU_BLOCK / 2 and a batch of at least LCL__PRELU_ROWS, column sums
 * over blocks of LCL__PRELU_ROWS rows. On GPU-shaped devices, more than prelu_fold (a tunable)
 * partials of a channel are first folded in parallel (opencl/prelu.c); the sums then differ from
 * the CPU backend's within the bound prelu.c's LEAKYCL_VERIFY checks. */
#define LCL__PRELU_BLOCK 512
#define LCL__PRELU_ROWS 256
static inline bool lcl__prelu_by_columns(const struct lcl__prelu *call) {
    size_t batch = call->n / (call->channels * call->inner);
    return call->inner < LCL__PRELU_BLOCK / 2 && batch >= LCL__PRELU_ROWS;
}

/* The dense layer: y[batch x out] = f(x . w^T + b) and its backward from y. Tensors are validated
 * fp32 of the right sizes, b, dx, dw and db may be NULL; batch, in and out are at least 1. */
struct lcl__dense {
    size_t batch, in, out;
    double alpha;
};
struct lcl__dense_args {
    const lcl_tensor *x, *w, *b, *y, *dy;
    lcl_tensor *out_y, *dx, *dw, *db;
};
/* db's partition on both backends: partial column sums over blocks of this many batch rows. */
#define LCL__DENSE_ROWS 64

/* ---- validation (validate.c): one table of named tensors per call --------------------------- */

/* A tensor argument and what it must be. */
struct lcl__arg {
    const char *name; /* in messages */
    size_t item;      /* a batch item's index, shown as name[item]; SIZE_MAX for none */
    const lcl_tensor *t;
    size_t n;         /* the elements it must have */
    lcl_dtype dtype;  /* the dtype it must have */
    unsigned flags;   /* LCL__ARG_* */
    unsigned same_ok; /* bit j: this output may be the very tensor args[j] is (in place) */
};
enum {
    LCL__ARG_OPTIONAL = 1,  /* may be NULL */
    LCL__ARG_OUTPUT = 2,    /* written: may share no element with another argument, but as same_ok says */
    LCL__ARG_EXCLUSIVE = 4, /* may share no element with any other argument (the sign mask) */
    LCL__ARG_ANY_SIZE = 8,  /* n is not checked (the first tensor, which sets the others' size) */
};
/* Each tensor, in table order: not NULL (unless optional), of ctx, of its dtype and size. */
lcl_status lcl__check_args(const char *fn, const lcl_context *ctx, const struct lcl__arg *args, size_t count);
/* The overlaps: after lcl__check_args and the call's own checks, so that messages name the first
 * problem a caller would fix. */
lcl_status lcl__check_overlaps(const char *fn, const struct lcl__arg *args, size_t count);
/* alpha and the context, the checks every op and host function shares. */
lcl_status lcl__check_call(const char *fn, const lcl_context *ctx, lcl_dtype dtype, double alpha);
/* lcl__check_call, then a host function's arrays (lcl_forward_host, lcl_backward_host): not NULL
 * unless n is 0, n * size within the address space, the output each input or apart from it. */
lcl_status lcl__check_host_call(const char *fn, const lcl_context *ctx, const struct lcl__eltwise *call,
                                const void *sel, const void *grad, const void *out);

/* ---- LEAKYCL_VERIFY (verify.c): snapshot, launch, recompute on the CPU backend, compare ------ */

/* One verified OpenCL call: `in` are read back before the launch (an in-place call overwrites
 * them), `out` after it; recompute fills `want` (one buffer of each out's bytes) from the host
 * copies; compare returns the status and message of the first difference. */
struct lcl__verified {
    const char *fn;
    const void *call;
    const lcl_tensor *const *in;
    size_t in_count;
    const lcl_tensor *const *out;
    size_t out_count;
    lcl_status (*launch)(lcl_context *ctx, const void *call);
    lcl_status (*recompute)(const void *call, void *const *in, void *const *want);
    lcl_status (*compare)(const char *fn, const void *call, void *const *in, void *const *got, void *const *want);
};
lcl_status lcl__verify(lcl_context *ctx, const struct lcl__verified *v);
/* An elementwise result against the CPU backend's, bit for bit (any NaN equals any NaN). */
lcl_status lcl__verify_eltwise(const struct lcl__eltwise *call, const void *sel, const void *grad,
                               const void *device_out, const void *expected);
/* The first index where two arrays of dtype differ (any NaN equals any NaN), or n. */
size_t lcl__first_difference(lcl_dtype dtype, const void *a, const void *b, size_t n);
/* Element i of a float array of dtype, widened to double (messages, bounds). */
double lcl__element_double(lcl_dtype dtype, const void *p, size_t i);

/* ---- workspaces (workspace.c) ----------------------------------------------------------------- */

/* A per-context device buffer reused across calls, with host staging to upload from (the CPU
 * backend's dense layer uses the staging alone). Callers hold it locked from filling it to
 * enqueueing the last kernel that reads it: the queue is in order, so the next holder's writes
 * land after those kernels. */
enum lcl__workspace_id { LCL__WS_BATCH, LCL__WS_PRELU, LCL__WS_DENSE, LCL__WS_GEMM };
struct lcl__workspace;
lcl_status lcl__workspace_lock(lcl_context *ctx, enum lcl__workspace_id id, struct lcl__workspace **out);
void lcl__workspace_unlock(struct lcl__workspace *ws);
/* The device buffer, grown to at least `bytes` (its contents are lost when it grows). */
lcl_status lcl__workspace_device(lcl_context *ctx, struct lcl__workspace *ws, size_t bytes, cl_mem *out);
/* Host memory of `bytes` to fill for lcl__workspace_upload; waits for the upload that used it last. */
lcl_status lcl__workspace_staging(struct lcl__workspace *ws, size_t bytes, void **out);
/* Enqueues the copy of the staging's first `bytes` to the device buffer's start (no wait). */
lcl_status lcl__workspace_upload(lcl_context *ctx, struct lcl__workspace *ws, size_t bytes);
void lcl__workspaces_release(lcl_context *ctx); /* lcl_context_release, after clFinish */

#endif /* LEAKYCL_INTERNAL_H */
