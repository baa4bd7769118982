/* An app built against the installed leakycl-opencv: the header alone, the library through
 * find_package(leakycl-opencv) or pkg-config leakycl-opencv. It registers, reads the counters and
 * unregisters (OpenCV's factory is reached through the installed library). */
#include <leakycl_opencv.hpp>

#include <cstdio>

int main() {
    leakycl::opencv::register_layers();
    const leakycl::opencv::stats s = leakycl::opencv::get_stats();
    leakycl::opencv::unregister_layers();
    if (s.cpu_calls != 0 || s.opencl_calls != 0) {
        std::printf("consumer: counters not reset by register_layers\n");
        return 1;
    }
    std::printf("consumer: leakycl-opencv registered and unregistered\n");
    return 0;
}
