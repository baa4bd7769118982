/* leakycl inside OpenCV's DNN module: leakycl-backed `ReLU` (leaky ReLU with any negative_slope,
 * 0 included) and `PReLU` (a slope per channel of the NCHW layout) layers, registered through
 * cv::dnn::LayerFactory, so that every network read afterwards (Darknet's `activation=leaky`,
 * ONNX LeakyRelu, Relu and PRelu, Caffe ReLU/PReLU, ...) runs its leaky layers on leakycl.
 *
 *   #include <leakycl_opencv.hpp>
 *   leakycl::opencv::register_layers();            // before cv::dnn::readNet...
 *   cv::dnn::Net net = cv::dnn::readNet("model.onnx");
 *
 * Targets (Net::setPreferableTarget, backend DNN_BACKEND_OPENCV):
 * - DNN_TARGET_OPENCL and DNN_TARGET_OPENCL_FP16: the layer runs on OpenCV's own OpenCL queue
 *   (cv::ocl::Queue::getDefault() of the calling thread), on the UMats' own cl_mem at their
 *   offsets, in place when OpenCV hands it the same blob as input and output; FP16 blobs run as
 *   LCL_F16. Nothing is copied to the host and no second queue is made.
 * - DNN_TARGET_CPU: leakycl's host-array path on the Mat's memory, on the CPU backend, or on the
 *   device that @p cpu_device names.
 * Results are leakycl's: y = x if x > 0, else alpha * x, computed in fp32 and rounded once to the
 * blob's type, bit for bit the same on every path.
 *
 * A failing leakycl call throws cv::Exception whose message carries lcl_last_error(); the
 * library never prints or aborts. leakycl checks its arguments before it writes anything, so a
 * rejected call leaves the output blob as it was. A PReLU layer whose slopes are not all finite
 * is refused when the network is built (cv::Exception). */
#ifndef LEAKYCL_OPENCV_HPP
#define LEAKYCL_OPENCV_HPP

#include <cstddef>

#if defined(_WIN32)
#define LEAKYCL_OPENCV_API __declspec(dllexport)
#elif defined(__GNUC__)
#define LEAKYCL_OPENCV_API __attribute__((visibility("default")))
#else
#define LEAKYCL_OPENCV_API
#endif

namespace leakycl {
namespace opencv {

/** The layer calls since the last register_layers(), per path: DNN_TARGET_CPU calls count as
 * cpu_calls (whatever device @p cpu_device named), OpenCL-target calls as opencl_calls. A call
 * that throws is not counted. */
struct stats {
    size_t cpu_calls, opencl_calls;
};

/** Registers leakycl's `ReLU` and `PReLU` layers on top of OpenCV's (the newest registration
 * wins, so networks read from now on use them) and resets the counters. @p cpu_device is the
 * leakycl device spec for DNN_TARGET_CPU ("cpu", "opencl:P:D", ...; NULL: the CPU backend);
 * its context is made on first use (a spec that names no device fails there, as a cv::Exception
 * from the layer). Calling it again while registered only takes the new @p cpu_device for layers
 * created from then on. Thread-safe; throws cv::Exception only if OpenCV's factory refuses. */
LEAKYCL_OPENCV_API void register_layers(const char *cpu_device = nullptr);

/** Puts OpenCV's own `ReLU` and `PReLU` back for networks read from now on; networks already
 * built keep the layers they have (and the leakycl contexts those use, until they are gone).
 * A no-op when not registered. Thread-safe. */
LEAKYCL_OPENCV_API void unregister_layers();

/** The counters since the last register_layers(). */
LEAKYCL_OPENCV_API stats get_stats();

}  // namespace opencv
}  // namespace leakycl

#endif
