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
#define LEAKYCL_VERSION_MINOR 2
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
 * the copies built into the library; LEAKYCL_CHUNK_BYTES and LEAKYCL_ZERO_COPY shape the
 * host-array functions (see @ref host). */
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
LCL_API lcl_status lcl_tensor_wrap_cl(lcl_context *ctx, lcl_dtype dtype, cl_mem buffer, size_t offset, size_t n,
                                      lcl_tensor **out);

/** Wraps @p n elements of the app's host memory at @p host for a CPU-backend context, so that
 * every op (PReLU, masks, batches, the dense layer) can run on an app's arrays in place, with
 * no copy. The app keeps ownership and must keep the memory alive and unmoved until the tensor
 * and all its views are released; leakycl never frees it. @p host must be aligned to the
 * dtype's element size (4 for LCL_MASK); NULL is allowed with n = 0. Two wraps whose bytes
 * partly overlap count as a partial overlap in the ops, like views of one tensor.
 * @returns LCL_ERROR_INVALID_ARGUMENT for NULL arguments, an OpenCL context, a dtype outside
 *   the enum, a size whose byte count overflows or a misaligned @p host. */
LCL_API lcl_status lcl_tensor_wrap_host(lcl_context *ctx, lcl_dtype dtype, void *host, size_t n, lcl_tensor **out);

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
LCL_API lcl_status lcl_backward_from_output(lcl_context *ctx, double alpha, const lcl_tensor *y, const lcl_tensor *dy,
                                            lcl_tensor *dx);

/** @} */

/** @defgroup batch Batches
 * Many leaky ReLUs in one call: item i computes y[i] = f(x[i]) with slope alpha[i] (backward:
 * dx[i] from x[i] and dy[i]), as lcl_forward / lcl_backward would, bit for bit.
 *
 * Items whose tensors are views of the same buffers (an app's activation arena: every x[i] a
 * view of one tensor, every y[i] of another, or of the same one) and of one dtype run as ONE
 * kernel launch, whatever their number and sizes; items on other buffers form further groups of
 * one launch each. The per-item offsets, sizes and slopes are uploaded once per call into a
 * device buffer the context keeps and reuses. On the CPU backend large items run one after
 * another on all threads and small ones side by side.
 *
 * Rules:
 * - count = 0 is a no-op (the arrays may then be NULL); items may have 0 elements.
 * - Within an item, the tensors belong to @p ctx and have one float dtype and one size; items
 *   may differ in dtype and size. Each alpha[i] is checked as lcl_forward checks alpha.
 * - An item may run in place: y[i] may be the very range x[i] is (dx[i] that of dy[i] or x[i]);
 *   a partial overlap is rejected.
 * - Items run in no particular order and may run at the same time, so an item's output may
 *   share no element with another item's tensors (inputs may be shared freely between items);
 *   such a batch is rejected.
 * - Every item is validated before anything is enqueued: one bad item (a NULL, a mismatch, a
 *   NaN or infinite alpha, an overlap) rejects the whole call with LCL_ERROR_INVALID_ARGUMENT
 *   and nothing is written. The message names the item.
 * Failures otherwise as for lcl_forward.
 * @{ */

/** y[i] = x[i] if x[i] > 0, else alpha[i] * x[i], for i < @p count. */
LCL_API lcl_status lcl_forward_batch(lcl_context *ctx, size_t count, const double *alpha, const lcl_tensor *const *x,
                                     lcl_tensor *const *y);

/** dx[i] = dy[i] if x[i] > 0, else alpha[i] * dy[i], for i < @p count. */
LCL_API lcl_status lcl_backward_batch(lcl_context *ctx, size_t count, const double *alpha, const lcl_tensor *const *x,
                                      const lcl_tensor *const *dy, lcl_tensor *const *dx);

/** @} */

/** @defgroup prelu PReLU: a slope per channel
 * x is [batch, channels, inner] in row-major order, batch = n / (channels * inner): element e
 * has channel (e / inner) % channels. inner = 1 covers [N, C] and channels-last layouts,
 * inner = H * W covers NCHW. @p alpha is a tensor of @p channels slopes of x's dtype, on the
 * device; each slope is read in the storage type and widened to the compute type, so y and dx
 * are bit for bit what lcl_forward / lcl_backward give with alpha = alpha[c] (any slope works,
 * negative ones as in ONNX PRelu; the slopes are not checked: a NaN slope gives NaN on its
 * channel's alpha branch).
 *
 * Rules: @p channels >= 1, @p inner >= 1, and n a multiple of channels * inner (n = 0 is
 * fine); y, dx and dalpha belong to @p ctx and have x's dtype; y may be x and dx may be dy or x
 * (in place), but no output may overlap @p alpha, and dalpha may overlap none of x, dy and dx
 * (it may be alpha itself: the slopes are read before it is written). Validation happens before
 * anything is enqueued; failures as for lcl_forward.
 * @{ */

/** y = x if x > 0, else alpha[c] * x, c the element's channel. */
LCL_API lcl_status lcl_prelu_forward(lcl_context *ctx, size_t channels, size_t inner, const lcl_tensor *alpha,
                                     const lcl_tensor *x, lcl_tensor *y);

/** dx = dy if x > 0, else alpha[c] * dy; and, unless @p dalpha is NULL, the slope gradient
 * dalpha[c] = the sum over batch and inner of dy * x where !(x > 0) (the alpha branch: x <= 0,
 * and NaN x, which makes the sum NaN), overwriting dalpha's @p channels values.
 *
 * dalpha is the one result that is not exact. Each product dy * x is rounded to the compute
 * type (fp32 for F32, F16 and BF16, fp64 for F64) and summed in it in two stages, without
 * atomics: first partial sums over a fixed partition (blocks of 512 consecutive elements of a
 * channel; or, when inner < 256 and batch >= 256, each column of blocks of 256 batch rows), each
 * kept in interleaved running sums flushed every few steps; then a channel's partial sums are
 * added pairwise (on GPUs, when a channel has more than 256 of them: each run of 256 pairwise
 * first, in parallel, then those sums pairwise), and the result is rounded once to dalpha's
 * storage type. The partition depends on the sizes and on the device class (GPU or not) only,
 * and the order of the sums within a block on the device's default vector width for the dtype,
 * never on the device's work-group size or thread count, so the same inputs give the same bits
 * on every run on one device; devices and backends may differ in the last bits. For F32 at a
 * million elements per channel the error stays within 1e-5 * sum |dy * x| (tested). dalpha uses
 * a device buffer of at most about n / 64 bytes (n / 32 for F64) that the context keeps for
 * later calls. */
LCL_API lcl_status lcl_prelu_backward(lcl_context *ctx, size_t channels, size_t inner, const lcl_tensor *alpha,
                                      const lcl_tensor *x, const lcl_tensor *dy, lcl_tensor *dx, lcl_tensor *dalpha);

/** @} */

/** @defgroup mask The sign mask: training with 1 bit per activation
 * Backward from the forward output (lcl_backward_from_output) is exact only for alpha >= 0,
 * and lcl_backward needs x, a second full tensor. The masked forward also stores the sign of x,
 * (x > 0), in a LCL_MASK tensor of n bits (element i is bit i mod 32 of 32-bit word i / 32);
 * the masked backward needs only that mask and dy. It is exact for every alpha (negative
 * included), may run in place (dx = dy), and keeps 1 bit per element for the backward instead
 * of 4 bytes of fp32 x.
 *
 * Cost: the masked forward moves the forward's bytes plus n / 8 for the mask; the masked
 * backward reads dy and the mask and writes dx (2 elements and 1 bit per element, where
 * lcl_backward moves 3 elements), so it is the faster backward.
 *
 * Rules: the mask is a LCL_MASK tensor of @p ctx with as many elements as the float tensors;
 * a view of a mask starts on a multiple of 32 (lcl_tensor_view enforces it), while the float
 * tensors may start anywhere. The forward writes every bit of the mask's elements; bits of the
 * last word past element n-1 (which belong to no element of this mask) are left as they were.
 * y may be x and dx may be dy (in place); the mask may overlap no float tensor of the call.
 * Failures as for lcl_forward, plus LCL_ERROR_INVALID_ARGUMENT when @p mask is not a LCL_MASK
 * tensor of the right size.
 * @{ */

/** y = x if x > 0, else alpha * x; and mask bit i = (x[i] > 0) (so -0, +0 and NaN give 0). */
LCL_API lcl_status lcl_forward_masked(lcl_context *ctx, double alpha, const lcl_tensor *x, lcl_tensor *y,
                                      lcl_tensor *mask);

/** dx = dy where the mask bit is 1, else alpha * dy: equal, bit for bit, to lcl_backward with
 * the x the mask was made from, for every alpha. */
LCL_API lcl_status lcl_backward_masked(lcl_context *ctx, double alpha, const lcl_tensor *mask, const lcl_tensor *dy,
                                       lcl_tensor *dx);

/** @} */

/** @defgroup host Leaky ReLU on host arrays
 * Blocking: when the call returns, the output holds every result and nothing of the call still
 * runs. The CPU backend computes in host memory. An OpenCL device takes one of two paths:
 *
 * - Zero-copy, on a device that shares host memory (CL_DEVICE_HOST_UNIFIED_MEMORY: PoCL,
 *   integrated GPUs): the arrays are wrapped with CL_MEM_USE_HOST_PTR from their first address
 *   aligned to CL_DEVICE_MEM_BASE_ADDR_ALIGN and computed where they lie; the elements before
 *   that address (less than one alignment unit per array) are computed on the CPU backend,
 *   with bit-identical results. Arrays beyond the device's largest allocation are cut in pieces.
 * - Streamed, on other devices (and where a pointer is not aligned to its element size, or the
 *   two inputs partially overlap): chunks go through pinned staging buffers that the context
 *   allocates on its first such call and keeps, and the upload of one chunk, the kernel on the
 *   one before and the download of the one before that overlap. Any n, arrays larger than the
 *   device's memory included. One streamed call at a time per context: others wait their turn.
 *
 * The output may be the very same array as an input (in place: y is x, dx is dy or x); a
 * partial overlap is rejected. NULL arrays are allowed only with n = 0. Only the output is
 * written: an out-of-place call leaves its inputs untouched whatever fails. A failure midway
 * returns its status with the chunk and its elements in lcl_last_error(); the output is then
 * partly written. Otherwise failures as for the tensor ops.
 *
 * Read at context creation: LEAKYCL_CHUNK_BYTES (bytes per streamed chunk and per staging
 * buffer, and the most bytes per zero-copy piece, rounded down to the alignment; default: 4 MiB
 * within the device's limits for chunks, the largest allocation for pieces) and
 * LEAKYCL_ZERO_COPY=0 (stream even on a device that shares host memory), both meant for tests
 * and measurements.
 * @{ */

/** y[i] = f(x[i]) for i < n, on host arrays of @p dtype. */
LCL_API lcl_status lcl_forward_host(lcl_context *ctx, lcl_dtype dtype, size_t n, double alpha, const void *x, void *y);

/** dx[i] = f'(x[i]) * dy[i] for i < n, on host arrays of @p dtype. */
LCL_API lcl_status lcl_backward_host(lcl_context *ctx, lcl_dtype dtype, size_t n, double alpha, const void *x,
                                     const void *dy, void *dx);

/** @} */

/** @defgroup dense Dense layer: fully connected, with a leaky ReLU
 * y[batch x out] = f(x[batch x in] . w^T + b), every matrix row-major: x holds batch rows of
 * @p in values, w holds @p out rows of @p in values (as PyTorch's nn.Linear keeps its weight),
 * b holds @p out values, one per column of y, or is NULL for no bias; f is the leaky ReLU with
 * slope @p alpha.
 *
 * The products run on a BLAS: CLBlast's SGEMM on the context's queue for an OpenCL context,
 * CBLAS (OpenBLAS) for the CPU backend. GEMMs are not exact, so the two backends agree within
 * rounding (a normwise relative error of about 1e-6 for fp32), not bit for bit; the epilogue
 * after the GEMM is exact: y is f(z + b) of the GEMM's own z, rounded as lcl_forward rounds, and
 * without a bias exactly lcl_forward of z. NaN in x or w gives NaN in the rows and columns it
 * reaches. LEAKYCL_VERIFY does not cover these two functions. An OpenCL context compiles
 * CLBlast's GEMM kernels on its first dense call (seconds on PoCL, which then caches them) and
 * keeps device workspaces (dz, db's partial sums, CLBlast's temporary buffer) for later calls:
 * after the first call of a size, calls allocate nothing. One dense backward at a time per
 * context uses the workspace: others from other threads wait their turn. CLBlast 1.5 is not
 * safe to call from two threads at once, so leakycl makes one CLBlast call at a time in the
 * process (each only enqueues work, but a first GEMM of a shape compiles while others wait).
 *
 * Rules: batch, in and out are at least 1; every tensor is LCL_F32 (another dtype is rejected
 * with LCL_ERROR_INVALID_ARGUMENT), belongs to @p ctx and has exactly the elements its shape
 * says (x: batch * in, w: out * in, b and db: out, y and dy: batch * out, dx: batch * in, dw:
 * out * in); alpha is finite and within fp32's range. An output may share no element with any
 * other tensor of the call (a GEMM cannot run in place). Any violation, or a NULL where a
 * tensor is required, returns LCL_ERROR_INVALID_ARGUMENT before anything is enqueued or
 * written. LCL_ERROR_UNSUPPORTED: leakycl was built without the BLAS this backend needs (the
 * message names it), or a size beyond CBLAS's int on the CPU backend. LCL_ERROR_BLAS: CLBlast
 * failed (the message names the call, CLBlast's status and its code); LCL_ERROR_OPENCL,
 * LCL_ERROR_BUILD_FAILED and LCL_ERROR_OUT_OF_MEMORY as for lcl_forward. After a failure past
 * validation the outputs are unspecified.
 * @{ */

/** y = f(x . w^T + b): one GEMM into y, then one pass over y that adds b and applies the leaky
 * ReLU in place. @p b may be NULL. */
LCL_API lcl_status lcl_dense_forward(lcl_context *ctx, size_t batch, size_t in, size_t out, double alpha,
                                     const lcl_tensor *x, const lcl_tensor *w, const lcl_tensor *b, lcl_tensor *y);

/** The gradients of the layer from its forward output @p y and the gradient @p dy of y:
 * dz = dy where y > 0, else alpha * dy (from y, exact only for alpha >= 0, so a negative alpha
 * is rejected with LCL_ERROR_INVALID_ARGUMENT), then dx = dz . w, dw = dz^T . x and
 * db = the column sums of dz. Any of @p dx, @p dw, @p db may be NULL and is then not computed
 * (all three NULL: validation only). dw and db are overwritten, not accumulated.
 *
 * db is summed in fp32 in two stages without atomics: per column, over blocks of 64 batch rows
 * (flushed every 16 rows), then those block sums pairwise, on both backends; the partition
 * depends on the sizes only, so the same inputs give the same bits on every run of a backend. */
LCL_API lcl_status lcl_dense_backward(lcl_context *ctx, size_t batch, size_t in, size_t out, double alpha,
                                      const lcl_tensor *x, const lcl_tensor *w, const lcl_tensor *y,
                                      const lcl_tensor *dy, lcl_tensor *dx, lcl_tensor *dw, lcl_tensor *db);

/** @} */

/** @defgroup tuning Kernel tuning
 * The OpenCL kernels' shapes (elements per vector, vectors per work-item, work-group size) are
 * set per device, op and dtype. Each device type has defaults; `leakycl tune` times candidates
 * and stores the fastest in a per-user cache ($LEAKYCL_TUNING_FILE if set, else
 * $XDG_CACHE_HOME/leakycl/tuning, else ~/.cache/leakycl/tuning), keyed by the device's name,
 * driver version and OpenCL version. lcl_context_create and lcl_context_wrap_cl read it unless
 * LEAKYCL_TUNING=0; an unreadable, corrupt or foreign cache is ignored. No result depends on
 * these values: every op gives the same bits tuned or not. The PReLU slope gradient's partition
 * (see lcl_prelu_backward) is fixed by the sizes and is not a tunable, and prelu_backward's
 * vector width, which sets the lane sums within its blocks, stays the device's default.
 *
 * Parameter text is one entry per line, "OP DTYPE vw=V vpt=P wgs=W": OP is forward, backward,
 * forward_batch, backward_batch, prelu_forward, prelu_backward, forward_masked,
 * backward_masked or dense; DTYPE f32, f16, bf16 or f64; V is 2, 4, 8 or 16; P a power of two up
 * to 64 with V * P at most 512, and 1 exactly where the device's default is 1 (the GPU shapes);
 * W a power of two up to the device's work-group limit, a multiple of 16 when P is 1; for
 * prelu_backward, V the device's default. On CPU devices P leaves the masked ops alone: their
 * work-items own 512 elements each, a 64-byte line of the mask.
 * @{ */

/** Creates a context as lcl_context_create does, with @p params in place of the tuning cache:
 * the ops and dtypes it names take its values, all others the defaults. @p params NULL or ""
 * gives the defaults. A malformed line, or values the device cannot take, is
 * LCL_ERROR_INVALID_ARGUMENT naming the line; on the CPU backend, which has no kernel
 * parameters, a non-empty @p params is LCL_ERROR_UNSUPPORTED. */
LCL_API lcl_status lcl_context_create_tuned(const char *device, const char *params, lcl_context **out);

/** Writes the entry in force for @p op and @p dtype ("forward f32 vw=8 vpt=16 wgs=64", no
 * newline) into @p buf. LCL_ERROR_UNSUPPORTED on the CPU backend; LCL_ERROR_INVALID_ARGUMENT
 * for an unknown op or dtype, or a @p buf too small for the text. */
LCL_API lcl_status lcl_context_tuning(const lcl_context *ctx, const char *op, lcl_dtype dtype, char *buf,
                                      size_t size);

/** How many entries of @p ctx came from the tuning cache: 0 when its device is untuned (or on
 * the CPU backend, or with LEAKYCL_TUNING=0, or for lcl_context_create_tuned). */
LCL_API size_t lcl_context_tuned(const lcl_context *ctx);

/** Replaces @p ctx's device's section of the tuning cache with the entries of @p params
 * (validated as lcl_context_create_tuned does), keeping other devices' sections, and writes
 * the file atomically (a new file renamed over the old one). A corrupt cache is replaced.
 * Contexts created afterwards use the entries. */
LCL_API lcl_status lcl_tuning_store(const lcl_context *ctx, const char *params);

/** Writes the tuning cache's path into @p buf; LCL_ERROR_INVALID_ARGUMENT when @p buf is too
 * small or no path can be formed (no $LEAKYCL_TUNING_FILE, $XDG_CACHE_HOME or $HOME). */
LCL_API lcl_status lcl_tuning_path(char *buf, size_t size);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* LEAKYCL_H */
