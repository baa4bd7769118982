#!/usr/bin/python3
"""The CPU backend's dense layer against PyTorch's nn.Linear + leaky_relu, same sizes, same threads.

    /usr/bin/python3 bench/peers/dense_torch.py [--bench build/leakycl-bench-dense] [--threads N]
                                                [--shape 256x512x512 ...]

leakycl runs through leakycl-bench-dense --device cpu (OpenBLAS's GEMM, then its epilogue pass);
PyTorch runs leaky_relu(linear(x, w, b)) under torch.no_grad() with torch.set_num_threads(N).
Both report the median of a few samples after a warm-up; the table gives GFLOP/s (2*B*I*O per
call) and torch's time over leakycl's. Not part of the tests. See docs/PEERS.md.
"""

import argparse
import csv
import glob
import io
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True


def find_bench(explicit):
    if explicit:
        return explicit
    found = [p for p in glob.glob(os.path.join(ROOT, "build*", "leakycl-bench-dense")) if os.access(p, os.X_OK)]
    found.sort(key=lambda p: -os.path.getmtime(p))
    if not found:
        sys.exit("dense_torch: no build*/leakycl-bench-dense; build it or pass --bench")
    return found[0]


def leakycl_rows(bench, shapes, threads, reps, samples):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    cmd = [bench, "--device", "cpu", "--csv", "--reps", str(reps), "--samples", str(samples)]
    for s in shapes:
        cmd += ["--shape", s]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return {(int(r["batch"]), int(r["in"]), int(r["out"])): float(r["fused_ms"]) for r in csv.DictReader(io.StringIO(out))}


def torch_ms(shape, threads, reps, samples):
    import torch
    torch.set_num_threads(threads)
    batch, n_in, n_out = shape
    x = torch.rand(batch, n_in) * 2 - 1
    layer = torch.nn.Linear(n_in, n_out)
    with torch.no_grad():
        torch.nn.functional.leaky_relu(layer(x), 0.01)
        times = []
        for _ in range(samples):
            start = time.perf_counter()
            for _ in range(reps):
                torch.nn.functional.leaky_relu(layer(x), 0.01, inplace=True)
            times.append((time.perf_counter() - start) / reps * 1e3)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bench")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    p.add_argument("--shape", action="append")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--samples", type=int, default=3)
    a = p.parse_args()
    shapes = a.shape or ["256x512x512", "512x1024x1024"]
    rows = leakycl_rows(find_bench(a.bench), shapes, a.threads, a.reps, a.samples)
    print(f"threads {a.threads}")
    print(f"{'batch x in x out':>18} {'leakycl ms':>11} {'GFLOP/s':>8} {'torch ms':>9} {'GFLOP/s':>8} {'torch/leakycl':>14}")
    for s in shapes:
        shape = tuple(int(v) for v in s.split("x"))
        flops = 2.0 * shape[0] * shape[1] * shape[2]
        ours = rows[shape]
        theirs = torch_ms(shape, a.threads, a.reps, a.samples)
        print(f"{s:>18} {ours:11.3f} {flops / ours * 1e-6:8.1f} {theirs:9.3f} {flops / theirs * 1e-6:8.1f} "
              f"{theirs / ours:14.3f}")


if __name__ == "__main__":
    main()
