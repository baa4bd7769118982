"""leaky_relu_batch: items of mixed dtypes, sizes and slopes, bit for bit; in place; views of
one pyopencl buffer; a bad item rejects the whole call with nothing written."""

from __future__ import annotations

import numpy as np
import pytest

import leakycl
from conftest import (ALPHAS, FLOAT_DTYPES, assert_bits_equal, from_numpy, random_array, ref_forward, to_numpy)


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_batch_mixed_items(device, kind):
    items = [(FLOAT_DTYPES[i % 4], n) for i, n in enumerate([0, 1, 7, 33, 64, 65, 1000, 4099])]
    xs = [random_array(dt, n, i) for i, (dt, n) in enumerate(items)]
    alphas = [ALPHAS[i % len(ALPHAS)] for i in range(len(xs))]
    ys = leakycl.leaky_relu_batch([from_numpy(kind, x) for x in xs], alphas, ctx=device)
    assert len(ys) == len(xs)
    for i, (x, y) in enumerate(zip(xs, ys)):
        assert_bits_equal(to_numpy(y), ref_forward(x, alphas[i]), f"item {i}")


def test_batch_one_alpha_and_out_in_place(device):
    xs = [random_array(np.dtype(np.float32), n, n) for n in (5, 50, 500)]
    want = [ref_forward(x, 0.2) for x in xs]
    outs = leakycl.leaky_relu_batch(xs, 0.2, out=xs, ctx=device)
    for x, o, w in zip(xs, outs, want):
        assert o is x
        assert_bits_equal(x, w)


def test_batch_views_of_one_pyopencl_buffer(queue):
    import pyopencl.array as cla

    x = random_array(np.dtype(np.float32), 1000, 1)
    xc = cla.to_device(queue, x)
    yc = cla.empty_like(xc)
    cuts = [(0, 100), (100, 333), (333, 1000)]
    outs = leakycl.leaky_relu_batch([xc[a:b] for a, b in cuts], [0.1, 0.5, 2.0], out=[yc[a:b] for a, b in cuts])
    assert all(isinstance(o, cla.Array) for o in outs)
    got = yc.get()
    for (a, b), alpha in zip(cuts, [0.1, 0.5, 2.0]):
        assert_bits_equal(got[a:b], ref_forward(x[a:b], alpha))


def test_batch_bad_item_writes_nothing(device):
    xs = [random_array(np.dtype(np.float32), 10, i) for i in range(3)]
    outs = [np.full(10, 7.0, np.float32) for _ in range(3)]
    with pytest.raises(leakycl.InvalidArgument):
        leakycl.leaky_relu_batch(xs, [0.1, float("nan"), 0.1], out=outs, ctx=device)
    assert all((o == 7.0).all() for o in outs)
    base = random_array(np.dtype(np.float32), 20, 9)
    before = base.copy()
    with pytest.raises(leakycl.InvalidArgument):  # item 0 writes where item 1 reads
        leakycl.leaky_relu_batch([base[:10], base[5:15]], 0.1, out=[base[5:15], np.empty(10, np.float32)],
                                 ctx=device)
    assert_bits_equal(base, before)
    with pytest.raises(leakycl.InvalidArgument, match="alphas"):
        leakycl.leaky_relu_batch(xs, [0.1], ctx=device)
    assert leakycl.leaky_relu_batch([], [], ctx=device) == []
