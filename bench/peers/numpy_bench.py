#!/usr/bin/python3
"""The seed's numpy leaky ReLU, timed by leakycl-bench's method; CSV rows on stdout.

Two forms of each op:
  numpy      the seed's one-liners as written: forward np.maximum(a*x, x), backward
             np.where(x > 0, dy, a*dy). They allocate a temporary and the result on every call,
             which is the cost being compared.
  numpy_out  the same arithmetic into preallocated arrays (out=, copyto where=): no allocation,
             but still two or three passes over memory.
numpy's ufuncs run on one thread whatever --threads says. np.maximum(a*x, x) is the piecewise
formula only for 0 <= alpha <= 1; with alpha = 0.01 the two agree bit for bit (checked here).
Exit status 3 with a one-line note when numpy is missing.
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib  # noqa: E402

PEER = "numpy"
# storage type, mantissa bits, element size (bench_fill's distribution: no zeros, no subnormals)
DTYPES = {"f32": ("float32", 23, 4), "f16": ("float16", 10, 2), "f64": ("float64", 52, 8)}


def fill(np, rng, dtype, n, chunk=1 << 22):
    """Nonzero values of both signs, magnitudes 2^-4 to 2^4 with random mantissas, as bench_fill."""
    name, mant_bits, _ = DTYPES[dtype]
    out = np.empty(n, dtype=name)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        sign = rng.integers(0, 2, m).astype(np.float64) * 2 - 1
        mant = 1 + rng.integers(0, 1 << mant_bits, m, dtype=np.int64) / float(1 << mant_bits)
        out[start:start + m] = np.ldexp(sign * mant, rng.integers(-4, 5, m))  # exact in the storage type
    return out


def main():
    args = peerlib.parse_args(__doc__.splitlines()[0], dtypes=tuple(DTYPES))
    try:
        import numpy as np
    except ImportError:
        peerlib.skip(PEER, "numpy is not installed (Debian: apt-get install python3-numpy)")
    a = peerlib.ALPHA
    rng = np.random.default_rng()  # fresh data on every run
    peerlib.note(PEER, "numpy %s, 1 thread (ufuncs are single-threaded)" % np.__version__)
    peerlib.header()
    for dtype in args.dtypes:
        if dtype not in DTYPES:
            peerlib.note(PEER, "%s: not supported here, skipped" % dtype)
            continue
        size = DTYPES[dtype][2]
        try:
            big_x = fill(np, rng, dtype, args.sizes[-1])
            big_dy = fill(np, rng, dtype, args.sizes[-1])
        except MemoryError:
            peerlib.note(PEER, "%s: out of memory for 2^%d elements, skipped" % (dtype, args.max))
            continue
        af = np.dtype(DTYPES[dtype][0]).type(a)
        for n in args.sizes:
            x = big_x[:n].copy()
            dy = big_dy[:n].copy()
            y = np.empty_like(x)
            mask = np.empty(n, dtype=bool)
            ref_fwd = np.where(x > 0, x, af * x)
            ref_bwd = np.where(x > 0, dy, af * dy)

            def fwd_out():
                np.multiply(x, a, out=y)
                np.maximum(y, x, out=y)

            def bwd_out():
                np.greater(x, 0, out=mask)
                np.multiply(dy, a, out=y)
                np.copyto(y, dy, where=mask)

            forms = {
                "forward": [("numpy", "np.maximum(a*x, x)", lambda: np.maximum(a * x, x), None),
                            ("numpy_out", "np.multiply(out=y); np.maximum(out=y)", fwd_out, y)],
                "backward": [("numpy", "np.where(x > 0, dy, a*dy)", lambda: np.where(x > 0, dy, a * dy), None),
                             ("numpy_out", "np.greater(out=m); np.multiply(out=dx); np.copyto(where=m)", bwd_out,
                              y)],
            }
            for op in args.ops:
                ref = ref_fwd if op == "forward" else ref_bwd
                for source, call, fn, out in forms[op]:
                    try:
                        got = fn() if out is None else (fn(), out)[1]
                        same = got.dtype == ref.dtype and np.array_equal(got.view(np.uint8), ref.view(np.uint8))
                        stats = peerlib.measure(fn, args.time, args.samples)
                    except MemoryError:
                        peerlib.note(PEER, "%s %s %s n=%d: out of memory" % (source, op, dtype, n))
                        continue
                    text = "" if same else "MISMATCH vs the piecewise formula"
                    if not same:
                        peerlib.note(PEER, "%s %s %s n=%d: %s" % (source, op, dtype, n, text))
                    peerlib.row(source, call, op, dtype, n, size, stats, 1, text)
            del x, dy, y, mask, ref_fwd, ref_bwd
    return 0


if __name__ == "__main__":
    sys.exit(main())
