#!/usr/bin/env bash
# Tuned against default kernel shapes, in one run: `leakycl tune` on the OpenCL device into a
# fresh tuning cache (its wall time printed), then leakycl-bench at 2^K elements on every op,
# ROUNDS times alternately with that cache and with LEAKYCL_TUNING=0 (the defaults), and per
# op and dtype the median of each and default/tuned (above 1: the tuned shapes are faster);
# then `leakycl tune --compare` at 2^K, which alternates the two call by call in one process
# (on a loaded machine the bench rounds, minutes apart, see different loads).
#
# usage: bash bench/tune_compare.sh [BUILD_DIR [K [ROUNDS [leakycl tune options...]]]]
#        (defaults: build, 24, 3; e.g. bash bench/tune_compare.sh build 24 3 --size 22)
set -euo pipefail
build=${1:-build}
k=${2:-24}
rounds=${3:-3}
shift $(($# < 3 ? $# : 3))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LEAKYCL_TUNING_FILE=$work/tuning
unset LEAKYCL_TUNING

start=$(date +%s.%N)
"$build/leakycl" tune --device opencl "$@" | tee "$work/tune.txt"
end=$(date +%s.%N)
echo "leakycl tune $*: $(echo "$end - $start" | bc) s"
echo "cache:"
cat "$LEAKYCL_TUNING_FILE"

ops=forward,backward,backward_from_output,forward_masked,backward_masked,prelu_forward,prelu_backward,batch_forward
bench() {
    "$build/leakycl-bench" --device opencl --ops "$ops" --min "$k" --max "$k" --views resident \
        --samples 5 --time 0.2 --csv "$1" >/dev/null
}
for r in $(seq "$rounds"); do
    bench "$work/tuned.$r.csv"
    LEAKYCL_TUNING=0 bench "$work/default.$r.csv"
done

/usr/bin/python3 - "$work" "$rounds" <<'PY'
import csv, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
times = {}
for kind in ("tuned", "default"):
    for r in range(1, rounds + 1):
        with open(f"{work}/{kind}.{r}.csv") as f:
            for row in csv.DictReader(f):
                if row["device"] == "cpu":
                    continue  # the CPU backend has no kernel shapes; leakycl-bench always runs it
                key = (row["op"], row["dtype"])
                times.setdefault(key, {}).setdefault(kind, []).append(float(row["seconds"]))
print(f"{'op':22} {'dtype':5} {'default ms':>11} {'tuned ms':>9} {'default/tuned':>14}")
for (op, dtype), t in sorted(times.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    d, u = statistics.median(t["default"]), statistics.median(t["tuned"])
    print(f"{op:22} {dtype:5} {d * 1e3:11.2f} {u * 1e3:9.2f} {d / u:13.2f}x")
PY

"$build/leakycl" tune --compare --device opencl --size "$k"
