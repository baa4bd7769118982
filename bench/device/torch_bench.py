#!/usr/bin/env python3
"""PyTorch's leaky ReLU and PReLU on CUDA, timed the way leakycl-bench times an op, for
bench/device/run.sh.

For each dtype and size 2^K it times, on tensors that live on the GPU:
  forward         aten.leaky_relu.out(x, 0.01, out=y)           (output preallocated, like leakycl)
  forward         F.leaky_relu(x, 0.01)                          (allocates y: the caching allocator)
  backward        aten.leaky_relu_backward.grad_input(dy, x, 0.01, False, grad_input=dx)
  backward        aten.leaky_relu_backward(dy, x, 0.01, False)  (what autograd calls; allocates dx)
  prelu_forward   aten._prelu_kernel(x3, w3)                     (torch >= 2; torch 1: aten.prelu(x3, w))
  prelu_forward   F.prelu(x3, w)                                 (what a user calls)
  prelu_backward  aten._prelu_kernel_backward(dy3, x3, w3), then its per-element slope gradient
                  summed to [1, 16, 1] as autograd's engine does (torch 1: aten.prelu_backward)
  prelu_backward  torch.autograd.grad(y3, (x3, w), dy3) on a retained graph of y3 = F.prelu(x3, w):
                  the backward as a user's training step runs it
  copy            y.copy_(x)                                     (the device's copy bandwidth)
and writes one CSV row per point. Bytes as leakycl-bench counts them (bench/rows.c): forward,
prelu_forward and copy 2 n size, backward and prelu_backward 3 n size (the slopes and the slope
gradient left out). PReLU's shape is leakycl-bench's (bench/extra.c): x3 = x viewed as
[4, 16, n / 64] (batch, channels, inner), 16 slopes on dimension 1 (w3 = w viewed as [1, 16, 1]
for the broadcasting kernels). Once per dtype, at the smallest size, the out= and PReLU kernels'
results are checked against torch.where (PReLU on the first 4,096 elements).

Method (leakycl-bench's, bench/measure.c): one run excluded as warm-up, one timed to calibrate the
repetitions to --time seconds per sample, then --samples samples, each a batch of back-to-back
calls timed with CUDA events from before the first launch to after the last kernel ends; the
median seconds per call is reported with the spread (max - min) / median. Small sizes are bound by
the launch cost (Python and the dispatcher), as leakycl's are by the OpenCL enqueue.

Exits 3 with one line on stderr ("skipped") where torch or CUDA is missing. --device cpu runs
the same code on the CPU (to test the script on a machine without a GPU).
"""

import argparse
import json
import sys
import time

ALPHA = 0.01
PRELU_CHANNELS = 16  # bench/extra.c: PRELU_CHANNELS and PRELU_BATCH
PRELU_BATCH = 4
PRELU_CHECK_N = 4096  # the PReLU check's elements: 256 products per slope sum, finite in f16
MAX_REPS = 100000
SKIPPED = 3
HEADER = "source,call,op,dtype,n,bytes,seconds,spread,samples,gbps,threads,note"


def parse_args():
    p = argparse.ArgumentParser(description="Time PyTorch's leaky_relu and PReLU forward and backward on CUDA.")
    p.add_argument("--min", type=int, default=10, help="sizes 2^K elements from 2^min (default 10)")
    p.add_argument("--max", type=int, default=28, help="up to 2^max (default 28)")
    p.add_argument("--step", type=int, default=2, help="log2 step between sizes (default 2)")
    p.add_argument("--time", type=float, default=0.03, help="seconds per sample (default 0.03)")
    p.add_argument("--samples", type=int, default=5, help="samples per point (default 5)")
    p.add_argument("--dtypes", default="f32,f16,bf16,f64", help="from f32,f16,bf16,f64 (default all)")
    p.add_argument("--device", default="cuda", help="cuda (default) or cpu (to test the script)")
    p.add_argument("--csv", help="write the rows here too (stdout gets a table)")
    p.add_argument("--meta", help="write torch, CUDA and device facts here as JSON")
    a = p.parse_args()
    if a.min > a.max or a.step < 1 or a.samples < 1 or not a.time > 0:
        p.error("need --min <= --max, --step >= 1, --samples >= 1, --time > 0")
    a.dtypes = [d for d in a.dtypes.split(",") if d]
    for d in a.dtypes:
        if d not in ("f32", "f16", "bf16", "f64"):
            p.error("unknown dtype " + d)
    return a


def skip(why):
    print("torch_bench: skipped: " + why, file=sys.stderr)
    sys.exit(SKIPPED)


def prelu_shape(n):
    """leakycl-bench's [batch, channels, inner] for n elements (bench/extra.c)."""
    per = PRELU_CHANNELS * PRELU_BATCH
    return (PRELU_BATCH, PRELU_CHANNELS, n // per) if n % per == 0 else (n, 1, 1)


def prelu_ops(torch):
    """The aten kernels that compute what lcl_prelu_forward and lcl_prelu_backward compute: torch
    2.x's _prelu_kernel(_backward) (slopes broadcast as [1, C, 1]), else 1.x's prelu(_backward)
    (slopes as [C]). Returns (forward name, backward name, forward(x3, w), backward(dy3, x3, w)),
    w of shape [C]; backward returns (dx, dw) with dw of w's shape."""
    aten = torch.ops.aten
    if hasattr(aten, "_prelu_kernel") and hasattr(aten, "_prelu_kernel_backward"):
        def forward(x3, w):
            return aten._prelu_kernel(x3, w.view(1, -1, 1))

        def backward(dy3, x3, w):
            dx, dw = aten._prelu_kernel_backward(dy3, x3, w.view(1, -1, 1))
            # The kernel writes dy * x per element (x3's shape); autograd's engine then sums it to
            # the slopes' shape, as sum_to_size does here: both are the slope gradient's cost.
            return dx, dw.sum_to_size(1, w.numel(), 1)
        return "aten._prelu_kernel", "aten._prelu_kernel_backward+sum_to_size", forward, backward
    return ("aten.prelu", "aten.prelu_backward", lambda x3, w: aten.prelu(x3, w),
            lambda dy3, x3, w: aten.prelu_backward(dy3, x3, w))


def check_prelu(torch, x, dy, w, prelu_forward, prelu_backward):
    """The PReLU kernels against torch.where on the first PRELU_CHECK_N elements; True if close."""
    m = min(x.numel(), PRELU_CHECK_N)
    shape = prelu_shape(m)
    x3, dy3 = x[:m].view(shape), dy[:m].view(shape)
    w3 = w[:shape[1]].view(1, -1, 1)
    y = prelu_forward(x3, w[:shape[1]])
    dx, dw = prelu_backward(dy3, x3, w[:shape[1]])
    xd, dyd, wd = x3.double(), dy3.double(), w3.double()
    want_y = torch.where(xd > 0, xd, wd * xd)
    want_dx = torch.where(xd > 0, dyd, wd * dyd)
    want_dw = torch.where(xd > 0, torch.zeros_like(xd), dyd * xd).sum(dim=(0, 2))
    return (torch.allclose(y.double(), want_y, rtol=1e-2, atol=0.0) and
            torch.allclose(dx.double(), want_dx, rtol=1e-2, atol=0.0) and
            dw.numel() == want_dw.numel() and
            torch.allclose(dw.double().reshape(-1), want_dw, rtol=1e-2, atol=0.0))


def main():
    a = parse_args()
    try:
        import torch
        import torch.nn.functional as F
    except Exception as e:  # ImportError, or a torch whose CUDA libraries do not load
        skip("cannot import torch (%s: %s)" % (type(e).__name__, e))
    cuda = a.device == "cuda"
    if cuda and not torch.cuda.is_available():
        skip("torch %s sees no CUDA device (torch.version.cuda=%s)" % (torch.__version__, torch.version.cuda))
    dev = torch.device(a.device)
    dtypes = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16, "f64": torch.float64}

    meta = {"torch": torch.__version__, "cuda": torch.version.cuda, "device": a.device}
    if cuda:
        props = torch.cuda.get_device_properties(dev)
        meta.update(name=props.name, total_memory=props.total_memory,
                    multi_processors=props.multi_processor_count,
                    capability="%d.%d" % (props.major, props.minor),
                    cudnn=torch.backends.cudnn.version())
    else:
        meta.update(name="CPU (%d threads)" % torch.get_num_threads())
    print("torch_bench: " + ", ".join("%s %s" % kv for kv in meta.items()), file=sys.stderr, flush=True)
    if a.meta:
        with open(a.meta, "w") as f:
            json.dump(meta, f, indent=1)

    if cuda:
        start_ev = torch.cuda.Event(enable_timing=True)
        end_ev = torch.cuda.Event(enable_timing=True)

        def batch(fn, reps):
            start_ev.record()
            for _ in range(reps):
                fn()
            end_ev.record()
            end_ev.synchronize()
            return start_ev.elapsed_time(end_ev) / 1e3 / reps
    else:
        def batch(fn, reps):
            t = time.perf_counter()
            for _ in range(reps):
                fn()
            return (time.perf_counter() - t) / reps

    def measure(fn):
        batch(fn, 1)  # warm-up: first-use costs (kernel load, allocator)
        once = batch(fn, 1)
        reps = max(1, min(int(a.time / once) if once > 0 else MAX_REPS, MAX_REPS))
        times = sorted(batch(fn, reps) for _ in range(a.samples))
        mid = len(times) // 2
        median = times[mid] if len(times) % 2 else 0.5 * (times[mid - 1] + times[mid])
        return median, ((times[-1] - times[0]) / median if median > 0 else 0.0), len(times)

    out = open(a.csv, "w") if a.csv else None
    if out:
        out.write(HEADER + "\n")
        out.flush()
    source = "torch_" + a.device
    threads = 0 if cuda else torch.get_num_threads()
    print("%-44s %-5s %5s %12s %7s %9s" % ("call", "dtype", "n", "time", "spread", "GB/s"), flush=True)

    def emit(call, op, dtype, n, size, stats, note=""):
        seconds, spread, samples = stats
        nbytes = (3 if op in ("backward", "prelu_backward") else 2) * n * size
        gbps = nbytes / seconds / 1e9 if seconds > 0 else 0.0
        print("%-44s %-5s %5s %9.2f us %6.0f%% %9.2f%s" % (call, dtype, "2^%d" % (n.bit_length() - 1), seconds * 1e6,
                                                           spread * 100, gbps, "  " + note if note else ""), flush=True)
        if out:
            clean = lambda s: s.replace(",", ";").replace("\n", " ")
            out.write("%s,%s,%s,%s,%d,%d,%.9g,%.4f,%d,%.4f,%d,%s\n" % (source, clean(call), op, dtype, n, nbytes,
                      seconds, spread, samples, gbps, threads, clean(note)))
            out.flush()

    aten = torch.ops.aten
    prelu_fwd_name, prelu_bwd_name, prelu_forward, prelu_backward = prelu_ops(torch)
    failures = 0
    start = time.perf_counter()
    for name in a.dtypes:
        dt = dtypes[name]
        size = torch.tensor([], dtype=dt).element_size()
        gen_dt = torch.float64 if dt == torch.float64 else torch.float32
        # PReLU's slopes: magnitudes 2^-4 to 2^4 of both signs, as leakycl-bench fills them.
        w = (torch.empty(PRELU_CHANNELS, device=dev, dtype=gen_dt).uniform_(-4.0, 4.0).exp2_() *
             torch.tensor([1.0, -1.0], device=dev, dtype=gen_dt).repeat(PRELU_CHANNELS // 2)).to(dt)
        for k in range(a.min, a.max + 1, a.step):
            n = 1 << k
            try:
                # Nonzero values of both signs, magnitudes 2^-4 to 2^4, as leakycl-bench fills.
                mag = torch.empty(n, device=dev, dtype=gen_dt).uniform_(-4.0, 4.0).exp2_()
                sign = torch.empty(n, device=dev, dtype=gen_dt).uniform_(-1.0, 1.0).sign_()
                sign[sign == 0] = 1.0
                x = (mag * sign).to(dt)
                del mag
                dy = (torch.empty(n, device=dev, dtype=gen_dt).uniform_(-4.0, 4.0).exp2_() * sign).to(dt)
                del sign
                y = torch.empty_like(x)
                dx = torch.empty_like(x)
                if k == a.min:  # the out= forms really compute the op
                    aten.leaky_relu.out(x, ALPHA, out=y)
                    aten.leaky_relu_backward.grad_input(dy, x, ALPHA, False, grad_input=dx)
                    want_y = torch.where(x > 0, x, x * ALPHA).double()
                    want_dx = torch.where(x > 0, dy, dy * ALPHA).double()
                    if not (torch.allclose(y.double(), want_y, rtol=1e-2, atol=0.0) and
                            torch.allclose(dx.double(), want_dx, rtol=1e-2, atol=0.0)):
                        print("torch_bench: %s: out= results differ from torch.where" % name, file=sys.stderr)
                        failures += 1
                    try:
                        if not check_prelu(torch, x, dy, w, prelu_forward, prelu_backward):
                            print("torch_bench: %s: %s / %s differ from torch.where" % (name, prelu_fwd_name,
                                  prelu_bwd_name), file=sys.stderr)
                            failures += 1
                    except RuntimeError as e:  # no PReLU kernel for the dtype: its rows fail below too
                        print("torch_bench: %s: PReLU check failed: %s" % (name, str(e).splitlines()[0]),
                              file=sys.stderr)
                        failures += 1
                x3, dy3 = x.view(prelu_shape(n)), dy.view(prelu_shape(n))
                xg, wg = x3.detach().requires_grad_(), w.detach().clone().requires_grad_()
                try:  # the graph whose backward autograd.grad runs, again and again
                    yg = F.prelu(xg, wg)
                except RuntimeError:
                    yg = None  # the F.prelu row reports it

                def prelu_autograd():
                    if yg is None:
                        raise RuntimeError("no F.prelu graph")
                    return torch.autograd.grad(yg, (xg, wg), dy3, retain_graph=True)

                calls = [
                    ("aten.leaky_relu.out", "forward", lambda: aten.leaky_relu.out(x, ALPHA, out=y)),
                    ("F.leaky_relu", "forward", lambda: F.leaky_relu(x, ALPHA)),
                    ("aten.leaky_relu_backward.grad_input", "backward",
                     lambda: aten.leaky_relu_backward.grad_input(dy, x, ALPHA, False, grad_input=dx)),
                    ("aten.leaky_relu_backward", "backward", lambda: aten.leaky_relu_backward(dy, x, ALPHA, False)),
                    (prelu_fwd_name, "prelu_forward", lambda: prelu_forward(x3, w)),
                    ("F.prelu", "prelu_forward", lambda: F.prelu(x3, w)),
                    (prelu_bwd_name, "prelu_backward", lambda: prelu_backward(dy3, x3, w)),
                    ("autograd.grad(F.prelu)", "prelu_backward", prelu_autograd),
                    ("Tensor.copy_", "copy", lambda: y.copy_(x)),
                ]
                for call, op, fn in calls:
                    try:
                        emit(call, op, name, n, size, measure(fn))
                    except RuntimeError as e:  # an op this torch lacks for the dtype
                        failures += 1
                        print("torch_bench: %s %s 2^%d failed: %s" % (call, name, k, str(e).splitlines()[0]),
                              file=sys.stderr, flush=True)
            except RuntimeError as e:  # out of memory at the largest sizes
                failures += 1
                print("torch_bench: %s 2^%d: %s" % (name, k, str(e).splitlines()[0]), file=sys.stderr, flush=True)
            finally:
                x = dy = y = dx = x3 = dy3 = xg = wg = yg = None
                if cuda:
                    torch.cuda.empty_cache()
    if out:
        out.close()
    print("torch_bench: done in %.1f s, %d failure(s)" % (time.perf_counter() - start, failures), file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
