#!/usr/bin/env bash
# Installs what building, testing and running leakycl need on Debian 12 (or Ubuntu): only the
# packages that are missing, so a second run is a fast no-op. Runs as root, or through sudo.
#
# usage: bash scripts/setup.sh
set -euo pipefail

packages=(
    build-essential    # gcc (with libgomp for OpenMP), g++, make
    cmake
    pkg-config
    git
    ocl-icd-opencl-dev # the OpenCL ICD loader, to link against
    opencl-headers
    pocl-opencl-icd    # PoCL: an OpenCL device on the CPU, so OpenCL runs without a GPU
    clinfo
    libcriterion-dev   # the test framework
    gnuplot-nox        # leakycl-bench --plot (optional for the library; the test of --plot uses it)
    libclblast-dev     # the OpenCL backend's dense layer (GEMM)
    libopenblas-dev    # the CPU backend's dense layer (CBLAS)
)

missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all ${#packages[@]} packages are installed"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "setup: missing ${missing[*]}; run this as root (or install sudo)" >&2
    exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update
"${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
