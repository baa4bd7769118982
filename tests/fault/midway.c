/* A host-array call that fails midway: run under the clfault shim with the fourth kernel launch
 * failing (CLFAULT_CALL=clEnqueueNDRangeKernel CLFAULT_AT=4) and 1 KiB chunks
 * (LEAKYCL_CHUNK_BYTES=1024), the streamed or zero-copy path (LEAKYCL_ZERO_COPY=0 or 1) of
 * lcl_forward_host or lcl_backward_host over 11 chunks must report the failure with chunk 3 of
 * 11 named, leave its inputs untouched, and the context must then serve a call exactly.
 *
 * usage: midway forward|backward      exits 0 when every check passed */
#include "leakycl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N (10 * 256 + 3) /* 10 chunks of 256 f32 elements and 3 more */

static int problems;

static void problem(const char *what, const char *detail) {
    fprintf(stderr, "midway: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    problems++;
}

/* Signs, zeros, NaN, infinities and subnormals among ordinary values. */
static void fill(float *p, size_t n, uint32_t seed) {
    static const uint32_t special[] = {0x00000000u, 0x80000000u, 0x7fc00000u, 0x7f800000u,
                                       0xff800000u, 0x00000001u, 0x807fffffu};
    for (size_t i = 0; i < n; ++i) {
        seed = seed * 1664525u + 1013904223u;
        uint32_t u = i % 17 == 0 ? special[(seed >> 8) % 7] : (seed & 0xbfffffffu) | 0x30000000u;
        memcpy(&p[i], &u, sizeof u);
    }
}

static float *room(size_t n) {
    float *p = aligned_alloc(4096, (n * sizeof *p + 4095) / 4096 * 4096);
    if (!p) {
        fprintf(stderr, "midway: out of host memory\n");
        exit(2);
    }
    return p;
}

int main(int argc, char **argv) {
    int backward = argc > 1 && strcmp(argv[1], "backward") == 0;
    lcl_context *ctx = NULL, *cpu = NULL;
    if (lcl_context_create("opencl", &ctx) != LCL_SUCCESS || lcl_context_create("cpu", &cpu) != LCL_SUCCESS) {
        fprintf(stderr, "midway: no context: %s\n", lcl_last_error());
        return 2;
    }
    float *x = room(N), *dy = room(N), *out = room(N), *want = room(N), *x_copy = room(N), *dy_copy = room(N);
    fill(x, N, 1);
    fill(dy, N, 2);
    memcpy(x_copy, x, N * sizeof *x);
    memcpy(dy_copy, dy, N * sizeof *dy);
    lcl_status st =
        backward ? lcl_backward_host(ctx, LCL_F32, N, 0.5, x, dy, out) : lcl_forward_host(ctx, LCL_F32, N, 0.5, x, out);
    if (st != LCL_ERROR_OPENCL)
        problem("the failing call did not return LCL_ERROR_OPENCL", lcl_status_string(st));
    if (!strstr(lcl_last_error(), "clEnqueueNDRangeKernel") || !strstr(lcl_last_error(), "chunk 3 of 11"))
        problem("the message does not name the call and chunk 3 of 11", lcl_last_error());
    if (memcmp(x, x_copy, N * sizeof *x) != 0 || memcmp(dy, dy_copy, N * sizeof *dy) != 0)
        problem("the failed out-of-place call changed an input", NULL);
    /* The staging and the queues serve the next call, bit for bit the CPU backend's result. */
    st =
        backward ? lcl_backward_host(ctx, LCL_F32, N, 0.5, x, dy, out) : lcl_forward_host(ctx, LCL_F32, N, 0.5, x, out);
    if (st != LCL_SUCCESS)
        problem("the call after the failure failed", lcl_last_error());
    st = backward ? lcl_backward_host(cpu, LCL_F32, N, 0.5, x, dy, want)
                  : lcl_forward_host(cpu, LCL_F32, N, 0.5, x, want);
    if (st != LCL_SUCCESS)
        problem("the CPU backend failed", lcl_last_error());
    for (size_t i = 0; i < N; ++i) {
        if (memcmp(&out[i], &want[i], sizeof out[i]) != 0 && !(out[i] != out[i] && want[i] != want[i])) {
            char detail[128];
            snprintf(detail, sizeof detail, "index %zu: x %.9g, device %.9g, CPU backend %.9g", i, (double)x[i],
                     (double)out[i], (double)want[i]);
            problem("the call after the failure differs from the CPU backend", detail);
            break;
        }
    }
    free(x);
    free(dy);
    free(out);
    free(want);
    free(x_copy);
    free(dy_copy);
    lcl_context_release(ctx);
    lcl_context_release(cpu);
    if (problems == 0)
        printf("midway %s: reported at chunk 3 of 11, inputs untouched, next call exact\n",
               backward ? "backward" : "forward");
    return problems ? 1 : 0;
}
