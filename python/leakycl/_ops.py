"""The leaky ReLU functions. Each takes numpy arrays, torch CPU tensors, pyopencl arrays or
other CPU DLPack arrays and returns the same kind (numpy for other DLPack arrays), computed
by the C library bit for bit as its contract says:

    forward:   y  = x   if x > 0, else alpha * x     (so f(-0) = alpha * -0, NaN stays NaN)
    backward:  dx = dy  if x > 0, else alpha * dy

in fp32 for float32, float16 and bfloat16 storage (alpha rounded to fp32 first, one multiply,
rounded once), fp64 for float64. Every function takes ``ctx=None`` (the default context, or
for pyopencl arrays the context of their queue) and, where it has one output, ``out=None``: a
C-contiguous writable array of the result's kind, dtype and shape, which may be an input
(in place). Inputs are never changed (unless they are ``out``); a non-contiguous input is
copied once; contiguous inputs and outputs are used where they lie.

Host arrays on the CPU backend are computed in place; on an OpenCL device ``leaky_relu`` and
the backward functions use the C library's host-array path (zero-copy where the device
shares host memory, else streamed), the others copy each array to the device once and the
result back once. pyopencl arrays stay on their device: the work is enqueued on their queue
and the call returns without waiting, as pyopencl's own operations do.
"""

from __future__ import annotations

import math
import sys
from typing import Any, Optional, Sequence

from . import _core
from ._arrays import CL, NUMPY, Kind, as_array, kind_of, mask_words
from ._context import Context, context_for_queue, default_context
import numpy as np

from ._dtypes import F16, F32, F64, MASK, NUMPY_BY_CODE, torch_codes
from ._errors import InvalidArgument

__all__ = [
    "leaky_relu",
    "leaky_relu_backward",
    "leaky_relu_backward_from_output",
    "leaky_relu_masked",
    "leaky_relu_backward_masked",
    "prelu",
    "prelu_backward",
    "leaky_relu_batch",
    "dense",
    "dense_backward",
]


# ---- arguments ------------------------------------------------------------------------------------


def _context(ctx: Optional[Context], kind: Kind, first: Any) -> Any:
    """The _core context a call runs on."""
    if kind is CL:
        wrapped = context_for_queue(first.queue)
        if ctx is not None and ctx is not wrapped and _queue_of(ctx) != first.queue.int_ptr:
            raise InvalidArgument("pyopencl arrays run on the context of their queue (ctx=None or Context.wrap(queue))")
        return wrapped._core
    if ctx is None:
        return default_context()._core
    if not isinstance(ctx, Context):
        raise InvalidArgument(f"ctx must be a leakycl.Context or None, not {type(ctx).__name__}")
    return ctx._core


def _queue_of(ctx: Any) -> int:
    if not isinstance(ctx, Context):
        raise InvalidArgument(f"ctx must be a leakycl.Context or None, not {type(ctx).__name__}")
    return ctx._core.cl_queue


def _inputs(names: Sequence[str], arrays: Sequence[Any]) -> tuple[Kind, int, list[Any]]:
    """The arrays of one call as one kind, dtype and shape, each contiguous."""
    first = as_array(arrays[0])
    kind = kind_of(first)
    code = kind.code(first)
    result = []
    for name, a in zip(names, arrays):
        a = as_array(a)
        if kind_of(a) is not kind:
            raise InvalidArgument(f"{name} is a {kind_of(a).name} where {names[0]} is a {kind.name}")
        if kind.code(a) != code:
            raise InvalidArgument(f"{name} has dtype {a.dtype} where {names[0]} has {first.dtype}")
        if tuple(a.shape) != tuple(first.shape):
            raise InvalidArgument(f"{name} has shape {tuple(a.shape)} where {names[0]} has {tuple(first.shape)}")
        if kind is CL and not kind.same_device(a, first):
            raise InvalidArgument(f"{name} is on another queue than {names[0]}")
        result.append(kind.contiguous(a))
    return kind, code, result


def _output(kind: Kind, like: Any, out: Any, shape: tuple[int, ...], name: str = "out", dtype: Any = None) -> Any:
    """A new result array, or ``out`` checked against what the result needs."""
    if out is None:
        return kind.empty(like, shape, dtype)
    if kind_of(out) is not kind:
        raise InvalidArgument(f"{name} is a {kind_of(out).name} where the inputs are {kind.name}s")
    want = like.dtype if dtype is None else dtype
    if out.dtype != want:
        raise InvalidArgument(f"{name} has dtype {out.dtype}, the result is {want}")
    if tuple(out.shape) != tuple(shape):
        raise InvalidArgument(f"{name} has shape {tuple(out.shape)}, the result is {tuple(shape)}")
    if kind is CL and not kind.same_device(out, like):
        raise InvalidArgument(f"{name} is on another queue than the inputs")
    kind.check_out(out, name)
    return out


def _check_alpha(alpha: float) -> float:
    alpha = float(alpha)
    if not math.isfinite(alpha):
        raise InvalidArgument(f"alpha must be finite, not {alpha}")
    return alpha


def _size(a: Any) -> int:
    return int(a.numel()) if hasattr(a, "numel") else int(a.size)


# The common case, numpy arrays that need no copy, checked in a few attribute reads: a call's
# cost in Python is most of its cost at small sizes. Anything else takes the general path.
_FAST_CODES = {np.dtype(np.float32): F32, np.dtype(np.float16): F16, np.dtype(np.float64): F64}


def _fast_numpy(arrays: tuple[Any, ...], out: Any, ctx: Optional[Context]) -> Optional[tuple[Any, int, Any]]:
    """(core context, dtype code, output) when every array is a C-contiguous numpy array of one
    float dtype (not bfloat16) and shape, ``out`` is None or one more such (writable) array and
    ``ctx`` is None or a Context; else None."""
    x = arrays[0]
    dtype = x.dtype
    code = _FAST_CODES.get(dtype)
    if code is None or not x.flags.c_contiguous:
        return None
    shape = x.shape
    for a in arrays[1:]:
        if type(a) is not np.ndarray or a.dtype != dtype or a.shape != shape or not a.flags.c_contiguous:
            return None
    if out is None:
        out = np.empty(shape, dtype)
    else:
        if type(out) is not np.ndarray or out.dtype != dtype or out.shape != shape:
            return None
        flags = out.flags
        if not (flags.c_contiguous and flags.writeable):
            return None
    if ctx is None:
        core = default_context()._core
    elif type(ctx) is Context:
        core = ctx._core
    else:
        return None
    return core, code, out


def _fast_torch(arrays: tuple[Any, ...], out: Any, ctx: Optional[Context]) -> Optional[tuple[Any, int, Any]]:
    """As _fast_numpy, for contiguous CPU torch tensors of one float dtype and shape (the
    operands are then their data pointers)."""
    x = arrays[0]
    torch = sys.modules["torch"]
    dtype = x.dtype
    code = torch_codes().get(dtype)
    if code is None or x.device.type != "cpu" or not x.is_contiguous():
        return None
    shape = x.shape
    for a in arrays[1:]:
        if not isinstance(a, torch.Tensor) or a.dtype != dtype or a.shape != shape or a.device.type != "cpu" \
                or not a.is_contiguous():
            return None
    if out is None:
        out = torch.empty(shape, dtype=dtype)
    elif not isinstance(out, torch.Tensor) or out.dtype != dtype or out.shape != shape \
            or out.device.type != "cpu" or not out.is_contiguous():
        return None
    if ctx is None:
        core = default_context()._core
    elif type(ctx) is Context:
        core = ctx._core
    else:
        return None
    return core, code, out


def _fast(arrays: tuple[Any, ...], out: Any, ctx: Optional[Context]) -> Optional[tuple[Any, int, Any, list[Any]]]:
    """(core context, code, output, operands of arrays + output) for the common cases: numpy
    arrays and torch tensors that need no copy; None for anything else."""
    x = arrays[0]
    if type(x) is np.ndarray:
        fast = _fast_numpy(arrays, out, ctx)
        if fast is not None:
            return fast[0], fast[1], fast[2], [*arrays, fast[2]]
        return None
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        fast = _fast_torch(arrays, out, ctx)
        if fast is not None:
            return fast[0], fast[1], fast[2], [a.data_ptr() for a in (*arrays, fast[2])]
    return None


def _nothing_to_do(kind: Kind, n: int) -> bool:
    """pyopencl arrays of no elements may have no buffer: there is nothing to enqueue."""
    return n == 0 and kind is CL


# ---- elementwise ----------------------------------------------------------------------------------


def _run(op: Any, kind: Kind, code: int, alpha: float, ctx: Optional[Context], first: Any,
         operands: Sequence[tuple[Any, int]]) -> None:
    """One elementwise _core op of n = first's elements on (array, dtype code) operands, the
    output last; pyopencl arrays of no elements have nothing to enqueue (alpha is still checked)."""
    n = _size(first)
    if _nothing_to_do(kind, n):
        _check_alpha(alpha)
        return
    op(_context(ctx, kind, first), code, n, alpha, *[kind.operand(a, c) for a, c in operands])


def leaky_relu(x: Any, alpha: float = 0.01, *, out: Any = None, ctx: Optional[Context] = None) -> Any:
    """y = x where x > 0, else alpha * x, elementwise; any finite alpha (also 0, negative, > 1).

    Returns ``out`` if given (``out=x`` runs in place), else a new array of x's kind, dtype and
    shape. Raises InvalidArgument for a NaN or infinite alpha, a dtype other than float32,
    float16, bfloat16 or float64, or an unusable ``out``; Unsupported for float64 on a device
    without it."""
    fast = _fast((x,), out, ctx)
    if fast is not None:
        _core.forward(fast[0], fast[1], _size(x), alpha, *fast[3])
        return fast[2]
    kind, code, (x,) = _inputs(("x",), (x,))
    y = _output(kind, x, out, tuple(x.shape))
    _run(_core.forward, kind, code, alpha, ctx, x, ((x, code), (y, code)))
    return y


def leaky_relu_backward(x: Any, dy: Any, alpha: float = 0.01, *, out: Any = None,
                        ctx: Optional[Context] = None) -> Any:
    """dx = dy where x > 0, else alpha * dy: the gradient through :func:`leaky_relu` from its
    input x. x and dy have one kind, dtype and shape; ``out`` may be dy or x."""
    fast = _fast((x, dy), out, ctx)
    if fast is not None:
        _core.backward(fast[0], fast[1], _size(x), alpha, *fast[3])
        return fast[2]
    kind, code, (x, dy) = _inputs(("x", "dy"), (x, dy))
    dx = _output(kind, x, out, tuple(x.shape))
    _run(_core.backward, kind, code, alpha, ctx, x, ((x, code), (dy, code), (dx, code)))
    return dx


def leaky_relu_backward_from_output(y: Any, dy: Any, alpha: float = 0.01, *, out: Any = None,
                                    ctx: Optional[Context] = None) -> Any:
    """dx = dy where y > 0, else alpha * dy, from the forward's output y (for in-place
    training). Exact only for alpha >= 0 (then y > 0 exactly where x > 0), so a negative alpha
    raises InvalidArgument; :func:`leaky_relu_masked` covers every alpha."""
    kind, code, (y, dy) = _inputs(("y", "dy"), (y, dy))
    dx = _output(kind, y, out, tuple(y.shape))
    if float(alpha) < 0:
        raise InvalidArgument(f"backward from the output needs alpha >= 0 (got {float(alpha)}); "
                              "use leaky_relu_masked / leaky_relu_backward_masked")
    _run(_core.backward_from_output, kind, code, alpha, ctx, y, ((y, code), (dy, code), (dx, code)))
    return dx


def leaky_relu_masked(x: Any, alpha: float = 0.01, *, out: Any = None, ctx: Optional[Context] = None) -> tuple[Any, Any]:
    """(y, mask): y as :func:`leaky_relu` gives it, and the sign of x, (x > 0), packed 32 per
    32-bit word (element i is bit i % 32 of word i // 32; -0, +0 and NaN give 0): a uint32
    array of ceil(n / 32) words (int32 for torch, which has no uint32; same bits), of x's kind.
    Bits past element n-1 in the last word are unspecified. ``out`` is y's."""
    kind, code, (x,) = _inputs(("x",), (x,))
    y = _output(kind, x, out, tuple(x.shape))
    mask = kind.empty_mask(x, _size(x))
    _run(_core.forward_masked, kind, code, alpha, ctx, x, ((x, code), (y, code), (mask, MASK)))
    return y, mask


def leaky_relu_backward_masked(mask: Any, dy: Any, alpha: float = 0.01, *, out: Any = None,
                               ctx: Optional[Context] = None) -> Any:
    """dx = dy where the mask bit is 1, else alpha * dy: the backward from the mask that
    :func:`leaky_relu_masked` made, exact for every alpha; ``out=dy`` runs in place. The mask
    has ceil(dy.size / 32) words of dy's kind."""
    kind, code, (dy,) = _inputs(("dy",), (dy,))
    mask = as_array(mask)
    n = _size(dy)
    if kind_of(mask) is not kind or not kind.is_mask(mask):
        raise InvalidArgument("mask must be the uint32 (int32 for torch) mask of leaky_relu_masked, of dy's kind")
    if _size(mask) != mask_words(n) or len(mask.shape) != 1:
        raise InvalidArgument(f"mask has shape {tuple(mask.shape)}; {mask_words(n)} words hold dy's {n} elements")
    if kind is CL and not kind.same_device(mask, dy):
        raise InvalidArgument("mask is on another queue than dy")
    mask = kind.contiguous(mask)
    dx = _output(kind, dy, out, tuple(dy.shape))
    _run(_core.backward_masked, kind, code, alpha, ctx, dy, ((mask, MASK), (dy, code), (dx, code)))
    return dx


# ---- PReLU -------------------------------------------------------------------------------------


def _prelu_layout(xshape: tuple[int, ...], sshape: tuple[int, ...], axis: Optional[int]) -> tuple[int, int]:
    """(channels, inner) of the C library's [batch, channels, inner] view of x for a slope.

    A 1-D slope as long as x's ``axis`` is per channel along that axis (torch's PReLU, ONNX
    opset 6). Otherwise the slope broadcasts against x as numpy does, and must vary along one
    run of consecutive axes (ONNX opset 7+: (C, 1, 1) for NCHW, (W,) for the last axis, x's
    whole shape for a slope per element); a single slope covers every element."""
    ndim = len(xshape)
    ssize = math.prod(sshape)
    if axis is not None and len(sshape) == 1 and ndim >= 1:
        ax = axis + ndim if axis < 0 else axis
        if 0 <= ax < ndim and xshape[ax] == sshape[0]:
            return sshape[0], math.prod(xshape[ax + 1:])
    if ssize == 1 and len(sshape) <= max(ndim, 1):
        return 1, 1
    if len(sshape) > ndim:
        raise InvalidArgument(f"slope of shape {sshape} does not broadcast to x's {xshape}")
    padded = (1,) * (ndim - len(sshape)) + tuple(sshape)
    for s, d in zip(padded, xshape):
        if s != 1 and s != d:
            raise InvalidArgument(f"slope of shape {sshape} does not broadcast to x's {xshape}")
    varying = [k for k, s in enumerate(padded) if s != 1]
    first, last = varying[0], varying[-1] + 1
    if any(padded[k] != xshape[k] for k in range(first, last)):
        from ._errors import Unsupported

        raise Unsupported(f"slope of shape {sshape} varies along axes that are not consecutive in x's {xshape}; "
                          "leakycl takes slopes along one run of axes")
    return math.prod(xshape[first:last]), math.prod(xshape[last:])


def _prelu_args(x: Any, slope: Any, axis: Optional[int], extra: Sequence[tuple[str, Any]] = ()):
    names = ("x",) + tuple(name for name, _ in extra)
    kind, code, arrays = _inputs(names, (x,) + tuple(a for _, a in extra))
    x = arrays[0]
    if isinstance(slope, (int, float, np.generic)):  # one number: rounded to x's dtype
        slope = np.array([slope], dtype=np.float64).astype(NUMPY_BY_CODE[code])
    slope = as_array(slope)
    if kind is CL and kind_of(slope) is NUMPY:
        import pyopencl.array as cla

        slope = cla.to_device(x.queue, NUMPY.contiguous(slope))
    if kind_of(slope) is not kind and not (not kind.is_cl and not kind_of(slope).is_cl):
        raise InvalidArgument(f"slope is a {kind_of(slope).name} where x is a {kind.name}")
    skind = kind_of(slope)
    if skind.code(slope) != code:
        raise InvalidArgument(f"slope has dtype {slope.dtype} where x has {x.dtype}")
    channels, inner = _prelu_layout(tuple(x.shape), tuple(slope.shape), axis)
    return kind, code, arrays, skind, skind.contiguous(slope), channels, inner


def prelu(x: Any, slope: Any, axis: Optional[int] = 1, *, out: Any = None, ctx: Optional[Context] = None) -> Any:
    """y = x where x > 0, else slope[c] * x, c the element's channel (ONNX PRelu, torch PReLU).

    ``slope`` has x's dtype (a plain number is rounded to it). A 1-D slope as long as ``x.shape[axis]`` gives a slope per index
    of that axis (axis=1: torch's channels, ONNX opset 6); any other slope broadcasts against x
    numpy-style (ONNX opset 7+) and must vary along consecutive axes only; ``axis=None`` asks
    for broadcasting alone. Slopes may be any value, negative ones too (not checked: a NaN
    slope gives NaN on its channel's alpha branch)."""
    kind, code, (x,), skind, slope, channels, inner = _prelu_args(x, slope, axis)
    n = _size(x)
    y = _output(kind, x, out, tuple(x.shape))
    if n == 0:  # an axis of length 0: no channels to speak of, and nothing to compute
        return y
    _core.prelu_forward(_context(ctx, kind, x), code, channels, inner, n, skind.operand(slope, code),
                        kind.operand(x, code), kind.operand(y, code))
    return y


def prelu_backward(x: Any, dy: Any, slope: Any, axis: Optional[int] = 1, *,
                   ctx: Optional[Context] = None) -> tuple[Any, Any]:
    """(dx, dslope): dx = dy where x > 0, else slope[c] * dy (exact); dslope[c] = the sum of
    dy * x over the elements of channel c where x is not > 0, in slope's shape. dslope is the
    one inexact result: summed in fp32 (fp64 for float64) in a fixed two-stage order, so the
    same inputs give the same bits on every run of a backend (see lcl_prelu_backward)."""
    kind, code, (x, dy), skind, slope, channels, inner = _prelu_args(x, slope, axis, (("dy", dy),))
    n = _size(x)
    dx = kind.empty(x, tuple(x.shape))
    dslope = skind.empty(slope, tuple(slope.shape))
    if n == 0:  # nothing to sum: every slope's gradient is 0
        dslope.fill_(0) if hasattr(dslope, "fill_") else dslope.fill(0)
        return dx, dslope
    _core.prelu_backward(_context(ctx, kind, x), code, channels, inner, n, skind.operand(slope, code),
                         kind.operand(x, code), kind.operand(dy, code), kind.operand(dx, code),
                         skind.operand(dslope, code))
    return dx, dslope


# ---- batches ------------------------------------------------------------------------------------


def leaky_relu_batch(xs: Sequence[Any], alphas: Any, *, out: Optional[Sequence[Any]] = None,
                     ctx: Optional[Context] = None) -> list[Any]:
    """[leaky_relu(xs[i], alphas[i])] in one call of the C library's batch (one kernel launch
    per buffer on an OpenCL device). ``alphas`` is a sequence as long as ``xs`` or one number
    for all; arrays may differ in dtype and shape but are of one kind. ``out`` is a sequence
    of outputs, one per item (an item may be in place); no item's output may overlap another
    item's arrays. One bad item rejects the whole call before anything is written."""
    xs = [as_array(a) for a in xs]
    count = len(xs)
    if isinstance(alphas, (int, float)):
        alphas = [float(alphas)] * count
    alphas = [float(a) for a in alphas]
    if len(alphas) != count:
        raise InvalidArgument(f"{len(alphas)} alphas for {count} arrays")
    if out is not None and len(out) != count:
        raise InvalidArgument(f"{len(out)} outputs for {count} arrays")
    if count == 0:
        return []
    kind = kind_of(xs[0])
    codes, sizes, xs_c, ys = [], [], [], []
    for i, x in enumerate(xs):
        if kind_of(x) is not kind:
            raise InvalidArgument(f"xs[{i}] is a {kind_of(x).name} where xs[0] is a {kind.name}")
        if kind is CL and not kind.same_device(x, xs[0]):
            raise InvalidArgument(f"xs[{i}] is on another queue than xs[0]")
        codes.append(kind.code(x))
        sizes.append(_size(x))
        xs_c.append(kind.contiguous(x))
        ys.append(_output(kind, x, None if out is None else out[i], tuple(x.shape), f"out[{i}]"))
    live = [i for i in range(count) if not _nothing_to_do(kind, sizes[i])]
    for a in alphas:
        _check_alpha(a)
    if live:
        _core.forward_batch(_context(ctx, kind, xs[0]), [codes[i] for i in live], [sizes[i] for i in live],
                            [alphas[i] for i in live], [kind.operand(xs_c[i], codes[i]) for i in live],
                            [kind.operand(ys[i], codes[i]) for i in live])
    return ys


# ---- dense layer ----------------------------------------------------------------------------------


def _dense_inputs(x: Any, w: Any, extra: Sequence[tuple[str, Any]]) -> tuple[Kind, list[Any]]:
    """The dense layer's float32 arrays (None ones kept), one kind, each contiguous."""
    arrays = [("x", as_array(x)), ("w", as_array(w))] + [(name, None if a is None else as_array(a))
                                                         for name, a in extra]
    kind = kind_of(arrays[0][1])
    result: list[Any] = []
    for name, a in arrays:
        if a is None:
            result.append(None)
            continue
        if kind_of(a) is not kind:
            raise InvalidArgument(f"{name} is a {kind_of(a).name} where x is a {kind.name}")
        if kind.code(a) != F32:
            raise InvalidArgument(f"the dense layer takes float32; {name} has dtype {a.dtype}")
        if kind is CL and not kind.same_device(a, arrays[0][1]):
            raise InvalidArgument(f"{name} is on another queue than x")
        result.append(kind.contiguous(a))
    return kind, result


def _dense_shape(x: Any, w: Any) -> tuple[int, int, int]:
    if len(x.shape) != 2 or len(w.shape) != 2:
        raise InvalidArgument(f"x must be [batch, in] and w [out, in]; got {tuple(x.shape)} and {tuple(w.shape)}")
    batch, in_features = (int(d) for d in x.shape)
    out_features = int(w.shape[0])
    if int(w.shape[1]) != in_features:
        raise InvalidArgument(f"w has shape {tuple(w.shape)}; x's {in_features} inputs need [out, {in_features}]")
    return batch, in_features, out_features


def _operand(kind: Kind, a: Any) -> Any:
    return None if a is None else kind.operand(a, F32)


def dense(x: Any, w: Any, b: Any = None, alpha: float = 0.01, *, out: Any = None,
          ctx: Optional[Context] = None) -> Any:
    """y = leaky_relu(x @ w.T + b, alpha): a fully connected layer, float32.

    x is [batch, in], w is [out, in] (row-major, as torch.nn.Linear keeps its weight), b is
    [out] or None; y is [batch, out]. The product runs on a BLAS (CLBlast on OpenCL devices,
    OpenBLAS on the CPU backend), so it agrees with numpy within rounding, not bit for bit;
    the bias and the leaky ReLU after it are exact. ``out`` may not overlap an input."""
    kind, (x, w, b) = _dense_inputs(x, w, (("b", b),))
    batch, in_features, out_features = _dense_shape(x, w)
    if b is not None and tuple(b.shape) != (out_features,):
        raise InvalidArgument(f"b has shape {tuple(b.shape)}; the layer has {out_features} outputs")
    y = _output(kind, x, out, (batch, out_features))
    _core.dense_forward(_context(ctx, kind, x), batch, in_features, out_features, alpha, kind.operand(x, F32),
                        kind.operand(w, F32), _operand(kind, b), kind.operand(y, F32))
    return y


def dense_backward(x: Any, w: Any, y: Any, dy: Any, alpha: float = 0.01, *, need_dx: bool = True,
                   need_dw: bool = True, need_db: bool = True,
                   ctx: Optional[Context] = None) -> tuple[Any, Any, Any]:
    """(dx, dw, db): the gradients of :func:`dense` from its output y and y's gradient dy, with
    None for each one not asked for. dz = dy where y > 0, else alpha * dy (from the output:
    alpha >= 0, else InvalidArgument), dx = dz @ w [batch, in], dw = dz.T @ x [out, in],
    db = dz summed over the batch [out] (fp32, a fixed order: the same bits on every run)."""
    kind, (x, w, y, dy) = _dense_inputs(x, w, (("y", y), ("dy", dy)))
    batch, in_features, out_features = _dense_shape(x, w)
    for name, a in (("y", y), ("dy", dy)):
        if tuple(a.shape) != (batch, out_features):
            raise InvalidArgument(f"{name} has shape {tuple(a.shape)}; the layer's output is {(batch, out_features)}")
    if float(alpha) < 0:
        raise InvalidArgument(f"the dense backward works from the output and needs alpha >= 0 (got {float(alpha)})")
    dx = kind.empty(x, (batch, in_features)) if need_dx else None
    dw = kind.empty(x, (out_features, in_features)) if need_dw else None
    db = kind.empty(x, (out_features,)) if need_db else None
    _core.dense_backward(_context(ctx, kind, x), batch, in_features, out_features, alpha, kind.operand(x, F32),
                         kind.operand(w, F32), kind.operand(y, F32), kind.operand(dy, F32), _operand(kind, dx),
                         _operand(kind, dw), _operand(kind, db))
    return dx, dw, db
