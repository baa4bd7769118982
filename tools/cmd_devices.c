/*
 * `leakycl devices`: every OpenCL platform and device, queried through the OpenCL API, with the
 * spec that selects it; then the CPU backend; then what `auto` (and $LEAKYCL_DEVICE) picks,
 * as the library itself resolves it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR (-1001)
#endif

static const char devices_usage[] =
    "usage: leakycl devices\n"
    "\n"
    "Lists every OpenCL platform P and device D with the spec that selects it (opencl:P:D), its\n"
    "type, memory, compute units, fp16/fp64 support and whether 'leakycl tune' has tuned it (the\n"
    "tuning cache holds entries for its name, driver and OpenCL version); then the CPU backend (cpu); then the\n"
    "device that 'auto' picks (the first GPU, else the first OpenCL device, else the CPU\n"
    "backend) and, if $LEAKYCL_DEVICE is set, the one it picks.\n"
    "\n"
    "options:\n"
    "  -h, --help  show this text\n";

/* The name of an OpenCL error code, for messages. */
static const char *cl_error_name(cl_int err) {
    switch (err) {
    case CL_SUCCESS:
        return "CL_SUCCESS";
    case CL_DEVICE_NOT_FOUND:
        return "CL_DEVICE_NOT_FOUND";
    case CL_OUT_OF_RESOURCES:
        return "CL_OUT_OF_RESOURCES";
    case CL_OUT_OF_HOST_MEMORY:
        return "CL_OUT_OF_HOST_MEMORY";
    case CL_INVALID_VALUE:
        return "CL_INVALID_VALUE";
    case CL_INVALID_PLATFORM:
        return "CL_INVALID_PLATFORM";
    case CL_INVALID_DEVICE:
        return "CL_INVALID_DEVICE";
    case CL_INVALID_DEVICE_TYPE:
        return "CL_INVALID_DEVICE_TYPE";
    case CL_PLATFORM_NOT_FOUND_KHR:
        return "CL_PLATFORM_NOT_FOUND_KHR";
    default:
        return "an OpenCL error";
    }
}

/* A string property of a platform or device, malloc'ed; NULL on failure (after a message). */
static char *platform_string(cl_platform_id platform, cl_platform_info param) {
    size_t size = 0;
    if (clGetPlatformInfo(platform, param, 0, NULL, &size) != CL_SUCCESS || size == 0) {
        return NULL;
    }
    char *text = malloc(size + 1);
    if (text == NULL) {
        return NULL;
    }
    if (clGetPlatformInfo(platform, param, size, text, NULL) != CL_SUCCESS) {
        free(text);
        return NULL;
    }
    text[size] = '\0';
    return text;
}

static char *device_string(cl_device_id device, cl_device_info param) {
    size_t size = 0;
    if (clGetDeviceInfo(device, param, 0, NULL, &size) != CL_SUCCESS || size == 0) {
        return NULL;
    }
    char *text = malloc(size + 1);
    if (text == NULL) {
        return NULL;
    }
    if (clGetDeviceInfo(device, param, size, text, NULL) != CL_SUCCESS) {
        free(text);
        return NULL;
    }
    text[size] = '\0';
    return text;
}

/* Whether the space-separated @p list holds @p word as a whole word. */
static int has_word(const char *list, const char *word) {
    size_t len = strlen(word);
    for (const char *p = list; p != NULL && (p = strstr(p, word)) != NULL; p += len) {
        int starts = p == list || p[-1] == ' ';
        int ends = p[len] == '\0' || p[len] == ' ';
        if (starts && ends) {
            return 1;
        }
    }
    return 0;
}

static const char *type_name(cl_device_type type) {
    if (type & CL_DEVICE_TYPE_GPU) {
        return "GPU";
    }
    if (type & CL_DEVICE_TYPE_CPU) {
        return "CPU";
    }
    if (type & CL_DEVICE_TYPE_ACCELERATOR) {
        return "accelerator";
    }
    if (type & CL_DEVICE_TYPE_CUSTOM) {
        return "custom";
    }
    return "other";
}

/* One context's device, for the "which does auto pick" lines. */
struct pick {
    int ok; /* the context was created */
    lcl_backend backend;
    cl_device_id device; /* NULL for the CPU backend */
    char name[256];
    char error[512]; /* why the context could not be created */
};

static void resolve(const char *spec, struct pick *pick) {
    memset(pick, 0, sizeof *pick);
    lcl_context *ctx = NULL;
    lcl_status status = lcl_context_create(spec, &ctx);
    if (status != LCL_SUCCESS) {
        snprintf(pick->error, sizeof pick->error, "%s: %s", lcl_status_string(status), lcl_last_error());
        return;
    }
    pick->ok = 1;
    pick->backend = lcl_context_backend(ctx);
    pick->device = lcl_context_cl_device(ctx);
    snprintf(pick->name, sizeof pick->name, "%s", lcl_context_device_name(ctx));
    lcl_context_release(ctx);
}

/* The spec `leakycl devices` lists for a picked device ("cpu", "opencl:P:D"). */
static void pick_spec(const struct pick *pick, cl_platform_id *platforms, cl_uint platform_count, char *buf,
                      size_t size) {
    if (pick->backend == LCL_BACKEND_CPU) {
        snprintf(buf, size, "cpu");
        return;
    }
    snprintf(buf, size, "opencl");
    for (cl_uint p = 0; p < platform_count; p++) {
        cl_uint count = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &count) != CL_SUCCESS || count == 0) {
            continue;
        }
        cl_device_id *devices = malloc(count * sizeof(cl_device_id));
        if (devices == NULL) {
            return;
        }
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, count, devices, NULL) == CL_SUCCESS) {
            for (cl_uint d = 0; d < count; d++) {
                if (devices[d] == pick->device) {
                    snprintf(buf, size, "opencl:%u:%u", (unsigned)p, (unsigned)d);
                }
            }
        }
        free(devices);
    }
}

/* Whether a context on the device takes kernel parameters from the tuning cache. */
static void print_tuning(const char *spec) {
    const char *off = getenv("LEAKYCL_TUNING");
    char path[4096] = "(no cache path)";
    lcl_tuning_path(path, sizeof path);
    lcl_context *ctx = NULL;
    if (off != NULL && strcmp(off, "0") == 0) {
        printf("  %-12s tuning: cache ignored (LEAKYCL_TUNING=0), defaults\n", "");
    } else if (lcl_context_create(spec, &ctx) != LCL_SUCCESS) {
        printf("  %-12s tuning: unknown (%s)\n", "", lcl_last_error());
    } else if (lcl_context_tuned(ctx) > 0) {
        printf("  %-12s tuning: tuned (%zu op/dtype entries in %s)\n", "", lcl_context_tuned(ctx), path);
    } else {
        printf("  %-12s tuning: untuned, defaults ('leakycl tune --device %s' tunes it)\n", "", spec);
    }
    lcl_context_release(ctx);
}

static void list_device(cl_device_id device, cl_uint p, cl_uint d, const struct pick *autopick) {
    char *name = device_string(device, CL_DEVICE_NAME);
    char *version = device_string(device, CL_DEVICE_VERSION);
    char *extensions = device_string(device, CL_DEVICE_EXTENSIONS);
    cl_device_type type = 0;
    cl_ulong global_mem = 0;
    cl_ulong max_alloc = 0;
    cl_uint units = 0;
    cl_uint clock = 0;
    clGetDeviceInfo(device, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    clGetDeviceInfo(device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global_mem, &global_mem, NULL);
    clGetDeviceInfo(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL);
    clGetDeviceInfo(device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL);
    clGetDeviceInfo(device, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof clock, &clock, NULL);

    char spec[32];
    char mem[32];
    char alloc[32];
    snprintf(spec, sizeof spec, "opencl:%u:%u", (unsigned)p, (unsigned)d);
    int is_auto = autopick->ok && autopick->device == device;
    printf("  %-12s %s%s\n", spec, name != NULL ? name : "(unnamed device)", is_auto ? "  [auto]" : "");
    printf("  %-12s type %s, %u compute units, %u MHz, %s\n", "", type_name(type), (unsigned)units, (unsigned)clock,
           version != NULL ? version : "OpenCL version unknown");
    printf("  %-12s global memory %s, max allocation %s\n", "", cli_format_bytes(global_mem, mem, sizeof mem),
           cli_format_bytes(max_alloc, alloc, sizeof alloc));
    printf("  %-12s fp16 %s, fp64 %s\n", "",
           extensions != NULL && has_word(extensions, "cl_khr_fp16") ? "yes (cl_khr_fp16)" : "no",
           extensions != NULL && has_word(extensions, "cl_khr_fp64") ? "yes (cl_khr_fp64)" : "no");
    print_tuning(spec);
    free(name);
    free(version);
    free(extensions);
}

/* Lists platform @p p's devices; returns 0, or -1 when they cannot be queried. */
static int list_platform(cl_platform_id platform, cl_uint p, const struct pick *autopick) {
    char *name = platform_string(platform, CL_PLATFORM_NAME);
    char *vendor = platform_string(platform, CL_PLATFORM_VENDOR);
    char *version = platform_string(platform, CL_PLATFORM_VERSION);
    printf("OpenCL platform %u: %s (%s; %s)\n", (unsigned)p, name != NULL ? name : "(unnamed platform)",
           vendor != NULL ? vendor : "unknown vendor", version != NULL ? version : "unknown version");
    free(name);
    free(vendor);
    free(version);

    cl_uint count = 0;
    cl_int err = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, NULL, &count);
    if (err == CL_DEVICE_NOT_FOUND || (err == CL_SUCCESS && count == 0)) {
        printf("  (no devices)\n");
        return 0;
    }
    if (err != CL_SUCCESS) {
        printf("  (clGetDeviceIDs failed: %s, %d)\n", cl_error_name(err), (int)err);
        return -1;
    }
    cl_device_id *devices = malloc(count * sizeof(cl_device_id));
    if (devices == NULL) {
        printf("  (out of memory)\n");
        return -1;
    }
    err = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, count, devices, NULL);
    if (err != CL_SUCCESS) {
        printf("  (clGetDeviceIDs failed: %s, %d)\n", cl_error_name(err), (int)err);
        free(devices);
        return -1;
    }
    for (cl_uint d = 0; d < count; d++) {
        list_device(devices[d], p, d, autopick);
    }
    free(devices);
    return 0;
}

static int devices_run(int argc, char **argv) {
    if (argc > 1) {
        if (argv[1][0] == '-') {
            cli_error("devices: unknown option '%s' (see 'leakycl devices --help')", argv[1]);
        } else {
            cli_error("devices: unexpected argument '%s' (see 'leakycl devices --help')", argv[1]);
        }
        return CLI_EXIT_USAGE;
    }
    int rc = CLI_EXIT_OK;

    struct pick autopick;
    resolve("auto", &autopick);

    cl_uint platform_count = 0;
    cl_platform_id *platforms = NULL;
    cl_int err = clGetPlatformIDs(0, NULL, &platform_count);
    if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && platform_count == 0)) {
        printf("No OpenCL platform found (no ICD installed, e.g. pocl-opencl-icd).\n");
        platform_count = 0;
    } else if (err != CL_SUCCESS) {
        printf("OpenCL: clGetPlatformIDs failed: %s (%d).\n", cl_error_name(err), (int)err);
        platform_count = 0;
        rc = CLI_EXIT_FAILURE;
    } else {
        platforms = malloc(platform_count * sizeof(cl_platform_id));
        if (platforms == NULL) {
            cli_error("devices: out of memory");
            return CLI_EXIT_FAILURE;
        }
        err = clGetPlatformIDs(platform_count, platforms, NULL);
        if (err != CL_SUCCESS) {
            printf("OpenCL: clGetPlatformIDs failed: %s (%d).\n", cl_error_name(err), (int)err);
            platform_count = 0;
            rc = CLI_EXIT_FAILURE;
        }
    }
    for (cl_uint p = 0; p < platform_count; p++) {
        if (list_platform(platforms[p], p, &autopick) != 0) {
            rc = CLI_EXIT_FAILURE;
        }
    }

    struct pick cpu;
    resolve("cpu", &cpu);
    printf("CPU backend:\n");
    if (cpu.ok) {
        printf("  %-12s %s%s\n", "cpu", cpu.name, autopick.ok && autopick.backend == LCL_BACKEND_CPU ? "  [auto]" : "");
    } else {
        printf("  %-12s unavailable (%s)\n", "cpu", cpu.error);
        rc = CLI_EXIT_FAILURE;
    }

    char spec[32];
    printf("\n");
    if (autopick.ok) {
        pick_spec(&autopick, platforms, platform_count, spec, sizeof spec);
        printf("auto picks: %s (%s)\n", spec, autopick.name);
    } else {
        printf("auto picks: nothing (%s)\n", autopick.error);
        rc = CLI_EXIT_FAILURE;
    }
    const char *env = getenv("LEAKYCL_DEVICE");
    if (env != NULL && env[0] != '\0') {
        struct pick envpick;
        resolve(NULL, &envpick);
        if (envpick.ok) {
            pick_spec(&envpick, platforms, platform_count, spec, sizeof spec);
            printf("LEAKYCL_DEVICE=%s picks: %s (%s)\n", env, spec, envpick.name);
        } else {
            printf("LEAKYCL_DEVICE=%s picks: nothing (%s)\n", env, envpick.error);
        }
    } else {
        printf("default (LEAKYCL_DEVICE unset): auto\n");
    }
    free(platforms);
    return rc;
}

const struct cli_command cli_cmd_devices = {
    "devices",
    "list the OpenCL platforms and devices, the CPU backend, and what 'auto' picks",
    devices_usage,
    devices_run,
};
