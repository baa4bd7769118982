#include "operand.hpp"

#include "errors.hpp"

#include <cstdint>
#include <string>

namespace lclpy {

size_t Operand::lcl_bytes(lcl_dtype dtype, size_t n) {
    return dtype == LCL_MASK ? 4 * ((n + 31) / 32) : n * lcl_dtype_size(dtype);
}

Operand::Operand(nb::handle obj, lcl_dtype dtype, size_t n, Role role, const char *name)
    : dtype_(dtype), n_(n), role_(role), name_(name) {
    if (obj.is_none())
        return;
    if (PyLong_Check(obj.ptr())) {
        kind_ = Kind::host;
        host_ = reinterpret_cast<void *>(nb::cast<uintptr_t>(obj));
    } else if (PyTuple_Check(obj.ptr())) {
        from_cl(obj);
    } else {
        from_buffer(obj);
    }
}

Operand::~Operand() {
    if (has_view_)
        PyBuffer_Release(&view_);
}

void Operand::from_buffer(nb::handle obj) {
    int flags = PyBUF_C_CONTIGUOUS | (role_ == Role::output ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj.ptr(), &view_, flags) != 0) {
        PyErr_Clear();
        invalid(std::string(name_) + (role_ == Role::output ? ": a writable C-contiguous array is needed"
                                                            : ": a C-contiguous array is needed"));
    }
    has_view_ = true;
    kind_ = Kind::host;
    host_ = view_.buf;
    if (static_cast<size_t>(view_.len) != bytes())
        invalid(std::string(name_) + ": " + std::to_string(view_.len) + " bytes where " + std::to_string(bytes()) +
                " were expected");
}

void Operand::from_cl(nb::handle obj) {
    nb::tuple t = nb::borrow<nb::tuple>(obj);
    if (t.size() != 2)
        invalid(std::string(name_) + ": an OpenCL operand is (cl_mem, offset)");
    kind_ = Kind::cl;
    mem_ = reinterpret_cast<cl_mem>(nb::cast<uintptr_t>(t[0]));
    offset_ = nb::cast<size_t>(t[1]);
}

// ---- Tensors ----------------------------------------------------------------------------------

Tensors::Tensors(const ContextRef &ctx, std::vector<const Operand *> operands)
    : ctx_(ctx), operands_(std::move(operands)), tensors_(operands_.size(), nullptr), owner_(operands_.size()) {
    for (size_t i = 0; i < owner_.size(); ++i)
        owner_[i] = i;
    check_kinds();
    if (staged_)
        find_shared_ranges();
}

Tensors::~Tensors() {
    for (size_t i = 0; i < tensors_.size(); ++i)
        if (owner_[i] == i)
            lcl_tensor_release(tensors_[i]);
}

bool Tensors::all_host() const {
    for (const Operand *op : operands_)
        if (op->kind() == Operand::Kind::cl)
            return false;
    return true;
}

// pyopencl buffers need an OpenCL context (the one of their queue), and one call takes either
// host arrays or device buffers, not a mix.
void Tensors::check_kinds() const {
    bool host = false, cl = false;
    for (const Operand *op : operands_) {
        host |= op->kind() == Operand::Kind::host;
        cl |= op->kind() == Operand::Kind::cl;
    }
    if (cl && !ctx_->is_opencl())
        invalid("pyopencl arrays need the OpenCL context of their queue, not a CPU-backend context");
    if (cl && host)
        invalid("one call takes host arrays or pyopencl arrays, not both");
    const_cast<Tensors *>(this)->staged_ = host && ctx_->is_opencl();
}

// Staging copies each host range once: an operand whose bytes are exactly another's (in place)
// shares its tensor; a partial overlap that involves an output is refused, as the C library
// refuses it for its own tensors.
void Tensors::find_shared_ranges() {
    for (size_t i = 0; i < operands_.size(); ++i) {
        const Operand *a = operands_[i];
        if (a->kind() != Operand::Kind::host || a->bytes() == 0)
            continue;
        for (size_t j = 0; j < i; ++j) {
            const Operand *b = operands_[j];
            if (b->kind() != Operand::Kind::host || b->bytes() == 0 || owner_[j] != j)
                continue;
            auto a0 = reinterpret_cast<uintptr_t>(a->host()), b0 = reinterpret_cast<uintptr_t>(b->host());
            if (a0 + a->bytes() <= b0 || b0 + b->bytes() <= a0)
                continue;
            if (a0 == b0 && a->bytes() == b->bytes() && a->dtype() == b->dtype() && a->size() == b->size()) {
                owner_[i] = j;
                break;
            }
            if (a->role() == Role::output || b->role() == Role::output)
                invalid(std::string(a->name()) + " and " + b->name() + " partly overlap");
        }
    }
}

// Whether the call reads the tensor that operand i owns: it, or an operand sharing it, is an input.
bool Tensors::is_read(size_t i) const {
    for (size_t k = 0; k < operands_.size(); ++k)
        if (owner_[k] == i && operands_[k]->role() == Role::input)
            return true;
    return false;
}

lcl_status Tensors::bind() {
    lcl_context *ctx = ctx_->get();
    for (size_t i = 0; i < operands_.size(); ++i) {
        const Operand *op = operands_[i];
        if (owner_[i] != i) {
            tensors_[i] = tensors_[owner_[i]];
            continue;
        }
        lcl_status st = LCL_SUCCESS;
        switch (op->kind()) {
        case Operand::Kind::none:
            break;
        case Operand::Kind::cl:
            st = lcl_tensor_wrap_cl(ctx, op->dtype(), op->mem(), op->offset(), op->size(), &tensors_[i]);
            break;
        case Operand::Kind::host:
            if (!staged_) {
                st = lcl_tensor_wrap_host(ctx, op->dtype(), op->host(), op->size(), &tensors_[i]);
                break;
            }
            st = lcl_tensor_create(ctx, op->dtype(), op->size(), &tensors_[i]);
            if (st == LCL_SUCCESS && is_read(i))
                st = lcl_tensor_write(tensors_[i], op->host());
            break;
        }
        if (st != LCL_SUCCESS)
            return st;
    }
    return LCL_SUCCESS;
}

lcl_status Tensors::finish() {
    if (!staged_)
        return LCL_SUCCESS;
    for (size_t i = 0; i < operands_.size(); ++i) {
        const Operand *op = operands_[i];
        if (op->kind() != Operand::Kind::host || op->role() != Role::output)
            continue;
        lcl_status st = lcl_tensor_read(tensors_[owner_[i]], op->host());
        if (st != LCL_SUCCESS)
            return st;
    }
    return LCL_SUCCESS;
}

} // namespace lclpy
