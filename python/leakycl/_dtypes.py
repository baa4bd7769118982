"""The element types leakycl computes on, and their codes in the C library (``lcl_dtype``)."""

from __future__ import annotations

import functools
import sys
from typing import Any

import ml_dtypes
import numpy as np

from . import _core
from ._errors import InvalidArgument

F32, F16, BF16, F64, MASK = _core.F32, _core.F16, _core.BF16, _core.F64, _core.MASK

bfloat16 = np.dtype(ml_dtypes.bfloat16)

NUMPY_CODES: dict[np.dtype, int] = {
    np.dtype(np.float32): F32,
    np.dtype(np.float16): F16,
    bfloat16: BF16,
    np.dtype(np.float64): F64,
}
NUMPY_BY_CODE = {code: dt for dt, code in NUMPY_CODES.items()}
_NAMES = {"float32": F32, "f32": F32, "float16": F16, "f16": F16, "half": F16, "bfloat16": BF16, "bf16": BF16,
          "float64": F64, "f64": F64, "double": F64, "float": F32}


@functools.lru_cache(maxsize=None)
def torch_codes() -> dict[Any, int]:
    """torch dtype -> code (torch is imported only by callers that hold a tensor; built once)."""
    import torch

    return {torch.float32: F32, torch.float16: F16, torch.bfloat16: BF16, torch.float64: F64}


def dtype_code(dtype: Any) -> int:
    """The code of a numpy dtype, a torch dtype or a name; InvalidArgument for anything else."""
    if isinstance(dtype, str):
        code = _NAMES.get(dtype)
    else:
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(dtype, torch.dtype):
            code = torch_codes().get(dtype)
        else:
            try:
                code = NUMPY_CODES.get(np.dtype(dtype))
            except TypeError:
                code = None
    if code is None:
        raise InvalidArgument(f"dtype {dtype!r} is not one leakycl computes on (float32, float16, bfloat16, float64)")
    return code
