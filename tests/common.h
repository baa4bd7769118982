/* Helpers shared by the leakycl tests: contexts, random fills in storage bit patterns, an
 * independent scalar reference, and comparisons whose messages name the element, its inputs
 * and both values.
 *
 * Criterion forks before each test, so nothing here creates OpenCL objects until a test
 * calls it. */
#ifndef LEAKYCL_TESTS_COMMON_H
#define LEAKYCL_TESTS_COMMON_H

#include "leakycl.h"

#include <stddef.h>
#include <stdint.h>

/* The four float dtypes, for loops; dtype_label gives a name without asking the library. */
#define TEST_FLOAT_DTYPE_COUNT 4
extern const lcl_dtype test_float_dtypes[TEST_FLOAT_DTYPE_COUNT];
const char *dtype_label(lcl_dtype dtype);
size_t elem_size(lcl_dtype dtype); /* bytes per element of a float dtype */

/* ---- status checks ------------------------------------------------------------------------ */

/* Asserts that `call` returned `want`; a failure names the call, both statuses and
 * lcl_last_error(). For a failure status it also asserts that lcl_last_error() is non-empty. */
#define OK(call) test_expect_status((call), LCL_SUCCESS, #call, __FILE__, __LINE__)
#define EXPECT_STATUS(call, want) test_expect_status((call), (want), #call, __FILE__, __LINE__)
void test_expect_status(lcl_status got, lcl_status want, const char *call, const char *file, int line);

/* ---- contexts ----------------------------------------------------------------------------- */

/* The context the suite runs on: lcl_context_create(NULL), i.e. $LEAKYCL_DEVICE. With
 * LEAKYCL_DEVICE=opencl it must be an OpenCL context (a missing PoCL fails, never skips). */
lcl_context *test_context(void);
/* The CPU backend, the library's own reference. */
lcl_context *test_cpu_context(void);
int is_opencl(const lcl_context *ctx);

/* OpenCL objects the app (the test) owns, on the first device of the first platform. */
typedef struct app_cl {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
} app_cl;
void app_cl_open(app_cl *app);
void app_cl_close(app_cl *app);
/* A buffer of `bytes` in `context`, asserting success. */
cl_mem app_buffer(cl_context context, size_t bytes);
/* How many OpenCL devices of `type` all platforms have (0 without OpenCL). */
unsigned opencl_device_count(cl_device_type type);

/* ---- random numbers ----------------------------------------------------------------------- */

/* A fresh seed per process (each Criterion test is one), or $LEAKYCL_TEST_SEED. Every
 * comparison failure prints it. */
uint64_t test_seed(void);
typedef struct test_rng {
    uint64_t state;
} test_rng;
/* Seeds from test_seed() and `stream` (e.g. a thread number), so streams differ. */
void rng_init(test_rng *rng, uint64_t stream);
uint64_t rng_next(test_rng *rng);
size_t rng_below(test_rng *rng, size_t bound); /* uniform in [0, bound) */

/* ---- elements as bit patterns of the storage type ----------------------------------------- */

uint64_t bits_get(lcl_dtype dtype, const void *array, size_t i);
void bits_set(lcl_dtype dtype, void *array, size_t i, uint64_t bits);
int bits_is_nan(lcl_dtype dtype, uint64_t bits);
double bits_value(lcl_dtype dtype, uint64_t bits); /* for messages and hand-picked checks */
/* v rounded to the storage type as the library stores a result: through fp32 for
 * F32/F16/BF16 (exactly as the reference rounds), directly for F64. */
uint64_t bits_of(lcl_dtype dtype, double v);
/* Any NaN equals any NaN; otherwise bit for bit. */
int bits_same(lcl_dtype dtype, uint64_t a, uint64_t b);

/* A signalling NaN with a payload no arithmetic produces: an element still holding it after
 * an op was not written (unless the element's input was this very pattern). */
uint64_t poison_bits(lcl_dtype dtype);

/* calloc'd room for n elements (at least one byte, so n = 0 gives a non-NULL pointer). */
void *test_alloc(lcl_dtype dtype, size_t n);
void fill_poison(lcl_dtype dtype, void *array, size_t n);
/* Mixes negatives, positives, ±0, NaNs, ±inf, subnormals (smallest, largest and random),
 * the largest finite, values next to 1 and values equal to ±alpha; never the poison. */
void fill_random(lcl_dtype dtype, void *array, size_t n, double alpha, test_rng *rng);
/* Only values > 0 or only values <= 0 (NaN counts as <= 0), for tests that need one branch. */
void fill_signed(lcl_dtype dtype, void *array, size_t n, int positive, test_rng *rng);

/* ---- the reference, written independently of the library ---------------------------------- */

uint64_t ref_forward(lcl_dtype dtype, double alpha, uint64_t x);
uint64_t ref_backward(lcl_dtype dtype, double alpha, uint64_t x, uint64_t dy);
void ref_forward_array(lcl_dtype dtype, size_t n, double alpha, const void *x, void *y);
void ref_backward_array(lcl_dtype dtype, size_t n, double alpha, const void *x, const void *dy, void *dx);

/* ---- comparisons -------------------------------------------------------------------------- */

/* One result array against the expected one. sel is the input whose sign selects (x, or y for
 * backward_from_output), dy is NULL for a forward; both only feed the message and the
 * not-written check. */
typedef struct compare_args {
    lcl_dtype dtype;
    size_t n;
    const void *sel;
    const void *dy;
    const void *expected;
    const void *got;
} compare_args;

/* Returns how many elements differ or were not written and, when there are any, describes
 * the first in msg (the label first). Never asserts, so threads may call it. */
size_t compare_results(const compare_args *args, const char *label, char *msg, size_t msg_size);
/* The same, failing the test with that message. */
void assert_results(const compare_args *args, const char *label_fmt, ...) __attribute__((format(printf, 2, 3)));
/* got against the reference forward / backward of the inputs. */
void check_forward(lcl_dtype dtype, double alpha, size_t n, const void *x, const void *got, const char *label_fmt, ...)
    __attribute__((format(printf, 6, 7)));
void check_backward(lcl_dtype dtype, double alpha, size_t n, const void *x, const void *dy, const void *got,
                    const char *label_fmt, ...) __attribute__((format(printf, 7, 8)));
/* Every element of got is the poison: nothing was written. */
void check_poisoned(lcl_dtype dtype, size_t n, const void *got, const char *label_fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- tensors, asserting success ----------------------------------------------------------- */

lcl_tensor *tensor_new(lcl_context *ctx, lcl_dtype dtype, size_t n);
lcl_tensor *tensor_with(lcl_context *ctx, lcl_dtype dtype, size_t n, const void *data);
lcl_tensor *tensor_poisoned(lcl_context *ctx, lcl_dtype dtype, size_t n);
lcl_tensor *view_new(lcl_tensor *parent, size_t offset, size_t n);
void tensor_poison(lcl_tensor *t);
/* A malloc'd copy of the tensor's elements (the caller frees it). */
void *tensor_fetch(const lcl_tensor *t);

/* One op on fresh tensors: inputs written from host arrays, the output poisoned first; returns
 * the output as a malloc'd host array (the caller frees it). Asserts the op succeeded. */
void *run_forward(lcl_context *ctx, lcl_dtype dtype, double alpha, size_t n, const void *x);
void *run_backward(lcl_context *ctx, lcl_dtype dtype, double alpha, size_t n, const void *x, const void *dy);
void *run_backward_from_output(lcl_context *ctx, lcl_dtype dtype, double alpha, size_t n, const void *y,
                               const void *dy);

/* Copies every kernels/NAME.cl into a fresh temporary folder with the first `limit` occurrences of
 * `from` per file replaced by `to` (0: all), points LEAKYCL_KERNEL_DIR at it and returns the
 * number of replacements; kernels_plant_remove (a suite's .fini) deletes the folder. */
size_t kernels_plant(const char *from, const char *to, size_t limit);
void kernels_plant_remove(void);

#endif /* LEAKYCL_TESTS_COMMON_H */
