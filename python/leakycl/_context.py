"""Contexts: a device (or the CPU backend) with its queue and compiled kernels."""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

from . import _core
from ._dtypes import dtype_code

__all__ = ["Context", "Device", "devices", "default_context"]


class Device(NamedTuple):
    """One entry of :func:`devices`: ``spec`` is what :class:`Context` takes to pick it."""

    spec: str
    name: str
    type: str
    platform: str


def devices() -> list[Device]:
    """The CPU backend (spec ``"cpu"``) and every OpenCL device, as ``opencl:P:D`` specs in the
    order ``leakycl devices`` lists them. No OpenCL platform installed: the CPU backend alone."""
    return [Device(*row) for row in _core.list_devices()]


class Context:
    """A leakycl context: the device every call given ``ctx=`` runs on.

    ``device`` is a spec, as in C: ``None`` reads ``$LEAKYCL_DEVICE`` and means ``"auto"`` if
    that is unset; ``"auto"`` is the first GPU, else the first OpenCL device, else the CPU
    backend; ``"cpu"`` the CPU backend; ``"opencl"`` the first OpenCL device; ``"gpu"`` the
    first GPU; ``"opencl:P:D"`` device D of platform P (see :func:`devices`). Raises
    :class:`DeviceNotFound` when nothing matches.

    A context may be used from many threads at once. ``with Context(...) as ctx:`` closes it
    at the end of the block; :meth:`close` waits for calls in flight on other threads before
    the C context goes, and calls after it raise :class:`InvalidArgument`. Arrays never
    depend on a context: they outlive it freely.
    """

    __slots__ = ("_core", "__weakref__")

    def __init__(self, device: str | None = None) -> None:
        if device is not None and not isinstance(device, str):
            from ._errors import InvalidArgument

            raise InvalidArgument(f"device must be a spec string or None, not {type(device).__name__}")
        self._core = _core.Context(device)

    @classmethod
    def _from_core(cls, core: Any) -> Context:
        self = cls.__new__(cls)
        self._core = core
        return self

    @classmethod
    def wrap(cls, queue: Any) -> Context:
        """The context that enqueues on a pyopencl ``CommandQueue`` (in-order), as
        ``lcl_context_wrap_cl`` makes it; one per queue, cached, so programs are built once.
        Calls on pyopencl arrays use it without being asked."""
        return context_for_queue(queue)

    @property
    def device_name(self) -> str:
        """The device's name; ``"CPU backend (N threads)"`` for the CPU backend."""
        return self._core.device_name

    @property
    def backend(self) -> str:
        """``"cpu"`` or ``"opencl"``."""
        return self._core.backend

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._core.closed

    def supports(self, dtype: Any) -> bool:
        """Whether the device runs ops on ``dtype`` (a numpy or torch dtype, or a name such as
        ``"float64"``, ``"bfloat16"``); float64 needs ``cl_khr_fp64`` on OpenCL devices."""
        return self._core.supports(dtype_code(dtype))

    def finish(self) -> None:
        """Waits until the work enqueued on this context (e.g. on pyopencl arrays) is done."""
        self._core.finish()

    def close(self) -> None:
        """Releases the C context once calls in flight on it have returned. Idempotent."""
        self._core.close()

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<leakycl.Context (closed)>"
        return f"<leakycl.Context {self.backend}: {self.device_name}>"


_default: Context | None = None
_default_lock = threading.Lock()


def default_context() -> Context:
    """The per-process context that ``ctx=None`` means, created on first use with
    ``Context(None)`` ($LEAKYCL_DEVICE, else ``"auto"``)."""
    global _default
    ctx = _default
    if ctx is None:
        with _default_lock:
            if _default is None:
                _default = Context(None)
            ctx = _default
    return ctx


# pyopencl queues -> their wrapped context. The lcl context retains the queue, so its address
# cannot be reused by another queue while the entry exists.
_by_queue: dict[int, Context] = {}
_by_queue_lock = threading.Lock()


def context_for_queue(queue: Any) -> Context:
    """The cached context wrapping a pyopencl queue (see :meth:`Context.wrap`)."""
    key = queue.int_ptr
    ctx = _by_queue.get(key)
    if ctx is None:
        with _by_queue_lock:
            ctx = _by_queue.get(key)
            if ctx is None:
                ctx = Context._from_core(_core.Context.wrap_queue(key))
                _by_queue[key] = ctx
    return ctx
