"""``python -m leakycl.bench``: leaky ReLU forward (float32) from Python per size, against the
seed's numpy one-liners, numpy with ``out=``, PyTorch on the CPU and the C library's own rows
(``leakycl-bench``'s host-array view, the same C call the Python function makes), in one run.

Each point: repetitions calibrated to ``--time`` seconds, ``--samples`` samples, the median.
Reports, per size, microseconds per call and GB/s (8 bytes per element: one read, one write);
then the Python call's cost over the C call at small sizes and its share of the C library's
throughput at 2^24 and above, per backend. The C rows of each size are measured right before
its Python rows. "new result" allocates its output on every call (as numpy's one-liners do);
the C rows and "out=" write into an array allocated once. Ratios come from one run; the
machine's noise still shows between runs.

usage: python -m leakycl.bench [--min 10] [--max 26] [--time 0.1] [--samples 5]
                               [--c-bench PATH] [--devices cpu,opencl] [--json FILE]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Optional

import numpy as np

import leakycl
from leakycl import _core

ALPHA = 0.01


def measure(fn: Callable[[], Any], seconds: float, samples: int) -> float:
    """Median seconds per call of fn over `samples` samples of about `seconds` each."""
    fn()  # warm: first calls compile kernels, fault pages in
    reps = 1
    while True:
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        took = time.perf_counter() - start
        if took >= seconds / 4 or reps >= 1 << 24:
            break
        reps *= 4
    reps = max(1, int(reps * seconds / max(took, 1e-9)))
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        times.append((time.perf_counter() - start) / reps)
    return statistics.median(times)


def paired_share(reference: Callable[[], Any], candidate: Callable[[], Any], rounds: int = 16) -> float:
    """The median over rounds of reference's time / candidate's time, the two called in turn
    (alternately first, so that neither gains from going second), so that the machine's load
    drifts alike for both: a share of throughput that one noisy sample cannot swing."""
    reference()
    candidate()
    shares = []
    for r in range(rounds):
        pair = (reference, candidate) if r % 2 == 0 else (candidate, reference)
        times = []
        for fn in pair:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        t_ref, t_cand = times if r % 2 == 0 else times[::-1]
        shares.append(t_ref / t_cand)
    return statistics.median(shares)


def find_c_bench(path: Optional[str]) -> Optional[str]:
    """The leakycl-bench to run: the given path, else the one on PATH, else ./build's."""
    for candidate in (path, shutil.which("leakycl-bench"), os.path.join("build", "leakycl-bench")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def c_rows(exe: str, devices: list[str], kmin: int, kmax: int, seconds: float, samples: int) -> dict:
    """{(device, n): seconds} of leakycl-bench's f32 forward on host arrays (its offload view:
    lcl_forward_host, the call leakycl.leaky_relu makes on a numpy array)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "c.json")
        cmd = [exe, "--ops", "forward", "--dtypes", "f32", "--views", "offload", "--min", str(kmin), "--max",
               str(kmax), "--time", str(seconds), "--samples", str(samples), "--json", out]
        for d in devices:
            if d != "cpu":
                cmd += ["--device", d]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            rows = json.load(f)
    result = {}
    for r in rows:
        backend = "cpu" if r["device"] == "cpu" else "opencl"
        result[(backend, int(r["n"]))] = float(r["seconds"])
    return result


def python_rows(n: int, contexts: dict, seconds: float, samples: int, torch: Any) -> dict:
    """{name: seconds} for one size."""
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(np.float32)
    out = np.empty_like(x)
    tmp = np.empty_like(x)
    a = np.float32(ALPHA)
    rows: dict[str, Callable[[], Any]] = {
        "numpy max(a*x,x)": lambda: np.maximum(a * x, x),
        "numpy where": lambda: np.where(x > 0, x, a * x),
        "numpy out=": lambda: (np.multiply(x, a, out=tmp), np.maximum(tmp, x, out=out)),
    }
    if torch is not None:
        t = torch.from_numpy(x)
        t_out = torch.empty_like(t)
        rows["torch"] = lambda: torch.nn.functional.leaky_relu(t, ALPHA)
        rows["torch out="] = lambda: torch._C._nn.leaky_relu(t, ALPHA, out=t_out)
    for backend, ctx in contexts.items():
        rows[f"leakycl {backend}"] = functools.partial(leakycl.leaky_relu, x, ALPHA, ctx=ctx)
        rows[f"leakycl {backend} out="] = functools.partial(leakycl.leaky_relu, x, ALPHA, out=out, ctx=ctx)
        # the extension's call alone, without the package's checks: what the binding costs
        rows[f"_core {backend}"] = functools.partial(_core.forward, ctx._core, _core.F32, n, ALPHA, x, out)
    return {name: measure(fn, seconds, samples) for name, fn in rows.items()}


def main(argv: Optional[list[str]] = None) -> int:
    """Runs the sweep the command line asks for and prints the table and the summary."""
    p = argparse.ArgumentParser(prog="python -m leakycl.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--min", type=int, default=10, help="smallest size, 2^K elements (default 10)")
    p.add_argument("--max", type=int, default=26, help="largest size, 2^K elements (default 26)")
    p.add_argument("--time", type=float, default=0.1, help="seconds per sample (default 0.1)")
    p.add_argument("--samples", type=int, default=5, help="samples per point (default 5)")
    p.add_argument("--c-bench", help="leakycl-bench to run for the C rows (default: on PATH, else ./build)")
    p.add_argument("--devices", default="cpu,opencl", help="backends to measure (default cpu,opencl)")
    p.add_argument("--json", help="also write every point as JSON")
    args = p.parse_args(argv)

    torch: Any = None
    try:
        import torch

        torch.set_num_threads(os.cpu_count() or 1)
    except ImportError:
        pass
    contexts = {}
    for spec in args.devices.split(","):
        try:
            contexts[spec] = leakycl.Context(spec)
        except leakycl.DeviceNotFound:
            print(f"# {spec}: no such device, left out", file=sys.stderr)
    for spec, ctx in contexts.items():
        print(f"# {spec}: {ctx.device_name}")
    exe = find_c_bench(args.c_bench)
    if exe:
        print(f"# C rows: {exe} (f32 forward on host arrays, lcl_forward_host), run per size")
    else:
        print("# C rows: leakycl-bench not found (build it, or pass --c-bench): left out")

    points = []
    names: list[str] = []
    for k in range(args.min, args.max + 1):
        n = 1 << k
        # The C rows of a size right before its Python rows: the machine's load drifts less
        # between the two than across a whole sweep.
        c = c_rows(exe, list(contexts), k, k, args.time, args.samples) if exe else {}
        rows = python_rows(n, contexts, args.time, args.samples, torch)
        shares = {}
        if n >= 1 << 24:
            x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
            out = np.empty_like(x)
            for backend, ctx in contexts.items():
                shares[backend] = paired_share(
                    functools.partial(_core.forward, ctx._core, _core.F32, n, ALPHA, x, out),
                    functools.partial(leakycl.leaky_relu, x, ALPHA, out=out, ctx=ctx))
        for backend in contexts:
            if (backend, n) in c:
                rows[f"C {backend}"] = c[(backend, n)]
        if not names:
            names = list(rows)
            print("size    " + "".join(f"{name:>22}" for name in names) + "    (us per call / GB/s)")
        print(f"2^{k:<5} " + "".join(f"{rows[m] * 1e6:>12.2f} {8 * n / rows[m] / 1e9:>8.2f} " for m in names),
              flush=True)
        points.append({"n": n, "seconds": rows, "paired_share": shares})

    summarize(points, list(contexts))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(points, f, indent=1)
    return 0


def summarize(points: list[dict], backends: list[str]) -> None:
    """The two targets per backend: the extra microseconds per call over C at sizes up to
    2^14, and the share of C's throughput at 2^24 and above."""
    print("\nleakycl from Python against the C call (lcl_forward_host) it makes, per backend:")
    for backend in backends:
        key_c = f"C {backend}"
        small = [p for p in points if p["n"] <= 1 << 14 and key_c in p["seconds"]]
        large = [p for p in points if p["n"] >= 1 << 24 and key_c in p["seconds"]]
        for p in small:
            s = p["seconds"]
            print(f"  {backend:6} 2^{p['n'].bit_length() - 1:<3} extra per call: out= "
                  f"{(s[f'leakycl {backend} out='] - s[key_c]) * 1e6:+7.2f} us, new result "
                  f"{(s[f'leakycl {backend}'] - s[key_c]) * 1e6:+7.2f} us   (target <= +5 us); "
                  f"of which the package's checks (out= - _core, same process): "
                  f"{(s[f'leakycl {backend} out='] - s[f'_core {backend}']) * 1e6:+6.2f} us")
        for p in large:
            s = p["seconds"]
            print(f"  {backend:6} 2^{p['n'].bit_length() - 1:<3} throughput vs C: out= "
                  f"{s[key_c] / s[f'leakycl {backend} out='] * 100:6.1f}%, new result "
                  f"{s[key_c] / s[f'leakycl {backend}'] * 100:6.1f}%   (target >= 95%); out= against "
                  f"the bare C call in turn, same process: {p['paired_share'][backend] * 100:6.1f}%")


if __name__ == "__main__":
    sys.exit(main())
