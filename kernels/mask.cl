/* The sign mask: a forward that also stores (x > 0) as bits, element i in bit (i mod 32) of
 * 32-bit word i/32, and a backward that selects on those bits instead of on x. A work-item owns
 * LCL_MASK_WORDS whole words (a tunable: 32 elements each, as vectors), so it writes whole words and no
 * two work-items share one: no atomics. The work-item holding a last, partial word does its
 * elements one at a time and keeps the word's bits past n as they were. x, y, dy and dx may
 * start at any element; the mask starts on a word (mask_off counts words). */

#define LCL_VECS_PER_WORD (32 / LCL_VEC)

/* The words [w0, w_end) this work-item owns whole, and whether it owns the partial last word. */
#define LCL_MASK_RANGE(n)                                                                                    \
    ulong w0 = get_global_id(0) * LCL_MASK_WORDS;                                                            \
    ulong full = (n) / 32;                                                                                   \
    ulong w_end = w0 + LCL_MASK_WORDS < full ? w0 + LCL_MASK_WORDS : full;                                   \
    bool owns_tail = ((n) % 32) != 0 && full >= w0 && full < w0 + LCL_MASK_WORDS;

/* Each vector's lanes set their bits in a vector of words; one OR across it per word. The loop
 * over a word's vectors is unrolled: on PoCL the rolled loop cost ~10% against lcl_forward.
 * 16-bit storage chooses on the raw bits, as eltwise.cl's bodies do (the mask bit must be
 * x > 0 exactly, so LCL_RAW_POSV, not the sign alone). */
#if LCL_RAW
#define LCL_FORWARD_MASKED_VECTOR(STOREV)                                                                    \
    storagev_t xr = LCL_RAW_LOADV(v, x);                                                                     \
    lcl_rawmask_t pos = LCL_RAW_POSV(xr);                                                                    \
    STOREV(pos ? xr : LCL_NARROWV(alpha * LCL_WIDENV(xr)), v, y);                                \
    lanes |= LCL_CONVERT(pos, lcl_lanebits_t, LCL_CAT(convert_uint, LCL_VEC)) & (LCL_LANE_BITS << (q * LCL_VEC));
#define LCL_BACKWARD_MASKED_VECTOR(STOREV)                                                                   \
    storagev_t gr = LCL_RAW_LOADV(v, dy);                                                                    \
    lcl_rawmask_t pos = LCL_CONVERT(LCL_UNPACK_LANES(bits >> (q * LCL_VEC)), lcl_rawmask_t,                  \
                                    LCL_CAT(convert_short, LCL_VEC));                                        \
    STOREV(pos ? gr : LCL_NARROWV(alpha * LCL_WIDENV(gr)), v, dx);
#else
#define LCL_FORWARD_MASKED_VECTOR(STOREV)                                                                    \
    computev_t xv = LCL_LOADV(v, x);                                                                         \
    STOREV(LCL_POSV(xv) ? xv : alpha * xv, v, y);                                                            \
    lanes |= LCL_CONVERT(LCL_POSV(xv), lcl_lanebits_t, LCL_CAT(convert_uint, LCL_VEC)) &                     \
             (LCL_LANE_BITS << (q * LCL_VEC));
#define LCL_BACKWARD_MASKED_VECTOR(STOREV)                                                                   \
    computev_t gv = LCL_LOADV(v, dy);                                                                        \
    STOREV(LCL_UNPACK_LANES(bits >> (q * LCL_VEC)) ? gv : alpha * gv, v, dx);
#endif
#define LCL_FORWARD_MASKED_WORDS(STOREV, STOREW)                                                             \
    for (ulong w = w0; w < w_end; ++w) {                                                                     \
        lcl_lanebits_t lanes = (lcl_lanebits_t)0;                                                            \
        _Pragma("unroll") for (uint q = 0; q < LCL_VECS_PER_WORD; ++q) {                                     \
            ulong v = w * LCL_VECS_PER_WORD + q;                                                             \
            LCL_PREFETCH(v, x);                                                                              \
            LCL_FORWARD_MASKED_VECTOR(STOREV)                                                                \
        }                                                                                                    \
        STOREW(w, lcl_or_lanes(lanes));                                                                      \
    }

/* With non-temporal stores for y, a work-item that owns LCL_MASK_WORDS whole, aligned words
 * stores them the same way, as one vector: an ordinary store would read each mask line first,
 * and cost as much again as the mask itself (measured ~4% of the forward on PoCL). */
#if LCL_MASK_WORDS == 1
typedef uint lcl_maskwords_t;
#define LCL_WORDS_LOAD(p) ((p)[0])
#else
typedef LCL_CAT(uint, LCL_MASK_WORDS) lcl_maskwords_t;
#define LCL_WORDS_LOAD(p) LCL_CAT(vload, LCL_MASK_WORDS)(0, p)
#endif
#define LCL_STORE_WORD(w, bits) (mask[w] = (bits))
#define LCL_KEEP_WORD(w, bits) (words[(w) - w0] = (bits))

#if LCL_GPU_SHAPE
/* GPUs (a chunk of one vector): a work-item per vector, so that a warp's accesses are
 * contiguous (a word per work-item strides them 128 bytes apart, which ran at a tenth of the
 * plain forward on an H200). The vectors of one word meet in local memory and the first
 * work-item of each word stores it; no word spans two work-groups. */
#if LCL_WG % LCL_VECS_PER_WORD != 0
#error "the work-group size must be a multiple of the vectors in a mask word"
#endif

#define LCL_MASK_SIGN_BITS(xv) lcl_or_lanes(LCL_CONVERT(LCL_POSV(xv), lcl_lanebits_t, LCL_CAT(convert_uint, LCL_VEC)) & LCL_LANE_BITS)

__kernel void lcl_mask_forward(__global const storage_t *x, ulong x_off, __global storage_t *y, ulong y_off,
                               __global uint *mask, ulong mask_off, ulong n, compute_t alpha) {
    __local uint part[LCL_WG];
    x += x_off;
    y += y_off;
    mask += mask_off;
    ulong v = get_global_id(0);
    uint lid = (uint)get_local_id(0);
    ulong first = v * LCL_VEC;
    uint bits = 0;
    if (first + LCL_VEC <= n && LCL_FAST2(x, y)) {
        computev_t xv = LCL_LOADV_FAST(v, x);
        LCL_STOREV_FAST(LCL_POSV(xv) ? xv : alpha * xv, v, y);
        bits = LCL_MASK_SIGN_BITS(xv);
    } else if (first + LCL_VEC <= n) {
        computev_t xv = LCL_LOADV(v, x);
        LCL_STOREV(LCL_POSV(xv) ? xv : alpha * xv, v, y);
        bits = LCL_MASK_SIGN_BITS(xv);
    } else {
        for (ulong i = first; i < n; ++i) {
            compute_t xs = LCL_LOAD1(i, x);
            LCL_STORE1(LCL_POS(xs) ? xs : alpha * xs, i, y);
            bits |= (LCL_POS(xs) ? 1u : 0u) << (uint)(i - first);
        }
    }
    part[lid] = bits << (uint)(first % 32);
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lid % LCL_VECS_PER_WORD == 0 && first < n) {
        uint word = 0;
        for (uint q = 0; q < LCL_VECS_PER_WORD; ++q)
            word |= part[lid + q];
        ulong w = first / 32;
        if (n - w * 32 >= 32) {
            mask[w] = word;
        } else {
            uint kept = ~((1u << (uint)(n % 32)) - 1u); /* the bits past n stay as they were */
            mask[w] = (mask[w] & kept) | word;
        }
    }
}

__kernel void lcl_mask_backward(__global const uint *mask, ulong mask_off, __global const storage_t *dy,
                                ulong dy_off, __global storage_t *dx, ulong dx_off, ulong n, compute_t alpha) {
    mask += mask_off;
    dy += dy_off;
    dx += dx_off;
    ulong v = get_global_id(0);
    ulong first = v * LCL_VEC;
    if (first >= n)
        return;
    uint bits = mask[first / 32] >> (uint)(first % 32);
    if (first + LCL_VEC <= n && LCL_FAST2(dy, dx)) {
        computev_t gv = LCL_LOADV_FAST(v, dy);
        LCL_STOREV_FAST(LCL_UNPACK_LANES(bits) ? gv : alpha * gv, v, dx);
    } else if (first + LCL_VEC <= n) {
        computev_t gv = LCL_LOADV(v, dy);
        LCL_STOREV(LCL_UNPACK_LANES(bits) ? gv : alpha * gv, v, dx);
    } else {
        for (ulong i = first; i < n; ++i) {
            compute_t gs = LCL_LOAD1(i, dy);
            LCL_STORE1(((bits >> (uint)(i - first)) & 1u) ? gs : alpha * gs, i, dx);
        }
    }
}

#else /* CPU devices: a work-item owns whole words */

__kernel void lcl_mask_forward(__global const storage_t *x, ulong x_off, __global storage_t *y, ulong y_off,
                                 __global uint *mask, ulong mask_off, ulong n, compute_t alpha) {
    x += x_off;
    y += y_off;
    mask += mask_off;
    LCL_MASK_RANGE(n)
    if (LCL_USE_NT(y) && w_end == w0 + LCL_MASK_WORDS && ((ulong)(mask + w0)) % sizeof(lcl_maskwords_t) == 0) {
        uint words[LCL_MASK_WORDS];
        LCL_FORWARD_MASKED_WORDS(LCL_IO_STOREV_NT, LCL_KEEP_WORD)
        __builtin_nontemporal_store(LCL_WORDS_LOAD(words), (__global lcl_maskwords_t *)(mask + w0));
    } else if (LCL_USE_NT(y)) {
        LCL_FORWARD_MASKED_WORDS(LCL_IO_STOREV_NT, LCL_STORE_WORD)
    } else {
        LCL_FORWARD_MASKED_WORDS(LCL_IO_STOREV, LCL_STORE_WORD)
    }
    if (owns_tail) {
        uint count = (uint)(n % 32);
        uint bits = 0;
        for (uint j = 0; j < count; ++j) {
            ulong i = full * 32 + j;
            compute_t xs = LCL_LOAD1(i, x);
            LCL_STORE1(LCL_POS(xs) ? xs : alpha * xs, i, y);
            bits |= (LCL_POS(xs) ? 1u : 0u) << j;
        }
        uint kept = ~((1u << count) - 1u);
        mask[full] = (mask[full] & kept) | bits;
    }
}

#define LCL_BACKWARD_MASKED_WORDS(STOREV)                                                                    \
    for (ulong w = w0; w < w_end; ++w) {                                                                     \
        uint bits = mask[w];                                                                                 \
        _Pragma("unroll") for (uint q = 0; q < LCL_VECS_PER_WORD; ++q) {                                     \
            ulong v = w * LCL_VECS_PER_WORD + q;                                                             \
            LCL_PREFETCH(v, dy);                                                                             \
            LCL_BACKWARD_MASKED_VECTOR(STOREV)                                                               \
        }                                                                                                    \
    }

__kernel void lcl_mask_backward(__global const uint *mask, ulong mask_off, __global const storage_t *dy,
                                  ulong dy_off, __global storage_t *dx, ulong dx_off, ulong n, compute_t alpha) {
    mask += mask_off;
    dy += dy_off;
    dx += dx_off;
    LCL_MASK_RANGE(n)
    if (LCL_USE_NT(dx)) {
        LCL_BACKWARD_MASKED_WORDS(LCL_IO_STOREV_NT)
    } else {
        LCL_BACKWARD_MASKED_WORDS(LCL_IO_STOREV)
    }
    if (owns_tail) {
        uint count = (uint)(n % 32);
        uint bits = mask[full];
        for (uint j = 0; j < count; ++j) {
            ulong i = full * 32 + j;
            compute_t gs = LCL_LOAD1(i, dy);
            LCL_STORE1(((bits >> j) & 1u) ? gs : alpha * gs, i, dx);
        }
    }
}

#endif /* LCL_GPU_SHAPE */
