"""The zero-copy claims: contiguous arrays are used where they lie (data pointers before and
after; ``out`` is the very object returned), nothing of the output's size is allocated when
``out`` is given (numpy reports its allocations to tracemalloc), a result costs exactly one
allocation, and a non-contiguous input exactly one copy."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import leakycl
from conftest import random_array

N = 1 << 20  # 4 MiB of float32: far above anything a call needs for itself


def peak_during(fn) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - base


def all_calls_with_out(x, dy, mask, slope, out, ctx):
    return [
        lambda: leakycl.leaky_relu(x, 0.1, out=out, ctx=ctx),
        lambda: leakycl.leaky_relu(out, 0.1, out=out, ctx=ctx),  # in place
        lambda: leakycl.leaky_relu_backward(x, dy, 0.1, out=out, ctx=ctx),
        lambda: leakycl.leaky_relu_backward_from_output(x, dy, 0.1, out=out, ctx=ctx),
        lambda: leakycl.leaky_relu_backward_masked(mask, dy, 0.1, out=out, ctx=ctx),
        lambda: leakycl.prelu(x.reshape(4, -1), slope, 0, out=out.reshape(4, -1), ctx=ctx),
        lambda: leakycl.leaky_relu_batch([x], [0.1], out=[out], ctx=ctx),
    ]


def test_out_is_written_in_place_and_nothing_of_its_size_is_allocated(device):
    x = random_array(np.dtype(np.float32), N, 1)
    dy = random_array(np.dtype(np.float32), N, 2)
    _, mask = leakycl.leaky_relu_masked(x, 0.1, ctx=device)
    slope = np.array([0.1, 0.2, 0.3, 0.4], np.float32)
    out = np.empty(N, np.float32)
    ptrs = (x.ctypes.data, dy.ctypes.data, out.ctypes.data)
    for i, call in enumerate(all_calls_with_out(x, dy, mask, slope, out, device)):
        call()  # warm: first calls may compile or allocate workspaces
        peak = peak_during(call)
        assert peak < out.nbytes // 8, f"call {i} allocated {peak} bytes on the Python heap"
    assert (x.ctypes.data, dy.ctypes.data, out.ctypes.data) == ptrs


def test_a_result_is_one_allocation(device):
    x = random_array(np.dtype(np.float32), N, 3)
    leakycl.leaky_relu(x, 0.1, ctx=device)
    peak = peak_during(lambda: leakycl.leaky_relu(x, 0.1, ctx=device))
    assert x.nbytes <= peak < x.nbytes + x.nbytes // 8


def test_a_non_contiguous_input_is_copied_once(device):
    base = random_array(np.dtype(np.float32), 2 * N, 4)
    x = base[::2]
    out = np.empty(N, np.float32)
    leakycl.leaky_relu(x, 0.1, out=out, ctx=device)
    peak = peak_during(lambda: leakycl.leaky_relu(x, 0.1, out=out, ctx=device))
    assert x.nbytes <= peak < x.nbytes + x.nbytes // 8


def test_torch_out_keeps_its_storage(device):
    torch = pytest.importorskip("torch")
    x = torch.randn(10_000)
    out = torch.empty(10_000)
    ptr = out.data_ptr()
    assert leakycl.leaky_relu(x, 0.1, out=out, ctx=device) is out
    assert out.data_ptr() == ptr
    assert torch.equal(out, torch.nn.functional.leaky_relu(x, 0.1))
    y = leakycl.leaky_relu(x, 0.1, out=x, ctx=device)
    assert y is x


def test_pyopencl_arrays_stay_in_their_buffer(queue):
    import pyopencl.array as cla

    x = cla.to_device(queue, random_array(np.dtype(np.float32), 4096, 5))
    out = cla.empty_like(x)
    buf = out.base_data.int_ptr
    assert leakycl.leaky_relu(x, 0.1, out=out) is out
    assert out.base_data.int_ptr == buf
    y = leakycl.leaky_relu(x, 0.1)
    assert y.queue is queue
    assert leakycl.Context.wrap(queue) is leakycl.Context.wrap(queue)  # one context per queue


def test_the_extension_never_converts(device):
    """_core itself (below the Python checks) reads arrays through the buffer protocol, which
    never converts: a wrong dtype, a strided or a read-only output is refused, not copied."""
    from leakycl import _core

    x = np.ones(16, np.float32)
    with pytest.raises(leakycl.InvalidArgument, match="bytes"):
        _core.forward(device._core, _core.F32, 16, 0.1, x, np.zeros(16, np.float64))
    strided = np.zeros(32, np.float32)[::2]
    with pytest.raises(leakycl.InvalidArgument, match="C-contiguous"):
        _core.forward(device._core, _core.F32, 16, 0.1, x, strided)
    ro = np.zeros(16, np.float32)
    ro.flags.writeable = False
    with pytest.raises(leakycl.InvalidArgument, match="writable"):
        _core.forward(device._core, _core.F32, 16, 0.1, x, ro)
    assert not strided.any() and not ro.any()
    with pytest.raises(leakycl.InvalidArgument, match="C-contiguous"):
        _core.prelu_forward(device._core, _core.F32, 1, 1, 16, np.ones(1, np.float32), np.ones(32, np.float32)[::2],
                            np.zeros(16, np.float32))
