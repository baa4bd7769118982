#!/usr/bin/env bash
# Two builds of leakycl-bench against each other in one run: the same rows, ROUNDS times, the
# builds taking turns (A, B, A, B...), so that both see the same machine; then per device, op,
# dtype and size the median time of each over the rounds and B/A (below 1: B is faster), with
# the geometric mean of B/A per device. For a change's before and after: build the old commit
# in a worktree (`git worktree add /tmp/old REV && cmake -S /tmp/old -B /tmp/old/build
# -DCMAKE_BUILD_TYPE=Release && cmake --build /tmp/old/build --target leakycl_bench`).
#
# usage: bash bench/compare_builds.sh A_BENCH B_BENCH [ROUNDS [leakycl-bench options...]]
#        (default options: every op at 2^24 and 2^27, every dtype, resident tensors, the CPU
#        backend and every OpenCL device, 5 samples of 0.1 s)
set -euo pipefail
a=$1
b=$2
rounds=${3:-2}
shift $(($# < 3 ? $# : 3))
if [ $# -eq 0 ]; then
    set -- --ops forward,backward,backward_from_output,forward_masked,backward_masked,prelu_forward,prelu_backward,batch_forward \
        --min 24 --max 27 --step 3 --views resident --samples 5
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for r in $(seq "$rounds"); do
    "$a" "$@" --csv "$work/a.$r.csv" >/dev/null
    "$b" "$@" --csv "$work/b.$r.csv" >/dev/null
done

/usr/bin/python3 - "$work" "$rounds" "$a" "$b" <<'PY'
import csv, math, statistics, sys
work, rounds, a_name, b_name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

def times(side):
    rows = {}
    for r in range(1, rounds + 1):
        with open(f"{work}/{side}.{r}.csv") as f:
            for row in csv.DictReader(f):
                key = (row["device"], row["view"], row["op"], row["dtype"], int(row["n"]))
                rows.setdefault(key, []).append(float(row["seconds"]))
    return {k: statistics.median(v) for k, v in rows.items()}

a, b = times("a"), times("b")
print(f"A = {a_name}\nB = {b_name}\n{rounds} rounds each, medians of the rounds' medians")
print(f"{'device':12} {'view':9} {'op':22} {'dtype':5} {'n':>5} {'A ms':>9} {'B ms':>9} {'B/A':>6}")
logs = {}
for key in sorted(a.keys() & b.keys()):
    device, view, op, dtype, n = key
    ratio = b[key] / a[key]
    logs.setdefault(device, []).append(math.log(ratio))
    print(f"{device:12} {view:9} {op:22} {dtype:5} 2^{n.bit_length() - 1:<3} {a[key] * 1e3:9.3f} {b[key] * 1e3:9.3f} {ratio:6.2f}")
for device, v in sorted(logs.items()):
    print(f"{device}: geometric mean of B/A over {len(v)} rows: {math.exp(sum(v) / len(v)):.3f}"
          f" (range {math.exp(min(v)):.2f} to {math.exp(max(v)):.2f})")
missing = sorted(a.keys() ^ b.keys())
if missing:
    print(f"rows in one build only: {len(missing)}")
PY
