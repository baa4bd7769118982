/* The sign mask: a forward that also stores (x > 0) as bits, element i in bit (i mod 32) of
 * 32-bit word i/32, and a backward that selects on those bits instead of on x. x, y, dy and dx
 * may start at any element; the mask starts on a word (mask_off counts words). The bits of a
 * last, partial word past n keep their values.
 *
 * One function per vector and one per element, as eltwise.cl, the forward's also giving the
 * signs, the backward's taking them as bits; `fast` as there. The kernels differ by device class:
 * on GPUs a work-item per vector, whose words meet in local memory; on CPU devices a work-item
 * owning LCL_MASK_WORDS whole words (a 64-byte line: tunables.c says why), so that no two share
 * a word: no atomics. */

#define LCL_VECS_PER_WORD (32 / LCL_VEC)

/* A vector's select mask: -1 in the lanes with x > 0, else 0; and one from a vector's bits. */
#if LCL_RAW
typedef lcl_rawmask_t lcl_signs_t;
inline lcl_signs_t lcl_signs_from_bits(uint bits) {
    return LCL_CONVERT(LCL_UNPACK_LANES(bits), lcl_rawmask_t, LCL_CAT(convert_short, LCL_VEC));
}
#else
typedef lcl_lanemask_t lcl_signs_t;
inline lcl_signs_t lcl_signs_from_bits(uint bits) { return LCL_UNPACK_LANES(bits); }
#endif

/* Forward of vector v; returns its select mask. 16-bit storage chooses on the raw bits, as
 * eltwise.cl does, but with x > 0 exactly (LCL_IO_POSV), as the bit must be. */
inline lcl_signs_t lcl_forward_masked_vector(__global const storage_t *x, __global storage_t *y, ulong v,
                                             compute_t alpha, bool fast) {
    lcl_prefetch(v, x);
    lcl_iov_t xv = lcl_io_load(v, x, fast);
    lcl_signs_t pos = LCL_IO_POSV(xv);
    lcl_io_store(pos ? xv : lcl_io_scaled(xv, (computev_t)alpha), v, y, fast);
    return pos;
}

/* A select mask as bits, lane j's as bit j in lane j. */
inline lcl_lanebits_t lcl_sign_lanes(lcl_signs_t s) {
    return LCL_CONVERT(s, lcl_lanebits_t, LCL_CAT(convert_uint, LCL_VEC)) & LCL_LANE_BITS;
}

/* Backward of vector v, whose bits are the low LCL_VEC of `bits`. */
inline void lcl_backward_masked_vector(__global const storage_t *dy, __global storage_t *dx, ulong v, uint bits,
                                       compute_t alpha, bool fast) {
    lcl_prefetch(v, dy);
    lcl_iov_t g = lcl_io_load(v, dy, fast);
    lcl_io_store(lcl_signs_from_bits(bits) ? g : lcl_io_scaled(g, (computev_t)alpha), v, dx, fast);
}

/* Elements [first, n) of a last, partial vector or word, one at a time: the forward returns
 * their bits from bit 0, the backward takes them so. */
inline uint lcl_forward_masked_elements(__global const storage_t *x, __global storage_t *y, ulong first, ulong n,
                                        compute_t alpha) {
    uint bits = 0;
    for (ulong i = first; i < n; ++i) {
        compute_t xs = LCL_LOAD1(i, x);
        LCL_STORE1(LCL_POS(xs) ? xs : alpha * xs, i, y);
        bits |= (LCL_POS(xs) ? 1u : 0u) << (uint)(i - first);
    }
    return bits;
}

inline void lcl_backward_masked_elements(__global const storage_t *dy, __global storage_t *dx, ulong first, ulong n,
                                         uint bits, compute_t alpha) {
    for (ulong i = first; i < n; ++i) {
        compute_t gs = LCL_LOAD1(i, dy);
        LCL_STORE1(((bits >> (uint)(i - first)) & 1u) ? gs : alpha * gs, i, dx);
    }
}

/* mask[w] gets `bits` for its first `count` elements; the rest of the word keeps its bits. */
inline void lcl_store_partial_word(__global uint *mask, ulong w, uint bits, uint count) {
    uint kept = ~((1u << count) - 1u);
    mask[w] = (mask[w] & kept) | bits;
}

#if LCL_GPU_SHAPE
/* GPUs: a work-item per vector, so that a warp's accesses are contiguous (a word per
 * work-item strides them 128 bytes apart, which ran at a tenth of the plain forward on an
 * H200). The vectors of one word meet in local memory and the first work-item of each word
 * stores it; no word spans two work-groups. */
#if LCL_WG % LCL_VECS_PER_WORD != 0
#error "the work-group size must be a multiple of the vectors in a mask word"
#endif

__kernel void lcl_mask_forward(__global const storage_t *x, ulong x_off, __global storage_t *y, ulong y_off,
                               __global uint *mask, ulong mask_off, ulong n, compute_t alpha) {
    __local uint part[LCL_WG];
    x += x_off;
    y += y_off;
    mask += mask_off;
    ulong v = get_global_id(0);
    uint lid = (uint)get_local_id(0);
    ulong first = v * LCL_VEC;
    uint bits;
    if (first + LCL_VEC <= n && LCL_FAST2(x, y))
        bits = lcl_or_lanes(lcl_sign_lanes(lcl_forward_masked_vector(x, y, v, alpha, true)));
    else if (first + LCL_VEC <= n)
        bits = lcl_or_lanes(lcl_sign_lanes(lcl_forward_masked_vector(x, y, v, alpha, false)));
    else
        bits = lcl_forward_masked_elements(x, y, first, n, alpha);
    part[lid] = bits << (uint)(first % 32);
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lid % LCL_VECS_PER_WORD != 0 || first >= n)
        return;
    uint word = 0;
    for (uint q = 0; q < LCL_VECS_PER_WORD; ++q)
        word |= part[lid + q];
    ulong w = first / 32;
    if (n - w * 32 >= 32)
        mask[w] = word;
    else
        lcl_store_partial_word(mask, w, word, (uint)(n % 32));
}

__kernel void lcl_mask_backward(__global const uint *mask, ulong mask_off, __global const storage_t *dy, ulong dy_off,
                                __global storage_t *dx, ulong dx_off, ulong n, compute_t alpha) {
    mask += mask_off;
    dy += dy_off;
    dx += dx_off;
    ulong v = get_global_id(0);
    ulong first = v * LCL_VEC;
    if (first >= n)
        return;
    uint bits = mask[first / 32] >> (uint)(first % 32);
    if (first + LCL_VEC <= n && LCL_FAST2(dy, dx))
        lcl_backward_masked_vector(dy, dx, v, bits, alpha, true);
    else if (first + LCL_VEC <= n)
        lcl_backward_masked_vector(dy, dx, v, bits, alpha, false);
    else
        lcl_backward_masked_elements(dy, dx, first, n, bits, alpha);
}

#else /* CPU devices: a work-item owns whole words */

/* A word's bits from the select masks of its vectors. On x86 CPU devices with 16-bit storage,
 * the masks' -1 and 0 lanes packed to bytes (saturating keeps both) give the word by two
 * pmovmskb: 10 instructions a word where the portable OR of shifted lanes took 15, a fifth of
 * the 16-bit masked forward's (PoCL). 16 lanes pack their own two halves. */
#if defined(__x86_64__) && LCL_RAW && LCL_VEC == 8
inline uint lcl_word_from_signs(const lcl_signs_t *s) {
    uint lo = (uint)__builtin_ia32_pmovmskb128(__builtin_ia32_packsswb128(s[0], s[1]));
    uint hi = (uint)__builtin_ia32_pmovmskb128(__builtin_ia32_packsswb128(s[2], s[3]));
    return lo | hi << 16;
}
#elif defined(__x86_64__) && LCL_RAW && LCL_VEC == 16
inline uint lcl_word_from_signs(const lcl_signs_t *s) {
    uint lo = (uint)__builtin_ia32_pmovmskb128(__builtin_ia32_packsswb128(s[0].lo, s[0].hi));
    uint hi = (uint)__builtin_ia32_pmovmskb128(__builtin_ia32_packsswb128(s[1].lo, s[1].hi));
    return lo | hi << 16;
}
#else
inline uint lcl_word_from_signs(const lcl_signs_t *s) {
    lcl_lanebits_t lanes = (lcl_lanebits_t)0;
    for (uint q = 0; q < LCL_VECS_PER_WORD; ++q)
        lanes |= lcl_sign_lanes(s[q]) << (q * LCL_VEC);
    return lcl_or_lanes(lanes);
}
#endif

/* Forward of word w's vectors; returns the word. The loop is unrolled: on PoCL the rolled loop
 * cost ~10% against lcl_forward. */
inline uint lcl_forward_masked_word(__global const storage_t *x, __global storage_t *y, ulong w, compute_t alpha,
                                    bool fast) {
    lcl_signs_t s[LCL_VECS_PER_WORD];
#pragma unroll
    for (uint q = 0; q < LCL_VECS_PER_WORD; ++q)
        s[q] = lcl_forward_masked_vector(x, y, w * LCL_VECS_PER_WORD + q, alpha, fast);
    return lcl_word_from_signs(s);
}

inline void lcl_backward_masked_word(__global const storage_t *dy, __global storage_t *dx, ulong w, uint word,
                                     compute_t alpha, bool fast) {
#pragma unroll
    for (uint q = 0; q < LCL_VECS_PER_WORD; ++q)
        lcl_backward_masked_vector(dy, dx, w * LCL_VECS_PER_WORD + q, word >> (q * LCL_VEC), alpha, fast);
}

/* Words [w0, w0 + count) into words[0, count). */
inline void lcl_forward_masked_words(__global const storage_t *x, __global storage_t *y, ulong w0, ulong count,
                                     compute_t alpha, bool fast, uint *words) {
    for (ulong k = 0; k < count; ++k)
        words[k] = lcl_forward_masked_word(x, y, w0 + k, alpha, fast);
}

/* A work-item's words as one vector (LCL_MASK_WORDS of them: 2 to 16). */
typedef LCL_CAT(uint, LCL_MASK_WORDS) lcl_maskwords_t;

/* Words [w0, w0 + count) to the mask. With non-temporal stores for y, a work-item's whole,
 * aligned run of words goes the same way, as one vector: an ordinary store would read each
 * mask line first, and cost as much again as the mask itself (~4% of the forward on PoCL). */
inline void lcl_store_words(__global uint *mask, ulong w0, ulong count, const uint *words, bool nt) {
    if (nt && count == LCL_MASK_WORDS && ((ulong)(mask + w0)) % sizeof(lcl_maskwords_t) == 0) {
        __builtin_nontemporal_store(LCL_CAT(vload, LCL_MASK_WORDS)(0, words), (__global lcl_maskwords_t *)(mask + w0));
        return;
    }
    for (ulong k = 0; k < count; ++k)
        mask[w0 + k] = words[k];
}

/* This work-item's whole words start at word w0; *count of them, and whether it also holds the
 * last, partial word (at word full). */
inline bool lcl_mask_range(ulong n, ulong *w0, ulong *count) {
    *w0 = get_global_id(0) * LCL_MASK_WORDS;
    ulong full = n / 32;
    ulong end = *w0 + LCL_MASK_WORDS < full ? *w0 + LCL_MASK_WORDS : full;
    *count = end > *w0 ? end - *w0 : 0;
    return n % 32 != 0 && full >= *w0 && full < *w0 + LCL_MASK_WORDS;
}

__kernel void lcl_mask_forward(__global const storage_t *x, ulong x_off, __global storage_t *y, ulong y_off,
                               __global uint *mask, ulong mask_off, ulong n, compute_t alpha) {
    x += x_off;
    y += y_off;
    mask += mask_off;
    ulong w0, count;
    bool owns_tail = lcl_mask_range(n, &w0, &count);
    uint words[LCL_MASK_WORDS];
    bool fast = LCL_FAST2(x, y);
    if (fast)
        lcl_forward_masked_words(x, y, w0, count, alpha, true, words);
    else
        lcl_forward_masked_words(x, y, w0, count, alpha, false, words);
    lcl_store_words(mask, w0, count, words, LCL_NT && fast);
    if (owns_tail) {
        ulong full = n / 32;
        lcl_store_partial_word(mask, full, lcl_forward_masked_elements(x, y, full * 32, n, alpha), (uint)(n % 32));
    }
}

__kernel void lcl_mask_backward(__global const uint *mask, ulong mask_off, __global const storage_t *dy, ulong dy_off,
                                __global storage_t *dx, ulong dx_off, ulong n, compute_t alpha) {
    mask += mask_off;
    dy += dy_off;
    dx += dx_off;
    ulong w0, count;
    bool owns_tail = lcl_mask_range(n, &w0, &count);
    if (LCL_FAST2(dy, dx))
        for (ulong w = w0; w < w0 + count; ++w)
            lcl_backward_masked_word(dy, dx, w, mask[w], alpha, true);
    else
        for (ulong w = w0; w < w0 + count; ++w)
            lcl_backward_masked_word(dy, dx, w, mask[w], alpha, false);
    if (owns_tail) {
        ulong full = n / 32;
        lcl_backward_masked_elements(dy, dx, full * 32, n, mask[full], alpha);
    }
}

#endif /* LCL_GPU_SHAPE */
