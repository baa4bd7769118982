/* Batches: many items, each its own (x, y) or (x, dy, dx) views of one set of buffers, in one
 * launch. Work-items are the plain kernels' (LCL_CHUNK vectors of LCL_VEC elements each, one
 * contiguous run), numbered through the items in turn, so a long item gets as many as a plain
 * launch would give it and a short one as few as it needs; no work-item spans two items.
 *
 * The table, `items` items at `table_off` ulongs into `table`:
 *   prefix[0..items]            the first work-item of each item; prefix[items] is the total
 *   items x LCL_BATCH_FIELDS    per item: x offset, dy offset, output offset (elements into the
 *                               buffers), n, alpha's bits (a float's in the low 32 for the
 *                               fp32-compute dtypes, a double's for F64)
 *   first[0..groups]            per work-group, the item of its first work-item; first[groups]
 *                               is the last item
 * A work-item finds its item by binary search over prefix between its work-group's first item
 * and the next work-group's (a step or two, however many items there are), then runs the plain
 * kernel's body on that item. */

#if defined(LCL_F64)
#define LCL_ALPHA_FROM_BITS(bits) as_double(bits)
#else
#define LCL_ALPHA_FROM_BITS(bits) as_float((uint)(bits))
#endif

/* The largest i in [lo, hi) with prefix[i] <= gid: the item holding work-item gid, given that
 * it lies in [lo, hi). */
inline ulong lcl_batch_item(__global const ulong *prefix, ulong lo, ulong hi, ulong gid) {
    while (hi - lo > 1) {
        ulong mid = lo + (hi - lo) / 2;
        if (prefix[mid] <= gid)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* The fields of work-item gid's item (sets *item), or NULL past the last work-item. */
inline __global const ulong *lcl_batch_fields(__global const ulong *table, ulong items, ulong total, ulong gid,
                                              ulong *item) {
    if (gid >= total)
        return 0;
    __global const ulong *first_item = table + items + 1 + items * LCL_BATCH_FIELDS + get_group_id(0);
    *item = lcl_batch_item(table, first_item[0], first_item[1] + 1, gid);
    return table + items + 1 + *item * LCL_BATCH_FIELDS;
}

#if LCL_GPU_SHAPE
/* GPUs: a work-item takes up to LCL_BATCH_VECTORS vectors of its item, `span` work-items apart
 * (the item's work-item count), so that a warp's accesses stay contiguous and the lookup above
 * is paid once per several vectors; the item's first work-item (j == 0) also does the ragged
 * tail. */
inline void lcl_batch_strided(__global const storage_t *sel, __global const storage_t *grad, __global storage_t *out,
                              ulong j, ulong span, ulong n, compute_t alpha, bool fast, bool backward) {
    ulong vectors = n / LCL_VEC;
    for (ulong v = j; v < vectors; v += span)
        lcl_select_vector(sel, grad, out, v, (computev_t)alpha, fast, backward);
    if (j == 0)
        for (ulong i = vectors * LCL_VEC; i < n; ++i)
            lcl_select_element(sel, grad, out, i, alpha, backward);
}

/* This work-item's share of its item. */
inline void lcl_batch_share(__global const ulong *table, ulong item, ulong gid, __global const storage_t *sel,
                            __global const storage_t *grad, __global storage_t *out, ulong n, compute_t alpha,
                            bool fast, bool backward) {
    ulong span = table[item + 1] - table[item];
    ulong j = gid - table[item];
    if (fast)
        lcl_batch_strided(sel, grad, out, j, span, n, alpha, true, backward);
    else
        lcl_batch_strided(sel, grad, out, j, span, n, alpha, false, backward);
}

#else /* CPU devices: a contiguous chunk per work-item */

inline void lcl_batch_share(__global const ulong *table, ulong item, ulong gid, __global const storage_t *sel,
                            __global const storage_t *grad, __global storage_t *out, ulong n, compute_t alpha,
                            bool fast, bool backward) {
    ulong first = (gid - table[item]) * LCL_CHUNK; /* the first vector of this work-item's chunk */
    if (fast)
        lcl_select_chunk(sel, grad, out, first, n, alpha, true, backward);
    else
        lcl_select_chunk(sel, grad, out, first, n, alpha, false, backward);
}

#endif /* LCL_GPU_SHAPE */

__kernel void lcl_batch_forward(__global const ulong *table, ulong table_off, ulong items, ulong total,
                                __global const storage_t *x_base, __global storage_t *y_base) {
    ulong gid = get_global_id(0), item;
    table += table_off;
    __global const ulong *f = lcl_batch_fields(table, items, total, gid, &item);
    if (!f)
        return;
    __global const storage_t *x = x_base + f[0];
    __global storage_t *y = y_base + f[2];
    lcl_batch_share(table, item, gid, x, x, y, f[3], LCL_ALPHA_FROM_BITS(f[4]), LCL_FAST2(x, y), false);
}

__kernel void lcl_batch_backward(__global const ulong *table, ulong table_off, ulong items, ulong total,
                                 __global const storage_t *x_base, __global const storage_t *dy_base,
                                 __global storage_t *dx_base) {
    ulong gid = get_global_id(0), item;
    table += table_off;
    __global const ulong *f = lcl_batch_fields(table, items, total, gid, &item);
    if (!f)
        return;
    __global const storage_t *x = x_base + f[0];
    __global const storage_t *dy = dy_base + f[1];
    __global storage_t *dx = dx_base + f[2];
    lcl_batch_share(table, item, gid, x, dy, dx, f[3], LCL_ALPHA_FROM_BITS(f[4]), LCL_FAST3(x, dy, dx), true);
}
