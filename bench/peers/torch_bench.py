#!/usr/bin/python3
"""PyTorch's CPU leaky ReLU, forward and backward, timed by leakycl-bench's method; CSV rows on stdout.

  forward   torch._C._nn.leaky_relu(x, a, out=y): what F.leaky_relu(x, a) runs, into a
            preallocated y (F.leaky_relu itself has no out=)
  backward  torch.ops.aten.leaky_relu_backward.grad_input(dy, x, a, False, grad_input=dx): the
            kernel autograd runs for F.leaky_relu, from the input x, into a preallocated dx
Where a build lacks the out= forms, the allocating calls are timed instead and the row says so.
Threads: torch.set_num_threads(--threads). Exit status 3 with a one-line note when torch is missing.
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib  # noqa: E402

PEER = "torch"
# dtype name -> (torch dtype attribute, mantissa bits, element size)
DTYPES = {"f32": ("float32", 23, 4), "bf16": ("bfloat16", 7, 2), "f16": ("float16", 10, 2),
          "f64": ("float64", 52, 8)}


def fill(torch, gen, dtype, n, chunk=1 << 22):
    """Nonzero values of both signs, magnitudes 2^-4 to 2^4 with random mantissas, as bench_fill."""
    name, mant_bits, _ = DTYPES[dtype]
    out = torch.empty(n, dtype=getattr(torch, name))
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        sign = torch.randint(0, 2, (m,), generator=gen, dtype=torch.float64) * 2 - 1
        scale = torch.pow(2.0, torch.randint(-4, 5, (m,), generator=gen, dtype=torch.float64))
        mant = 1 + torch.randint(0, 1 << mant_bits, (m,), generator=gen, dtype=torch.int64).double() / (1 << mant_bits)
        out[start:start + m] = sign * scale * mant  # exact: each value fits the storage type
    return out


def forms(torch):
    """The forward and backward calls: (fn(x, a, y), description), out= forms where this build has them."""
    a = peerlib.ALPHA
    x = torch.tensor([-2.0, 3.0])
    y = torch.empty_like(x)
    try:
        torch._C._nn.leaky_relu(x, a, out=y)
        fwd = (lambda x, dy, y: torch._C._nn.leaky_relu(x, a, out=y), "torch._C._nn.leaky_relu(x, a, out=y)")
    except (AttributeError, TypeError, RuntimeError):
        fwd = (lambda x, dy, y: torch.nn.functional.leaky_relu(x, a), "F.leaky_relu(x, a) (allocates)")
    try:
        torch.ops.aten.leaky_relu_backward.grad_input(x, x, a, False, grad_input=y)
        bwd = (lambda x, dy, y: torch.ops.aten.leaky_relu_backward.grad_input(dy, x, a, False, grad_input=y),
               "aten.leaky_relu_backward.grad_input(dy, x, a, False, grad_input=dx)")
    except (AttributeError, TypeError, RuntimeError):
        bwd = (lambda x, dy, y: torch.ops.aten.leaky_relu_backward(dy, x, a, False),
               "aten.leaky_relu_backward(dy, x, a, False) (allocates)")
    return {"forward": fwd, "backward": bwd}


def main():
    args = peerlib.parse_args(__doc__.splitlines()[0], dtypes=tuple(DTYPES))
    try:
        import torch
    except ImportError:
        peerlib.skip(PEER, "torch is not installed (Debian: apt-get install python3-torch)")
    torch.set_num_threads(args.threads)
    a = peerlib.ALPHA
    gen = torch.Generator().manual_seed(int.from_bytes(os.urandom(8), "little") >> 1)  # fresh data each run
    calls = forms(torch)
    peerlib.note(PEER, "torch %s, %d threads" % (torch.__version__, torch.get_num_threads()))
    peerlib.header()
    with torch.no_grad():
        for dtype in args.dtypes:
            if dtype not in DTYPES:
                peerlib.note(PEER, "%s: not supported here, skipped" % dtype)
                continue
            size = DTYPES[dtype][2]
            try:
                big_x = fill(torch, gen, dtype, args.sizes[-1])
                big_dy = fill(torch, gen, dtype, args.sizes[-1])
            except RuntimeError as e:
                peerlib.note(PEER, "%s: cannot fill 2^%d elements (%s), skipped" % (dtype, args.max, e))
                continue
            # The contract: one multiply in the compute type (fp64 for f64, else fp32), alpha first
            # rounded to it, the product rounded once to the storage type.
            compute = torch.float64 if dtype == "f64" else torch.float32
            af = torch.tensor(a, dtype=compute)
            unsupported = set()
            for n in args.sizes:
                x = big_x[:n].clone()
                dy = big_dy[:n].clone()
                y = torch.empty_like(x)
                xc, dyc = x.to(compute), dy.to(compute)
                refs = {"forward": torch.where(xc > 0, xc, af * xc).to(x.dtype),
                        "backward": torch.where(xc > 0, dyc, af * dyc).to(x.dtype)}
                del xc, dyc
                for op in args.ops:
                    if op in unsupported:
                        continue
                    fn, call = calls[op]
                    try:
                        got = fn(x, dy, y)
                        same = torch.equal(got, refs[op])
                        stats = peerlib.measure(lambda: fn(x, dy, y), args.time, args.samples)
                    except RuntimeError as e:  # e.g. a dtype without a CPU kernel in this build
                        peerlib.note(PEER, "%s %s: %s; skipped" % (op, dtype, str(e).splitlines()[0]))
                        unsupported.add(op)
                        continue
                    text = "" if same else "MISMATCH vs the piecewise formula"
                    if not same:
                        peerlib.note(PEER, "%s %s n=%d: %s" % (op, dtype, n, text))
                    peerlib.row("torch", call, op, dtype, n, size, stats, torch.get_num_threads(), text)
                del x, dy, y, refs
    return 0


if __name__ == "__main__":
    sys.exit(main())
