/* Host-to-device and device-to-host bandwidth, for the offload rows of leakycl-bench. */
#ifndef LEAKYCL_BENCH_TRANSFER_H
#define LEAKYCL_BENCH_TRANSFER_H

#include "leakycl.h"
#include "measure.h"

/* Times `bytes` written from pinned host memory into `device` and read back; 0, or -1 when
 * an OpenCL call failed. */
int bench_time_transfers(lcl_context *ctx, cl_mem device, size_t bytes, const struct bench_timing *timing,
                         struct bench_stats *h2d, struct bench_stats *d2h);

#endif
