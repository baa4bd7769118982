#!/usr/bin/env bash
# Builds the release packages into dist/: the Debian packages (CPack, cmake/packaging.cmake)
#   libleakycl0       the shared library
#   libleakycl-dev    header, static library, the .so link, CMake package, pkg-config file
#   leakycl-tools     leakycl and leakycl-bench
#   (libleakycl-opencv0 and libleakycl-opencv-dev where the OpenCV integration is built)
# and, where python/pyproject.toml exists, the Python package's wheel (pip wheel, in the
# checkout's .venv made from /usr/bin/python3). Release build with Debian's hardening flags
# (dpkg-buildflags), tests off, installed under /usr with the multiarch library folder, in its
# own build folder. Running it again rebuilds what changed and replaces the packages in dist/.
# Install them with:  apt-get install ./dist/libleakycl-dev_*.deb ./dist/leakycl-tools_*.deb
#
# usage: bash scripts/package.sh [--build DIR] [--dist DIR] [--no-wheel]
#   --build DIR   the build folder (default build-package)
#   --dist DIR    where the packages go (default dist)
#   --no-wheel    the Debian packages only
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build="build-package"
dist=dist
wheel=1
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build=$2; shift 2 ;;
    --dist) dist=$2; shift 2 ;;
    --no-wheel) wheel=0; shift ;;
    *) echo "usage: bash scripts/package.sh [--build DIR] [--dist DIR] [--no-wheel]" >&2; exit 2 ;;
    esac
done

for tool in cmake cpack dpkg-buildflags dpkg-architecture dpkg-shlibdeps; do
    command -v "$tool" >/dev/null 2>&1 ||
        { echo "package: $tool is missing (bash scripts/setup.sh installs it)" >&2; exit 1; }
done

multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
# Debian's flags with every hardening feature (bindnow too), without -g: no debug package is
# built, and the static library ships as it is (CPack strips only executables and .so files).
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
buildflags() { dpkg-buildflags --get "$1" | sed -e 's/\(^\| \)-g\( \|$\)/ /'; }
cflags="$(buildflags CPPFLAGS) $(buildflags CFLAGS)"
cxxflags="$(buildflags CPPFLAGS) $(buildflags CXXFLAGS)"
ldflags=$(buildflags LDFLAGS)

echo "== configure $build"
mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
    -DCMAKE_INSTALL_LIBDIR="lib/$multiarch" -DLEAKYCL_BUILD_TESTS=OFF -DLEAKYCL_BUILD_EXAMPLES=OFF \
    -DLEAKYCL_BUILD_TOOLS=ON -DCMAKE_C_FLAGS="$cflags" -DCMAKE_CXX_FLAGS="$cxxflags" \
    -DCMAKE_EXE_LINKER_FLAGS="$ldflags" -DCMAKE_SHARED_LINKER_FLAGS="$ldflags" \
    -DCMAKE_MODULE_LINKER_FLAGS="$ldflags" >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log"; echo "package: configure failed" >&2; exit 1; }

echo "== build $build"
cmake --build "$build" -j "${LEAKYCL_JOBS:-$(nproc)}"

echo "== cpack"
rm -f "$build"/*.deb
(cd "$build" && cpack -G DEB >cpack.log 2>&1) || { cat "$build/cpack.log"; echo "package: cpack failed" >&2; exit 1; }

mkdir -p "$dist"
rm -f "$dist"/libleakycl*.deb "$dist"/leakycl-*.deb "$dist"/leakycl-*.whl
cp "$build"/*.deb "$dist"/

if [ "$wheel" = 1 ]; then
    if [ -f python/pyproject.toml ]; then
        echo "== wheel of python/"
        if [ ! -x .venv/bin/python ]; then
            /usr/bin/python3 -m venv --system-site-packages .venv
        fi
        .venv/bin/python -m pip wheel --no-deps --wheel-dir "$dist" ./python
    else
        echo "== wheel skipped: there is no python/pyproject.toml"
    fi
fi

echo "== packages in $dist"
for f in "$dist"/*.deb "$dist"/*.whl; do
    if [ -e "$f" ]; then printf '%s  %s\n' "$(du -h "$f" | cut -f1)" "$f"; fi
done
