/* The two networks of examples/opencv (a Darknet detector in the layout of YOLOv3-tiny, with
 * weights made from a seed, and a small ONNX network) and what the example, the benchmark and
 * the tests do with them: random inputs, runs through cv::dnn, output comparisons. */
#ifndef LEAKYCL_EXAMPLES_OPENCV_MODELS_HPP
#define LEAKYCL_EXAMPLES_OPENCV_MODELS_HPP

#include <opencv2/dnn.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace models {

/* The whole text of a file; throws std::runtime_error when it cannot be read. */
std::string read_text(const std::string &path);

/* Darknet weights for every convolution of @p cfg_text (biases, batch-norm scales, means and
 * variances, then He-initialised kernels), drawn from @p seed, in Darknet's .weights layout. */
std::vector<uchar> darknet_weights(const std::string &cfg_text, uint32_t seed);

/* The Darknet network of @p cfg_path with darknet_weights(seed); and the ONNX one of @p path. */
cv::dnn::Net read_darknet(const std::string &cfg_path, uint32_t seed);
cv::dnn::Net read_onnx(const std::string &path);

/* A float blob of @p shape drawn uniformly from [-1, 1) (both signs, never all zero). */
cv::Mat random_blob(const std::vector<int> &shape, uint32_t seed);

/* The names of the network's leaky layers (type ReLU or PReLU), in order. */
std::vector<std::string> leaky_layers(cv::dnn::Net &net);

/* One forward of @p net on @p input, on DNN_BACKEND_OPENCV and @p target, returning the blobs
 * named in @p outputs (the unconnected outputs when empty). */
std::vector<cv::Mat> forward(cv::dnn::Net &net, const cv::Mat &input, int target, bool fusion,
                             const std::vector<std::string> &outputs = {});

/* The largest |a - b| over two blobs of one shape; NaN against NaN counts as equal, NaN against a
 * number as infinitely far. */
double max_abs_diff(const cv::Mat &a, const cv::Mat &b);

/* The largest |x| (a scale for tolerances). */
double max_abs(const cv::Mat &a);

/* The median of a non-empty list. */
double median(std::vector<double> v);

/* The medians over @p runs forwards after a warm-up one: the whole network (wall clock, outputs
 * on the host) and each layer (Net::getPerfProfile, by name); and the warm-up's outputs. */
struct timing {
    std::vector<cv::Mat> outputs;
    double total_ms = 0;
    std::map<std::string, double> layer_ms;
};
timing measure(cv::dnn::Net &net, const cv::Mat &input, int target, bool fusion, int runs);

}  // namespace models

#endif
