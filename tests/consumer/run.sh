#!/usr/bin/env bash
# The install-consumer test (ctest: install.consumer). Installs the build into a fresh prefix,
# then builds and runs tests/consumer/consumer.c from outside the project four ways:
#   CMake find_package(leakycl): leakycl::leakycl (shared) and leakycl::leakycl_static;
#   pkg-config: `--cflags --libs` (shared) and `--static --libs` against libleakycl.a;
# and tests/consumer/cxx (a C++-only CMake project) against both targets.
#
# usage: run.sh BUILD_DIR WORK_DIR [CMAKE [CC]]
#        run.sh --prefix=DIR WORK_DIR [CMAKE [CC]]   an installed tree as it is, no install step
#                                                    (tests/package/run.sh: unpacked .debs)
set -euo pipefail

build=$1
work=$2
cmake=${3:-cmake}
cc=${4:-cc}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

step() { printf '== %s\n' "$*"; }
die() {
    printf 'install.consumer: %s\n' "$*" >&2
    exit 1
}

rm -rf "$work"
mkdir -p "$work"
if [[ $build == --prefix=* ]]; then
    prefix=${build#--prefix=}
    step "the installed tree $prefix"
else
    prefix=$work/prefix
    step "cmake --install $build --prefix $prefix"
    "$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" ||
        { cat "$work/install.log"; die "cmake --install failed"; }
fi
for f in include/leakycl.h; do
    [ -f "$prefix/$f" ] || die "$f is not installed"
done
static_lib=$(find "$prefix" -name libleakycl.a -print -quit)
shared_lib=$(find "$prefix" -name libleakycl.so -print -quit)
pc_file=$(find "$prefix" -name leakycl.pc -print -quit)
config=$(find "$prefix" -name leakyclConfig.cmake -print -quit)
[ -n "$static_lib" ] || die "libleakycl.a is not installed"
[ -n "$shared_lib" ] || die "libleakycl.so is not installed"
[ -n "$pc_file" ] || die "leakycl.pc is not installed"
[ -n "$config" ] || die "leakyclConfig.cmake is not installed"

# Whether an executable loads the installed libleakycl.so (1) or no libleakycl at all (0).
check_linkage() {
    local exe=$1 want_shared=$2 loaded
    loaded=$(ldd "$exe" | awk '/libleakycl/ {print $3}')
    if [ "$want_shared" = 1 ]; then
        [ -n "$loaded" ] || die "$exe does not load libleakycl.so"
        [ "$(realpath "$loaded")" = "$(realpath "$shared_lib")" ] ||
            die "$exe loads $loaded, not the installed $shared_lib"
    else
        [ -z "$loaded" ] || die "$exe should link libleakycl.a statically, but loads $loaded"
    fi
}

run() {
    local exe=$1 want_shared=$2
    step "run $exe"
    check_linkage "$exe" "$want_shared"
    "$exe" || die "$exe failed"
}

step "CMake package: find_package(leakycl) in a C project"
"$cmake" -S "$src" -B "$work/cmake-c" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_BUILD_TYPE=Release >"$work/cmake-c.log" || { cat "$work/cmake-c.log"; die "configure failed"; }
"$cmake" --build "$work/cmake-c" >>"$work/cmake-c.log" || { cat "$work/cmake-c.log"; die "build failed"; }
run "$work/cmake-c/consumer_shared" 1
run "$work/cmake-c/consumer_static" 0

if command -v c++ >/dev/null 2>&1; then
    step "CMake package: find_package(leakycl) in a C++-only project"
    "$cmake" -S "$src/cxx" -B "$work/cmake-cxx" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
        >"$work/cmake-cxx.log" || { cat "$work/cmake-cxx.log"; die "configure failed (C++ project)"; }
    "$cmake" --build "$work/cmake-cxx" >>"$work/cmake-cxx.log" ||
        { cat "$work/cmake-cxx.log"; die "build failed (C++ project)"; }
    run "$work/cmake-cxx/consumer_cxx_shared" 1
    run "$work/cmake-cxx/consumer_cxx_static" 0
else
    step "no C++ compiler: C++ consumer skipped"
fi

step "pkg-config"
command -v pkg-config >/dev/null 2>&1 || die "pkg-config is not installed"
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc_file")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
pkg-config --exists --print-errors leakycl || die "pkg-config does not find leakycl"
libdir=$(pkg-config --variable=libdir leakycl)
includedir=$(pkg-config --variable=includedir leakycl)
[ "$(realpath "$libdir")" = "$(realpath "$(dirname "$shared_lib")")" ] ||
    die "leakycl.pc says libdir=$libdir, but the library is in $(dirname "$shared_lib")"
[ "$(realpath "$includedir")" = "$(realpath "$prefix/include")" ] ||
    die "leakycl.pc says includedir=$includedir, but the header is in $prefix/include"
[ "$(pkg-config --modversion leakycl)" = "$(sed -n 's/^set(PACKAGE_VERSION "\(.*\)")$/\1/p' \
    "$(dirname "$config")/leakyclConfigVersion.cmake")" ] || die "leakycl.pc and the CMake package disagree on the version"

read -r -a cflags <<<"$(pkg-config --cflags leakycl)"
read -r -a libs <<<"$(pkg-config --libs leakycl)"
step "$cc consumer.c ${cflags[*]} ${libs[*]}"
"$cc" -std=c11 -Wall -Wextra -Werror "$src/consumer.c" "${cflags[@]}" "${libs[@]}" -Wl,-rpath,"$libdir" \
    -o "$work/pkgconfig_shared"
run "$work/pkgconfig_shared" 1

read -r -a static_libs <<<"$(pkg-config --static --libs leakycl)"
# -lleakycl would pick the shared library: name the archive instead.
for i in "${!static_libs[@]}"; do
    [ "${static_libs[$i]}" = -lleakycl ] && static_libs[$i]=-l:libleakycl.a
done
step "$cc consumer.c ${cflags[*]} ${static_libs[*]}"
"$cc" -std=c11 -Wall -Wextra -Werror "$src/consumer.c" "${cflags[@]}" "${static_libs[@]}" \
    -o "$work/pkgconfig_static"
run "$work/pkgconfig_static" 0

step "install.consumer: all passed"
