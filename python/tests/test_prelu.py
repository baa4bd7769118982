"""prelu and prelu_backward: every dtype, slope layouts (per channel along an axis, numpy
broadcasting along a run of axes, one slope, one per element), both backends, numpy, torch
and pyopencl arrays, against the numpy reference bit for bit (the slope gradient against an
fp64 sum)."""

from __future__ import annotations

import numpy as np
import pytest

import leakycl
import ml_dtypes
from conftest import (BF16, DTYPE_IDS, FLOAT_DTYPES, assert_bits_equal, compute_dtype, from_numpy, random_array,
                      to_numpy)


def ref_prelu(x, slope_b):
    """slope_b: the slope broadcast to x's shape."""
    ct = compute_dtype(x.dtype)
    xc = x.astype(ct)
    with np.errstate(all="ignore"):
        return np.where(xc > 0, xc, slope_b.astype(ct) * xc).astype(x.dtype)


def ref_prelu_backward(x, dy, slope_b, slope_shape):
    ct = compute_dtype(x.dtype)
    with np.errstate(all="ignore"):
        dx = np.where(x.astype(ct) > 0, dy.astype(ct), slope_b.astype(ct) * dy.astype(ct)).astype(x.dtype)
        prod = np.where(x.astype(np.float64) > 0, 0.0, dy.astype(np.float64) * x.astype(np.float64))
    # sum over the axes the slope broadcasts along
    padded = (1,) * (x.ndim - len(slope_shape)) + tuple(slope_shape)
    axes = tuple(k for k, s in enumerate(padded) if s == 1)
    ds = prod.sum(axis=axes, keepdims=True).reshape(slope_shape)
    return dx, ds


# (x shape, slope shape, axis): per channel, broadcast along the last axis, (C,1,1), one, per element
LAYOUTS = [((2, 3, 4), (3,), 1), ((2, 3, 4, 5), (3,), 1), ((6, 7), (7,), 1), ((2, 3, 4), (4,), None),
           ((2, 3, 4), (4,), 1), ((2, 3, 4, 5), (3, 1, 1), None), ((2, 3, 4, 5), (3, 1, 1), 1), ((2, 3, 4), (1,), 1),
           ((2, 3, 4), (), 1), ((2, 3, 4), (2, 3, 4), None), ((5, 4, 3), (4, 3), None), ((5, 6), (6,), -1),
           ((4, 5, 6), (5,), -2), ((0, 3, 4), (3,), 1), ((9,), (9,), 1), ((9,), (1,), 1)]


def slope_for(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    vals = rng.choice([0.25, -0.5, 2.0, 0.0, 1.0, 0.01, 3.5, -1.25], size=int(np.prod(shape, dtype=int)))
    return vals.astype(dtype).reshape(shape)


def broadcast_slope(x_shape, slope, axis):
    if axis is not None and slope.ndim == 1 and len(x_shape) >= 1:
        ax = axis % len(x_shape)
        if x_shape[ax] == slope.shape[0]:
            shape = [1] * len(x_shape)
            shape[ax] = slope.shape[0]
            return np.broadcast_to(slope.reshape(shape), x_shape), slope.reshape(shape).shape
    return np.broadcast_to(slope, x_shape), slope.shape


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("layout", LAYOUTS, ids=[f"{a}-{b}-{c}" for a, b, c in LAYOUTS])
@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_prelu_layouts(device, kind, dtype, layout):
    x_shape, s_shape, axis = layout
    n = int(np.prod(x_shape, dtype=int))
    x = random_array(dtype, n, 1).reshape(x_shape)
    dy = random_array(dtype, n, 2).reshape(x_shape)
    slope = slope_for(s_shape, dtype, 3)
    slope_b, reduce_shape = broadcast_slope(x_shape, slope, axis)
    y = leakycl.prelu(from_numpy(kind, x), from_numpy(kind, slope), axis, ctx=device)
    assert_bits_equal(to_numpy(y), ref_prelu(x, slope_b), "prelu")
    # the slope gradient: finite x and dy, compared with an fp64 sum
    xf = np.where(np.isfinite(x.astype(np.float64)), x, dtype.type(0.5)).astype(dtype)
    dyf = np.where(np.isfinite(dy.astype(np.float64)), dy, dtype.type(-0.5)).astype(dtype)
    xf = np.where(np.abs(xf.astype(np.float64)) > 100, dtype.type(1.0), xf).astype(dtype)
    dyf = np.where(np.abs(dyf.astype(np.float64)) > 100, dtype.type(1.0), dyf).astype(dtype)
    dx, ds = leakycl.prelu_backward(from_numpy(kind, xf), from_numpy(kind, dyf), from_numpy(kind, slope), axis,
                                    ctx=device)
    want_dx, want_ds = ref_prelu_backward(xf, dyf, slope_b, reduce_shape)
    assert_bits_equal(to_numpy(dx), want_dx, "prelu dx")
    ds = to_numpy(ds)
    assert ds.shape == slope.shape and ds.dtype == slope.dtype
    tol = 1e-12 if dtype == np.float64 else 2e-2 if dtype.itemsize == 2 else 1e-5
    scale = np.abs(want_ds).max() + 1e-30
    # plus one unit in the storage type's last subnormal place: a sum this small rounds to it
    floor = float((ml_dtypes.finfo(dtype) if dtype == BF16 else np.finfo(dtype)).smallest_subnormal)
    assert np.abs(ds.astype(np.float64) - want_ds.reshape(slope.shape)).max() <= tol * scale + floor


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=DTYPE_IDS)
def test_prelu_pyopencl(queue, dtype):
    import pyopencl.array as cla

    x = random_array(dtype, 2 * 3 * 50, 4).reshape(2, 3, 50)
    slope = slope_for((3,), dtype, 5)
    base = cla.to_device(queue, np.concatenate([np.zeros(7, dtype), x.ravel()]))
    xc = base[7:].reshape(2, 3, 50)  # at an offset
    y = leakycl.prelu(xc, cla.to_device(queue, slope))
    assert isinstance(y, cla.Array)
    assert_bits_equal(y.get(), ref_prelu(x, np.broadcast_to(slope.reshape(3, 1), x.shape)))
    y2 = leakycl.prelu(xc, slope)  # a numpy slope goes to the device with x
    assert_bits_equal(y2.get(), y.get())
    dy = random_array(dtype, x.size, 6).reshape(x.shape)
    dx, ds = leakycl.prelu_backward(xc, cla.to_device(queue, dy), cla.to_device(queue, slope))
    assert isinstance(dx, cla.Array) and isinstance(ds, cla.Array) and ds.shape == (3,)
    hx, hs = leakycl.prelu_backward(x, dy, slope, ctx=leakycl.Context("opencl"))
    assert_bits_equal(dx.get(), hx)
    assert_bits_equal(ds.get(), hs)  # one backend, one summation order: the same bits


def test_prelu_out_and_in_place(device):
    x = random_array(np.dtype(np.float32), 60, 6).reshape(3, 4, 5)
    slope = slope_for((4,), np.dtype(np.float32), 7)
    want = ref_prelu(x, np.broadcast_to(slope.reshape(4, 1), x.shape))
    xa = x.copy()
    assert leakycl.prelu(xa, slope, out=xa, ctx=device) is xa
    assert_bits_equal(xa, want)


def test_prelu_rejects(device):
    x = np.ones((2, 3, 4), np.float32)
    with pytest.raises(leakycl.InvalidArgument, match="does not broadcast"):
        leakycl.prelu(x, np.ones(5, np.float32), ctx=device)
    with pytest.raises(leakycl.InvalidArgument, match="dtype"):
        leakycl.prelu(x, np.ones(3, np.float64), ctx=device)
    with pytest.raises(leakycl.Unsupported, match="consecutive"):
        leakycl.prelu(x, np.ones((2, 1, 4), np.float32), axis=None, ctx=device)


def test_prelu_of_nothing(device):
    x = np.empty((0, 3, 4), np.float32)
    slope = np.array([0.1, 0.2, 0.3], np.float32)
    assert leakycl.prelu(x, slope, ctx=device).shape == (0, 3, 4)
    dx, ds = leakycl.prelu_backward(x, x, slope, ctx=device)
    assert dx.shape == (0, 3, 4) and ds.tolist() == [0.0, 0.0, 0.0]


def test_prelu_scalar_slope(device):
    x = random_array(np.dtype(np.float16), 40, 8).reshape(4, 10)
    for slope in (0.3, np.float32(0.3), 2):
        want = leakycl.leaky_relu(x, float(np.float16(slope)), ctx=device)
        assert_bits_equal(leakycl.prelu(x, slope, ctx=device), want, f"slope {slope!r}")
