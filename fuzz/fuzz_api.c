/* A libFuzzer harness over leakycl's public API. An input is a little program: its first byte
 * picks the context (the CPU backend, PoCL, PoCL with LEAKYCL_VERIFY and streamed host arrays,
 * or a context created from a device spec in the input), then up to FZ_MAX_STEPS steps each
 * run one call chosen by a byte, with arguments drawn from the following bytes: new tensors,
 * views and views of views, wrapped cl_mem, every op with tensors from the pool (aliased, of
 * other contexts or NULL), host arrays at any offset, odd dtypes, sizes and alphas. fz_after
 * (oracle.c) checks every call; successful elementwise ops are checked against a reference.
 *
 * Contexts are created once per process (LLVMFuzzerInitialize) and kept: PoCL takes tens of
 * milliseconds per context, and building the kernels there, before libFuzzer starts counting
 * allocations, keeps the compiler's own caches out of the leak check. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
    lcl_context *cpu;
    lcl_context *opencl;   /* NULL without an OpenCL device */
    lcl_context *verified; /* PoCL with LEAKYCL_VERIFY=1, streamed host arrays in small chunks */
    cl_mem buffer;         /* an app's buffer in opencl's cl_context, for lcl_tensor_wrap_cl */
} g;

#define FZ_APP_BUFFER_BYTES 4096

/* ---- steps: each reads its arguments, makes one call and hands it to the oracle ---------------- */

typedef void (*fz_step)(fz_state *s);

static void check_call(fz_state *s, fz_snapshot *snap, lcl_status st, const char *call) {
    fz_after(s, snap, st, call);
    fz_snapshot_free(snap);
}

/* A successful elementwise op on tensors: out holds the reference of the inputs as they were. */
static void check_eltwise_tensors(fz_state *s, const fz_snapshot *snap, double alpha, const lcl_tensor *sel,
                                  const lcl_tensor *grad, const lcl_tensor *out, const char *call) {
    const void *sel_data = NULL, *grad_data = NULL;
    for (size_t i = 0; i < s->count; ++i) {
        if (s->pool[i] == sel)
            sel_data = snap->tensor[i];
        if (grad && s->pool[i] == grad)
            grad_data = snap->tensor[i];
    }
    lcl_dtype dtype = lcl_tensor_dtype(out);
    size_t n = lcl_tensor_size(out);
    void *want = malloc(lcl_tensor_bytes(out) + 1), *got = malloc(lcl_tensor_bytes(out) + 1);
    if (!want || !got)
        fz_fail("harness out of memory");
    if (fz_reference(dtype, alpha, n, sel_data, grad_data, want)) {
        if (lcl_tensor_read(out, got) != LCL_SUCCESS)
            fz_fail("lcl_tensor_read after %s: %s", call, lcl_last_error());
        size_t i = fz_first_difference(dtype, want, got, n);
        if (i < n)
            fz_fail("%s on %s, n=%zu, alpha=%a: element %zu differs from the reference", call, lcl_dtype_name(dtype), n,
                    alpha, i);
    }
    free(want);
    free(got);
}

static void step_create(fz_state *s) {
    lcl_context *ctx = fz_ctx(s);
    lcl_dtype dtype = fz_dtype(&s->in);
    size_t n = fz_size(&s->in);
    /* Sizes whose byte count overflows are rejected before allocating; other large ones are
     * folded down so that no input allocates much. */
    size_t elem = lcl_dtype_size(dtype);
    int overflows = elem > 0 && dtype != LCL_MASK && n > SIZE_MAX / elem;
    if (!overflows && n > FZ_MAX_ELEMS)
        n %= FZ_MAX_ELEMS;
    lcl_tensor *t = (lcl_tensor *)&g; /* must stay untouched on failure */
    fz_snapshot snap;
    fz_before(s, &snap);
    lcl_status st = lcl_tensor_create(ctx, dtype, n, &t);
    check_call(s, &snap, st, "lcl_tensor_create");
    if (st != LCL_SUCCESS) {
        if (t != (lcl_tensor *)&g)
            fz_fail("a failed lcl_tensor_create wrote its out argument");
        return;
    }
    /* Contents from the input, so that values reach the ops. */
    size_t bytes = lcl_tensor_bytes(t);
    unsigned char *data = malloc(bytes + 1);
    if (!data)
        fz_fail("harness out of memory");
    for (size_t i = 0; i < bytes; ++i)
        data[i] = (unsigned char)(fz_u8(&s->in) ^ (i * 0x9d));
    if (lcl_tensor_write(t, data) != LCL_SUCCESS)
        fz_fail("lcl_tensor_write of a new tensor: %s", lcl_last_error());
    free(data);
    s->pool[s->count++] = t;
}

static void step_view(fz_state *s) {
    lcl_tensor *parent = fz_tensor(s);
    size_t offset = fz_size(&s->in), n = fz_size(&s->in);
    lcl_tensor *t = NULL;
    fz_snapshot snap;
    fz_before(s, &snap);
    lcl_status st = lcl_tensor_view(parent, offset, n, &t);
    check_call(s, &snap, st, "lcl_tensor_view");
    if (st == LCL_SUCCESS)
        s->pool[s->count++] = t;
}

static void step_wrap(fz_state *s) {
    lcl_context *ctx = fz_ctx(s);
    lcl_dtype dtype = fz_dtype(&s->in);
    size_t offset = fz_size(&s->in), n = fz_size(&s->in);
    cl_mem buffer = fz_u8(&s->in) == 0x55 ? NULL : g.buffer;
    lcl_tensor *t = NULL;
    fz_snapshot snap;
    fz_before(s, &snap);
    lcl_status st = lcl_tensor_wrap_cl(ctx, dtype, buffer, offset, n, &t);
    check_call(s, &snap, st, "lcl_tensor_wrap_cl");
    if (st == LCL_SUCCESS)
        s->pool[s->count++] = t;
}

static void step_release(fz_state *s) {
    if (s->count == 0)
        return;
    size_t i = fz_u8(&s->in) % s->count;
    lcl_tensor_release(s->pool[i]);
    s->pool[i] = s->pool[--s->count];
}

typedef lcl_status (*eltwise_fn)(lcl_context *, double, const lcl_tensor *, const lcl_tensor *, lcl_tensor *);

static lcl_status forward_as_eltwise(lcl_context *ctx, double alpha, const lcl_tensor *x, const lcl_tensor *unused,
                                     lcl_tensor *y) {
    (void)unused;
    return lcl_forward(ctx, alpha, x, y);
}

static void eltwise_step(fz_state *s, eltwise_fn fn, int has_grad, const char *name) {
    lcl_context *ctx = fz_ctx(s);
    double alpha = fz_alpha(&s->in);
    const lcl_tensor *sel = fz_tensor(s);
    const lcl_tensor *grad = has_grad ? fz_tensor(s) : NULL;
    lcl_tensor *out = fz_tensor(s);
    fz_snapshot snap;
    fz_before(s, &snap);
    lcl_status st = fn(ctx, alpha, sel, grad, out);
    fz_after(s, &snap, st, name);
    if (st == LCL_SUCCESS)
        check_eltwise_tensors(s, &snap, alpha, sel, grad, out, name);
    fz_snapshot_free(&snap);
}

static void step_forward(fz_state *s) { eltwise_step(s, forward_as_eltwise, 0, "lcl_forward"); }
static void step_backward(fz_state *s) { eltwise_step(s, lcl_backward, 1, "lcl_backward"); }
static void step_from_output(fz_state *s) { eltwise_step(s, lcl_backward_from_output, 1, "lcl_backward_from_output"); }

static void step_masked(fz_state *s) {
    lcl_context *ctx = fz_ctx(s);
    int backward = fz_u8(&s->in) & 1;
    double alpha = fz_alpha(&s->in);
    lcl_tensor *a = fz_tensor(s), *b = fz_tensor(s), *c = fz_tensor(s);
    fz_snapshot snap;
    fz_before(s, &snap);
    lcl_status st = backward ? lcl_backward_masked(ctx, alpha, a, b, c) : lcl_forward_masked(ctx, alpha, a, b, c);
    check_call(s, &snap, st, backward ? "lcl_backward_masked" : "lcl_forward_masked");
}

static void step_batch(fz_state *s) {
    lcl_context *ctx = fz_ctx(s);
    int backward = fz_u8(&s->in) & 1;
    uint8_t shape = fz_u8(&s->in);
    size_t count = shape % (FZ_MAX_BATCH + 1);
    double alpha[FZ_MAX_BATCH];
    const lcl_tensor *x[FZ_MAX_BATCH], *dy[FZ_MAX_BATCH];
    lcl_tensor *out[FZ_MAX_BATCH];
    for (size_t i = 0; i < count; ++i) {
        alpha[i] = fz_alpha(&s->in);
        x[i] = fz_tensor(s);
        dy[i] = backward ? fz_tensor(s) : NULL;
        out[i] = fz_tensor(s);
    }
    /* NULL arrays are allowed only with count = 0. */
    const double *alpha_arg = shape & 0x80 ? NULL : alpha;
    const lcl_tensor *const *x_arg = shape & 0x40 ? NULL : x;
    lcl_tensor *const *out_arg = shape & 0x20 ? NULL : out;
    fz_snapshot snap;
    fz_before(s, &snap);
    lcl_status st = backward ? lcl_backward_batch(ctx, count, alpha_arg, x_arg, shape & 0x10 ? NULL : dy, out_arg)
                             : lcl_forward_batch(ctx, count, alpha_arg, x_arg, out_arg);
    check_call(s, &snap, st, backward ? "lcl_backward_batch" : "lcl_forward_batch");
}

static void step_prelu(fz_state *s) {
    lcl_context *ctx = fz_ctx(s);
    int backward = fz_u8(&s->in) & 1;
    size_t channels = fz_size(&s->in), inner = fz_size(&s->in);
    const lcl_tensor *alpha = fz_tensor(s), *x = fz_tensor(s);
    const lcl_tensor *dy = backward ? fz_tensor(s) : NULL;
    lcl_tensor *out = fz_tensor(s);
    lcl_tensor *dalpha = backward ? fz_tensor(s) : NULL;
    fz_snapshot snap;
    fz_before(s, &snap);
    lcl_status st = backward ? lcl_prelu_backward(ctx, channels, inner, alpha, x, dy, out, dalpha)
                             : lcl_prelu_forward(ctx, channels, inner, alpha, x, out);
    check_call(s, &snap, st, backward ? "lcl_prelu_backward" : "lcl_prelu_forward");
}

/* The dense layer: shapes from the input (overflowing ones too), tensors from the pool. */
static void step_dense(fz_state *s) {
    lcl_context *ctx = fz_ctx(s);
    int backward = fz_u8(&s->in) & 1;
    size_t batch = fz_size(&s->in), in = fz_size(&s->in), out = fz_size(&s->in);
    double alpha = fz_alpha(&s->in);
    const lcl_tensor *x = fz_tensor(s), *w = fz_tensor(s), *b = fz_tensor(s);
    lcl_tensor *y = fz_tensor(s), *dx = backward ? fz_tensor(s) : NULL, *dw = backward ? fz_tensor(s) : NULL;
    lcl_tensor *db = backward ? fz_tensor(s) : NULL;
    fz_snapshot snap;
    fz_before(s, &snap);
    lcl_status st = backward ? lcl_dense_backward(ctx, batch, in, out, alpha, x, w, y, b, dx, dw, db)
                             : lcl_dense_forward(ctx, batch, in, out, alpha, x, w, b, y);
    check_call(s, &snap, st, backward ? "lcl_dense_backward" : "lcl_dense_forward");
}

/* A host array: NULL, or a place in s->host with room for n elements of dtype (element-aligned
 * on the CPU backend, where a misaligned float array is the caller's undefined behaviour; any
 * byte on OpenCL, whose offload promises to handle it). */
static void *host_array(fz_state *s, lcl_context *ctx, lcl_dtype dtype, size_t *n) {
    uint8_t b = fz_u8(&s->in);
    if (b == 0xff)
        return NULL;
    size_t elem = lcl_dtype_size(dtype) ? lcl_dtype_size(dtype) : 1;
    size_t offset = (size_t)fz_u8(&s->in) * 16 + (b & 7);
    if (lcl_context_backend(ctx) != LCL_BACKEND_OPENCL)
        offset -= offset % elem;
    offset %= FZ_HOST_BYTES / 2;
    size_t room = (FZ_HOST_BYTES - offset) / elem;
    if (*n > room && *n <= SIZE_MAX / 2)
        *n = room; /* a size that overflows stays: it must be rejected before any access */
    return s->host + offset;
}

static void step_host(fz_state *s) {
    lcl_context *ctx = fz_ctx(s);
    int backward = fz_u8(&s->in) & 1;
    lcl_dtype dtype = fz_dtype(&s->in);
    size_t n = fz_size(&s->in);
    double alpha = fz_alpha(&s->in);
    void *x = host_array(s, ctx, dtype, &n);
    void *dy = backward ? host_array(s, ctx, dtype, &n) : NULL;
    void *out = host_array(s, ctx, dtype, &n);
    fz_snapshot snap;
    fz_before(s, &snap);
    lcl_status st =
        backward ? lcl_backward_host(ctx, dtype, n, alpha, x, dy, out) : lcl_forward_host(ctx, dtype, n, alpha, x, out);
    const char *name = backward ? "lcl_backward_host" : "lcl_forward_host";
    fz_after(s, &snap, st, name);
    if (st == LCL_SUCCESS && n > 0) {
        size_t bytes = n * lcl_dtype_size(dtype);
        const unsigned char *base = snap.host;
        void *want = malloc(bytes);
        if (!want)
            fz_fail("harness out of memory");
        const void *sel = base + ((unsigned char *)x - s->host);
        const void *grad = dy ? base + ((unsigned char *)dy - s->host) : NULL;
        if (fz_reference(dtype, alpha, n, sel, grad, want)) {
            size_t i = fz_first_difference(dtype, want, out, n);
            if (i < n)
                fz_fail("%s on %s, n=%zu, alpha=%a: element %zu differs from the reference", name,
                        lcl_dtype_name(dtype), n, alpha, i);
        }
        free(want);
    }
    fz_snapshot_free(&snap);
}

/* Transfers with NULL and zero sizes, lcl_finish, and the functions that take any value. */
static void step_misc(fz_state *s) {
    uint8_t what = fz_u8(&s->in);
    lcl_tensor *t = fz_tensor(s);
    fz_snapshot snap;
    fz_before(s, &snap);
    lcl_status st = LCL_SUCCESS;
    void *room = malloc(lcl_tensor_bytes(t) + 1);
    if (!room)
        fz_fail("harness out of memory");
    switch (what % 6) {
    case 0:
        st = lcl_tensor_read(t, what & 0x80 ? NULL : room);
        break;
    case 1:
        st = lcl_finish(fz_ctx(s));
        break;
    case 2:
        if (!lcl_status_string((lcl_status)(int)fz_u64(&s->in)) || !lcl_dtype_name(fz_dtype(&s->in)))
            fz_fail("a name function returned NULL");
        (void)lcl_dtype_size(fz_dtype(&s->in));
        break;
    case 3:
        (void)lcl_context_supports(fz_ctx(s), fz_dtype(&s->in));
        (void)lcl_context_device_name(fz_ctx(s));
        (void)lcl_tensor_size(t);
        (void)lcl_tensor_dtype(t);
        break;
    case 4:
        st = lcl_tensor_create(NULL, LCL_F32, 1, NULL);
        break;
    default:
        st = lcl_tensor_view(t, 0, lcl_tensor_size(t), NULL);
        break;
    }
    fz_after(s, &snap, st, "a misc call");
    fz_snapshot_free(&snap);
    free(room);
}

/* An app's queue wrapped in a second context, used once, released. */
static void step_wrap_queue(fz_state *s) {
    lcl_context *wrapped = NULL;
    cl_command_queue queue = fz_u8(&s->in) == 0x55 ? NULL : lcl_context_cl_queue(g.opencl);
    lcl_status st = lcl_context_wrap_cl(queue, &wrapped);
    if (!queue) {
        if (st != LCL_ERROR_INVALID_ARGUMENT || wrapped)
            fz_fail("lcl_context_wrap_cl(NULL) returned %s", lcl_status_string(st));
        return;
    }
    if (st != LCL_SUCCESS)
        fz_fail("lcl_context_wrap_cl: %s", lcl_last_error());
    lcl_tensor *t = NULL;
    if (lcl_tensor_create(wrapped, LCL_F32, 5, &t) != LCL_SUCCESS)
        fz_fail("lcl_tensor_create on a wrapped queue: %s", lcl_last_error());
    float v[5] = {-1.0f, 0.0f, 2.0f, -0.0f, 3.0f};
    if (lcl_tensor_write(t, v) != LCL_SUCCESS || lcl_forward(wrapped, 0.5, t, t) != LCL_SUCCESS ||
        lcl_tensor_read(t, v) != LCL_SUCCESS || v[0] != -0.5f || v[4] != 3.0f)
        fz_fail("a forward on a wrapped queue: %s", lcl_last_error());
    lcl_tensor_release(t);
    lcl_context_release(wrapped);
}

static const fz_step steps[] = {
    step_create,      step_create, step_view,  step_view,  step_wrap, step_release, step_forward,    step_backward,
    step_from_output, step_masked, step_batch, step_prelu, step_host, step_misc,    step_wrap_queue, step_dense,
};
#define STEP_COUNT (sizeof steps / sizeof steps[0])

/* ---- contexts ------------------------------------------------------------------------------- */

/* A device spec from a table of good and bad ones, or up to 15 bytes of the input. */
static void device_spec(fz_state *s, char *spec, size_t size) {
    static const char *const specs[] = {"cpu",
                                        "auto",
                                        "opencl",
                                        "opencl:0:0",
                                        "opencl:0:1",
                                        "opencl:1:0",
                                        "opencl:-1:0",
                                        "opencl:0:-1",
                                        "opencl:99999999999999999999:0",
                                        "opencl:0",
                                        "opencl:",
                                        "opencl:0:0:0",
                                        "opencl: 0:0",
                                        "",
                                        "CPU",
                                        "cpu ",
                                        "gpu",
                                        "opencl:0x0:0",
                                        "opencl:+0:0"};
    uint8_t b = fz_u8(&s->in);
    if (b < 200) {
        snprintf(spec, size, "%s", specs[b % (sizeof specs / sizeof specs[0])]);
        return;
    }
    size_t len = b % 16;
    for (size_t i = 0; i < len && i + 1 < size; ++i)
        spec[i] = (char)fz_u8(&s->in);
    spec[len < size ? len : size - 1] = '\0';
}

/* A fresh context from a spec: success, or a failure that names why and leaves out alone. */
static lcl_context *fresh_context(fz_state *s) {
    char spec[32];
    device_spec(s, spec, sizeof spec);
    lcl_context *ctx = (lcl_context *)&g;
    lcl_status st = lcl_context_create(spec, &ctx);
    if (st == LCL_SUCCESS)
        return ctx;
    if (ctx != (lcl_context *)&g)
        fz_fail("a failed lcl_context_create(\"%s\") wrote its out argument", spec);
    if (st != LCL_ERROR_INVALID_ARGUMENT && st != LCL_ERROR_DEVICE_NOT_FOUND)
        fz_fail("lcl_context_create(\"%s\") returned %s: %s", spec, lcl_status_string(st), lcl_last_error());
    if (lcl_last_error()[0] == '\0')
        fz_fail("lcl_context_create(\"%s\") failed with an empty message", spec);
    return NULL;
}

static void pick_contexts(fz_state *s) {
    uint8_t b = fz_u8(&s->in);
    lcl_context *opencl = g.opencl ? g.opencl : g.cpu;
    switch (b % 64) {
    case 0: /* rare: a PoCL context builds its kernels anew, a second or more */
        s->fresh = fresh_context(s);
        s->ctx = s->fresh ? s->fresh : g.cpu;
        s->other = opencl;
        break;
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 7:
    case 8:
        s->ctx = g.verified ? g.verified : g.cpu;
        s->other = g.cpu;
        break;
    default:
        s->ctx = b & 1 ? opencl : g.cpu;
        s->other = b & 1 ? g.cpu : opencl;
        break;
    }
}

static lcl_context *create_or_die(const char *spec) {
    lcl_context *ctx = NULL;
    lcl_status st = lcl_context_create(spec, &ctx);
    if (st != LCL_SUCCESS)
        fz_fail("lcl_context_create(\"%s\"): %s", spec, lcl_last_error());
    return ctx;
}

/* One call of every op per dtype, so that each program is built before fuzzing starts. */
static void warm_up(lcl_context *ctx) {
    for (int d = 0; d < 4; ++d) {
        if (!lcl_context_supports(ctx, (lcl_dtype)d))
            continue;
        lcl_tensor *x = NULL, *y = NULL, *m = NULL, *a = NULL;
        double alpha = 0.5;
        double host[4] = {0};
        if (lcl_tensor_create(ctx, (lcl_dtype)d, 64, &x) || lcl_tensor_create(ctx, (lcl_dtype)d, 64, &y) ||
            lcl_tensor_create(ctx, LCL_MASK, 64, &m) || lcl_tensor_create(ctx, (lcl_dtype)d, 2, &a) ||
            lcl_tensor_write(x, (char[512]){0}) || lcl_tensor_write(a, (char[16]){0}) ||
            lcl_forward(ctx, alpha, x, y) || lcl_backward(ctx, alpha, x, x, y) ||
            lcl_forward_masked(ctx, alpha, x, y, m) || lcl_backward_masked(ctx, alpha, m, x, y) ||
            lcl_forward_batch(ctx, 1, &alpha, (const lcl_tensor *const[]){x}, &y) ||
            lcl_backward_batch(ctx, 1, &alpha, (const lcl_tensor *const[]){x}, (const lcl_tensor *const[]){x}, &y) ||
            lcl_prelu_forward(ctx, 2, 4, a, x, y) || lcl_prelu_backward(ctx, 2, 4, a, x, x, y, NULL) ||
            lcl_prelu_backward(ctx, 2, 32, a, x, x, y, a) ||
            lcl_forward_host(ctx, (lcl_dtype)d, 1, alpha, host, host + 1) ||
            lcl_backward_host(ctx, (lcl_dtype)d, 1, alpha, host, host + 1, host + 2) || lcl_finish(ctx))
            fz_fail("warm-up on %s, %s: %s", lcl_context_device_name(ctx), lcl_dtype_name((lcl_dtype)d),
                    lcl_last_error());
        lcl_tensor_release(x);
        lcl_tensor_release(y);
        lcl_tensor_release(m);
        lcl_tensor_release(a);
    }
}

/* PoCL leaves the process with its contexts; the harness releases its own at exit, so that
 * what LeakSanitizer sees then is not ours. */
static void release_globals(void) {
    if (g.buffer)
        clReleaseMemObject(g.buffer);
    lcl_context_release(g.verified);
    lcl_context_release(g.opencl);
    lcl_context_release(g.cpu);
    memset(&g, 0, sizeof g);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (g.cpu)
        return 0;
    g.cpu = create_or_die("cpu");
    lcl_context *opencl = NULL;
    if (lcl_context_create("opencl", &opencl) == LCL_SUCCESS) {
        g.opencl = opencl;
        cl_int err = CL_SUCCESS;
        g.buffer = clCreateBuffer(lcl_context_cl_context(opencl), CL_MEM_READ_WRITE, FZ_APP_BUFFER_BYTES, NULL, &err);
        if (err != CL_SUCCESS)
            fz_fail("clCreateBuffer: %d", err);
        setenv("LEAKYCL_VERIFY", "1", 1);
        setenv("LEAKYCL_ZERO_COPY", "0", 1);
        setenv("LEAKYCL_CHUNK_BYTES", "256", 1);
        g.verified = create_or_die("opencl");
        unsetenv("LEAKYCL_VERIFY");
        unsetenv("LEAKYCL_ZERO_COPY");
        unsetenv("LEAKYCL_CHUNK_BYTES");
        warm_up(g.opencl);
        warm_up(g.verified);
    }
    warm_up(g.cpu);
    atexit(release_globals);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g.cpu)
        LLVMFuzzerInitialize(NULL, NULL);
    fz_state *s = calloc(1, sizeof *s);
    if (!s)
        fz_fail("harness out of memory");
    s->in = (fz_reader){data, size};
    pick_contexts(s);
    for (int k = 0; k < FZ_MAX_STEPS && s->in.left > 0; ++k) {
        fz_step step = steps[fz_u8(&s->in) % STEP_COUNT];
        if (s->count == FZ_MAX_TENSORS && (step == step_create || step == step_view || step == step_wrap))
            step = step_release;
        step(s);
    }
    while (s->count > 0)
        lcl_tensor_release(s->pool[--s->count]);
    lcl_context_release(s->fresh);
    free(s);
    return 0;
}
