/*
 * leakycl — leaky ReLU, forward and backward, on OpenCL devices and on the CPU.
 *
 *     forward:   y  = x   if x > 0,  alpha * x   otherwise
 *     backward:  dx = dy  if x > 0,  alpha * dy  otherwise
 *
 * Every backend and dtype gives bit-identical results: one multiply in the compute type
 * (fp32 for F32/F16/BF16 storage, fp64 for F64), rounded once to nearest-even into the
 * storage type; subnormals are kept; NaN in gives NaN out (its payload is unspecified).
 *
 * Conventions for every function below:
 * - It returns LCL_SUCCESS or a status saying why it failed, and on failure leaves a message
 *   for lcl_last_error() in the calling thread. Nothing prints, nothing aborts.
 * - Arguments are validated before anything is enqueued: a rejected call changes no output.
 * - Sizes and offsets count elements, not bytes.
 * - A context may be used from several threads at once.
 */
#ifndef LEAKYCL_H
#define LEAKYCL_H

#include <stddef.h>

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#if defined(_WIN32) && !defined(LEAKYCL_STATIC_DEFINE)
#ifdef LEAKYCL_BUILDING
#define LCL_API __declspec(dllexport)
#else
#define LCL_API __declspec(dllimport)
#endif
#elif defined(__GNUC__)
#define LCL_API __attribute__((visibility("default")))
#else
#define LCL_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define LEAKYCL_VERSION_MAJOR 0
#define LEAKYCL_VERSION_MINOR 1
#define LEAKYCL_VERSION_PATCH 0

/** @defgroup status Status and errors
 * @{ */

/** What a call returns. */
typedef enum lcl_status {
    LCL_SUCCESS = 0,            /**< the call did what it says */
    LCL_ERROR_INVALID_ARGUMENT, /**< NULL, bad size/offset/alpha/dtype, mismatched tensors, partial overlap */
    LCL_ERROR_UNSUPPORTED,      /**< valid, but not on this device (e.g. F64 without cl_khr_fp64) */
    LCL_ERROR_OUT_OF_MEMORY,    /**< a host or device allocation failed */
    LCL_ERROR_DEVICE_NOT_FOUND, /**< the device spec matches no device */
    LCL_ERROR_BUILD_FAILED,     /**< a kernel failed to compile; lcl_last_error() holds the build log */
    LCL_ERROR_OPENCL,           /**< any other OpenCL failure; lcl_last_error() names the call and CL error */
    LCL_ERROR_BLAS              /**< CLBlast or CBLAS failure */
} lcl_status;

/** Element types. Arithmetic is fp32 for F32, F16 and BF16 storage, fp64 for F64. */
typedef enum lcl_dtype {
    LCL_F32,  /**< IEEE binary32 */
    LCL_F16,  /**< IEEE binary16 storage (no cl_khr_fp16 needed) */
    LCL_BF16, /**< bfloat16 storage: the high 16 bits of a binary32, rounded to nearest even */
    LCL_F64,  /**< IEEE binary64; OpenCL devices need cl_khr_fp64 */
    LCL_MASK  /**< 1 bit per element, element i is bit (i mod 32) of 32-bit word i/32 */
} lcl_dtype;

/** Where a context runs its ops. */
typedef enum lcl_backend {
    LCL_BACKEND_CPU,   /**< plain C, vectorised and threaded; also the reference for checks */
    LCL_BACKEND_OPENCL /**< an OpenCL device */
} lcl_backend;

/** A device (or the CPU backend) with its queue, compiled kernels and error state. */
typedef struct lcl_context lcl_context;
/** A run of n elements of one dtype in a buffer that belongs to one context. */
typedef struct lcl_tensor lcl_tensor;

/** The name of a status ("LCL_ERROR_INVALID_ARGUMENT"); "LCL_UNKNOWN_STATUS" for a value
 * outside the enum. Never NULL. */
LCL_API const char *lcl_status_string(lcl_status status);

/** The calling thread's last failure, in words (for a BUILD_FAILED: with the build log);
 * "" if no call on this thread has failed yet. The text stays valid until the next leakycl
 * call on this thread. Successful calls leave it as it was. */
LCL_API const char *lcl_last_error(void);

/** The size in bytes of one element of @p dtype (4 for LCL_MASK: one 32-bit word holds 32
 * elements, see lcl_tensor_bytes); 0 for a value outside the enum. */
LCL_API size_t lcl_dtype_size(lcl_dtype dtype);

/** The name of a dtype ("f32", "f16", "bf16", "f64", "mask"); "?" outside the enum. */
LCL_API const char *lcl_dtype_name(lcl_dtype dtype);

/** @} */

/** @defgroup context Contexts
 * @{ */

/** Creates a context on the device that @p device names.
 *
 * @param device NULL reads $LEAKYCL_DEVICE, and "auto" if that is unset or empty. Specs:
 *   "auto"        the first GPU, else the first OpenCL device, else the CPU backend (also when
 *                 no OpenCL platform or ICD loader is installed);
 *   "cpu"         the CPU backend;
 *   "opencl"      the first OpenCL device of any type;
 *   "gpu"         the first OpenCL GPU;
 *   "opencl:P:D"  device D of platform P, the indices `leakycl devices` lists.
 * @param out receives the context; untouched on failure.
 * @returns LCL_ERROR_INVALID_ARGUMENT for a NULL @p out or a spec that does not parse,
 *   LCL_ERROR_DEVICE_NOT_FOUND when the spec matches no device, LCL_ERROR_OPENCL or
 *   LCL_ERROR_OUT_OF_MEMORY when creating the OpenCL context or queue fails.
 *
 * The environment is read here, once: LEAKYCL_VERIFY=1 makes every OpenCL op of this context
 * also run on the CPU backend and fail with LCL_ERROR_OPENCL, naming the first differing
 * index, on a mismatch; LEAKYCL_KERNEL_DIR=DIR loads the kernel sources from DIR instead of
 * the copies built into the library. */
LCL_API lcl_status lcl_context_create(const char *device, lcl_context **out);

/** Creates a context that enqueues on the app's in-order @p queue (its context and device
 * are used for buffers and kernels). The app keeps ownership: leakycl retains the queue and
 * releases its own reference in lcl_context_release.
 * @returns LCL_ERROR_INVALID_ARGUMENT for a NULL @p queue or @p out, LCL_ERROR_OPENCL when
 *   the queue cannot be queried (e.g. it is not a valid queue). */
LCL_API lcl_status lcl_context_wrap_cl(cl_command_queue queue, lcl_context **out);

/** Waits for the context's work, then releases it. Tensors must be released first: a tensor
 * that outlives its context may only be released. NULL is a no-op. */
LCL_API void lcl_context_release(lcl_context *ctx);

/** The backend a context runs on; LCL_BACKEND_CPU for NULL. */
LCL_API lcl_backend lcl_context_backend(const lcl_context *ctx);

/** The device's name ("CPU backend (N threads)" for the CPU backend); "" for NULL. */
LCL_API const char *lcl_context_device_name(const lcl_context *ctx);

/** Whether the context can run ops on @p dtype (F64 needs cl_khr_fp64 on OpenCL devices). */
LCL_API int lcl_context_supports(const lcl_context *ctx, lcl_dtype dtype);

/** The context's OpenCL objects, for apps that mix their own kernels in; each may be NULL
 * (all three are for the CPU backend). Not retained: valid while the context lives. */
LCL_API cl_command_queue lcl_context_cl_queue(const lcl_context *ctx);
LCL_API cl_context lcl_context_cl_context(const lcl_context *ctx);
LCL_API cl_device_id lcl_context_cl_device(const lcl_context *ctx);

/** Waits until every op enqueued on the context has finished.
 * @returns LCL_ERROR_INVALID_ARGUMENT for NULL, LCL_ERROR_OPENCL when clFinish fails. */
LCL_API lcl_status lcl_finish(lcl_context *ctx);

/** @} */

/** @defgroup tensor Tensors
 * @{ */

/** Creates a tensor of @p n elements of @p dtype on the context's device (host memory for the
 * CPU backend). Its contents are undefined until written. n = 0 is allowed.
 * @returns LCL_ERROR_INVALID_ARGUMENT for NULL arguments, a dtype outside the enum or a size
 *   whose byte count overflows; LCL_ERROR_OUT_OF_MEMORY when the allocation fails or exceeds
 *   the device's largest allocation; LCL_ERROR_OPENCL for other OpenCL failures. */
LCL_API lcl_status lcl_tensor_create(lcl_context *ctx, lcl_dtype dtype, size_t n, lcl_tensor **out);

/** Wraps @p n elements of the app's @p buffer, starting @p offset elements in (any offset:
 * ops handle one that breaks vector alignment). The buffer must belong to the context's
 * OpenCL context. The app keeps ownership: leakycl retains it and releases its reference in
 * lcl_tensor_release. For LCL_MASK, @p offset must be a multiple of 32.
 * @returns LCL_ERROR_INVALID_ARGUMENT for NULL arguments, a CPU-backend context, or a range
 *   past the buffer's end; LCL_ERROR_OPENCL when the buffer cannot be queried. */
LCL_API lcl_status lcl_tensor_wrap_cl(lcl_context *ctx, lcl_dtype dtype, cl_mem buffer, size_t offset,
                                      size_t n, lcl_tensor **out);

/** A view of @p n elements of @p parent starting @p offset elements in; it shares the
 * parent's memory and keeps it alive, so the two may be released in any order. Views of
 * views are views of the root buffer. For LCL_MASK, @p offset must be a multiple of 32.
 * @returns LCL_ERROR_INVALID_ARGUMENT for NULL arguments or offset + n past the parent's end. */
LCL_API lcl_status lcl_tensor_view(lcl_tensor *parent, size_t offset, size_t n, lcl_tensor **out);

/** Releases a tensor (its memory goes when its last view goes). NULL is a no-op. */
LCL_API void lcl_tensor_release(lcl_tensor *t);

/** The number of elements; 0 for NULL. */
LCL_API size_t lcl_tensor_size(const lcl_tensor *t);

/** The dtype; LCL_F32 for NULL. */
LCL_API lcl_dtype lcl_tensor_dtype(const lcl_tensor *t);

/** The bytes that lcl_tensor_read and lcl_tensor_write move: n * lcl_dtype_size(dtype), or
 * 4 * ceil(n / 32) for LCL_MASK; 0 for NULL. */
LCL_API size_t lcl_tensor_bytes(const lcl_tensor *t);

/** Copies lcl_tensor_bytes(t) bytes from host memory @p src into the tensor, after the work
 * already enqueued on its context, and returns when done.
 * @returns LCL_ERROR_INVALID_ARGUMENT for NULL arguments (a NULL @p src with n = 0 is fine),
 *   LCL_ERROR_OPENCL when the transfer fails. */
LCL_API lcl_status lcl_tensor_write(lcl_tensor *t, const void *src);

/** Copies the tensor into host memory @p dst (lcl_tensor_bytes(t) bytes), after the work
 * already enqueued on its context, and returns when done.
 * @returns as lcl_tensor_write. */
LCL_API lcl_status lcl_tensor_read(const lcl_tensor *t, void *dst);

/** @} */

/** @defgroup ops Leaky ReLU on tensors
 * All tensors of one call belong to @p ctx and have one float dtype and one size. An output
 * may be the very same range as an input (in place: y is x, dx is dy, or views of the same
 * elements); a partial overlap is rejected. Ops are enqueued in order on the context's queue
 * and may still run when the call returns: read the output, or call lcl_finish.
 * Failures: LCL_ERROR_INVALID_ARGUMENT for NULL, a NaN or infinite alpha (or one beyond the
 * fp32 range, for the dtypes that compute in fp32), mismatched dtypes,
 * sizes or contexts, a LCL_MASK tensor, or a partial overlap; LCL_ERROR_UNSUPPORTED for F64
 * on a device without cl_khr_fp64; LCL_ERROR_BUILD_FAILED, LCL_ERROR_OPENCL otherwise.
 * @{ */

/** y = x if x > 0, else alpha * x. */
LCL_API lcl_status lcl_forward(lcl_context *ctx, double alpha, const lcl_tensor *x, lcl_tensor *y);

/** dx = dy if x > 0, else alpha * dy. */
LCL_API lcl_status lcl_backward(lcl_context *ctx, double alpha, const lcl_tensor *x, const lcl_tensor *dy,
                                lcl_tensor *dx);

/** dx = dy if y > 0, else alpha * dy, from the forward output y. Exact (equal to lcl_backward
 * on the forward's input) only for alpha >= 0, so a negative alpha is rejected with
 * LCL_ERROR_INVALID_ARGUMENT. */
LCL_API lcl_status lcl_backward_from_output(lcl_context *ctx, double alpha, const lcl_tensor *y,
                                            const lcl_tensor *dy, lcl_tensor *dx);

/** @} */

/** @defgroup host Leaky ReLU on host arrays
 * Blocking: upload, compute, download (the CPU backend computes in place in host memory).
 * Any n; arrays larger than the device holds are processed in chunks. The output may be the
 * very same array as an input (in place: y is x, dx is dy or x); a partial overlap is
 * rejected. NULL arrays are allowed only with n = 0. Failures as for the tensor ops.
 * @{ */

/** y[i] = f(x[i]) for i < n, on host arrays of @p dtype. */
LCL_API lcl_status lcl_forward_host(lcl_context *ctx, lcl_dtype dtype, size_t n, double alpha, const void *x,
                                    void *y);

/** dx[i] = f'(x[i]) * dy[i] for i < n, on host arrays of @p dtype. */
LCL_API lcl_status lcl_backward_host(lcl_context *ctx, lcl_dtype dtype, size_t n, double alpha, const void *x,
                                     const void *dy, void *dx);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* LEAKYCL_H */
