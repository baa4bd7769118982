#!/usr/bin/env bash
# Sets up the machine, builds, and runs every test through ctest: the Criterion suites on the
# CPU backend and on the OpenCL device (PoCL without a GPU; the OpenCL tests fail, never skip,
# when there is no OpenCL device), the command-line tool, and the installed package.
# Extra arguments go to ctest (e.g. -L cpu, -R forward).
#
# usage: bash scripts/test.sh [CTEST_OPTIONS...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
