#!/usr/bin/env python3
"""leakycl on the device against PyTorch on CUDA, from the CSVs bench/device/run.sh writes.

    compare.py LEAKYCL_CSV TORCH_CSV [--csv OUT.csv]

One line per op, dtype and size: leakycl's device-resident GB/s and its share of the device's
own copy bandwidth (clEnqueueCopyBuffer), PyTorch's GB/s with a preallocated output and its
torch copy_ bandwidth, the ratio leakycl / torch, and the CPU backend's GB/s. Standard library
only; a missing file or column gives a note, not a traceback.
"""

import csv
import sys


def read(path):
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except OSError as e:
        print("compare: %s: %s" % (path, e.strerror), file=sys.stderr)
        return []


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    out_csv = argv[argv.index("--csv") + 1] if "--csv" in argv else None
    lcl, torch = read(argv[1]), read(argv[2])
    if not lcl:
        print("compare: no leakycl rows")
        return 1

    device = {}  # (op, dtype, n) -> row, the first non-CPU device, resident view
    cpu = {}
    for r in lcl:
        key = (r["op"], r["dtype"], int(r["n"]))
        if r.get("view") != "resident":
            continue
        if r["device"] == "cpu":
            cpu[key] = r
        elif key not in device:
            device[key] = r
    names = sorted({r["device_name"] for r in lcl if r["device"] != "cpu"})
    tor, tcopy = {}, {}
    for r in torch:
        key = (r["op"], r["dtype"], int(r["n"]))
        if r["call"] in ("aten.leaky_relu.out", "aten.leaky_relu_backward.grad_input"):
            tor[key] = r
        elif r["op"] == "copy":
            tcopy[(r["dtype"], int(r["n"]))] = r

    print("leakycl device: %s; torch: %s" % ("; ".join(names) or "none",
                                             torch[0]["source"] if torch else "no rows"))
    head = ("op", "dtype", "n", "leakycl", "%copy", "torch", "t.copy", "lcl/torch", "cpu")
    fmt = "%-22s %-5s %5s %9s %6s %9s %9s %9s %9s"
    print(fmt % head)
    print("%60s" % "(GB/s; leakycl resident, torch out=, copies: each its own)")
    rows = []
    size = {"f32": 4, "f64": 8, "f16": 2, "bf16": 2}
    for key in sorted(set(device) | set(cpu), key=lambda k: (k[0], k[1], k[2])):
        op, dtype, n = key
        d, c = device.get(key), cpu.get(key)
        t = tor.get(key) or (tor.get(("backward", dtype, n)) if op == "backward_from_output" else None)
        tc = tcopy.get((dtype, n))
        lg = float(d["gbps"]) if d else None
        share = float(d["copy_share"]) if d and d.get("copy_share") else None
        tg = float(t["gbps"]) if t else None
        tcg = 2.0 * n * size[dtype] / float(tc["seconds"]) / 1e9 if tc and float(tc["seconds"]) > 0 else None
        ratio = lg / tg if lg and tg else None
        cg = float(c["gbps"]) if c else None
        cell = lambda v, f="%.1f": f % v if v is not None else "-"
        print(fmt % (op, dtype, "2^%d" % (n.bit_length() - 1), cell(lg), cell(share * 100 if share is not None
              else None, "%.0f%%"), cell(tg), cell(tcg), cell(ratio, "%.2fx"), cell(cg)))
        rows.append([op, dtype, n, lg, share, tg, tcg, ratio, cg])
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
