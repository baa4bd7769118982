"""Property tests (hypothesis): any shape, any strided view, any dtype, any finite slope, any
values including every special one: leaky_relu and its backwards equal the piecewise formula
bit for bit on both backends; the masked backward equals the plain one; prelu with equal
slopes equals leaky_relu."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import leakycl
from conftest import FLOAT_DTYPES, assert_bits_equal, context_for, ref_backward, ref_forward

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

dtypes = st.sampled_from(FLOAT_DTYPES)
backends = st.sampled_from(["cpu", "opencl"])
alphas = st.floats(min_value=-10, max_value=10, allow_nan=False, allow_infinity=False) | st.sampled_from(
    [0.0, -0.0, 1.0, 0.01, 1e-40, -1e-40])


@st.composite
def arrays_and_views(draw):
    """A float array of any small shape, and a possibly strided, possibly reversed view of it."""
    dtype = draw(dtypes)
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=9))
    # raw bit patterns: every value the dtype has, NaNs, infinities and subnormals included
    raw = draw(hnp.arrays(np.dtype(f"u{dtype.itemsize}"), shape))
    a = raw.view(dtype)
    index = tuple(slice(None, None, draw(st.sampled_from([1, 2, -1]))) for _ in shape)
    return a[index]


def ctx_for(name):
    return context_for(name)


@SETTINGS
@given(x=arrays_and_views(), alpha=alphas, backend=backends)
def test_forward_backward_any_layout(x, alpha, backend):
    ctx = ctx_for(backend)
    xc = np.ascontiguousarray(x)
    assert_bits_equal(leakycl.leaky_relu(x, alpha, ctx=ctx), ref_forward(xc, alpha), "forward")
    dy = xc[::-1].copy() if xc.ndim == 1 else np.flip(xc).copy()
    assert_bits_equal(leakycl.leaky_relu_backward(x, dy, alpha, ctx=ctx), ref_backward(xc, dy, alpha), "backward")
    _, mask = leakycl.leaky_relu_masked(x, alpha, ctx=ctx)
    assert_bits_equal(leakycl.leaky_relu_backward_masked(mask, dy, alpha, ctx=ctx), ref_backward(xc, dy, alpha),
                      "masked backward")


@SETTINGS
@given(x=arrays_and_views(), alpha=alphas, backend=backends)
def test_prelu_with_equal_slopes_is_leaky_relu(x, alpha, backend):
    ctx = ctx_for(backend)
    if x.ndim < 2:
        return
    slope = np.full(x.shape[1], alpha, dtype=x.dtype)
    alpha_stored = float(slope[0]) if slope.size else alpha
    if not np.isfinite(alpha_stored):
        return
    assert_bits_equal(leakycl.prelu(x, slope, ctx=ctx), leakycl.leaky_relu(x, alpha_stored, ctx=ctx), "prelu")


@SETTINGS
@given(x=arrays_and_views(), alpha=st.floats(min_value=0, max_value=10), backend=backends)
def test_backward_from_output_equals_backward(x, alpha, backend):
    ctx = ctx_for(backend)
    xc = np.ascontiguousarray(x)
    y = leakycl.leaky_relu(xc, alpha, ctx=ctx)
    dy = np.ones_like(xc)
    assert_bits_equal(leakycl.leaky_relu_backward_from_output(y, dy, alpha, ctx=ctx),
                      leakycl.leaky_relu_backward(xc, dy, alpha, ctx=ctx), "from output")


@st.composite
def prelu_cases(draw):
    """x of any shape, and a slope per index of one axis, given as a 1-D slope with that axis
    or as a numpy-broadcast slope (1s elsewhere)."""
    dtype = draw(dtypes)
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=6))
    x = draw(hnp.arrays(np.dtype(f"u{dtype.itemsize}"), shape)).view(dtype)
    axis = draw(st.integers(0, len(shape) - 1))
    slope = np.array(draw(st.lists(alphas, min_size=shape[axis], max_size=shape[axis])), np.float64).astype(dtype)
    broadcast_shape = [1] * len(shape)
    broadcast_shape[axis] = shape[axis]
    return x, slope, axis, tuple(broadcast_shape)


@SETTINGS
@given(case=prelu_cases(), as_broadcast=st.booleans(), backend=backends)
def test_prelu_any_axis(case, as_broadcast, backend):
    x, slope, axis, broadcast_shape = case
    ctx = ctx_for(backend)
    if as_broadcast:
        got = leakycl.prelu(x, slope.reshape(broadcast_shape), axis=None, ctx=ctx)
    else:
        got = leakycl.prelu(x, slope, axis=axis, ctx=ctx)
    ct = np.float64 if x.dtype == np.float64 else np.float32
    sb = np.broadcast_to(slope.reshape(broadcast_shape), x.shape).astype(ct)
    with np.errstate(all="ignore"):
        want = np.where(x.astype(ct) > 0, x.astype(ct), sb * x.astype(ct)).astype(x.dtype)
    assert_bits_equal(got, want, f"axis {axis}")
