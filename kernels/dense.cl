/* The dense layer's epilogues around CLBlast's GEMMs (src/opencl/dense.c). y, dy and dz are
 * [batch x out] row-major. Built for every dtype with the other files, used for fp32 only.
 *
 * lcl_dense_epilogue: y = f(y + b[column]) in place, after y = x . w^T; without a bias
 * (has_bias 0) y = f(y), so a -0 from the GEMM stays -0 as lcl_forward keeps it. A work-item
 * takes LCL_DENSE_COLS consecutive columns of one row: one division per work-item, not one per
 * element.
 *
 * lcl_dense_backward_columns: dz = dy if y > 0, else alpha * dy (exact from y for alpha >= 0),
 * and, in the same pass, the first stage of db = the column sums of dz: a work-item takes one
 * column over a block of `rows` batch rows and writes that block's sum to
 * partial[column * row_blocks + row_block]. Consecutive work-items take consecutive columns, so
 * a row is read in whole runs. Stage two is prelu.cl's lcl_prelu_dalpha, which adds a column's
 * partials pairwise. The partition depends on the sizes only: the same bits on every run. */

#define LCL_DENSE_FLUSH 16

__kernel void lcl_dense_epilogue(__global storage_t *y, ulong y_off, __global const storage_t *b, ulong b_off,
                                 uint has_bias, ulong batch, ulong out, compute_t alpha) {
    ulong g = get_global_id(0);
    ulong segments = (out + LCL_DENSE_COLS - 1) / LCL_DENSE_COLS;
    if (g >= batch * segments)
        return;
    ulong row = g / segments;
    ulong j0 = (g - row * segments) * LCL_DENSE_COLS;
    ulong j1 = j0 + LCL_DENSE_COLS < out ? j0 + LCL_DENSE_COLS : out;
    __global storage_t *yr = y + y_off + row * out;
    b += b_off;
    for (ulong j = j0; j < j1; ++j) {
        compute_t v = LCL_LOAD1(j, yr);
        if (has_bias)
            v += LCL_LOAD1(j, b);
        LCL_STORE1(v > (compute_t)0 ? v : alpha * v, j, yr);
    }
}

__kernel void lcl_dense_backward_columns(__global const storage_t *y, ulong y_off, __global const storage_t *dy,
                                         ulong dy_off, __global storage_t *dz, ulong dz_off,
                                         __global compute_t *partial, ulong batch, ulong out, ulong rows,
                                         ulong row_blocks, compute_t alpha) {
    ulong g = get_global_id(0);
    if (g >= row_blocks * out)
        return;
    ulong j = g % out;
    ulong rb = g / out;
    ulong r1 = (rb + 1) * rows < batch ? (rb + 1) * rows : batch;
    y += y_off;
    dy += dy_off;
    dz += dz_off;
    compute_t run = 0;
    compute_t sum = 0;
    uint steps = 0;
    for (ulong r = rb * rows; r < r1; ++r) {
        ulong k = r * out + j;
        compute_t yv = LCL_LOAD1(k, y);
        compute_t gv = LCL_LOAD1(k, dy);
        compute_t d = yv > (compute_t)0 ? gv : alpha * gv;
        LCL_STORE1(d, k, dz);
        run += d;
        if (++steps == LCL_DENSE_FLUSH) {
            sum += run;
            run = 0;
            steps = 0;
        }
    }
    partial[j * row_blocks + rb] = sum + run;
}
