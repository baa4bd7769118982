/* The CPU backend: plain C loops the compiler vectorises (built with -fno-trapping-math, so
 * the branch-free select is allowed), threaded with OpenMP over contiguous blocks. It is also
 * the reference that LEAKYCL_VERIFY checks the devices against. */
#include "convert.h"
#include "internal.h"

/* Below this many elements a thread team costs more than it saves. */
#define LCL__PARALLEL_MIN 65536

float lcl__half_to_float(uint16_t h) { return lcl__half_to_float_inline(h); }
uint16_t lcl__float_to_half(float f) { return lcl__float_to_half_inline(f); }
float lcl__bf16_to_float(uint16_t b) { return lcl__bf16_to_float_inline(b); }
uint16_t lcl__float_to_bf16(float f) { return lcl__float_to_bf16_inline(f); }

/* One loop body per storage type; LOAD widens to the compute type, STORE rounds back. */
#define LCL__DEFINE_LOOPS(suffix, storage, compute, LOAD, STORE)                                             \
    static void forward_##suffix(size_t n, compute alpha, const storage *x, storage *y) {  \
        _Pragma("omp parallel for simd schedule(static) if (n >= LCL__PARALLEL_MIN)")                        \
        for (size_t i = 0; i < n; ++i) {                                                                     \
            compute v = LOAD(x[i]);                                                                          \
            compute scaled = alpha * v;                                                                      \
            y[i] = STORE(v > 0 ? v : scaled);                                                                \
        }                                                                                                    \
    }                                                                                                        \
    static void backward_##suffix(size_t n, compute alpha, const storage *x,                        \
                                  const storage *dy, storage *dx) {                        \
        _Pragma("omp parallel for simd schedule(static) if (n >= LCL__PARALLEL_MIN)")                        \
        for (size_t i = 0; i < n; ++i) {                                                                     \
            compute v = LOAD(x[i]);                                                                          \
            compute g = LOAD(dy[i]);                                                                         \
            compute scaled = alpha * g;                                                                      \
            dx[i] = STORE(v > 0 ? g : scaled);                                                               \
        }                                                                                                    \
    }

#define LCL__IDENTITY(v) (v)
LCL__DEFINE_LOOPS(f32, float, float, LCL__IDENTITY, LCL__IDENTITY)
LCL__DEFINE_LOOPS(f64, double, double, LCL__IDENTITY, LCL__IDENTITY)
LCL__DEFINE_LOOPS(f16, uint16_t, float, lcl__half_to_float_inline, lcl__float_to_half_inline)
LCL__DEFINE_LOOPS(bf16, uint16_t, float, lcl__bf16_to_float_inline, lcl__float_to_bf16_inline)

/* out may be the very array sel or grad is (validation rejects partial overlaps): every
 * element is read before it is written at the same index, which the simd loops keep. */
void lcl__cpu_eltwise(const struct lcl__eltwise *call, const void *sel, const void *grad, void *out) {
    size_t n = call->n;
    float a32 = (float)call->alpha;
    double a64 = call->alpha;
    if (call->op == LCL__OP_FORWARD) {
        switch (call->dtype) {
        case LCL_F32: forward_f32(n, a32, sel, out); break;
        case LCL_F16: forward_f16(n, a32, sel, out); break;
        case LCL_BF16: forward_bf16(n, a32, sel, out); break;
        case LCL_F64: forward_f64(n, a64, sel, out); break;
        case LCL_MASK: break;
        }
        return;
    }
    switch (call->dtype) {
    case LCL_F32: backward_f32(n, a32, sel, grad, out); break;
    case LCL_F16: backward_f16(n, a32, sel, grad, out); break;
    case LCL_BF16: backward_bf16(n, a32, sel, grad, out); break;
    case LCL_F64: backward_f64(n, a64, sel, grad, out); break;
    case LCL_MASK: break;
    }
}
