/* Lane helpers for kernels that give each lane of a vector its own condition or value (the
 * sign mask, per-channel slopes): a lane-mask type whose elements are as wide as the compute
 * type's (what a vector `?:` wants), the lane numbers 0..LCL_VEC-1, bit j for lane j, and an OR
 * over the lanes. Built on dtype.cl's names. */

#if defined(LCL_F64)
typedef LCL_CAT(long, LCL_VEC) lcl_lanemask_t;
/* Comparisons of uint vectors give int lanes: widened (-1 stays -1) for double selects. */
#define LCL_TO_LANEMASK(t) LCL_CONVERT(t, lcl_lanemask_t, LCL_CAT(convert_long, LCL_VEC))
#else
typedef LCL_CAT(int, LCL_VEC) lcl_lanemask_t;
#define LCL_TO_LANEMASK(t) (t)
#endif
typedef LCL_CAT(uint, LCL_VEC) lcl_lanebits_t;

#if LCL_VEC == 2
#define LCL_LANE_INDEX ((lcl_lanemask_t)(0, 1))
#define LCL_LANE_BITS ((lcl_lanebits_t)(1u, 2u))
#elif LCL_VEC == 4
#define LCL_LANE_INDEX ((lcl_lanemask_t)(0, 1, 2, 3))
#define LCL_LANE_BITS ((lcl_lanebits_t)(1u, 2u, 4u, 8u))
#elif LCL_VEC == 8
#define LCL_LANE_INDEX ((lcl_lanemask_t)(0, 1, 2, 3, 4, 5, 6, 7))
#define LCL_LANE_BITS ((lcl_lanebits_t)(1u, 2u, 4u, 8u, 16u, 32u, 64u, 128u))
#elif LCL_VEC == 16
#define LCL_LANE_INDEX ((lcl_lanemask_t)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#define LCL_LANE_BITS                                                                                        \
    ((lcl_lanebits_t)(1u, 2u, 4u, 8u, 16u, 32u, 64u, 128u, 256u, 512u, 1024u, 2048u, 4096u, 8192u, 16384u,   \
                      32768u))
#else
#error "LCL_VEC must be 2, 4, 8 or 16"
#endif

inline uint lcl_or_lanes(lcl_lanebits_t v) {
#if LCL_VEC == 16
    uint8 v8 = v.lo | v.hi;
    uint4 v4 = v8.lo | v8.hi;
#elif LCL_VEC == 8
    uint4 v4 = v.lo | v.hi;
#elif LCL_VEC == 4
    uint4 v4 = v;
#endif
#if LCL_VEC == 2
    uint2 v2 = v;
#else
    uint2 v2 = v4.lo | v4.hi;
#endif
    return v2.x | v2.y;
}

/* Bits 0..LCL_VEC-1 of `bits` as a lane mask: -1 where the bit is set. */
#define LCL_UNPACK_LANES(bits) LCL_TO_LANEMASK(((lcl_lanebits_t)(bits) & LCL_LANE_BITS) != (lcl_lanebits_t)0)

/* Lanes j of two slope vectors: j < split from a, the rest from b. */
#define LCL_SPLIT_LANES(a, b, split) (LCL_LANE_INDEX < (lcl_lanemask_t)(split) ? (a) : (b))
