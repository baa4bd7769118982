"""The array kinds leakycl takes, and what each needs: the element type, the operand form that
``_core`` reads (see python/src/operand.hpp), and new arrays of the same kind for results.

- numpy arrays (float32, float16, float64, and ml_dtypes.bfloat16 through its uint16 view,
  which numpy's buffer protocol and DLPack cannot describe);
- torch CPU tensors (by data pointer; bfloat16 included);
- pyopencl arrays (their buffer and offset, on the OpenCL context of their queue);
- any other object with ``__dlpack__`` on the CPU, read through ``numpy.from_dlpack`` without a
  copy; its results are numpy arrays.

A non-contiguous input is copied once into a contiguous array; an ``out`` must already be
C-contiguous and writable (else InvalidArgument), since writing into a copy would lose the result.
"""

from __future__ import annotations

import sys
from typing import Any, Type, Union

import numpy as np

from ._dtypes import BF16, MASK, NUMPY_CODES, torch_codes
from ._errors import InvalidArgument

MASK_DTYPE = np.dtype(np.uint32)


def unsupported_dtype(dtype: Any) -> InvalidArgument:
    return InvalidArgument(f"dtype {dtype} is not one leakycl computes on (float32, float16, bfloat16, float64)")


def numpy_code(dtype: np.dtype) -> int:
    """The C dtype code of a numpy dtype (pyopencl arrays use numpy's too)."""
    code = NUMPY_CODES.get(dtype)
    if code is None:
        raise unsupported_dtype(dtype)
    return code


def mask_words(n: int) -> int:
    """32-bit words of a mask of n elements (1 bit each)."""
    return (n + 31) // 32


class NumpyKind:
    """numpy arrays; the default for host data."""

    name = "numpy array"
    is_cl = False

    @staticmethod
    def code(a: np.ndarray) -> int:
        return numpy_code(a.dtype)

    @staticmethod
    def contiguous(a: np.ndarray) -> np.ndarray:
        return a if a.flags.c_contiguous else np.ascontiguousarray(a)

    @staticmethod
    def check_out(out: np.ndarray, name: str) -> None:
        if not out.flags.c_contiguous:
            raise InvalidArgument(f"{name} must be C-contiguous (results are never written into a copy)")
        if not out.flags.writeable:
            raise InvalidArgument(f"{name} is read-only")

    @staticmethod
    def operand(a: np.ndarray, code: int) -> Any:
        return a.view(np.uint16) if code == BF16 else a

    @staticmethod
    def empty(like: np.ndarray, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        return np.empty(shape, like.dtype if dtype is None else dtype)

    @staticmethod
    def empty_mask(like: np.ndarray, n: int) -> np.ndarray:
        return np.empty(mask_words(n), MASK_DTYPE)

    @staticmethod
    def is_mask(a: Any) -> bool:
        return isinstance(a, np.ndarray) and a.dtype == MASK_DTYPE

    @staticmethod
    def same_device(a: Any, b: Any) -> bool:
        return True


class TorchKind:
    """torch tensors on the CPU, passed to the C library by data pointer."""

    name = "torch tensor"
    is_cl = False

    @staticmethod
    def code(a: Any) -> int:
        if a.device.type != "cpu":
            raise InvalidArgument(f"torch tensors must be on the CPU, not {a.device}")
        code = torch_codes().get(a.dtype)
        if code is None:
            raise unsupported_dtype(a.dtype)
        return code

    @staticmethod
    def contiguous(a: Any) -> Any:
        return a.detach().contiguous()

    @staticmethod
    def check_out(out: Any, name: str) -> None:
        if out.device.type != "cpu":
            raise InvalidArgument(f"{name} must be on the CPU, not {out.device}")
        if not out.is_contiguous():
            raise InvalidArgument(f"{name} must be contiguous (results are never written into a copy)")

    @staticmethod
    def operand(a: Any, code: int) -> Any:
        return a.data_ptr()

    @staticmethod
    def empty(like: Any, shape: tuple[int, ...], dtype: Any = None) -> Any:
        import torch

        return torch.empty(shape, dtype=like.dtype if dtype is None else dtype)

    @staticmethod
    def empty_mask(like: Any, n: int) -> Any:
        import torch

        return torch.empty(mask_words(n), dtype=torch.int32)  # torch has no uint32: the same bits

    @staticmethod
    def is_mask(a: Any) -> bool:
        torch = sys.modules.get("torch")
        return torch is not None and isinstance(a, torch.Tensor) and a.dtype == torch.int32

    @staticmethod
    def same_device(a: Any, b: Any) -> bool:
        return True


class CLKind:
    """pyopencl arrays: wrapped in place (any offset) on the context of their queue."""

    name = "pyopencl array"
    is_cl = True

    @staticmethod
    def code(a: Any) -> int:
        return numpy_code(a.dtype)

    @staticmethod
    def contiguous(a: Any) -> Any:
        if a.flags.c_contiguous:
            return a
        raise InvalidArgument("non-contiguous pyopencl arrays are not supported; pass a contiguous one")

    @staticmethod
    def check_out(out: Any, name: str) -> None:
        if not out.flags.c_contiguous:
            raise InvalidArgument(f"{name} must be C-contiguous (results are never written into a copy)")

    @staticmethod
    def operand(a: Any, code: int) -> Any:
        size = a.dtype.itemsize
        if a.base_data is None:  # pyopencl gives arrays of no elements no buffer
            raise InvalidArgument("a pyopencl array of no elements has no buffer to compute on")
        if a.offset % size:
            raise InvalidArgument(f"a pyopencl array's offset ({a.offset} bytes) is not a multiple of its element size")
        # A mask's elements are bits: its offset in elements is 32 per word.
        return (a.base_data.int_ptr, a.offset // size * (32 if code == MASK else 1))

    @staticmethod
    def empty(like: Any, shape: tuple[int, ...], dtype: Any = None) -> Any:
        import pyopencl.array as cla

        return cla.empty(like.queue, shape, like.dtype if dtype is None else dtype, allocator=like.allocator)

    @staticmethod
    def empty_mask(like: Any, n: int) -> Any:
        import pyopencl.array as cla

        return cla.empty(like.queue, mask_words(n), MASK_DTYPE, allocator=like.allocator)

    @staticmethod
    def is_mask(a: Any) -> bool:
        return getattr(a, "dtype", None) == MASK_DTYPE

    @staticmethod
    def same_device(a: Any, b: Any) -> bool:
        return a.queue.int_ptr == b.queue.int_ptr


NUMPY, TORCH, CL = NumpyKind, TorchKind, CLKind
# One of the three kinds (the classes themselves: their methods are static).
Kind = Union[Type[NumpyKind], Type[TorchKind], Type[CLKind]]


def kind_of(a: Any) -> Kind:
    """The kind of an array; InvalidArgument for anything leakycl cannot read."""
    if type(a) is np.ndarray:
        return NUMPY
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(a, torch.Tensor):
        return TORCH
    cla = sys.modules.get("pyopencl.array")
    if cla is not None and isinstance(a, cla.Array):
        return CL
    if isinstance(a, np.ndarray):
        return NUMPY
    raise InvalidArgument(f"expected a numpy array, a torch CPU tensor, a pyopencl array or a DLPack array, not "
                          f"{type(a).__name__}")


def as_array(a: Any) -> Any:
    """numpy, torch and pyopencl arrays as they are; another CPU DLPack object as a numpy view."""
    if type(a) is np.ndarray:
        return a
    if hasattr(a, "__dlpack__") and not isinstance(a, np.ndarray):
        torch = sys.modules.get("torch")
        if torch is None or not isinstance(a, torch.Tensor):
            try:
                return np.from_dlpack(a)
            except (BufferError, RuntimeError, TypeError) as e:
                raise InvalidArgument(f"cannot read {type(a).__name__} through DLPack on the CPU: {e}") from None
    return a
