// The array arguments of one call, as leakycl tensors.
//
// Python hands each array over in one of four forms (leakycl/_arrays.py makes them):
//   - an object with the buffer protocol (a C-contiguous numpy array, or the uint16 view of a
//     bfloat16 one): read through the protocol, never converted, so nothing is ever written
//     into a hidden temporary; an output must be writable;
//   - an int: the data pointer of a C-contiguous CPU torch tensor that Python checked;
//   - a tuple (cl_mem as an int, offset in elements): a pyopencl array's buffer;
//   - None: an optional argument left out.
// How the arrays become tensors depends on the context: host memory is wrapped in place on the
// CPU backend (lcl_tensor_wrap_host) and staged through one device tensor per distinct range
// on an OpenCL device (written once before the op, read once after it); pyopencl buffers are
// wrapped in place (lcl_tensor_wrap_cl) on the OpenCL context of their queue.
#pragma once

#include "context.hpp"

#include <nanobind/nanobind.h>

#include <leakycl.h>

#include <cstddef>
#include <memory>
#include <vector>

namespace nb = nanobind;

namespace lclpy {

enum class Role { input, output };

class Operand {
  public:
    enum class Kind { none, host, cl };

    Operand(nb::handle obj, lcl_dtype dtype, size_t n, Role role, const char *name);
    ~Operand();
    Operand(const Operand &) = delete;
    Operand &operator=(const Operand &) = delete;

    Kind kind() const { return kind_; }
    void *host() const { return host_; }
    cl_mem mem() const { return mem_; }
    size_t offset() const { return offset_; }
    lcl_dtype dtype() const { return dtype_; }
    size_t size() const { return n_; }
    size_t bytes() const { return lcl_bytes(dtype_, n_); }
    Role role() const { return role_; }
    const char *name() const { return name_; }

    static size_t lcl_bytes(lcl_dtype dtype, size_t n);

  private:
    void from_buffer(nb::handle obj);
    void from_cl(nb::handle obj);

    Kind kind_ = Kind::none;
    void *host_ = nullptr;
    cl_mem mem_ = nullptr;
    size_t offset_ = 0;
    lcl_dtype dtype_;
    size_t n_;
    Role role_;
    const char *name_;
    Py_buffer view_{};
    bool has_view_ = false;
};

// Every operand of one call bound to a tensor. Construct with the GIL held (it only checks);
// bind() and finish() run without it.
class Tensors {
  public:
    Tensors(const ContextRef &ctx, std::vector<const Operand *> operands);
    ~Tensors();
    Tensors(const Tensors &) = delete;
    Tensors &operator=(const Tensors &) = delete;

    // Wraps or creates the tensors and writes the staged inputs.
    lcl_status bind();
    // Reads the staged outputs back into host memory (blocking).
    lcl_status finish();
    // The tensor of operand i (NULL for a None operand).
    lcl_tensor *operator[](size_t i) const { return tensors_[i]; }
    // Whether every operand lives in host memory (or is None).
    bool all_host() const;

  private:
    void check_kinds() const;
    void find_shared_ranges();
    bool is_read(size_t i) const;

    ContextRef ctx_;
    std::vector<const Operand *> operands_;
    std::vector<lcl_tensor *> tensors_;
    std::vector<size_t> owner_; // the operand whose tensor operand i uses (itself if none other)
    bool staged_ = false;
};

} // namespace lclpy
