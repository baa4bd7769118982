#!/usr/bin/env bash
# The full fault sweep, outside ctest: builds (into build-fault unless BUILD_DIR says otherwise),
# then makes every OpenCL call leakycl and CLBlast make in the fault scenario fail in turn
# (tests/fault/sweep.sh; ctest's fault.sweep runs every 6th under CI=true).
#
# usage: bash scripts/fault-sweep.sh              every call, one auto-chosen error each
#        CLFAULT_ERRORS="CL_OUT_OF_RESOURCES CL_OUT_OF_HOST_MEMORY" bash scripts/fault-sweep.sh
#        CLFAULT_CALL=clBuildProgram bash scripts/fault-sweep.sh
# Other settings (CLFAULT_JOBS, CLFAULT_FIRST, CLFAULT_LAST, CLFAULT_KEEP) as sweep.sh describes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${BUILD_DIR:-build-fault}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target fault_scenario clfault
CLFAULT_STRIDE=${CLFAULT_STRIDE:-1} bash tests/fault/sweep.sh "$build/tests/fault/fault_scenario" \
  "$build/tests/fault/libclfault.so"
