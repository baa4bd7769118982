"""Shared by the Python peer benchmarks: the command line, the timing method and the CSV rows.

Standard library only, so that a peer script can start, find its package missing and say so.
The method is leakycl-bench's (bench/measure.c): one warm-up run excluded, one more run timed to
calibrate the repetitions to --time seconds per sample (1 to 100000), then --samples samples,
each the mean over its repetitions; the median is reported with the spread (max - min) / median.
"""

import argparse
import os
import sys
import time

ALPHA = 0.01
MAX_REPS = 100000
# One row per measured point, printed on stdout. run_peers.py reads these columns by name.
CSV_HEADER = "source,call,op,dtype,n,bytes,seconds,spread,samples,gbps,threads,note"
SKIPPED = 3  # exit status of a peer whose package is missing


def default_threads():
    """As many threads as leakycl's CPU backend uses: $OMP_NUM_THREADS, else the CPUs we may run on."""
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def parse_args(description, dtypes=("f32",)):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--min", type=int, default=None, help="sizes 2^K elements from 2^min (default 10)")
    p.add_argument("--max", type=int, default=None, help="up to 2^max (default 27)")
    p.add_argument("--step", type=int, default=None, help="log2 step between sizes (default 1)")
    p.add_argument("--time", type=float, default=None, help="seconds per sample (default 0.1)")
    p.add_argument("--samples", type=int, default=None, help="samples per point (default 5)")
    p.add_argument("--quick", action="store_true", help="2^12 to 2^24 every 4th power, 0.03 s, 3 samples")
    p.add_argument("--threads", type=int, default=None, help="threads (default: $OMP_NUM_THREADS or nproc)")
    p.add_argument("--ops", default="forward,backward", help="forward,backward (default both)")
    p.add_argument("--dtypes", default="f32", help="comma list from: " + ",".join(dtypes))
    a = p.parse_args()
    quick = (12, 24, 4, 0.03, 3) if a.quick else (10, 27, 1, 0.1, 5)
    for name, default in zip(("min", "max", "step", "time", "samples"), quick):
        if getattr(a, name) is None:
            setattr(a, name, default)
    if a.min > a.max or a.step < 1 or a.samples < 1 or not a.time > 0:
        p.error("need --min <= --max, --step >= 1, --samples >= 1, --time > 0")
    a.threads = a.threads or default_threads()
    a.ops = [o for o in a.ops.split(",") if o]
    a.dtypes = [d for d in a.dtypes.split(",") if d]
    for o in a.ops:
        if o not in ("forward", "backward"):
            p.error("unknown op " + o)
    a.sizes = [1 << k for k in range(a.min, a.max + 1, a.step)]
    return a


def skip(peer, why):
    """One line on stderr, then the exit status the driver reads as 'skipped'."""
    print("%s: skipped: %s" % (peer, why), file=sys.stderr)
    sys.exit(SKIPPED)


def note(peer, text):
    print("%s: %s" % (peer, text), file=sys.stderr)


def _batch(fn, reps):
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - start) / reps


def measure(fn, target_seconds, samples):
    """Returns (median seconds per call, spread, samples), by leakycl-bench's method."""
    _batch(fn, 1)  # warm-up: first-use costs, page faults
    once = _batch(fn, 1)
    reps = int(target_seconds / once) if once > 0 else MAX_REPS
    reps = max(1, min(reps, MAX_REPS))
    times = sorted(_batch(fn, reps) for _ in range(samples))
    mid = len(times) // 2
    median = times[mid] if len(times) % 2 else 0.5 * (times[mid - 1] + times[mid])
    spread = (times[-1] - times[0]) / median if median > 0 else 0.0
    return median, spread, len(times)


def bytes_moved(op, n, size):
    """What the op must move, its floor: forward reads x, writes y; backward reads x, dy, writes dx."""
    return (2 if op == "forward" else 3) * n * size


def row(source, call, op, dtype, n, size, stats, threads, note_text=""):
    """source: the column it gets in the combined table (numpy, numpy_out, torch, ...); call: what was timed."""
    seconds, spread, samples = stats
    nbytes = bytes_moved(op, n, size)
    gbps = nbytes / seconds / 1e9 if seconds > 0 else 0.0
    clean = lambda text: text.replace(",", ";").replace("\n", " ")
    print("%s,%s,%s,%s,%d,%d,%.9g,%.4f,%d,%.4f,%d,%s" % (source, clean(call), op, dtype, n, nbytes, seconds, spread,
                                                          samples, gbps, threads, clean(note_text)), flush=True)


def header():
    print(CSV_HEADER, flush=True)
