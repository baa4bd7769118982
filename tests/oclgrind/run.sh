#!/usr/bin/env bash
# Runs a program under oclgrind (an OpenCL device simulator that checks every work-item's
# memory accesses) with its API checks, data-race and uninitialized-value detection, and fails
# on any finding. oclgrind replaces the OpenCL platforms of the program it runs, so the
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
LEAKYCL_DEVICE=opencl oclgrind --check-api --data-races --uninitialized --max-errors 20 "$@" 2>"$errors"
status=$?
if [ -s "$errors" ]; then
    cat "$errors" >&2
    echo "oclgrind: findings above" >&2
    exit 1
fi
exit $status
