#pragma once

#include <nanobind/nanobind.h>

namespace nb = nanobind;

namespace lclpy {

void bind_devices(nb::module_ &m);

} // namespace lclpy
