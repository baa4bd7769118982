#!/usr/bin/env bash
# Fuzzes the public API with libFuzzer, ASan and UBSan (clang): builds ./build-fuzz, then runs
# fuzz/fuzz_api.c for SECONDS (default 600) starting from the checked-in fuzz/corpus; new
# inputs collect in build-fuzz/corpus and findings in build-fuzz/findings. With --merge it then
# writes the smallest set of inputs that covers what the whole run reached into
# build-fuzz/corpus-min (copy the interesting ones into fuzz/corpus, which ctest replays).
#
# PoCL's worker threads come and go while LeakSanitizer stops the world after an input, and its
# tracer then sometimes crashes (seen with clang 14): leaks are checked once at exit instead,
# where every leaked block of the whole run is still unreachable and reported.
#
# usage: bash scripts/fuzz.sh [--merge] [SECONDS] [LIBFUZZER_OPTIONS...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

merge=0
if [ "${1:-}" = "--merge" ]; then merge=1; shift; fi
seconds=${1:-600}
shift || true

CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLEAKYCL_FUZZ=ON \
    -DLEAKYCL_SANITIZE=address -DLEAKYCL_BUILD_TESTS=OFF -DLEAKYCL_BUILD_TOOLS=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target leakycl_fuzz >/dev/null

mkdir -p build-fuzz/corpus build-fuzz/findings
export ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitize/lsan.supp:${LSAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
./build-fuzz/fuzz/leakycl_fuzz -max_total_time="$seconds" -max_len=512 -len_control=0 -timeout=30 -detect_leaks=0 \
    -print_final_stats=1 -artifact_prefix=build-fuzz/findings/ "$@" build-fuzz/corpus fuzz/corpus

if [ "$merge" = 1 ]; then
    rm -rf build-fuzz/corpus-min && mkdir -p build-fuzz/corpus-min
    ./build-fuzz/fuzz/leakycl_fuzz -merge=1 -detect_leaks=0 build-fuzz/corpus-min build-fuzz/corpus fuzz/corpus
    echo "fuzz: $(ls build-fuzz/corpus-min | wc -l) inputs cover the run, in build-fuzz/corpus-min"
fi
