"""Shared fixtures: the two backends, array kinds, random data with every special value, and
the numpy reference of the piecewise formula.

Every test that takes ``device`` runs on the CPU backend and on the first OpenCL device (PoCL
where there is no GPU). Without an OpenCL device the OpenCL runs are skipped with a reason,
except with CI=true in the environment, where they fail: CI must not quietly lose a backend.
"""

from __future__ import annotations

import os

import ml_dtypes
import numpy as np
import pytest

import leakycl

BF16 = np.dtype(ml_dtypes.bfloat16)
FLOAT_DTYPES = [np.dtype(np.float32), np.dtype(np.float16), BF16, np.dtype(np.float64)]
DTYPE_IDS = ["f32", "f16", "bf16", "f64"]
# Slopes the contract calls out: the usual one, 0, 1, > 1 (where max(a*x, x) is wrong), negative.
ALPHAS = [0.01, 0.0, 1.0, 2.5, -0.3]


def _has_opencl() -> bool:
    return any(d.spec.startswith("opencl") for d in leakycl.devices())


def _require_opencl() -> None:
    if _has_opencl():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("no OpenCL device, and CI=true: the OpenCL tests must run (install pocl-opencl-icd)")
    pytest.skip("no OpenCL device (set CI=true to make this a failure)")


_contexts: dict[str, leakycl.Context] = {}


def context_for(spec: str) -> leakycl.Context:
    """One context per backend for the whole session (kernels compile once)."""
    if spec == "opencl":
        _require_opencl()
    if spec not in _contexts:
        _contexts[spec] = leakycl.Context(spec)
        assert _contexts[spec].backend == spec
    return _contexts[spec]


@pytest.fixture(params=["cpu", "opencl"])
def device(request) -> leakycl.Context:
    """The context of one backend."""
    return context_for(request.param)


_queue = None


def cl_queue():
    """A pyopencl queue on the OpenCL device leakycl's "opencl" spec picks."""
    global _queue
    _require_opencl()
    if _queue is None:
        import pyopencl as cl

        platform = cl.get_platforms()[0]
        _queue = cl.CommandQueue(cl.Context([platform.get_devices()[0]]))
    return _queue


@pytest.fixture
def queue():
    return cl_queue()


# ---- data -----------------------------------------------------------------------------------


def specials(dtype: np.dtype) -> np.ndarray:
    """Every value the contract names: ±0, ±inf, NaN, the smallest and largest subnormals,
    the largest finite, values next to 1, ±1 and ±the usual alphas."""
    info = ml_dtypes.finfo(dtype) if dtype == BF16 else np.finfo(dtype)
    tiny = float(info.tiny)
    smallest_sub = float(info.smallest_subnormal)
    vals = [0.0, -0.0, np.inf, -np.inf, np.nan, smallest_sub, -smallest_sub, tiny - smallest_sub,
            -(tiny - smallest_sub), tiny, -tiny, float(info.max), -float(info.max), 1.0, -1.0, 0.01, -0.01,
            2.5, -2.5, 0.3, -0.3, float(np.nextafter(np.float32(1), np.float32(2))), -1e-30, 1e-30]
    return np.array(vals, dtype=np.float64).astype(dtype)


def random_array(dtype: np.dtype, n: int, seed: int = 0) -> np.ndarray:
    """n values mixing signs and magnitudes (subnormals included) with the specials spread in."""
    rng = np.random.default_rng(seed)
    mags = np.exp(rng.uniform(-40, 10, n)) if dtype != np.float64 else np.exp(rng.uniform(-700, 10, n))
    x = (mags * rng.choice([-1.0, 1.0], n)).astype(dtype)
    sp = specials(dtype)
    if n:
        idx = rng.choice(n, size=min(n, len(sp)), replace=False)
        x[idx] = sp[: len(idx)]
    return x


def bits(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    return a.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize])


def compute_dtype(dtype: np.dtype) -> type:
    return np.float64 if dtype == np.float64 else np.float32


def ref_forward(x: np.ndarray, alpha: float) -> np.ndarray:
    """The piecewise formula: one multiply in the compute type, rounded once to the storage type."""
    ct = compute_dtype(x.dtype)
    xc = x.astype(ct)
    with np.errstate(all="ignore"):
        return np.where(xc > 0, xc, ct(alpha) * xc).astype(x.dtype)


def ref_backward(x: np.ndarray, dy: np.ndarray, alpha: float) -> np.ndarray:
    ct = compute_dtype(x.dtype)
    with np.errstate(all="ignore"):
        return np.where(x.astype(ct) > 0, dy.astype(ct), ct(alpha) * dy.astype(ct)).astype(dy.dtype)


def assert_bits_equal(got, want, what: str = "") -> None:
    """Bit for bit, except that any NaN matches any NaN (payloads may differ)."""
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    g64 = got.astype(np.float64)
    w64 = want.astype(np.float64)
    both_nan = np.isnan(g64) & np.isnan(w64)
    same = (bits(got) == bits(want)) | both_nan
    if not same.all():
        i = np.flatnonzero(~same.ravel())[0]
        raise AssertionError(f"{what}: {(~same).sum()} of {same.size} differ; first at {i}: "
                             f"got {got.ravel()[i]!r}, want {want.ravel()[i]!r}")


def to_numpy(a) -> np.ndarray:
    """Any result kind as a numpy array (torch bf16 through its 16-bit view)."""
    if isinstance(a, np.ndarray):
        return a
    if hasattr(a, "get") and hasattr(a, "queue"):
        return a.get()
    import torch

    if a.dtype == torch.bfloat16:
        return a.view(torch.int16).numpy().view(BF16)
    return a.numpy()


def from_numpy(kind: str, a: np.ndarray, queue=None):
    """A numpy array as the given kind ("numpy", "torch", "cl")."""
    if kind == "numpy":
        return a.copy()
    if kind == "torch":
        import torch

        if a.dtype == BF16:
            return torch.from_numpy(a.view(np.int16).copy()).view(torch.bfloat16)
        return torch.from_numpy(a.copy())
    import pyopencl.array as cla

    return cla.to_device(queue, a)
