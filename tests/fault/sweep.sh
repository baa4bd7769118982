#!/usr/bin/env bash
# The fault sweep: runs the scenario once without a fault to count the OpenCL calls leakycl
# makes in it (releases aside, which never fail), then once per fault point k with the k-th call
# failing, each in a process of its own, and sums up. Exits 1 when any run failed a check.
#
# usage: sweep.sh SCENARIO LIBCLFAULT
# environment:
#   CLFAULT_STRIDE=s    run every s-th fault point only, plus the first call of each name
#                       (default 1: all of them; 6 when CI=true)
#   CLFAULT_JOBS=j      runs at once (default: the number of cores)
#   CLFAULT_ERRORS=...  errors to inject at each point: "auto" (default: one the call can really
#                       return, varied with k) or a list of CL_* names, each a run of its own
#   CLFAULT_FIRST=a, CLFAULT_LAST=b   only the fault points from a to b
#   CLFAULT_CALL=name   fail the k-th call of that name only (k then counts those calls)
#   CLFAULT_KEEP=dir    keep every run's output there
set -uo pipefail
scenario=$(realpath "$1")
shim=$(realpath "$2")
# CI runs every 6th call; elsewhere every call.
default_stride=1
[[ ${CI:-} == true ]] && default_stride=6
stride=${CLFAULT_STRIDE:-$default_stride}
jobs=${CLFAULT_JOBS:-$(nproc)}
errors=${CLFAULT_ERRORS:-auto}
out=${CLFAULT_KEEP:-$(mktemp -d)}
mkdir -p "$out"
[[ -n ${CLFAULT_KEEP:-} ]] || trap 'rm -rf "$out"' EXIT
export LD_PRELOAD="$shim${LD_PRELOAD:+:$LD_PRELOAD}"
start=$SECONDS

rm -f "$out/trace"
if ! count=$(CLFAULT_TRACE="$out/trace" "$scenario" 2>"$out/count.err"); then
  echo "the scenario fails without a fault:"; cat "$out/count.err"; exit 1
fi
calls=$(sed -n 's/^calls=\([0-9]*\).*/\1/p' <<<"$count")
if [[ -n ${CLFAULT_CALL:-} ]]; then
  calls=$(awk -v c="$CLFAULT_CALL" '$1 != "-" && $2 == c' "$out/trace" | wc -l)
fi
if [[ -z $calls || $calls -eq 0 ]]; then
  echo "no OpenCL calls counted: is the shim preloaded? ($count)"; exit 1
fi

run_one() {
  local k=$1 err=$2
  CLFAULT_AT=$k CLFAULT_ERROR=$err timeout 300 "$scenario" >"$out/run.$k.$err" 2>&1
  echo "rc=$?" >>"$out/run.$k.$err"
}
export -f run_one
export scenario out
# A stride keeps the first call of every name (every kind of call fails at least once).
points() {
  seq "${CLFAULT_FIRST:-1}" "$stride" "${CLFAULT_LAST:-$calls}"
  if [[ $stride -gt 1 && -z ${CLFAULT_CALL:-} ]]; then
    awk '$1 != "-" && !seen[$2]++ { print $1 }' "$out/trace"
  fi
}
for err in $errors; do
  points | sort -nu | sed "s/\$/ $err/"
done | xargs -P "$jobs" -n 2 bash -c 'run_one "$0" "$1"'

reported=0 absorbed=0 failed=0 runs=0
declare -A absorbed_calls=()
for f in "$out"/run.*; do
  runs=$((runs + 1))
  if grep -q '^rc=0$' "$f" && grep -q 'outcome=reported' "$f"; then
    reported=$((reported + 1))
  elif grep -q '^rc=0$' "$f" && grep -q 'outcome=absorbed' "$f"; then
    absorbed=$((absorbed + 1))
    name=$(sed -n 's/.* call=\([^ ]*\) .*step=\(.*\) outcome=.*/\1 in \2/p' "$f")
    absorbed_calls[$name]=$((${absorbed_calls[$name]:-0} + 1))
  else
    failed=$((failed + 1))
    echo "---- ${f##*/run.}"; cat "$f"
  fi
done

echo "fault points: $calls OpenCL calls (releases aside); stride $stride, errors: $errors"
echo "runs: $runs, survived: $((reported + absorbed)) (reported: $reported, absorbed: $absorbed), failed: $failed"
for name in "${!absorbed_calls[@]}"; do
  echo "  absorbed: ${absorbed_calls[$name]} x $name"
done | sort
echo "time: $((SECONDS - start)) s"
[[ $failed -eq 0 && $runs -gt 0 ]]
