#include "models.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>

namespace models {

std::string read_text(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

namespace {

/* One [section] of a Darknet .cfg with its key=value lines. */
struct section {
    std::string type;
    std::map<std::string, std::string> values;

    int get(const std::string &key, int fallback) const {
        auto found = values.find(key);
        return found == values.end() ? fallback : std::stoi(found->second);
    }
};

std::string trim(const std::string &s) {
    const char *space = " \t\r\n";
    size_t begin = s.find_first_not_of(space);
    if (begin == std::string::npos)
        return "";
    return s.substr(begin, s.find_last_not_of(space) - begin + 1);
}

std::vector<section> parse_cfg(const std::string &text) {
    std::vector<section> sections;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        line = trim(line);
        if (line.empty() || line[0] == '#' || line[0] == ';')
            continue;
        if (line[0] == '[') {
            sections.push_back(section{line.substr(1, line.find(']') - 1), {}});
        } else if (!sections.empty() && line.find('=') != std::string::npos) {
            size_t eq = line.find('=');
            sections.back().values[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
        }
    }
    if (sections.empty() || sections[0].type != "net")
        throw std::runtime_error("a Darknet cfg starts with [net]");
    return sections;
}

/* The channels each layer puts out, following Darknet's rules for the layers the cfg uses. */
int output_channels(const section &s, size_t index, const std::vector<int> &outs, int in) {
    if (s.type == "convolutional")
        return s.get("filters", 1);
    if (s.type != "route")
        return in;  // maxpool, upsample, yolo, shortcut keep the channels
    int sum = 0;
    std::istringstream refs(s.values.at("layers"));
    std::string ref;
    while (std::getline(refs, ref, ',')) {
        int r = std::stoi(trim(ref));
        sum += outs.at(static_cast<size_t>(r < 0 ? static_cast<int>(index) + r : r));
    }
    return sum;
}

template <typename T> void append(std::vector<uchar> &out, const T *values, size_t count) {
    const uchar *bytes = reinterpret_cast<const uchar *>(values);
    out.insert(out.end(), bytes, bytes + count * sizeof(T));
}

void append_uniform(std::vector<uchar> &out, std::mt19937 &rng, size_t count, float lo, float hi) {
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(count);
    for (float &x : v)
        x = dist(rng);
    append(out, v.data(), count);
}

}  // namespace

std::vector<uchar> darknet_weights(const std::string &cfg_text, uint32_t seed) {
    std::vector<section> sections = parse_cfg(cfg_text);
    std::vector<uchar> out;
    const int32_t version[3] = {0, 2, 0};
    const uint64_t seen = 0;
    append(out, version, 3);
    append(out, &seen, 1);
    std::mt19937 rng(seed);
    std::vector<int> outs;
    int channels = sections[0].get("channels", 3);
    for (size_t i = 1; i < sections.size(); ++i) {
        const section &s = sections[i];
        if (s.type == "convolutional") {
            const size_t filters = static_cast<size_t>(s.get("filters", 1)), size = static_cast<size_t>(s.get("size", 1));
            const size_t fan_in = static_cast<size_t>(channels) * size * size;
            const bool bn = s.get("batch_normalize", 0) != 0;
            append_uniform(out, rng, filters, -0.2f, 0.2f);  // biases (batch norm's beta)
            if (bn) {
                append_uniform(out, rng, filters, 0.5f, 1.5f);   // scales
                append_uniform(out, rng, filters, -0.1f, 0.1f);  // rolling means
                append_uniform(out, rng, filters, 0.5f, 1.5f);   // rolling variances
            }
            std::normal_distribution<float> he(0.f, std::sqrt(2.f / static_cast<float>(fan_in)));
            std::vector<float> w(filters * fan_in);
            for (float &x : w)
                x = he(rng);
            append(out, w.data(), w.size());
        }
        channels = output_channels(s, i - 1, outs, channels);
        outs.push_back(channels);
    }
    return out;
}

cv::dnn::Net read_darknet(const std::string &cfg_path, uint32_t seed) {
    std::string cfg = read_text(cfg_path);
    std::vector<uchar> cfg_bytes(cfg.begin(), cfg.end());
    return cv::dnn::readNetFromDarknet(cfg_bytes, darknet_weights(cfg, seed));
}

cv::dnn::Net read_onnx(const std::string &path) { return cv::dnn::readNetFromONNX(path); }

cv::Mat random_blob(const std::vector<int> &shape, uint32_t seed) {
    cv::Mat blob(static_cast<int>(shape.size()), shape.data(), CV_32F);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    for (size_t i = 0; i < blob.total(); ++i)
        blob.ptr<float>()[i] = dist(rng);
    return blob;
}

std::vector<std::string> leaky_layers(cv::dnn::Net &net) {
    std::vector<std::string> names;
    for (const std::string &name : net.getLayerNames()) {
        const std::string &type = net.getLayer(net.getLayerId(name))->type;
        if (type == "ReLU" || type == "PReLU")
            names.push_back(name);
    }
    return names;
}

std::vector<cv::Mat> forward(cv::dnn::Net &net, const cv::Mat &input, int target, bool fusion,
                             const std::vector<std::string> &outputs) {
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(target);
    net.enableFusion(fusion);
    net.setInput(input);
    std::vector<cv::Mat> blobs;
    net.forward(blobs, outputs.empty() ? net.getUnconnectedOutLayersNames() : outputs);
    for (cv::Mat &b : blobs)
        b = b.clone();  // the net reuses its memory on the next forward
    return blobs;
}

double max_abs_diff(const cv::Mat &a, const cv::Mat &b) {
    if (a.total() != b.total() || a.type() != CV_32F || b.type() != CV_32F)
        return INFINITY;
    const float *x = a.ptr<float>(), *y = b.ptr<float>();
    double worst = 0;
    for (size_t i = 0; i < a.total(); ++i) {
        if (std::isnan(x[i]) || std::isnan(y[i])) {
            if (std::isnan(x[i]) != std::isnan(y[i]))
                return INFINITY;
            continue;
        }
        double d = std::fabs(static_cast<double>(x[i]) - y[i]);
        if (std::isnan(d))  // inf against inf of the same sign is 0, else inf
            d = INFINITY;
        worst = std::max(worst, x[i] == y[i] ? 0.0 : d);
    }
    return worst;
}

double max_abs(const cv::Mat &a) {
    double worst = 0;
    for (size_t i = 0; i < a.total(); ++i)
        if (std::isfinite(a.ptr<float>()[i]))
            worst = std::max(worst, std::fabs(static_cast<double>(a.ptr<float>()[i])));
    return worst;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

timing measure(cv::dnn::Net &net, const cv::Mat &input, int target, bool fusion, int runs) {
    timing t;
    t.outputs = models::forward(net, input, target, fusion);  // warm-up: allocation, kernel builds
    const std::vector<std::string> names = net.getLayerNames();
    std::vector<double> totals;
    std::map<std::string, std::vector<double>> layers;
    for (int r = 0; r < runs; ++r) {
        cv::TickMeter tm;
        tm.start();
        models::forward(net, input, target, fusion);
        tm.stop();
        totals.push_back(tm.getTimeMilli());
        std::vector<double> ticks;
        net.getPerfProfile(ticks);  // one entry per layer after the input, in getLayerNames() order
        for (size_t i = 0; i < ticks.size() && i < names.size(); ++i)
            layers[names[i]].push_back(ticks[i] * 1000.0 / cv::getTickFrequency());
    }
    t.total_ms = median(totals);
    for (auto &entry : layers)
        t.layer_ms[entry.first] = median(entry.second);
    return t;
}

}  // namespace models
