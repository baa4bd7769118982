#!/usr/bin/env bash
# Configures and builds leakycl (library, tool, tests, benchmark) into ./build: Release, with
# warnings as errors. Extra arguments go to the configure step (e.g. -DLEAKYCL_BUILD_TESTS=OFF).
#
# usage: bash scripts/build.sh [CMAKE_OPTIONS...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLEAKYCL_WERROR=ON "$@"
cmake --build build -j "$(nproc)"
