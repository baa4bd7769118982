#!/usr/bin/env bash
# Sets up the machine, builds, and runs `leakycl check` on the default device ($LEAKYCL_DEVICE,
# else auto: the first GPU, else the first OpenCL device, else the CPU backend): every op and
# dtype compared bit for bit with the CPU backend. Then `leakycl bench --quick` times the
# default device and the CPU backend against their own copy bandwidth (under a minute on a
# 2-core machine; the table also goes to build/bench-quick.csv). Extra arguments go to
# `leakycl check`; LEAKYCL_SKIP_BENCH=1 skips the benchmark.
#
# usage: bash scripts/check.sh [--device SPEC] [--n N] [--seed S] ...
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
bash scripts/build.sh
./build/leakycl devices
echo
./build/leakycl check "$@"
if [ "${LEAKYCL_SKIP_BENCH:-0}" != 1 ]; then
    echo
    ./build/leakycl bench --quick --csv build/bench-quick.csv
fi
