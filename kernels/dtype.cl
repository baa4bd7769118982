/* Storage and compute types, chosen by one -DLCL_<DTYPE> at build time. LCL_VEC is the vector
 * width in elements. Loads widen storage to the compute type; stores round once, to nearest
 * even, back to storage. LCL_STOREV_NT is a non-temporal vector store (clang's builtin: PoCL
 * only, where -DLCL_NT=1 is passed) that needs an address aligned to LCL_STORAGEV_BYTES, as do
 * LCL_LOADV_A and LCL_STOREV_A, whole-vector accesses.
 * Other kernel files build on these names. */

/* The host's tunables (src/opencl/tunables.c) come as build options: LCL_GPU_SHAPE (GPU
 * shapes: a vector per work-item; else LCL_CHUNK vectors each), LCL_VEC, LCL_CHUNK, LCL_NT,
 * LCL_SOFT_HALF, LCL_WG, LCL_MASK_WORDS, LCL_BATCH_VECTORS, LCL_BATCH_FIELDS, LCL_PRELU_FOLD,
 * LCL_PRELU_COLVECS and LCL_DENSE_COLS. */

/* Vector conversions: clang's builtin compiles to a few instructions, where some drivers'
 * convert_<type>n (PoCL's among them) go element by element. Asked with __has_builtin rather
 * than __clang__, since vendor front ends differ; FN, the OpenCL C spelling, serves elsewhere. */
#if defined(__has_builtin)
#if __has_builtin(__builtin_convertvector)
#define LCL_HAVE_CONVERTVECTOR 1
#endif
#endif
#if defined(LCL_HAVE_CONVERTVECTOR)
#define LCL_CONVERT(x, T, FN) __builtin_convertvector(x, T)
#else
#define LCL_CONVERT(x, T, FN) FN(x)
#endif

#define LCL_CAT_(a, b) a##b
#define LCL_CAT(a, b) LCL_CAT_(a, b)

#if defined(LCL_F64) || defined(LCL_F32)
#if defined(LCL_F64)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#define LCL_REAL double
#else
#define LCL_REAL float
#endif
typedef LCL_REAL storage_t;
typedef LCL_REAL compute_t;
typedef LCL_CAT(LCL_REAL, LCL_VEC) computev_t;
#define LCL_LOAD1(i, p) ((p)[i])
#define LCL_STORE1(v, i, p) ((p)[i] = (v))
#define LCL_LOADV(i, p) LCL_CAT(vload, LCL_VEC)(i, p)
#define LCL_STOREV(v, i, p) LCL_CAT(vstore, LCL_VEC)(v, i, p)
#define LCL_STOREV_NT(v, i, p) __builtin_nontemporal_store(v, (__global computev_t *)(p) + (i))
#define LCL_LOADV_A(i, p) (((__global const computev_t *)(p))[i])
#define LCL_STOREV_A(v, i, p) (((__global computev_t *)(p))[i] = (v))

#elif defined(LCL_F16) && !LCL_SOFT_HALF
/* half as a pointer type only: vload_half/vstore_half need no cl_khr_fp16. */
typedef half storage_t;
typedef float compute_t;
typedef LCL_CAT(float, LCL_VEC) computev_t;
#define LCL_LOAD1(i, p) vload_half(i, p)
#define LCL_STORE1(v, i, p) vstore_half_rte(v, i, p)
#define LCL_LOADV(i, p) LCL_CAT(vload_half, LCL_VEC)(i, p)
#define LCL_STOREV(v, i, p) LCL_CAT(LCL_CAT(vstore_half, LCL_VEC), _rte)(v, i, p)
/* vstore_half has no non-temporal form: plain stores. */
#define LCL_STOREV_NT(v, i, p) LCL_STOREV(v, i, p)
#define LCL_LOADV_A(i, p) LCL_CAT(vloada_half, LCL_VEC)(i, p)
#define LCL_STOREV_A(v, i, p) LCL_CAT(LCL_CAT(vstorea_half, LCL_VEC), _rte)(v, i, p)

#elif defined(LCL_F16)
/* The same conversions in integer arithmetic, for devices whose vload_half/vstore_half are
 * slow (PoCL's CPU device converts an element at a time): round to nearest even, subnormals
 * kept, NaN stays NaN, exactly as vstore_half_rte and the CPU backend (src/convert.h). Written
 * once, instantiated for scalars and for vectors of LCL_VEC. */
typedef ushort storage_t;
typedef float compute_t;
typedef LCL_CAT(float, LCL_VEC) computev_t;
typedef LCL_CAT(ushort, LCL_VEC) storagev_t;

#define LCL_HALF_FNS(SUFFIX, floatT, uintT, ushortT, CONVERT_UINT, CONVERT_FLOAT, CONVERT_USHORT, AS_UINT, AS_FLOAT,   \
                     AS_INT)                                                                                           \
    inline floatT LCL_CAT(lcl_half_to_float, SUFFIX)(ushortT h) {                                                      \
        uintT hu = CONVERT_UINT(h);                                                                                    \
        uintT mag = (hu & 0x7fffu) << 13; /* exponent and mantissa in float position */                                \
        uintT exp = mag & 0x0f800000u;                                                                                 \
        uintT normal = mag + (112u << 23);                                                                             \
        uintT special = mag + (224u << 23); /* inf and NaN */                                                          \
        /* a subnormal half is its mantissa times 2^-24, exact in float (signed: converts natively) */                 \
        uintT sub = AS_UINT(CONVERT_FLOAT(AS_INT(hu & 0x3ffu)) * 0x1p-24f);                                            \
        uintT r = exp == 0x0f800000u ? special : (exp == 0u ? sub : normal);                                           \
        return AS_FLOAT(r | ((hu & 0x8000u) << 16));                                                                   \
    }                                                                                                                  \
    inline ushortT LCL_CAT(lcl_float_to_half, SUFFIX)(floatT f) {                                                      \
        uintT u = AS_UINT(f);                                                                                          \
        uintT a = u & 0x7fffffffu;                                                                                     \
        /* normal range: drop 13 bits rounding to nearest even; a carry into the exponent is right */                  \
        uintT normal = (a + 0xc8000fffu + ((a >> 13) & 1u)) >> 13;                                                     \
        /* below 2^-14: adding 0.5 shifts the value into place and the FPU rounds it */                                \
        uintT sub = AS_UINT(AS_FLOAT(a) + 0.5f) - 0x3f000000u;                                                         \
        uintT over = a > 0x7f800000u ? (uintT)0x7e00u : (uintT)0x7c00u; /* NaN stays NaN */                            \
        uintT h = a >= 0x47800000u ? over : (a < 0x38800000u ? sub : normal);                                          \
        return CONVERT_USHORT(h | ((u >> 16) & 0x8000u));                                                              \
    }

LCL_HALF_FNS(, float, uint, ushort, convert_uint, convert_float, convert_ushort, as_uint, as_float, as_int)
typedef LCL_CAT(uint, LCL_VEC) lcl_uintv_t;
#define LCL_TO_UINTV(x) LCL_CONVERT(x, lcl_uintv_t, LCL_CAT(convert_uint, LCL_VEC))
#define LCL_TO_FLOATV(x) LCL_CONVERT(x, computev_t, LCL_CAT(convert_float, LCL_VEC))
#define LCL_TO_USHORTV(x) LCL_CONVERT(x, storagev_t, LCL_CAT(convert_ushort, LCL_VEC))
LCL_HALF_FNS(v, computev_t, lcl_uintv_t, storagev_t, LCL_TO_UINTV, LCL_TO_FLOATV, LCL_TO_USHORTV,
             LCL_CAT(as_uint, LCL_VEC), LCL_CAT(as_float, LCL_VEC), LCL_CAT(as_int, LCL_VEC))

/* x86 CPU devices (PoCL, which defines __F16C__ for a CPU that has it): F16C converts 8 lanes
 * per instruction, rounding to nearest even whatever MXCSR says (immediate 0), subnormals kept,
 * as the CPU backend's own F16C loops; the integer form above cost fp16 a third of fp32's
 * elements per second there. Only in the CPU shapes (a chunk of several vectors per work-item),
 * so that the GPU shapes run under LEAKYCL_KERNEL_SHAPE=gpu still check the integer form.
 * Scalars (tails) keep it: the two agree on every value but a NaN's payload, which the
 * semantics leave open. */
#if !LCL_GPU_SHAPE && defined(__F16C__) && LCL_VEC == 8
inline computev_t lcl_h2fv(storagev_t h) { return __builtin_ia32_vcvtph2ps256(as_short8(h)); }
inline storagev_t lcl_f2hv(computev_t f) { return as_ushort8(__builtin_ia32_vcvtps2ph256(f, 0)); }
#else
#define lcl_h2fv lcl_half_to_floatv
#define lcl_f2hv lcl_float_to_halfv
#endif

#define LCL_LOAD1(i, p) lcl_half_to_float((p)[i])
#define LCL_STORE1(v, i, p) ((p)[i] = lcl_float_to_half(v))
#define LCL_LOADV(i, p) lcl_h2fv(LCL_CAT(vload, LCL_VEC)(i, p))
#define LCL_STOREV(v, i, p) LCL_CAT(vstore, LCL_VEC)(lcl_f2hv(v), i, p)
#define LCL_STOREV_NT(v, i, p) __builtin_nontemporal_store(lcl_f2hv(v), (__global storagev_t *)(p) + (i))
#define LCL_LOADV_A(i, p) lcl_h2fv(((__global const storagev_t *)(p))[i])
#define LCL_STOREV_A(v, i, p) (((__global storagev_t *)(p))[i] = lcl_f2hv(v))
#define LCL_RAW 1
#define LCL_WIDENV(r) lcl_h2fv(r)
#define LCL_NARROWV(c) lcl_f2hv(c)
#define LCL_RAW_INF 0x7c00

#elif defined(LCL_BF16)
/* bfloat16 is the top half of a float: widen by shifting, narrow by rounding to nearest even
 * on the dropped 16 bits; a NaN stays a (quiet) NaN instead of rounding into infinity. */
typedef ushort storage_t;
typedef float compute_t;
typedef LCL_CAT(float, LCL_VEC) computev_t;
typedef LCL_CAT(uint, LCL_VEC) bitsv_t;
typedef LCL_CAT(ushort, LCL_VEC) storagev_t;

inline float lcl_bf16_to_float(ushort b) { return as_float((uint)b << 16); }

inline ushort lcl_float_to_bf16(float f) {
    uint u = as_uint(f);
    uint rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    return (ushort)(isnan(f) ? ((u >> 16) | 0x40u) : rounded);
}

inline computev_t lcl_bf16v_to_float(storagev_t b) {
    return LCL_CAT(as_float, LCL_VEC)(LCL_CONVERT(b, bitsv_t, LCL_CAT(convert_uint, LCL_VEC)) << 16);
}

inline storagev_t lcl_floatv_to_bf16(computev_t f) {
    bitsv_t u = LCL_CAT(as_uint, LCL_VEC)(f);
    bitsv_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
#if !LCL_GPU_SHAPE && defined(__x86_64__)
    /* x86 CPU devices (the CPU shapes): only products alpha * g of widened bf16s are narrowed here, and an x86
     * multiply gives its NaN operand quieted (or 0xffc00000): the low half is zero, so rounding
     * cannot carry a NaN into the sign. One select less per vector (PoCL's bf16 forward). */
#else
    bitsv_t quiet = (u >> 16) | 0x40u;
    rounded = select(rounded, quiet, LCL_CAT(as_uint, LCL_VEC)(isnan(f)));
#endif
    return LCL_CONVERT(rounded, storagev_t, LCL_CAT(convert_ushort, LCL_VEC));
}

#define LCL_LOAD1(i, p) lcl_bf16_to_float((p)[i])
#define LCL_STORE1(v, i, p) ((p)[i] = lcl_float_to_bf16(v))
#define LCL_LOADV(i, p) lcl_bf16v_to_float(LCL_CAT(vload, LCL_VEC)(i, p))
#define LCL_STOREV(v, i, p) LCL_CAT(vstore, LCL_VEC)(lcl_floatv_to_bf16(v), i, p)
#define LCL_STOREV_NT(v, i, p) __builtin_nontemporal_store(lcl_floatv_to_bf16(v), (__global storagev_t *)(p) + (i))
#define LCL_LOADV_A(i, p) lcl_bf16v_to_float(((__global const storagev_t *)(p))[i])
#define LCL_STOREV_A(v, i, p) (((__global storagev_t *)(p))[i] = lcl_floatv_to_bf16(v))
#define LCL_RAW 1
#define LCL_WIDENV(r) lcl_bf16v_to_float(r)
#define LCL_NARROWV(c) lcl_floatv_to_bf16(c)
#define LCL_RAW_INF 0x7f80

#else
#error "define one of LCL_F32, LCL_F16, LCL_BF16, LCL_F64"
#endif
#define LCL_STORAGEV_BYTES (sizeof(storage_t) * LCL_VEC)

/* The 16-bit integer storages (the integer fp16 and bf16) also offer their raw bits, so that a
 * kernel can choose on them: the input's own bits where x > 0 (what a round trip through fp32
 * gives), else the rounded product, with one compare on 16-bit lanes instead of two on 32-bit
 * ones (PoCL fp16 forward +25%). LCL_RAW_POSV(r): 0 < r <= +inf as signed 16-bit integers, x > 0
 * exactly (negatives and -0 have the sign bit, NaNs lie above +inf); LCL_RAW_SIGNV(r): r > 0,
 * which also lets positive NaNs through, enough where a NaN may go through as itself. */
#ifndef LCL_RAW
#define LCL_RAW 0
#endif
#if LCL_RAW
typedef LCL_CAT(short, LCL_VEC) lcl_rawmask_t;
#define LCL_RAW_SIGNV(r) (LCL_CAT(as_short, LCL_VEC)(r) > (short)0)
#define LCL_RAW_POSV(r) (LCL_RAW_SIGNV(r) & (LCL_CAT(as_short, LCL_VEC)(r) <= (short)LCL_RAW_INF))
#define LCL_RAW_LOADV(i, p) LCL_CAT(vload, LCL_VEC)(i, p)
#define LCL_RAW_STOREV(r, i, p) LCL_CAT(vstore, LCL_VEC)(r, i, p)
#define LCL_RAW_LOADV_A(i, p) (((__global const storagev_t *)(p))[i])
#define LCL_RAW_STOREV_A(r, i, p) (((__global storagev_t *)(p))[i] = (r))
#define LCL_RAW_STOREV_NT(r, i, p) __builtin_nontemporal_store(r, (__global storagev_t *)(p) + (i))
#endif

/* The vectors the elementwise functions (eltwise.cl, mask.cl) load and store, lcl_iov_t, through
 * lcl_io_load and lcl_io_store below: raw 16-bit vectors where the storage offers them, else
 * compute-type vectors. LCL_IO_POSV(r) is x > 0 exactly on them; LCL_IO_SIGNV(r) may also pass a
 * positive NaN (LCL_RAW_SIGNV), where a NaN may go through as itself. */
#if LCL_RAW
#define LCL_IO_LOADV LCL_RAW_LOADV
#define LCL_IO_STOREV LCL_RAW_STOREV
#define LCL_IO_LOADV_FAST LCL_RAW_LOADV_FAST
#define LCL_IO_STOREV_FAST LCL_RAW_STOREV_FAST
#define LCL_IO_POSV(r) LCL_RAW_POSV(r)
#define LCL_IO_SIGNV(r) LCL_RAW_SIGNV(r)
typedef storagev_t lcl_iov_t;
#else
#define LCL_IO_LOADV LCL_LOADV
#define LCL_IO_STOREV LCL_STOREV
#define LCL_IO_LOADV_FAST LCL_LOADV_FAST
#define LCL_IO_STOREV_FAST LCL_STOREV_FAST
#define LCL_IO_POSV(r) LCL_POSV(r)
#define LCL_IO_SIGNV(r) LCL_POSV(r)
typedef computev_t lcl_iov_t;
#endif

/* x > 0, the branch condition of every op, as a select mask: LCL_POS for a compute_t (0 or 1),
 * LCL_POSV for a computev_t (-1 or 0 per lane). For fp16 and bf16 it is asked of the float's
 * bits (positive, nonzero, not NaN: 0 < bits <= +inf's): LLVM turns a float compare of a
 * widened half back into a compare of halves, which x86 has no instruction for, and PoCL then
 * emitted a branch per lane, mispredicted on mixed signs (a vload_half8 test kernel ran at 0.19
 * G elements/s with the float compare and 3.5 with this one). */
#if defined(LCL_F16) || defined(LCL_BF16)
typedef LCL_CAT(int, LCL_VEC) lcl_posmask_t;
inline int lcl_pos(float x) { return as_int(x) > 0 && as_int(x) <= 0x7f800000; }
inline lcl_posmask_t lcl_posv(computev_t x) {
    lcl_posmask_t bits = LCL_CAT(as_int, LCL_VEC)(x);
    return bits > 0 & bits <= 0x7f800000;
}
#define LCL_POS(x) lcl_pos(x)
#define LCL_POSV(x) lcl_posv(x)
#else
#define LCL_POS(x) ((x) > (compute_t)0)
#define LCL_POSV(x) ((x) > (compute_t)0)
#endif

/* The fast path of a kernel, taken when the pointers allow it (checked once per launch; an
 * element offset may break any alignment). On PoCL (LCL_NT) loads cost the same at any
 * alignment and an aligned output takes non-temporal stores, which skip reading each output
 * line first. Elsewhere (GPUs) aligned inputs and output take whole-vector loads and stores:
 * vloadn on 16-bit elements is otherwise issued as LCL_VEC narrow accesses, which halved
 * fp16/bf16 throughput on an H200. */
#define LCL_ALIGNED(p) (((ulong)(p)) % LCL_STORAGEV_BYTES == 0)
#define LCL_USE_NT(out) (LCL_NT && LCL_ALIGNED(out))
#if LCL_NT
#define LCL_FAST2(in, out) LCL_ALIGNED(out)
#define LCL_FAST3(in1, in2, out) LCL_ALIGNED(out)
#define LCL_LOADV_FAST(i, p) LCL_LOADV(i, p)
#define LCL_STOREV_FAST(v, i, p) LCL_STOREV_NT(v, i, p)
#define LCL_RAW_LOADV_FAST(i, p) LCL_RAW_LOADV(i, p)
#define LCL_RAW_STOREV_FAST(r, i, p) LCL_RAW_STOREV_NT(r, i, p)
#else
#define LCL_FAST2(in, out) (LCL_ALIGNED(in) && LCL_ALIGNED(out))
#define LCL_FAST3(in1, in2, out) (LCL_ALIGNED(in1) && LCL_ALIGNED(in2) && LCL_ALIGNED(out))
#define LCL_LOADV_FAST(i, p) LCL_LOADV_A(i, p)
#define LCL_STOREV_FAST(v, i, p) LCL_STOREV_A(v, i, p)
#define LCL_RAW_LOADV_FAST(i, p) LCL_RAW_LOADV_A(i, p)
#define LCL_RAW_STOREV_FAST(r, i, p) LCL_RAW_STOREV_A(r, i, p)
#endif

/* CPU devices (LCL_NT): lcl_prefetch, a software prefetch LCL_PREFETCH_AHEAD bytes ahead of vector v of an
 * input, once per 64-byte line. A work-item's chunk is short (LCL_CHUNK vectors) and the next
 * work-item's follows it, so the hardware prefetchers alone left PoCL's fp16 and bf16 loops,
 * which do more work per byte, stalling on loads (fp16 forward +15% with it; the CPU backend
 * found the same on AMD Zen). A prefetch past an array's end does not fault. */
#define LCL_PREFETCH_AHEAD 2048
#define LCL_VECTORS_PER_LINE (LCL_STORAGEV_BYTES >= 64 ? 1 : 64 / LCL_STORAGEV_BYTES)
inline void lcl_prefetch(ulong v, __global const storage_t *p) {
#if LCL_NT /* the builtin is clang's: PoCL only */
    if (v % LCL_VECTORS_PER_LINE == 0)
        __builtin_prefetch((__global const char *)p + v * LCL_STORAGEV_BYTES + LCL_PREFETCH_AHEAD, 0, 3);
#endif
}

/* Vector v of those accesses, the fast way (LCL_FAST2/LCL_FAST3 said so for the launch) or the
 * general one; `fast` is a constant at every call. */
inline lcl_iov_t lcl_io_load(ulong v, __global const storage_t *p, bool fast) {
    return fast ? LCL_IO_LOADV_FAST(v, p) : LCL_IO_LOADV(v, p);
}

inline void lcl_io_store(lcl_iov_t r, ulong v, __global storage_t *p, bool fast) {
    if (fast)
        LCL_IO_STOREV_FAST(r, v, p);
    else
        LCL_IO_STOREV(r, v, p);
}

/* The alpha branch of every op: alpha * g in the compute type, rounded once to the storage. */
inline lcl_iov_t lcl_io_scaled(lcl_iov_t g, computev_t alpha) {
#if LCL_RAW
    return LCL_NARROWV(alpha * LCL_WIDENV(g));
#else
    return alpha * g;
#endif
}
