/* PReLU's loops for one storage type: prelu.c includes this once per dtype with these defined:
 *   STORAGE, COMPUTE   the storage and the compute type   LOAD(s), STORE(c)  the conversions
 *   VF, VI             16 bytes of COMPUTE and their mask  KEEP              keep_f32 or keep_f64
 *   TYPED(name)        name with the dtype's suffix        DTYPE             the lcl_dtype */

/* out for the `run` elements from k with slope a: forward (dy NULL) or backward. */
static void TYPED(run)(COMPUTE a, const STORAGE *x, const STORAGE *dy, STORAGE *out, size_t k, size_t run) {
    if (run >= LONG_RUN) {
        long_run(DTYPE, (double)a, x, dy, out, k, run);
    } else if (!dy) {
        for (size_t e = k; e < k + run; ++e) {
            COMPUTE v = LOAD(x[e]);
            COMPUTE scaled = a * v;
            out[e] = STORE(v > 0 ? v : scaled);
        }
    } else {
        for (size_t e = k; e < k + run; ++e) {
            COMPUTE v = LOAD(x[e]);
            COMPUTE g = LOAD(dy[e]);
            COMPUTE scaled = a * g;
            out[e] = STORE(v > 0 ? g : scaled);
        }
    }
}

/* Elements [lo, hi), walking the channels. */
static void TYPED(range)(const struct lcl__prelu *call, const STORAGE *alpha, const STORAGE *x, const STORAGE *dy,
                         STORAGE *out, size_t lo, size_t hi) {
    size_t inner = call->inner, channels = call->channels;
    size_t row = lo / inner;
    size_t pos = lo - row * inner;
    size_t c = row % channels;
    for (size_t e = lo; e < hi; pos = 0, c = next_channel(c, channels)) {
        size_t run = inner - pos < hi - e ? inner - pos : hi - e;
        TYPED(run)(LOAD(alpha[c]), x, dy, out, e, run);
        e += run;
    }
}

#define VECTORS (LANES / (sizeof(VF) / sizeof(COMPUTE)))

/* Block blk of channel c: its dalpha partial sum, then its dx. */
static COMPUTE TYPED(block)(const struct lcl__prelu *call, const STORAGE *alpha, const STORAGE *x, const STORAGE *dy,
                            STORAGE *out, size_t c, size_t blk) {
    size_t inner = call->inner, channels = call->channels;
    size_t per_channel = call->n / channels;
    size_t m0 = blk * LCL__PRELU_BLOCK;
    size_t m_end = m0 + LCL__PRELU_BLOCK < per_channel ? m0 + LCL__PRELU_BLOCK : per_channel;
    VF running[LANES / 2] = {{0}}, sums[LANES / 2] = {{0}}, zero = {0};
    COMPUTE srun = 0, ssum = 0;
    unsigned steps = 0, ssteps = 0;
    size_t b = m0 / inner;
    for (size_t m = m0, i = m0 - b * inner; m < m_end; ++b, i = 0) {
        size_t run = inner - i < m_end - m ? inner - i : m_end - m;
        size_t base = (b * channels + c) * inner + i;
        size_t k = 0;
        for (; k + LANES <= run; k += LANES) {
            COMPUTE vl[LANES], gl[LANES];
            for (size_t l = 0; l < LANES; ++l) {
                vl[l] = LOAD(x[base + k + l]);
                gl[l] = LOAD(dy[base + k + l]);
            }
            for (size_t q = 0; q < VECTORS; ++q) {
                VF v, g;
                memcpy(&v, vl + q * (LANES / VECTORS), sizeof v);
                memcpy(&g, gl + q * (LANES / VECTORS), sizeof g);
                VI keep = ~(v > zero); /* the alpha branch: !(x > 0), NaN x included */
                running[q] += (VF)((VI)(g * v) & keep);
            }
            if (++steps == FLUSH_STEPS) {
                for (size_t q = 0; q < VECTORS; ++q) {
                    sums[q] += running[q];
                    running[q] = zero;
                }
                steps = 0;
            }
        }
        for (; k < run; ++k) {
            COMPUTE v = LOAD(x[base + k]);
            COMPUTE p = LOAD(dy[base + k]) * v;
            srun += KEEP(!(v > 0), p);
            if (++ssteps == FLUSH_STEPS) {
                ssum += srun;
                srun = 0;
                ssteps = 0;
            }
        }
        TYPED(run)(LOAD(alpha[c]), x, dy, out, base, run);
        m += run;
    }
    COMPUTE lane[LANES];
    for (size_t q = 0; q < VECTORS; ++q) {
        sums[q] += running[q];
        memcpy(lane + q * (LANES / VECTORS), &sums[q], sizeof sums[q]);
    }
    ssum += srun;
    return (((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]))) + ssum;
}

#undef VECTORS

/* Rows [r0, r1) of columns [j0, j0 + width): dx, and each column's sum into sums. */
static void TYPED(columns)(const struct lcl__prelu *call, const STORAGE *alpha, const STORAGE *x, const STORAGE *dy,
                           STORAGE *out, size_t j0, size_t width, size_t r0, size_t r1, COMPUTE *sums) {
    size_t cols = call->channels * call->inner;
    COMPUTE slope[COLS], running[COLS];
    for (size_t l = 0; l < width; ++l) {
        slope[l] = LOAD(alpha[(j0 + l) / call->inner]);
        running[l] = 0;
        sums[l] = 0;
    }
    unsigned steps = 0;
    for (size_t r = r0; r < r1; ++r) {
        size_t base = r * cols + j0;
        for (size_t l = 0; l < width; ++l) {
            COMPUTE v = LOAD(x[base + l]);
            COMPUTE g = LOAD(dy[base + l]);
            COMPUTE scaled = slope[l] * g;
            running[l] += KEEP(!(v > 0), g * v);
            out[base + l] = STORE(v > 0 ? g : scaled);
        }
        if (++steps == FLUSH_STEPS) {
            for (size_t l = 0; l < width; ++l) {
                sums[l] += running[l];
                running[l] = 0;
            }
            steps = 0;
        }
    }
    for (size_t l = 0; l < width; ++l)
        sums[l] += running[l];
}

/* The pairwise sum of count values, in index order. */
static COMPUTE TYPED(pairwise)(const COMPUTE *v, size_t count) {
    COMPUTE stack[PAIRWISE_DEPTH];
    unsigned level[PAIRWISE_DEPTH];
    unsigned top = 0;
    for (size_t k = 0; k < count; ++k) {
        COMPUTE s = v[k];
        unsigned l = 0;
        while (top > 0 && level[top - 1] == l) {
            s = stack[top - 1] + s;
            --top;
            ++l;
        }
        stack[top] = s;
        level[top] = l;
        ++top;
    }
    COMPUTE sum = 0;
    while (top > 0)
        sum = stack[--top] + sum;
    return sum;
}

static lcl_status TYPED(prelu)(const struct lcl__prelu *call, const void *alpha_v, const void *x_v, const void *dy_v,
                               void *out_v, void *dalpha_v) {
    const STORAGE *alpha = alpha_v, *x = x_v, *dy = dy_v;
    STORAGE *out = out_v;
    size_t n = call->n, channels = call->channels;
    bool threads = n * sizeof(STORAGE) >= PARALLEL_MIN_BYTES;
    if (!dalpha_v) {
        /* y, or dx alone: each thread a contiguous range of elements. */
#pragma omp parallel if (threads)
        {
            size_t count = (size_t)omp_get_num_threads();
            size_t t = (size_t)omp_get_thread_num();
            size_t lo = n / count * t + n % count * t / count;
            size_t hi = n / count * (t + 1) + n % count * (t + 1) / count;
            TYPED(range)(call, alpha, x, dy, out, lo, hi);
        }
        return LCL_SUCCESS;
    }
    size_t per_channel = n / channels;
    size_t blocks = per_channel / LCL__PRELU_BLOCK + (per_channel % LCL__PRELU_BLOCK != 0);
    size_t batch = per_channel / call->inner, cols = channels * call->inner;
    size_t row_blocks = batch / LCL__PRELU_ROWS + (batch % LCL__PRELU_ROWS != 0);
    size_t segments = cols / COLS + (cols % COLS != 0);
    bool by_columns = lcl__prelu_by_columns(call);
    size_t partials_per_channel = by_columns ? call->inner * row_blocks : blocks;
    COMPUTE *partial = malloc((partials_per_channel > 0 ? partials_per_channel * channels : 1) * sizeof *partial);
    if (!partial)
        return lcl__fail(LCL_ERROR_OUT_OF_MEMORY, "lcl_prelu_backward: out of host memory for %zu partial sums",
                         partials_per_channel * channels);
    if (by_columns) {
        /* A unit is a row block of COLS columns; consecutive units, consecutive columns. */
        size_t units = row_blocks * segments;
#pragma omp parallel for schedule(static) if (threads)
        for (size_t u = 0; u < units; ++u) {
            size_t seg = u % segments, rb = u / segments;
            size_t j0 = seg * COLS, width = cols - j0 < COLS ? cols - j0 : COLS;
            size_t r0 = rb * LCL__PRELU_ROWS;
            size_t r1 = r0 + LCL__PRELU_ROWS < batch ? r0 + LCL__PRELU_ROWS : batch;
            COMPUTE sums[COLS];
            TYPED(columns)(call, alpha, x, dy, out, j0, width, r0, r1, sums);
            for (size_t l = 0; l < width; ++l)
                partial[(j0 + l) * row_blocks + rb] = sums[l];
        }
    } else {
        size_t units = blocks * channels;
        /* Long inner: consecutive blocks of a channel are one run of memory; short inner:
         * consecutive channels of one block share cache lines. */
        bool channel_major = call->inner >= LCL__PRELU_BLOCK / 2;
#pragma omp parallel for schedule(static) if (threads)
        for (size_t u = 0; u < units; ++u) {
            size_t c = channel_major ? u / blocks : u % channels;
            size_t blk = channel_major ? u % blocks : u / channels;
            partial[c * blocks + blk] = TYPED(block)(call, alpha, x, dy, out, c, blk);
        }
    }
    STORAGE *dalpha = dalpha_v;
    for (size_t c = 0; c < channels; ++c)
        dalpha[c] = STORE(TYPED(pairwise)(partial + c * partials_per_channel, partials_per_channel));
    free(partial);
    return LCL_SUCCESS;
}

#undef STORAGE
#undef COMPUTE
#undef LOAD
#undef STORE
#undef VF
#undef VI
#undef KEEP
#undef TYPED
#undef DTYPE
