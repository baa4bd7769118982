/* The leakycl API fuzz harness, shared by its parts: the byte reader, the state of one input,
 * and the oracle every call goes through. See fuzz_api.c for what an input means. */
#ifndef LEAKYCL_FUZZ_H
#define LEAKYCL_FUZZ_H

#include "leakycl.h"

#include <stddef.h>
#include <stdint.h>

/* Bounds that keep one input cheap and its memory small whatever the bytes say. */
#define FZ_MAX_TENSORS 10
#define FZ_MAX_ELEMS 700   /* per created tensor, unless the size is one that overflows */
#define FZ_HOST_BYTES 8192 /* the host arrays of lcl_forward_host and friends */
#define FZ_MAX_BATCH 8
#define FZ_MAX_STEPS 24

/* The input as a stream; reads past its end give zeros, so every input is a whole program. */
typedef struct fz_reader {
    const uint8_t *p;
    size_t left;
} fz_reader;

uint8_t fz_u8(fz_reader *r);
uint64_t fz_u64(fz_reader *r);
size_t fz_size(fz_reader *r);     /* small, medium, or a value next to an overflow */
double fz_alpha(fz_reader *r);    /* plain slopes, fp32 edges, NaN and inf, or raw bits */
lcl_dtype fz_dtype(fz_reader *r); /* mostly valid, sometimes outside the enum */

/* One input's world: the context its ops run on, another context for mismatches, and a pool
 * of tensors (created, views, views of views, wrapped buffers) that ops pick from. */
typedef struct fz_state {
    fz_reader in;
    lcl_context *ctx;
    lcl_context *other;
    lcl_context *fresh; /* created by this input, released at its end */
    lcl_tensor *pool[FZ_MAX_TENSORS];
    size_t count;
    _Alignas(64) unsigned char host[FZ_HOST_BYTES];
} fz_state;

/* Picks from the pool (or NULL now and then). */
lcl_tensor *fz_tensor(fz_state *s);
lcl_context *fz_ctx(fz_state *s);

/* The oracle. fz_before snapshots every tensor of the pool and the host arrays; fz_after checks
 * the call's status: a known value; on failure a message; INVALID_ARGUMENT and UNSUPPORTED
 * changed nothing; nothing else may fail on these small inputs. It aborts on a finding. */
typedef struct fz_snapshot {
    void *tensor[FZ_MAX_TENSORS];
    size_t bytes[FZ_MAX_TENSORS];
    unsigned char host[FZ_HOST_BYTES];
} fz_snapshot;

void fz_before(fz_state *s, fz_snapshot *snap);
void fz_after(fz_state *s, fz_snapshot *snap, lcl_status status, const char *call);
void fz_snapshot_free(fz_snapshot *snap);
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* The expected result of an elementwise op on the dtypes the harness has a reference for
 * (f32, bf16, f64); returns 0 for the others. sel and grad are element arrays, grad NULL for
 * the forward. */
int fz_reference(lcl_dtype dtype, double alpha, size_t n, const void *sel, const void *grad, void *out);
/* Any NaN equals any NaN; otherwise bit for bit. Returns the first differing index, or n. */
size_t fz_first_difference(lcl_dtype dtype, const void *a, const void *b, size_t n);

#endif /* LEAKYCL_FUZZ_H */
