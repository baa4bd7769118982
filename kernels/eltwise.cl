/* Leaky ReLU forward and backward over n elements starting at element offsets (any offset:
 * vloadn needs only element alignment). Each work-item owns LCL_CHUNK contiguous vectors of
 * LCL_VEC elements (one vector on GPUs; a longer run on CPU devices, where PoCL runs a chunk
 * per work-item at full speed); the work-item holding the end also does the ragged tail.
 * The comparison is x > 0, so -0, +0 and NaN take the alpha branch; alpha arrives already
 * rounded to the compute type. */

/* The full vectors [first, first + count) of one work-item's chunk, starting at vector
 * `first_vector`, then the scalar tail up to n if the chunk holds the end. Batch kernels pass
 * the first vector of their item; the plain kernels take it from the global id. */
#define LCL_FOR_CHUNK_AT(first_vector, n, VECTOR_BODY, SCALAR_BODY)                                          \
    ulong first = (first_vector);                                                                            \
    if (first * LCL_VEC >= (n))                                                                              \
        return;                                                                                              \
    ulong whole = ((n) - first * LCL_VEC) / LCL_VEC;                                                         \
    ulong count = whole < LCL_CHUNK ? whole : LCL_CHUNK;                                                     \
    for (ulong v = first; v < first + count; ++v) {                                                          \
        VECTOR_BODY                                                                                          \
    }                                                                                                        \
    if (count < LCL_CHUNK) {                                                                                 \
        for (ulong i = (first + count) * LCL_VEC; i < (n); ++i) {                                            \
            SCALAR_BODY                                                                                      \
        }                                                                                                    \
    }

#define LCL_FOR_CHUNK(n, VECTOR_BODY, SCALAR_BODY)                                                           \
    LCL_FOR_CHUNK_AT(get_global_id(0) * LCL_CHUNK, n, VECTOR_BODY, SCALAR_BODY)

/* The bodies every plain and batch kernel runs, on vector v or element i, with x and y (forward)
 * or x, dy and dx (backward) and alpha in scope; LOADV and STOREV are the plain or the fast
 * accesses of dtype.cl's LCL_IO_ set. */
#if LCL_RAW
/* 16-bit storage: the choice on the raw bits (dtype.cl), the product through fp32. */
#define LCL_FORWARD_V(LOADV, STOREV)                                                                         \
    {                                                                                                        \
        LCL_PREFETCH(v, x);                                                                                  \
        storagev_t xr = LOADV(v, x);                                                             \
        STOREV(LCL_RAW_SIGNV(xr) ? xr : LCL_NARROWV(alpha * LCL_WIDENV(xr)), v, y);              \
    }
#define LCL_BACKWARD_V(LOADV, STOREV)                                                                        \
    {                                                                                                        \
        LCL_PREFETCH(v, x);                                                                                  \
        LCL_PREFETCH(v, dy);                                                                                 \
        storagev_t xr = LOADV(v, x);                                                             \
        storagev_t gr = LOADV(v, dy);                                                            \
        STOREV(LCL_RAW_POSV(xr) ? gr : LCL_NARROWV(alpha * LCL_WIDENV(gr)), v, dx);              \
    }
#else
#define LCL_FORWARD_V(LOADV, STOREV)                                                                         \
    {                                                                                                        \
        LCL_PREFETCH(v, x);                                                                                  \
        computev_t xv = LOADV(v, x);                                                                         \
        STOREV(LCL_POSV(xv) ? xv : alpha * xv, v, y);                                                        \
    }
#define LCL_BACKWARD_V(LOADV, STOREV)                                                                        \
    {                                                                                                        \
        LCL_PREFETCH(v, x);                                                                                  \
        LCL_PREFETCH(v, dy);                                                                                 \
        computev_t xv = LOADV(v, x);                                                                         \
        computev_t gv = LOADV(v, dy);                                                                        \
        STOREV(LCL_POSV(xv) ? gv : alpha * gv, v, dx);                                                       \
    }
#endif
#define LCL_FORWARD_S                                                                                        \
    {                                                                                                        \
        compute_t xs = LCL_LOAD1(i, x);                                                                      \
        LCL_STORE1(LCL_POS(xs) ? xs : alpha * xs, i, y);                                                     \
    }
#define LCL_BACKWARD_S                                                                                       \
    {                                                                                                        \
        compute_t xs = LCL_LOAD1(i, x);                                                                      \
        compute_t gs = LCL_LOAD1(i, dy);                                                                     \
        LCL_STORE1(LCL_POS(xs) ? gs : alpha * gs, i, dx);                                                    \
    }

__kernel void lcl_forward(__global const storage_t *x, ulong x_off, __global storage_t *y, ulong y_off,
                          ulong n, compute_t alpha) {
    x += x_off;
    y += y_off;
    if (LCL_FAST2(x, y)) {
        LCL_FOR_CHUNK(n, LCL_FORWARD_V(LCL_IO_LOADV_FAST, LCL_IO_STOREV_FAST), LCL_FORWARD_S)
    } else {
        LCL_FOR_CHUNK(n, LCL_FORWARD_V(LCL_IO_LOADV, LCL_IO_STOREV), LCL_FORWARD_S)
    }
}

__kernel void lcl_backward(__global const storage_t *x, ulong x_off, __global const storage_t *dy,
                           ulong dy_off, __global storage_t *dx, ulong dx_off, ulong n, compute_t alpha) {
    x += x_off;
    dy += dy_off;
    dx += dx_off;
    if (LCL_FAST3(x, dy, dx)) {
        LCL_FOR_CHUNK(n, LCL_BACKWARD_V(LCL_IO_LOADV_FAST, LCL_IO_STOREV_FAST), LCL_BACKWARD_S)
    } else {
        LCL_FOR_CHUNK(n, LCL_BACKWARD_V(LCL_IO_LOADV, LCL_IO_STOREV), LCL_BACKWARD_S)
    }
}
