/* The OpenCL backend (src/opencl/): everything that enqueues. Arguments are already validated. */
#ifndef LEAKYCL_OPENCL_H
#define LEAKYCL_OPENCL_H

#include "internal.h"

/* ---- the tunables (tunables.c) ---------------------------------------------------------------- */

/* What the defaults depend on. */
struct lcl__device_facts {
    bool gpu;                   /* a GPU, or LEAKYCL_KERNEL_SHAPE=gpu (tests) */
    bool gpu_type;              /* CL_DEVICE_TYPE_GPU, whatever the shape asked for */
    bool pocl, cuda;            /* the driver, from CL_DEVICE_VERSION */
    size_t max_work_group_size; /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    unsigned float_lanes;       /* CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT: 16 on AVX-512 (PoCL), 0 if unknown */
};
void lcl__tunables_default(const struct lcl__device_facts *device, struct lcl__tunables *t);
/* The build options of a program of dtype; returns what snprintf does. */
int lcl__tunables_options(const struct lcl__tunables *t, lcl_dtype dtype, char *buf, size_t size);
/* The elements one work-item of the plain kernels handles for dtype. */
size_t lcl__chunk_elements(const struct lcl__tunables *t, lcl_dtype dtype);
/* The tunables that build and launch kernel id of dtype: its op's, as tuned (tuning.c). */
const struct lcl__tunables *lcl__kernel_tunables(const lcl_context *ctx, lcl_dtype dtype, enum lcl__kernel_id id);
enum lcl__tune_op lcl__kernel_tune_op(enum lcl__kernel_id id);

/* ---- programs and kernel pools (program.c) ---------------------------------------------------- */

lcl_status lcl__kernel_acquire(lcl_context *ctx, lcl_dtype dtype, enum lcl__kernel_id id, cl_kernel *out);
void lcl__kernel_release_to_pool(lcl_context *ctx, lcl_dtype dtype, enum lcl__kernel_id id, cl_kernel k);
void lcl__programs_release(lcl_context *ctx);
/* The file's text, malloc'd and NUL-terminated, *size its length; NULL with errno set when it is
 * missing, unreadable or larger than max bytes. */
char *lcl__read_file(const char *path, size_t max, size_t *size);

/* ---- launches (launch.c) ---------------------------------------------------------------------- */

/* Take a kernel from the pool, set its arguments one by one (the first failure is kept), enqueue
 * it over `items` work-items rounded up to whole work-groups (none for 0), give the kernel back
 * (arguments are captured at enqueue, so it is free again at once). */
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
void lcl__launch_tensor(struct lcl__launch *l, const lcl_tensor *t); /* its buffer and element offset */
void lcl__launch_alpha(struct lcl__launch *l, double alpha);         /* rounded to the dtype's compute type */
lcl_status lcl__launch_end(lcl_context *ctx, struct lcl__launch *l, size_t items);
/* The same on `queue` after the events in `wait`; *event (if not NULL) is its event. */
lcl_status lcl__launch_end_on(lcl_context *ctx, struct lcl__launch *l, size_t items, cl_command_queue queue,
                              cl_uint wait_count, const cl_event *wait, cl_event *event);

/* ---- the ops (eltwise.c, batch.c, prelu.c, mask.c, dense.c) ----------------------------------- */

/* The buffers of one elementwise launch, with element offsets. */
struct lcl__cl_operands {
    cl_mem sel;
    size_t sel_off;
    cl_mem grad; /* NULL for the forward */
    size_t grad_off;
    cl_mem out;
    size_t out_off;
};
lcl_status lcl__cl_eltwise_enqueue(lcl_context *ctx, cl_command_queue queue, const struct lcl__eltwise *call,
                                   const struct lcl__cl_operands *ops, cl_uint wait_count, const cl_event *wait,
                                   cl_event *event);
lcl_status lcl__cl_eltwise(lcl_context *ctx, const struct lcl__eltwise *call, const lcl_tensor *sel,
                           const lcl_tensor *grad, lcl_tensor *out);
/* One batch: the items grouped by dtype and buffers, one table upload, a launch per group. */
lcl_status lcl__cl_batch(lcl_context *ctx, const struct lcl__batch *b);
/* PReLU: y, dx alone, or dx with dalpha through the partial sums. */
struct lcl__prelu_args {
    const lcl_tensor *alpha, *x, *dy;
    lcl_tensor *out, *dalpha;
};
lcl_status lcl__cl_prelu(lcl_context *ctx, const struct lcl__prelu *call, const struct lcl__prelu_args *a);
/* The sign mask: `in` is x (forward) or dy (backward), `out` is y or dx. */
lcl_status lcl__cl_masked(lcl_context *ctx, enum lcl__op op, double alpha, const lcl_tensor *in, lcl_tensor *out,
                          const lcl_tensor *mask);
/* The dense layer through CLBlast and dense.cl. */
lcl_status lcl__cl_dense_forward(lcl_context *ctx, const struct lcl__dense *call, const struct lcl__dense_args *a);
lcl_status lcl__cl_dense_backward(lcl_context *ctx, const struct lcl__dense *call, const struct lcl__dense_args *a);
/* lcl_context_release, after clFinish: drops what CLBlast cached for the context. */
void lcl__cl_dense_release(lcl_context *ctx);

/* ---- host arrays (offload.c) ------------------------------------------------------------------ */

/* The part of a host call that stays on the host (where a zero-copy launch cannot reach). */
typedef void lcl__host_eltwise_fn(const struct lcl__eltwise *call, const void *sel, const void *grad, void *out);
/* Streamed through pinned staging buffers, or wrapped in place where the device shares host
 * memory (`on_host` does the unaligned edges then). n > 0; only `out` is ever written. */
lcl_status lcl__offload(lcl_context *ctx, const char *fn, const struct lcl__eltwise *call, const void *sel,
                        const void *grad, void *out, lcl__host_eltwise_fn *on_host);
/* Reads the device's (of CL_DEVICE_TYPE type) and the environment's settings for offload
 * (OpenCL context creation). */
lcl_status lcl__offload_init(lcl_context *ctx, cl_device_type type);
/* Frees the staging and the host queue (lcl_context_release). */
void lcl__offload_release(lcl_context *ctx);

#endif /* LEAKYCL_OPENCL_H */
