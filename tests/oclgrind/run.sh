#!/usr/bin/env bash
# Runs a program under oclgrind (an OpenCL device simulator that checks every work-item's
# memory accesses) with its API checks and data-race detection, and fails on any finding.
# Not --uninitialized: Oclgrind 21.10 (Debian's) marks bytes stored by clEnqueueWriteBuffer as
# uninitialized, so every kernel that reads an uploaded buffer is reported (seen: a two-line
# program whose buffer is made with CL_MEM_COPY_HOST_PTR reports nothing until the same bytes are
# written again with clEnqueueWriteBuffer). Unwritten outputs are caught instead by the tests'
# poisoned outputs and the driver's comparison with the CPU backend. oclgrind replaces the OpenCL platforms of the program it runs, so the
# program's "opencl" is the simulator's device. leakycl itself never writes to stderr: whatever
# appears there is oclgrind's report.
#
# usage: tests/oclgrind/run.sh PROGRAM [ARGS...]
set -uo pipefail
if ! command -v oclgrind >/dev/null; then
    echo "oclgrind is not installed (Debian: apt-get install oclgrind)" >&2
    exit 1
fi
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
LEAKYCL_DEVICE=opencl oclgrind --check-api --data-races --max-errors 20 "$@" 2>"$errors"
status=$?
if [ -s "$errors" ]; then
    cat "$errors" >&2
    echo "oclgrind: findings above" >&2
    exit 1
fi
exit $status
