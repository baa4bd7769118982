/* Leaky ReLU forward and backward over n elements starting at element offsets (any offset:
 * vloadn needs only element alignment). Each work-item owns LCL_VEC contiguous elements;
 * the last one owns the ragged tail. The comparison is x > 0, so -0, +0 and NaN take the
 * alpha branch; alpha arrives already rounded to the compute type. */

__kernel void lcl_forward(__global const storage_t *x, ulong x_off, __global storage_t *y, ulong y_off,
                          ulong n, compute_t alpha) {
    ulong item = get_global_id(0);
    ulong first = item * LCL_VEC;
    if (first >= n)
        return;
    x += x_off;
    y += y_off;
    if (first + LCL_VEC <= n) {
        computev_t v = LCL_LOADV(item, x);
        LCL_STOREV(v > (compute_t)0 ? v : alpha * v, item, y);
    } else {
        for (ulong i = first; i < n; ++i) {
            compute_t v = LCL_LOAD1(i, x);
            LCL_STORE1(v > (compute_t)0 ? v : alpha * v, i, y);
        }
    }
}

__kernel void lcl_backward(__global const storage_t *x, ulong x_off, __global const storage_t *dy,
                           ulong dy_off, __global storage_t *dx, ulong dx_off, ulong n, compute_t alpha) {
    ulong item = get_global_id(0);
    ulong first = item * LCL_VEC;
    if (first >= n)
        return;
    x += x_off;
    dy += dy_off;
    dx += dx_off;
    if (first + LCL_VEC <= n) {
        computev_t v = LCL_LOADV(item, x);
        computev_t g = LCL_LOADV(item, dy);
        LCL_STOREV(v > (compute_t)0 ? g : alpha * g, item, dx);
    } else {
        for (ulong i = first; i < n; ++i) {
            compute_t v = LCL_LOAD1(i, x);
            compute_t g = LCL_LOAD1(i, dy);
            LCL_STORE1(v > (compute_t)0 ? g : alpha * g, i, dx);
        }
    }
}
