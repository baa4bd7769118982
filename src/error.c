/* The per-thread message behind lcl_last_error(), and names for OpenCL error codes. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Build logs can be long; the message grows on the heap up to this cap and is truncated after. */
#define LCL__ERROR_CAP ((size_t)64 * 1024)

static _Thread_local char error_inline[1024];
static _Thread_local char *error_heap;
static _Thread_local size_t error_heap_capacity;
static _Thread_local char *error_text;

const char *lcl_last_error(void) { return error_text ? error_text : ""; }

lcl_status lcl__fail(lcl_status status, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(error_inline, sizeof error_inline, fmt, args);
    va_end(args);
    error_text = error_inline;
    return status;
}

/* The heap buffer is reused for the thread's life: a thread that ends leaks at most one
 * message, which is the usual price of a thread-local error string without a destructor. */
void lcl__append_error(const char *text) {
    bool on_heap = error_text != NULL && error_text == error_heap;
    size_t have = strlen(lcl_last_error());
    size_t want = have + strlen(text) + 1;
    if (want > LCL__ERROR_CAP)
        want = LCL__ERROR_CAP;
    if (want > error_heap_capacity) {
        char *grown = realloc(error_heap, want); /* may move the message itself: on_heap says so */
        if (!grown)
            return; /* keep the headline rather than fail the report */
        error_heap = grown;
        error_heap_capacity = want;
    }
    if (!on_heap)
        memcpy(error_heap, lcl_last_error(), have + 1);
    error_text = error_heap;
    if (want <= have + 1)
        return; /* at the cap already */
    size_t room = want - have - 1;
    memcpy(error_heap + have, text, room);
    error_heap[have + room] = '\0';
}

const char *lcl__cl_error_name(cl_int err) {
    switch (err) {
#define LCL__CL_ERR(code)                                                                                              \
    case code:                                                                                                         \
        return #code;
        LCL__CL_ERR(CL_SUCCESS) LCL__CL_ERR(CL_DEVICE_NOT_FOUND) LCL__CL_ERR(CL_DEVICE_NOT_AVAILABLE)
        LCL__CL_ERR(CL_COMPILER_NOT_AVAILABLE) LCL__CL_ERR(CL_MEM_OBJECT_ALLOCATION_FAILURE)
        LCL__CL_ERR(CL_OUT_OF_RESOURCES) LCL__CL_ERR(CL_OUT_OF_HOST_MEMORY)
        LCL__CL_ERR(CL_PROFILING_INFO_NOT_AVAILABLE) LCL__CL_ERR(CL_MEM_COPY_OVERLAP)
        LCL__CL_ERR(CL_IMAGE_FORMAT_MISMATCH) LCL__CL_ERR(CL_IMAGE_FORMAT_NOT_SUPPORTED)
        LCL__CL_ERR(CL_BUILD_PROGRAM_FAILURE) LCL__CL_ERR(CL_MAP_FAILURE) LCL__CL_ERR(CL_MISALIGNED_SUB_BUFFER_OFFSET)
        LCL__CL_ERR(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST) LCL__CL_ERR(CL_COMPILE_PROGRAM_FAILURE)
        LCL__CL_ERR(CL_LINKER_NOT_AVAILABLE) LCL__CL_ERR(CL_LINK_PROGRAM_FAILURE)
        LCL__CL_ERR(CL_DEVICE_PARTITION_FAILED) LCL__CL_ERR(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
        LCL__CL_ERR(CL_INVALID_VALUE) LCL__CL_ERR(CL_INVALID_DEVICE_TYPE) LCL__CL_ERR(CL_INVALID_PLATFORM)
        LCL__CL_ERR(CL_INVALID_DEVICE) LCL__CL_ERR(CL_INVALID_CONTEXT) LCL__CL_ERR(CL_INVALID_QUEUE_PROPERTIES)
        LCL__CL_ERR(CL_INVALID_COMMAND_QUEUE) LCL__CL_ERR(CL_INVALID_HOST_PTR) LCL__CL_ERR(CL_INVALID_MEM_OBJECT)
        LCL__CL_ERR(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR) LCL__CL_ERR(CL_INVALID_IMAGE_SIZE)
        LCL__CL_ERR(CL_INVALID_SAMPLER) LCL__CL_ERR(CL_INVALID_BINARY) LCL__CL_ERR(CL_INVALID_BUILD_OPTIONS)
        LCL__CL_ERR(CL_INVALID_PROGRAM) LCL__CL_ERR(CL_INVALID_PROGRAM_EXECUTABLE) LCL__CL_ERR(CL_INVALID_KERNEL_NAME)
        LCL__CL_ERR(CL_INVALID_KERNEL_DEFINITION) LCL__CL_ERR(CL_INVALID_KERNEL) LCL__CL_ERR(CL_INVALID_ARG_INDEX)
        LCL__CL_ERR(CL_INVALID_ARG_VALUE) LCL__CL_ERR(CL_INVALID_ARG_SIZE) LCL__CL_ERR(CL_INVALID_KERNEL_ARGS)
        LCL__CL_ERR(CL_INVALID_WORK_DIMENSION) LCL__CL_ERR(CL_INVALID_WORK_GROUP_SIZE)
        LCL__CL_ERR(CL_INVALID_WORK_ITEM_SIZE) LCL__CL_ERR(CL_INVALID_GLOBAL_OFFSET)
        LCL__CL_ERR(CL_INVALID_EVENT_WAIT_LIST) LCL__CL_ERR(CL_INVALID_EVENT) LCL__CL_ERR(CL_INVALID_OPERATION)
        LCL__CL_ERR(CL_INVALID_GL_OBJECT) LCL__CL_ERR(CL_INVALID_BUFFER_SIZE) LCL__CL_ERR(CL_INVALID_MIP_LEVEL)
        LCL__CL_ERR(CL_INVALID_GLOBAL_WORK_SIZE) LCL__CL_ERR(CL_INVALID_PROPERTY)
        LCL__CL_ERR(CL_INVALID_IMAGE_DESCRIPTOR) LCL__CL_ERR(CL_INVALID_COMPILER_OPTIONS)
        LCL__CL_ERR(CL_INVALID_LINKER_OPTIONS) LCL__CL_ERR(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef LCL__CL_ERR
    case -1001:
        return "CL_PLATFORM_NOT_FOUND_KHR";
    default:
        return "unknown OpenCL error";
    }
}

lcl_status lcl__cl_status(cl_int err) {
    if (err == CL_SUCCESS)
        return LCL_SUCCESS;
    return (err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_HOST_MEMORY) ? LCL_ERROR_OUT_OF_MEMORY
                                                                                     : LCL_ERROR_OPENCL;
}

lcl_status lcl__cl_check(cl_int err, const char *call) {
    if (err == CL_SUCCESS)
        return LCL_SUCCESS;
    return lcl__fail(lcl__cl_status(err), "%s failed: %s (%d)", call, lcl__cl_error_name(err), (int)err);
}
