/* leakycl's ReLU and PReLU layers for OpenCV DNN: the layer classes, the leakycl contexts they
 * run on, and their registration with cv::dnn::LayerFactory. */
#include "leakycl_opencv.hpp"

#include <leakycl.h>

#include <opencv2/core/ocl.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/dnn/layer.details.hpp>
#include <opencv2/dnn/shape_utils.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#if defined(__SSE__) || defined(_M_X64)
#include <xmmintrin.h>
#define LEAKYCL_OPENCV_MXCSR 1
#endif

namespace leakycl {
namespace opencv {
namespace {

using cv::dnn::LayerParams;

/* --- errors ------------------------------------------------------------------------------------ */

int cv_error_code(lcl_status status) {
    switch (status) {
    case LCL_ERROR_INVALID_ARGUMENT: return cv::Error::StsBadArg;
    case LCL_ERROR_UNSUPPORTED: return cv::Error::StsNotImplemented;
    case LCL_ERROR_OUT_OF_MEMORY: return cv::Error::StsNoMem;
    default: return cv::Error::StsError;
    }
}

/* Turns a failed leakycl call into a cv::Exception that carries leakycl's own message (read at
 * once: it is this thread's last failure). */
void check(lcl_status status, const char *call) {
    if (status == LCL_SUCCESS)
        return;
    std::string message = std::string("leakycl: ") + call + " failed (" + lcl_status_string(status) +
                          "): " + lcl_last_error();
    CV_Error(cv_error_code(status), message);
}

struct tensor_release {
    void operator()(lcl_tensor *t) const { lcl_tensor_release(t); }
};
using tensor_ptr = std::unique_ptr<lcl_tensor, tensor_release>;

/* --- subnormals ------------------------------------------------------------------------------------- */

/* OpenCV's Net::forward sets flush-to-zero and denormals-are-zero on its thread for the whole
 * forward (it trades subnormals for speed), and threads started meanwhile inherit them. leakycl
 * keeps subnormals, as its contract says, so its CPU path runs with both cleared: the results are
 * the formula's on every input, and the worker threads leakycl starts on its first call keep
 * subnormals too. The mode is restored afterwards. */
class subnormals_kept {
public:
#ifdef LEAKYCL_OPENCV_MXCSR
    subnormals_kept() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ & ~(flush_to_zero | denormals_are_zero)); }
    ~subnormals_kept() { _mm_setcsr(saved_); }

private:
    static constexpr unsigned flush_to_zero = 0x8000, denormals_are_zero = 0x0040;
    unsigned saved_;
#endif
};

/* --- the leakycl contexts of one registration ---------------------------------------------------- */

/* The CPU-target context (made from the app's spec on first use) and one context per OpenCL queue
 * that OpenCV's threads run on (each wraps that queue, so leakycl enqueues on it; leakycl compiles
 * its kernels once per context). Layers share it through shared_ptr, so a network built before
 * unregister_layers() keeps working after it. */
class devices {
public:
    explicit devices(std::string cpu_spec) : cpu_spec_(std::move(cpu_spec)) {}
    ~devices() {
        for (auto &entry : opencl_)
            lcl_context_release(entry.second);
        lcl_context_release(cpu_);
    }
    devices(const devices &) = delete;
    devices &operator=(const devices &) = delete;

    lcl_context *cpu() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!cpu_)
            check(lcl_context_create(cpu_spec_.c_str(), &cpu_), "lcl_context_create");
        return cpu_;
    }

    lcl_context *opencl(cl_command_queue queue) {
        if (!queue)
            CV_Error(cv::Error::OpenCLApiCallError, "leakycl: OpenCV has no OpenCL queue on this thread");
        std::lock_guard<std::mutex> lock(mutex_);
        auto found = opencl_.find(queue);
        if (found != opencl_.end())
            return found->second;
        lcl_context *ctx = nullptr;
        check(lcl_context_wrap_cl(queue, &ctx), "lcl_context_wrap_cl");
        opencl_.emplace(queue, ctx);  // leakycl retains the queue: its address stays this queue's
        return ctx;
    }

private:
    std::mutex mutex_;
    std::string cpu_spec_;
    lcl_context *cpu_ = nullptr;
    std::map<cl_command_queue, lcl_context *> opencl_;
};

/* --- registration state ------------------------------------------------------------------------------ */

struct registry {
    std::mutex mutex;
    bool registered = false;
    std::shared_ptr<devices> current;
};

registry &the_registry() {
    static registry instance;
    return instance;
}

std::atomic<size_t> cpu_call_count{0};
std::atomic<size_t> opencl_call_count{0};

std::shared_ptr<devices> current_devices() {
    registry &reg = the_registry();
    std::lock_guard<std::mutex> lock(reg.mutex);
    if (!reg.current)
        CV_Error(cv::Error::StsError, "leakycl: a leakycl layer was created while the layers are not registered");
    return reg.current;
}

/* --- blobs ----------------------------------------------------------------------------------------------- */

lcl_dtype dtype_of(int depth) {
    switch (depth) {
    case CV_32F: return LCL_F32;
    case CV_16S:  // OpenCV 4.x before 4.8 keeps DNN_TARGET_OPENCL_FP16 blobs as CV_16S
    case CV_16F: return LCL_F16;
    case CV_64F: return LCL_F64;
    default: CV_Error(cv::Error::BadDepth, "leakycl: a leaky layer's blobs must be CV_32F, CV_64F or FP16");
    }
}

/* A tensor on the UMat's own buffer, at its offset (an element count for leakycl). */
tensor_ptr wrap_umat(lcl_context *ctx, const cv::UMat &blob, cv::AccessFlag access) {
    auto buffer = static_cast<cl_mem>(blob.handle(access));
    lcl_tensor *t = nullptr;
    check(lcl_tensor_wrap_cl(ctx, dtype_of(blob.depth()), buffer, blob.offset / blob.elemSize(), blob.total(), &t),
          "lcl_tensor_wrap_cl");
    return tensor_ptr(t);
}

bool same_memory(const cv::UMat &a, const cv::UMat &b) { return a.u == b.u && a.offset == b.offset; }

void check_pair(const cv::dnn::MatShape &in, const cv::dnn::MatShape &out, int in_type, int out_type) {
    if (in != out || in_type != out_type)
        CV_Error(cv::Error::StsUnmatchedSizes, "leakycl: a leaky layer's output must match its input's shape and type");
}

/* --- the host path ---------------------------------------------------------------------------------- */

/* A range of a blob's elements and the alpha they get. */
struct segment {
    size_t offset, count;
    double alpha;
};

struct host_call {
    lcl_context *ctx;
    lcl_dtype dtype;
    const void *x;
    void *y;
};

/* leakycl's CPU backend runs a call below 65536 elements on the calling thread; stripes stay
 * under that (and large enough that a call's fixed cost does not count). */
constexpr size_t stripe_elements = 32768;

std::vector<segment> split(const std::vector<segment> &segments) {
    std::vector<segment> stripes;
    for (const segment &s : segments)
        for (size_t done = 0; done < s.count; done += stripe_elements)
            stripes.push_back(segment{s.offset + done, std::min(stripe_elements, s.count - done), s.alpha});
    return stripes;
}

void run_segments(const host_call &call, const std::vector<segment> &segments);

/* --- the layers ---------------------------------------------------------------------------------------- */

/* What both layers share: one output per input of the same shape, computed in place when OpenCV
 * gives the same blob as both, dispatched on what OpenCV passes (UMats on the OpenCL targets,
 * Mats on the CPU). */
class leaky_layer : public cv::dnn::Layer {
public:
    bool getMemoryShapes(const std::vector<cv::dnn::MatShape> &inputs, int required_outputs,
                         std::vector<cv::dnn::MatShape> &outputs,
                         std::vector<cv::dnn::MatShape> &internals) const override {
        Layer::getMemoryShapes(inputs, required_outputs, outputs, internals);
        return true;  // an element-wise layer may run in place
    }

    void forward(cv::InputArrayOfArrays inputs_arr, cv::OutputArrayOfArrays outputs_arr,
                 cv::OutputArrayOfArrays) override {
        if (inputs_arr.isUMatVector()) {
            forward_opencl(inputs_arr, outputs_arr);
            opencl_call_count.fetch_add(1, std::memory_order_relaxed);
        } else {
            forward_host(inputs_arr, outputs_arr);
            cpu_call_count.fetch_add(1, std::memory_order_relaxed);
        }
    }

protected:
    explicit leaky_layer(const LayerParams &params) : devices_(current_devices()) { setParamsFrom(params); }

    /* y = f(x) on one pair of tensors of @p ctx (y may be x); shape is x's. */
    virtual void run_opencl(lcl_context *ctx, const cv::dnn::MatShape &shape, const lcl_tensor *x,
                            lcl_tensor *y) = 0;
    /* The host path's pieces for a blob of @p shape: consecutive ranges, each with its alpha. */
    virtual std::vector<segment> host_segments(const cv::dnn::MatShape &shape) const = 0;

    std::shared_ptr<devices> devices_;

private:
    void forward_opencl(cv::InputArrayOfArrays inputs_arr, cv::OutputArrayOfArrays outputs_arr) {
        std::vector<cv::UMat> inputs, outputs;
        inputs_arr.getUMatVector(inputs);
        outputs_arr.getUMatVector(outputs);
        CV_Assert(inputs.size() == outputs.size());
        lcl_context *ctx = devices_->opencl(static_cast<cl_command_queue>(cv::ocl::Queue::getDefault().ptr()));
        for (size_t i = 0; i < inputs.size(); ++i) {
            const cv::dnn::MatShape shape = cv::dnn::shape(inputs[i]);
            check_pair(shape, cv::dnn::shape(outputs[i]), inputs[i].type(), outputs[i].type());
            if (inputs[i].total() == 0)
                continue;  // an empty UMat has no buffer to wrap, and nothing to compute
            if (same_memory(inputs[i], outputs[i])) {
                tensor_ptr xy = wrap_umat(ctx, outputs[i], cv::ACCESS_RW);
                run_opencl(ctx, shape, xy.get(), xy.get());
            } else {
                tensor_ptr x = wrap_umat(ctx, inputs[i], cv::ACCESS_READ);
                tensor_ptr y = wrap_umat(ctx, outputs[i], cv::ACCESS_WRITE);
                run_opencl(ctx, shape, x.get(), y.get());
            }
        }
    }

    void forward_host(cv::InputArrayOfArrays inputs_arr, cv::OutputArrayOfArrays outputs_arr) {
        std::vector<cv::Mat> inputs, outputs;
        inputs_arr.getMatVector(inputs);
        outputs_arr.getMatVector(outputs);
        CV_Assert(inputs.size() == outputs.size());
        const subnormals_kept mode;
        lcl_context *ctx = devices_->cpu();
        for (size_t i = 0; i < inputs.size(); ++i) {
            const cv::dnn::MatShape shape = cv::dnn::shape(inputs[i]);
            check_pair(shape, cv::dnn::shape(outputs[i]), inputs[i].type(), outputs[i].type());
            if (inputs[i].depth() != CV_32F && inputs[i].depth() != CV_64F)
                CV_Error(cv::Error::BadDepth, "leakycl: on the CPU target a leaky layer's blobs must be CV_32F or CV_64F");
            CV_Assert(inputs[i].isContinuous() && outputs[i].isContinuous());
            host_call call{ctx, inputs[i].depth() == CV_64F ? LCL_F64 : LCL_F32, inputs[i].data, outputs[i].data};
            run_segments(call, host_segments(shape));
        }
    }
};

/* Runs @p segments of one blob through lcl_forward_host. Every alpha is checked first (a call of 0
 * elements validates it), so a rejected one leaves the output untouched. On leakycl's CPU backend
 * the blob goes in stripes below leakycl's own threading threshold, on OpenCV's thread pool, as
 * OpenCV's own layers run: leakycl's OpenMP threads would otherwise compete for the cores with
 * OpenCV's spinning workers (seen: 10 ms instead of 0.1 ms per layer on 2 cores). A device the app
 * named gets whole segments, one at a time. */
void run_segments(const host_call &call, const std::vector<segment> &segments) {
    for (size_t s = 0; s < segments.size(); ++s)
        if (s == 0 || segments[s].alpha != segments[s - 1].alpha)
            check(lcl_forward_host(call.ctx, call.dtype, 0, segments[s].alpha, nullptr, nullptr), "lcl_forward_host");
    const std::vector<segment> stripes = lcl_context_backend(call.ctx) == LCL_BACKEND_CPU ? split(segments) : segments;
    std::mutex failure_mutex;
    std::string failure;
    int failure_code = 0;
    auto body = [&](const cv::Range &range) {
        const subnormals_kept mode;  // OpenCV's workers may run with flush-to-zero too
        for (int s = range.start; s < range.end; ++s) {
            const segment &piece = stripes[static_cast<size_t>(s)];
            const size_t skip = piece.offset * lcl_dtype_size(call.dtype);
            const lcl_status st = lcl_forward_host(call.ctx, call.dtype, piece.count, piece.alpha,
                                                   static_cast<const char *>(call.x) + skip, static_cast<char *>(call.y) + skip);
            if (st != LCL_SUCCESS) {
                std::lock_guard<std::mutex> lock(failure_mutex);
                if (failure.empty()) {
                    failure = cv::format("leakycl: lcl_forward_host failed (%s) on elements %zu..%zu; the output "
                                         "may be partly written: %s",
                                         lcl_status_string(st), piece.offset, piece.offset + piece.count - 1, lcl_last_error());
                    failure_code = cv_error_code(st);
                }
            }
        }
    };
    const cv::Range all(0, static_cast<int>(stripes.size()));
    if (lcl_context_backend(call.ctx) == LCL_BACKEND_CPU && stripes.size() > 1)
        // One contiguous run of stripes per thread, as OpenCV's element-wise layers split their
        // work: each thread then streams through memory in order.
        cv::parallel_for_(all, body, std::min<double>(static_cast<double>(stripes.size()), cv::getNumThreads()));
    else
        body(all);
    if (!failure.empty())
        CV_Error(failure_code, failure);
}

/* ReLU with any negative_slope (OpenCV's name for leaky ReLU; 0 is the plain ReLU). */
class relu_layer final : public leaky_layer {
public:
    explicit relu_layer(const LayerParams &params)
        : leaky_layer(params), slope_(params.get<float>("negative_slope", 0.f)) {}

    static cv::Ptr<cv::dnn::Layer> create(LayerParams &params) { return cv::makePtr<relu_layer>(params); }

private:
    void run_opencl(lcl_context *ctx, const cv::dnn::MatShape &, const lcl_tensor *x, lcl_tensor *y) override {
        check(lcl_forward(ctx, slope_, x, y), "lcl_forward");
    }

    std::vector<segment> host_segments(const cv::dnn::MatShape &shape) const override {
        return {segment{0, static_cast<size_t>(cv::dnn::total(shape)), slope_}};
    }

    float slope_;  // OpenCV reads negative_slope as a float: the same alpha its own layer uses
};

/* PReLU: a slope per channel (axis 1; the rest of the shape is the inner extent), or one slope
 * for the whole blob. */
class prelu_layer final : public leaky_layer {
public:
    explicit prelu_layer(const LayerParams &params) : leaky_layer(params) {
        if (params.blobs.size() != 1 || params.blobs[0].total() == 0)
            CV_Error(cv::Error::StsBadArg, "leakycl: PReLU needs one blob of slopes");
        params.blobs[0].reshape(1, 1).convertTo(slopes_, CV_32F);
        if (!cv::checkRange(slopes_))
            CV_Error(cv::Error::StsBadArg, "leakycl: PReLU layer '" + name + "' has a NaN or infinite slope");
    }
    ~prelu_layer() override {
        for (auto &entry : device_slopes_)
            lcl_tensor_release(entry.second);
    }

    static cv::Ptr<cv::dnn::Layer> create(LayerParams &params) { return cv::makePtr<prelu_layer>(params); }

private:
    size_t channels() const { return slopes_.total(); }

    /* channels and inner extent of a blob, checked against the slopes. */
    std::pair<size_t, size_t> layout(const cv::dnn::MatShape &shape) const {
        if (shape.size() < 2 || static_cast<size_t>(shape[1]) != channels())
            CV_Error(cv::Error::StsUnmatchedSizes, "leakycl: PReLU layer '" + name + "' has " +
                                                       std::to_string(channels()) + " slopes for an input of shape " +
                                                       cv::format("%s", cv::dnn::toString(shape).c_str()));
        return {channels(), cv::dnn::total(shape, 2)};
    }

    void run_opencl(lcl_context *ctx, const cv::dnn::MatShape &shape, const lcl_tensor *x, lcl_tensor *y) override {
        if (channels() == 1) {
            check(lcl_forward(ctx, slopes_.at<float>(0), x, y), "lcl_forward");
            return;
        }
        std::pair<size_t, size_t> ci = layout(shape);
        check(lcl_prelu_forward(ctx, ci.first, ci.second, slopes_on(ctx, lcl_tensor_dtype(x)), x, y),
              "lcl_prelu_forward");
    }

    /* leakycl's host-array path takes one alpha, so the blob goes one channel plane at a time:
     * bit for bit what lcl_prelu_forward gives (leakycl's PReLU contract). */
    std::vector<segment> host_segments(const cv::dnn::MatShape &shape) const override {
        const size_t count = static_cast<size_t>(cv::dnn::total(shape));
        if (channels() == 1)
            return {segment{0, count, slopes_.at<float>(0)}};
        const size_t plane = layout(shape).second;
        std::vector<segment> planes;
        for (size_t start = 0, p = 0; start < count; start += plane, ++p)
            planes.push_back(segment{start, plane, slopes_.at<float>(static_cast<int>(p % channels()))});
        return planes;
    }

    /* The slopes as a tensor of @p dtype on @p ctx's device, uploaded on first use. */
    const lcl_tensor *slopes_on(lcl_context *ctx, lcl_dtype dtype) {
        std::lock_guard<std::mutex> lock(slopes_mutex_);
        auto key = std::make_pair(ctx, dtype);
        auto found = device_slopes_.find(key);
        if (found != device_slopes_.end())
            return found->second;
        cv::Mat host;
        if (dtype == LCL_F16)
            cv::convertFp16(slopes_, host);  // round to nearest even: the slopes OpenCV's FP16 target uses
        else
            slopes_.convertTo(host, dtype == LCL_F64 ? CV_64F : CV_32F);
        lcl_tensor *t = nullptr;
        check(lcl_tensor_create(ctx, dtype, channels(), &t), "lcl_tensor_create");
        tensor_ptr owned(t);
        check(lcl_tensor_write(t, host.data), "lcl_tensor_write");
        device_slopes_.emplace(key, owned.release());
        return t;
    }

    cv::Mat slopes_;  // CV_32F, one row
    std::mutex slopes_mutex_;
    std::map<std::pair<lcl_context *, lcl_dtype>, lcl_tensor *> device_slopes_;
};

const char *const relu_type = "ReLU";
const char *const prelu_type = "PReLU";

}  // namespace

void register_layers(const char *cpu_device) {
    registry &reg = the_registry();
    std::lock_guard<std::mutex> lock(reg.mutex);
    reg.current = std::make_shared<devices>(cpu_device ? cpu_device : "cpu");
    cpu_call_count = 0;
    opencl_call_count = 0;
    if (reg.registered)
        return;  // LayerFactory refuses the same constructor twice on top of its stack
    cv::dnn::LayerFactory::registerLayer(relu_type, relu_layer::create);
    try {
        cv::dnn::LayerFactory::registerLayer(prelu_type, prelu_layer::create);
    } catch (...) {
        cv::dnn::LayerFactory::unregisterLayer(relu_type);  // all or nothing
        reg.current.reset();
        throw;
    }
    reg.registered = true;
}

void unregister_layers() {
    registry &reg = the_registry();
    std::lock_guard<std::mutex> lock(reg.mutex);
    if (!reg.registered)
        return;
    // LayerFactory keeps a stack of constructors per type: this pops ours, OpenCV's is on top again.
    cv::dnn::LayerFactory::unregisterLayer(prelu_type);
    cv::dnn::LayerFactory::unregisterLayer(relu_type);
    reg.registered = false;
    reg.current.reset();
}

stats get_stats() { return stats{cpu_call_count.load(), opencl_call_count.load()}; }

}  // namespace opencv
}  // namespace leakycl
