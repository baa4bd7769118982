"""Where the network's arrays live and what runs its dense layers.

`LeakyclOps(device)` is the path `--device` uses: every dense layer, forward and backward, is
leakycl.dense / leakycl.dense_backward. On leakycl's CPU backend the arrays are numpy arrays
(already zero copy); on an OpenCL device they are pyopencl arrays on a queue of that device, so
the weights, activations, gradients and Adam's moments stay on the device and only the minibatch
goes there each step (and the small logits / logit gradients cross for the softmax).

`NumpyOps` computes the same thing in numpy. It is the oracle the tests check leakycl against,
never the path a `--device` runs.
"""

import os

import numpy as np

# torch.optim.Adam's update (no weight decay), so that the PyTorch twin follows the same steps.
# One element per work-item: pyopencl's ElementwiseKernel loops with a stride of the global size
# in every work-item, which PoCL ran about 75 times slower on this 4M-element update.
_ADAM_SOURCE = """
__kernel void langid_adam(__global float *p, __global float *m, __global float *v,
                          __global const float *g, const float beta1, const float beta2,
                          const float step_size, const float bias2_sqrt, const float eps)
{
    const size_t i = get_global_id(0);
    const float gi = g[i];
    const float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    const float vi = beta2 * v[i] + (1.0f - beta2) * (gi * gi);
    m[i] = mi;
    v[i] = vi;
    p[i] -= step_size * (mi / (sqrt(vi) / bias2_sqrt + eps));
}
"""


def numpy_adam(p, g, m, v, beta1, beta2, step_size, bias2_sqrt, eps, scratch=None):
    """torch.optim.Adam's step in place on float32 numpy arrays, in the same order of operations
    (m*b1 + (1-b1)*g; v*b2 + (1-b2)*(g*g); p - step * (m / (sqrt(v)/bias2_sqrt + eps))).
    scratch: a float32 array of p's shape to work in, so that no step allocates."""
    tmp = np.empty_like(p) if scratch is None else scratch
    f = np.float32
    np.multiply(g, f(1.0 - beta1), out=tmp)
    m *= f(beta1)
    m += tmp
    np.multiply(g, g, out=tmp)
    tmp *= f(1.0 - beta2)
    v *= f(beta2)
    v += tmp
    np.sqrt(v, out=tmp)
    tmp /= f(bias2_sqrt)
    tmp += f(eps)
    np.divide(m, tmp, out=tmp)
    tmp *= f(step_size)
    p -= tmp


def leaky(z, alpha):
    """The piecewise leaky ReLU (x if x > 0, else alpha * x) in float32."""
    return np.where(z > 0, z, np.float32(alpha) * z).astype(np.float32)


class HostArrays:
    """Arrays that are numpy arrays in host memory."""
    _scratch = None

    def upload(self, host):
        return np.ascontiguousarray(host, dtype=np.float32)

    def download(self, array):
        return np.asarray(array)

    def zeros_like(self, array):
        return np.zeros_like(array)

    def adam(self, p, g, m, v, beta1, beta2, step_size, bias2_sqrt, eps):
        numpy_adam(p, g, m, v, beta1, beta2, step_size, bias2_sqrt, eps, self._scratch_for(p))

    def _scratch_for(self, p):
        if self._scratch is None:
            self._scratch = {}
        if p.shape not in self._scratch:
            self._scratch[p.shape] = np.empty(p.shape, dtype=np.float32)
        return self._scratch[p.shape]

    def synchronize(self):
        pass


class NumpyOps(HostArrays):
    """Dense layers in numpy: the test oracle."""
    name = "numpy"
    device_name = "numpy (test oracle)"

    def dense(self, x, w, b, alpha):
        z = x @ w.T
        if b is not None:
            z += b
        return leaky(z, alpha)

    def dense_backward(self, x, w, y, dy, alpha, need_dx=True):
        dz = np.where(y > 0, dy, np.float32(alpha) * dy).astype(np.float32)
        dx = (dz @ w).astype(np.float32) if need_dx else None
        return dx, (dz.T @ x).astype(np.float32), dz.sum(axis=0, dtype=np.float32)


def _pyopencl_queue(spec, device_name):
    """A pyopencl queue on the OpenCL device leakycl chose: for 'opencl:P:D' platform P's
    device D (the indices `leakycl devices` lists, the ICD loader's order, as pyopencl's), else
    the first device of that name."""
    import pyopencl as cl
    parts = (spec or os.environ.get("LEAKYCL_DEVICE") or "").split(":")
    if len(parts) == 3 and parts[0] == "opencl" and parts[1].isdigit() and parts[2].isdigit():
        candidates = [cl.get_platforms()[int(parts[1])].get_devices()[int(parts[2])]]
    else:
        candidates = [d for p in cl.get_platforms() for d in p.get_devices()]
    for device in candidates:
        if device.name.strip() == device_name.strip():
            return cl.CommandQueue(cl.Context([device]))
    raise RuntimeError(f"leakycl chose OpenCL device {device_name!r} for {spec!r}, "
                       f"which pyopencl does not list there")


class LeakyclOps(HostArrays):
    """Dense layers on leakycl, on the device `spec` names ('cpu', 'opencl', 'auto', ...)."""

    def __init__(self, spec=None):
        import leakycl
        self._leakycl = leakycl
        self.context = leakycl.Context(spec)
        self.device_name = self.context.device_name
        self.queue = None
        if self.context.backend == "opencl":
            self._init_opencl(spec)
            self.name = "leakycl-opencl"
        else:
            self.name = "leakycl-cpu"

    def _init_opencl(self, spec):
        import pyopencl as cl
        import pyopencl.array as cla
        self._cla = cla
        self.queue = _pyopencl_queue(spec, self.device_name)
        self._adam = cl.Program(self.queue.context, _ADAM_SOURCE).build().langid_adam

    def _ctx(self):
        # pyopencl arrays carry their queue, which leakycl wraps; numpy arrays need the context.
        return None if self.queue is not None else self.context

    def upload(self, host):
        host = np.ascontiguousarray(host, dtype=np.float32)
        return host if self.queue is None else self._cla.to_device(self.queue, host)

    def download(self, array):
        return np.asarray(array) if self.queue is None else array.get()

    def zeros_like(self, array):
        if self.queue is None:
            return np.zeros_like(array)
        return self._cla.zeros(self.queue, array.shape, np.float32)

    def adam(self, p, g, m, v, beta1, beta2, step_size, bias2_sqrt, eps):
        if self.queue is None:
            super().adam(p, g, m, v, beta1, beta2, step_size, bias2_sqrt, eps)
        else:
            f = np.float32
            arrays = (p, m, v, g)
            assert all(a.flags.c_contiguous and a.offset == 0 and a.size == p.size for a in arrays)
            self._adam(self.queue, (p.size,), None, *(a.data for a in arrays),
                       f(beta1), f(beta2), f(step_size), f(bias2_sqrt), f(eps))

    def synchronize(self):
        if self.queue is not None:
            self.queue.finish()

    def dense(self, x, w, b, alpha):
        return self._leakycl.dense(x, w, b, alpha, ctx=self._ctx())

    def dense_backward(self, x, w, y, dy, alpha, need_dx=True):
        return self._leakycl.dense_backward(x, w, y, dy, alpha, need_dx=need_dx, ctx=self._ctx())


def make_ops(spec):
    """The ops `--device spec` runs on: always leakycl."""
    return LeakyclOps(spec)
