/* The one table of what the host and the kernels share: every constant a kernel is compiled with
 * comes from a struct lcl__tunables, passed as a -D build option, and the host sizes its launches
 * from the same struct. lcl__tunables_default gives the values measured on the devices at hand;
 * a per-device tuner may fill the struct from a cache instead. */
#include "opencl.h"

#include <stdio.h>

/* Widest work-groups used: 256 work-items on GPUs; 64 on CPU devices (PoCL runs a work-group on
 * one thread). */
#define GPU_WORK_GROUP_SIZE 256
#define CPU_WORK_GROUP_SIZE 64

void lcl__tunables_default(const struct lcl__device_facts *device, struct lcl__tunables *t) {
    bool gpu = device->gpu;
    size_t wanted_wg = gpu ? GPU_WORK_GROUP_SIZE : CPU_WORK_GROUP_SIZE;
    t->work_group_size = device->max_work_group_size < wanted_wg ? device->max_work_group_size : wanted_wg;
    if (t->work_group_size == 0)
        t->work_group_size = 1;
    /* The GPU shapes put a sign-mask word together within a work-group (mask.cl: up to 16
     * vectors per word); a device with work-groups of another size gets the CPU shapes. */
    t->gpu_shape = gpu && t->work_group_size % 16 == 0;
    /* A GPU work-item loads 16 bytes of storage at once (the widest coalesced load); on CPU
     * devices a work-item fills one 256-bit register of the compute type, which measured
     * fastest on PoCL and is the widest vector PoCL compiles without ABI warnings on AVX2. */
    for (size_t d = 0; d < LCL__FLOAT_DTYPE_COUNT; ++d) {
        size_t storage = lcl_dtype_size((lcl_dtype)d);
        size_t compute = d == LCL_F64 ? 8 : 4;
        t->vector_width[d] = (unsigned)(t->gpu_shape ? 16 / storage : 32 / compute);
    }
    /* bf16 widens and narrows with integer shifts and masks, work that holds it below memory
     * speed when a CPU is busy: on CPU devices with 512-bit vectors (PoCL reports 16 float lanes
     * there), 16 lanes halve those instructions per byte and ran its ops 1.4-1.9x faster than 8
     * (`leakycl tune --compare`, 2^24). f32 and f64 gained nothing; f16's F16C path is written
     * for 8 lanes. */
    if (!t->gpu_shape && device->float_lanes >= 16)
        t->vector_width[LCL_BF16] = 16;
    /* PoCL's CPU device runs a contiguous run of 16 vectors per work-item fastest. */
    t->chunk = t->gpu_shape ? 1 : 16;
    /* A sign-mask work-item of the CPU shape owns a 64-byte line of mask words (512 elements),
     * which it stores whole: with a line shared by four work-items (the 128 elements of the
     * default chunk), PoCL's 16-bit masked forward took 1.2-1.3x the plain forward's time, and
     * 1.03-1.08x with whole lines. The chunk then leaves the masked kernels alone. */
    t->mask_words = 16;
    /* PoCL's clang compiles non-temporal stores, which spare large outputs the read before each
     * line is written. */
    t->nontemporal = !t->gpu_shape && device->pocl;
    /* NVIDIA's vstore_half_rte and vloada_half ran fp16 at a quarter to a half of the copy
     * bandwidth on an H200 where bf16, integer arithmetic, ran at full speed; CPU devices are
     * faster with the integer form too. Other GPUs convert halves in hardware. */
    t->soft_half = !device->gpu_type || device->cuda;
    /* Once per vector, the item lookup held a batch of four large items to about half the
     * bandwidth of a plain launch on an H200: a GPU work-item takes 8 vectors of its item. */
    t->batch_vectors = 8;
    t->prelu_fold = 256;
    t->prelu_column_vectors = 4;
    t->dense_columns = 16;
}

size_t lcl__chunk_elements(const struct lcl__tunables *t, lcl_dtype dtype) {
    return (size_t)t->vector_width[dtype] * t->chunk;
}

int lcl__tunables_options(const struct lcl__tunables *t, lcl_dtype dtype, char *buf, size_t size) {
    static const char *const dtype_macros[LCL__FLOAT_DTYPE_COUNT] = {
        [LCL_F32] = "LCL_F32", [LCL_F16] = "LCL_F16", [LCL_BF16] = "LCL_BF16", [LCL_F64] = "LCL_F64"};
    /* -w: some drivers (PoCL) echo compiler warnings to stderr, and the library never prints. */
    return snprintf(buf, size,
                    "-w -D%s -DLCL_GPU_SHAPE=%d -DLCL_VEC=%u -DLCL_CHUNK=%u -DLCL_NT=%d -DLCL_SOFT_HALF=%d "
                    "-DLCL_WG=%zu -DLCL_MASK_WORDS=%u -DLCL_BATCH_VECTORS=%u -DLCL_BATCH_FIELDS=%d -DLCL_PRELU_FOLD=%u "
                    "-DLCL_PRELU_COLVECS=%u -DLCL_DENSE_COLS=%u",
                    dtype_macros[dtype], t->gpu_shape ? 1 : 0, t->vector_width[dtype], t->chunk, t->nontemporal ? 1 : 0,
                    t->soft_half ? 1 : 0, t->work_group_size, t->mask_words, t->batch_vectors, LCL__BATCH_FIELDS,
                    t->prelu_fold, t->prelu_column_vectors, t->dense_columns);
}
