#!/usr/bin/env bash
# The installed OpenCV integration used from outside: `cmake --install` of the build into a scratch
# prefix; the component split (opencv: the shared library, and the package's own documents under
# share/doc/libleakycl-opencv0/ that cmake/packaging.cmake adds; opencv-dev: header, .so link,
# pkg-config, CMake package); then consumer.cpp built with find_package(leakycl-opencv) and with
# pkg-config, and run.
#
# usage: run.sh BUILD_DIR SCRATCH_DIR CMAKE CXX
set -euo pipefail
build=$1 scratch=$2 cmake=$3 cxx=$4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rm -rf "$scratch" && mkdir -p "$scratch"

"$cmake" --install "$build" --prefix "$scratch/runtime" --component opencv >/dev/null
"$cmake" --install "$build" --prefix "$scratch/dev" --component opencv-dev >/dev/null
runtime_files=$(cd "$scratch/runtime" && find . -type f -o -type l | sort)
echo "component opencv: $runtime_files"
echo "$runtime_files" | grep -qx './lib[^/]*/libleakycl_opencv.so.0' || { echo "opencv lacks the SONAME link"; exit 1; }
if echo "$runtime_files" | grep -v -e 'libleakycl_opencv\.so\.0' -e '^\./share/doc/libleakycl-opencv0/' | grep -q .; then
    echo "component opencv holds more than the shared library"; exit 1
fi
for f in include/leakycl_opencv.hpp 'lib*/pkgconfig/leakycl-opencv.pc' 'lib*/cmake/leakycl-opencv/leakycl-opencvConfig.cmake' \
         'lib*/libleakycl_opencv.so'; do
    compgen -G "$scratch/dev/$f" >/dev/null || { echo "component opencv-dev lacks $f"; exit 1; }
done

prefix=$scratch/prefix
"$cmake" --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name 'libleakycl_opencv.so' | head -1)")

"$cmake" -S "$here" -B "$scratch/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_BUILD_RPATH="$libdir" >/dev/null
"$cmake" --build "$scratch/cmake-build" >/dev/null
# The installed library carries no RUNPATH (distributions forbid one); a prefix outside the
# loader's paths is named to it, as an app installed there would.
export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
"$scratch/cmake-build/consumer"

export PKG_CONFIG_PATH=$libdir/pkgconfig
# shellcheck disable=SC2046  # pkg-config's flags are words
"$cxx" -std=c++17 "$here/consumer.cpp" -o "$scratch/consumer-pc" $(pkg-config --cflags --libs leakycl-opencv) \
    -Wl,-rpath,"$libdir"
"$scratch/consumer-pc"
echo "install.opencv.consumer: all ways passed"
