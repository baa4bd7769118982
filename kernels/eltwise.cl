/* Leaky ReLU forward and backward over n elements starting at element offsets (any offset:
 * vloadn needs only element alignment). Each work-item owns LCL_CHUNK contiguous vectors of
 * LCL_VEC elements (one vector on GPUs; a longer run on CPU devices, where PoCL runs a chunk
 * per work-item at full speed); the work-item holding the end also does the ragged tail.
 * The comparison is x > 0, so -0, +0 and NaN take the alpha branch; alpha arrives already
 * rounded to the compute type.
 *
 * Both ops are one function per vector and one per element: out = grad where sel > 0, else
 * alpha * grad, with (sel, grad) = (x, x) for the forward and (x, dy) for the backward. `fast`
 * picks the whole-vector or non-temporal accesses (dtype.cl's LCL_FAST2/LCL_FAST3 decide once
 * per launch); it and `backward` are constants at every call, so each call compiles to its own
 * loop. */

/* Vector v, with a slope per lane (PReLU's may change within a vector; the plain ops pass one
 * slope in every lane). */
inline void lcl_select_vector(__global const storage_t *sel, __global const storage_t *grad, __global storage_t *out,
                              ulong v, computev_t alpha, bool fast, bool backward) {
    lcl_prefetch(v, sel);
    if (backward)
        lcl_prefetch(v, grad);
    /* With 16-bit storage the choice is on the raw bits (dtype.cl); the forward may let a
     * positive NaN through as itself: NaN either way. */
    lcl_iov_t s = lcl_io_load(v, sel, fast);
    lcl_iov_t g = backward ? lcl_io_load(v, grad, fast) : s;
    lcl_io_store((backward ? LCL_IO_POSV(s) : LCL_IO_SIGNV(s)) ? g : lcl_io_scaled(g, alpha), v, out, fast);
}

/* Element i. */
inline void lcl_select_element(__global const storage_t *sel, __global const storage_t *grad, __global storage_t *out,
                               ulong i, compute_t alpha, bool backward) {
    compute_t s = LCL_LOAD1(i, sel);
    compute_t g = backward ? LCL_LOAD1(i, grad) : s;
    LCL_STORE1(LCL_POS(s) ? g : alpha * g, i, out);
}

/* The whole vectors of the chunk from vector `first` (up to LCL_CHUNK of them), then the scalar
 * tail up to n if the chunk holds the end. The batch kernels pass the first vector of their
 * item; the plain kernels take it from the global id. */
inline void lcl_select_chunk(__global const storage_t *sel, __global const storage_t *grad, __global storage_t *out,
                             ulong first, ulong n, compute_t alpha, bool fast, bool backward) {
    if (first * LCL_VEC >= n)
        return;
    ulong whole = (n - first * LCL_VEC) / LCL_VEC;
    ulong count = whole < LCL_CHUNK ? whole : LCL_CHUNK;
    for (ulong v = first; v < first + count; ++v)
        lcl_select_vector(sel, grad, out, v, (computev_t)alpha, fast, backward);
    if (count < LCL_CHUNK)
        for (ulong i = (first + count) * LCL_VEC; i < n; ++i)
            lcl_select_element(sel, grad, out, i, alpha, backward);
}

__kernel void lcl_forward(__global const storage_t *x, ulong x_off, __global storage_t *y, ulong y_off, ulong n,
                          compute_t alpha) {
    x += x_off;
    y += y_off;
    ulong first = get_global_id(0) * LCL_CHUNK;
    if (LCL_FAST2(x, y))
        lcl_select_chunk(x, x, y, first, n, alpha, true, false);
    else
        lcl_select_chunk(x, x, y, first, n, alpha, false, false);
}

__kernel void lcl_backward(__global const storage_t *x, ulong x_off, __global const storage_t *dy, ulong dy_off,
                           __global storage_t *dx, ulong dx_off, ulong n, compute_t alpha) {
    x += x_off;
    dy += dy_off;
    dx += dx_off;
    ulong first = get_global_id(0) * LCL_CHUNK;
    if (LCL_FAST3(x, dy, dx))
        lcl_select_chunk(x, dy, dx, first, n, alpha, true, true);
    else
        lcl_select_chunk(x, dy, dx, first, n, alpha, false, true);
}
