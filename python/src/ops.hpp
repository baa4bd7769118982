// The leakycl ops on Python operands (see operand.hpp for the forms they take).
#pragma once

#include <nanobind/nanobind.h>

namespace nb = nanobind;

namespace lclpy {

void bind_ops(nb::module_ &m);

} // namespace lclpy
