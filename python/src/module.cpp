// leakycl._core: the C library's contexts and ops for leakycl's Python layer. Not a public API:
// leakycl/__init__.py and its modules check and shape the arguments, this module runs them.
#include "context.hpp"
#include "devices.hpp"
#include "errors.hpp"
#include "ops.hpp"

#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <optional>
#include <string>

namespace nb = nanobind;
using namespace nb::literals;

namespace {

void bind_context(nb::module_ &m) {
    using lclpy::Context;
    nb::class_<Context>(m, "Context")
        .def(
            "__init__",
            [](Context *self, std::optional<std::string> spec) {
                new (self) Context(Context::create(spec ? spec->c_str() : nullptr));
            },
            "device"_a.none() = nb::none())
        .def_static(
            "wrap_queue", [](uintptr_t queue) { return new Context(Context::wrap_queue(queue)); }, "queue"_a,
            nb::rv_policy::take_ownership)
        .def("close", &Context::close)
        .def_prop_ro("closed", &Context::closed)
        .def_prop_ro("device_name", &Context::device_name)
        .def_prop_ro("backend", &Context::backend)
        .def("supports", &Context::supports, "dtype"_a)
        .def_prop_ro("cl_queue", &Context::cl_queue)
        .def("finish", &Context::finish);
}

} // namespace

NB_MODULE(_core, m) {
    lclpy::register_error_translator();
    bind_context(m);
    lclpy::bind_ops(m);
    lclpy::bind_devices(m);
    m.attr("F32") = static_cast<int>(LCL_F32);
    m.attr("F16") = static_cast<int>(LCL_F16);
    m.attr("BF16") = static_cast<int>(LCL_BF16);
    m.attr("F64") = static_cast<int>(LCL_F64);
    m.attr("MASK") = static_cast<int>(LCL_MASK);
}
