/* leakycl inside OpenCV DNN, as an app uses it: the YOLOv3-tiny-style Darknet network and the ONNX
 * network of models/, each run through cv::dnn with OpenCV's own leaky layers and with leakycl's,
 * on the CPU and on the OpenCL target. Prints the largest output difference, each leaky layer's
 * time (Net::getPerfProfile) and the whole network's, both ways.
 *
 * usage: leakycl-opencv-compare [--model darknet|onnx|all] [--target cpu|opencl|all] [--size N]
 *                               [--runs N] [--seed N] [--write-weights FILE] [--cpu-device SPEC]
 * On PoCL, OpenCV's OpenCL target needs OPENCV_OPENCL_DEVICE=:CPU: OPENCV_DNN_OPENCL_ALLOW_ALL_DEVICES=1,
 * or it silently runs on the CPU (the program then says so and fails). */
#include "models.hpp"

#include <leakycl_opencv.hpp>

#include <opencv2/core/ocl.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/dnn/shape_utils.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

struct options {
    std::string model = "all", target = "all", write_weights, cpu_device;
    int size = 416, runs = 5;
    uint32_t seed = 1;
};

[[noreturn]] void usage(const char *why) {
    std::fprintf(stderr,
                 "%s\nusage: leakycl-opencv-compare [--model darknet|onnx|all] [--target cpu|opencl|all] "
                 "[--size N] [--runs N] [--seed N] [--write-weights FILE] [--cpu-device SPEC]\n",
                 why);
    std::exit(2);
}

options parse(int argc, char **argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (i + 1 >= argc)
            usage(("missing value after " + arg).c_str());
        std::string value = argv[++i];
        if (arg == "--model") o.model = value;
        else if (arg == "--target") o.target = value;
        else if (arg == "--size") o.size = std::atoi(value.c_str());
        else if (arg == "--runs") o.runs = std::atoi(value.c_str());
        else if (arg == "--seed") o.seed = static_cast<uint32_t>(std::strtoul(value.c_str(), nullptr, 10));
        else if (arg == "--write-weights") o.write_weights = value;
        else if (arg == "--cpu-device") o.cpu_device = value;
        else usage(("unknown option " + arg).c_str());
    }
    if (o.size <= 0 || o.size % 32 != 0)
        usage("--size must be a positive multiple of 32");
    if (o.runs < 1)
        usage("--runs must be at least 1");
    return o;
}

/* One model on one target: OpenCV's layers (fused into the convolutions, as OpenCV runs them by
 * default, and unfused, to time the layer itself), then leakycl's. Returns false when the OpenCL
 * target did not really run on OpenCL. */
bool compare(const std::string &model_name, const std::function<cv::dnn::Net()> &read, const cv::Mat &input,
             int target, const options &o) {
    const char *tname = target == cv::dnn::DNN_TARGET_CPU ? "CPU" : "OpenCL";
    leakycl::opencv::unregister_layers();
    cv::dnn::Net own_net = read();
    const models::timing own_fused = models::measure(own_net, input, target, true, o.runs);
    cv::dnn::Net own_unfused_net = read();
    const models::timing own = models::measure(own_unfused_net, input, target, false, o.runs);

    leakycl::opencv::register_layers(o.cpu_device.empty() ? nullptr : o.cpu_device.c_str());
    cv::dnn::Net ours_net = read();
    const models::timing ours = models::measure(ours_net, input, target, true, o.runs);
    const leakycl::opencv::stats calls = leakycl::opencv::get_stats();

    const std::vector<cv::dnn::MatShape> in_shapes = {cv::dnn::shape(input)};
    std::printf("\n== %s on the %s target (%s)\n", model_name.c_str(), tname,
                target == cv::dnn::DNN_TARGET_CPU ? "leakycl's CPU backend"
                                                  : cv::ocl::Device::getDefault().name().c_str());
    double worst = 0;
    for (size_t k = 0; k < ours.outputs.size() && k < own_fused.outputs.size(); ++k)
        worst = std::max(worst, models::max_abs_diff(ours.outputs[k], own_fused.outputs[k]));
    std::printf("max |leakycl - OpenCV| over the outputs: %.3g (largest |output| %.3g)\n", worst,
                models::max_abs(own_fused.outputs.at(0)));
    std::printf("%-22s %12s %14s %14s\n", "leaky layer", "elements", "OpenCV ms", "leakycl ms");
    for (const std::string &name : models::leaky_layers(ours_net)) {
        std::vector<cv::dnn::MatShape> ins, outs;
        ours_net.getLayerShapes(in_shapes, ours_net.getLayerId(name), ins, outs);
        auto own_ms = own.layer_ms.find(name), ours_ms = ours.layer_ms.find(name);
        std::printf("%-22s %12d %14.3f %14.3f\n", name.c_str(), ins.empty() ? 0 : cv::dnn::total(ins[0]),
                    own_ms == own.layer_ms.end() ? 0.0 : own_ms->second,
                    ours_ms == ours.layer_ms.end() ? 0.0 : ours_ms->second);
    }
    std::printf("whole network (median of %d): OpenCV fused %.2f ms, OpenCV unfused %.2f ms, leakycl %.2f ms\n",
                o.runs, own_fused.total_ms, own.total_ms, ours.total_ms);
    if (target != cv::dnn::DNN_TARGET_CPU)
        std::printf("(OpenCL layer times are host-side: the queue runs asynchronously; leakycl-opencv-bench "
                    "times each layer to completion)\n");
    std::printf("leakycl layer calls: %zu on the CPU path, %zu on OpenCL\n", calls.cpu_calls, calls.opencl_calls);
    const bool on_opencl = target == cv::dnn::DNN_TARGET_CPU || (calls.opencl_calls > 0 && calls.cpu_calls == 0);
    if (!on_opencl)
        std::printf("OpenCV ran the OpenCL target on the CPU: set OPENCV_OPENCL_DEVICE=:CPU: and "
                    "OPENCV_DNN_OPENCL_ALLOW_ALL_DEVICES=1 for PoCL\n");
    leakycl::opencv::unregister_layers();
    return on_opencl;
}

}  // namespace

int main(int argc, char **argv) {
    const options o = parse(argc, argv);
    const std::string cfg = std::string(LEAKYCL_OPENCV_MODELS_DIR) + "/yolo-tiny-style.cfg";
    const std::string onnx = std::string(LEAKYCL_OPENCV_MODELS_DIR) + "/conv-leaky-prelu.onnx";
    try {
        if (!o.write_weights.empty()) {
            std::vector<uchar> weights = models::darknet_weights(models::read_text(cfg), o.seed);
            std::ofstream(o.write_weights, std::ios::binary)
                .write(reinterpret_cast<const char *>(weights.data()), static_cast<std::streamsize>(weights.size()));
            std::printf("wrote %s (%zu bytes) for %s\n", o.write_weights.c_str(), weights.size(), cfg.c_str());
        }
        std::vector<int> targets;
        if (o.target == "cpu" || o.target == "all") targets.push_back(cv::dnn::DNN_TARGET_CPU);
        if (o.target == "opencl" || o.target == "all") targets.push_back(cv::dnn::DNN_TARGET_OPENCL);
        if (targets.empty()) usage("--target is cpu, opencl or all");
        if (o.model != "darknet" && o.model != "onnx" && o.model != "all") usage("--model is darknet, onnx or all");
        bool ok = true;
        for (int target : targets) {
            if (o.model != "onnx")
                ok &= compare("Darknet " + std::to_string(o.size) + "x" + std::to_string(o.size),
                              [&] { return models::read_darknet(cfg, o.seed); },
                              models::random_blob({1, 3, o.size, o.size}, o.seed + 1), target, o);
            if (o.model != "darknet")
                ok &= compare("ONNX 64x64", [&] { return models::read_onnx(onnx); },
                              models::random_blob({1, 3, 64, 64}, o.seed + 2), target, o);
        }
        return ok ? 0 : 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "leakycl-opencv-compare: %s\n", e.what());
        return 1;
    }
}
