"""The exceptions leakycl raises: one per C status, all under :class:`leakycl.Error`."""

from __future__ import annotations

__all__ = [
    "Error",
    "InvalidArgument",
    "Unsupported",
    "OutOfMemory",
    "DeviceNotFound",
    "BuildFailed",
    "OpenCLError",
    "BLASError",
]


class Error(Exception):
    """A leakycl failure. ``str(e)`` is the C library's message (``lcl_last_error()``) or
    the Python layer's; ``e.status`` is the C status code (an ``lcl_status`` value)."""

    status: int = -1

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class InvalidArgument(Error, ValueError):
    """A bad argument: a dtype, shape or size that does not fit, a NaN or infinite alpha, a
    partial overlap, a non-contiguous or read-only ``out``, a closed context
    (``LCL_ERROR_INVALID_ARGUMENT``). Nothing was written."""

    status = 1


class Unsupported(Error):
    """Valid, but not on this device, e.g. float64 without ``cl_khr_fp64``, or the dense
    layer in a build without its BLAS (``LCL_ERROR_UNSUPPORTED``)."""

    status = 2


class OutOfMemory(Error, MemoryError):
    """A host or device allocation failed (``LCL_ERROR_OUT_OF_MEMORY``)."""

    status = 3


class DeviceNotFound(Error):
    """The device spec matches no device (``LCL_ERROR_DEVICE_NOT_FOUND``)."""

    status = 4


class BuildFailed(Error):
    """A kernel failed to compile; the message holds the build log (``LCL_ERROR_BUILD_FAILED``)."""

    status = 5


class OpenCLError(Error):
    """Any other OpenCL failure; the message names the call and the CL error (``LCL_ERROR_OPENCL``)."""

    status = 6


class BLASError(Error):
    """CLBlast or CBLAS failed (``LCL_ERROR_BLAS``)."""

    status = 7


_BY_STATUS = {cls.status: cls for cls in (InvalidArgument, Unsupported, OutOfMemory, DeviceNotFound,
                                          BuildFailed, OpenCLError, BLASError)}


def class_for_status(status: int) -> type[Error]:
    """The exception class for a C status code (:class:`Error` for an unknown one)."""
    return _BY_STATUS.get(status, Error)
