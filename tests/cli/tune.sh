#!/usr/bin/env bash
# ctest cli.tune.quick: `leakycl tune --quick` on the OpenCL device into a temporary tuning cache
# (LEAKYCL_TUNING_FILE); before it `leakycl devices` says the device is untuned, after it tuned,
# and ignored under LEAKYCL_TUNING=0; `leakycl tune --compare` finds the tuned outputs the same
# bit for bit; `leakycl check` passes on the tuned context; bad command
# lines exit 2 (1 for the CPU backend, which has nothing to tune) with one "leakycl: " line.
# Without an OpenCL device it fails, never skips.
#
# usage: tune.sh PATH/TO/leakycl
set -euo pipefail

exe=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LEAKYCL_TUNING_FILE=$work/cache/tuning
unset LEAKYCL_TUNING

die() {
    echo "FAIL: $*" >&2
    exit 1
}

# expect CODE ARGS...: exits CODE with one "leakycl: " line on stderr.
expect() {
    local want=$1 rc=0
    shift
    "$exe" "$@" >"$work/out" 2>"$work/err" || rc=$?
    [ "$rc" -eq "$want" ] || die "leakycl $*: exit $rc, wanted $want"
    [ "$(wc -l <"$work/err")" -eq 1 ] && grep -q '^leakycl: ' "$work/err" || die "leakycl $*: stderr: $(cat "$work/err")"
}
expect 2 tune --size 14
expect 2 tune --size 29
expect 2 tune --reps 0
expect 2 tune --dtypes f8
expect 2 tune --bogus
expect 1 tune --device cpu --quick
"$exe" tune --help | grep -q 'usage: leakycl tune' || die "tune --help"

"$exe" devices >"$work/before"
grep -q 'tuning: untuned' "$work/before" || die "devices before tuning: $(cat "$work/before")"

"$exe" tune --quick --device opencl | tee "$work/tune"
grep -q "stored in $LEAKYCL_TUNING_FILE" "$work/tune" || die "tune did not report storing"
[ "$(head -1 "$LEAKYCL_TUNING_FILE")" = "leakycl-tuning 1" ] || die "cache header: $(head -1 "$LEAKYCL_TUNING_FILE")"
entries=$(grep -c '^[a-z_]* [a-z0-9]* vw=[0-9]* vpt=[0-9]* wgs=[0-9]*$' "$LEAKYCL_TUNING_FILE")
[ "$entries" -ge 24 ] || die "only $entries entries stored: $(cat "$LEAKYCL_TUNING_FILE")"

"$exe" devices >"$work/after"
grep -q "tuning: tuned ($entries op/dtype entries" "$work/after" || die "devices after tuning: $(cat "$work/after")"
LEAKYCL_TUNING=0 "$exe" devices | grep -q 'tuning: cache ignored' || die "devices with LEAKYCL_TUNING=0"

"$exe" tune --compare --quick --device opencl | tee "$work/compare"
[ "$(grep -c ' vw=' "$work/compare")" -ge 24 ] || die "tune --compare printed too few rows"
"$exe" check --device opencl --n 100003 | tail -1
echo "tune: $entries entries stored and read back"
