/* bench/device/run.sh's OpenCL probe: built before leakycl, against the unpacked headers and
 * loader, it lists every platform and device the ICD loader finds. Exit 0 when there is at least
 * one device, 1 when there is none, 2 when the loader itself fails.
 *
 *   cc -std=c11 clprobe.c -I PREFIX/usr/include -L LIBDIR -lOpenCL -o clprobe */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>

#ifndef CL_PLATFORM_NOT_FOUND_KHR /* cl_khr_icd, in CL/cl_ext.h */
#define CL_PLATFORM_NOT_FOUND_KHR -1001
#endif

static const char *type_name(cl_device_type t) {
    if (t & CL_DEVICE_TYPE_GPU)
        return "GPU";
    if (t & CL_DEVICE_TYPE_CPU)
        return "CPU";
    if (t & CL_DEVICE_TYPE_ACCELERATOR)
        return "accelerator";
    return "other";
}

int main(void) {
    cl_platform_id platforms[16];
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(16, platforms, &np);
    if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && np == 0)) {
        printf("clprobe: no OpenCL platform (the ICD loader found no usable .icd)\n");
        return 1;
    }
    if (err != CL_SUCCESS) {
        printf("clprobe: clGetPlatformIDs failed: %d\n", (int)err);
        return 2;
    }
    int devices_total = 0;
    for (cl_uint p = 0; p < np && p < 16; ++p) {
        char name[256] = "", version[256] = "";
        clGetPlatformInfo(platforms[p], CL_PLATFORM_NAME, sizeof name, name, NULL);
        clGetPlatformInfo(platforms[p], CL_PLATFORM_VERSION, sizeof version, version, NULL);
        printf("platform %u: %s (%s)\n", p, name, version);
        cl_device_id devices[16];
        cl_uint nd = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 16, devices, &nd) != CL_SUCCESS)
            nd = 0;
        for (cl_uint d = 0; d < nd && d < 16; ++d) {
            char dname[256] = "", dversion[256] = "", driver[256] = "";
            cl_device_type type = 0;
            cl_ulong mem = 0;
            clGetDeviceInfo(devices[d], CL_DEVICE_NAME, sizeof dname, dname, NULL);
            clGetDeviceInfo(devices[d], CL_DEVICE_VERSION, sizeof dversion, dversion, NULL);
            clGetDeviceInfo(devices[d], CL_DRIVER_VERSION, sizeof driver, driver, NULL);
            clGetDeviceInfo(devices[d], CL_DEVICE_TYPE, sizeof type, &type, NULL);
            clGetDeviceInfo(devices[d], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
            printf("  device %u:%u: %s, %s, %s, driver %s, %.1f GiB\n", p, d, dname, type_name(type), dversion, driver,
                   (double)mem / (1024.0 * 1024.0 * 1024.0));
            ++devices_total;
        }
    }
    printf("clprobe: %u platform(s), %d device(s)\n", np, devices_total);
    return devices_total > 0 ? 0 : 1;
}
