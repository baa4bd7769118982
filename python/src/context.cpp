#include "context.hpp"

#include "errors.hpp"

#include <nanobind/nanobind.h>

namespace nb = nanobind;

namespace lclpy {

Context::Context(lcl_context *ctx) : ref_(std::make_shared<ContextHandle>(ctx)) {}

lcl_context *Context::create(const char *spec) {
    lcl_context *ctx = nullptr;
    Outcome outcome;
    {
        nb::gil_scoped_release unlocked; // device discovery and queue creation can take a while
        outcome.record(lcl_context_create(spec, &ctx));
    }
    outcome.throw_if_failed();
    return ctx;
}

lcl_context *Context::wrap_queue(uintptr_t queue) {
    lcl_context *ctx = nullptr;
    check(lcl_context_wrap_cl(reinterpret_cast<cl_command_queue>(queue), &ctx));
    return ctx;
}

ContextRef Context::acquire() const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!ref_)
        invalid("the leakycl context is closed");
    return ref_;
}

void Context::close() {
    ContextRef last;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        last.swap(ref_);
    }
    // Dropped here without the GIL: when this was the last reference, lcl_context_release waits
    // for the device.
    nb::gil_scoped_release unlocked;
    last.reset();
}

bool Context::closed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return !ref_;
}

std::string Context::device_name() const { return lcl_context_device_name(acquire()->get()); }

std::string Context::backend() const { return acquire()->is_opencl() ? "opencl" : "cpu"; }

bool Context::supports(int dtype) const {
    return lcl_context_supports(acquire()->get(), static_cast<lcl_dtype>(dtype)) != 0;
}

uintptr_t Context::cl_queue() const { return reinterpret_cast<uintptr_t>(lcl_context_cl_queue(acquire()->get())); }

void Context::finish() const {
    ContextRef ref = acquire();
    Outcome outcome;
    {
        nb::gil_scoped_release unlocked;
        outcome.record(lcl_finish(ref->get()));
    }
    outcome.throw_if_failed();
}

} // namespace lclpy
