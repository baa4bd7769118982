/* The fault scenario: every public op on an OpenCL device, each result compared bit for bit
 * with the CPU backend. Run under the clfault shim (tests/fault/clfault.c) with CLFAULT_AT=k,
 * it checks what a failing OpenCL call must leave behind: the public call that met the fault
 * returns the status its error maps to, with a message naming the OpenCL call and its error;
 * an op that enqueued nothing before failing changed none of its outputs and no out argument;
 * the same context then redoes the step and the rest of the scenario, with exact results; and
 * once everything is released, no OpenCL object leakycl made or retained is left.
 *
 * usage: scenario            (LD_PRELOAD=libclfault.so; CLFAULT_* as clfault.c describes)
 * Prints one line: "calls=N" without a fault, else "k=.. call=.. error=.. step=.. outcome=..",
 * with outcome "reported" (the call failed as it should, then the step was redone), "absorbed"
 * (the library tolerated the fault and the results were still exact) or "missed" (k is past the
 * scenario's calls). Exits 1, with the reasons on stderr, when a check fails. */
#include "scenario.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the shim's queries (absent without the shim) -------------------------------------------- */

static struct {
    unsigned long (*calls)(void);
    unsigned long (*writes)(void);
    int (*fired)(const char **call, cl_int *error, unsigned long *at);
    size_t (*live)(char *text, size_t size);
    const char *(*error_name)(cl_int code);
    const char *(*fired_library)(void);
} shim;

static void shim_load(void) {
    shim.calls = (unsigned long (*)(void))dlsym(RTLD_DEFAULT, "clfault_calls");
    shim.writes = (unsigned long (*)(void))dlsym(RTLD_DEFAULT, "clfault_writes");
    shim.fired = (int (*)(const char **, cl_int *, unsigned long *))dlsym(RTLD_DEFAULT, "clfault_fired");
    shim.live = (size_t(*)(char *, size_t))dlsym(RTLD_DEFAULT, "clfault_live");
    shim.error_name = (const char *(*)(cl_int))dlsym(RTLD_DEFAULT, "clfault_error_name");
    shim.fired_library = (const char *(*)(void))dlsym(RTLD_DEFAULT, "clfault_fired_library");
}

static bool shim_present(void) {
    return shim.calls && shim.writes && shim.fired && shim.live && shim.error_name && shim.fired_library;
}

static bool fault_fired(void) {
    const char *call;
    cl_int error;
    unsigned long at;
    return shim_present() && shim.fired(&call, &error, &at);
}

static unsigned long writes_now(void) { return shim_present() ? shim.writes() : 0; }

/* ---- failures of the checks ------------------------------------------------------------------ */

static int problems;

void scenario_problem(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    fputs("FAIL: ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
    problems++;
}

/* ---- the steps, the harness ------------------------------------------------------------------ */

/* What the fault did, for the summary line. */
static struct {
    const char *step;
    const char *outcome;
    lcl_status status;
} result = {"-", "none", LCL_SUCCESS};

/* The status a failed OpenCL call must turn into (DESIGN.md: allocation failures are out of
 * memory, a failed build is a build failure, anything else is an OpenCL failure). */
static lcl_status expected_status(const char *call, cl_int error) {
    if (strcmp(call, "clBuildProgram") == 0 && error == CL_BUILD_PROGRAM_FAILURE)
        return LCL_ERROR_BUILD_FAILED;
    if (error == CL_MEM_OBJECT_ALLOCATION_FAILURE || error == CL_OUT_OF_HOST_MEMORY)
        return LCL_ERROR_OUT_OF_MEMORY;
    return LCL_ERROR_OPENCL;
}

/* A call CLBlast made: CLBlast returns its own status, which leakycl reports as a BLAS failure
 * naming the CLBlast routine (CLBlast does not say which OpenCL call failed). */
static void check_blas_report(const struct scenario_step *step, lcl_status st, const char *message) {
    if (st != LCL_ERROR_BLAS || !strstr(message, "CLBlast"))
        scenario_problem("%s: a fault inside CLBlast gave %s, expected LCL_ERROR_BLAS naming the CLBlast call: \"%s\"",
                         step->name, lcl_status_string(st), message);
}

static void check_report(const struct scenario_step *step, lcl_status st, const char *message) {
    const char *call;
    cl_int error;
    unsigned long at;
    shim.fired(&call, &error, &at);
    if (strstr(shim.fired_library(), "clblast")) {
        check_blas_report(step, st, message);
        return;
    }
    lcl_status want = expected_status(call, error);
    if (st != want)
        scenario_problem("%s: %s failing with %s gave %s, expected %s (%s)", step->name, call, shim.error_name(error),
                         lcl_status_string(st), lcl_status_string(want), message);
    if (!strstr(message, call) || !strstr(message, shim.error_name(error)))
        scenario_problem("%s: the message does not name %s and %s: \"%s\"", step->name, call, shim.error_name(error),
                         message);
}

/* One try of a step on the device side: outputs set to their starting images, the op, the
 * outputs read back. *op_wrote says whether a command that may write a buffer was enqueued
 * during the op; *in_op whether the failure, if any, came from the op. */
static lcl_status attempt(const struct scenario_step *step, struct side *s, bool *in_op, bool *op_wrote) {
    *in_op = false;
    *op_wrote = false;
    lcl_status st = side_prepare(s, step);
    if (st != LCL_SUCCESS)
        return st;
    unsigned long before = writes_now();
    st = step->op(s);
    *op_wrote = writes_now() != before;
    if (st != LCL_SUCCESS) {
        *in_op = true;
        return st;
    }
    return side_collect(s, step);
}

static void run_step(const struct scenario_step *step, struct side *dev, struct side *ref) {
    lcl_status st = side_prepare(ref, step);
    if (st == LCL_SUCCESS)
        st = step->op(ref);
    if (st == LCL_SUCCESS)
        st = side_collect(ref, step);
    if (st != LCL_SUCCESS) {
        scenario_problem("%s on the CPU backend: %s (%s)", step->name, lcl_status_string(st), lcl_last_error());
        return;
    }
    bool fired_before = fault_fired();
    bool in_op, op_wrote;
    st = attempt(step, dev, &in_op, &op_wrote);
    if (st != LCL_SUCCESS) {
        char *message = strdup(lcl_last_error());
        if (fired_before || !fault_fired()) {
            scenario_problem("%s failed without a fault: %s (%s)", step->name, lcl_status_string(st),
                             message ? message : "");
            free(message);
            return;
        }
        result.step = step->name;
        result.outcome = "reported";
        result.status = st;
        check_report(step, st, message ? message : "");
        free(message);
        if (in_op && !op_wrote)
            side_check_unchanged(dev, step);
        st = attempt(step, dev, &in_op, &op_wrote);
        if (st != LCL_SUCCESS) {
            scenario_problem("%s failed again after the fault: %s (%s)", step->name, lcl_status_string(st),
                             lcl_last_error());
            return;
        }
    } else if (!fired_before && fault_fired()) {
        result.step = step->name;
        result.outcome = "absorbed";
    }
    side_compare(dev, ref, step);
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void check_leaks(void) {
    char text[4096];
    size_t live = shim.live(text, sizeof text);
    if (live > 0)
        scenario_problem("%zu OpenCL objects left after every release: %s", live, text);
}

int main(void) {
    shim_load();
    struct side dev, ref;
    side_init(&dev, false);
    side_init(&ref, true);
    size_t count = 0;
    const struct scenario_step *steps = scenario_steps(&count);
    bool verbose = getenv("SCENARIO_VERBOSE") != NULL;
    for (size_t i = 0; i < count && problems == 0; ++i) {
        double start = seconds();
        run_step(&steps[i], &dev, &ref);
        if (verbose)
            fprintf(stderr, "%-32s %.3f s\n", steps[i].name, seconds() - start);
    }
    bool fired_before_release = fault_fired();
    side_release(&dev);
    side_release(&ref);
    if (!fired_before_release && fault_fired()) {
        /* The release functions cannot report: the fault must only not leak or crash. */
        result.step = "lcl_context_release";
        result.outcome = "absorbed";
    }
    if (!shim_present()) {
        printf("no shim: %s\n", problems ? "failed" : "passed");
        return problems ? 1 : 0;
    }
    check_leaks();
    const char *call;
    cl_int error;
    unsigned long at;
    if (!shim.fired(&call, &error, &at)) {
        if (getenv("CLFAULT_AT") && strtoul(getenv("CLFAULT_AT"), NULL, 10) > 0)
            result.outcome = "missed";
        printf("calls=%lu outcome=%s\n", shim.calls(), result.outcome);
    } else {
        printf("k=%lu call=%s error=%s step=%s outcome=%s status=%s\n", at, call, shim.error_name(error), result.step,
               result.outcome, lcl_status_string(result.status));
    }
    fflush(stdout);
    return problems ? 1 : 0;
}
