#!/usr/bin/env bash
# Builds the Python package (python/) into a virtual environment inside the checkout (.venv,
# made once from Debian's python3 with --system-site-packages, so numpy, torch, pyopencl, onnx,
# pytest and hypothesis come from Debian) and runs its tests on the CPU backend and the OpenCL
# device, plus examples/langid's when that folder exists. Any failure fails the script, and so
# does a run in which no test ran (pytest's exit status 5). Extra arguments go to pytest.
#
# usage: bash scripts/test-python.sh [PYTEST_OPTIONS...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x .venv/bin/python ]; then
    /usr/bin/python3 -m venv --system-site-packages .venv
fi
py=.venv/bin/python
# pip must keep Debian's numpy: torch and pyopencl are built against it (ml_dtypes would pull numpy 2).
constraints=$(mktemp)
trap 'rm -f "$constraints"' EXIT
"$py" -c 'import numpy; print("numpy==" + numpy.__version__)' >"$constraints"
if ! "$py" -c 'import nanobind, scikit_build_core, ml_dtypes' 2>/dev/null; then
    "$py" -m pip install -q -c "$constraints" nanobind scikit-build-core ml_dtypes
fi
# Incremental: scikit-build-core keeps its CMake tree in python/build/.
CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} \
    "$py" -m pip install -q --no-build-isolation -c "$constraints" ./python

suites=(python/tests)
if [ -d examples/langid/tests ]; then
    suites+=(examples/langid/tests)
fi
status=0
"$py" -m pytest -q -p no:cacheprovider "${suites[@]}" "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "test-python: no tests ran" >&2
fi
exit "$status"
