#!/usr/bin/env bash
# Sets up the machine, builds, and runs every test through ctest: the Criterion suites on the
# CPU backend and on the OpenCL device (PoCL without a GPU; the OpenCL tests fail, never skip,
# when there is no OpenCL device), the command-line tool, and the installed package; then the
# same suite under ASan + UBSan (but the install test). Extra arguments go to both ctest runs
# (e.g. -L cpu, -R forward).
#
# usage: bash scripts/test.sh [CTEST_OPTIONS...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
# Tests on even where ./build was configured without them; no tests found is a failure.
bash scripts/build.sh -DLEAKYCL_BUILD_TESTS=ON
ctest --test-dir build --output-on-failure --no-tests=error -j "$(nproc)" "$@"
# The Python package (python/) in .venv and its pytest suites on both backends.
bash scripts/test-python.sh
# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer (./build-asan),
# with fewer stress calls; any sanitizer report fails it (scripts/sanitize.sh).
start=$(date +%s)
bash scripts/sanitize.sh address "$@"
echo "ASan + UBSan build and suite: $(($(date +%s) - start)) s"
