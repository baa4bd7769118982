/* The figures for leakycl inside OpenCV DNN, in one run per target: each leaky layer of the
 * YOLOv3-tiny-style network, and a blob of 2^LOG2N elements, through OpenCV's own ReLU layer (its
 * OpenCL kernel on the OpenCL target, its CPU loop on the CPU) and through leakycl's, against the
 * device's copy bandwidth on the same memory (clEnqueueCopyBuffer on OpenCV's queue; memcpy on the
 * CPU); then the whole network with OpenCV's layers (fused into the convolutions, and not) and
 * with leakycl's. Each layer is called as cv::dnn calls it, x -> y, on blobs already in place
 * (UMats on the device for OpenCL), and timed to completion (cv::ocl::finish).
 *
 * usage: leakycl-opencv-bench [--target cpu|opencl|all] [--size N] [--log2n N] [--min-time S]
 * On PoCL: OPENCV_OPENCL_DEVICE=:CPU: OPENCV_DNN_OPENCL_ALLOW_ALL_DEVICES=1. */
#include "models.hpp"

#include <leakycl_opencv.hpp>

#include <CL/cl.h>
#include <opencv2/core/ocl.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/dnn/shape_utils.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct options {
    std::string target = "all";
    int size = 416, log2n = 24;
    double min_time = 0.2;  // seconds per timed batch
};

options parse(int argc, char **argv) {
    options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string arg = argv[i], value = argv[i + 1];
        if (arg == "--target") o.target = value;
        else if (arg == "--size") o.size = std::atoi(value.c_str());
        else if (arg == "--log2n") o.log2n = std::atoi(value.c_str());
        else if (arg == "--min-time") o.min_time = std::atof(value.c_str());
        else {
            std::fprintf(stderr, "usage: leakycl-opencv-bench [--target cpu|opencl|all] [--size N] [--log2n N] "
                                 "[--min-time S]\n");
            std::exit(2);
        }
    }
    if (argc % 2 == 0 || o.size <= 0 || o.size % 32 || o.log2n < 10 || o.log2n > 30) {
        std::fprintf(stderr, "leakycl-opencv-bench: bad arguments\n");
        std::exit(2);
    }
    return o;
}

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/* Seconds per call of each of @p calls: a warm-up, repetitions doubled until a batch takes
 * min_time / 4, then 5 rounds in which each call runs one batch in turn (so that the load of a
 * shared machine drifts over all alike), each batch ended by @p finish; the medians. */
std::vector<double> seconds_per_call(const std::vector<std::function<void()>> &calls, const std::function<void()> &finish,
                                     double min_time) {
    std::vector<size_t> reps(calls.size(), 1);
    for (size_t c = 0; c < calls.size(); ++c) {
        calls[c]();
        finish();
        for (;;) {
            double start = now();
            for (size_t r = 0; r < reps[c]; ++r)
                calls[c]();
            finish();
            if (now() - start >= min_time / 4 || reps[c] >= (1u << 20))
                break;
            reps[c] *= 2;
        }
    }
    std::vector<std::vector<double>> batches(calls.size());
    for (int round = 0; round < 5; ++round)
        for (size_t c = 0; c < calls.size(); ++c) {
            double start = now();
            for (size_t r = 0; r < reps[c]; ++r)
                calls[c]();
            finish();
            batches[c].push_back((now() - start) / static_cast<double>(reps[c]));
        }
    std::vector<double> medians;
    for (const std::vector<double> &b : batches)
        medians.push_back(models::median(b));
    return medians;
}

/* OpenCV's own ReLU layer (slope 0.1) when @p leakycl is false, leakycl's when true. */
cv::Ptr<cv::dnn::Layer> relu_layer(bool leakycl, int target) {
    if (leakycl)
        leakycl::opencv::register_layers();
    else
        leakycl::opencv::unregister_layers();
    cv::dnn::LayerParams p;
    p.name = leakycl ? "leakycl" : "opencv";
    p.type = "ReLU";
    p.set("negative_slope", 0.1f);
    cv::Ptr<cv::dnn::Layer> layer = cv::dnn::LayerFactory::createLayerInstance("ReLU", p);
    layer->preferableTarget = target;
    return layer;
}

struct row {
    double own, ours, copy;  // seconds per call
};

row time_cpu(const cv::dnn::MatShape &shape, double min_time) {
    std::vector<cv::Mat> x = {models::random_blob(shape, 5)}, y = {cv::Mat(shape, CV_32F, cv::Scalar(0))}, internals;
    const size_t bytes = x[0].total() * sizeof(float);
    auto nothing = [] {};
    cv::Ptr<cv::dnn::Layer> own = relu_layer(false, cv::dnn::DNN_TARGET_CPU), ours = relu_layer(true, cv::dnn::DNN_TARGET_CPU);
    const std::vector<double> t = seconds_per_call({[&] { own->forward(x, y, internals); },
                                                    [&] { ours->forward(x, y, internals); },
                                                    [&] { std::memcpy(y[0].data, x[0].data, bytes); }},
                                                   nothing, min_time);
    return row{t[0], t[1], t[2]};
}

row time_opencl(const cv::dnn::MatShape &shape, double min_time) {
    cv::UMat ux = models::random_blob(shape, 5).getUMat(cv::ACCESS_READ).clone();
    cv::UMat uy(static_cast<int>(shape.size()), shape.data(), CV_32F, cv::Scalar(0));
    std::vector<cv::UMat> x = {ux}, y = {uy}, internals;
    const size_t bytes = ux.total() * sizeof(float);
    auto finish = [] { cv::ocl::finish(); };
    cv::Ptr<cv::dnn::Layer> own = relu_layer(false, cv::dnn::DNN_TARGET_OPENCL),
                            ours = relu_layer(true, cv::dnn::DNN_TARGET_OPENCL);
    auto queue = static_cast<cl_command_queue>(cv::ocl::Queue::getDefault().ptr());
    auto copy = [&] {
        cl_mem src = static_cast<cl_mem>(ux.handle(cv::ACCESS_READ)), dst = static_cast<cl_mem>(uy.handle(cv::ACCESS_WRITE));
        if (clEnqueueCopyBuffer(queue, src, dst, ux.offset, uy.offset, bytes, 0, nullptr, nullptr) != CL_SUCCESS)
            throw std::runtime_error("clEnqueueCopyBuffer failed");
    };
    const std::vector<double> t = seconds_per_call(
        {[&] { own->forward(x, y, internals); }, [&] { ours->forward(x, y, internals); }, copy}, finish, min_time);
    return row{t[0], t[1], t[2]};
}

void print_row(const std::string &name, size_t n, const row &r) {
    const double bytes = 2.0 * static_cast<double>(n) * sizeof(float);  // read x, write y
    std::printf("%-14s %10zu %10.4f %10.4f %10.4f %8.2f %8.2f %8.2f %7.2f %6.0f%%\n", name.c_str(), n, r.own * 1e3,
                r.ours * 1e3, r.copy * 1e3, bytes / r.own * 1e-9, bytes / r.ours * 1e-9, bytes / r.copy * 1e-9,
                r.own / r.ours, 100.0 * r.copy / r.ours);
}

void bench_target(int target, const options &o) {
    const bool cpu = target == cv::dnn::DNN_TARGET_CPU;
    std::printf("\n== %s target: %s\n", cpu ? "CPU" : "OpenCL",
                cpu ? "leakycl's CPU backend (in OpenCV's thread pool) vs OpenCV's CPU loop; copy = memcpy"
                    : ("leakycl on OpenCV's queue vs OpenCV's OpenCL kernel, on " + cv::ocl::Device::getDefault().name() +
                       "; copy = clEnqueueCopyBuffer")
                          .c_str());
    std::printf("%-14s %10s %10s %10s %10s %8s %8s %8s %7s %7s\n", "blob", "elements", "OpenCV ms", "leakycl ms",
                "copy ms", "OCV GB/s", "lcl GB/s", "cpy GB/s", "speedup", "of copy");
    const std::string cfg = std::string(LEAKYCL_OPENCV_MODELS_DIR) + "/yolo-tiny-style.cfg";
    cv::dnn::Net net = models::read_darknet(cfg, 1);
    const cv::Mat input = models::random_blob({1, 3, o.size, o.size}, 2);
    const std::vector<cv::dnn::MatShape> in_shapes = {cv::dnn::shape(input)};
    for (const std::string &name : models::leaky_layers(net)) {
        std::vector<cv::dnn::MatShape> ins, outs;
        net.getLayerShapes(in_shapes, net.getLayerId(name), ins, outs);
        const row r = cpu ? time_cpu(ins.at(0), o.min_time) : time_opencl(ins.at(0), o.min_time);
        print_row(name, static_cast<size_t>(cv::dnn::total(ins[0])), r);
    }
    const int side = 1 << (o.log2n / 2);
    const cv::dnn::MatShape big = {1, 1 << (o.log2n % 2), side, side};
    const row r = cpu ? time_cpu(big, o.min_time) : time_opencl(big, o.min_time);
    print_row("2^" + std::to_string(o.log2n), static_cast<size_t>(cv::dnn::total(big)), r);

    // The whole network: OpenCV's layers fused into the convolutions (its default), unfused, and
    // leakycl's; the three forwards take turns, outputs on the host each time.
    leakycl::opencv::unregister_layers();
    cv::dnn::Net fused = models::read_darknet(cfg, 1), unfused = models::read_darknet(cfg, 1);
    leakycl::opencv::register_layers();
    cv::dnn::Net ours = models::read_darknet(cfg, 1);
    const std::vector<double> t = seconds_per_call({[&] { models::forward(fused, input, target, true); },
                                                    [&] { models::forward(unfused, input, target, false); },
                                                    [&] { models::forward(ours, input, target, true); }},
                                                   [] {}, 0.0);
    const leakycl::opencv::stats s = leakycl::opencv::get_stats();
    std::printf("whole network %dx%d (median of 5 forwards each, taking turns): OpenCV fused %.2f ms, OpenCV unfused "
                "%.2f ms, leakycl %.2f ms (leakycl calls: %zu CPU, %zu OpenCL)\n",
                o.size, o.size, t[0] * 1e3, t[1] * 1e3, t[2] * 1e3, s.cpu_calls, s.opencl_calls);
    leakycl::opencv::unregister_layers();
}

}  // namespace

int main(int argc, char **argv) {
    const options o = parse(argc, argv);
    try {
        std::printf("GB/s count 2 x 4 bytes per element (read x, write y); 'of copy' = copy time / leakycl time\n");
        if (o.target == "cpu" || o.target == "all")
            bench_target(cv::dnn::DNN_TARGET_CPU, o);
        if (o.target == "opencl" || o.target == "all") {
            if (!cv::ocl::useOpenCL() || cv::ocl::Device::getDefault().empty()) {
                std::fprintf(stderr, "leakycl-opencv-bench: OpenCV has no OpenCL device (on PoCL: "
                                     "OPENCV_OPENCL_DEVICE=:CPU: OPENCV_DNN_OPENCL_ALLOW_ALL_DEVICES=1)\n");
                return 1;
            }
            bench_target(cv::dnn::DNN_TARGET_OPENCL, o);
        }
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "leakycl-opencv-bench: %s\n", e.what());
        return 1;
    }
}
