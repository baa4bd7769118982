// A Python-owned leakycl context. Calls in flight hold a shared reference to the lcl_context,
// so closing a context (or dropping it) while another thread works on it releases the C
// context only once that work has returned.
#pragma once

#include <leakycl.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace lclpy {

// Owns one lcl_context; lcl_context_release waits for its enqueued work.
class ContextHandle {
  public:
    explicit ContextHandle(lcl_context *ctx) : ctx_(ctx) {}
    ~ContextHandle() { lcl_context_release(ctx_); }
    ContextHandle(const ContextHandle &) = delete;
    ContextHandle &operator=(const ContextHandle &) = delete;
    lcl_context *get() const { return ctx_; }
    bool is_opencl() const { return lcl_context_backend(ctx_) == LCL_BACKEND_OPENCL; }

  private:
    lcl_context *ctx_;
};

using ContextRef = std::shared_ptr<ContextHandle>;

class Context {
  public:
    // Takes ownership of a context from one of the two functions below.
    explicit Context(lcl_context *ctx);
    // lcl_context_create(spec); NULL means $LEAKYCL_DEVICE, else "auto".
    static lcl_context *create(const char *spec);
    // lcl_context_wrap_cl on the app's queue (a cl_command_queue given as an integer).
    static lcl_context *wrap_queue(uintptr_t queue);

    // The live context for one call; throws InvalidArgument once the context is closed.
    ContextRef acquire() const;
    // Releases the context once calls in flight have returned; later calls are refused.
    void close();
    bool closed() const;

    std::string device_name() const;
    std::string backend() const;
    bool supports(int dtype) const;
    uintptr_t cl_queue() const;
    void finish() const;

  private:
    mutable std::mutex mutex_;
    ContextRef ref_;
};

} // namespace lclpy
