/* Internal declarations shared by the library's files; nothing here is public. */
#ifndef LEAKYCL_INTERNAL_H
#define LEAKYCL_INTERNAL_H

#include "leakycl.h"
#include "tuning.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define LCL__DTYPE_COUNT 5
#define LCL__FLOAT_DTYPE_COUNT 4
/* Vectors per work-item of a batch launch on GPUs, strided across the item (batch.cl). */
#define LCL__GPU_BATCH_VECTORS 8

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

/* ---- programs and kernels (program.c) ------------------------------------------------------ */

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
    bool verify;                                   /* LEAKYCL_VERIFY=1 at creation */
    char *kernel_dir;                              /* LEAKYCL_KERNEL_DIR at creation, or NULL */
    cl_ulong max_alloc;                            /* CL_DEVICE_MAX_MEM_ALLOC_SIZE, or SIZE_MAX on the CPU backend */
    size_t work_group_size;                        /* launch width, a divisor of the rounded-up global size */
    unsigned vector_width[LCL__FLOAT_DTYPE_COUNT]; /* elements per vector, per dtype */
    unsigned chunk;                                /* vectors per work-item */
    bool nontemporal;                              /* the compiler is clang (PoCL): non-temporal stores available */
    bool soft_half;       /* f16 through integer arithmetic instead of vload_half/vstore_half */
    pthread_mutex_t lock; /* guards programs and kernel pools, and creates host_queue */
    struct lcl__tuning tuning;                                   /* kernel tunables per op and dtype (tuning.c) */
    struct lcl__program programs[LCL__TUNE_OP_COUNT][LCL__FLOAT_DTYPE_COUNT]; /* per tunables' op */
    /* Host arrays (host.c, offload.c). */
    cl_ulong global_mem;          /* CL_DEVICE_GLOBAL_MEM_SIZE */
    size_t base_align;            /* CL_DEVICE_MEM_BASE_ADDR_ALIGN in bytes: where a USE_HOST_PTR buffer may start */
    bool zero_copy;               /* host-unified memory, and LEAKYCL_ZERO_COPY is not 0 at creation */
    size_t chunk_bytes;           /* LEAKYCL_CHUNK_BYTES at creation, or 0 for the device's own choice */
    size_t fail_chunk;            /* LEAKYCL_TEST_FAIL_CHUNK at creation (tests only), or SIZE_MAX */
    bool copy_threads;            /* staging copies on the OpenMP threads: not on CPU devices, whose own
                                 threads those would compete with */
    cl_command_queue host_queue;  /* zero-copy launches; created on first use under lock */
    pthread_mutex_t stage_lock;   /* one streamed call at a time owns the staging */
    struct lcl__staging *staging; /* created on first streamed call under stage_lock */
    /* Device buffers that batch, PReLU and dense calls reuse (launch.c); created on first use under lock. */
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

/* ---- the elementwise ops ------------------------------------------------------------------- */

enum lcl__op { LCL__OP_FORWARD, LCL__OP_BACKWARD };

/* One elementwise call: out = op(sel, grad) where sel is the tensor whose sign selects (x for
 * the forward and backward, y for backward-from-output) and grad is dy (NULL for the forward). */
struct lcl__eltwise {
    enum lcl__op op;
    lcl_dtype dtype;
    double alpha;
    size_t n;
};

/* Checks shared by the tensor ops and the host functions (ops.c). */
lcl_status lcl__check_call(const char *fn, const lcl_context *ctx, lcl_dtype dtype, double alpha);
/* t is not NULL, belongs to ctx and, when like is given, has like's dtype and size. */
lcl_status lcl__check_tensor(const char *fn, const char *name, const lcl_context *ctx, const lcl_tensor *t,
                             const lcl_tensor *like);

/* CPU backend (cpu.c): host arrays of dtype; out may equal sel or grad. */
void lcl__cpu_eltwise(const struct lcl__eltwise *call, const void *sel, const void *grad, void *out);
/* Outputs from this many bytes (half the last-level cache) go out with non-temporal stores:
 * they cannot stay in cache anyway. */
size_t lcl__cpu_stream_min_bytes(void);

/* OpenCL backend (opencl_ops.c): enqueues the kernel on ctx's queue. */
lcl_status lcl__cl_eltwise(lcl_context *ctx, const struct lcl__eltwise *call, const lcl_tensor *sel,
                           const lcl_tensor *grad, lcl_tensor *out);
lcl_status lcl__cl_eltwise_buffers(lcl_context *ctx, const struct lcl__eltwise *call, cl_mem sel, size_t sel_off,
                                   cl_mem grad, size_t grad_off, cl_mem out, size_t out_off);

/* The buffers of one kernel launch, with element offsets. */
struct lcl__cl_operands {
    cl_mem sel;
    size_t sel_off;
    cl_mem grad; /* NULL for the forward */
    size_t grad_off;
    cl_mem out;
    size_t out_off;
};
/* Enqueues the kernel on `queue` after the events in `wait`; *event (if not NULL) is its event. */
lcl_status lcl__cl_eltwise_enqueue(lcl_context *ctx, cl_command_queue queue, const struct lcl__eltwise *call,
                                   const struct lcl__cl_operands *ops, cl_uint wait_count, const cl_event *wait,
                                   cl_event *event);

/* Host arrays on an OpenCL device (offload.c): streamed through pinned staging buffers, or
 * wrapped in place where the device shares host memory. Arguments already validated, n > 0;
 * only `out` is ever written. */
lcl_status lcl__offload(lcl_context *ctx, const char *fn, const struct lcl__eltwise *call, const void *sel,
                        const void *grad, void *out);
/* Reads the device's and the environment's settings for offload (OpenCL context creation). */
lcl_status lcl__offload_init(lcl_context *ctx);
/* Frees the staging and the host queue (lcl_context_release). */
void lcl__offload_release(lcl_context *ctx);

/* Program and kernel management (program.c). */
lcl_status lcl__program_get(lcl_context *ctx, lcl_dtype dtype, enum lcl__kernel_id id, struct lcl__program **out);
lcl_status lcl__kernel_acquire(lcl_context *ctx, lcl_dtype dtype, enum lcl__kernel_id id, cl_kernel *out);
void lcl__kernel_release_to_pool(lcl_context *ctx, lcl_dtype dtype, enum lcl__kernel_id id, cl_kernel k);
void lcl__programs_release(lcl_context *ctx);
/* The tunables that shape kernel id for dtype, and the op they are tuned under (tuning.c). */
const struct lcl__tunables *lcl__kernel_tunables(const lcl_context *ctx, lcl_dtype dtype, enum lcl__kernel_id id);
enum lcl__tune_op lcl__kernel_tune_op(enum lcl__kernel_id id);

/* LEAKYCL_VERIFY (verify.c): snapshot the inputs before the op, compare the output after. */
struct lcl__verify {
    void *sel;
    void *grad;
};
lcl_status lcl__verify_begin(const lcl_tensor *sel, const lcl_tensor *grad, struct lcl__verify *v);
lcl_status lcl__verify_end(const struct lcl__eltwise *call, const lcl_tensor *out, struct lcl__verify *v);
void lcl__verify_discard(struct lcl__verify *v);
/* Recomputes call on the CPU backend from host copies of its inputs and compares. */
lcl_status lcl__verify_compare(const struct lcl__eltwise *call, const void *sel, const void *grad,
                               const void *device_out);
/* Compares two arrays of dtype bit for bit (any NaN equals any NaN); returns the first
 * differing index, or n when they agree. */
size_t lcl__first_difference(lcl_dtype dtype, const void *a, const void *b, size_t n);
/* A malloc'd host copy of t's elements (*out NULL when t is NULL), for the checks. */
lcl_status lcl__verify_snapshot(const lcl_tensor *t, void **out);
/* Element i of a float array of dtype, widened to double (messages, bounds). */
double lcl__element_double(lcl_dtype dtype, const void *p, size_t i);

/* Storage-type conversions shared by the CPU backend and the checks. */
float lcl__half_to_float(uint16_t h);
uint16_t lcl__float_to_half(float f);
float lcl__bf16_to_float(uint16_t b);
uint16_t lcl__float_to_bf16(float f);

/* ---- batches, PReLU and the sign mask ------------------------------------------------------ */

/* Kernel launches outside opencl_ops.c (launch.c): take a kernel from the pool, set its
 * arguments one by one (the first failure is kept), enqueue it over `items` work-items rounded
 * up to whole work-groups (none for 0), and give the kernel back. */
struct lcl__launch {
    lcl_dtype dtype;
    enum lcl__kernel_id id;
    cl_kernel kernel;
    cl_uint next;
    cl_int err;
};
lcl_status lcl__launch_begin(lcl_context *ctx, lcl_dtype dtype, enum lcl__kernel_id id, struct lcl__launch *l);
void lcl__launch_arg(struct lcl__launch *l, size_t size, const void *value);
void lcl__launch_mem(struct lcl__launch *l, cl_mem mem);
void lcl__launch_ulong(struct lcl__launch *l, size_t value);
void lcl__launch_alpha(struct lcl__launch *l, double alpha); /* rounded to the dtype's compute type */
lcl_status lcl__launch_end(lcl_context *ctx, struct lcl__launch *l, size_t items);
/* The elements one work-item of the plain kernels handles for dtype in kernel id. */
size_t lcl__cl_chunk_elements(const lcl_context *ctx, lcl_dtype dtype, enum lcl__kernel_id id);

/* A per-context device buffer reused across calls, with host staging to upload from. Callers
 * hold it locked from filling it to enqueueing the last kernel that reads it: the queue is in
 * order, so the next holder's writes land after those kernels. */
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

/* PReLU (prelu.c, cpu_prelu.c): out = y (forward) or dx (backward) on [n / (channels * inner),
 * channels, inner]; dalpha (backward only) may be NULL. */
struct lcl__prelu {
    enum lcl__op op;
    lcl_dtype dtype;
    size_t n, channels, inner;
};
/* CPU backend on host arrays; out may equal x or dy, dalpha may equal alpha. Fails only when
 * out of memory for dalpha's partial sums, before anything is written. */
lcl_status lcl__cpu_prelu(const struct lcl__prelu *call, const void *alpha, const void *x, const void *dy, void *out,
                          void *dalpha);
/* sum |dy * x| over each channel's alpha branch, in fp64: the scale of dalpha's error (checks). */
void lcl__prelu_sum_abs(const struct lcl__prelu *call, const void *x, const void *dy, double *sum_abs);
/* dalpha's partition (OpenCL and CPU backends): blocks of LCL__PRELU_BLOCK elements of one
 * channel, or, for an inner shorter than LCL__PRELU_BLOCK / 2 and a batch of at least
 * LCL__PRELU_ROWS, column sums over blocks of LCL__PRELU_ROWS rows. */
#define LCL__PRELU_BLOCK 512
#define LCL__PRELU_ROWS 256
/* Partials per work-item of prelu.cl's fold, on GPUs, when a channel has more than this many. */
#define LCL__PRELU_FOLD 256
bool lcl__prelu_by_columns(const struct lcl__prelu *call);

/* The sign mask on host arrays (cpu_mask.c): n bits in ceil(n / 32) words; bits past n in the
 * last word are left as they were. y may equal x, dx may equal dy. */
void lcl__cpu_forward_masked(lcl_dtype dtype, size_t n, double alpha, const void *x, void *y, uint32_t *mask);
void lcl__cpu_backward_masked(lcl_dtype dtype, size_t n, double alpha, const uint32_t *mask, const void *dy, void *dx);

/* The dense layer (dense.c validates; cl_dense.c runs CLBlast, cpu_dense.c CBLAS): y[batch x out] =
 * f(x . w^T + b) and its backward from y. Tensors are validated fp32 of the right sizes, b, dx,
 * dw and db may be NULL; batch, in and out are at least 1. */
struct lcl__dense {
    size_t batch, in, out;
    double alpha;
};
struct lcl__dense_args {
    const lcl_tensor *x, *w, *b, *y, *dy;
    lcl_tensor *out_y, *dx, *dw, *db;
};
lcl_status lcl__cl_dense_forward(lcl_context *ctx, const struct lcl__dense *call, const struct lcl__dense_args *a);
lcl_status lcl__cl_dense_backward(lcl_context *ctx, const struct lcl__dense *call, const struct lcl__dense_args *a);
/* lcl_context_release, after clFinish: drops what CLBlast cached for the context. */
void lcl__cl_dense_release(lcl_context *ctx);
lcl_status lcl__cpu_dense_forward(lcl_context *ctx, const struct lcl__dense *call, const struct lcl__dense_args *a);
lcl_status lcl__cpu_dense_backward(lcl_context *ctx, const struct lcl__dense *call, const struct lcl__dense_args *a);
/* db's partition on both backends: partial column sums over blocks of this many batch rows. */
#define LCL__DENSE_ROWS 64

/* Aligned host allocation for CPU-backend tensors and staging. */
void *lcl__aligned_alloc(size_t bytes);
void lcl__aligned_free(void *p);

#endif /* LEAKYCL_INTERNAL_H */
