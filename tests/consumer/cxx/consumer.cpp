// A C++ program outside the project, in a project that enables C++ only: the header compiles as
// C++ and both installed libraries link.
#include <leakycl.h>

#include <cstdio>
#include <cstring>

int main() {
    const float x[4] = {-4.0f, -1.0f, 0.5f, 2.0f};
    const float want[4] = {-2.0f, -0.5f, 0.5f, 2.0f}; // alpha = 0.5
    float y[4];
    lcl_context *ctx = nullptr;
    lcl_status status = lcl_context_create("cpu", &ctx);
    if (status == LCL_SUCCESS) {
        status = lcl_forward_host(ctx, LCL_F32, 4, 0.5, x, y);
    }
    lcl_context_release(ctx);
    if (status != LCL_SUCCESS) {
        std::fprintf(stderr, "consumer (C++): %s: %s\n", lcl_status_string(status), lcl_last_error());
        return 1;
    }
    if (std::memcmp(y, want, sizeof want) != 0) {
        std::fprintf(stderr, "consumer (C++): wrong values\n");
        return 1;
    }
    std::printf("consumer (C++): ok\n");
    return 0;
}
