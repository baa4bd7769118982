"""leaky_relu, its two backwards and the masked pair against the numpy reference of the
piecewise formula, bit for bit: every dtype, numpy/torch/pyopencl arrays, both backends,
sizes 0..70 and a large odd size, offsets through slices and sub-arrays, in place."""

from __future__ import annotations

import numpy as np
import pytest

import leakycl
from conftest import (ALPHAS, DTYPE_IDS, FLOAT_DTYPES, assert_bits_equal, from_numpy, random_array, ref_backward,
                      ref_forward, to_numpy)

SIZES = list(range(0, 71)) + [100_003]


def unpack_mask(mask, n: int) -> np.ndarray:
    words = to_numpy(mask).view(np.uint32)
    return ((words[np.arange(n) // 32] >> (np.arange(n) % 32).astype(np.uint32)) & 1).astype(bool)


def run_all_ops(kind: str, dtype, n: int, alpha: float, ctx, queue=None, seed: int = 0) -> None:
    x = random_array(dtype, n, seed)
    dy = random_array(dtype, n, seed + 1)
    label = f"{kind} {dtype} n={n} alpha={alpha}"
    xa, dya = from_numpy(kind, x, queue), from_numpy(kind, dy, queue)
    y = leakycl.leaky_relu(xa, alpha, ctx=ctx)
    assert type(y) is type(xa)
    assert_bits_equal(to_numpy(y), ref_forward(x, alpha), "forward " + label)
    assert_bits_equal(to_numpy(leakycl.leaky_relu_backward(xa, dya, alpha, ctx=ctx)), ref_backward(x, dy, alpha),
                      "backward " + label)
    if alpha >= 0:
        y_ref = ref_forward(x, alpha)
        got = leakycl.leaky_relu_backward_from_output(from_numpy(kind, y_ref, queue), dya, alpha, ctx=ctx)
        assert_bits_equal(to_numpy(got), ref_backward(x, dy, alpha), "backward_from_output " + label)
    ym, mask = leakycl.leaky_relu_masked(xa, alpha, ctx=ctx)
    assert_bits_equal(to_numpy(ym), ref_forward(x, alpha), "masked forward " + label)
    assert (unpack_mask(mask, n) == (x.astype(np.float64) > 0)).all(), "mask " + label
    got = leakycl.leaky_relu_backward_masked(mask, dya, alpha, ctx=ctx)
    assert_bits_equal(to_numpy(got), ref_backward(x, dy, alpha), "masked backward " + label)
    # The inputs are never changed.
    assert_bits_equal(to_numpy(xa), x, "x after the calls " + label)
    assert_bits_equal(to_numpy(dya), dy, "dy after the calls " + label)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_every_size_host_arrays(device, kind, dtype):
    if not device.supports(dtype):
        pytest.skip(f"{device.device_name} has no {dtype}")
    for n in SIZES:
        run_all_ops(kind, dtype, n, ALPHAS[n % len(ALPHAS)], device, seed=n)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=DTYPE_IDS)
def test_every_size_pyopencl_arrays(queue, dtype):
    for n in SIZES:
        run_all_ops("cl", dtype, n, ALPHAS[n % len(ALPHAS)], None, queue, seed=n)


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=DTYPE_IDS)
def test_every_alpha(device, dtype, alpha):
    run_all_ops("numpy", dtype, 1001, alpha, device, seed=7)


def test_alpha_above_one_is_not_max(device):
    """The seed's np.maximum(a * x, x) differs from the formula for a > 1; leakycl keeps the formula."""
    x = np.array([-2.0, -1.0, 3.0], np.float32)
    y = leakycl.leaky_relu(x, 2.0, ctx=device)
    assert y.tolist() == [-4.0, -2.0, 3.0]
    assert np.maximum(2.0 * x, x).tolist() != y.tolist()


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=DTYPE_IDS)
def test_offsets_through_slices(device, dtype):
    base = random_array(dtype, 300, 3)
    dy_base = random_array(dtype, 300, 4)
    for start in range(0, 9):
        x = base[start:start + 250]  # contiguous, any element offset
        dy = dy_base[start + 1:start + 251]
        assert_bits_equal(leakycl.leaky_relu(x, 0.2, ctx=device), ref_forward(x, 0.2), f"start {start}")
        assert_bits_equal(leakycl.leaky_relu_backward(x, dy, 0.2, ctx=device), ref_backward(x, dy, 0.2))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=DTYPE_IDS)
def test_offsets_through_pyopencl_sub_arrays(queue, dtype):
    import pyopencl.array as cla

    base = random_array(dtype, 300, 5)
    dy_base = random_array(dtype, 300, 6)
    xc, dyc = cla.to_device(queue, base), cla.to_device(queue, dy_base)
    for start in range(0, 9):
        x, dy = xc[start:start + 250], dyc[start + 3:start + 253]
        assert x.offset == start * base.itemsize
        y = leakycl.leaky_relu(x, 0.2)
        assert isinstance(y, cla.Array) and y.queue is queue
        assert_bits_equal(y.get(), ref_forward(base[start:start + 250], 0.2), f"start {start}")
        dx = leakycl.leaky_relu_backward(x, dy, 0.2)
        assert_bits_equal(dx.get(), ref_backward(base[start:start + 250], dy_base[start + 3:start + 253], 0.2))
        out = cla.to_device(queue, np.zeros(300, dtype))
        leakycl.leaky_relu(x, 0.2, out=out[start + 1:start + 251])  # an out at an offset too
        got = out.get()
        assert_bits_equal(got[start + 1:start + 251], ref_forward(base[start:start + 250], 0.2))
        assert not got[:start + 1].any() and not got[start + 251:].any(), "wrote outside out"


@pytest.mark.parametrize("kind", ["numpy", "torch"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=DTYPE_IDS)
def test_in_place(device, kind, dtype):
    x = random_array(dtype, 777, 8)
    dy = random_array(dtype, 777, 9)
    xa = from_numpy(kind, x)
    assert leakycl.leaky_relu(xa, 0.1, out=xa, ctx=device) is xa
    assert_bits_equal(to_numpy(xa), ref_forward(x, 0.1))
    dya = from_numpy(kind, dy)
    xa = from_numpy(kind, x)
    assert leakycl.leaky_relu_backward(xa, dya, 0.1, out=dya, ctx=device) is dya
    assert_bits_equal(to_numpy(dya), ref_backward(x, dy, 0.1))
    _, mask = leakycl.leaky_relu_masked(xa, -0.5, ctx=device)
    dya = from_numpy(kind, dy)
    leakycl.leaky_relu_backward_masked(mask, dya, -0.5, out=dya, ctx=device)
    assert_bits_equal(to_numpy(dya), ref_backward(x, dy, -0.5))


def test_in_place_pyopencl(queue):
    import pyopencl.array as cla

    x = random_array(np.dtype(np.float32), 1000, 10)
    xc = cla.to_device(queue, x)
    assert leakycl.leaky_relu(xc, 0.1, out=xc) is xc
    assert_bits_equal(xc.get(), ref_forward(x, 0.1))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=DTYPE_IDS)
def test_non_contiguous_inputs_are_copied_once(device, dtype):
    base = random_array(dtype, 2 * 500, 11).reshape(500, 2)
    x = base[:, 0]  # strided
    dy = random_array(dtype, 500, 12)
    assert not x.flags.c_contiguous
    assert_bits_equal(leakycl.leaky_relu(x, 0.3, ctx=device), ref_forward(np.ascontiguousarray(x), 0.3))
    assert_bits_equal(leakycl.leaky_relu_backward(x, dy, 0.3, ctx=device),
                      ref_backward(np.ascontiguousarray(x), dy, 0.3))
    t = base.T  # Fortran order, 2-D
    assert_bits_equal(leakycl.leaky_relu(t, 0.3, ctx=device), ref_forward(np.ascontiguousarray(t), 0.3))


def test_shapes_are_kept(device):
    x = random_array(np.dtype(np.float32), 2 * 3 * 4 * 5, 13).reshape(2, 3, 4, 5)
    y = leakycl.leaky_relu(x, 0.1, ctx=device)
    assert y.shape == (2, 3, 4, 5)
    assert_bits_equal(y, ref_forward(x, 0.1))
    s = np.float32(-2.0).reshape(())
    assert leakycl.leaky_relu(np.array(s), 0.5, ctx=device).shape == ()


def test_other_dlpack_objects_give_numpy(device):
    class Producer:
        """A CPU DLPack producer that is neither numpy nor torch."""

        def __init__(self, a):
            self._a = a

        def __dlpack__(self, stream=None):
            return self._a.__dlpack__()

        def __dlpack_device__(self):
            return self._a.__dlpack_device__()

    x = random_array(np.dtype(np.float32), 64, 14)
    y = leakycl.leaky_relu(Producer(x), 0.1, ctx=device)
    assert isinstance(y, np.ndarray)
    assert_bits_equal(y, ref_forward(x, 0.1))
