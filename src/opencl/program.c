/* Kernel programs: sources embedded at build time (or read from $LEAKYCL_KERNEL_DIR), compiled
 * lazily once per context and dtype, and pools of kernel objects so threads never share one. */
#include "program.h"
#include "opencl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The files that make up every program, in order: types first, then the kernels using them. */
static const char *const program_files[] = {"dtype", "eltwise", "lanes", "batch", "prelu", "mask", "dense"};
#define PROGRAM_FILE_COUNT (sizeof program_files / sizeof program_files[0])
#define KERNEL_FILE_MAX_BYTES ((size_t)4 << 20) /* far beyond any kernel file */

static const char *const kernel_names[LCL__KERNEL_COUNT] = {
    [LCL__K_FORWARD] = "lcl_forward",
    [LCL__K_BACKWARD] = "lcl_backward",
    [LCL__K_FORWARD_BATCH] = "lcl_batch_forward",
    [LCL__K_BACKWARD_BATCH] = "lcl_batch_backward",
    [LCL__K_PRELU_FORWARD] = "lcl_prelu_forward",
    [LCL__K_PRELU_BACKWARD] = "lcl_prelu_backward",
    [LCL__K_PRELU_BACKWARD_PARTIAL] = "lcl_prelu_backward_partial",
    [LCL__K_PRELU_BACKWARD_COLUMNS] = "lcl_prelu_backward_columns",
    [LCL__K_PRELU_DALPHA] = "lcl_prelu_dalpha",
    [LCL__K_PRELU_FOLD] = "lcl_prelu_fold",
    [LCL__K_FORWARD_MASKED] = "lcl_mask_forward",
    [LCL__K_BACKWARD_MASKED] = "lcl_mask_backward",
    [LCL__K_DENSE_FORWARD] = "lcl_dense_epilogue",
    [LCL__K_DENSE_BACKWARD] = "lcl_dense_backward_columns",
};

static const char *embedded_source(const char *name) {
    for (const struct lcl__kernel_source *k = lcl__kernel_sources; k->name; ++k)
        if (strcmp(k->name, name) == 0)
            return k->source;
    return NULL;
}

char *lcl__read_file(const char *path, size_t max, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = malloc(max + 1);
    size_t got = text ? fread(text, 1, max + 1, f) : 0;
    int why = !text ? ENOMEM : ferror(f) ? EIO : got > max ? EFBIG : 0;
    fclose(f);
    if (why) {
        free(text);
        errno = why;
        return NULL;
    }
    text[got] = '\0';
    *size = got;
    return text;
}

/* Reads DIR/NAME.cl into a new NUL-terminated string. */
static lcl_status read_source_file(const char *dir, const char *name, char **out) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.cl", dir, name);
    size_t size = 0;
    if (!(*out = lcl__read_file(path, KERNEL_FILE_MAX_BYTES, &size)))
        return lcl__fail(errno == ENOMEM ? LCL_ERROR_OUT_OF_MEMORY : LCL_ERROR_BUILD_FAILED,
                         "LEAKYCL_KERNEL_DIR: cannot read %s: %s", path, strerror(errno));
    return LCL_SUCCESS;
}

static lcl_status gather_sources(const lcl_context *ctx, const char **sources, char **owned) {
    memset(owned, 0, PROGRAM_FILE_COUNT * sizeof *owned);
    for (size_t i = 0; i < PROGRAM_FILE_COUNT; ++i) {
        if (ctx->kernel_dir) {
            lcl_status st = read_source_file(ctx->kernel_dir, program_files[i], &owned[i]);
            if (st != LCL_SUCCESS)
                return st;
            sources[i] = owned[i];
        } else if (!(sources[i] = embedded_source(program_files[i]))) {
            return lcl__fail(LCL_ERROR_BUILD_FAILED, "kernel source %s.cl is not built into the library",
                             program_files[i]);
        }
    }
    return LCL_SUCCESS;
}

/* Puts the build log behind the headline already recorded. */
static void append_build_log(const lcl_context *ctx, cl_program program) {
    size_t size = 0;
    if (clGetProgramBuildInfo(program, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &size) != CL_SUCCESS)
        return;
    char *log = malloc(size + 1);
    if (!log)
        return;
    if (clGetProgramBuildInfo(program, ctx->device, CL_PROGRAM_BUILD_LOG, size, log, NULL) == CL_SUCCESS) {
        log[size] = '\0';
        lcl__append_error("\nbuild log:\n");
        lcl__append_error(log);
    }
    free(log);
}

static lcl_status build_program(lcl_context *ctx, lcl_dtype dtype, const struct lcl__tunables *t, cl_program *out) {
    const char *sources[PROGRAM_FILE_COUNT];
    char *owned[PROGRAM_FILE_COUNT];
    lcl_status st = gather_sources(ctx, sources, owned);
    cl_program program = NULL;
    if (st == LCL_SUCCESS) {
        cl_int err = CL_SUCCESS;
        program = clCreateProgramWithSource(ctx->cl_ctx, PROGRAM_FILE_COUNT, sources, NULL, &err);
        st = lcl__cl_check(err, "clCreateProgramWithSource");
    }
    for (size_t i = 0; i < PROGRAM_FILE_COUNT; ++i)
        free(owned[i]);
    if (st != LCL_SUCCESS)
        return st;
    char options[320];
    lcl__tunables_options(t, dtype, options, sizeof options);
    cl_int err = clBuildProgram(program, 1, &ctx->device, options, NULL, NULL);
    if (err != CL_SUCCESS) {
        st = lcl__fail(err == CL_BUILD_PROGRAM_FAILURE ? LCL_ERROR_BUILD_FAILED : lcl__cl_status(err),
                       "clBuildProgram failed for %s (options \"%s\"): %s (%d)", lcl_dtype_name(dtype), options,
                       lcl__cl_error_name(err), (int)err);
        append_build_log(ctx, program);
        clReleaseProgram(program);
        return st;
    }
    *out = program;
    return LCL_SUCCESS;
}

/* Another op's program of dtype built with the same options as op's, or NULL. Untuned, every
 * op has the defaults, so one program serves them all. */
static cl_program shared_program(const lcl_context *ctx, lcl_dtype dtype, enum lcl__tune_op op) {
    char mine[320], theirs[320];
    lcl__tunables_options(&ctx->tuning.table[op][dtype], dtype, mine, sizeof mine);
    for (size_t other = 0; other < LCL__TUNE_OP_COUNT; ++other) {
        if (!ctx->programs[other][dtype].program)
            continue;
        lcl__tunables_options(&ctx->tuning.table[other][dtype], dtype, theirs, sizeof theirs);
        if (strcmp(mine, theirs) == 0)
            return ctx->programs[other][dtype].program;
    }
    return NULL;
}

/* Caller holds ctx->lock. */
static lcl_status program_get_locked(lcl_context *ctx, lcl_dtype dtype, enum lcl__kernel_id id,
                                     struct lcl__program **out) {
    enum lcl__tune_op op = lcl__kernel_tune_op(id);
    struct lcl__program *prog = &ctx->programs[op][dtype];
    if (!prog->program) {
        cl_program shared = shared_program(ctx, dtype, op);
        lcl_status st = shared ? lcl__cl_check(clRetainProgram(shared), "clRetainProgram")
                               : build_program(ctx, dtype, &ctx->tuning.table[op][dtype], &prog->program);
        if (st != LCL_SUCCESS)
            return st;
        if (shared)
            prog->program = shared;
    }
    *out = prog;
    return LCL_SUCCESS;
}

lcl_status lcl__kernel_acquire(lcl_context *ctx, lcl_dtype dtype, enum lcl__kernel_id id, cl_kernel *out) {
    pthread_mutex_lock(&ctx->lock);
    struct lcl__program *prog = NULL;
    lcl_status st = program_get_locked(ctx, dtype, id, &prog);
    if (st == LCL_SUCCESS) {
        struct lcl__kernel_pool *pool = &prog->pools[id];
        if (pool->free_count > 0) {
            *out = pool->free[--pool->free_count];
        } else {
            cl_int err = CL_SUCCESS;
            *out = clCreateKernel(prog->program, kernel_names[id], &err);
            st = lcl__cl_check(err, "clCreateKernel");
        }
    }
    pthread_mutex_unlock(&ctx->lock);
    return st;
}

void lcl__kernel_release_to_pool(lcl_context *ctx, lcl_dtype dtype, enum lcl__kernel_id id, cl_kernel k) {
    pthread_mutex_lock(&ctx->lock);
    struct lcl__kernel_pool *pool = &ctx->programs[lcl__kernel_tune_op(id)][dtype].pools[id];
    if (pool->free_count == pool->capacity) {
        size_t capacity = pool->capacity ? 2 * pool->capacity : 4;
        cl_kernel *grown = realloc(pool->free, capacity * sizeof *grown);
        if (grown) {
            pool->free = grown;
            pool->capacity = capacity;
        }
    }
    if (pool->free_count < pool->capacity)
        pool->free[pool->free_count++] = k;
    else
        clReleaseKernel(k); /* no room to keep it: the next launch creates another */
    pthread_mutex_unlock(&ctx->lock);
}

void lcl__programs_release(lcl_context *ctx) {
    for (size_t slot = 0; slot < LCL__TUNE_OP_COUNT * LCL__FLOAT_DTYPE_COUNT; ++slot) {
        struct lcl__program *prog = &ctx->programs[slot / LCL__FLOAT_DTYPE_COUNT][slot % LCL__FLOAT_DTYPE_COUNT];
        for (size_t k = 0; k < LCL__KERNEL_COUNT; ++k) {
            struct lcl__kernel_pool *pool = &prog->pools[k];
            for (size_t i = 0; i < pool->free_count; ++i)
                clReleaseKernel(pool->free[i]);
            free(pool->free);
            memset(pool, 0, sizeof *pool);
        }
        if (prog->program)
            clReleaseProgram(prog->program);
        prog->program = NULL;
    }
}
