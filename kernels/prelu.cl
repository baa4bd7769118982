/* PReLU: leaky ReLU with a slope per channel on [batch, channels, inner] row-major, so element e
 * is in channel (e / inner) % channels. Slopes are read in the storage type and widened to the
 * compute type; everything else is the plain kernels' arithmetic, through eltwise.cl's
 * lcl_select_vector and lcl_select_element with a slope per lane.
 *
 * lcl_prelu_forward / lcl_prelu_backward: a work-item owns LCL_CHUNK contiguous vectors, as the
 * plain kernels, and walks the channels along with them: one division at its start, then a
 * channel and a position in it that it advances. A vector whose elements all lie in one channel
 * (most of them when inner >= LCL_VEC) gets one slope, one that crosses a channel boundary gets
 * two, and when inner < LCL_VEC the slopes are gathered lane by lane (inner == 1 with its
 * channels in order loads them as one vector).
 *
 * lcl_prelu_backward_partial and lcl_prelu_dalpha: dx, and the slope gradient
 * dalpha[c] = sum over batch and inner of dy * x where !(x > 0) (the alpha branch, NaN x
 * included), in two stages and without atomics. Stage one: channel c's batch * inner elements,
 * numbered m = b * inner + i, are cut into blocks of `block` consecutive m; a work-item computes
 * dx on block blk of channel c and writes its partial sum to partial[c * blocks + blk]. Which
 * work-item takes which block only orders the memory traffic: with a long inner (channel_major)
 * consecutive work-items take consecutive blocks of one channel, one long run of memory; with
 * a short one they take one block of consecutive channels, which share cache lines. Within a
 * block the products go into LCL_VEC lane sums (scalar leftovers into a
 * scalar sum), each flushed into a second sum every few steps.
 *
 * lcl_prelu_backward_columns replaces stage one when inner is short and the batch long (an
 * [N, C] tensor, channels last): blocks of one channel would then read one element per cache
 * line. It sees the tensor as batch rows of channels * inner columns instead; a work-item takes
 * `rows` rows (a row block) of LCL_PRELU_COLS consecutive columns, computes their dx reading
 * whole runs of each row, and sums each column over its rows (flushed every few rows) into
 * partial[column * row_blocks + row_block]: a channel's partials are again one contiguous run.
 *
 * Stage two, lcl_prelu_dalpha: a work-item per channel adds its `per_channel` partials pairwise,
 * in index order, and rounds once into dalpha's storage. Which scheme runs, and every partition,
 * depends on the sizes only, never on the work-group size, so the same inputs give the same bits
 * on every run. Sums are in the compute type: fp32 for F32/F16/BF16, fp64 for F64. */

#define LCL_NEXT_CHANNEL(c, channels) ((c) + 1 == (channels) ? 0 : (c) + 1)

/* The slopes of the LCL_VEC elements starting at channel *c, position *pos; advances both.
 * *slope caches channel *c's slope for inner >= LCL_VEC, so a slope is read once per channel
 * run rather than once per vector. */
inline computev_t lcl_prelu_slopes(__global const storage_t *alpha, ulong channels, ulong inner, ulong *c, ulong *pos,
                                   compute_t *slope) {
    if (inner >= LCL_VEC) {
        compute_t a0 = *slope;
        ulong left = inner - *pos; /* elements of channel *c from here on */
        if (left > LCL_VEC) {
            *pos += LCL_VEC;
            return (computev_t)a0;
        }
        ulong next = LCL_NEXT_CHANNEL(*c, channels);
        compute_t a1 = LCL_LOAD1(next, alpha);
        *c = next;
        *pos = LCL_VEC - left;
        *slope = a1;
        if (left == LCL_VEC)
            return (computev_t)a0;
        return LCL_SPLIT_LANES((computev_t)a0, (computev_t)a1, left);
    }
    if (inner == 1 && *c + LCL_VEC <= channels) {
        computev_t a = LCL_LOADV(0, alpha + *c);
        *c = *c + LCL_VEC == channels ? 0 : *c + LCL_VEC;
        return a;
    }
    compute_t lanes[LCL_VEC];
    for (uint j = 0; j < LCL_VEC; ++j) {
        lanes[j] = LCL_LOAD1(*c, alpha);
        if (++*pos == inner) {
            *pos = 0;
            *c = LCL_NEXT_CHANNEL(*c, channels);
        }
    }
    return LCL_CAT(vload, LCL_VEC)(0, lanes);
}

/* The slope of one element at channel *c, position *pos; advances both. */
inline compute_t lcl_prelu_slope(__global const storage_t *alpha, ulong channels, ulong inner, ulong *c, ulong *pos) {
    compute_t a = LCL_LOAD1(*c, alpha);
    if (++*pos == inner) {
        *pos = 0;
        *c = LCL_NEXT_CHANNEL(*c, channels);
    }
    return a;
}

/* This work-item's run of vectors, walking the channels from the state at its first element,
 * then the scalar tail if its chunk holds the end. */
inline void lcl_prelu_chunk(__global const storage_t *alpha, __global const storage_t *sel,
                            __global const storage_t *grad, __global storage_t *out, ulong n, ulong channels,
                            ulong inner, bool fast, bool backward) {
    ulong first = get_global_id(0) * LCL_CHUNK;
    if (first * LCL_VEC >= n)
        return;
    ulong row = first * LCL_VEC / inner;
    ulong pos = first * LCL_VEC - row * inner;
    ulong c = row % channels;
    compute_t slope = LCL_LOAD1(c, alpha);
    ulong whole = (n - first * LCL_VEC) / LCL_VEC;
    ulong end = first + (whole < LCL_CHUNK ? whole : LCL_CHUNK);
    ulong v = first;
    if (inner >= LCL_VEC) {
        /* Runs of vectors inside one channel with one slope, then the vector that crosses into the
         * next channel, if one does. */
        while (v < end) {
            ulong stop = v + (inner - pos) / LCL_VEC < end ? v + (inner - pos) / LCL_VEC : end;
            pos += (stop - v) * LCL_VEC;
            for (; v < stop; ++v)
                lcl_select_vector(sel, grad, out, v, (computev_t)slope, fast, backward);
            if (v == end)
                break;
            computev_t av = lcl_prelu_slopes(alpha, channels, inner, &c, &pos, &slope);
            lcl_select_vector(sel, grad, out, v++, av, fast, backward);
        }
    } else {
        for (; v < end; ++v)
            lcl_select_vector(sel, grad, out, v, lcl_prelu_slopes(alpha, channels, inner, &c, &pos, &slope), fast,
                              backward);
    }
    if (end - first < LCL_CHUNK)
        for (ulong i = end * LCL_VEC; i < n; ++i)
            lcl_select_element(sel, grad, out, i, lcl_prelu_slope(alpha, channels, inner, &c, &pos), backward);
}

__kernel void lcl_prelu_forward(__global const storage_t *alpha, ulong alpha_off, __global const storage_t *x,
                                ulong x_off, __global storage_t *y, ulong y_off, ulong n, ulong channels, ulong inner) {
    alpha += alpha_off;
    x += x_off;
    y += y_off;
    if (LCL_FAST2(x, y))
        lcl_prelu_chunk(alpha, x, x, y, n, channels, inner, true, false);
    else
        lcl_prelu_chunk(alpha, x, x, y, n, channels, inner, false, false);
}

__kernel void lcl_prelu_backward(__global const storage_t *alpha, ulong alpha_off, __global const storage_t *x,
                                 ulong x_off, __global const storage_t *dy, ulong dy_off, __global storage_t *dx,
                                 ulong dx_off, ulong n, ulong channels, ulong inner) {
    alpha += alpha_off;
    x += x_off;
    dy += dy_off;
    dx += dx_off;
    if (LCL_FAST3(x, dy, dx))
        lcl_prelu_chunk(alpha, x, dy, dx, n, channels, inner, true, true);
    else
        lcl_prelu_chunk(alpha, x, dy, dx, n, channels, inner, false, true);
}

/* Steps between flushes of the running sums into the block's sums. */
#define LCL_PRELU_VECTOR_FLUSH 16
#define LCL_PRELU_SCALAR_FLUSH 32

/* The lanes of a vector added as a tree: lane j with lane j + LCL_VEC/2, and so on. */
#define LCL_HALVES(v) ((v).lo + (v).hi)
inline compute_t lcl_sum_lanes(computev_t v) {
#if LCL_VEC == 16
    return LCL_HALVES(LCL_HALVES(LCL_HALVES(LCL_HALVES(v))));
#elif LCL_VEC == 8
    return LCL_HALVES(LCL_HALVES(LCL_HALVES(v)));
#elif LCL_VEC == 4
    return LCL_HALVES(LCL_HALVES(v));
#else
    return LCL_HALVES(v);
#endif
}

/* `steps` vectors of a run from element k: dx, and dy * x added to the running lane sums, which
 * it returns. */
inline computev_t lcl_prelu_partial_steps(__global const storage_t *xr, __global const storage_t *gr,
                                          __global storage_t *dr, ulong k, uint steps, compute_t a, computev_t vrun,
                                          bool nt) {
    for (uint s = 0; s < steps; ++s, k += LCL_VEC) {
        computev_t xv = LCL_LOADV(0, xr + k);
        computev_t gv = LCL_LOADV(0, gr + k);
        computev_t r = LCL_POSV(xv) ? gv : a * gv;
        if (nt)
            LCL_STOREV_NT(r, 0, dr + k);
        else
            LCL_STOREV(r, 0, dr + k);
        vrun += LCL_POSV(xv) ? (computev_t)0 : gv * xv;
    }
    return vrun;
}

#if LCL_GPU_SHAPE
/* GPUs: partial p of channel c takes the channel's elements m = p, p + blocks, p + 2 * blocks...
 * one at a time, so that consecutive work-items read consecutive elements (a contiguous block
 * per work-item strided a warp's accesses 2 KiB apart: a twentieth of the bandwidth on an
 * H200). The partition still depends on the sizes only. */
__kernel void lcl_prelu_backward_partial(__global const storage_t *alpha, ulong alpha_off, __global const storage_t *x,
                                         ulong x_off, __global const storage_t *dy, ulong dy_off,
                                         __global storage_t *dx, ulong dx_off, __global compute_t *partial,
                                         ulong channels, ulong inner, ulong per_channel, ulong block, ulong blocks,
                                         uint channel_major) {
    (void)block;
    ulong g = get_global_id(0);
    if (g >= blocks * channels)
        return;
    alpha += alpha_off;
    x += x_off;
    dy += dy_off;
    dx += dx_off;
    ulong c = channel_major ? g / blocks : g % channels;
    ulong p = channel_major ? g % blocks : g / channels;
    ulong b = p / inner;
    ulong i = p - b * inner;
    ulong step_b = blocks / inner;
    ulong step_i = blocks - step_b * inner;
    compute_t a = LCL_LOAD1(c, alpha);
    compute_t run = 0;
    compute_t sum = 0;
    uint steps = 0;
    for (ulong m = p; m < per_channel; m += blocks) {
        ulong e = (b * channels + c) * inner + i;
        compute_t xs = LCL_LOAD1(e, x);
        compute_t gs = LCL_LOAD1(e, dy);
        LCL_STORE1(LCL_POS(xs) ? gs : a * gs, e, dx);
        run += LCL_POS(xs) ? (compute_t)0 : gs * xs;
        if (++steps == LCL_PRELU_SCALAR_FLUSH) {
            sum += run;
            run = 0;
            steps = 0;
        }
        i += step_i;
        b += step_b;
        if (i >= inner) {
            i -= inner;
            ++b;
        }
    }
    partial[c * blocks + p] = sum + run;
}

#else /* CPU devices: a contiguous block per work-item */

__kernel void lcl_prelu_backward_partial(__global const storage_t *alpha, ulong alpha_off, __global const storage_t *x,
                                         ulong x_off, __global const storage_t *dy, ulong dy_off,
                                         __global storage_t *dx, ulong dx_off, __global compute_t *partial,
                                         ulong channels, ulong inner, ulong per_channel, ulong block, ulong blocks,
                                         uint channel_major) {
    ulong g = get_global_id(0);
    if (g >= blocks * channels)
        return;
    alpha += alpha_off;
    x += x_off;
    dy += dy_off;
    dx += dx_off;
    ulong c = channel_major ? g / blocks : g % channels;
    ulong blk = channel_major ? g % blocks : g / channels;
    ulong m = blk * block;
    ulong m_end = m + block < per_channel ? m + block : per_channel;
    ulong b = m / inner;
    ulong i = m - b * inner;
    compute_t a = LCL_LOAD1(c, alpha);
    computev_t vrun = (computev_t)0;
    computev_t vsum = (computev_t)0;
    compute_t srun = 0;
    compute_t ssum = 0;
    uint vsteps = 0;
    uint ssteps = 0;
    while (m < m_end) {
        ulong run = inner - i < m_end - m ? inner - i : m_end - m;
        ulong base = (b * channels + c) * inner + i;
        __global const storage_t *xr = x + base;
        __global const storage_t *gr = dy + base;
        __global storage_t *dr = dx + base;
        ulong k = 0;
        bool nt = LCL_USE_NT(dr);
        while (k + LCL_VEC <= run) {
            /* Up to the next flush, in one loop without a test per vector. */
            ulong left = (run - k) / LCL_VEC;
            uint steps = left < LCL_PRELU_VECTOR_FLUSH - vsteps ? (uint)left : LCL_PRELU_VECTOR_FLUSH - vsteps;
            if (nt)
                vrun = lcl_prelu_partial_steps(xr, gr, dr, k, steps, a, vrun, true);
            else
                vrun = lcl_prelu_partial_steps(xr, gr, dr, k, steps, a, vrun, false);
            k += steps * LCL_VEC;
            vsteps += steps;
            if (vsteps == LCL_PRELU_VECTOR_FLUSH) {
                vsum += vrun;
                vrun = (computev_t)0;
                vsteps = 0;
            }
        }
        for (; k < run; ++k) {
            compute_t xs = LCL_LOAD1(k, xr);
            compute_t gs = LCL_LOAD1(k, gr);
            LCL_STORE1(LCL_POS(xs) ? gs : a * gs, k, dr);
            srun += LCL_POS(xs) ? (compute_t)0 : gs * xs;
            if (++ssteps == LCL_PRELU_SCALAR_FLUSH) {
                ssum += srun;
                srun = 0;
                ssteps = 0;
            }
        }
        m += run;
        ++b;
        i = 0;
    }
    vsum += vrun;
    ssum += srun;
    partial[c * blocks + blk] = lcl_sum_lanes(vsum) + ssum;
}

#endif /* LCL_GPU_SHAPE */

/* Columns per work-item of lcl_prelu_backward_columns (LCL_PRELU_COLVECS vectors of them, a
 * tunable), and rows between flushes of its sums. */
#define LCL_PRELU_COLS (LCL_VEC * LCL_PRELU_COLVECS)
#define LCL_PRELU_ROW_FLUSH 32

__kernel void lcl_prelu_backward_columns(__global const storage_t *alpha, ulong alpha_off, __global const storage_t *x,
                                         ulong x_off, __global const storage_t *dy, ulong dy_off,
                                         __global storage_t *dx, ulong dx_off, __global compute_t *partial,
                                         ulong channels, ulong inner, ulong batch, ulong rows, ulong row_blocks,
                                         ulong segments) {
    ulong g = get_global_id(0);
    if (g >= row_blocks * segments)
        return;
    alpha += alpha_off;
    x += x_off;
    dy += dy_off;
    dx += dx_off;
    /* Consecutive work-items take consecutive columns of the same rows. */
    ulong seg = g % segments;
    ulong rb = g / segments;
    ulong cols = channels * inner;
    ulong j0 = seg * LCL_PRELU_COLS;
    uint width = cols - j0 < LCL_PRELU_COLS ? (uint)(cols - j0) : LCL_PRELU_COLS;
    ulong r0 = rb * rows;
    ulong r1 = r0 + rows < batch ? r0 + rows : batch;
    compute_t slope[LCL_PRELU_COLS];
    compute_t srun[LCL_PRELU_COLS];
    compute_t ssum[LCL_PRELU_COLS];
    for (uint l = 0; l < width; ++l) {
        slope[l] = LCL_LOAD1((j0 + l) / inner, alpha);
        ssum[l] = 0;
        srun[l] = 0;
    }
    uint steps = 0;
    if (width == LCL_PRELU_COLS) {
        computev_t av[LCL_PRELU_COLVECS], vrun[LCL_PRELU_COLVECS], vsum[LCL_PRELU_COLVECS];
        for (uint q = 0; q < LCL_PRELU_COLVECS; ++q) {
            av[q] = LCL_CAT(vload, LCL_VEC)(q, slope);
            vrun[q] = (computev_t)0;
            vsum[q] = (computev_t)0;
        }
        for (ulong r = r0; r < r1; ++r) {
            ulong base = r * cols + j0;
            _Pragma("unroll") for (uint q = 0; q < LCL_PRELU_COLVECS; ++q) {
                computev_t xv = LCL_LOADV(0, x + base + q * LCL_VEC);
                computev_t gv = LCL_LOADV(0, dy + base + q * LCL_VEC);
                LCL_STOREV(LCL_POSV(xv) ? gv : av[q] * gv, 0, dx + base + q * LCL_VEC);
                vrun[q] += LCL_POSV(xv) ? (computev_t)0 : gv * xv;
            }
            if (++steps == LCL_PRELU_ROW_FLUSH) {
                for (uint q = 0; q < LCL_PRELU_COLVECS; ++q) {
                    vsum[q] += vrun[q];
                    vrun[q] = (computev_t)0;
                }
                steps = 0;
            }
        }
        for (uint q = 0; q < LCL_PRELU_COLVECS; ++q)
            LCL_CAT(vstore, LCL_VEC)(vsum[q] + vrun[q], q, ssum);
    } else {
        for (ulong r = r0; r < r1; ++r) {
            ulong base = r * cols + j0;
            for (uint l = 0; l < width; ++l) { /* a last, narrower segment: a column at a time */
                compute_t xs = LCL_LOAD1(base + l, x);
                compute_t gs = LCL_LOAD1(base + l, dy);
                LCL_STORE1(LCL_POS(xs) ? gs : slope[l] * gs, base + l, dx);
                srun[l] += LCL_POS(xs) ? (compute_t)0 : gs * xs;
            }
            if (++steps == LCL_PRELU_ROW_FLUSH) {
                for (uint l = 0; l < width; ++l) {
                    ssum[l] += srun[l];
                    srun[l] = 0;
                }
                steps = 0;
            }
        }
        for (uint l = 0; l < width; ++l)
            ssum[l] += srun[l];
    }
    for (uint l = 0; l < width; ++l)
        partial[(j0 + l) * row_blocks + rb] = ssum[l];
}

/* Pairwise sums need a stack as deep as log2 of the number of partials. */
#define LCL_PAIRWISE_DEPTH 64

/* p[0..count) added pairwise, in index order. */
inline compute_t lcl_pairwise_sum(__global const compute_t *p, ulong count) {
    compute_t stack[LCL_PAIRWISE_DEPTH];
    uint level[LCL_PAIRWISE_DEPTH];
    uint top = 0;
    for (ulong k = 0; k < count; ++k) {
        compute_t v = p[k];
        uint l = 0;
        while (top > 0 && level[top - 1] == l) {
            v = stack[top - 1] + v;
            --top;
            ++l;
        }
        stack[top] = v;
        level[top] = l;
        ++top;
    }
    compute_t sum = 0;
    while (top > 0)
        sum = stack[--top] + sum;
    return sum;
}

/* GPUs, between the stages when a channel has many partials: a work-item per run of
 * LCL_PRELU_FOLD consecutive partials of a channel adds them pairwise into folded[c * groups + k],
 * so that stage two's one work-item per channel reads `groups` partials, not thousands in a
 * row (which cost more than stage one on an H200). */
__kernel void lcl_prelu_fold(__global const compute_t *partial, ulong channels, ulong per_channel, ulong groups,
                             __global compute_t *folded, ulong folded_off) {
    ulong g = get_global_id(0);
    if (g >= channels * groups)
        return;
    ulong c = g / groups;
    ulong k = g % groups;
    ulong lo = k * LCL_PRELU_FOLD;
    ulong count = per_channel - lo < LCL_PRELU_FOLD ? per_channel - lo : LCL_PRELU_FOLD;
    folded[folded_off + g] = lcl_pairwise_sum(partial + c * per_channel + lo, count);
}

__kernel void lcl_prelu_dalpha(__global const compute_t *partial, ulong channels, ulong per_channel,
                               __global storage_t *dalpha, ulong dalpha_off, ulong partial_off) {
    ulong c = get_global_id(0);
    if (c >= channels)
        return;
    LCL_STORE1(lcl_pairwise_sum(partial + partial_off + c * per_channel, per_channel), c, dalpha + dalpha_off);
}
