/* `leakycl check`'s data: the storage formats as bit patterns, the seeded random arrays, and how
 * one result array differs from another. */
#include "check.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- the storage formats, as bit patterns ---------------------------------------------------- */

const struct format formats[FORMAT_COUNT] = {
    {LCL_F32, 32, 8, 23},
    {LCL_F16, 16, 5, 10},
    {LCL_BF16, 16, 8, 7},
    {LCL_F64, 64, 11, 52},
};

const struct format *format_of(lcl_dtype dtype) {
    for (size_t i = 0; i < FORMAT_COUNT; i++) {
        if (formats[i].dtype == dtype) {
            return &formats[i];
        }
    }
    return &formats[0];
}

uint64_t get_bits(const void *array, unsigned width, size_t i) {
    switch (width) {
    case 16:
        return ((const uint16_t *)array)[i];
    case 32:
        return ((const uint32_t *)array)[i];
    default:
        return ((const uint64_t *)array)[i];
    }
}

void set_bits(void *array, unsigned width, size_t i, uint64_t bits) {
    switch (width) {
    case 16:
        ((uint16_t *)array)[i] = (uint16_t)bits;
        break;
    case 32:
        ((uint32_t *)array)[i] = (uint32_t)bits;
        break;
    default:
        ((uint64_t *)array)[i] = bits;
        break;
    }
}

static float f32_from_bits(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static uint32_t f32_bits(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

static double f64_from_bits(uint64_t bits) {
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static uint64_t f64_bits(double d) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return bits;
}

/* binary16 -> binary32, exact. */
static float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1f) {
        return f32_from_bits(sign | 0x7f800000u | (mant << 13));
    }
    if (exp == 0) {
        float value = ldexpf((float)mant, -24); /* subnormal or zero: mant * 2^-24, exact */
        return sign ? -value : value;
    }
    return f32_from_bits(sign | ((exp + 112u) << 23) | (mant << 13));
}

/* binary32 -> binary16, rounded to nearest even; subnormals kept; a NaN stays a (quiet) NaN. */
static uint16_t f32_to_f16(float f) {
    uint32_t x = f32_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) {
        return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
    }
    if (ax >= 0x477ff000u) { /* 65520 and up (the tie above 65504 rounds to even: inf) */
        return (uint16_t)(sign | 0x7c00u);
    }
    if (ax >= 0x38800000u) { /* a normal binary16: >= 2^-14 */
        uint32_t rounded = ax + 0xfffu + ((ax >> 13) & 1u) - 0x38000000u;
        return (uint16_t)(sign | (rounded >> 13));
    }
    /* A binary16 subnormal, m * 2^-24: adding 0.5 puts the m in the low fraction bits, and the
       addition rounds to nearest even. */
    float shifted = f32_from_bits(ax) + 0.5f;
    return (uint16_t)(sign | (f32_bits(shifted) - 0x3f000000u));
}

static float bf16_to_f32(uint16_t b) { return f32_from_bits((uint32_t)b << 16); }

/* binary32 -> bfloat16, rounded to nearest even; a NaN stays a (quiet) NaN. */
static uint16_t f32_to_bf16(float f) {
    uint32_t x = f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) {
        return (uint16_t)((x >> 16) | 0x40u);
    }
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

/* A double, rounded to the storage format, as bits (used for x = alpha in the data). */
uint64_t encode(lcl_dtype dtype, double value) {
    switch (dtype) {
    case LCL_F16:
        return f32_to_f16((float)value);
    case LCL_BF16:
        return f32_to_bf16((float)value);
    case LCL_F64:
        return f64_bits(value);
    default:
        return f32_bits((float)value);
    }
}

/* The element as a double, for messages. */
double decode(lcl_dtype dtype, uint64_t bits) {
    switch (dtype) {
    case LCL_F16:
        return f16_to_f32((uint16_t)bits);
    case LCL_BF16:
        return bf16_to_f32((uint16_t)bits);
    case LCL_F64:
        return f64_from_bits(bits);
    default:
        return f32_from_bits((uint32_t)bits);
    }
}

static int is_nan(const struct format *fmt, uint64_t bits) {
    uint64_t exp_mask = ((UINT64_C(1) << fmt->exp_bits) - 1) << fmt->mant_bits;
    uint64_t mant_mask = (UINT64_C(1) << fmt->mant_bits) - 1;
    return (bits & exp_mask) == exp_mask && (bits & mant_mask) != 0;
}

/* The distance in units in the last place between two non-NaN patterns, counting -0 and +0 as
 * one apart (they differ bit for bit); UINT64_MAX when one is a NaN and the other is not. */
static uint64_t ulp_distance(const struct format *fmt, uint64_t a, uint64_t b) {
    int nan_a = is_nan(fmt, a);
    int nan_b = is_nan(fmt, b);
    if (nan_a || nan_b) {
        return nan_a && nan_b ? 0 : UINT64_MAX;
    }
    uint64_t sign = UINT64_C(1) << (fmt->width - 1);
    uint64_t mag_a = a & (sign - 1);
    uint64_t mag_b = b & (sign - 1);
    /* Order the patterns on a line: +x -> x, -x -> -x - 1 (so -0 -> -1, +0 -> 0). */
    uint64_t ord_a = (a & sign) ? (uint64_t)0 - mag_a - 1 : mag_a;
    uint64_t ord_b = (b & sign) ? (uint64_t)0 - mag_b - 1 : mag_b;
    return (int64_t)ord_a >= (int64_t)ord_b ? ord_a - ord_b : ord_b - ord_a;
}

/* ---- random data ------------------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* One element: a mix of every kind of value an activation or gradient can hold, and of values
 * where the formula is delicate (x equal to +-alpha, products that overflow or go subnormal). */
static uint64_t random_element(const struct format *fmt, uint64_t *rng, const double *alphas, size_t alpha_count) {
    uint64_t r = splitmix64(rng);
    uint64_t bits = splitmix64(rng);
    unsigned kind = (unsigned)(r % 100);
    uint64_t sign = (r >> 32) & 1u;
    uint64_t exp_max = (UINT64_C(1) << fmt->exp_bits) - 1; /* inf / NaN */
    uint64_t bias = exp_max >> 1;
    uint64_t mant_mask = (UINT64_C(1) << fmt->mant_bits) - 1;
    uint64_t mant = bits & mant_mask;
    uint64_t exp;
    if (kind < 30) { /* any bit pattern */
        return fmt->width == 64 ? bits : bits & ((UINT64_C(1) << fmt->width) - 1);
    }
    if (kind < 60) { /* ordinary magnitudes, 2^-10 .. 2^10 */
        exp = bias - 10 + (r >> 40) % 21;
    } else if (kind < 65) { /* +-0 */
        exp = 0;
        mant = 0;
    } else if (kind < 68) { /* +-inf */
        exp = exp_max;
        mant = 0;
    } else if (kind < 72) { /* NaN, quiet or signalling, any payload */
        exp = exp_max;
        mant = mant != 0 ? mant : 1;
    } else if (kind < 82) { /* subnormal */
        exp = 0;
        mant = mant != 0 ? mant : 1;
    } else if (kind < 88) { /* the smallest normals: alpha * x goes subnormal */
        exp = 1 + (r >> 40) % 4;
    } else if (kind < 93) { /* the largest finite values: alpha > 1 overflows to inf */
        exp = exp_max - 1 - (r >> 40) % 3;
    } else { /* x = +-alpha, +-1 */
        size_t pick = (size_t)((r >> 40) % (alpha_count + 1));
        uint64_t value = encode(fmt->dtype, pick < alpha_count ? alphas[pick] : 1.0);
        uint64_t sign_bit = UINT64_C(1) << (fmt->width - 1);
        return sign ? value ^ sign_bit : value;
    }
    return (sign << (fmt->width - 1)) | (exp << fmt->mant_bits) | mant;
}

void fill_random(const struct format *fmt, void *array, size_t n, uint64_t seed, const double *alphas,
                 size_t alpha_count) {
    uint64_t rng = seed;
    for (size_t i = 0; i < n; i++) {
        set_bits(array, fmt->width, i, random_element(fmt, &rng, alphas, alpha_count));
    }
}

void diff_add(struct diff *d, const struct format *fmt, size_t i, uint64_t got, uint64_t want) {
    if (got == want || (is_nan(fmt, got) && is_nan(fmt, want))) {
        return;
    }
    uint64_t ulp = ulp_distance(fmt, got, want);
    if (d->mismatches == 0) {
        d->first = i;
    }
    d->mismatches++;
    if (ulp > d->max_ulp) {
        d->max_ulp = ulp;
    }
}

const char *format_ulp(uint64_t ulp, char *buf, size_t size) {
    if (ulp == UINT64_MAX) {
        snprintf(buf, size, "NaN vs number");
    } else {
        snprintf(buf, size, "%" PRIu64 " ulp", ulp);
    }
    return buf;
}

void print_value(const char *label, const struct format *fmt, uint64_t bits) {
    printf(" %s=%.17g (0x%0*" PRIx64 ")", label, decode(fmt->dtype, bits), (int)(fmt->width / 4), bits);
}
