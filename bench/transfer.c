/* The bus an offload crosses: host-to-device and device-to-host bandwidth between pinned host
 * memory (CL_MEM_ALLOC_HOST_PTR, mapped, as the streamed offload's staging buffers are) and a
 * device buffer, timed by leakycl-bench's method. On a discrete GPU these bound what
 * lcl_forward_host can reach; on a device that shares host memory they are memcpy figures. */
#include "transfer.h"

#include <string.h>

struct transfer {
    cl_command_queue queue;
    cl_mem device;
    void *host;
    size_t bytes;
};

static int run_write(void *arg) {
    struct transfer *t = arg;
    return clEnqueueWriteBuffer(t->queue, t->device, CL_FALSE, 0, t->bytes, t->host, 0, NULL, NULL) == CL_SUCCESS ? 0
                                                                                                                  : -1;
}

static int run_read(void *arg) {
    struct transfer *t = arg;
    return clEnqueueReadBuffer(t->queue, t->device, CL_FALSE, 0, t->bytes, t->host, 0, NULL, NULL) == CL_SUCCESS ? 0
                                                                                                                 : -1;
}

static int sync_queue(void *arg) { return clFinish(((struct transfer *)arg)->queue) == CL_SUCCESS ? 0 : -1; }

int bench_time_transfers(lcl_context *ctx, cl_mem device, size_t bytes, const struct bench_timing *timing,
                         struct bench_stats *h2d, struct bench_stats *d2h) {
    cl_command_queue queue = lcl_context_cl_queue(ctx);
    cl_int err = CL_SUCCESS;
    cl_mem pinned =
        clCreateBuffer(lcl_context_cl_context(ctx), CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, bytes, NULL, &err);
    if (err != CL_SUCCESS)
        return -1;
    void *host = clEnqueueMapBuffer(queue, pinned, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0, bytes, 0, NULL, NULL, &err);
    int rc = -1;
    if (err == CL_SUCCESS) {
        memset(host, 0x3c, bytes); /* nonzero, and every page touched before timing */
        struct transfer t = {queue, device, host, bytes};
        struct bench_work write = {run_write, sync_queue, &t};
        struct bench_work read = {run_read, sync_queue, &t};
        rc = bench_time(timing, &write, h2d) == 0 && bench_time(timing, &read, d2h) == 0 ? 0 : -1;
        clEnqueueUnmapMemObject(queue, pinned, host, 0, NULL, NULL);
        clFinish(queue);
    }
    clReleaseMemObject(pinned);
    return rc;
}
