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
    abigail-tools      # abidiff: the public ABI checked against tests/abi/ (ctest abi.*)
    # The Python package (python/): built in a virtual environment inside the checkout (.venv),
    # which sees these system packages; nanobind, scikit-build-core and ml_dtypes come from PyPI.
    python3-dev
    python3-venv
    python3-pip
    python3-numpy
    python3-torch      # leakycl.torch, and the PyTorch twins in tests and examples
    python3-pyopencl   # pyopencl arrays through leakycl, zero copy
    python3-onnx       # reads ONNX's own LeakyRelu/PRelu conformance cases ...
    libonnx-testdata   # ... which this package ships
    python3-nltk       # examples/langid: tokens and n-grams
    python3-tqdm
    # examples/langid's data: Debian's fortune cookies in many languages
    fortunes fortunes-de fortunes-it fortunes-es fortunes-br fortunes-cs fortunes-pl fortunes-ru
    fortunes-eo fortunes-ga fortunes-bg
    # The OpenCV DNN integration (integrations/opencv/)
    g++
    libopencv-dnn-dev
    # Debian packages (scripts/package.sh): dpkg-shlibdeps and lintian
    dpkg-dev
    lintian
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
