"""The exception hierarchy and what raises each class; messages carry lcl_last_error(); a
rejected call writes nothing and changes no input; outputs are never converted copies."""

from __future__ import annotations

import glob
import os
import pathlib
import shutil

import numpy as np
import pytest

import leakycl
from leakycl import _errors
from conftest import random_array


def test_hierarchy():
    for cls in (leakycl.InvalidArgument, leakycl.Unsupported, leakycl.OutOfMemory, leakycl.DeviceNotFound,
                leakycl.BuildFailed, leakycl.OpenCLError, leakycl.BLASError):
        assert issubclass(cls, leakycl.Error)
    assert issubclass(leakycl.InvalidArgument, ValueError)
    assert issubclass(leakycl.OutOfMemory, MemoryError)
    # one class per C status, in the enum's order
    assert [_errors.class_for_status(s) for s in range(1, 8)] == [
        leakycl.InvalidArgument, leakycl.Unsupported, leakycl.OutOfMemory, leakycl.DeviceNotFound,
        leakycl.BuildFailed, leakycl.OpenCLError, leakycl.BLASError]
    assert _errors.class_for_status(99) is leakycl.Error


def test_device_not_found_and_bad_spec():
    with pytest.raises(leakycl.DeviceNotFound) as e:
        leakycl.Context("opencl:97:97")
    assert str(e.value) and e.value.status == 4
    with pytest.raises(leakycl.InvalidArgument):
        leakycl.Context("no-such-spec")
    with pytest.raises(leakycl.InvalidArgument):
        leakycl.Context(3)  # type: ignore[arg-type]


def test_c_message_is_carried(device):
    x = np.ones(10, np.float32)
    with pytest.raises(leakycl.InvalidArgument, match="alpha") as e:
        leakycl.leaky_relu(x, float("inf"), ctx=device)
    assert e.value.status == 1
    with pytest.raises(ValueError):  # InvalidArgument is a ValueError
        leakycl.leaky_relu(x, float("nan"), ctx=device)


def poisoned(n, dtype=np.float32):
    return np.full(n, 123.0, dtype)


def test_rejected_calls_write_nothing(device):
    x = random_array(np.dtype(np.float32), 100, 1)
    x_before = x.copy()
    out = poisoned(100)
    cases = [
        lambda: leakycl.leaky_relu(x, float("nan"), out=out, ctx=device),
        lambda: leakycl.leaky_relu_backward(x, x[:50], 0.1, out=out, ctx=device),
        lambda: leakycl.leaky_relu_backward_from_output(x, x, -0.1, out=out, ctx=device),
        lambda: leakycl.leaky_relu(x, 0.1, out=np.empty(100, np.float64), ctx=device),
        lambda: leakycl.leaky_relu(x, 0.1, out=np.empty(99, np.float32), ctx=device),
        lambda: leakycl.prelu(x.reshape(10, 10), np.ones(3, np.float32), out=out.reshape(10, 10), ctx=device),
    ]
    for i, case in enumerate(cases):
        with pytest.raises(leakycl.InvalidArgument):
            case()
        assert (out == 123.0).all(), f"case {i} wrote into out"
        assert np.array_equal(x.view(np.uint32), x_before.view(np.uint32)), f"case {i} changed x"


def test_partial_overlap_is_refused(device):
    a = random_array(np.dtype(np.float32), 200, 2)
    before = a.copy()
    with pytest.raises(leakycl.InvalidArgument):
        leakycl.leaky_relu(a[:150], 0.1, out=a[1:151], ctx=device)
    with pytest.raises(leakycl.InvalidArgument):
        leakycl.prelu(a[:150].reshape(3, 50), np.ones(3, np.float32), out=a[10:160].reshape(3, 50), ctx=device)
    with pytest.raises(leakycl.InvalidArgument):
        leakycl.leaky_relu_backward(a[:100], a[100:200], 0.1, out=a[50:150], ctx=device)
    assert np.array_equal(a.view(np.uint32), before.view(np.uint32))


def test_unusable_out_is_refused_not_copied(device):
    x = random_array(np.dtype(np.float32), 64, 3)
    ro = np.zeros(64, np.float32)
    ro.flags.writeable = False
    with pytest.raises(leakycl.InvalidArgument, match="read-only"):
        leakycl.leaky_relu(x, 0.1, out=ro, ctx=device)
    strided = np.zeros(128, np.float32)[::2]
    with pytest.raises(ValueError, match="contiguous"):
        leakycl.leaky_relu(x, 0.1, out=strided, ctx=device)
    assert not strided.any() and not ro.any()
    wrong = np.zeros(64, np.float64)  # a converting binding would write into a float32 temporary
    with pytest.raises(leakycl.InvalidArgument, match="dtype"):
        leakycl.leaky_relu(x, 0.1, out=wrong, ctx=device)
    import torch

    t_out = torch.zeros(128)[::2]
    with pytest.raises(leakycl.InvalidArgument, match="contiguous"):
        leakycl.leaky_relu(torch.from_numpy(x), 0.1, out=t_out, ctx=device)


def test_bad_inputs(device):
    with pytest.raises(leakycl.InvalidArgument, match="dtype"):
        leakycl.leaky_relu(np.ones(4, np.int32), ctx=device)
    with pytest.raises(leakycl.InvalidArgument, match="expected a numpy array"):
        leakycl.leaky_relu([1.0, -1.0], ctx=device)
    with pytest.raises(leakycl.InvalidArgument, match="shape"):
        leakycl.leaky_relu_backward(np.ones(4, np.float32), np.ones(5, np.float32), ctx=device)
    import torch

    with pytest.raises(leakycl.InvalidArgument, match="torch tensor"):
        leakycl.leaky_relu_backward(np.ones(4, np.float32), torch.ones(4), ctx=device)
    with pytest.raises(leakycl.InvalidArgument, match="ctx"):
        leakycl.leaky_relu(np.ones(4, np.float32), ctx="cpu")  # type: ignore[arg-type]
    with pytest.raises(leakycl.InvalidArgument, match="mask"):
        leakycl.leaky_relu_backward_masked(np.ones(4, np.float32), np.ones(4, np.float32), ctx=device)


def test_closed_context_is_refused():
    ctx = leakycl.Context("cpu")
    ctx.close()
    ctx.close()  # idempotent
    assert ctx.closed
    with pytest.raises(leakycl.InvalidArgument, match="closed"):
        leakycl.leaky_relu(np.ones(4, np.float32), ctx=ctx)


def test_pyopencl_arrays_need_their_queue_context(queue):
    import pyopencl.array as cla

    xc = cla.to_device(queue, np.ones(8, np.float32))
    with pytest.raises(leakycl.InvalidArgument, match="queue"):
        leakycl.leaky_relu(xc, ctx=leakycl.Context("cpu"))
    with pytest.raises(leakycl.InvalidArgument, match="pyopencl"):
        leakycl.leaky_relu_backward(xc, np.ones(8, np.float32))
    assert leakycl.leaky_relu(xc, ctx=leakycl.Context.wrap(queue)).get().tolist() == [1.0] * 8


def test_build_failed_carries_the_build_log(tmp_path: pathlib.Path, monkeypatch):
    """LEAKYCL_KERNEL_DIR (read at context creation) pointed at kernels that do not compile."""
    from conftest import _require_opencl

    _require_opencl()
    kernels = pathlib.Path(__file__).resolve().parents[2] / "kernels"
    sources = glob.glob(str(kernels / "*.cl"))
    assert sources, f"no kernels in {kernels}"
    for src in sources:
        shutil.copy(src, tmp_path)
        with open(tmp_path / os.path.basename(src), "a") as f:
            f.write("\nthis is not OpenCL C;\n")
    monkeypatch.setenv("LEAKYCL_KERNEL_DIR", str(tmp_path))
    ctx = leakycl.Context("opencl")
    with pytest.raises(leakycl.BuildFailed) as e:
        leakycl.prelu(np.ones((2, 3), np.float32), np.ones(3, np.float32), ctx=ctx)
    assert e.value.status == 5 and "error" in str(e.value).lower()
    ctx.close()
