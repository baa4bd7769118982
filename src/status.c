/* Names of statuses and dtypes: one table each, so a name cannot drift from its value. The
 * statuses' table is generated from the public enum at build time (cmake/status_names.cmake). */
#include "internal.h"

#include "status_names.h" /* LCL__STATUS_MAP: the enumerators of lcl_status, from leakycl.h */

/* The generated table has every status of the public enum, the last one included. */
#define LCL__STATUS_COUNT_ONE(name) +1
_Static_assert(0 LCL__STATUS_MAP(LCL__STATUS_COUNT_ONE) == LCL_ERROR_BLAS + 1, "LCL__STATUS_MAP and lcl_status differ");
#undef LCL__STATUS_COUNT_ONE

const char *lcl_status_string(lcl_status status) {
    switch (status) {
#define LCL__STATUS_CASE(name)                                                                                         \
    case name:                                                                                                         \
        return #name;
        LCL__STATUS_MAP(LCL__STATUS_CASE)
#undef LCL__STATUS_CASE
    }
    return "LCL_UNKNOWN_STATUS";
}

static const struct {
    const char *name;
    size_t size;
} dtype_table[LCL__DTYPE_COUNT] = {
    [LCL_F32] = {"f32", 4}, [LCL_F16] = {"f16", 2},   [LCL_BF16] = {"bf16", 2},
    [LCL_F64] = {"f64", 8}, [LCL_MASK] = {"mask", 4},
};

bool lcl__dtype_valid(lcl_dtype dtype) { return (unsigned)dtype < LCL__DTYPE_COUNT; }

bool lcl__dtype_is_float(lcl_dtype dtype) { return (unsigned)dtype < LCL__FLOAT_DTYPE_COUNT; }

size_t lcl_dtype_size(lcl_dtype dtype) { return lcl__dtype_valid(dtype) ? dtype_table[dtype].size : 0; }

const char *lcl_dtype_name(lcl_dtype dtype) { return lcl__dtype_valid(dtype) ? dtype_table[dtype].name : "?"; }

size_t lcl__bytes_for(lcl_dtype dtype, size_t n) {
    if (dtype == LCL_MASK)
        return n / 32 * 4 + (n % 32 ? 4 : 0);
    size_t size = lcl_dtype_size(dtype);
    if (size == 0 || n > SIZE_MAX / size)
        return SIZE_MAX;
    return n * size;
}
