#!/usr/bin/env bash
# Sets up the machine, builds, and runs `leakycl check` on the default device ($LEAKYCL_DEVICE,
# else auto: the first GPU, else the first OpenCL device, else the CPU backend): every op and
# dtype compared bit for bit with the CPU backend. Extra arguments go to `leakycl check`.
#
# usage: bash scripts/check.sh [--device SPEC] [--n N] [--seed S] ...
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
bash scripts/build.sh
./build/leakycl devices
echo
./build/leakycl check "$@"
