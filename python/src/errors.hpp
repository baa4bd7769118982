// leakycl statuses as C++ exceptions, turned into the Python hierarchy (leakycl._errors) by a
// translator registered in module.cpp.
#pragma once

#include <leakycl.h>

#include <exception>
#include <string>

namespace lclpy {

// A failed call: its status and message (lcl_last_error() or our own text).
class Error : public std::exception {
  public:
    Error(lcl_status status, std::string message) : status_(status), message_(std::move(message)) {}
    const char *what() const noexcept override { return message_.c_str(); }
    lcl_status status() const noexcept { return status_; }

  private:
    lcl_status status_;
    std::string message_;
};

// Throws for a failed status with lcl_last_error(); call it on the thread that made the call.
void check(lcl_status status);
// Throws an Error carrying a status that was read, with its message, earlier.
[[noreturn]] void raise(lcl_status status, const std::string &message);
// A Python-level argument error (InvalidArgument, also a ValueError).
[[noreturn]] void invalid(const std::string &message);

// The status of a call made without the GIL and its message, read on the same thread at once.
struct Outcome {
    lcl_status status = LCL_SUCCESS;
    std::string message;
    bool ok() const { return status == LCL_SUCCESS; }
    // Records a failure (the first one wins) and says whether the call succeeded.
    bool record(lcl_status st);
    void throw_if_failed() const;
};

// Registers the translator to the Python classes that leakycl/_errors.py defines.
void register_error_translator();

} // namespace lclpy
