/* Contexts: device specs, $LEAKYCL_DEVICE, wrapping the app's queue, release, the per-thread
 * error slot, status names and capability queries. */
#include "common.h"

#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <time.h>

/* Creates a context from spec, asserting success, and checks its backend. */
static lcl_context *create_on(const char *spec, lcl_backend want) {
    lcl_context *ctx = NULL;
    lcl_status status = lcl_context_create(spec, &ctx);
    char *message = strdup(lcl_last_error());
    cr_assert(status == LCL_SUCCESS && ctx, "lcl_context_create(\"%s\"): %s: %s", spec ? spec : "NULL",
              lcl_status_string(status), message);
    free(message);
    cr_assert(lcl_context_backend(ctx) == want, "spec \"%s\" gave backend %d (%s), expected %d", spec ? spec : "NULL",
              (int)lcl_context_backend(ctx), lcl_context_device_name(ctx), (int)want);
    cr_assert(lcl_context_device_name(ctx)[0] != '\0', "spec \"%s\": empty device name", spec ? spec : "NULL");
    return ctx;
}

/* A forward on 1000 random f32 values, checked bit for bit: the context really works. */
static void context_computes(lcl_context *ctx) {
    test_rng rng;
    rng_init(&rng, 0);
    float x[1000];
    fill_random(LCL_F32, x, 1000, 0.01, &rng);
    void *y = run_forward(ctx, LCL_F32, 0.01, 1000, x);
    check_forward(LCL_F32, 0.01, 1000, x, y, "on %s", lcl_context_device_name(ctx));
    free(y);
}

Test(context, cpu_spec) {
    lcl_context *ctx = create_on("cpu", LCL_BACKEND_CPU);
    cr_assert(strncmp(lcl_context_device_name(ctx), "CPU backend", 11) == 0, "CPU backend named \"%s\"",
              lcl_context_device_name(ctx));
    cr_assert(lcl_context_cl_queue(ctx) == NULL && lcl_context_cl_context(ctx) == NULL &&
                  lcl_context_cl_device(ctx) == NULL,
              "the CPU backend has OpenCL objects");
    context_computes(ctx);
    OK(lcl_finish(ctx));
    lcl_context_release(ctx);
}

/* "auto": the first GPU, else the first OpenCL device, else the CPU backend. */
Test(context, auto_spec) {
    lcl_backend want = opencl_device_count(CL_DEVICE_TYPE_ALL) > 0 ? LCL_BACKEND_OPENCL : LCL_BACKEND_CPU;
    lcl_context *ctx = create_on("auto", want);
    context_computes(ctx);
    lcl_context_release(ctx);
}

Test(context, opencl_specs) {
    lcl_context *first = create_on("opencl", LCL_BACKEND_OPENCL);
    lcl_context *indexed = create_on("opencl:0:0", LCL_BACKEND_OPENCL);
    cr_assert_str_eq(lcl_context_device_name(first), lcl_context_device_name(indexed));
    cr_assert(lcl_context_cl_queue(first) && lcl_context_cl_context(first) && lcl_context_cl_device(first));
    cr_assert(lcl_context_cl_device(first) == lcl_context_cl_device(indexed), "\"opencl\" and \"opencl:0:0\" differ");
    context_computes(first);
    context_computes(indexed);
    OK(lcl_finish(first));
    lcl_context_release(first);
    lcl_context_release(indexed);
}

/* "gpu" finds a GPU when there is one; PoCL's CPU device is not. */
Test(context, gpu_spec) {
    lcl_context *ctx = (lcl_context *)&ctx; /* a sentinel: a failed create must leave it */
    lcl_status status = lcl_context_create("gpu", &ctx);
    if (opencl_device_count(CL_DEVICE_TYPE_GPU) > 0) {
        OK(status);
        cr_assert(is_opencl(ctx));
        lcl_context_release(ctx);
    } else {
        EXPECT_STATUS(status, LCL_ERROR_DEVICE_NOT_FOUND);
        cr_assert(ctx == (lcl_context *)&ctx, "a failed create wrote its out argument");
    }
}

/* NULL reads $LEAKYCL_DEVICE, and means "auto" when it is unset or empty. */
Test(context, null_spec_reads_environment) {
    lcl_backend auto_backend = opencl_device_count(CL_DEVICE_TYPE_ALL) > 0 ? LCL_BACKEND_OPENCL : LCL_BACKEND_CPU;
    setenv("LEAKYCL_DEVICE", "cpu", 1);
    lcl_context_release(create_on(NULL, LCL_BACKEND_CPU));
    setenv("LEAKYCL_DEVICE", "opencl", 1);
    lcl_context_release(create_on(NULL, LCL_BACKEND_OPENCL));
    setenv("LEAKYCL_DEVICE", "", 1);
    lcl_context_release(create_on(NULL, auto_backend));
    unsetenv("LEAKYCL_DEVICE");
    lcl_context_release(create_on(NULL, auto_backend));
    setenv("LEAKYCL_DEVICE", "bogus", 1);
    lcl_context *ctx = (lcl_context *)&ctx;
    EXPECT_STATUS(lcl_context_create(NULL, &ctx), LCL_ERROR_INVALID_ARGUMENT);
}

Test(context, bad_specs) {
    static const struct {
        const char *spec;
        lcl_status want;
    } cases[] = {
        {"", LCL_ERROR_INVALID_ARGUMENT},
        {"bogus", LCL_ERROR_INVALID_ARGUMENT},
        {"opencl:", LCL_ERROR_INVALID_ARGUMENT},
        {"opencl:x:0", LCL_ERROR_INVALID_ARGUMENT},
        {"opencl:0", LCL_ERROR_INVALID_ARGUMENT},
        {"opencl:0:", LCL_ERROR_INVALID_ARGUMENT},
        {"opencl:0:0x", LCL_ERROR_INVALID_ARGUMENT},
        {"opencl:-1:0", LCL_ERROR_INVALID_ARGUMENT},
        {"cpu ", LCL_ERROR_INVALID_ARGUMENT},
        {"opencl:99:0", LCL_ERROR_DEVICE_NOT_FOUND},
        {"opencl:0:99", LCL_ERROR_DEVICE_NOT_FOUND},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        lcl_context *ctx = (lcl_context *)&ctx;
        lcl_status status = lcl_context_create(cases[i].spec, &ctx);
        char *message = strdup(lcl_last_error());
        cr_assert(status == cases[i].want, "spec \"%s\": %s, expected %s (%s)", cases[i].spec,
                  lcl_status_string(status), lcl_status_string(cases[i].want), message);
        cr_assert(message[0] != '\0', "spec \"%s\": no message", cases[i].spec);
        cr_assert(ctx == (lcl_context *)&ctx, "spec \"%s\": a failed create wrote its out argument", cases[i].spec);
        free(message);
    }
    EXPECT_STATUS(lcl_context_create("cpu", NULL), LCL_ERROR_INVALID_ARGUMENT);
}

/* ---- the app's queue ---------------------------------------------------------------------- */

static cl_uint queue_refs(cl_command_queue queue) {
    cl_uint refs = 0;
    cl_int err = clGetCommandQueueInfo(queue, CL_QUEUE_REFERENCE_COUNT, sizeof refs, &refs, NULL);
    cr_assert(err == CL_SUCCESS, "clGetCommandQueueInfo: %d", err);
    return refs;
}

Test(context, wrap_app_queue) {
    app_cl app;
    app_cl_open(&app);
    cl_uint refs_before = queue_refs(app.queue);
    lcl_context *ctx = NULL;
    OK(lcl_context_wrap_cl(app.queue, &ctx));
    cr_assert(is_opencl(ctx));
    cr_assert(lcl_context_cl_queue(ctx) == app.queue, "the wrapped context enqueues elsewhere");
    cr_assert(lcl_context_cl_context(ctx) == app.context && lcl_context_cl_device(ctx) == app.device);
    cr_assert(lcl_context_device_name(ctx)[0] != '\0');
    context_computes(ctx);
    OK(lcl_finish(ctx));
    lcl_context_release(ctx);
    /* The app still owns a working queue, with the references it had. */
    cr_assert(clFinish(app.queue) == CL_SUCCESS, "the app's queue broke when the context was released");
    /* PoCL drops its own references to finished commands a little later, on another thread:
     * give it up to two seconds to settle before comparing. */
    for (int wait = 0; wait < 200 && queue_refs(app.queue) != refs_before; ++wait)
        thrd_sleep(&(struct timespec){.tv_sec = 0, .tv_nsec = 10000000}, NULL);
    cr_assert(queue_refs(app.queue) == refs_before, "queue references: %u before wrapping, %u after release",
              refs_before, queue_refs(app.queue));
    app_cl_close(&app);
}

/* Work the app enqueues and leakycl's ops run in one order on the shared queue. */
Test(context, wrap_app_queue_with_app_buffer) {
    app_cl app;
    app_cl_open(&app);
    lcl_context *ctx = NULL;
    OK(lcl_context_wrap_cl(app.queue, &ctx));
    float x[257];
    test_rng rng;
    rng_init(&rng, 0);
    fill_random(LCL_F32, x, 257, 2.5, &rng);
    cl_mem buffer = app_buffer(app.context, sizeof x);
    cr_assert(clEnqueueWriteBuffer(app.queue, buffer, CL_FALSE, 0, sizeof x, x, 0, NULL, NULL) == CL_SUCCESS);
    lcl_tensor *t = NULL;
    OK(lcl_tensor_wrap_cl(ctx, LCL_F32, buffer, 0, 257, &t));
    OK(lcl_forward(ctx, 2.5, t, t));
    float y[257];
    cr_assert(clEnqueueReadBuffer(app.queue, buffer, CL_TRUE, 0, sizeof y, y, 0, NULL, NULL) == CL_SUCCESS);
    check_forward(LCL_F32, 2.5, 257, x, y, "in place on the app's buffer and queue");
    lcl_tensor_release(t);
    lcl_context_release(ctx);
    clReleaseMemObject(buffer);
    app_cl_close(&app);
}

Test(context, wrap_bad_arguments) {
    app_cl app;
    app_cl_open(&app);
    lcl_context *ctx = (lcl_context *)&ctx;
    EXPECT_STATUS(lcl_context_wrap_cl(NULL, &ctx), LCL_ERROR_INVALID_ARGUMENT);
    EXPECT_STATUS(lcl_context_wrap_cl(app.queue, NULL), LCL_ERROR_INVALID_ARGUMENT);
    cr_assert(ctx == (lcl_context *)&ctx);
    app_cl_close(&app);
}

Test(context, null_context) {
    lcl_context_release(NULL);
    cr_assert(lcl_context_backend(NULL) == LCL_BACKEND_CPU);
    cr_assert_str_eq(lcl_context_device_name(NULL), "");
    cr_assert(lcl_context_cl_queue(NULL) == NULL && lcl_context_cl_context(NULL) == NULL &&
              lcl_context_cl_device(NULL) == NULL);
    EXPECT_STATUS(lcl_finish(NULL), LCL_ERROR_INVALID_ARGUMENT);
}

/* ---- capabilities ------------------------------------------------------------------------- */

static int device_has_fp64(cl_device_id device) {
    char extensions[8192] = "";
    cr_assert(clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, sizeof extensions - 1, extensions, NULL) == CL_SUCCESS);
    return strstr(extensions, "cl_khr_fp64") != NULL;
}

/* Every float dtype runs, except F64 where an OpenCL device lacks cl_khr_fp64. */
Test(context, supports) {
    lcl_context *ctx = test_context();
    int fp64 = !is_opencl(ctx) || device_has_fp64(lcl_context_cl_device(ctx));
    cr_assert(lcl_context_supports(ctx, LCL_F32) && lcl_context_supports(ctx, LCL_F16) &&
              lcl_context_supports(ctx, LCL_BF16));
    cr_assert(!lcl_context_supports(ctx, LCL_F64) == !fp64, "supports(F64) = %d, device fp64 = %d",
              lcl_context_supports(ctx, LCL_F64), fp64);
    cr_assert(!lcl_context_supports(ctx, (lcl_dtype)99));
    if (!fp64) {
        lcl_tensor *t = tensor_new(ctx, LCL_F64, 8);
        EXPECT_STATUS(lcl_forward(ctx, 0.5, t, t), LCL_ERROR_UNSUPPORTED);
        lcl_tensor_release(t);
    }
    lcl_context_release(ctx);
}

/* ---- status names ------------------------------------------------------------------------- */

Test(context, status_strings) {
    static const char *const names[] = {
        "LCL_SUCCESS",
        "LCL_ERROR_INVALID_ARGUMENT",
        "LCL_ERROR_UNSUPPORTED",
        "LCL_ERROR_OUT_OF_MEMORY",
        "LCL_ERROR_DEVICE_NOT_FOUND",
        "LCL_ERROR_BUILD_FAILED",
        "LCL_ERROR_OPENCL",
        "LCL_ERROR_BLAS",
    };
    for (int s = LCL_SUCCESS; s <= LCL_ERROR_BLAS; ++s)
        cr_assert_str_eq(lcl_status_string((lcl_status)s), names[s]);
    cr_assert_str_eq(lcl_status_string((lcl_status)(LCL_ERROR_BLAS + 1)), "LCL_UNKNOWN_STATUS");
    cr_assert_str_eq(lcl_status_string((lcl_status)-1), "LCL_UNKNOWN_STATUS");
    cr_assert_str_eq(lcl_status_string((lcl_status)1000), "LCL_UNKNOWN_STATUS");
}

/* ---- the per-thread error slot ------------------------------------------------------------ */

typedef struct thread_report {
    char before[256]; /* lcl_last_error() when the thread starts */
    char after[256];  /* after its own failure */
} thread_report;

static void *fail_in_thread(void *arg) {
    thread_report *r = arg;
    snprintf(r->before, sizeof r->before, "%s", lcl_last_error());
    lcl_context *ctx = NULL;
    lcl_context_create("opencl:77:0", &ctx);
    snprintf(r->after, sizeof r->after, "%s", lcl_last_error());
    return NULL;
}

Test(context, last_error_is_per_thread) {
    cr_assert_str_eq(lcl_last_error(), "", "a fresh thread's last error is not empty");
    lcl_context *ctx = NULL;
    EXPECT_STATUS(lcl_context_create("bogus", &ctx), LCL_ERROR_INVALID_ARGUMENT);
    char *mine = strdup(lcl_last_error());

    thread_report report;
    pthread_t thread;
    cr_assert(pthread_create(&thread, NULL, fail_in_thread, &report) == 0);
    pthread_join(thread, NULL);
    cr_assert_str_eq(report.before, "", "another thread's failure shows in a new thread: \"%s\"", report.before);
    cr_assert(report.after[0] != '\0' && strcmp(report.after, mine) != 0, "the thread's own failure: \"%s\"",
              report.after);
    cr_assert_str_eq(lcl_last_error(), mine, "a failure in another thread replaced this thread's message");

    /* A successful call leaves the message as it was. */
    lcl_context *cpu = test_cpu_context();
    lcl_context_release(cpu);
    cr_assert_str_eq(lcl_last_error(), mine, "a successful call changed the last error");
    free(mine);
}
