/* One side of the scenario: its contexts, tensors and host arrays, their starting images, and
 * the checks that compare the device side with the CPU backend. */
#define _POSIX_C_SOURCE 200809L
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N SCENARIO_N
#define DENSE_BATCH 5
#define DENSE_IN 7
#define DENSE_OUT 3

enum image { POISON, INPUT };

/* How each tensor is made: a new tensor (parent < 0), or a view of parent; wrapped ones are
 * app buffers on the device side. seed picks the input pattern. */
static const struct tensor_spec {
    lcl_dtype dtype;
    size_t n;
    int parent;
    size_t offset;
    enum image image;
    unsigned seed;
    bool wrapped;
} specs[B_TENSOR_COUNT] = {
    [B_X] = {LCL_F32, N, -1, 0, INPUT, 1, false},
    [B_DY] = {LCL_F32, N, -1, 0, INPUT, 2, false},
    [B_Y] = {LCL_F32, N, -1, 0, POISON, 0, false},
    [B_DX] = {LCL_F32, N, -1, 0, POISON, 0, false},
    [B_X2] = {LCL_F32, N, -1, 0, INPUT, 3, false},
    [B_X16] = {LCL_F16, N, -1, 0, INPUT, 4, false},
    [B_Y16] = {LCL_F16, N, -1, 0, POISON, 0, false},
    [B_ARENA_X] = {LCL_F32, N, -1, 0, INPUT, 5, false},
    [B_ARENA_DY] = {LCL_F32, N, -1, 0, INPUT, 6, false},
    [B_ARENA_Y] = {LCL_F32, N, -1, 0, POISON, 0, false},
    [B_ARENA_DX] = {LCL_F32, N, -1, 0, POISON, 0, false},
    [B_ALPHA] = {LCL_F32, 4, -1, 0, INPUT, 7, false},
    [B_DALPHA] = {LCL_F32, 4, -1, 0, POISON, 0, false},
    [B_MASK] = {LCL_MASK, N, -1, 0, POISON, 0, false},
    [B_DENSE_X] = {LCL_F32, DENSE_BATCH *DENSE_IN, -1, 0, INPUT, 8, false},
    [B_DENSE_W] = {LCL_F32, DENSE_OUT *DENSE_IN, -1, 0, INPUT, 9, false},
    [B_DENSE_B] = {LCL_F32, DENSE_OUT, -1, 0, INPUT, 10, false},
    [B_DENSE_Y] = {LCL_F32, DENSE_BATCH *DENSE_OUT, -1, 0, POISON, 0, false},
    [B_DENSE_DY] = {LCL_F32, DENSE_BATCH *DENSE_OUT, -1, 0, INPUT, 11, false},
    [B_DENSE_DX] = {LCL_F32, DENSE_BATCH *DENSE_IN, -1, 0, POISON, 0, false},
    [B_DENSE_DW] = {LCL_F32, DENSE_OUT *DENSE_IN, -1, 0, POISON, 0, false},
    [B_DENSE_DB] = {LCL_F32, DENSE_OUT, -1, 0, POISON, 0, false},
    [B_WX] = {LCL_F32, N, -1, 0, INPUT, 12, true},
    [B_WY] = {LCL_F32, N, -1, 0, POISON, 0, true},
    [B_X2_VIEW] = {LCL_F32, 500, B_X2, 3, INPUT, 0, false},
    [B_ITEM_X0] = {LCL_F32, 100, B_ARENA_X, 0, INPUT, 0, false},
    [B_ITEM_X1] = {LCL_F32, 300, B_ARENA_X, 100, INPUT, 0, false},
    [B_ITEM_X2] = {LCL_F32, 600, B_ARENA_X, 400, INPUT, 0, false},
    [B_ITEM_DY0] = {LCL_F32, 100, B_ARENA_DY, 0, INPUT, 0, false},
    [B_ITEM_DY1] = {LCL_F32, 300, B_ARENA_DY, 100, INPUT, 0, false},
    [B_ITEM_DY2] = {LCL_F32, 600, B_ARENA_DY, 400, INPUT, 0, false},
    [B_ITEM_Y0] = {LCL_F32, 100, B_ARENA_Y, 0, POISON, 0, false},
    [B_ITEM_Y1] = {LCL_F32, 300, B_ARENA_Y, 100, POISON, 0, false},
    [B_ITEM_Y2] = {LCL_F32, 600, B_ARENA_Y, 400, POISON, 0, false},
    [B_ITEM_DX0] = {LCL_F32, 100, B_ARENA_DX, 0, POISON, 0, false},
    [B_ITEM_DX1] = {LCL_F32, 300, B_ARENA_DX, 100, POISON, 0, false},
    [B_ITEM_DX2] = {LCL_F32, 600, B_ARENA_DX, 400, POISON, 0, false},
};

/* ---- images ---------------------------------------------------------------------------------- */

/* Multiples of 1/8 in [-2.75, 2.75], zeros included: every product and every sum the ops form
 * (PReLU's slope gradient, the dense GEMMs) is exact, so results do not depend on the order of
 * a reduction and both backends must agree bit for bit. */
static float input_value(unsigned seed, size_t i) { return (float)((int)((i * 7 + seed * 13) % 45) - 22) / 8.0f; }

/* fp16 bits of value (exact: a multiple of 1/8 below 4). */
static uint16_t half_bits(float value) {
    if (value == 0)
        return 0;
    uint16_t sign = value < 0 ? 0x8000 : 0;
    float a = value < 0 ? -value : value;
    int exponent = 0;
    while (a >= 2.0f) {
        a /= 2;
        exponent++;
    }
    while (a < 1.0f) {
        a *= 2;
        exponent--;
    }
    return (uint16_t)(sign | (uint16_t)((exponent + 15) << 10) | (uint16_t)((a - 1.0f) * 1024.0f));
}

static size_t spec_bytes(const struct tensor_spec *sp) {
    return sp->dtype == LCL_MASK ? (sp->n + 31) / 32 * 4 : sp->n * lcl_dtype_size(sp->dtype);
}

/* A view's image is its part of its parent's. */
static void *image_of(int id) {
    const struct tensor_spec *sp = &specs[id];
    unsigned char *bytes = malloc(spec_bytes(sp) + 1);
    if (!bytes)
        abort();
    if (sp->parent >= 0) {
        unsigned char *whole = image_of(sp->parent);
        memcpy(bytes, whole + sp->offset * lcl_dtype_size(sp->dtype), spec_bytes(sp));
        free(whole);
    } else if (sp->image == POISON) {
        memset(bytes, 0xa5, spec_bytes(sp));
    } else {
        for (size_t i = 0; i < sp->n; ++i) {
            float v = input_value(sp->seed, i);
            if (sp->dtype == LCL_F16) {
                uint16_t h = half_bits(v);
                memcpy(bytes + 2 * i, &h, 2);
            } else {
                memcpy(bytes + 4 * i, &v, 4);
            }
        }
    }
    return bytes;
}

static const float host_poison = -12345.5f;

static void host_poison_fill(float *a) {
    for (size_t i = 0; i <= N; ++i)
        a[i] = host_poison;
}

/* ---- contexts and tensors --------------------------------------------------------------------- */

void side_init(struct side *s, bool reference) {
    memset(s, 0, sizeof *s);
    s->reference = reference;
    for (size_t i = 0; i <= N; ++i) {
        s->host_x[i] = input_value(21, i);
        s->host_dy[i] = input_value(22, i);
    }
    host_poison_fill(s->host_y);
    host_poison_fill(s->host_dx);
}

static lcl_context *const CONTEXT_SENTINEL = (lcl_context *)(uintptr_t)0x5a5a5a50;
static lcl_tensor *const TENSOR_SENTINEL = (lcl_tensor *)(uintptr_t)0x5a5a5a50;

/* The app's objects a wrapping context runs on: its own queue and buffers, on the main
 * context's cl_context (the shim does not count the scenario's own calls). */
static lcl_status app_objects(struct side *s) {
    if (s->app_queue)
        return LCL_SUCCESS;
    cl_context cl_ctx = lcl_context_cl_context(s->ctx);
    cl_device_id device = lcl_context_cl_device(s->ctx);
    cl_int err = CL_SUCCESS;
    s->app_queue = clCreateCommandQueue(cl_ctx, device, 0, &err);
    for (int i = 0; i < 2 && err == CL_SUCCESS; ++i)
        s->app_mem[i] = clCreateBuffer(cl_ctx, CL_MEM_READ_WRITE, N * sizeof(float), NULL, &err);
    if (err != CL_SUCCESS) {
        scenario_problem("the scenario's own OpenCL objects: error %d", (int)err);
        return LCL_ERROR_OPENCL;
    }
    return LCL_SUCCESS;
}

static lcl_status new_context(lcl_context **slot, const char *device, cl_command_queue queue) {
    if (*slot)
        return LCL_SUCCESS;
    lcl_context *ctx = CONTEXT_SENTINEL;
    lcl_status st = queue ? lcl_context_wrap_cl(queue, &ctx) : lcl_context_create(device, &ctx);
    if (st == LCL_SUCCESS)
        *slot = ctx;
    else if (ctx != CONTEXT_SENTINEL)
        scenario_problem("a failed context creation wrote its out argument");
    return st;
}

/* Environment read at creation: the main context streams host arrays in 1 KiB chunks (four
 * chunks of N floats, more than the three in flight), the zero-copy one cuts them in 1 KiB pieces. */
lcl_status side_create_contexts(struct side *s, int which) {
    if (s->reference) {
        lcl_status st = new_context(&s->ctx, "cpu", NULL);
        s->zc = s->wrapped = s->ctx;
        return st;
    }
    setenv("LEAKYCL_CHUNK_BYTES", "1024", 1);
    if (which == 0) {
        setenv("LEAKYCL_ZERO_COPY", "0", 1);
        return new_context(&s->ctx, "opencl", NULL);
    }
    unsetenv("LEAKYCL_ZERO_COPY");
    if (which == 1)
        return new_context(&s->zc, "opencl", NULL);
    lcl_status st = app_objects(s);
    return st != LCL_SUCCESS ? st : new_context(&s->wrapped, NULL, s->app_queue);
}

static lcl_status new_tensor(struct side *s, int id) {
    const struct tensor_spec *sp = &specs[id];
    lcl_tensor *t = TENSOR_SENTINEL;
    lcl_status st;
    if (sp->parent >= 0)
        st = lcl_tensor_view(s->t[sp->parent], sp->offset, sp->n, &t);
    else if (sp->wrapped && !s->reference)
        st = lcl_tensor_wrap_cl(s->wrapped, sp->dtype, s->app_mem[id == B_WY], 0, sp->n, &t);
    else
        st = lcl_tensor_create(sp->wrapped ? s->wrapped : s->ctx, sp->dtype, sp->n, &t);
    if (st == LCL_SUCCESS)
        s->t[id] = t;
    else if (t != TENSOR_SENTINEL)
        scenario_problem("a failed tensor creation wrote its out argument");
    return st;
}

lcl_status side_create_tensors(struct side *s) {
    for (int id = 0; id < B_TENSOR_COUNT; ++id) {
        if (s->t[id])
            continue;
        lcl_status st = new_tensor(s, id);
        if (st != LCL_SUCCESS)
            return st;
    }
    return LCL_SUCCESS;
}

lcl_status side_write_inputs(struct side *s) {
    for (int id = 0; id < B_TENSOR_COUNT; ++id) {
        if (specs[id].parent >= 0 || specs[id].image != INPUT)
            continue;
        void *image = image_of(id);
        lcl_status st = lcl_tensor_write(s->t[id], image);
        free(image);
        if (st != LCL_SUCCESS)
            return st;
    }
    return LCL_SUCCESS;
}

void side_release(struct side *s) {
    for (int id = B_TENSOR_COUNT - 1; id >= 0; --id) {
        lcl_tensor_release(s->t[id]);
        free(s->read[id]);
    }
    if (!s->reference) {
        lcl_context_release(s->wrapped);
        lcl_context_release(s->zc);
    }
    for (int i = 0; i < 2; ++i)
        if (s->app_mem[i])
            clReleaseMemObject(s->app_mem[i]);
    if (s->app_queue)
        clReleaseCommandQueue(s->app_queue);
    lcl_context_release(s->ctx);
    memset(s, 0, sizeof *s);
}

/* ---- the checks -------------------------------------------------------------------------------- */

const float *side_host_in(const struct side *s, int which) { return (which ? s->host_dy : s->host_x) + 1; }

float *side_host_out(struct side *s, int which) { return (which ? s->host_dx : s->host_y) + 1; }

lcl_status side_prepare(struct side *s, const struct scenario_step *step) {
    for (int k = 0; k < SCENARIO_MAX_OUTPUTS && step->outputs[k] != SCENARIO_END; ++k) {
        int id = step->outputs[k];
        if (id >= B_TENSOR_COUNT) {
            host_poison_fill(id == B_HOST_Y ? s->host_y : s->host_dx);
            continue;
        }
        void *image = image_of(id);
        lcl_status st = lcl_tensor_write(s->t[id], image);
        free(image);
        if (st != LCL_SUCCESS)
            return st;
    }
    return LCL_SUCCESS;
}

lcl_status side_collect(struct side *s, const struct scenario_step *step) {
    for (int k = 0; k < SCENARIO_MAX_OUTPUTS && step->outputs[k] != SCENARIO_END; ++k) {
        int id = step->outputs[k];
        if (id >= B_TENSOR_COUNT)
            continue;
        free(s->read[id]);
        s->read[id] = malloc(lcl_tensor_bytes(s->t[id]) + 1);
        if (!s->read[id])
            abort();
        lcl_status st = lcl_tensor_read(s->t[id], s->read[id]);
        if (st != LCL_SUCCESS)
            return st;
    }
    return LCL_SUCCESS;
}

static size_t first_difference(const void *a, const void *b, size_t bytes) {
    const unsigned char *pa = a, *pb = b;
    for (size_t i = 0; i < bytes; ++i)
        if (pa[i] != pb[i])
            return i;
    return bytes;
}

/* The host inputs, which no call may write. */
static void check_host_inputs(const struct side *s, const char *step) {
    for (size_t i = 0; i <= N; ++i)
        if (s->host_x[i] != input_value(21, i) || s->host_dy[i] != input_value(22, i)) {
            scenario_problem("%s: a host input changed at element %zu", step, i);
            return;
        }
}

void side_check_unchanged(struct side *s, const struct scenario_step *step) {
    check_host_inputs(s, step->name);
    for (int k = 0; k < SCENARIO_MAX_OUTPUTS && step->outputs[k] != SCENARIO_END; ++k) {
        int id = step->outputs[k];
        if (id >= B_TENSOR_COUNT) {
            const float *a = id == B_HOST_Y ? s->host_y : s->host_dx;
            for (size_t i = 0; i <= N; ++i)
                if (a[i] != host_poison) {
                    scenario_problem("%s failed before enqueueing anything, yet wrote host element %zu", step->name, i);
                    break;
                }
            continue;
        }
        size_t bytes = lcl_tensor_bytes(s->t[id]);
        void *got = malloc(bytes + 1);
        void *want = image_of(id);
        if (!got)
            abort();
        lcl_status st = lcl_tensor_read(s->t[id], got);
        size_t at = first_difference(got, want, bytes);
        if (st != LCL_SUCCESS)
            scenario_problem("%s: reading output %d after the fault: %s", step->name, id, lcl_last_error());
        else if (at < bytes)
            scenario_problem("%s failed before enqueueing anything, yet changed output %d at byte %zu", step->name, id,
                             at);
        free(got);
        free(want);
    }
}

void side_compare(const struct side *dev, const struct side *ref, const struct scenario_step *step) {
    check_host_inputs(dev, step->name);
    for (int k = 0; k < SCENARIO_MAX_OUTPUTS && step->outputs[k] != SCENARIO_END; ++k) {
        int id = step->outputs[k];
        const void *a = id == B_HOST_Y ? dev->host_y : id == B_HOST_DX ? dev->host_dx : dev->read[id];
        const void *b = id == B_HOST_Y ? ref->host_y : id == B_HOST_DX ? ref->host_dx : ref->read[id];
        size_t bytes = id >= B_TENSOR_COUNT ? (N + 1) * sizeof(float) : lcl_tensor_bytes(dev->t[id]);
        size_t at = first_difference(a, b, bytes);
        if (at < bytes)
            scenario_problem("%s: output %d differs from the CPU backend at byte %zu", step->name, id, at);
    }
}
