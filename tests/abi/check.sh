#!/usr/bin/env bash
# The ABI check (ctest abi.libleakycl): the freshly built libleakycl.so against the committed
# baseline tests/abi/libleakycl.so.abi. Any change abidiff reports (a function added, removed or
# changed, a public type changed) fails, with abidiff's report.
#
# usage: bash tests/abi/check.sh LIBLEAKYCL_SO SCRATCH_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lib=$1
scratch=$2
mkdir -p "$scratch"
bash "$here/dump.sh" "$lib" "$scratch/fresh.abi"
status=0
abidiff "$here/libleakycl.so.abi" "$scratch/fresh.abi" >"$scratch/abidiff.txt" || status=$?
cat "$scratch/abidiff.txt"
if [ "$status" -ne 0 ] || grep -q . "$scratch/abidiff.txt"; then
    echo "abi: $lib differs from tests/abi/libleakycl.so.abi (abidiff exit $status); see tests/abi/README.md" >&2
    exit 1
fi
echo "abi: no change against tests/abi/libleakycl.so.abi"
