/* Internal declarations shared by the library's files; nothing here is public. */
#ifndef LEAKYCL_INTERNAL_H
#define LEAKYCL_INTERNAL_H

#include "leakycl.h"

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
const char *lcl__cl_error_name(cl_int err);

#define LCL__CL_CALL(status_var, call_expr, call_name) ((status_var) = lcl__cl_check((call_expr), (call_name)))

/* ---- programs and kernels (program.c) ------------------------------------------------------ */

enum lcl__kernel_id { LCL__K_FORWARD, LCL__K_BACKWARD, LCL__KERNEL_COUNT };

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
    bool verify;              /* LEAKYCL_VERIFY=1 at creation */
    char *kernel_dir;         /* LEAKYCL_KERNEL_DIR at creation, or NULL */
    cl_ulong max_alloc;       /* CL_DEVICE_MAX_MEM_ALLOC_SIZE, or SIZE_MAX on the CPU backend */
    size_t work_group_size;   /* launch width, a divisor of the rounded-up global size */
    unsigned vector_width[LCL__FLOAT_DTYPE_COUNT]; /* elements per vector, per dtype */
    unsigned chunk;           /* vectors per work-item */
    bool nontemporal;         /* the compiler is clang (PoCL): non-temporal stores available */
    bool soft_half;           /* f16 through integer arithmetic instead of vload_half/vstore_half */
    pthread_mutex_t lock;     /* guards programs and kernel pools */
    struct lcl__program programs[LCL__FLOAT_DTYPE_COUNT];
};

/* ---- tensors (tensor.c) -------------------------------------------------------------------- */

/* The memory a tensor and all its views share; freed when the last of them is released. */
struct lcl__storage {
    atomic_size_t refs;
    cl_mem mem;        /* OpenCL backend (NULL for an empty tensor) */
    void *host;        /* CPU backend (NULL for an empty tensor) */
    size_t bytes;      /* usable bytes from the start of mem or host */
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

/* CPU backend (cpu.c): host arrays of dtype; out may equal sel or grad. */
void lcl__cpu_eltwise(const struct lcl__eltwise *call, const void *sel, const void *grad, void *out);

/* OpenCL backend (opencl_ops.c): enqueues the kernel on ctx's queue. */
lcl_status lcl__cl_eltwise(lcl_context *ctx, const struct lcl__eltwise *call, const lcl_tensor *sel,
                           const lcl_tensor *grad, lcl_tensor *out);
lcl_status lcl__cl_eltwise_buffers(lcl_context *ctx, const struct lcl__eltwise *call, cl_mem sel,
                                   size_t sel_off, cl_mem grad, size_t grad_off, cl_mem out, size_t out_off);

/* Program and kernel management (program.c). */
lcl_status lcl__program_get(lcl_context *ctx, lcl_dtype dtype, struct lcl__program **out);
lcl_status lcl__kernel_acquire(lcl_context *ctx, lcl_dtype dtype, enum lcl__kernel_id id, cl_kernel *out);
void lcl__kernel_release_to_pool(lcl_context *ctx, lcl_dtype dtype, enum lcl__kernel_id id, cl_kernel k);
void lcl__programs_release(lcl_context *ctx);

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

/* Storage-type conversions shared by the CPU backend and the checks. */
float lcl__half_to_float(uint16_t h);
uint16_t lcl__float_to_half(float f);
float lcl__bf16_to_float(uint16_t b);
uint16_t lcl__float_to_bf16(float f);

/* Aligned host allocation for CPU-backend tensors and staging. */
void *lcl__aligned_alloc(size_t bytes);
void lcl__aligned_free(void *p);

#endif /* LEAKYCL_INTERNAL_H */
