/* clfault: a test-only OpenCL shim, preloaded (LD_PRELOAD) in front of the ICD loader. It
 * forwards every OpenCL entry point leakycl and CLBlast call to the loader, counts the calls
 * made from those libraries, makes one of them fail on request, and keeps a reference count
 * per OpenCL object they create or retain, so that a test can assert that nothing leaks.
 *
 * Only calls whose caller lies in a library named by CLFAULT_FROM are counted, failed or
 * tracked: the test program's own OpenCL calls and those PoCL or the loader make internally
 * pass straight through.
 *
 * Environment (read once, at load):
 *   CLFAULT_AT=k        the k-th counted call fails (1-based, releases not counted; unset or 0: none)
 *   CLFAULT_CALL=name   count k among the calls to `name` only (e.g. clCreateBuffer)
 *   CLFAULT_ERROR=e     the error: a CL_* name, a number, or "auto" (the default: an error that
 *                       call can really return, varied with k)
 *   CLFAULT_FROM=a:b    substrings of the caller's library file name (default libleakycl:libclblast)
 *   CLFAULT_TRACE=path  appends "k name" for every counted call
 *   CLFAULT_REPORT=path writes the totals and the live objects at exit
 *
 * How a failure looks: a call that returns an object returns NULL with *errcode_ret set; other
 * calls return the error without forwarding, so the command is never enqueued and no event is
 * made; except clFinish and clWaitForEvents, which wait and then report the error, since a
 * failed wait that did not wait would let a test race with commands still running. Release
 * calls never fail: a failed release would leak through no fault of the caller. */
#define _GNU_SOURCE
#define CL_TARGET_OPENCL_VERSION 300
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>

#include "clfault.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))
#define CALLER __builtin_return_address(0)

/* What a call is, for the choice of error and the rules above. */
enum kind { K_CALL, K_ALLOC, K_ENQUEUE, K_WRITE, K_WAIT, K_BUILD, K_RELEASE };

/* ---- configuration -------------------------------------------------------------------------- */

static struct {
    unsigned long at;
    char call[128];
    cl_int error; /* 0: auto */
    char from[512];
    FILE *trace;
    char report[1024];
} config;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long calls;    /* counted calls that may fail: all but releases, which k skips */
static unsigned long releases; /* counted releases */
static unsigned long matching; /* counted calls that match CLFAULT_CALL */
static unsigned long writes;   /* forwarded counted commands that may write a buffer (kernels, copies, fills) */
static struct {
    bool done;
    unsigned long at;
    char call[128];
    char library[128];
    cl_int error;
} fired;

static const struct {
    const char *name;
    cl_int code;
} errors[] = {
    {"CL_OUT_OF_RESOURCES", CL_OUT_OF_RESOURCES},
    {"CL_OUT_OF_HOST_MEMORY", CL_OUT_OF_HOST_MEMORY},
    {"CL_MEM_OBJECT_ALLOCATION_FAILURE", CL_MEM_OBJECT_ALLOCATION_FAILURE},
    {"CL_BUILD_PROGRAM_FAILURE", CL_BUILD_PROGRAM_FAILURE},
    {"CL_INVALID_COMMAND_QUEUE", CL_INVALID_COMMAND_QUEUE},
    {"CL_INVALID_VALUE", CL_INVALID_VALUE},
    {"CL_DEVICE_NOT_AVAILABLE", CL_DEVICE_NOT_AVAILABLE},
    {"CL_INVALID_OPERATION", CL_INVALID_OPERATION},
    {"CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST", CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST},
};

static cl_int parse_error(const char *text) {
    if (!text || !*text || strcmp(text, "auto") == 0)
        return 0;
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; ++i)
        if (strcmp(text, errors[i].name) == 0)
            return errors[i].code;
    return (cl_int)strtol(text, NULL, 10);
}

EXPORT const char *clfault_error_name(cl_int code) {
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; ++i)
        if (errors[i].code == code)
            return errors[i].name;
    return "CL_?";
}

static void copy_env(char *dst, size_t size, const char *name, const char *fallback) {
    const char *value = getenv(name);
    snprintf(dst, size, "%s", value && *value ? value : fallback);
}

__attribute__((constructor)) static void configure(void) {
    const char *at = getenv("CLFAULT_AT");
    config.at = at ? strtoul(at, NULL, 10) : 0;
    copy_env(config.call, sizeof config.call, "CLFAULT_CALL", "");
    config.error = parse_error(getenv("CLFAULT_ERROR"));
    copy_env(config.from, sizeof config.from, "CLFAULT_FROM", "libleakycl:libclblast");
    copy_env(config.report, sizeof config.report, "CLFAULT_REPORT", "");
    const char *trace = getenv("CLFAULT_TRACE");
    if (trace && *trace)
        config.trace = fopen(trace, "a");
}

/* An error the call could really return; k varies it among the plausible ones. */
static cl_int auto_error(enum kind kind, const char *name, unsigned long k) {
    switch (kind) {
    case K_BUILD:
        return k % 3 == 2 ? CL_OUT_OF_HOST_MEMORY : CL_BUILD_PROGRAM_FAILURE;
    case K_ALLOC:
        return k % 2 ? CL_MEM_OBJECT_ALLOCATION_FAILURE : CL_OUT_OF_RESOURCES;
    case K_ENQUEUE:
    case K_WRITE:
    case K_WAIT: {
        static const cl_int queue_errors[] = {CL_OUT_OF_RESOURCES, CL_INVALID_COMMAND_QUEUE, CL_OUT_OF_HOST_MEMORY,
                                              CL_MEM_OBJECT_ALLOCATION_FAILURE};
        if (kind == K_WAIT && strcmp(name, "clWaitForEvents") == 0)
            return k % 2 ? CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST : CL_OUT_OF_RESOURCES;
        return queue_errors[k % 4];
    }
    default:
        return k % 2 ? CL_OUT_OF_HOST_MEMORY : CL_OUT_OF_RESOURCES;
    }
}

/* ---- which calls count ---------------------------------------------------------------------- */

/* The caller's library file name when it is one of CLFAULT_FROM's, else NULL. */
static const char *from_counted_library(void *caller) {
    Dl_info info;
    if (!dladdr(caller, &info) || !info.dli_fname)
        return NULL;
    const char *file = strrchr(info.dli_fname, '/');
    file = file ? file + 1 : info.dli_fname;
    char list[sizeof config.from];
    memcpy(list, config.from, sizeof list);
    char *save = NULL;
    for (char *part = strtok_r(list, ":", &save); part; part = strtok_r(NULL, ":", &save))
        if (strstr(file, part))
            return file;
    return NULL;
}

/* Counts a call; returns the error it must fail with, or CL_SUCCESS. */
static cl_int enter(const char *name, void *caller, enum kind kind, bool *counted) {
    const char *library = from_counted_library(caller);
    *counted = library != NULL;
    if (!library)
        return CL_SUCCESS;
    cl_int inject = CL_SUCCESS;
    pthread_mutex_lock(&lock);
    if (kind == K_RELEASE) {
        releases++;
        if (config.trace)
            fprintf(config.trace, "- %s\n", name);
        pthread_mutex_unlock(&lock);
        return CL_SUCCESS;
    }
    unsigned long k = ++calls;
    if (config.trace)
        fprintf(config.trace, "%lu %s\n", k, name);
    bool match = !config.call[0] || strcmp(config.call, name) == 0;
    if (match && ++matching == config.at && !fired.done) {
        inject = config.error ? config.error : auto_error(kind, name, k);
        fired.done = true;
        fired.at = k;
        fired.error = inject;
        snprintf(fired.call, sizeof fired.call, "%s", name);
        snprintf(fired.library, sizeof fired.library, "%s", library);
    }
    pthread_mutex_unlock(&lock);
    return inject;
}

static void count_write(bool counted, cl_int err) {
    if (!counted || err != CL_SUCCESS)
        return;
    pthread_mutex_lock(&lock);
    writes++;
    pthread_mutex_unlock(&lock);
}

/* ---- object references ---------------------------------------------------------------------- */

enum type { T_CONTEXT, T_QUEUE, T_MEM, T_PROGRAM, T_KERNEL, T_EVENT, T_SAMPLER, T_COUNT };
static const char *const type_names[T_COUNT] = {"context", "queue", "mem", "program", "kernel", "event", "sampler"};

struct object {
    const void *handle;
    enum type type;
    long refs;
    char call[48]; /* the call that made it (or first retained it) */
};

static struct object *objects;
static size_t object_count, object_capacity;
static unsigned long created[T_COUNT], released[T_COUNT], unmatched_releases;

static struct object *find(const void *handle) {
    for (size_t i = 0; i < object_count; ++i)
        if (objects[i].handle == handle)
            return &objects[i];
    return NULL;
}

static void track_add(bool counted, enum type type, const void *handle, const char *call) {
    if (!counted || !handle)
        return;
    pthread_mutex_lock(&lock);
    struct object *o = find(handle);
    if (o) {
        o->refs++;
    } else if (object_count < object_capacity ||
               (objects = realloc(objects, (object_capacity = object_capacity ? 2 * object_capacity : 256) *
                                               sizeof *objects)) != NULL) {
        o = &objects[object_count++];
        o->handle = handle;
        o->type = type;
        o->refs = 1;
        snprintf(o->call, sizeof o->call, "%s", call);
    }
    created[type]++;
    pthread_mutex_unlock(&lock);
}

static void track_release(bool counted, enum type type, const void *handle, cl_int err) {
    if (!counted || !handle || err != CL_SUCCESS)
        return;
    pthread_mutex_lock(&lock);
    struct object *o = find(handle);
    released[type]++;
    if (!o) {
        unmatched_releases++;
    } else if (--o->refs == 0) {
        *o = objects[--object_count];
    }
    pthread_mutex_unlock(&lock);
}

/* ---- what a test asks (looked up with dlsym, so it runs without the shim too) ----------------- */

EXPORT unsigned long clfault_calls(void) {
    pthread_mutex_lock(&lock);
    unsigned long n = calls;
    pthread_mutex_unlock(&lock);
    return n;
}

EXPORT unsigned long clfault_writes(void) {
    pthread_mutex_lock(&lock);
    unsigned long n = writes;
    pthread_mutex_unlock(&lock);
    return n;
}

/* Whether the fault has fired; if so, which call, with what error, at which count. */
EXPORT int clfault_fired(const char **call, cl_int *error, unsigned long *at) {
    pthread_mutex_lock(&lock);
    int done = fired.done;
    if (done) {
        *call = fired.call;
        *error = fired.error;
        *at = fired.at;
    }
    pthread_mutex_unlock(&lock);
    return done;
}

EXPORT const char *clfault_fired_library(void) {
    pthread_mutex_lock(&lock);
    const char *library = fired.done ? fired.library : "";
    pthread_mutex_unlock(&lock);
    return library;
}

/* The live objects (created or retained and not yet released) and releases of objects never
 * seen; describes them in `text`. */
EXPORT size_t clfault_live(char *text, size_t size) {
    pthread_mutex_lock(&lock);
    size_t live = object_count;
    size_t used = 0;
    if (size > 0)
        text[0] = '\0';
    for (size_t i = 0; i < object_count && used + 1 < size; ++i) {
        int w = snprintf(text + used, size - used, "%s%s from %s (%ld refs)", i ? ", " : "",
                         type_names[objects[i].type], objects[i].call, objects[i].refs);
        used = w < 0 ? size : used + (size_t)w;
    }
    if (unmatched_releases && used + 1 < size)
        snprintf(text + used, size - used, "%s%lu releases of objects never created", used ? "; " : "",
                 unmatched_releases);
    live += unmatched_releases;
    pthread_mutex_unlock(&lock);
    return live;
}

__attribute__((destructor)) static void write_report(void) {
    if (config.trace)
        fclose(config.trace);
    if (!config.report[0])
        return;
    FILE *f = fopen(config.report, "w");
    if (!f)
        return;
    fprintf(f, "calls %lu releases %lu\n", calls, releases);
    if (fired.done)
        fprintf(f, "fired %lu %s %s\n", fired.at, fired.call, clfault_error_name(fired.error));
    for (int t = 0; t < T_COUNT; ++t)
        fprintf(f, "%s created %lu released %lu\n", type_names[t], created[t], released[t]);
    char live[4096];
    fprintf(f, "live %zu %s\n", clfault_live(live, sizeof live), live);
    fclose(f);
}

/* ---- the entry points ----------------------------------------------------------------------- */

static void *resolve(void **slot, const char *name) {
    void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!p) {
        p = dlsym(RTLD_NEXT, name);
        __atomic_store_n(slot, p, __ATOMIC_RELEASE);
    }
    return p;
}
#define REAL(name) ((__typeof__(&name))resolve(&real_##name, #name))

/* A call returning cl_int, with `after` run on the forwarded result (err). */
#define WRAP_INT(kind, name, params, args, after)                                                                      \
    static void *real_##name;                                                                                          \
    EXPORT cl_int CL_API_CALL name params {                                                                            \
        bool counted;                                                                                                  \
        cl_int inject = enter(#name, CALLER, kind, &counted);                                                          \
        if (inject != CL_SUCCESS && kind != K_WAIT)                                                                    \
            return inject;                                                                                             \
        cl_int err = REAL(name) args;                                                                                  \
        after;                                                                                                         \
        if (kind == K_WRITE)                                                                                           \
            count_write(counted, err);                                                                                 \
        return inject != CL_SUCCESS ? inject : err;                                                                    \
    }

/* A call returning an object (or a mapped pointer) through errcode_ret. */
#define WRAP_OBJ(kind, rtype, otype, name, params, args)                                                               \
    static void *real_##name;                                                                                          \
    EXPORT rtype CL_API_CALL name params {                                                                             \
        bool counted;                                                                                                  \
        cl_int inject = enter(#name, CALLER, kind, &counted);                                                          \
        if (inject != CL_SUCCESS) {                                                                                    \
            if (errcode_ret)                                                                                           \
                *errcode_ret = inject;                                                                                 \
            return NULL;                                                                                               \
        }                                                                                                              \
        rtype made = REAL(name) args;                                                                                  \
        if ((int)(otype) < T_COUNT)                                                                                    \
            track_add(counted, (enum type)(otype), (const void *)made, #name);                                         \
        return made;                                                                                                   \
    }

#define RETAIN(otype, name, ctype)                                                                                     \
    WRAP_INT(K_CALL, name, (ctype object), (object), if (err == CL_SUCCESS) track_add(counted, otype, object, #name))
#define RELEASE(otype, name, ctype)                                                                                    \
    WRAP_INT(K_RELEASE, name, (ctype object), (object), track_release(counted, otype, object, err))
/* An enqueue's event, when it asked for one, is a new object. */
#define EVENT_OUT                                                                                                      \
    if (err == CL_SUCCESS && event)                                                                                    \
    track_add(counted, T_EVENT, *event, __func__)
#define NO_OBJECT T_COUNT

WRAP_INT(K_CALL, clGetPlatformIDs, (cl_uint num_entries, cl_platform_id *platforms, cl_uint *num_platforms),
         (num_entries, platforms, num_platforms), (void)0)
WRAP_INT(K_CALL, clGetPlatformInfo,
         (cl_platform_id platform, cl_platform_info param_name, size_t size, void *value, size_t *size_ret),
         (platform, param_name, size, value, size_ret), (void)0)
WRAP_INT(K_CALL, clGetDeviceIDs,
         (cl_platform_id platform, cl_device_type type, cl_uint num_entries, cl_device_id *devices,
          cl_uint *num_devices),
         (platform, type, num_entries, devices, num_devices), (void)0)
WRAP_INT(K_CALL, clGetDeviceInfo,
         (cl_device_id device, cl_device_info param_name, size_t size, void *value, size_t *size_ret),
         (device, param_name, size, value, size_ret), (void)0)
WRAP_INT(K_CALL, clGetContextInfo,
         (cl_context context, cl_context_info param_name, size_t size, void *value, size_t *size_ret),
         (context, param_name, size, value, size_ret), (void)0)
WRAP_INT(K_CALL, clGetCommandQueueInfo,
         (cl_command_queue queue, cl_command_queue_info param_name, size_t size, void *value, size_t *size_ret),
         (queue, param_name, size, value, size_ret), (void)0)
WRAP_INT(K_CALL, clGetMemObjectInfo,
         (cl_mem memobj, cl_mem_info param_name, size_t size, void *value, size_t *size_ret),
         (memobj, param_name, size, value, size_ret), (void)0)
WRAP_INT(K_CALL, clGetProgramInfo,
         (cl_program program, cl_program_info param_name, size_t size, void *value, size_t *size_ret),
         (program, param_name, size, value, size_ret), (void)0)
WRAP_INT(K_CALL, clGetProgramBuildInfo,
         (cl_program program, cl_device_id device, cl_program_build_info param_name, size_t size, void *value,
          size_t *size_ret),
         (program, device, param_name, size, value, size_ret), (void)0)
WRAP_INT(K_CALL, clGetKernelInfo,
         (cl_kernel kernel, cl_kernel_info param_name, size_t size, void *value, size_t *size_ret),
         (kernel, param_name, size, value, size_ret), (void)0)
WRAP_INT(K_CALL, clGetKernelWorkGroupInfo,
         (cl_kernel kernel, cl_device_id device, cl_kernel_work_group_info param_name, size_t size, void *value,
          size_t *size_ret),
         (kernel, device, param_name, size, value, size_ret), (void)0)
WRAP_INT(K_CALL, clGetEventInfo, (cl_event event, cl_event_info param_name, size_t size, void *value, size_t *size_ret),
         (event, param_name, size, value, size_ret), (void)0)
WRAP_INT(K_CALL, clGetEventProfilingInfo,
         (cl_event event, cl_profiling_info param_name, size_t size, void *value, size_t *size_ret),
         (event, param_name, size, value, size_ret), (void)0)

WRAP_OBJ(K_CALL, cl_context, T_CONTEXT, clCreateContext,
         (const cl_context_properties *properties, cl_uint num_devices, const cl_device_id *devices,
          void(CL_CALLBACK *pfn_notify)(const char *, const void *, size_t, void *), void *user_data,
          cl_int *errcode_ret),
         (properties, num_devices, devices, pfn_notify, user_data, errcode_ret))
WRAP_OBJ(K_CALL, cl_context, T_CONTEXT, clCreateContextFromType,
         (const cl_context_properties *properties, cl_device_type device_type,
          void(CL_CALLBACK *pfn_notify)(const char *, const void *, size_t, void *), void *user_data,
          cl_int *errcode_ret),
         (properties, device_type, pfn_notify, user_data, errcode_ret))
WRAP_OBJ(K_CALL, cl_command_queue, T_QUEUE, clCreateCommandQueue,
         (cl_context context, cl_device_id device, cl_command_queue_properties properties, cl_int *errcode_ret),
         (context, device, properties, errcode_ret))
WRAP_OBJ(K_CALL, cl_command_queue, T_QUEUE, clCreateCommandQueueWithProperties,
         (cl_context context, cl_device_id device, const cl_queue_properties *properties, cl_int *errcode_ret),
         (context, device, properties, errcode_ret))
WRAP_OBJ(K_ALLOC, cl_mem, T_MEM, clCreateBuffer,
         (cl_context context, cl_mem_flags flags, size_t size, void *host_ptr, cl_int *errcode_ret),
         (context, flags, size, host_ptr, errcode_ret))
WRAP_OBJ(K_ALLOC, cl_mem, T_MEM, clCreateSubBuffer,
         (cl_mem buffer, cl_mem_flags flags, cl_buffer_create_type type, const void *info, cl_int *errcode_ret),
         (buffer, flags, type, info, errcode_ret))
WRAP_OBJ(K_CALL, cl_program, T_PROGRAM, clCreateProgramWithSource,
         (cl_context context, cl_uint count, const char **strings, const size_t *lengths, cl_int *errcode_ret),
         (context, count, strings, lengths, errcode_ret))
WRAP_OBJ(K_CALL, cl_program, T_PROGRAM, clCreateProgramWithBinary,
         (cl_context context, cl_uint num_devices, const cl_device_id *devices, const size_t *lengths,
          const unsigned char **binaries, cl_int *binary_status, cl_int *errcode_ret),
         (context, num_devices, devices, lengths, binaries, binary_status, errcode_ret))
WRAP_OBJ(K_CALL, cl_kernel, T_KERNEL, clCreateKernel,
         (cl_program program, const char *kernel_name, cl_int *errcode_ret), (program, kernel_name, errcode_ret))
WRAP_OBJ(K_CALL, cl_event, T_EVENT, clCreateUserEvent, (cl_context context, cl_int *errcode_ret),
         (context, errcode_ret))
WRAP_OBJ(K_ENQUEUE, void *, NO_OBJECT, clEnqueueMapBuffer,
         (cl_command_queue queue, cl_mem buffer, cl_bool blocking, cl_map_flags flags, size_t offset, size_t size,
          cl_uint num_events, const cl_event *wait_list, cl_event *event, cl_int *errcode_ret),
         (queue, buffer, blocking, flags, offset, size, num_events, wait_list, event, errcode_ret))

WRAP_INT(K_BUILD, clBuildProgram,
         (cl_program program, cl_uint num_devices, const cl_device_id *devices, const char *options,
          void(CL_CALLBACK *pfn_notify)(cl_program, void *), void *user_data),
         (program, num_devices, devices, options, pfn_notify, user_data), (void)0)
WRAP_INT(K_CALL, clSetKernelArg, (cl_kernel kernel, cl_uint index, size_t size, const void *value),
         (kernel, index, size, value), (void)0)
WRAP_INT(K_CALL, clSetUserEventStatus, (cl_event event, cl_int status), (event, status), (void)0)

WRAP_INT(K_WRITE, clEnqueueNDRangeKernel,
         (cl_command_queue queue, cl_kernel kernel, cl_uint work_dim, const size_t *offset, const size_t *global,
          const size_t *local, cl_uint num_events, const cl_event *wait_list, cl_event *event),
         (queue, kernel, work_dim, offset, global, local, num_events, wait_list, event), EVENT_OUT)
WRAP_INT(K_ENQUEUE, clEnqueueReadBuffer,
         (cl_command_queue queue, cl_mem buffer, cl_bool blocking, size_t offset, size_t size, void *ptr,
          cl_uint num_events, const cl_event *wait_list, cl_event *event),
         (queue, buffer, blocking, offset, size, ptr, num_events, wait_list, event), EVENT_OUT)
WRAP_INT(K_ENQUEUE, clEnqueueWriteBuffer,
         (cl_command_queue queue, cl_mem buffer, cl_bool blocking, size_t offset, size_t size, const void *ptr,
          cl_uint num_events, const cl_event *wait_list, cl_event *event),
         (queue, buffer, blocking, offset, size, ptr, num_events, wait_list, event), EVENT_OUT)
WRAP_INT(K_WRITE, clEnqueueCopyBuffer,
         (cl_command_queue queue, cl_mem src, cl_mem dst, size_t src_offset, size_t dst_offset, size_t size,
          cl_uint num_events, const cl_event *wait_list, cl_event *event),
         (queue, src, dst, src_offset, dst_offset, size, num_events, wait_list, event), EVENT_OUT)
WRAP_INT(K_WRITE, clEnqueueFillBuffer,
         (cl_command_queue queue, cl_mem buffer, const void *pattern, size_t pattern_size, size_t offset, size_t size,
          cl_uint num_events, const cl_event *wait_list, cl_event *event),
         (queue, buffer, pattern, pattern_size, offset, size, num_events, wait_list, event), EVENT_OUT)
WRAP_INT(K_ENQUEUE, clEnqueueUnmapMemObject,
         (cl_command_queue queue, cl_mem memobj, void *mapped, cl_uint num_events, const cl_event *wait_list,
          cl_event *event),
         (queue, memobj, mapped, num_events, wait_list, event), EVENT_OUT)
WRAP_INT(K_ENQUEUE, clEnqueueMarkerWithWaitList,
         (cl_command_queue queue, cl_uint num_events, const cl_event *wait_list, cl_event *event),
         (queue, num_events, wait_list, event), EVENT_OUT)
WRAP_INT(K_ENQUEUE, clEnqueueBarrierWithWaitList,
         (cl_command_queue queue, cl_uint num_events, const cl_event *wait_list, cl_event *event),
         (queue, num_events, wait_list, event), EVENT_OUT)
WRAP_INT(K_ENQUEUE, clFlush, (cl_command_queue queue), (queue), (void)0)
WRAP_INT(K_WAIT, clFinish, (cl_command_queue queue), (queue), (void)0)
WRAP_INT(K_WAIT, clWaitForEvents, (cl_uint num_events, const cl_event *events), (num_events, events), (void)0)

RETAIN(T_CONTEXT, clRetainContext, cl_context)
RETAIN(T_QUEUE, clRetainCommandQueue, cl_command_queue)
RETAIN(T_MEM, clRetainMemObject, cl_mem)
RETAIN(T_PROGRAM, clRetainProgram, cl_program)
RETAIN(T_KERNEL, clRetainKernel, cl_kernel)
RETAIN(T_EVENT, clRetainEvent, cl_event)
RELEASE(T_CONTEXT, clReleaseContext, cl_context)
RELEASE(T_QUEUE, clReleaseCommandQueue, cl_command_queue)
RELEASE(T_MEM, clReleaseMemObject, cl_mem)
RELEASE(T_PROGRAM, clReleaseProgram, cl_program)
RELEASE(T_KERNEL, clReleaseKernel, cl_kernel)
RELEASE(T_EVENT, clReleaseEvent, cl_event)
