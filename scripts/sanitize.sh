#!/usr/bin/env bash
# Builds leakycl instrumented and runs its tests there:
#   address   ASan + UBSan into ./build-asan, the whole ctest suite (CI runs this)
#   thread    TSan into ./build-tsan, the thread tests (label stress) with fewer calls; not the
#             Criterion suites (test_threads): under TSan, Criterion 2.4 stops before any test with
#             "Could not initialize inheritable arena", and tests/stress runs the same threads
# Every report of any process (Criterion runs each test in a child process, whose exit status
# LeakSanitizer cannot change) goes to build-*/sanitizer-logs: the run fails if any appears.
# Suppressions: tests/sanitize/*.supp, each entry with its reason. Extra arguments go to ctest.
#
# usage: bash scripts/sanitize.sh address|thread [CTEST_OPTIONS...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

kind=${1:-}
shift || true
case "$kind" in
address) dir=build-asan calls=${LEAKYCL_STRESS_CALLS:-1000} select=(-LE install) ;;
thread) dir=build-tsan calls=${LEAKYCL_STRESS_CALLS:-300} select=(-L stress) ;;
*) echo "usage: bash scripts/sanitize.sh address|thread [CTEST_OPTIONS...]" >&2; exit 2 ;;
esac

cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLEAKYCL_WERROR=ON -DLEAKYCL_SANITIZE="$kind" -DLEAKYCL_BUILD_TESTS=ON \
    -DLEAKYCL_STRESS_CALLS="$calls" >/dev/null
cmake --build "$dir" -j "$(nproc)"

logs=$PWD/$dir/sanitizer-logs
rm -rf "$logs" && mkdir -p "$logs"
supp=$PWD/tests/sanitize
# allocator_may_return_null: the tests ask for impossible sizes and expect OUT_OF_MEMORY.
# use_sigaltstack=0: PoCL's LLVM installs a malloc'd signal stack in the thread that first
# compiles, and ASan then fails a CHECK unmapping it as its own when that thread exits.
# verify_asan_link_order=0: the fault tests preload their OpenCL shim, which then comes before
# ASan's runtime; the shim defines no allocation function, so ASan's interceptors still win.
export ASAN_OPTIONS="log_path=$logs/asan:allocator_may_return_null=1:detect_leaks=1:use_sigaltstack=0"
ASAN_OPTIONS+=":verify_asan_link_order=0"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="log_path=$logs/tsan:suppressions=$supp/tsan.supp:second_deadlock_stack=1:halt_on_error=0"

status=0
ctest --test-dir "$dir" --output-on-failure --no-tests=error -j "$(nproc)" "${select[@]}" "$@" || status=$?
# A failed impossible allocation only warns; anything else in a log is a finding.
reports=$(grep -l -E "ERROR: |runtime error|WARNING: ThreadSanitizer" -r "$logs" | sort || true)
if [ -n "$reports" ]; then
    for f in $reports; do echo "=== $f"; cat "$f"; done
    echo "sanitize $kind: $(echo "$reports" | wc -l) report file(s) in $logs" >&2
    status=1
fi
echo "sanitize $kind: ctest exit $status"
exit $status
