"""leakycl: leaky ReLU, forward and backward, on OpenCL devices and on the CPU, bit for bit.

numpy arrays, torch CPU tensors, pyopencl arrays and other DLPack arrays go in; the same kind
comes out::

    import numpy as np, leakycl
    x = np.random.randn(1_000_000).astype(np.float32)
    y = leakycl.leaky_relu(x, 0.1)                 # y = x if x > 0 else 0.1 * x
    dx = leakycl.leaky_relu_backward(x, np.ones_like(x), 0.1)

``ctx=None`` means the default context (``$LEAKYCL_DEVICE``, else the first GPU, else the first
OpenCL device, else the CPU backend); ``leakycl.Context("cpu")`` and friends pick one. See
``leakycl.torch`` for nn.Modules with autograd.
"""

from __future__ import annotations

from ._context import Context, Device, default_context, devices
from ._errors import (BLASError, BuildFailed, DeviceNotFound, Error, InvalidArgument, OpenCLError,
                      OutOfMemory, Unsupported)
from ._ops import (dense, dense_backward, leaky_relu, leaky_relu_backward, leaky_relu_backward_from_output,
                   leaky_relu_backward_masked, leaky_relu_batch, leaky_relu_masked, prelu, prelu_backward)

__version__ = "0.2.0"

from . import _context, _errors, _ops

__all__ = _context.__all__ + _ops.__all__ + _errors.__all__
