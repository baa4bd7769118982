#!/usr/bin/env bash
# The command line of the leakycl tool (ctest: cli.usage): help and version succeed on stdout;
# every bad command line exits 2 with exactly one line, "leakycl: ...", on stderr and nothing
# on stdout; a device that is not there exits 1 with one line.
#
# usage: run.sh PATH/TO/leakycl
set -uo pipefail

exe=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
cases=0

fail() {
    printf 'FAIL  leakycl %s: %s\n' "$1" "$2"
    printf '      stdout: %s\n' "$(head -c 400 "$work/out")"
    printf '      stderr: %s\n' "$(head -c 400 "$work/err")"
    failures=$((failures + 1))
}

# ok WORD ARGS...: exits 0 and stdout holds WORD.
ok() {
    local want=$1
    shift
    cases=$((cases + 1))
    "$exe" "$@" >"$work/out" 2>"$work/err"
    local rc=$?
    if [ "$rc" -ne 0 ]; then
        fail "$*" "exit $rc, wanted 0"
    elif ! grep -q -- "$want" "$work/out"; then
        fail "$*" "stdout lacks '$want'"
    elif [ -s "$work/err" ]; then
        fail "$*" "wrote to stderr"
    fi
}

# bad CODE ARGS...: exits CODE with one "leakycl: " line on stderr and nothing on stdout.
bad() {
    local want=$1
    shift
    cases=$((cases + 1))
    "$exe" "$@" >"$work/out" 2>"$work/err"
    local rc=$?
    if [ "$rc" -ne "$want" ]; then
        fail "$*" "exit $rc, wanted $want"
    elif [ "$(wc -l <"$work/err")" -ne 1 ] || ! grep -q '^leakycl: ' "$work/err"; then
        fail "$*" "stderr is not one 'leakycl: ...' line"
    elif [ -s "$work/out" ]; then
        fail "$*" "wrote to stdout"
    fi
}

ok 'leakycl [0-9]*\.[0-9]*\.[0-9]*' --version
ok 'leakycl [0-9]' -V
ok 'usage: leakycl <command>' --help
ok 'usage: leakycl <command>' -h
ok 'usage: leakycl <command>' help
ok 'usage: leakycl check' help check
ok 'usage: leakycl devices' help devices
ok 'usage: leakycl check' check --help
ok 'usage: leakycl check' check --n 5 -h
ok 'usage: leakycl devices' devices --help
ok 'cpu' devices
ok 'check: [0-9]* passed, 0 failed' check --device cpu --n 1001 --dtype f32 --alpha 0.5
ok 'check: 24 passed, 0 failed' check --device=cpu --n=0 --dtype=bf16 --alpha=0 --alpha=-1
# f32 adds dense_forward and dense_backward per alpha (the backward rejected for alpha -1), unless
# the build lacks CBLAS: then they are skipped.
ok 'check: 2[48] passed, 0 failed' check --device=cpu --n=0 --dtype=f32 --alpha=0 --alpha=-1
ok 'seed 18446744073709551615' check --device cpu --n 17 --seed 18446744073709551615 --dtype f64

bad 2
bad 2 frobnicate
bad 2 --frobnicate
bad 2 help frobnicate
bad 2 help check devices
bad 2 devices --all
bad 2 devices extra
bad 2 check extra
bad 2 check --bogus
bad 2 check --n
bad 2 check --n abc
bad 2 check --n -1
bad 2 check --n +5
bad 2 check --n ' 5'
bad 2 check --n 5x
bad 2 check --n ''
bad 2 check --n=
bad 2 check --n 1.5
bad 2 check --n 99999999999999999999999
bad 2 check --seed x
bad 2 check --seed -5
bad 2 check --seed 18446744073709551616
bad 2 check --seed
bad 2 check --device
bad 2 check --device ''
bad 2 check --dtype f8
bad 2 check --dtype mask
bad 2 check --alpha
bad 2 check --alpha nan
bad 2 check --alpha inf
bad 2 check --alpha 1e999
bad 2 check --alpha 0.5x
bad 2 check --device not-a-spec --n 1
bad 1 check --device opencl:99:0 --n 1
LEAKYCL_DEVICE=opencl:99:0 bad 1 check --n 1

printf '%d passed, %d failed\n' $((cases - failures)) "$failures"
[ "$failures" -eq 0 ]
