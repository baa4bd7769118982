/* Turning input bytes into arguments: each kind of argument is drawn mostly from values that
 * reach the library's edges (empty, one word of mask bits, overflowing byte counts, NaN) so
 * that short inputs already matter, and sometimes from the raw bits. */
#include "fuzz.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

uint8_t fz_u8(fz_reader *r) {
    if (r->left == 0)
        return 0;
    r->left--;
    return *r->p++;
}

uint64_t fz_u64(fz_reader *r) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
        v = v << 8 | fz_u8(r);
    return v;
}

size_t fz_size(fz_reader *r) {
    static const size_t edges[] = {0,
                                   1,
                                   31,
                                   32,
                                   33,
                                   64,
                                   SIZE_MAX,
                                   SIZE_MAX / 2,
                                   SIZE_MAX / 2 + 1,
                                   SIZE_MAX / 4 + 1,
                                   SIZE_MAX / 8 + 1,
                                   (size_t)1 << 32,
                                   ((size_t)1 << 32) + 1,
                                   SIZE_MAX - 31};
    uint8_t b = fz_u8(r);
    if (b < 128)
        return b % 70;
    if (b < 192)
        return (size_t)(b - 128) * 11 + fz_u8(r) % 11;
    if (b < 240)
        return edges[b % (sizeof edges / sizeof edges[0])];
    return (size_t)fz_u64(r);
}

double fz_alpha(fz_reader *r) {
    static const double picks[] = {0.0,     -0.0,    0.01,     0.1,      1.0,           2.5,      -0.5,
                                   -1.0,    1e-45,   1.4e-45,  FLT_MAX,  3.5e38,        -3.5e38,  1e300,
                                   DBL_MAX, DBL_MIN, 4.9e-324, NAN,      -NAN,          INFINITY, -INFINITY,
                                   65504.0, 65520.0, 0x1p-24,  0x1p-149, 0x1.fffffep127};
    uint8_t b = fz_u8(r);
    if (b < 224)
        return picks[b % (sizeof picks / sizeof picks[0])];
    uint64_t bits = fz_u64(r);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

lcl_dtype fz_dtype(fz_reader *r) {
    static const int invalid[] = {5, 6, -1, 255, 1 << 20, INT32_MIN, INT32_MAX};
    uint8_t b = fz_u8(r);
    if (b < 224)
        return (lcl_dtype)(b % 5);
    return (lcl_dtype)invalid[b % (sizeof invalid / sizeof invalid[0])];
}

lcl_tensor *fz_tensor(fz_state *s) {
    size_t i = fz_u8(&s->in) % (s->count + 1);
    return i < s->count ? s->pool[i] : NULL;
}

lcl_context *fz_ctx(fz_state *s) {
    uint8_t b = fz_u8(&s->in);
    if (b == 0xff)
        return NULL;
    if (b == 0xfe)
        return s->other;
    return s->ctx;
}
