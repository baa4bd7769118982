"""dense and dense_backward against numpy in float64 (a GEMM is not exact: within rounding),
on numpy arrays and pyopencl arrays, both backends; the epilogue is exact: without a bias and
with w the identity, y is leaky_relu(x) bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import leakycl
from conftest import assert_bits_equal, random_array, ref_forward


def numpy_dense(x, w, b, alpha):
    z = x.astype(np.float64) @ w.astype(np.float64).T + (0 if b is None else b.astype(np.float64))
    return np.where(z > 0, z, alpha * z)


def numpy_dense_backward(x, w, y, dy, alpha):
    dz = np.where(y > 0, dy, np.float32(alpha) * dy).astype(np.float64)
    return dz @ w.astype(np.float64), dz.T @ x.astype(np.float64), dz.sum(axis=0)


def close(got, want, what):
    scale = np.abs(want).max() + 1e-30
    err = np.abs(got.astype(np.float64) - want).max() / scale
    assert err < 1e-5, f"{what}: relative error {err}"


@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 5, 7), (17, 33, 9), (64, 100, 31)])
@pytest.mark.parametrize("bias", [True, False])
def test_dense_forward_and_backward(device, shape, bias):
    batch, n_in, n_out = shape
    rng = np.random.default_rng(batch * 1000 + n_in)
    x = rng.standard_normal((batch, n_in)).astype(np.float32)
    w = rng.standard_normal((n_out, n_in)).astype(np.float32)
    b = rng.standard_normal(n_out).astype(np.float32) if bias else None
    y = leakycl.dense(x, w, b, 0.1, ctx=device)
    assert y.shape == (batch, n_out) and y.dtype == np.float32
    close(y, numpy_dense(x, w, b, 0.1), "y")
    dy = rng.standard_normal((batch, n_out)).astype(np.float32)
    dx, dw, db = leakycl.dense_backward(x, w, y, dy, 0.1, ctx=device)
    want = numpy_dense_backward(x, w, y, dy, 0.1)
    for got, ref, name in zip((dx, dw, db), want, ("dx", "dw", "db")):
        assert got.shape == ref.shape, name
        close(got, ref, name)


def test_dense_epilogue_is_exact(device):
    x = random_array(np.dtype(np.float32), 8 * 8, 1).reshape(8, 8)
    x[~np.isfinite(x)] = 1.5  # the identity GEMM spreads NaN and inf across a row (0 * inf)
    x[x == 0] = 0.0  # and turns -0 into -0 + 0 = +0
    y = leakycl.dense(x, np.eye(8, dtype=np.float32), None, 0.3, ctx=device)
    assert_bits_equal(y, ref_forward(x, 0.3), "dense with w = I")


def test_dense_backward_skips_what_is_not_asked(device):
    x = np.ones((2, 3), np.float32)
    w = np.ones((4, 3), np.float32)
    y = leakycl.dense(x, w, ctx=device)
    dx, dw, db = leakycl.dense_backward(x, w, y, np.ones_like(y), need_dx=False, need_db=False, ctx=device)
    assert dx is None and db is None and dw.shape == (4, 3)
    assert (dw == 2).all()


def test_dense_out(device):
    x = np.ones((2, 3), np.float32)
    w = np.full((4, 3), -1, np.float32)
    out = np.empty((2, 4), np.float32)
    assert leakycl.dense(x, w, None, 0.5, out=out, ctx=device) is out
    assert (out == -1.5).all()


def test_dense_on_pyopencl_arrays(queue):
    import pyopencl.array as cla

    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 10)).astype(np.float32)
    w = rng.standard_normal((4, 10)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    xc, wc, bc = (cla.to_device(queue, a) for a in (x, w, b))
    y = leakycl.dense(xc, wc, bc, 0.2)
    assert isinstance(y, cla.Array) and y.queue is queue and y.shape == (6, 4)
    close(y.get(), numpy_dense(x, w, b, 0.2), "y")
    dx, dw, db = leakycl.dense_backward(xc, wc, y, y, 0.2)
    for got, ref, name in zip((dx, dw, db), numpy_dense_backward(x, w, y.get(), y.get(), 0.2), ("dx", "dw", "db")):
        assert isinstance(got, cla.Array)
        close(got.get(), ref, name)


def test_dense_rejects(device):
    x = np.ones((2, 3), np.float32)
    w = np.ones((4, 3), np.float32)
    with pytest.raises(leakycl.InvalidArgument, match="float32"):
        leakycl.dense(x.astype(np.float64), w, ctx=device)
    with pytest.raises(leakycl.InvalidArgument, match="w has shape"):
        leakycl.dense(x, np.ones((4, 2), np.float32), ctx=device)
    with pytest.raises(leakycl.InvalidArgument, match="b has shape"):
        leakycl.dense(x, w, np.ones(3, np.float32), ctx=device)
    y = leakycl.dense(x, w, ctx=device)
    with pytest.raises(leakycl.InvalidArgument, match="alpha >= 0"):
        leakycl.dense_backward(x, w, y, y, -0.1, ctx=device)
