// Each op: operands checked with the GIL held, then bound, run and read back without it.
// Host arrays take the C library's host-array forms where it has them (lcl_forward_host,
// lcl_backward_host: computed in place on the CPU backend, zero-copy or streamed on a device),
// and tensors otherwise.
#include "ops.hpp"

#include "context.hpp"
#include "errors.hpp"
#include "operand.hpp"

#include <nanobind/stl/vector.h>

#include <deque>
#include <vector>

namespace lclpy {

namespace {

lcl_dtype as_dtype(int code) { return static_cast<lcl_dtype>(code); }

// Runs `call` (a C library call; a status) without the GIL and raises its failure.
template <class Call> void run_unlocked(Call call) {
    Outcome outcome;
    {
        nb::gil_scoped_release unlocked;
        outcome.record(call());
    }
    outcome.throw_if_failed();
}

// Binds the operands, runs `op` on their tensors and reads staged outputs back, all without the GIL.
template <class Op> void run_on_tensors(const ContextRef &ctx, std::vector<const Operand *> operands, Op op) {
    Tensors tensors(ctx, std::move(operands));
    Outcome outcome;
    {
        nb::gil_scoped_release unlocked;
        if (outcome.record(tensors.bind()) && outcome.record(op(tensors)))
            outcome.record(tensors.finish());
    }
    outcome.throw_if_failed();
}

bool both_host(const Operand &a, const Operand &b) {
    return a.kind() != Operand::Kind::cl && b.kind() != Operand::Kind::cl;
}

void forward(Context &c, int dtype, size_t n, double alpha, nb::handle x, nb::handle y) {
    ContextRef ctx = c.acquire();
    Operand ox(x, as_dtype(dtype), n, Role::input, "x"), oy(y, as_dtype(dtype), n, Role::output, "out");
    if (both_host(ox, oy))
        return run_unlocked(
            [&] { return lcl_forward_host(ctx->get(), as_dtype(dtype), n, alpha, ox.host(), oy.host()); });
    run_on_tensors(ctx, {&ox, &oy}, [&](const Tensors &t) { return lcl_forward(ctx->get(), alpha, t[0], t[1]); });
}

void backward(Context &c, int dtype, size_t n, double alpha, nb::handle x, nb::handle dy, nb::handle dx) {
    ContextRef ctx = c.acquire();
    lcl_dtype dt = as_dtype(dtype);
    Operand ox(x, dt, n, Role::input, "x"), ody(dy, dt, n, Role::input, "dy"), odx(dx, dt, n, Role::output, "out");
    if (both_host(ox, ody) && both_host(ody, odx))
        return run_unlocked(
            [&] { return lcl_backward_host(ctx->get(), dt, n, alpha, ox.host(), ody.host(), odx.host()); });
    run_on_tensors(ctx, {&ox, &ody, &odx},
                   [&](const Tensors &t) { return lcl_backward(ctx->get(), alpha, t[0], t[1], t[2]); });
}

// For alpha >= 0, y > 0 exactly where x > 0, so the host form of the backward on y is the
// backward from the output, bit for bit; a negative alpha goes to the tensor form, which refuses it.
void backward_from_output(Context &c, int dtype, size_t n, double alpha, nb::handle y, nb::handle dy, nb::handle dx) {
    ContextRef ctx = c.acquire();
    lcl_dtype dt = as_dtype(dtype);
    Operand oy(y, dt, n, Role::input, "y"), ody(dy, dt, n, Role::input, "dy"), odx(dx, dt, n, Role::output, "out");
    if (alpha >= 0 && both_host(oy, ody) && both_host(ody, odx))
        return run_unlocked(
            [&] { return lcl_backward_host(ctx->get(), dt, n, alpha, oy.host(), ody.host(), odx.host()); });
    run_on_tensors(ctx, {&oy, &ody, &odx},
                   [&](const Tensors &t) { return lcl_backward_from_output(ctx->get(), alpha, t[0], t[1], t[2]); });
}

void forward_masked(Context &c, int dtype, size_t n, double alpha, nb::handle x, nb::handle y, nb::handle mask) {
    ContextRef ctx = c.acquire();
    lcl_dtype dt = as_dtype(dtype);
    Operand ox(x, dt, n, Role::input, "x"), oy(y, dt, n, Role::output, "out"),
        om(mask, LCL_MASK, n, Role::output, "mask");
    run_on_tensors(ctx, {&ox, &oy, &om},
                   [&](const Tensors &t) { return lcl_forward_masked(ctx->get(), alpha, t[0], t[1], t[2]); });
}

void backward_masked(Context &c, int dtype, size_t n, double alpha, nb::handle mask, nb::handle dy, nb::handle dx) {
    ContextRef ctx = c.acquire();
    lcl_dtype dt = as_dtype(dtype);
    Operand om(mask, LCL_MASK, n, Role::input, "mask"), ody(dy, dt, n, Role::input, "dy"),
        odx(dx, dt, n, Role::output, "out");
    run_on_tensors(ctx, {&om, &ody, &odx},
                   [&](const Tensors &t) { return lcl_backward_masked(ctx->get(), alpha, t[0], t[1], t[2]); });
}

void prelu_forward(Context &c, int dtype, size_t channels, size_t inner, size_t n, nb::handle slope, nb::handle x,
                   nb::handle y) {
    ContextRef ctx = c.acquire();
    lcl_dtype dt = as_dtype(dtype);
    Operand os(slope, dt, channels, Role::input, "slope"), ox(x, dt, n, Role::input, "x"),
        oy(y, dt, n, Role::output, "out");
    run_on_tensors(ctx, {&os, &ox, &oy},
                   [&](const Tensors &t) { return lcl_prelu_forward(ctx->get(), channels, inner, t[0], t[1], t[2]); });
}

void prelu_backward(Context &c, int dtype, size_t channels, size_t inner, size_t n, nb::handle slope, nb::handle x,
                    nb::handle dy, nb::handle dx, nb::handle dslope) {
    ContextRef ctx = c.acquire();
    lcl_dtype dt = as_dtype(dtype);
    Operand os(slope, dt, channels, Role::input, "slope"), ox(x, dt, n, Role::input, "x"),
        ody(dy, dt, n, Role::input, "dy"), odx(dx, dt, n, Role::output, "dx"),
        ods(dslope, dt, channels, Role::output, "dslope");
    run_on_tensors(ctx, {&os, &ox, &ody, &odx, &ods}, [&](const Tensors &t) {
        return lcl_prelu_backward(ctx->get(), channels, inner, t[0], t[1], t[2], t[3], t[4]);
    });
}

void forward_batch(Context &c, const std::vector<int> &dtypes, const std::vector<size_t> &sizes,
                   const std::vector<double> &alphas, const std::vector<nb::handle> &xs,
                   const std::vector<nb::handle> &ys) {
    size_t count = xs.size();
    if (dtypes.size() != count || sizes.size() != count || alphas.size() != count || ys.size() != count)
        invalid("leaky_relu_batch: xs, outputs, alphas, dtypes and sizes differ in length");
    ContextRef ctx = c.acquire();
    std::deque<Operand> operands; // deque: Operands neither copy nor move
    std::vector<const Operand *> all;
    for (size_t i = 0; i < count; ++i)
        all.push_back(&operands.emplace_back(xs[i], as_dtype(dtypes[i]), sizes[i], Role::input, "xs[i]"));
    for (size_t i = 0; i < count; ++i)
        all.push_back(&operands.emplace_back(ys[i], as_dtype(dtypes[i]), sizes[i], Role::output, "out[i]"));
    run_on_tensors(ctx, all, [&](const Tensors &t) {
        std::vector<const lcl_tensor *> x(count);
        std::vector<lcl_tensor *> y(count);
        for (size_t i = 0; i < count; ++i) {
            x[i] = t[i];
            y[i] = t[count + i];
        }
        return lcl_forward_batch(ctx->get(), count, alphas.data(), x.data(), y.data());
    });
}

void dense_forward(Context &c, size_t batch, size_t in, size_t out, double alpha, nb::handle x, nb::handle w,
                   nb::handle b, nb::handle y) {
    ContextRef ctx = c.acquire();
    Operand ox(x, LCL_F32, batch * in, Role::input, "x"), ow(w, LCL_F32, out * in, Role::input, "w"),
        ob(b, LCL_F32, out, Role::input, "b"), oy(y, LCL_F32, batch * out, Role::output, "out");
    run_on_tensors(ctx, {&ox, &ow, &ob, &oy}, [&](const Tensors &t) {
        return lcl_dense_forward(ctx->get(), batch, in, out, alpha, t[0], t[1], t[2], t[3]);
    });
}

void dense_backward(Context &c, size_t batch, size_t in, size_t out, double alpha, nb::handle x, nb::handle w,
                    nb::handle y, nb::handle dy, nb::handle dx, nb::handle dw, nb::handle db) {
    ContextRef ctx = c.acquire();
    Operand ox(x, LCL_F32, batch * in, Role::input, "x"), ow(w, LCL_F32, out * in, Role::input, "w"),
        oy(y, LCL_F32, batch * out, Role::input, "y"), ody(dy, LCL_F32, batch * out, Role::input, "dy"),
        odx(dx, LCL_F32, batch * in, Role::output, "dx"), odw(dw, LCL_F32, out * in, Role::output, "dw"),
        odb(db, LCL_F32, out, Role::output, "db");
    run_on_tensors(ctx, {&ox, &ow, &oy, &ody, &odx, &odw, &odb}, [&](const Tensors &t) {
        return lcl_dense_backward(ctx->get(), batch, in, out, alpha, t[0], t[1], t[2], t[3], t[4], t[5], t[6]);
    });
}

} // namespace

void bind_ops(nb::module_ &m) {
    using namespace nb::literals;
    m.def("forward", &forward, "ctx"_a, "dtype"_a, "n"_a, "alpha"_a, "x"_a.none(), "y"_a.none());
    m.def("backward", &backward, "ctx"_a, "dtype"_a, "n"_a, "alpha"_a, "x"_a.none(), "dy"_a.none(), "dx"_a.none());
    m.def("backward_from_output", &backward_from_output, "ctx"_a, "dtype"_a, "n"_a, "alpha"_a, "y"_a.none(),
          "dy"_a.none(), "dx"_a.none());
    m.def("forward_masked", &forward_masked, "ctx"_a, "dtype"_a, "n"_a, "alpha"_a, "x"_a.none(), "y"_a.none(),
          "mask"_a.none());
    m.def("backward_masked", &backward_masked, "ctx"_a, "dtype"_a, "n"_a, "alpha"_a, "mask"_a.none(), "dy"_a.none(),
          "dx"_a.none());
    m.def("prelu_forward", &prelu_forward, "ctx"_a, "dtype"_a, "channels"_a, "inner"_a, "n"_a, "slope"_a.none(),
          "x"_a.none(), "y"_a.none());
    m.def("prelu_backward", &prelu_backward, "ctx"_a, "dtype"_a, "channels"_a, "inner"_a, "n"_a, "slope"_a.none(),
          "x"_a.none(), "dy"_a.none(), "dx"_a.none(), "dslope"_a.none());
    m.def("forward_batch", &forward_batch, "ctx"_a, "dtypes"_a, "sizes"_a, "alphas"_a, "xs"_a, "ys"_a);
    m.def("dense_forward", &dense_forward, "ctx"_a, "batch"_a, "in_features"_a, "out_features"_a, "alpha"_a,
          "x"_a.none(), "w"_a.none(), "b"_a.none(), "y"_a.none());
    m.def("dense_backward", &dense_backward, "ctx"_a, "batch"_a, "in_features"_a, "out_features"_a, "alpha"_a,
          "x"_a.none(), "w"_a.none(), "y"_a.none(), "dy"_a.none(), "dx"_a.none(), "dw"_a.none(), "db"_a.none());
}

} // namespace lclpy
