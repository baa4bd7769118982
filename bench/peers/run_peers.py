#!/usr/bin/python3
"""Peers side by side: leakycl's CPU backend, the seed's numpy form, PyTorch and oneDNN on the
same sizes, in one run, and a combined table of their GB/s with each peer as a ratio to leakycl.

    /usr/bin/python3 bench/peers/run_peers.py [--bench build/leakycl-bench] [--min 20 --max 24 --step 2]

Each peer is optional: a missing package (python3-numpy, python3-torch, libdnnl-dev) is skipped
with a one-line note. Nothing here is part of the tests. See docs/PEERS.md.
"""

import argparse
import csv
import glob
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import peerlib  # noqa: E402

PEERS = ("numpy", "torch", "onednn")
# The peers' columns in the combined table, in order (numpy_bench.py gives numpy and numpy_out).
SOURCES = ("numpy", "numpy_out", "torch", "onednn")
SIZE = {"f32": 4, "f16": 2, "bf16": 2, "f64": 8}


def log(text):
    print("peers: " + text, file=sys.stderr, flush=True)


def find_bench(explicit):
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    env = os.environ.get("LEAKYCL_BENCH")
    if env and os.access(env, os.X_OK):
        return env
    found = [p for p in glob.glob(os.path.join(ROOT, "build*", "leakycl-bench")) if os.access(p, os.X_OK)]
    found.sort(key=lambda p: -os.path.getmtime(p))  # the newest build, so as not to time a stale one
    return found[0] if found else shutil.which("leakycl-bench")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--bench", help="leakycl-bench binary (default: $LEAKYCL_BENCH, else the newest "
                   "build*/leakycl-bench in this repository, else PATH)")
    p.add_argument("--min", type=int, help="sizes 2^K elements from 2^min (default 10)")
    p.add_argument("--max", type=int, help="up to 2^max (default 27)")
    p.add_argument("--step", type=int, help="log2 step between sizes (default 1)")
    p.add_argument("--time", type=float, help="seconds per sample (default 0.1)")
    p.add_argument("--samples", type=int, help="samples per point, median reported (default 5)")
    p.add_argument("--quick", action="store_true", help="2^12 to 2^24 every 4th power, 0.03 s, 3 samples")
    p.add_argument("--threads", type=int, help="threads for leakycl, torch and oneDNN (default: "
                   "$OMP_NUM_THREADS, else the CPUs this process may use)")
    p.add_argument("--ops", default="forward,backward", help="forward,backward (default both)")
    p.add_argument("--dtypes", default="f32", help="f32 (default); bf16 also runs on leakycl, torch and "
                   "oneDNN where they support it; f16, f64 on those that have them")
    p.add_argument("--peers", default=",".join(PEERS), help="which peers (default %s)" % ",".join(PEERS))
    p.add_argument("--python", default="/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK)
                   else sys.executable, help="the Python with numpy and torch (default /usr/bin/python3)")
    p.add_argument("--cc", default=os.environ.get("CC", "cc"), help="C compiler for onednn_bench.c ($CC, cc)")
    p.add_argument("--rounds", type=int, default=1, help="run everything this many times, one tool after "
                   "another, and keep each point's fastest median: for a shared, noisy machine (default 1)")
    p.add_argument("--out", help="folder for each tool's CSV and log (default: a new temporary folder)")
    p.add_argument("--csv", help="the combined CSV (default: OUT/combined.csv)")
    a = p.parse_args()
    quick = (12, 24, 4, 0.03, 3) if a.quick else (10, 27, 1, 0.1, 5)
    for name, default in zip(("min", "max", "step", "time", "samples"), quick):
        if getattr(a, name) is None:
            setattr(a, name, default)
    if a.min > a.max or a.step < 1 or a.samples < 1 or not a.time > 0 or a.rounds < 1:
        p.error("need --min <= --max, --step >= 1, --samples >= 1, --time > 0, --rounds >= 1")
    a.threads = a.threads or peerlib.default_threads()
    a.peers = [x for x in a.peers.split(",") if x]
    for x in a.peers:
        if x not in PEERS:
            p.error("unknown peer %s (known: %s)" % (x, ", ".join(PEERS)))
    a.out = a.out or tempfile.mkdtemp(prefix="leakycl-peers-")
    os.makedirs(a.out, exist_ok=True)
    a.csv = a.csv or os.path.join(a.out, "combined.csv")
    return a


def common_args(a):
    return ["--min", str(a.min), "--max", str(a.max), "--step", str(a.step), "--time", repr(a.time),
            "--samples", str(a.samples), "--ops", a.ops, "--dtypes", a.dtypes]


def run_logged(cmd, env, csv_path, log_path):
    """Runs cmd with stdout to csv_path (or the log) and stderr to the log; returns (status, log text)."""
    with open(log_path, "w") as lf:
        lf.write("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n")
        lf.flush()
        with open(csv_path, "w") if csv_path else open(os.devnull, "w") as out:
            status = subprocess.call(cmd, stdout=out if csv_path else lf, stderr=lf, env=env)
    with open(log_path) as lf:
        return status, lf.read()


def read_rows(path):
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except OSError:
        return []


def run_leakycl(a, env, tag):
    """Returns the CPU backend's rows by (dtype, op, n), or None when there is no leakycl-bench."""
    bench = find_bench(a.bench)
    if not bench:
        log("leakycl: skipped: no leakycl-bench (build it, or pass --bench PATH); ratios left out")
        return None
    path = os.path.join(a.out, "leakycl%s.csv" % tag)
    cmd = [bench, "--device", "cpu", "--views", "resident", "--dtypes", a.dtypes, "--ops", a.ops,
           "--min", str(a.min), "--max", str(a.max), "--step", str(a.step), "--time", repr(a.time),
           "--samples", str(a.samples), "--csv", path]
    log("leakycl: %s" % " ".join(shlex.quote(c) for c in cmd))
    log_path = os.path.join(a.out, "leakycl%s.log" % tag)
    status, text = run_logged(cmd, env, None, log_path)
    if status != 0:
        log("leakycl: leakycl-bench exited with %d; see %s" % (status, log_path))
    points = {}
    for r in read_rows(path):
        # leakycl-bench always measures the CPU backend first; those rows are the baseline.
        if r["device"] == "cpu" and r["view"] == "resident":
            points[(r["dtype"], r["op"], int(r["n"]))] = r
    if points:
        name = next(iter(points.values()))["device_name"]
        log("leakycl: %d points on %s" % (len(points), name))
    return points


def build_onednn(a, exe):
    """cc -O2 onednn_bench.c -ldnnl into the --out folder; False with a note when it cannot be built."""
    cflags = shlex.split(os.environ.get("DNNL_CFLAGS", ""))
    probe = subprocess.run([a.cc, "-E", "-x", "c", "-"] + cflags, input="#include <dnnl.h>\n",
                           capture_output=True, text=True)
    if probe.returncode != 0:
        log("onednn: skipped: dnnl.h not found (Debian: apt-get install libdnnl-dev; or set DNNL_CFLAGS)")
        return False
    build = [a.cc, "-std=c11", "-O2", "-fopenmp"] + cflags + [os.path.join(HERE, "onednn_bench.c"), "-o", exe] + \
        shlex.split(os.environ.get("DNNL_LIBS", "")) + ["-ldnnl"]
    made = subprocess.run(build, capture_output=True, text=True)
    if made.returncode != 0:
        first = (made.stderr.strip().splitlines() or ["?"])[0]
        log("onednn: skipped: onednn_bench.c did not build: %s" % first)
        return False
    return True


def run_peer(a, peer, env, tag):
    """Returns the peer's rows; None with a note when it is skipped."""
    csv_path = os.path.join(a.out, peer + tag + ".csv")
    log_path = os.path.join(a.out, peer + tag + ".log")
    if peer == "onednn":
        exe = os.path.join(a.out, "onednn_bench")
        fresh = os.access(exe, os.X_OK) and \
            os.path.getmtime(exe) >= os.path.getmtime(os.path.join(HERE, "onednn_bench.c"))
        if not fresh and not build_onednn(a, exe):
            return None
        cmd = [exe, "--threads", str(a.threads)] + common_args(a)
    else:
        cmd = [a.python, os.path.join(HERE, peer + "_bench.py"), "--threads", str(a.threads)] + common_args(a)
    log("%s: running" % peer)
    status, text = run_logged(cmd, env, csv_path, log_path)
    notes = [line for line in text.splitlines()[1:] if line.strip()]
    if status == peerlib.SKIPPED:
        log(notes[-1] if notes else peer + ": skipped")
        return None
    for line in notes:
        log(line if line.startswith(peer) else peer + ": " + line)
    if status != 0:
        log("%s: exited with %d; see %s" % (peer, status, log_path))
    return read_rows(csv_path)


def fmt_gbps(v):
    return "%7.2f" % v if v is not None else "%7s" % "-"


def combine(a, base, peer_rows):
    """The combined rows, one per (dtype, op, n), ordered like the runs."""
    keys = list(base)
    by_source = {}
    for r in peer_rows:
        key = (r["dtype"], r["op"], int(r["n"]))
        by_source[(r["source"], key)] = r
        if key not in keys:
            keys.append(key)
    dtype_order = [d for d in a.dtypes.split(",") if d]
    op_order = [o for o in a.ops.split(",") if o]
    keys.sort(key=lambda k: (dtype_order.index(k[0]) if k[0] in dtype_order else 99,
                             op_order.index(k[1]) if k[1] in op_order else 99, k[2]))
    present = [s for s in SOURCES if any(src == s for src, _ in by_source)]
    rows = []
    for key in keys:
        dtype, op, n = key
        b = base.get(key)
        lk = float(b["gbps"]) if b else None
        copy = None
        if b and float(b["copy_seconds"]) > 0:
            copy = 2.0 * n * SIZE.get(dtype, 4) / float(b["copy_seconds"]) / 1e9
        row = {"dtype": dtype, "op": op, "n": n, "bytes": (2 if op == "forward" else 3) * n * SIZE.get(dtype, 4),
               "threads": a.threads, "leakycl_gbps": lk, "leakycl_spread": float(b["spread"]) if b else None,
               "memcpy_gbps": copy}
        for s in present:
            r = by_source.get((s, key))
            g = float(r["gbps"]) if r else None
            row[s + "_gbps"] = g
            row[s + "_spread"] = float(r["spread"]) if r else None
            row[s + "_ratio"] = g / lk if g is not None and lk else None
            row[s + "_note"] = r["note"] if r else ""
        rows.append(row)
    return rows, present


def print_table(rows, present, threads):
    def size(n):
        k = n.bit_length() - 1
        return "2^%d" % k if n == 1 << k else str(n)

    head = "%-5s %-8s %6s %7s %7s" % ("dtype", "op", "n", "leakycl", "memcpy")
    width = {s: max(17, len(s) + 9) for s in present}
    for s in present:
        head += " | %-*s" % (width[s], s + " GB/s (x)")
    print()
    print("GB/s = bytes the op must move / median time (forward 2n, backward 3n elements); (x) = peer / leakycl.")
    print("leakycl: CPU backend, resident; memcpy: leakycl-bench's threaded copy of 2n elements; "
          "%d thread%s for leakycl, torch, oneDNN; numpy is single-threaded." % (threads, "s"[:threads > 1]))
    print(head)
    print("-" * len(head))
    for r in rows:
        line = "%-5s %-8s %6s %s %s" % (r["dtype"], r["op"], size(r["n"]), fmt_gbps(r["leakycl_gbps"]),
                                         fmt_gbps(r["memcpy_gbps"]))
        for s in present:
            g, x = r[s + "_gbps"], r[s + "_ratio"]
            cell = "%s (%s)" % (fmt_gbps(g), "%5.2fx" % x if x is not None else "  -  ") if g is not None else "-"
            if r[s + "_note"]:
                cell += "!"
            line += " | %-*s" % (width[s], cell)
        print(line)
    if any(r[s + "_note"] for r in rows for s in present):
        print("! the peer's output did not match the piecewise formula bit for bit (see its log)")


def write_csv(path, rows, present):
    cols = ["dtype", "op", "n", "bytes", "threads", "leakycl_gbps", "leakycl_spread", "memcpy_gbps"]
    for s in present:
        cols += [s + "_gbps", s + "_spread", s + "_ratio", s + "_note"]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow(["" if r.get(c) is None else ("%.4f" % r[c] if isinstance(r[c], float) else r[c])
                        for c in cols])


def main():
    a = parse_args()
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    log("sizes 2^%d..2^%d step %d, %s, %s, %g s x %d samples, %d threads; outputs in %s"
        % (a.min, a.max, a.step, a.ops, a.dtypes, a.time, a.samples, a.threads, a.out))
    base = {}
    best = {}  # (source, dtype, op, n) -> the fastest row over the rounds
    tools = ["leakycl"] + a.peers
    for r in range(a.rounds):
        tag = ".r%d" % (r + 1) if a.rounds > 1 else ""
        if a.rounds > 1:
            log("round %d of %d" % (r + 1, a.rounds))
        for tool in list(tools):
            got = run_leakycl(a, env, tag) if tool == "leakycl" else run_peer(a, tool, env, tag)
            if got is None:
                tools.remove(tool)  # skipped: not tried again
            elif tool == "leakycl":
                for key, row in got.items():
                    if key not in base or float(row["seconds"]) < float(base[key]["seconds"]):
                        base[key] = row
            else:
                for row in got:
                    key = (row["source"], row["dtype"], row["op"], row["n"])
                    if key not in best or float(row["seconds"]) < float(best[key]["seconds"]):
                        best[key] = row
    peer_rows = list(best.values())
    rows, present = combine(a, base, peer_rows)
    if not rows:
        log("nothing was measured")
        return 1
    print_table(rows, present, a.threads)
    write_csv(a.csv, rows, present)
    print("\ncombined CSV: %s" % a.csv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
