/* leakycl's OpenCV DNN layers: registration, bit-exact layer outputs on the CPU and the OpenCL
 * target (fp32 and fp16 blobs, in place, at offsets), whole networks against OpenCV's own layers,
 * two networks at once, empty blobs, and failures surfacing as cv::Exception.
 *
 * usage: leakycl-opencv-test GROUP   (factory, layer-cpu, layer-opencl, darknet, onnx, concurrent,
 *                                     errors, broken-kernels; see main)
 * The OpenCL groups need OpenCV to use an OpenCL device; on PoCL set OPENCV_OPENCL_DEVICE=:CPU:
 * and OPENCV_DNN_OPENCL_ALLOW_ALL_DEVICES=1 (ctest does). They fail, never skip, without one. */
#include "models.hpp"

#include <leakycl_opencv.hpp>

#include <opencv2/core/ocl.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/dnn/all_layers.hpp>
#include <opencv2/dnn/shape_utils.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using cv::dnn::DNN_TARGET_CPU;
using cv::dnn::DNN_TARGET_OPENCL;
using cv::dnn::DNN_TARGET_OPENCL_FP16;

int passed = 0, failed = 0;

void expect(bool ok, const std::string &what) {
    if (ok) {
        ++passed;
    } else {
        ++failed;
        std::fprintf(stderr, "FAIL: %s\n", what.c_str());
    }
}

/* Runs @p body, expecting a cv::Exception whose message contains @p text. */
void expect_throw(const std::function<void()> &body, const std::string &text, const std::string &what) {
    try {
        body();
        expect(false, what + ": no exception");
    } catch (const cv::Exception &e) {
        expect(e.what() && std::string(e.what()).find(text) != std::string::npos,
               what + ": message lacks '" + text + "': " + e.what());
    } catch (const std::exception &e) {
        expect(false, what + ": not a cv::Exception: " + e.what());
    }
}

const std::string models_dir = LEAKYCL_OPENCV_MODELS_DIR;
const std::string darknet_cfg = models_dir + "/yolo-tiny-style.cfg";
const std::string onnx_model = models_dir + "/conv-leaky-prelu.onnx";
const int darknet_size = 128;  // a multiple of 32, small enough for PoCL in a test

const char *target_name(int target) {
    return target == DNN_TARGET_CPU ? "cpu" : target == DNN_TARGET_OPENCL ? "opencl" : "opencl-fp16";
}

/* --- the piecewise formula, the oracle ------------------------------------------------------------ */

uint32_t bits(float x) {
    uint32_t b;
    std::memcpy(&b, &x, sizeof b);
    return b;
}

float leaky(float x, float alpha) { return x > 0 ? x : alpha * x; }

/* Same bits, or both NaN (the payload of a NaN is unspecified). */
bool same(float a, float b) { return bits(a) == bits(b) || (std::isnan(a) && std::isnan(b)); }

/* Every element of @p y against leaky(x, slope of its channel); @p inner is the plane size. */
void expect_formula(const cv::Mat &x, const cv::Mat &y, const std::vector<float> &slopes, size_t inner,
                    const std::string &what) {
    if (x.total() != y.total() || x.type() != CV_32F || y.type() != CV_32F) {
        expect(false, what + ": output shape or type differs from the input's");
        return;
    }
    const float *xs = x.ptr<float>(), *ys = y.ptr<float>();
    for (size_t i = 0; i < x.total(); ++i) {
        const float alpha = slopes[(i / inner) % slopes.size()];
        const float want = leaky(xs[i], alpha);
        if (!same(ys[i], want)) {
            expect(false, cv::format("%s: element %zu: x = %a, alpha = %a: got %a, want %a", what.c_str(), i, xs[i],
                                     alpha, ys[i], want));
            return;
        }
    }
    expect(true, what);
}

/* Random values of every kind: signed zeros, infinities, NaN, subnormals, the extremes, random
 * bit patterns (every exponent) and ordinary values near zero. */
cv::Mat special_blob(const std::vector<int> &shape, uint32_t seed) {
    static const float specials[] = {0.f, -0.f, INFINITY, -INFINITY, NAN, -NAN, 1e-45f, -1e-45f, 1e-40f, -1e-40f,
                                     std::numeric_limits<float>::min(), -std::numeric_limits<float>::min(),
                                     std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(), 1.f, -1.f};
    cv::Mat blob(static_cast<int>(shape.size()), shape.data(), CV_32F);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> near(-2.f, 2.f);
    for (size_t i = 0; i < blob.total(); ++i) {
        float &v = blob.ptr<float>()[i];
        switch (rng() % 4) {
        case 0: v = specials[rng() % (sizeof specials / sizeof *specials)]; break;
        case 1: {
            uint32_t b = static_cast<uint32_t>(rng());
            std::memcpy(&v, &b, sizeof v);
            break;
        }
        default: v = near(rng);
        }
    }
    return blob;
}

/* --- one-layer networks ---------------------------------------------------------------------------- */

cv::dnn::LayerParams relu_params(float slope) {
    cv::dnn::LayerParams p;
    p.name = "leaky";
    p.type = "ReLU";
    p.set("negative_slope", slope);
    return p;
}

cv::dnn::LayerParams prelu_params(const std::vector<float> &slopes) {
    cv::dnn::LayerParams p;
    p.name = "prelu";
    p.type = "PReLU";
    p.blobs.push_back(cv::Mat(slopes, true).reshape(1, 1));
    return p;
}

cv::Mat run_one_layer(cv::dnn::LayerParams params, const cv::Mat &x, int target) {
    cv::dnn::Net net;
    net.addLayerToPrev(params.name, params.type, params);
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(target);
    net.setInput(x);
    return net.forward().clone();
}

/* The test groups' OpenCL precondition: OpenCV will really use an OpenCL device. */
bool need_opencl() {
    if (!cv::ocl::haveOpenCL() || !cv::ocl::useOpenCL() || cv::ocl::Device::getDefault().empty()) {
        expect(false, "OpenCV sees no OpenCL device (on PoCL: OPENCV_OPENCL_DEVICE=:CPU: "
                      "OPENCV_DNN_OPENCL_ALLOW_ALL_DEVICES=1)");
        return false;
    }
    return true;
}

/* --- factory ----------------------------------------------------------------------------------------- */

bool is_opencv_relu(const char *type) {
    cv::dnn::LayerParams p = std::string(type) == "ReLU" ? relu_params(0.1f) : prelu_params({0.1f, 0.2f});
    cv::Ptr<cv::dnn::Layer> layer = cv::dnn::LayerFactory::createLayerInstance(type, p);
    if (std::string(type) == "ReLU")
        return !layer.empty() && dynamic_cast<cv::dnn::ReLULayer *>(layer.get()) != nullptr;
    return !layer.empty() && dynamic_cast<cv::dnn::ChannelsPReLULayer *>(layer.get()) != nullptr;
}

void test_factory() {
    leakycl::opencv::unregister_layers();  // harmless when not registered
    expect(is_opencv_relu("ReLU") && is_opencv_relu("PReLU"), "before registration: OpenCV's layers");
    leakycl::opencv::register_layers();
    expect(!is_opencv_relu("ReLU") && !is_opencv_relu("PReLU"), "registered: leakycl's layers");
    leakycl::opencv::register_layers();  // again: no second entry on OpenCV's stack, no exception
    leakycl::opencv::unregister_layers();
    expect(is_opencv_relu("ReLU") && is_opencv_relu("PReLU"), "unregistered: OpenCV's layers again");
    leakycl::opencv::unregister_layers();
    expect(cv::dnn::LayerFactory::isLayerRegistered("ReLU") && is_opencv_relu("ReLU"),
           "a second unregister leaves OpenCV's own in place");

    leakycl::opencv::register_layers();
    expect(!is_opencv_relu("ReLU"), "registered again: leakycl's layers");
    const leakycl::opencv::stats zero = leakycl::opencv::get_stats();
    expect(zero.cpu_calls == 0 && zero.opencl_calls == 0, "counters start at 0");
    cv::Mat x = special_blob({1, 2, 3, 5}, 1);
    cv::dnn::Net net;
    cv::dnn::LayerParams params = relu_params(0.25f);
    net.addLayerToPrev("leaky", "ReLU", params);
    net.setInput(x);
    net.forward();
    expect(leakycl::opencv::get_stats().cpu_calls == 1, "one CPU forward counts one call");

    // A network built while registered keeps leakycl's layer (and its context) after unregister.
    leakycl::opencv::unregister_layers();
    net.setInput(x);
    cv::Mat y = net.forward().clone();
    expect_formula(x, y, {0.25f}, 1, "a network built before unregister still runs leakycl's layer");
    expect(is_opencv_relu("ReLU"), "while new networks get OpenCV's");
}

/* --- layers --------------------------------------------------------------------------------------------- */

void expect_path(int target, const leakycl::opencv::stats &s, const std::string &what) {
    if (target == DNN_TARGET_CPU)
        expect(s.cpu_calls > 0 && s.opencl_calls == 0,
               cv::format("%s ran on the CPU path (cpu %zu, opencl %zu)", what.c_str(), s.cpu_calls, s.opencl_calls));
    else
        expect(s.opencl_calls > 0 && s.cpu_calls == 0,
               cv::format("%s ran on OpenCL, no fallback to the CPU (cpu %zu, opencl %zu)", what.c_str(), s.cpu_calls,
                          s.opencl_calls));
}

/* leakycl's layers in one-layer networks, every output element against the formula. */
void test_layer_networks(int target) {
    leakycl::opencv::register_layers();
    const std::string t = target_name(target);
    for (float alpha : {0.1f, 0.f, 0.01f, 1.f, 1.5f, -0.3f}) {
        cv::Mat x = special_blob({2, 3, 17, 19}, 7);
        cv::Mat y = run_one_layer(relu_params(alpha), x, target);
        expect_formula(x, y, {alpha}, 1, cv::format("%s: ReLU negative_slope %g", t.c_str(), alpha));
    }
    const std::vector<float> slopes = {0.1f, 0.f, -0.25f, 1.f, 1.5f};
    cv::Mat x = special_blob({2, 5, 7, 11}, 8);
    expect_formula(x, run_one_layer(prelu_params(slopes), x, target), slopes, 7 * 11,
                   t + ": PReLU, 5 channels of 7x11");
    cv::Mat x2 = special_blob({3, 5}, 9);
    expect_formula(x2, run_one_layer(prelu_params(slopes), x2, target), slopes, 1, t + ": PReLU on [N, C]");
    expect_formula(x, run_one_layer(prelu_params({-0.5f}), x, target), {-0.5f}, 1, t + ": PReLU with one slope");
    expect_path(target, leakycl::opencv::get_stats(), t + ": the one-layer networks");
}

cv::UMat with_shape(const cv::UMat &u, const std::vector<int> &shape) {
    return u.reshape(1, static_cast<int>(shape.size()), shape.data());
}

cv::Ptr<cv::dnn::Layer> make_layer(cv::dnn::LayerParams params, int target) {
    cv::Ptr<cv::dnn::Layer> layer = cv::dnn::LayerFactory::createLayerInstance(params.type, params);
    layer->preferableTarget = target;
    return layer;
}

/* The layer called as OpenCV calls it on the CPU target: out of place and in place. */
void test_layer_direct_cpu() {
    leakycl::opencv::register_layers();
    cv::Ptr<cv::dnn::Layer> layer = make_layer(relu_params(0.1f), DNN_TARGET_CPU);
    cv::Mat x = special_blob({1, 4, 33, 31}, 10);
    std::vector<cv::Mat> in = {x.clone()}, out = {cv::Mat(x.dims, x.size.p, CV_32F, cv::Scalar(7.f))}, internals;
    layer->forward(in, out, internals);
    expect_formula(x, out[0], {0.1f}, 1, "cpu: out of place");
    expect(std::memcmp(in[0].data, x.data, x.total() * sizeof(float)) == 0, "cpu: the input untouched");

    // Large enough for leakycl's worker threads, inside a network (whose forward sets FTZ/DAZ).
    cv::Mat big = special_blob({1, 8, 256, 257}, 16);
    expect_formula(big, run_one_layer(relu_params(0.1f), big, DNN_TARGET_CPU), {0.1f}, 1,
                   "cpu: 526336 elements, subnormals kept inside OpenCV's forward");
    std::vector<cv::Mat> inplace = {x.clone()};
    layer->forward(inplace, inplace, internals);
    expect_formula(x, inplace[0], {0.1f}, 1, "cpu: in place");
}


/* --- FP16 ------------------------------------------------------------------------------------------------ */

/* fp32 -> fp16 (round to nearest even, as OpenCV's FP16 target converts) and back (exact). */
cv::Mat to_fp16(const cv::Mat &f32) {
    cv::Mat h;
    cv::convertFp16(f32.reshape(1, 1), h);
    return h;
}
cv::Mat from_fp16(const cv::Mat &f16) {
    cv::Mat f;
    cv::convertFp16(f16.reshape(1, 1), f);
    return f;
}

/* y16 against fp16(leaky(widened x16, alpha)): one multiply in fp32, rounded once; alpha is the
 * PReLU slope as an fp16 tensor holds it, or a ReLU's fp32 negative_slope. */
void expect_formula_fp16(const cv::Mat &x16, const cv::Mat &y16, const std::vector<float> &slopes, size_t inner,
                         const std::string &what) {
    cv::Mat x = from_fp16(x16), slopes16 = from_fp16(to_fp16(cv::Mat(slopes, true)));
    if (slopes.size() == 1)  // a ReLU's negative_slope is a number, kept in fp32 (the compute type)
        slopes16 = cv::Mat(slopes, true).reshape(1, 1);
    cv::Mat want32(x.size(), CV_32F);
    for (size_t i = 0; i < x.total(); ++i)
        want32.ptr<float>()[i] = leaky(x.ptr<float>()[i], slopes16.ptr<float>()[(i / inner) % slopes.size()]);
    cv::Mat want = to_fp16(want32), got = y16.reshape(1, 1), got32 = from_fp16(got);
    for (size_t i = 0; i < x.total(); ++i) {
        const bool ok = want.ptr<int16_t>()[i] == got.ptr<int16_t>()[i] ||
                        (std::isnan(want32.ptr<float>()[i]) && std::isnan(got32.ptr<float>()[i]));
        if (!ok) {
            expect(false, cv::format("%s: element %zu: x = %a: got 0x%04x, want 0x%04x", what.c_str(), i,
                                     x.ptr<float>()[i], static_cast<uint16_t>(got.ptr<int16_t>()[i]),
                                     static_cast<uint16_t>(want.ptr<int16_t>()[i])));
            return;
        }
    }
    expect(true, what);
}

/* FP16 blobs (CV_16S, as OpenCV 4.6 keeps them on DNN_TARGET_OPENCL_FP16) of every 16-bit kind:
 * random bit patterns (subnormals, infinities, NaN) and converted specials. */
void test_fp16_direct(const std::vector<float> &slopes) {
    cv::Mat x16 = to_fp16(special_blob({1, 3 * 5 * 9 * 2}, 14));
    std::mt19937 rng(15);
    for (size_t i = 0; i < x16.total(); i += 2)
        x16.ptr<int16_t>()[i] = static_cast<int16_t>(rng());
    const std::vector<int> shape = {2, 3, 5, 9};
    std::vector<cv::UMat> internals;
    for (bool per_channel : {false, true}) {
        cv::dnn::LayerParams params = per_channel ? prelu_params(slopes) : relu_params(0.1f);
        cv::Ptr<cv::dnn::Layer> layer = make_layer(params, DNN_TARGET_OPENCL_FP16);
        cv::UMat ux = with_shape(x16.getUMat(cv::ACCESS_READ).clone(), shape);
        cv::UMat uy = with_shape(cv::UMat(x16.size(), CV_16S, cv::Scalar(0x7bff)), shape);
        std::vector<cv::UMat> in = {ux}, out = {uy};
        layer->forward(in, out, internals);
        expect_formula_fp16(x16, uy.getMat(cv::ACCESS_READ).clone(), per_channel ? slopes : std::vector<float>{0.1f},
                            per_channel ? 5 * 9 : 1, per_channel ? "opencl fp16: PReLU" : "opencl fp16: ReLU 0.1");
    }
}

/* On the OpenCL target: in place, at offsets inside a larger buffer, and FP16 blobs (CV_16S, as
 * OpenCV 4.6 keeps them for DNN_TARGET_OPENCL_FP16). */
void test_layer_direct_opencl() {
    leakycl::opencv::register_layers();
    std::vector<cv::UMat> internals;
    cv::Ptr<cv::dnn::Layer> relu = make_layer(relu_params(0.1f), DNN_TARGET_OPENCL);

    cv::Mat x = special_blob({1, 1, 1001}, 11).reshape(1, 1);  // one row of 1001
    cv::UMat ux = x.getUMat(cv::ACCESS_READ).clone();
    std::vector<cv::UMat> inplace = {ux};
    relu->forward(inplace, inplace, internals);
    expect_formula(x, inplace[0].getMat(cv::ACCESS_READ).clone(), {0.1f}, 1, "opencl: in place");

    // Rows 3.. of a 10 x 1001 matrix: a blob that starts 3003 elements into its cl_mem.
    cv::Mat big = special_blob({10, 1001}, 12);
    cv::Mat poison(10, 1001, CV_32F, cv::Scalar(-7.f));
    cv::UMat ubig = big.getUMat(cv::ACCESS_READ).clone(), uout = poison.getUMat(cv::ACCESS_READ).clone();
    std::vector<cv::UMat> in = {ubig.rowRange(3, 10)}, out = {uout.rowRange(2, 9)};
    expect(in[0].offset == 3 * 1001 * sizeof(float) && out[0].offset == 2 * 1001 * sizeof(float),
           "opencl: the views have offsets");
    relu->forward(in, out, internals);
    cv::Mat got = uout.getMat(cv::ACCESS_READ).clone();
    expect_formula(big.rowRange(3, 10), got.rowRange(2, 9), {0.1f}, 1, "opencl: at offsets");
    expect(cv::countNonZero(got.rowRange(0, 2) != -7.f) == 0 && cv::countNonZero(got.rowRange(9, 10) != -7.f) == 0,
           "opencl: nothing written outside the output view");

    // PReLU at an offset, out of place.
    const std::vector<float> slopes = {0.5f, -1.f, 2.f};
    cv::Ptr<cv::dnn::Layer> prelu = make_layer(prelu_params(slopes), DNN_TARGET_OPENCL);
    cv::Mat px = special_blob({4, 3 * 77}, 13);
    cv::UMat upx = px.getUMat(cv::ACCESS_READ).clone(), upy(4, 3 * 77, CV_32F, cv::Scalar(5.f));
    std::vector<cv::UMat> pin = {with_shape(upx.rowRange(1, 4), {3, 3, 7, 11})},
                          pout = {with_shape(upy.rowRange(1, 4), {3, 3, 7, 11})};
    prelu->forward(pin, pout, internals);
    expect_formula(px.rowRange(1, 4), upy.getMat(cv::ACCESS_READ).rowRange(1, 4).clone(), slopes, 77,
                   "opencl: PReLU at an offset");

    test_fp16_direct(slopes);
    expect_path(DNN_TARGET_OPENCL, leakycl::opencv::get_stats(), "opencl: the direct layer calls");
}

/* DNN_TARGET_OPENCL_FP16 through a network: on a device with cl_khr_fp16 OpenCV keeps the blobs in
 * fp16 and the layer must give the fp16 formula on the rounded input; without it (PoCL) OpenCV
 * runs the target in fp32, and the layer must give the fp32 formula. */
void test_fp16_network() {
    const bool fp16 = cv::ocl::Device::getDefault().isExtensionSupported("cl_khr_fp16");
    std::printf("DNN_TARGET_OPENCL_FP16: the device %s cl_khr_fp16%s\n", fp16 ? "has" : "lacks",
                fp16 ? "" : ", so OpenCV runs the target in fp32");
    const std::vector<float> slopes = {0.1f, -0.5f, 1.5f};
    cv::Mat x = special_blob({1, 3, 9, 13}, 17);
    for (bool per_channel : {false, true}) {
        const std::vector<float> alphas = per_channel ? slopes : std::vector<float>{0.1f};
        cv::Mat y = run_one_layer(per_channel ? prelu_params(slopes) : relu_params(0.1f), x, DNN_TARGET_OPENCL_FP16);
        const std::string what = std::string("opencl fp16 network: ") + (per_channel ? "PReLU" : "ReLU");
        if (!fp16) {
            expect_formula(x, y, alphas, per_channel ? 9 * 13 : 1, what + " (run in fp32)");
            continue;
        }
        cv::Mat x16 = to_fp16(x), y16 = to_fp16(y);
        expect_formula_fp16(x16, y16, alphas, per_channel ? 9 * 13 : 1, what);
    }
}

/* register_layers("opencl"): the CPU target runs on an OpenCL device through leakycl's host-array
 * path (zero-copy on PoCL), still on the Mat's memory and still the formula. */
void test_cpu_device_opencl() {
    leakycl::opencv::register_layers("opencl");
    cv::Mat x = special_blob({2, 3, 31, 33}, 18);
    expect_formula(x, run_one_layer(relu_params(0.1f), x, DNN_TARGET_CPU), {0.1f}, 1, "cpu_device opencl: ReLU");
    const std::vector<float> slopes = {0.25f, 0.f, -2.f};
    expect_formula(x, run_one_layer(prelu_params(slopes), x, DNN_TARGET_CPU), slopes, 31 * 33,
                   "cpu_device opencl: PReLU");
    expect_path(DNN_TARGET_CPU, leakycl::opencv::get_stats(), "cpu_device opencl: the CPU target's calls");
    leakycl::opencv::register_layers();
}

/* --- whole networks ----------------------------------------------------------------------------------- */

struct model {
    std::string name;
    std::function<cv::dnn::Net()> read;
    std::vector<int> input_shape;
    std::map<std::string, float> slopes;  // the ReLU layers' negative_slope (every other: default_slope)
    float default_slope;
};

model darknet_model() {
    return {"darknet", [] { return models::read_darknet(darknet_cfg, 1); }, {1, 3, darknet_size, darknet_size}, {},
            0.1f};
}

model onnx_model_spec() {
    return {"onnx",
            [] { return models::read_onnx(onnx_model); },
            {1, 3, 64, 64},
            {{"onnx_node!leaky1", 0.1f}, {"onnx_node!leaky3", 1.5f}, {"onnx_node!relu4", 0.f}, {"onnx_node!leaky5", 0.01f}},
            0.1f};
}

/* Every leaky layer's output against the formula on its input, both taken from the network. */
void expect_layers_exact(cv::dnn::Net &net, const model &m, const cv::Mat &input, int target) {
    std::vector<std::string> wanted;
    const std::vector<std::string> leaky = models::leaky_layers(net);
    for (const std::string &name : leaky) {
        wanted.push_back(net.getLayerInputs(net.getLayerId(name)).at(0)->name);
        wanted.push_back(name);
    }
    std::vector<cv::Mat> blobs = models::forward(net, input, target, true, wanted);
    for (size_t i = 0; i < leaky.size(); ++i) {
        cv::Ptr<cv::dnn::Layer> layer = net.getLayer(net.getLayerId(leaky[i]));
        const cv::Mat &x = blobs[2 * i], &y = blobs[2 * i + 1];
        std::vector<float> slopes;
        size_t inner = 1;
        if (layer->type == "PReLU") {
            layer->blobs.at(0).reshape(1, 1).copyTo(slopes);
            inner = static_cast<size_t>(cv::dnn::total(cv::dnn::shape(x), 2));
        } else {
            auto found = m.slopes.find(leaky[i]);
            slopes = {found == m.slopes.end() ? m.default_slope : found->second};
        }
        expect_formula(x, y, slopes, inner,
                       m.name + " on " + target_name(target) + ": layer " + leaky[i] + " equals the formula");
    }
}

/* The network with leakycl's layers against OpenCV's own, on the CPU and the OpenCL target: outputs
 * within what OpenCV's own CPU and OpenCL outputs differ by, each leaky layer exactly the formula,
 * every leaky call on the target's path. */
void test_model(const model &m) {
    if (!need_opencl())
        return;
    const cv::Mat input = models::random_blob(m.input_shape, 42);
    const int targets[] = {DNN_TARGET_CPU, DNN_TARGET_OPENCL};
    leakycl::opencv::unregister_layers();
    std::map<int, std::vector<cv::Mat>> own;
    for (int target : targets) {
        cv::dnn::Net net = m.read();
        own[target] = models::forward(net, input, target, true);
    }
    for (int target : targets) {
        leakycl::opencv::register_layers();  // resets the counters
        cv::dnn::Net net = m.read();
        const size_t leaky = models::leaky_layers(net).size();
        std::vector<cv::Mat> ours = models::forward(net, input, target, true);
        const leakycl::opencv::stats s = leakycl::opencv::get_stats();
        const std::string what = m.name + " on " + target_name(target);
        expect(target == DNN_TARGET_CPU ? s.cpu_calls == leaky && s.opencl_calls == 0
                                        : s.opencl_calls == leaky && s.cpu_calls == 0,
               cv::format("%s: each of the %zu leaky layers ran once on the target's path (cpu %zu, opencl %zu)",
                          what.c_str(), leaky, s.cpu_calls, s.opencl_calls));
        expect(leaky > 0 && ours.size() == own[target].size(), what + ": leaky layers and outputs");
        for (size_t k = 0; k < ours.size() && k < own[target].size(); ++k) {
            const double spread = models::max_abs_diff(own[DNN_TARGET_CPU][k], own[DNN_TARGET_OPENCL][k]);
            const double tol = std::max(spread, 1e-6 * models::max_abs(own[target][k]));
            const double diff = models::max_abs_diff(ours[k], own[target][k]);
            std::printf("%s: output %zu: leakycl vs OpenCV's layers %.3g (OpenCV's CPU vs OpenCL: %.3g)\n",
                        what.c_str(), k, diff, spread);
            expect(diff <= tol, cv::format("%s: output %zu differs from OpenCV's by %g > %g", what.c_str(), k, diff, tol));
        }
        expect_layers_exact(net, m, input, target);
    }
    leakycl::opencv::unregister_layers();
}

/* --- two networks at once ------------------------------------------------------------------------------- */

bool identical(const std::vector<cv::Mat> &a, const std::vector<cv::Mat> &b) {
    if (a.size() != b.size())
        return false;
    for (size_t k = 0; k < a.size(); ++k)
        if (models::max_abs_diff(a[k], b[k]) != 0)
            return false;
    return true;
}

void test_concurrent(int target) {
    leakycl::opencv::register_layers();
    const model d = darknet_model(), o = onnx_model_spec();
    const cv::Mat din = models::random_blob(d.input_shape, 3), oin = models::random_blob(o.input_shape, 4);
    cv::dnn::Net a = d.read(), b = o.read();
    const std::vector<cv::Mat> ref_a = models::forward(a, din, target, true), ref_b = models::forward(b, oin, target, true);
    const std::string t = target_name(target);
    bool same_interleaved = true;
    for (int i = 0; i < 2; ++i) {
        same_interleaved &= identical(models::forward(a, din, target, true), ref_a);
        same_interleaved &= identical(models::forward(b, oin, target, true), ref_b);
    }
    expect(same_interleaved, t + ": two networks alive, interleaved: the outputs of each alone");

    cv::dnn::Net a2 = d.read(), b2 = o.read();
    bool same_a = true, same_b = true;
    std::string error;
    auto run = [&](cv::dnn::Net &net, const cv::Mat &in, const std::vector<cv::Mat> &ref, bool &same_out) {
        try {
            for (int i = 0; i < 3; ++i)
                same_out &= identical(models::forward(net, in, target, true), ref);
        } catch (const std::exception &e) {
            same_out = false;
            error = e.what();
        }
    };
    std::thread ta(run, std::ref(a2), std::cref(din), std::cref(ref_a), std::ref(same_a));
    std::thread tb(run, std::ref(b2), std::cref(oin), std::cref(ref_b), std::ref(same_b));
    ta.join();
    tb.join();
    expect(same_a && same_b, t + ": two networks in two threads: the outputs of each alone " + error);
    expect_path(target, leakycl::opencv::get_stats(), t + ": two networks");
}

/* --- empty blobs and failures ---------------------------------------------------------------------------- */

void test_empty(int target) {
    leakycl::opencv::register_layers();
    const std::vector<int> shape = {0, 3, 4, 4};
    for (bool per_channel : {false, true}) {
        cv::Ptr<cv::dnn::Layer> layer = make_layer(per_channel ? prelu_params({0.1f, 0.2f, 0.3f}) : relu_params(0.1f), target);
        const std::string what = cv::format("%s: %s on a blob of 0 elements", target_name(target), per_channel ? "PReLU" : "ReLU");
        try {
            if (target == DNN_TARGET_CPU) {
                std::vector<cv::Mat> in = {cv::Mat(shape, CV_32F)}, out = {cv::Mat(shape, CV_32F)}, internals;
                layer->forward(in, out, internals);
            } else {
                const int dims = static_cast<int>(shape.size());
                std::vector<cv::UMat> in = {cv::UMat(dims, shape.data(), CV_32F)},
                                      out = {cv::UMat(dims, shape.data(), CV_32F)}, internals;
                layer->forward(in, out, internals);
            }
            expect(true, what);
        } catch (const std::exception &e) {
            expect(false, what + ": " + e.what());
        }
    }
    expect_path(target, leakycl::opencv::get_stats(), std::string(target_name(target)) + ": empty blobs");
}

/* A ReLU whose slope leakycl rejects: a cv::Exception with leakycl's message, the output unwritten,
 * the call not counted. */
void test_rejected_slope(int target) {
    leakycl::opencv::register_layers();
    const std::string t = target_name(target);
    cv::Mat x = special_blob({1, 2, 5, 7}, 20);
    for (float slope : {NAN, INFINITY}) {
        expect_throw([&] { run_one_layer(relu_params(slope), x, target); }, "alpha must be finite",
                     cv::format("%s: negative_slope %g in a network", t.c_str(), slope));
        cv::Ptr<cv::dnn::Layer> layer = make_layer(relu_params(slope), target);
        const cv::Mat poison(x.dims, x.size.p, CV_32F, cv::Scalar(-3.f));
        cv::Mat after;
        if (target == DNN_TARGET_CPU) {
            std::vector<cv::Mat> in = {x}, out = {poison.clone()}, internals;
            expect_throw([&] { layer->forward(in, out, internals); }, "leakycl: lcl_forward_host failed",
                         t + ": the layer called directly");
            after = out[0];
        } else {
            std::vector<cv::UMat> in = {x.getUMat(cv::ACCESS_READ).clone()}, out = {poison.getUMat(cv::ACCESS_READ).clone()},
                                  internals;
            expect_throw([&] { layer->forward(in, out, internals); }, "leakycl: lcl_forward failed",
                         t + ": the layer called directly");
            after = out[0].getMat(cv::ACCESS_READ).clone();
        }
        expect(cv::countNonZero(after.reshape(1, 1) != -3.f) == 0, t + ": a rejected call leaves the output as it was");
    }
    const leakycl::opencv::stats s = leakycl::opencv::get_stats();
    expect(s.cpu_calls == 0 && s.opencl_calls == 0, t + ": rejected calls are not counted");
}

void test_errors(int target) {
    if (target != DNN_TARGET_CPU && !need_opencl())
        return;
    test_empty(target);
    test_rejected_slope(target);
    leakycl::opencv::register_layers();
    expect_throw([] { make_layer(prelu_params({0.1f, NAN}), DNN_TARGET_CPU); }, "NaN or infinite slope",
                 "PReLU with a NaN slope is refused when built");
    if (target == DNN_TARGET_CPU) {
        // A CPU device that does not exist: leakycl's lcl_context_create fails on first use.
        leakycl::opencv::register_layers("opencl:99:99");
        cv::Mat x = special_blob({1, 2, 3, 3}, 21);
        expect_throw([&] { run_one_layer(relu_params(0.1f), x, DNN_TARGET_CPU); }, "lcl_context_create",
                     "a cpu_device that names no device");
        leakycl::opencv::register_layers();
        expect_formula(x, run_one_layer(relu_params(0.1f), x, DNN_TARGET_CPU), {0.1f}, 1,
                       "registering again with the CPU backend mends it");
    }
}

/* Run with LEAKYCL_KERNEL_DIR at a folder without kernels: leakycl cannot build its programs, and
 * the OpenCL layer says so through cv::Exception, while the CPU path is unaffected. */
void test_broken_kernels() {
    if (!need_opencl())
        return;
    const char *dir = std::getenv("LEAKYCL_KERNEL_DIR");
    expect(dir && *dir, "LEAKYCL_KERNEL_DIR is set for this test");
    leakycl::opencv::register_layers();
    cv::Mat x = special_blob({1, 3, 8, 8}, 22);
    expect_throw([&] { run_one_layer(relu_params(0.1f), x, DNN_TARGET_OPENCL); }, "LEAKYCL_KERNEL_DIR",
                 "opencl with broken kernels: the build failure");
    expect_formula(x, run_one_layer(relu_params(0.1f), x, DNN_TARGET_CPU), {0.1f}, 1,
                   "cpu with broken kernels still runs");
}

}  // namespace

int main(int argc, char **argv) {
    const std::map<std::string, std::function<void()>> groups = {
        {"factory", test_factory},
        {"layer-cpu", [] { test_layer_networks(DNN_TARGET_CPU); test_layer_direct_cpu(); }},
        {"layer-opencl",
         [] {
             if (!need_opencl())
                 return;
             test_layer_networks(DNN_TARGET_OPENCL);
             test_layer_direct_opencl();
             test_fp16_network();
             test_cpu_device_opencl();
         }},
        {"darknet", [] { test_model(darknet_model()); }},
        {"onnx", [] { test_model(onnx_model_spec()); }},
        {"concurrent", [] { test_concurrent(DNN_TARGET_CPU); if (need_opencl()) test_concurrent(DNN_TARGET_OPENCL); }},
        {"errors", [] { test_errors(DNN_TARGET_CPU); test_errors(DNN_TARGET_OPENCL); }},
        {"broken-kernels", test_broken_kernels},
    };
    auto group = argc == 2 ? groups.find(argv[1]) : groups.end();
    if (group == groups.end()) {
        std::fprintf(stderr, "usage: %s GROUP, one of:", argv[0]);
        for (const auto &g : groups)
            std::fprintf(stderr, " %s", g.first.c_str());
        std::fprintf(stderr, "\n");
        return 2;
    }
    try {
        group->second();
    } catch (const std::exception &e) {
        expect(false, std::string("unexpected exception: ") + e.what());
    }
    leakycl::opencv::unregister_layers();
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
