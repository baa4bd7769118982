// leakycl.devices(): the CPU backend and every OpenCL device, with the spec that picks it
// ("opencl:P:D" in the platform and device order of clGetPlatformIDs / clGetDeviceIDs, as
// `leakycl devices` lists them).
#include "devices.hpp"

#include <CL/cl.h>
#include <leakycl.h>

#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <string>
#include <tuple>
#include <vector>

namespace lclpy {

namespace {

// A string property through clGet*Info(object, param, size, value, &size_ret); "" on failure.
template <class Object, class Param, class Getter> std::string info_text(Getter get, Object object, Param param) {
    size_t size = 0;
    if (get(object, param, 0, nullptr, &size) != CL_SUCCESS || size == 0)
        return "";
    std::string text(size, '\0');
    if (get(object, param, size, text.data(), nullptr) != CL_SUCCESS)
        return "";
    text.resize(text.find('\0') == std::string::npos ? size : text.find('\0'));
    return text;
}

const char *type_name(cl_device_type type) {
    if (type & CL_DEVICE_TYPE_GPU)
        return "gpu";
    if (type & CL_DEVICE_TYPE_CPU)
        return "cpu";
    if (type & CL_DEVICE_TYPE_ACCELERATOR)
        return "accelerator";
    return "other";
}

using Row = std::tuple<std::string, std::string, std::string, std::string>; // spec, name, type, platform

void add_platform(std::vector<Row> &rows, cl_platform_id platform, unsigned p) {
    cl_uint count = 0;
    if (clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, nullptr, &count) != CL_SUCCESS || count == 0)
        return;
    std::vector<cl_device_id> devices(count);
    if (clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, count, devices.data(), nullptr) != CL_SUCCESS)
        return;
    std::string pname = info_text(clGetPlatformInfo, platform, CL_PLATFORM_NAME);
    for (cl_uint d = 0; d < count; ++d) {
        cl_device_type type = 0;
        clGetDeviceInfo(devices[d], CL_DEVICE_TYPE, sizeof type, &type, nullptr);
        rows.emplace_back("opencl:" + std::to_string(p) + ":" + std::to_string(d),
                          info_text(clGetDeviceInfo, devices[d], CL_DEVICE_NAME), type_name(type), pname);
    }
}

std::vector<Row> list_devices() {
    std::vector<Row> rows;
    rows.emplace_back("cpu", "CPU backend", "cpu", "leakycl");
    nb::gil_scoped_release unlocked; // an ICD may take a while to load
    cl_uint count = 0;
    if (clGetPlatformIDs(0, nullptr, &count) != CL_SUCCESS || count == 0)
        return rows;
    std::vector<cl_platform_id> platforms(count);
    if (clGetPlatformIDs(count, platforms.data(), nullptr) != CL_SUCCESS)
        return rows;
    for (cl_uint p = 0; p < count; ++p)
        add_platform(rows, platforms[p], p);
    return rows;
}

} // namespace

void bind_devices(nb::module_ &m) { m.def("list_devices", &list_devices); }

} // namespace lclpy
