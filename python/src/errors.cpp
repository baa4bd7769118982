#include "errors.hpp"

#include <nanobind/nanobind.h>

namespace nb = nanobind;

namespace lclpy {

void check(lcl_status status) {
    if (status != LCL_SUCCESS)
        raise(status, lcl_last_error());
}

void raise(lcl_status status, const std::string &message) {
    std::string text = message.empty() ? std::string(lcl_status_string(status)) : message;
    throw Error(status, text);
}

void invalid(const std::string &message) { throw Error(LCL_ERROR_INVALID_ARGUMENT, message); }

bool Outcome::record(lcl_status st) {
    if (st != LCL_SUCCESS && status == LCL_SUCCESS) {
        status = st;
        message = lcl_last_error();
    }
    return st == LCL_SUCCESS;
}

void Outcome::throw_if_failed() const {
    if (!ok())
        raise(status, message);
}

// leakycl._errors.class_for_status(int) names the class; looked up per failure (rare), so the
// module needs no global Python references that outlive the interpreter.
static void translate(const std::exception_ptr &p, void *) {
    try {
        std::rethrow_exception(p);
    } catch (const Error &e) {
        nb::object errors = nb::module_::import_("leakycl._errors");
        nb::object cls = errors.attr("class_for_status")(static_cast<int>(e.status()));
        nb::object exc = cls(e.what(), static_cast<int>(e.status()));
        PyErr_SetObject(cls.ptr(), exc.ptr());
    }
}

void register_error_translator() { nb::register_exception_translator(translate); }

} // namespace lclpy
