#!/usr/bin/env python3
"""leakycl on the device against PyTorch on CUDA, from the CSVs bench/device/run.sh writes.

    compare.py LEAKYCL_CSV TORCH_CSV [--csv OUT.csv] [--tuned TUNED_CSV] [--from K]

One line per op, dtype and size: leakycl's device-resident GB/s and its share of the device's
own copy bandwidth (clEnqueueCopyBuffer), PyTorch's GB/s for the same op and its torch copy_
bandwidth, the ratio leakycl / torch, and the CPU backend's GB/s. PyTorch's op is the kernel-level
call: leaky_relu(_backward) with a preallocated output, PReLU's aten kernels (the slope gradient
included); backward_from_output is set against leaky_relu_backward.

Then issue 12's targets, per op and dtype over every size from 2^K up (default 24): the worst
share of copy (target >= 90%) and the worst leakycl / torch (target >= 0.95x, where torch has the
op), with the leakycl-bench rows of TUNED_CSV (the tuning cache on) beside the defaults' where
given; and 1,000 items of 1,024 as one batch call against 1,000 single calls (target >= 20x).
Standard library only; a missing file or column gives a note, not a traceback.
"""

import csv
import sys

COPY_TARGET = 0.90
TORCH_TARGET = 0.95
BATCH_TARGET = 20.0
SIZE = {"f32": 4, "f64": 8, "f16": 2, "bf16": 2}
# torch_bench.py's kernel-level call for each leakycl op (torch 2 and torch 1 names).
TORCH_CALLS = {
    "forward": ("aten.leaky_relu.out",),
    "backward": ("aten.leaky_relu_backward.grad_input",),
    "prelu_forward": ("aten._prelu_kernel", "aten.prelu"),
    "prelu_backward": ("aten._prelu_kernel_backward+sum_to_size", "aten.prelu_backward"),
}
TORCH_OP = {"backward_from_output": "backward"}  # leakycl ops timed against another torch op
NOT_SIZED = ("batch_small_items", "calls_small_items")  # one size, their own target


def read(path):
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except OSError as e:
        print("compare: %s: %s" % (path, e.strerror), file=sys.stderr)
        return []


def option(argv, name, default=None):
    return argv[argv.index(name) + 1] if name in argv and argv.index(name) + 1 < len(argv) else default


def split_rows(lcl):
    """(device, cpu): (op, dtype, n) -> resident row, device = the first non-CPU device's."""
    device, cpu = {}, {}
    for r in lcl:
        if r.get("view") != "resident":
            continue
        key = (r["op"], r["dtype"], int(r["n"]))
        if r["device"] == "cpu":
            cpu[key] = r
        elif key not in device:
            device[key] = r
    return device, cpu


def torch_rows(torch):
    """(op, dtype, n) -> the kernel-level row; (dtype, n) -> the copy_ row."""
    calls = {c: op for op, names in TORCH_CALLS.items() for c in names}
    tor, tcopy = {}, {}
    for r in torch:
        if calls.get(r["call"]) == r["op"]:
            tor[(r["op"], r["dtype"], int(r["n"]))] = r
        elif r["op"] == "copy":
            tcopy[(r["dtype"], int(r["n"]))] = r
    return tor, tcopy


def torch_for(tor, key):
    op, dtype, n = key
    return tor.get((TORCH_OP.get(op, op), dtype, n))


def gbps(r):
    return float(r["gbps"]) if r and r.get("gbps") else None


def share(r):
    return float(r["copy_share"]) if r and r.get("copy_share") else None


def cell(v, f="%.1f"):
    return f % v if v is not None else "-"


def log2(n):
    return "2^%d" % (n.bit_length() - 1)


def print_table(device, cpu, tor, tcopy):
    head = ("op", "dtype", "n", "leakycl", "%copy", "torch", "t.copy", "lcl/torch", "cpu")
    fmt = "%-22s %-5s %5s %9s %6s %9s %9s %9s %9s"
    print(fmt % head)
    print("%60s" % "(GB/s; leakycl resident, torch's kernel call, copies: each its own)")
    rows = []
    for key in sorted(set(device) | set(cpu)):
        op, dtype, n = key
        d, c, t, tc = device.get(key), cpu.get(key), torch_for(tor, key), tcopy.get((dtype, n))
        lg, sh, tg, cg = gbps(d), share(d), gbps(t), gbps(c)
        tcg = 2.0 * n * SIZE[dtype] / float(tc["seconds"]) / 1e9 if tc and float(tc["seconds"]) > 0 else None
        ratio = lg / tg if lg and tg else None
        print(fmt % (op, dtype, log2(n), cell(lg), cell(sh * 100 if sh is not None else None, "%.0f%%"), cell(tg),
                     cell(tcg), cell(ratio, "%.2fx"), cell(cg)))
        rows.append([op, dtype, n, lg, sh, tg, tcg, ratio, cg])
    return rows


def worst(points):
    """points: [(value, n)] -> (the least value, its n), or (None, None)."""
    points = [p for p in points if p[0] is not None]
    return min(points) if points else (None, None)


def verdict(value, target):
    return "-" if value is None else ("ok" if value >= target else "NO")


def target_cell(value, n, target, f):
    return "%-3s %s" % (verdict(value, target), (f % value + " (" + log2(n) + ")") if value is not None else "-")


def share_cell(value, n):
    return target_cell(value * 100 if value is not None else None, n, COPY_TARGET * 100, "%.0f%%")


def op_targets(rows, tor, key_of, sizes):
    """Per row set: the worst share of copy and the worst leakycl / torch over sizes, and how
    many of the sizes it has."""
    shares = [(share(rows.get(key_of(n))), n) for n in sizes]
    ratios = []
    for n in sizes:
        r, t = rows.get(key_of(n)), torch_for(tor, key_of(n))
        ratios.append((gbps(r) / gbps(t) if gbps(r) and gbps(t) else None, n))
    have = sum(1 for n in sizes if key_of(n) in rows)
    has_torch = any(torch_for(tor, key_of(n)) for n in sizes)
    return worst(shares), worst(ratios) if has_torch else (None, None), have


def print_targets(device, tor, tuned, first_log2):
    sizes = sorted({n for (op, _, n) in device if op not in NOT_SIZED and n >= 1 << first_log2})
    print()
    print("issue 12 targets: sizes 2^%d and up (%s), the device's resident rows; worst value (at size)"
          % (first_log2, ", ".join(log2(n) for n in sizes) or "none measured"))
    if first_log2 != 24:
        print("  (issue 12 counts from 2^24; this block from 2^%d)" % first_log2)
    fmt = "%-22s %-5s %5s  %-18s %-18s"
    head = ["op", "dtype", "sizes", ">= 90% of copy", ">= 0.95x torch"]
    if tuned:
        fmt += "  %-18s %-18s"
        head += ["tuned: % of copy", "tuned: x torch"]
    print(fmt % tuple(head))
    met = {"copy": [0, 0], "torch": [0, 0], "tuned copy": [0, 0], "tuned torch": [0, 0]}

    def count(name, value, target):
        if value is not None:
            met[name][1] += 1
            met[name][0] += value >= target

    pairs = sorted({(op, dtype) for (op, dtype, n) in device if op not in NOT_SIZED})
    for op, dtype in pairs:
        def key_of(n):
            return (op, dtype, n)
        (sh, sh_n), (ra, ra_n), have = op_targets(device, tor, key_of, sizes)
        line = [op, dtype, "%d/%d" % (have, len(sizes)), share_cell(sh, sh_n),
                target_cell(ra, ra_n, TORCH_TARGET, "%.2fx")]
        count("copy", sh, COPY_TARGET)
        count("torch", ra, TORCH_TARGET)
        if tuned:
            (tsh, tsh_n), (tra, tra_n), _ = op_targets(tuned, tor, key_of, sizes)
            line += [share_cell(tsh, tsh_n), target_cell(tra, tra_n, TORCH_TARGET, "%.2fx")]
            count("tuned copy", tsh, COPY_TARGET)
            count("tuned torch", tra, TORCH_TARGET)
        print(fmt % tuple(line))
    print("1,000 items of 1,024 elements: one batch call against 1,000 single calls (target >= %.0fx)"
          % BATCH_TARGET)
    print("%-22s %-5s %10s %10s %8s" % ("", "dtype", "batch ms", "calls ms", "ratio"))
    batches = [0, 0]
    for dtype in sorted({dtype for (op, dtype, n) in device if op == "batch_small_items"}):
        b = next((r for (op, d, n), r in device.items() if op == "batch_small_items" and d == dtype), None)
        c = next((r for (op, d, n), r in device.items() if op == "calls_small_items" and d == dtype), None)
        bs, cs = float(b["seconds"]), float(c["seconds"]) if c else 0.0
        ratio = cs / bs if bs > 0 and cs > 0 else None
        batches[1] += ratio is not None
        batches[0] += ratio is not None and ratio >= BATCH_TARGET
        print("%-22s %-5s %10.3f %10s %8s  %s" % ("batch_small_items", dtype, bs * 1e3, cell(cs * 1e3 if c else None,
              "%.3f"), cell(ratio, "%.1fx"), verdict(ratio, BATCH_TARGET)))
    summary = "met: %d of %d op/dtype rows at >= 90%% of copy, %d of %d at >= 0.95x torch" % (
        met["copy"][0], met["copy"][1], met["torch"][0], met["torch"][1])
    if tuned:
        summary += "; tuned %d of %d and %d of %d" % (met["tuned copy"][0], met["tuned copy"][1],
                                                     met["tuned torch"][0], met["tuned torch"][1])
    print(summary + "; batch %d of %d dtypes at >= %.0fx" % (batches[0], batches[1], BATCH_TARGET))


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    out_csv = option(argv, "--csv")
    first_log2 = int(option(argv, "--from", "24"))
    lcl, torch = read(argv[1]), read(argv[2])
    if not lcl:
        print("compare: no leakycl rows")
        return 1
    tuned_path = option(argv, "--tuned")
    tuned = split_rows(read(tuned_path))[0] if tuned_path else {}

    device, cpu = split_rows(lcl)
    tor, tcopy = torch_rows(torch)
    names = sorted({r["device_name"] for r in lcl if r["device"] != "cpu"})
    print("leakycl device: %s; torch: %s" % ("; ".join(names) or "none", torch[0]["source"] if torch else "no rows"))
    rows = print_table(device, cpu, tor, tcopy)
    print_targets(device, tor, tuned, first_log2)
    if out_csv:
        with open(out_csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["op", "dtype", "n", "leakycl_gbps", "leakycl_copy_share", "torch_gbps",
                        "torch_copy_gbps", "leakycl_over_torch", "cpu_gbps"])
            for r in rows:
                w.writerow(["" if v is None else (("%.4f" % v) if isinstance(v, float) else v) for v in r])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
