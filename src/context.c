/* Device discovery and selection, contexts on our own queue or on an app's. */
#include "opencl/opencl.h"

#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LCL__MAX_PLATFORMS 32
#define LCL__MAX_DEVICES 64

enum device_want { WANT_GPU, WANT_ANY };

/* What the ICD loader answers when no ICD is installed (CL_PLATFORM_NOT_FOUND_KHR). */
#define LCL__PLATFORM_NOT_FOUND_KHR (-1001)

/* The device a spec selected: platform and device handles, or CPU backend. */
struct selection {
    bool use_cpu;
    cl_platform_id platform;
    cl_device_id device;
};

/* The first discovery is not thread-safe below us: threads creating their first contexts at
 * once on PoCL saw no device, or crashed (the ICD loader and the platforms initialise on their
 * first clGetPlatformIDs / clGetDeviceIDs). One discovery through pthread_once comes first. */
static void load_icds(void) {
    cl_platform_id platforms[LCL__MAX_PLATFORMS];
    cl_uint count = 0;
    if (clGetPlatformIDs(LCL__MAX_PLATFORMS, platforms, &count) != CL_SUCCESS)
        return;
    for (cl_uint p = 0; p < count && p < LCL__MAX_PLATFORMS; ++p) {
        cl_uint devices = 0;
        (void)clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &devices);
    }
}

static cl_uint list_platforms(cl_platform_id *platforms, cl_int *err) {
    static pthread_once_t icds_loaded = PTHREAD_ONCE_INIT;
    pthread_once(&icds_loaded, load_icds);
    cl_uint count = 0;
    /* No ICD installed is no platform, not a failure; other failures are kept in *err, which an
     * explicit device spec reports and "auto" takes as "no OpenCL here". */
    *err = clGetPlatformIDs(LCL__MAX_PLATFORMS, platforms, &count);
    if (*err == LCL__PLATFORM_NOT_FOUND_KHR)
        *err = CL_SUCCESS;
    if (*err != CL_SUCCESS)
        return 0;
    return count < LCL__MAX_PLATFORMS ? count : LCL__MAX_PLATFORMS;
}

static cl_uint list_devices(cl_platform_id platform, cl_device_type type, cl_device_id *devices, cl_int *err) {
    cl_uint count = 0;
    *err = clGetDeviceIDs(platform, type, LCL__MAX_DEVICES, devices, &count);
    if (*err == CL_DEVICE_NOT_FOUND)
        *err = CL_SUCCESS;
    if (*err != CL_SUCCESS)
        return 0;
    return count < LCL__MAX_DEVICES ? count : LCL__MAX_DEVICES;
}

/* The first discovery call that failed, for a spec that names OpenCL to report. */
struct discovery_error {
    cl_int err;
    const char *call;
};

static void note_discovery_error(struct discovery_error *e, cl_int err, const char *call) {
    if (err != CL_SUCCESS && e->err == CL_SUCCESS) {
        e->err = err;
        e->call = call;
    }
}

/* The first device of the wanted kind over all platforms, in platform order. */
static bool find_first(enum device_want want, struct selection *sel, struct discovery_error *e) {
    cl_platform_id platforms[LCL__MAX_PLATFORMS];
    cl_int err = CL_SUCCESS;
    cl_uint platform_count = list_platforms(platforms, &err);
    note_discovery_error(e, err, "clGetPlatformIDs");
    cl_device_type type = want == WANT_GPU ? CL_DEVICE_TYPE_GPU : CL_DEVICE_TYPE_ALL;
    for (cl_uint p = 0; p < platform_count; ++p) {
        cl_device_id devices[LCL__MAX_DEVICES];
        if (list_devices(platforms[p], type, devices, &err) > 0) {
            sel->platform = platforms[p];
            sel->device = devices[0];
            return true;
        }
        note_discovery_error(e, err, "clGetDeviceIDs");
    }
    return false;
}

/* Parses a non-negative decimal index that ends at `end_char`; returns the char after it. */
static const char *parse_index(const char *s, char end_char, unsigned long *value) {
    if (*s < '0' || *s > '9')
        return NULL;
    errno = 0;
    char *end = NULL;
    *value = strtoul(s, &end, 10);
    if (errno != 0 || *end != end_char)
        return NULL;
    return end_char == '\0' ? end : end + 1;
}

static lcl_status select_indexed(const char *spec, const char *indices, struct selection *sel) {
    unsigned long p = 0;
    unsigned long d = 0;
    const char *rest = parse_index(indices, ':', &p);
    if (!rest || !parse_index(rest, '\0', &d))
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "device spec '%s': expected opencl:P:D with decimal indices",
                         spec);
    cl_platform_id platforms[LCL__MAX_PLATFORMS];
    cl_int err = CL_SUCCESS;
    cl_uint platform_count = list_platforms(platforms, &err);
    if (err != CL_SUCCESS)
        return lcl__cl_check(err, "clGetPlatformIDs");
    if (p >= platform_count)
        return lcl__fail(LCL_ERROR_DEVICE_NOT_FOUND, "device spec '%s': no platform %lu (OpenCL platforms found: %u)",
                         spec, p, (unsigned)platform_count);
    cl_device_id devices[LCL__MAX_DEVICES];
    cl_uint device_count = list_devices(platforms[p], CL_DEVICE_TYPE_ALL, devices, &err);
    if (err != CL_SUCCESS)
        return lcl__cl_check(err, "clGetDeviceIDs");
    if (d >= device_count)
        return lcl__fail(LCL_ERROR_DEVICE_NOT_FOUND, "device spec '%s': no device %lu on platform %lu (devices: %u)",
                         spec, d, p, (unsigned)device_count);
    sel->platform = platforms[p];
    sel->device = devices[d];
    return LCL_SUCCESS;
}

static lcl_status select_device(const char *spec, struct selection *sel) {
    memset(sel, 0, sizeof *sel);
    if (strcmp(spec, "cpu") == 0) {
        sel->use_cpu = true;
        return LCL_SUCCESS;
    }
    struct discovery_error e = {CL_SUCCESS, NULL};
    if (strcmp(spec, "auto") == 0) {
        if (!find_first(WANT_GPU, sel, &e) && !find_first(WANT_ANY, sel, &e))
            sel->use_cpu = true;
        return LCL_SUCCESS;
    }
    if (strcmp(spec, "gpu") == 0 || strcmp(spec, "opencl") == 0) {
        enum device_want want = spec[0] == 'g' ? WANT_GPU : WANT_ANY;
        if (!find_first(want, sel, &e) && e.err != CL_SUCCESS)
            return lcl__cl_check(e.err, e.call);
        if (!sel->device)
            return lcl__fail(LCL_ERROR_DEVICE_NOT_FOUND, "device spec '%s': no %s found", spec,
                             want == WANT_GPU ? "OpenCL GPU" : "OpenCL device");
        return LCL_SUCCESS;
    }
    if (strncmp(spec, "opencl:", 7) == 0)
        return select_indexed(spec, spec + 7, sel);
    return lcl__fail(LCL_ERROR_INVALID_ARGUMENT,
                     "device spec '%s' not understood: expected auto, cpu, opencl, gpu or opencl:P:D", spec);
}

/* A failed query fails the context rather than hide an extension the device has (F64 would
 * then be refused as unsupported for a transient error). */
static lcl_status device_has_extension(cl_device_id device, const char *name, bool *found) {
    lcl_status st;
    size_t size = 0;
    *found = false;
    if (LCL__CL_CALL(st, clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, 0, NULL, &size),
                     "clGetDeviceInfo(CL_DEVICE_EXTENSIONS)") ||
        size == 0)
        return st;
    char *extensions = malloc(size + 1);
    if (!extensions)
        return lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "out of host memory for the device's extensions");
    if (LCL__CL_CALL(st, clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, size, extensions, NULL),
                     "clGetDeviceInfo(CL_DEVICE_EXTENSIONS)") == LCL_SUCCESS) {
        extensions[size] = '\0';
        size_t len = strlen(name);
        for (const char *p = strstr(extensions, name); p && !*found; p = strstr(p + 1, name))
            *found = (p == extensions || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0');
    }
    free(extensions);
    return st;
}

static lcl_context *context_alloc(void) {
    lcl_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    const char *dir = getenv("LEAKYCL_KERNEL_DIR");
    bool dir_kept = !(dir && *dir) || (ctx->kernel_dir = strdup(dir)) != NULL;
    if (dir_kept && pthread_mutex_init(&ctx->lock, NULL) == 0) {
        if (pthread_mutex_init(&ctx->stage_lock, NULL) == 0) {
            const char *verify = getenv("LEAKYCL_VERIFY");
            ctx->verify = verify && strcmp(verify, "1") == 0;
            return ctx;
        }
        pthread_mutex_destroy(&ctx->lock);
    }
    free(ctx->kernel_dir);
    free(ctx);
    return NULL;
}

static void init_cpu_backend(lcl_context *ctx) {
    ctx->backend = LCL_BACKEND_CPU;
    ctx->has_fp64 = true;
    ctx->max_alloc = SIZE_MAX;
    snprintf(ctx->device_name, sizeof ctx->device_name, "CPU backend (%d threads)", omp_get_max_threads());
}

/* Reads what the launches need to know about the device. */
static lcl_status init_device_info(lcl_context *ctx) {
    lcl_status st;
    cl_device_type type = 0;
    size_t max_wg = 0;
    if (LCL__CL_CALL(st,
                     clGetDeviceInfo(ctx->device, CL_DEVICE_NAME, sizeof ctx->device_name - 1, ctx->device_name, NULL),
                     "clGetDeviceInfo(CL_DEVICE_NAME)") ||
        LCL__CL_CALL(st, clGetDeviceInfo(ctx->device, CL_DEVICE_TYPE, sizeof type, &type, NULL),
                     "clGetDeviceInfo(CL_DEVICE_TYPE)") ||
        LCL__CL_CALL(
            st,
            clGetDeviceInfo(ctx->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof ctx->max_alloc, &ctx->max_alloc, NULL),
            "clGetDeviceInfo(CL_DEVICE_MAX_MEM_ALLOC_SIZE)") ||
        LCL__CL_CALL(st, clGetDeviceInfo(ctx->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof max_wg, &max_wg, NULL),
                     "clGetDeviceInfo(CL_DEVICE_MAX_WORK_GROUP_SIZE)") ||
        (st = device_has_extension(ctx->device, "cl_khr_fp64", &ctx->has_fp64)) != LCL_SUCCESS)
        return st;
    ctx->device_name[sizeof ctx->device_name - 1] = '\0';
    /* The version string ("OpenCL 3.0 PoCL ...", "OpenCL 3.0 CUDA"), or "" where the query fails:
     * it only picks faster kernel shapes, never what is computed. */
    char version[256] = "";
    if (clGetDeviceInfo(ctx->device, CL_DEVICE_VERSION, sizeof version - 1, version, NULL) != CL_SUCCESS)
        version[0] = '\0';
    cl_uint float_lanes = 0;
    if (clGetDeviceInfo(ctx->device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof float_lanes, &float_lanes, NULL) !=
        CL_SUCCESS)
        float_lanes = 0;
    struct lcl__device_facts facts = {.gpu = (type & CL_DEVICE_TYPE_GPU) != 0,
                                      .gpu_type = (type & CL_DEVICE_TYPE_GPU) != 0,
                                      .pocl = strstr(version, "PoCL") != NULL || strstr(version, "pocl") != NULL,
                                      .cuda = strstr(version, "CUDA") != NULL,
                                      .max_work_group_size = max_wg,
                                      .float_lanes = float_lanes};
    /* Tests only: LEAKYCL_KERNEL_SHAPE=gpu runs the GPU kernels' shapes (a vector per work-item,
     * aligned whole-vector accesses, no non-temporal stores) on a CPU device such as PoCL, so
     * that they are checked bit for bit where there is no GPU; =cpu the other way round. The
     * f16 conversions stay the device's (PoCL's vload_half misbehaves at odd offsets). */
    const char *shape = getenv("LEAKYCL_KERNEL_SHAPE");
    if (shape && (strcmp(shape, "gpu") == 0 || strcmp(shape, "cpu") == 0))
        facts.gpu = strcmp(shape, "gpu") == 0;
    lcl__tunables_default(&facts, &ctx->tune);
    ctx->backend = LCL_BACKEND_OPENCL;
    lcl__tuning_init(ctx, max_wg); /* the tuning cache's values over these defaults */
    return lcl__offload_init(ctx, type);
}

static lcl_status create_cl_objects(lcl_context *ctx, const struct selection *sel) {
    lcl_status st;
    cl_int err = CL_SUCCESS;
    ctx->platform = sel->platform;
    ctx->device = sel->device;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)sel->platform, 0};
    ctx->cl_ctx = clCreateContext(props, 1, &sel->device, NULL, NULL, &err);
    if (LCL__CL_CALL(st, err, "clCreateContext"))
        return st;
    ctx->queue = clCreateCommandQueue(ctx->cl_ctx, sel->device, CL_QUEUE_PROFILING_ENABLE, &err);
    if (LCL__CL_CALL(st, err, "clCreateCommandQueue"))
        return st;
    return init_device_info(ctx);
}

lcl_status lcl_context_create(const char *device, lcl_context **out) {
    if (!out)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "lcl_context_create: out is NULL");
    if (!device) {
        device = getenv("LEAKYCL_DEVICE");
        if (!device || !*device)
            device = "auto";
    }
    struct selection sel;
    lcl_status st = select_device(device, &sel);
    if (st != LCL_SUCCESS)
        return st;
    lcl_context *ctx = context_alloc();
    if (!ctx)
        return lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "lcl_context_create: out of host memory");
    if (sel.use_cpu) {
        init_cpu_backend(ctx);
    } else if ((st = create_cl_objects(ctx, &sel)) != LCL_SUCCESS) {
        lcl_context_release(ctx);
        return st;
    }
    *out = ctx;
    return LCL_SUCCESS;
}

lcl_status lcl_context_wrap_cl(cl_command_queue queue, lcl_context **out) {
    if (!queue || !out)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "lcl_context_wrap_cl: %s is NULL", queue ? "out" : "queue");
    lcl_status st;
    cl_context cl_ctx = NULL;
    cl_device_id device = NULL;
    cl_command_queue_properties props = 0;
    if (LCL__CL_CALL(st, clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof cl_ctx, &cl_ctx, NULL),
                     "clGetCommandQueueInfo(CL_QUEUE_CONTEXT)") ||
        LCL__CL_CALL(st, clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof device, &device, NULL),
                     "clGetCommandQueueInfo(CL_QUEUE_DEVICE)") ||
        LCL__CL_CALL(st, clGetCommandQueueInfo(queue, CL_QUEUE_PROPERTIES, sizeof props, &props, NULL),
                     "clGetCommandQueueInfo(CL_QUEUE_PROPERTIES)"))
        return st;
    /* Ops, their checks and the host functions rely on in-order execution. */
    if (props & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "lcl_context_wrap_cl: the queue must be in-order");
    cl_platform_id platform = NULL;
    if (LCL__CL_CALL(st, clGetDeviceInfo(device, CL_DEVICE_PLATFORM, sizeof platform, &platform, NULL),
                     "clGetDeviceInfo(CL_DEVICE_PLATFORM)"))
        return st;
    lcl_context *ctx = context_alloc();
    if (!ctx)
        return lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "lcl_context_wrap_cl: out of host memory");
    ctx->platform = platform;
    ctx->device = device;
    /* Retained first, so that release can undo everything whatever fails below. */
    if (LCL__CL_CALL(st, clRetainContext(cl_ctx), "clRetainContext") == LCL_SUCCESS) {
        ctx->cl_ctx = cl_ctx;
        if (LCL__CL_CALL(st, clRetainCommandQueue(queue), "clRetainCommandQueue") == LCL_SUCCESS) {
            ctx->queue = queue;
            st = init_device_info(ctx);
        }
    }
    if (st != LCL_SUCCESS) {
        lcl_context_release(ctx);
        return st;
    }
    *out = ctx;
    return LCL_SUCCESS;
}

void lcl_context_release(lcl_context *ctx) {
    if (!ctx)
        return;
    if (ctx->queue)
        clFinish(ctx->queue); /* release cannot report; the app sees a failure on its next call */
    lcl__offload_release(ctx);
    lcl__workspaces_release(ctx);
    lcl__cl_dense_release(ctx);
    lcl__programs_release(ctx);
    if (ctx->queue)
        clReleaseCommandQueue(ctx->queue);
    if (ctx->cl_ctx)
        clReleaseContext(ctx->cl_ctx);
    pthread_mutex_destroy(&ctx->stage_lock);
    pthread_mutex_destroy(&ctx->lock);
    free(ctx->kernel_dir);
    free(ctx);
}

lcl_backend lcl_context_backend(const lcl_context *ctx) { return ctx ? ctx->backend : LCL_BACKEND_CPU; }

const char *lcl_context_device_name(const lcl_context *ctx) { return ctx ? ctx->device_name : ""; }

int lcl_context_supports(const lcl_context *ctx, lcl_dtype dtype) {
    if (!ctx || !lcl__dtype_valid(dtype))
        return 0;
    return dtype != LCL_F64 || ctx->has_fp64;
}

cl_command_queue lcl_context_cl_queue(const lcl_context *ctx) { return ctx ? ctx->queue : NULL; }

cl_context lcl_context_cl_context(const lcl_context *ctx) { return ctx ? ctx->cl_ctx : NULL; }

cl_device_id lcl_context_cl_device(const lcl_context *ctx) { return ctx ? ctx->device : NULL; }

lcl_status lcl_finish(lcl_context *ctx) {
    if (!ctx)
        return lcl__fail(LCL_ERROR_INVALID_ARGUMENT, "lcl_finish: ctx is NULL");
    if (!ctx->queue)
        return LCL_SUCCESS;
    lcl_status st;
    return LCL__CL_CALL(st, clFinish(ctx->queue), "clFinish");
}
