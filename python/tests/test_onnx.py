"""ONNX's own conformance cases for LeakyRelu and PRelu (Debian's libonnx-testdata: node/ and
pytorch-converted/), read with onnx.numpy_helper; every output must match bit for bit, on
both backends and on pyopencl arrays. The slope layout follows the model's opset: per channel
(axis 1) for opset 6, numpy broadcasting (axis=None) from opset 7 on; the default axis=1 must
give the same results on every case."""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest

import leakycl
from conftest import assert_bits_equal

onnx = pytest.importorskip("onnx")
from onnx import numpy_helper  # noqa: E402

ROOT = "/usr/share/libonnx-testdata/data"
CASES = sorted(d for d in glob.glob(os.path.join(ROOT, "*", "test_*"))
               if any(k in os.path.basename(d).lower() for k in ("leakyrelu", "prelu")))


def test_the_cases_are_there():
    names = {os.path.basename(d) for d in CASES}
    want = {"test_leakyrelu", "test_leakyrelu_default", "test_leakyrelu_example", "test_prelu_broadcast",
            "test_prelu_example", "test_LeakyReLU", "test_LeakyReLU_with_negval", "test_PReLU_1d",
            "test_PReLU_1d_multiparam", "test_PReLU_2d", "test_PReLU_2d_multiparam", "test_PReLU_3d",
            "test_PReLU_3d_multiparam"}
    assert want <= names, f"missing from libonnx-testdata: {sorted(want - names)} (apt-get install libonnx-testdata)"


def load_case(path: str):
    model = onnx.load(os.path.join(path, "model.onnx"))
    (node,) = model.graph.node
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    initializers = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    sets = []
    for data in sorted(glob.glob(os.path.join(path, "test_data_set_*"))):
        inputs = [numpy_helper.to_array(onnx.load_tensor(f)) for f in sorted(glob.glob(os.path.join(data, "input_*.pb")))]
        outputs = [numpy_helper.to_array(onnx.load_tensor(f))
                   for f in sorted(glob.glob(os.path.join(data, "output_*.pb")))]
        named = dict(zip([i for i in node.input if i not in initializers], inputs))
        named.update(initializers)
        sets.append(([named[i] for i in node.input], outputs[0]))
    return node.op_type, opset, attrs, sets


def run_case(op: str, opset: int, attrs: dict, args, axis_default: bool, ctx=None, to=lambda a: a):
    if op == "LeakyRelu":
        (x,) = args
        return leakycl.leaky_relu(to(x), attrs.get("alpha", 0.01), ctx=ctx)
    x, slope = args
    if axis_default:
        return leakycl.prelu(to(x), to(slope), ctx=ctx)
    return leakycl.prelu(to(x), to(slope), axis=1 if opset < 7 else None, ctx=ctx)


@pytest.mark.parametrize("path", CASES, ids=[os.path.basename(c) for c in CASES])
@pytest.mark.parametrize("axis_default", [False, True], ids=["opset-axis", "default-axis"])
def test_onnx_case(device, path, axis_default):
    op, opset, attrs, sets = load_case(path)
    assert sets
    for args, want in sets:
        assert_bits_equal(run_case(op, opset, attrs, args, axis_default, ctx=device), want, os.path.basename(path))


@pytest.mark.parametrize("path", CASES, ids=[os.path.basename(c) for c in CASES])
def test_onnx_case_on_pyopencl_arrays(queue, path):
    import pyopencl.array as cla

    op, opset, attrs, sets = load_case(path)
    for args, want in sets:
        got = run_case(op, opset, attrs, args, False, to=lambda a: cla.to_device(queue, a))
        assert_bits_equal(got.get(), want, os.path.basename(path))
