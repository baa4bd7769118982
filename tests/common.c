/* Test helpers; see common.h. The reference here deliberately shares no code with the
 * library: it is the spec written out once more, in scalar C. */
#include "common.h"

#include <criterion/criterion.h>

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const lcl_dtype test_float_dtypes[TEST_FLOAT_DTYPE_COUNT] = {LCL_F32, LCL_F16, LCL_BF16, LCL_F64};

const char *dtype_label(lcl_dtype dtype) {
    switch (dtype) {
    case LCL_F32:
        return "f32";
    case LCL_F16:
        return "f16";
    case LCL_BF16:
        return "bf16";
    case LCL_F64:
        return "f64";
    case LCL_MASK:
        return "mask";
    }
    return "?";
}

size_t elem_size(lcl_dtype dtype) {
    switch (dtype) {
    case LCL_F16:
    case LCL_BF16:
        return 2;
    case LCL_F64:
        return 8;
    default:
        return 4;
    }
}

/* ---- status checks ------------------------------------------------------------------------ */

void test_expect_status(lcl_status got, lcl_status want, const char *call, const char *file, int line) {
    /* Copy the message first: it is only valid until the next leakycl call. */
    char *message = strdup(lcl_last_error());
    cr_assert(message != NULL);
    if (got != want)
        cr_assert_fail("%s:%d: %s returned %s, expected %s; lcl_last_error(): \"%s\"", file, line, call,
                       lcl_status_string(got), lcl_status_string(want), message);
    if (want != LCL_SUCCESS)
        cr_assert(message[0] != '\0', "%s:%d: %s returned %s but left lcl_last_error() empty", file, line, call,
                  lcl_status_string(got));
    free(message);
}

/* ---- contexts ----------------------------------------------------------------------------- */

int is_opencl(const lcl_context *ctx) { return lcl_context_backend(ctx) == LCL_BACKEND_OPENCL; }

lcl_context *test_context(void) {
    const char *device = getenv("LEAKYCL_DEVICE");
    lcl_context *ctx = NULL;
    lcl_status status = lcl_context_create(NULL, &ctx);
    char *message = strdup(lcl_last_error());
    cr_assert(status == LCL_SUCCESS && ctx != NULL, "lcl_context_create(NULL) with LEAKYCL_DEVICE=%s: %s: %s",
              device ? device : "(unset)", lcl_status_string(status), message);
    free(message);
    if (device && strcmp(device, "opencl") == 0)
        cr_assert(is_opencl(ctx), "LEAKYCL_DEVICE=opencl gave the %s, not an OpenCL device",
                  lcl_context_device_name(ctx));
    return ctx;
}

lcl_context *test_cpu_context(void) {
    lcl_context *ctx = NULL;
    OK(lcl_context_create("cpu", &ctx));
    cr_assert(lcl_context_backend(ctx) == LCL_BACKEND_CPU);
    return ctx;
}

void app_cl_open(app_cl *app) {
    memset(app, 0, sizeof *app);
    cl_uint count = 0;
    cl_int err = clGetPlatformIDs(1, &app->platform, &count);
    cr_assert(err == CL_SUCCESS && count > 0, "no OpenCL platform (clGetPlatformIDs: %d): is PoCL installed?", err);
    err = clGetDeviceIDs(app->platform, CL_DEVICE_TYPE_ALL, 1, &app->device, &count);
    cr_assert(err == CL_SUCCESS && count > 0, "no OpenCL device on platform 0 (clGetDeviceIDs: %d)", err);
    app->context = clCreateContext(NULL, 1, &app->device, NULL, NULL, &err);
    cr_assert(err == CL_SUCCESS, "clCreateContext: %d", err);
    app->queue = clCreateCommandQueue(app->context, app->device, 0, &err);
    cr_assert(err == CL_SUCCESS, "clCreateCommandQueue: %d", err);
}

void app_cl_close(app_cl *app) {
    if (app->queue)
        clReleaseCommandQueue(app->queue);
    if (app->context)
        clReleaseContext(app->context);
    memset(app, 0, sizeof *app);
}

cl_mem app_buffer(cl_context context, size_t bytes) {
    cl_int err = CL_SUCCESS;
    cl_mem buffer = clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, NULL, &err);
    cr_assert(err == CL_SUCCESS && buffer != NULL, "clCreateBuffer(%zu bytes): %d", bytes, err);
    return buffer;
}

unsigned opencl_device_count(cl_device_type type) {
    cl_platform_id platforms[16];
    cl_uint platform_count = 0;
    if (clGetPlatformIDs(16, platforms, &platform_count) != CL_SUCCESS)
        return 0;
    unsigned total = 0;
    for (cl_uint p = 0; p < platform_count && p < 16; ++p) {
        cl_uint count = 0;
        if (clGetDeviceIDs(platforms[p], type, 0, NULL, &count) == CL_SUCCESS)
            total += count;
    }
    return total;
}

/* ---- random numbers ----------------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t test_seed(void) {
    static uint64_t seed;
    static int have_seed;
    if (!have_seed) {
        const char *env = getenv("LEAKYCL_TEST_SEED");
        if (env && *env) {
            seed = strtoull(env, NULL, 0);
        } else {
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            uint64_t mix = (uint64_t)now.tv_sec * 1000000007ull ^ (uint64_t)now.tv_nsec ^ ((uint64_t)getpid() << 32);
            seed = splitmix64(&mix);
        }
        have_seed = 1;
    }
    return seed;
}

void rng_init(test_rng *rng, uint64_t stream) {
    uint64_t s = test_seed() ^ (stream * 0xd1b54a32d192ed03ull);
    rng->state = splitmix64(&s);
}

uint64_t rng_next(test_rng *rng) { return splitmix64(&rng->state); }

size_t rng_below(test_rng *rng, size_t bound) { return bound ? (size_t)(rng_next(rng) % bound) : 0; }

/* ---- bit patterns ------------------------------------------------------------------------- */

/* An IEEE-style layout: sign, exp_bits of exponent, man_bits of fraction. */
typedef struct layout {
    unsigned width, exp_bits, man_bits;
} layout;

static layout layout_of(lcl_dtype dtype) {
    switch (dtype) {
    case LCL_F16:
        return (layout){16, 5, 10};
    case LCL_BF16:
        return (layout){16, 8, 7};
    case LCL_F64:
        return (layout){64, 11, 52};
    default:
        return (layout){32, 8, 23};
    }
}

static uint64_t sign_bit(layout l) { return 1ull << (l.width - 1); }
static uint64_t inf_bits(layout l) { return ((1ull << l.exp_bits) - 1) << l.man_bits; }
static uint64_t one_bits(layout l) { return ((1ull << (l.exp_bits - 1)) - 1) << l.man_bits; }

uint64_t bits_get(lcl_dtype dtype, const void *array, size_t i) {
    switch (elem_size(dtype)) {
    case 2:
        return ((const uint16_t *)array)[i];
    case 8:
        return ((const uint64_t *)array)[i];
    default:
        return ((const uint32_t *)array)[i];
    }
}

void bits_set(lcl_dtype dtype, void *array, size_t i, uint64_t bits) {
    switch (elem_size(dtype)) {
    case 2:
        ((uint16_t *)array)[i] = (uint16_t)bits;
        break;
    case 8:
        ((uint64_t *)array)[i] = bits;
        break;
    default:
        ((uint32_t *)array)[i] = (uint32_t)bits;
        break;
    }
}

int bits_is_nan(lcl_dtype dtype, uint64_t bits) {
    layout l = layout_of(dtype);
    uint64_t magnitude = bits & (sign_bit(l) - 1);
    return magnitude > inf_bits(l);
}

int bits_same(lcl_dtype dtype, uint64_t a, uint64_t b) {
    return a == b || (bits_is_nan(dtype, a) && bits_is_nan(dtype, b));
}

uint64_t poison_bits(lcl_dtype dtype) {
    switch (dtype) {
    case LCL_F16:
        return 0x7d5a;
    case LCL_BF16:
        return 0x7fa5;
    case LCL_F64:
        return 0x7ff5a5a5a5a5a5a5ull;
    default:
        return 0x7fa5a5a5;
    }
}

/* ---- storage <-> compute conversions, written from the formats' definitions ---------------- */

static float f32_of_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t bits_of_f32(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static double f64_of_bits(uint64_t u) {
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static uint64_t bits_of_f64(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

/* gcc's float -> _Float16 conversion rounds to nearest even and keeps subnormals. */
static float f16_to_f32(uint16_t h) {
    _Float16 v;
    memcpy(&v, &h, sizeof v);
    return (float)v;
}

static uint16_t f32_to_f16(float f) {
    _Float16 v = (_Float16)f;
    uint16_t h;
    memcpy(&h, &v, sizeof h);
    return h;
}

static float bf16_to_f32(uint16_t b) { return f32_of_bits((uint32_t)b << 16); }

/* Round to nearest even on the dropped 16 bits; a NaN must stay a NaN (rounding its bits
 * could carry into the exponent and give infinity), so it keeps its top bits, made quiet. */
static uint16_t f32_to_bf16(float f) {
    uint32_t u = bits_of_f32(f);
    if (isnan(f))
        return (uint16_t)((u >> 16) | 0x40);
    uint32_t bias = 0x7fff + ((u >> 16) & 1);
    return (uint16_t)((u + bias) >> 16);
}

/* The compute-type (fp32) value of a F32/F16/BF16 element. */
static float to_compute(lcl_dtype dtype, uint64_t bits) {
    switch (dtype) {
    case LCL_F16:
        return f16_to_f32((uint16_t)bits);
    case LCL_BF16:
        return bf16_to_f32((uint16_t)bits);
    default:
        return f32_of_bits((uint32_t)bits);
    }
}

/* An fp32 result rounded once to the storage type. */
static uint64_t to_storage(lcl_dtype dtype, float v) {
    switch (dtype) {
    case LCL_F16:
        return f32_to_f16(v);
    case LCL_BF16:
        return f32_to_bf16(v);
    default:
        return bits_of_f32(v);
    }
}

double bits_value(lcl_dtype dtype, uint64_t bits) {
    return dtype == LCL_F64 ? f64_of_bits(bits) : (double)to_compute(dtype, bits);
}

uint64_t bits_of(lcl_dtype dtype, double v) { return dtype == LCL_F64 ? bits_of_f64(v) : to_storage(dtype, (float)v); }

/* ---- fills -------------------------------------------------------------------------------- */

void *test_alloc(lcl_dtype dtype, size_t n) {
    void *p = calloc(n ? n : 1, elem_size(dtype));
    cr_assert(p != NULL, "out of host memory for %zu %s elements", n, dtype_label(dtype));
    return p;
}

void fill_poison(lcl_dtype dtype, void *array, size_t n) {
    for (size_t i = 0; i < n; ++i)
        bits_set(dtype, array, i, poison_bits(dtype));
}

#define SPECIAL_CAP 32

/* The hand-picked values, each with both signs. */
static size_t special_values(lcl_dtype dtype, double alpha, uint64_t *out) {
    layout l = layout_of(dtype);
    uint64_t inf = inf_bits(l);
    uint64_t one = one_bits(l);
    uint64_t smallest_normal = 1ull << l.man_bits;
    const uint64_t magnitudes[] = {
        0,                                /* zero */
        inf,                              /* infinity */
        inf | (1ull << (l.man_bits - 1)), /* quiet NaN */
        inf | 1,                          /* signalling NaN */
        1,                                /* smallest subnormal */
        smallest_normal - 1,              /* largest subnormal */
        smallest_normal,                  /* smallest normal */
        inf - 1,                          /* largest finite */
        one,
        one - 1,
        one + 1, /* 1 and its neighbours */
        bits_of(dtype, alpha) & (sign_bit(l) - 1),
        bits_of(dtype, 1.0 / alpha) & (sign_bit(l) - 1),
    };
    size_t count = 0;
    for (size_t i = 0; i < sizeof magnitudes / sizeof magnitudes[0]; ++i) {
        out[count++] = magnitudes[i];
        out[count++] = magnitudes[i] | sign_bit(l);
    }
    return count;
}

/* One element: a special, a random subnormal, random bits, or a moderate value. */
static uint64_t random_element(layout l, const uint64_t *specials, size_t special_count, test_rng *rng) {
    uint64_t r = rng_next(rng);
    uint64_t sign = (r >> 63) ? sign_bit(l) : 0;
    uint64_t mantissa = (r >> 4) & ((1ull << l.man_bits) - 1);
    uint64_t all = l.width == 64 ? ~0ull : (1ull << l.width) - 1;
    switch (r & 15) {
    case 0:
    case 1:
    case 2:
    case 3:
        return specials[rng_below(rng, special_count)];
    case 4:
    case 5:
        return sign | (mantissa ? mantissa : 1);
    case 6:
    case 7:
        return rng_next(rng) & all;
    default: {
        /* Exponents near 1's, so products stay in the normal range and show rounding. */
        uint64_t exponent = (one_bits(l) >> l.man_bits) - 8 + rng_below(rng, 16);
        return sign | (exponent << l.man_bits) | mantissa;
    }
    }
}

void fill_random(lcl_dtype dtype, void *array, size_t n, double alpha, test_rng *rng) {
    uint64_t specials[SPECIAL_CAP];
    size_t special_count = special_values(dtype, alpha, specials);
    layout l = layout_of(dtype);
    for (size_t i = 0; i < n; ++i) {
        uint64_t bits;
        do
            bits = random_element(l, specials, special_count, rng);
        while (bits == poison_bits(dtype));
        bits_set(dtype, array, i, bits);
    }
}

void fill_signed(lcl_dtype dtype, void *array, size_t n, int positive, test_rng *rng) {
    layout l = layout_of(dtype);
    for (size_t i = 0; i < n; ++i) {
        uint64_t exponent = (one_bits(l) >> l.man_bits) - 8 + rng_below(rng, 16);
        uint64_t mantissa = rng_next(rng) & ((1ull << l.man_bits) - 1);
        uint64_t bits = (exponent << l.man_bits) | mantissa;
        bits_set(dtype, array, i, positive ? bits : bits | sign_bit(l));
    }
}

/* ---- the reference ------------------------------------------------------------------------ */

/* x > 0 keeps x; otherwise one multiply in the compute type, alpha first rounded to it, the
 * product rounded once to storage. The x > 0 branch returns the input bits untouched. */
uint64_t ref_forward(lcl_dtype dtype, double alpha, uint64_t x) {
    if (dtype == LCL_F64) {
        double v = f64_of_bits(x);
        return v > 0 ? x : bits_of_f64(alpha * v);
    }
    float v = to_compute(dtype, x);
    float a = (float)alpha;
    float product = a * v;
    return v > 0 ? x : to_storage(dtype, product);
}

uint64_t ref_backward(lcl_dtype dtype, double alpha, uint64_t x, uint64_t dy) {
    if (dtype == LCL_F64) {
        double g = f64_of_bits(dy);
        return f64_of_bits(x) > 0 ? dy : bits_of_f64(alpha * g);
    }
    float g = to_compute(dtype, dy);
    float a = (float)alpha;
    float product = a * g;
    return to_compute(dtype, x) > 0 ? dy : to_storage(dtype, product);
}

void ref_forward_array(lcl_dtype dtype, size_t n, double alpha, const void *x, void *y) {
    for (size_t i = 0; i < n; ++i)
        bits_set(dtype, y, i, ref_forward(dtype, alpha, bits_get(dtype, x, i)));
}

void ref_backward_array(lcl_dtype dtype, size_t n, double alpha, const void *x, const void *dy, void *dx) {
    for (size_t i = 0; i < n; ++i)
        bits_set(dtype, dx, i, ref_backward(dtype, alpha, bits_get(dtype, x, i), bits_get(dtype, dy, i)));
}

/* ---- comparisons -------------------------------------------------------------------------- */

/* "0x3c00 (1)" with as many hex digits as the storage type has. */
static void describe(lcl_dtype dtype, uint64_t bits, char *out, size_t size) {
    int digits = (int)elem_size(dtype) * 2;
    snprintf(out, size, "0x%0*llx (%.17g)", digits, (unsigned long long)bits, bits_value(dtype, bits));
}

/* The element was left as poisoned, and its inputs could not have copied the poison over. */
static int not_written(const compare_args *a, size_t i, uint64_t got) {
    uint64_t poison = poison_bits(a->dtype);
    if (got != poison)
        return 0;
    if (a->sel && bits_get(a->dtype, a->sel, i) == poison)
        return 0;
    return !(a->dy && bits_get(a->dtype, a->dy, i) == poison);
}

static void describe_first(const compare_args *a, size_t i, size_t bad, const char *label, char *msg, size_t msg_size) {
    char got[64], want[64], inputs[160] = "";
    uint64_t got_bits = bits_get(a->dtype, a->got, i);
    describe(a->dtype, got_bits, got, sizeof got);
    describe(a->dtype, bits_get(a->dtype, a->expected, i), want, sizeof want);
    if (a->sel) {
        char sel[64], dy[64] = "";
        describe(a->dtype, bits_get(a->dtype, a->sel, i), sel, sizeof sel);
        if (a->dy)
            describe(a->dtype, bits_get(a->dtype, a->dy, i), dy, sizeof dy);
        snprintf(inputs, sizeof inputs, "; input %s%s%s", sel, a->dy ? ", dy " : "", dy);
    }
    snprintf(msg, msg_size,
             "%s: %s element %zu of %zu: got %s, expected %s%s%s; %zu of %zu elements wrong "
             "(seed %llu: LEAKYCL_TEST_SEED=%llu repeats it)",
             label, dtype_label(a->dtype), i, a->n, got, want, not_written(a, i, got_bits) ? " (never written)" : "",
             inputs, bad, a->n, (unsigned long long)test_seed(), (unsigned long long)test_seed());
}

size_t compare_results(const compare_args *a, const char *label, char *msg, size_t msg_size) {
    size_t bad = 0;
    size_t first = 0;
    for (size_t i = 0; i < a->n; ++i) {
        uint64_t got = bits_get(a->dtype, a->got, i);
        uint64_t want = bits_get(a->dtype, a->expected, i);
        if (bits_same(a->dtype, got, want) && !not_written(a, i, got))
            continue;
        if (bad++ == 0)
            first = i;
    }
    if (bad && msg)
        describe_first(a, first, bad, label, msg, msg_size);
    return bad;
}

static void vassert_results(const compare_args *args, const char *label_fmt, va_list ap) {
    char label[256];
    vsnprintf(label, sizeof label, label_fmt, ap);
    char msg[1024];
    if (compare_results(args, label, msg, sizeof msg))
        cr_assert_fail("%s", msg);
}

void assert_results(const compare_args *args, const char *label_fmt, ...) {
    va_list ap;
    va_start(ap, label_fmt);
    vassert_results(args, label_fmt, ap);
    va_end(ap);
}

void check_forward(lcl_dtype dtype, double alpha, size_t n, const void *x, const void *got, const char *label_fmt,
                   ...) {
    void *want = test_alloc(dtype, n);
    ref_forward_array(dtype, n, alpha, x, want);
    compare_args args = {dtype, n, x, NULL, want, got};
    char label[256];
    va_list ap;
    va_start(ap, label_fmt);
    vsnprintf(label, sizeof label, label_fmt, ap);
    va_end(ap);
    assert_results(&args, "%s, forward alpha=%.17g", label, alpha);
    free(want);
}

void check_backward(lcl_dtype dtype, double alpha, size_t n, const void *x, const void *dy, const void *got,
                    const char *label_fmt, ...) {
    void *want = test_alloc(dtype, n);
    ref_backward_array(dtype, n, alpha, x, dy, want);
    compare_args args = {dtype, n, x, dy, want, got};
    char label[256];
    va_list ap;
    va_start(ap, label_fmt);
    vsnprintf(label, sizeof label, label_fmt, ap);
    va_end(ap);
    assert_results(&args, "%s, backward alpha=%.17g", label, alpha);
    free(want);
}

void check_poisoned(lcl_dtype dtype, size_t n, const void *got, const char *label_fmt, ...) {
    char label[256];
    va_list ap;
    va_start(ap, label_fmt);
    vsnprintf(label, sizeof label, label_fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < n; ++i) {
        uint64_t bits = bits_get(dtype, got, i);
        if (bits == poison_bits(dtype))
            continue;
        char have[64];
        describe(dtype, bits, have, sizeof have);
        cr_assert_fail("%s: %s element %zu of %zu changed to %s, must be untouched", label, dtype_label(dtype), i, n,
                       have);
    }
}

/* ---- tensors ------------------------------------------------------------------------------ */

lcl_tensor *tensor_new(lcl_context *ctx, lcl_dtype dtype, size_t n) {
    lcl_tensor *t = NULL;
    OK(lcl_tensor_create(ctx, dtype, n, &t));
    cr_assert(t != NULL);
    return t;
}

lcl_tensor *tensor_with(lcl_context *ctx, lcl_dtype dtype, size_t n, const void *data) {
    lcl_tensor *t = tensor_new(ctx, dtype, n);
    OK(lcl_tensor_write(t, data));
    return t;
}

lcl_tensor *tensor_poisoned(lcl_context *ctx, lcl_dtype dtype, size_t n) {
    lcl_tensor *t = tensor_new(ctx, dtype, n);
    tensor_poison(t);
    return t;
}

lcl_tensor *view_new(lcl_tensor *parent, size_t offset, size_t n) {
    lcl_tensor *v = NULL;
    OK(lcl_tensor_view(parent, offset, n, &v));
    cr_assert(v != NULL);
    return v;
}

void tensor_poison(lcl_tensor *t) {
    lcl_dtype dtype = lcl_tensor_dtype(t);
    size_t n = lcl_tensor_size(t);
    void *poison = test_alloc(dtype, n);
    fill_poison(dtype, poison, n);
    OK(lcl_tensor_write(t, poison));
    free(poison);
}

void *tensor_fetch(const lcl_tensor *t) {
    size_t bytes = lcl_tensor_bytes(t);
    void *host = malloc(bytes ? bytes : 1);
    cr_assert(host != NULL);
    OK(lcl_tensor_read(t, host));
    return host;
}

/* ---- one op, host arrays in and out ------------------------------------------------------- */

void *run_forward(lcl_context *ctx, lcl_dtype dtype, double alpha, size_t n, const void *x) {
    lcl_tensor *tx = tensor_with(ctx, dtype, n, x);
    lcl_tensor *ty = tensor_poisoned(ctx, dtype, n);
    OK(lcl_forward(ctx, alpha, tx, ty));
    void *y = tensor_fetch(ty);
    lcl_tensor_release(tx);
    lcl_tensor_release(ty);
    return y;
}

/* backward and backward_from_output differ only in which function runs. */
typedef lcl_status (*backward_fn)(lcl_context *, double, const lcl_tensor *, const lcl_tensor *, lcl_tensor *);

static void *run_backward_with(backward_fn fn, lcl_context *ctx, lcl_dtype dtype, double alpha, size_t n,
                               const void *sel, const void *dy) {
    lcl_tensor *tsel = tensor_with(ctx, dtype, n, sel);
    lcl_tensor *tdy = tensor_with(ctx, dtype, n, dy);
    lcl_tensor *tdx = tensor_poisoned(ctx, dtype, n);
    OK(fn(ctx, alpha, tsel, tdy, tdx));
    void *dx = tensor_fetch(tdx);
    lcl_tensor_release(tsel);
    lcl_tensor_release(tdy);
    lcl_tensor_release(tdx);
    return dx;
}

void *run_backward(lcl_context *ctx, lcl_dtype dtype, double alpha, size_t n, const void *x, const void *dy) {
    return run_backward_with(lcl_backward, ctx, dtype, alpha, n, x, dy);
}

void *run_backward_from_output(lcl_context *ctx, lcl_dtype dtype, double alpha, size_t n, const void *y,
                               const void *dy) {
    return run_backward_with(lcl_backward_from_output, ctx, dtype, alpha, n, y, dy);
}

/* ---- planted kernel sources (LEAKYCL_KERNEL_DIR) ------------------------------------------ */

/* The planted copy; removed after each test, failed or not. */
static char planted_dir[64];

void kernels_plant_remove(void) {
    if (!planted_dir[0])
        return;
    DIR *dir = opendir(planted_dir);
    for (struct dirent *e; dir && (e = readdir(dir));) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", planted_dir, e->d_name);
        if (e->d_name[0] != '.')
            unlink(path);
    }
    if (dir)
        closedir(dir);
    rmdir(planted_dir);
    planted_dir[0] = '\0';
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    cr_assert(text && fread(text, 1, (size_t)size, f) == (size_t)size, "cannot read %s", path);
    text[size] = '\0';
    fclose(f);
    return text;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    cr_assert(f && fputs(text, f) >= 0 && fclose(f) == 0, "cannot write %s", path);
}

/* text with the first `limit` occurrences of `from` replaced by `to` (limit 0: all); *count
 * gets how many were replaced. */
static char *replace(const char *text, const char *from, const char *to, size_t limit, size_t *count) {
    size_t from_len = strlen(from), to_len = strlen(to), n = 0;
    for (const char *p = strstr(text, from); p && (!limit || n < limit); p = strstr(p + from_len, from))
        ++n;
    char *out = malloc(strlen(text) + n * to_len + 1), *w = out;
    cr_assert(out);
    const char *r = text;
    for (size_t i = 0; i < n; ++i) {
        const char *p = strstr(r, from);
        memcpy(w, r, (size_t)(p - r));
        w += p - r;
        memcpy(w, to, to_len);
        w += to_len;
        r = p + from_len;
    }
    strcpy(w, r);
    *count = n;
    return out;
}

/* Copies every kernels/NAME.cl into a fresh directory, replacing `from` by `to` (the first
 * `limit` times per file, 0: all), sets LEAKYCL_KERNEL_DIR to it and returns how many
 * replacements were made. */
size_t kernels_plant(const char *from, const char *to, size_t limit) {
    snprintf(planted_dir, sizeof planted_dir, "/tmp/leakycl-kernels-XXXXXX");
    cr_assert(mkdtemp(planted_dir), "mkdtemp failed");
    DIR *dir = opendir(LEAKYCL_SOURCE_DIR "/kernels");
    cr_assert(dir, "cannot list %s/kernels", LEAKYCL_SOURCE_DIR);
    size_t total = 0, files = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".cl") != 0)
            continue;
        char path[512], copy[512];
        snprintf(path, sizeof path, "%s/kernels/%s", LEAKYCL_SOURCE_DIR, e->d_name);
        snprintf(copy, sizeof copy, "%s/%s", planted_dir, e->d_name);
        char *text = read_file(path);
        size_t count = 0;
        char *planted = replace(text, from, to, limit, &count);
        write_file(copy, planted);
        total += count;
        ++files;
        free(text);
        free(planted);
    }
    closedir(dir);
    cr_assert(files > 0, "no kernels/*.cl in %s", LEAKYCL_SOURCE_DIR);
    setenv("LEAKYCL_KERNEL_DIR", planted_dir, 1);
    return total;
}
