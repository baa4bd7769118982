#!/usr/bin/env bash
# Trains examples/mlp on the CPU backend and on the first OpenCL device from the same seed and
# fails unless every epoch's loss agrees to a relative TOLERANCE (ctest: example.mlp.backends_agree).
#
# usage: compare_losses.sh PATH/TO/mlp TOLERANCE [mlp options...]
set -euo pipefail

mlp=$1
tolerance=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$mlp" --device cpu "$@" >"$work/cpu.txt"
"$mlp" --device opencl "$@" >"$work/opencl.txt"
grep '^epoch ' "$work/cpu.txt" >"$work/cpu.loss"
grep '^epoch ' "$work/opencl.txt" >"$work/opencl.loss"
paste -d ' ' "$work/cpu.loss" "$work/opencl.loss" | awk -v tol="$tolerance" '
    $2 != $6 { print "epoch numbers differ: " $0; bad = 1; exit }
    {
        d = ($4 - $8) / ($4 != 0 ? $4 : 1); if (d < 0) d = -d
        if (d > worst) { worst = d; at = $2 }
        if (d > tol) { printf "epoch %s: CPU loss %s, OpenCL loss %s: relative difference %.3g > %s\n", $2, $4, $8, d, tol; bad = 1 }
    }
    END {
        if (NR == 0) { print "no epochs"; exit 1 }
        printf "%d epochs, largest relative difference %.3g (epoch %s)\n", NR, worst, at
        exit bad
    }'
[ "$(wc -l <"$work/cpu.loss")" -eq "$(wc -l <"$work/opencl.loss")" ] || { echo "epoch counts differ"; exit 1; }
tail -n 2 "$work/opencl.txt"
