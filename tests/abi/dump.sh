#!/usr/bin/env bash
# Writes the public ABI of a built libleakycl.so as abixml: the exported functions and the types
# reachable from include/leakycl.h, without source locations or build paths, so that the file
# depends on the interface alone. The library needs debug info (the tests build it with -g).
#
# usage: bash tests/abi/dump.sh LIBLEAKYCL_SO OUT.abi
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
lib=$1
out=$2
abidw --headers-dir "$root/include" --drop-private-types --drop-undefined-syms --no-show-locs \
    --no-comp-dir-path --no-corpus-path --type-id-style hash --out-file "$out.tmp" "$lib"
# Translation-unit paths name the build machine's folders: keep only the part below them.
sed -E "s#path='[^']*/(src|kernels)/#path='\\1/#" "$out.tmp" >"$out"
rm -f "$out.tmp"
