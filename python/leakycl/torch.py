"""PyTorch modules whose forward runs on leakycl: drop-in twins of ``torch.nn.LeakyReLU`` and
``torch.nn.PReLU`` (same signatures, same parameters, same results bit for bit), with
autograd.

The LeakyReLU backward uses the sign mask that the forward keeps (1 bit per element,
``leakycl.leaky_relu_masked``), so it is exact for every slope, negative ones included, and
also after an in-place forward that overwrote x. Tensors must be on the CPU; each module takes
an optional ``ctx=`` (a :class:`leakycl.Context`; None: the default context).
"""

from __future__ import annotations

from typing import Any, Optional

import torch
from torch import nn

from . import _ops
from ._context import Context

__all__ = ["LeakyReLU", "PReLU", "LeakyReLUFunction", "PReLUFunction", "leaky_relu", "prelu"]


class LeakyReLUFunction(torch.autograd.Function):
    """y = x if x > 0 else negative_slope * x; the backward from the saved sign mask."""

    @staticmethod
    def forward(  # type: ignore[override]
            fctx: Any, x: torch.Tensor, negative_slope: float, inplace: bool, ctx: Optional[Context]) -> torch.Tensor:
        if inplace and x.is_contiguous():
            y, mask = _ops.leaky_relu_masked(x, negative_slope, out=x, ctx=ctx)
        else:
            y, mask = _ops.leaky_relu_masked(x, negative_slope, ctx=ctx)
            if inplace:  # a strided x: computed once into a contiguous copy, written back once
                x.copy_(y)
                y = x
        if inplace:
            fctx.mark_dirty(x)
        fctx.save_for_backward(mask)
        fctx.negative_slope = negative_slope
        fctx.lcl_ctx = ctx
        return y

    @staticmethod
    def backward(fctx: Any, dy: torch.Tensor) -> tuple[Optional[torch.Tensor], None, None, None]:  # type: ignore[override]
        (mask,) = fctx.saved_tensors
        dx = _ops.leaky_relu_backward_masked(mask, dy.contiguous(), fctx.negative_slope, ctx=fctx.lcl_ctx)
        return dx, None, None, None


class PReLUFunction(torch.autograd.Function):
    """y = x if x > 0 else weight[c] * x, c the index along dim 1 (one weight: every element)."""

    @staticmethod
    def forward(  # type: ignore[override]
            fctx: Any, x: torch.Tensor, weight: torch.Tensor, ctx: Optional[Context]) -> torch.Tensor:
        weight = weight.detach()
        y = _ops.prelu(x, weight, axis=1, ctx=ctx)
        fctx.save_for_backward(x, weight)
        fctx.lcl_ctx = ctx
        return y

    @staticmethod
    def backward(fctx: Any, dy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None]:  # type: ignore[override]
        x, weight = fctx.saved_tensors
        dx, dweight = _ops.prelu_backward(x, dy.contiguous(), weight, axis=1, ctx=fctx.lcl_ctx)
        return dx, dweight, None


def leaky_relu(x: torch.Tensor, negative_slope: float = 0.01, inplace: bool = False, *,
               ctx: Optional[Context] = None) -> torch.Tensor:
    """``torch.nn.functional.leaky_relu`` on leakycl, with autograd."""
    return LeakyReLUFunction.apply(x, float(negative_slope), inplace, ctx)


def prelu(x: torch.Tensor, weight: torch.Tensor, *, ctx: Optional[Context] = None) -> torch.Tensor:
    """``torch.nn.functional.prelu`` on leakycl, with autograd (weight: 1 value, or one per
    index of dim 1)."""
    return PReLUFunction.apply(x, weight, ctx)


class LeakyReLU(nn.Module):
    """``torch.nn.LeakyReLU(negative_slope=0.01, inplace=False)`` on leakycl."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False, *, ctx: Optional[Context] = None) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace
        self.ctx = ctx

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return leaky_relu(input, self.negative_slope, self.inplace, ctx=self.ctx)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class PReLU(nn.Module):
    """``torch.nn.PReLU(num_parameters=1, init=0.25)`` on leakycl: a learnable slope, one for
    every element or one per channel (dim 1)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None, *,
                 ctx: Optional[Context] = None) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.ctx = ctx
        self.weight = nn.Parameter(torch.empty(num_parameters, device=device, dtype=dtype).fill_(init))

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.weight.fill_(self.init)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return prelu(input, self.weight, ctx=self.ctx)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
