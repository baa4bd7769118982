"""The package as users meet it: the documented names, a docstring on everything public, type
stubs that cover the extension, the README's Python example, devices() and Context."""

from __future__ import annotations

import ast
import inspect
import pathlib
import re

import numpy as np
import pytest

import leakycl
import leakycl._core as core

CONTRACT = ["devices", "Context", "leaky_relu", "leaky_relu_backward", "leaky_relu_backward_from_output",
            "leaky_relu_masked", "leaky_relu_backward_masked", "prelu", "prelu_backward", "leaky_relu_batch",
            "dense", "dense_backward", "Error", "InvalidArgument", "Unsupported", "OutOfMemory", "DeviceNotFound",
            "BuildFailed", "OpenCLError", "BLASError"]
REPO = pathlib.Path(__file__).resolve().parents[2]


def test_contract_names_and_docstrings():
    for name in CONTRACT:
        assert name in leakycl.__all__, name
        obj = getattr(leakycl, name)
        assert inspect.getdoc(obj), f"{name} has no docstring"
    for name in leakycl.__all__:
        assert inspect.getdoc(getattr(leakycl, name)), f"{name} has no docstring"
    for name in [n for n in vars(leakycl.Context) if not n.startswith("_")]:
        assert inspect.getdoc(getattr(leakycl.Context, name)), f"Context.{name} has no docstring"


def test_signatures_take_out_and_ctx():
    one_output = ["leaky_relu", "leaky_relu_backward", "leaky_relu_backward_from_output",
                  "leaky_relu_backward_masked", "prelu", "dense", "leaky_relu_batch", "leaky_relu_masked"]
    for name in one_output + ["prelu_backward", "dense_backward"]:
        params = inspect.signature(getattr(leakycl, name)).parameters
        assert params["ctx"].kind is inspect.Parameter.KEYWORD_ONLY and params["ctx"].default is None, name
    for name in one_output:
        params = inspect.signature(getattr(leakycl, name)).parameters
        assert params["out"].kind is inspect.Parameter.KEYWORD_ONLY and params["out"].default is None, name
    assert str(inspect.signature(leakycl.dense)) .startswith("(x: 'Any', w: 'Any', b: 'Any' = None, alpha: 'float' = 0.01")
    params = inspect.signature(leakycl.dense_backward).parameters
    assert list(params)[:5] == ["x", "w", "y", "dy", "alpha"]
    assert all(params[k].default is True for k in ("need_dx", "need_dw", "need_db"))


def test_stubs_cover_the_extension():
    pkg = pathlib.Path(leakycl.__file__).parent
    assert (pkg / "py.typed").exists()
    tree = ast.parse((pkg / "_core.pyi").read_text())
    stubbed = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    stubbed |= {t.id for node in tree.body if isinstance(node, ast.AnnAssign) for t in [node.target]}
    public = {n for n in dir(core) if not n.startswith("_")}
    assert public <= stubbed, f"missing from _core.pyi: {sorted(public - stubbed)}"
    methods = {n.name for node in tree.body if isinstance(node, ast.ClassDef) for n in node.body
               if isinstance(n, ast.FunctionDef)}
    assert {n for n in dir(core.Context) if not n.startswith("_")} <= methods


def test_readme_python_example_runs():
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Python"):]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["y"].tolist() == [np.float32(-0.2), np.float32(-0.05), 0.0, 3.0]
    assert namespace["x"].tolist() == namespace["y"].tolist()  # the in-place line


def test_devices_and_context(device):
    devs = leakycl.devices()
    assert devs[0].spec == "cpu" and all(d.spec == "cpu" or d.spec.startswith("opencl:") for d in devs)
    assert device.backend in ("cpu", "opencl")
    assert device.device_name
    assert device.supports(np.float32) and device.supports("bfloat16") and device.supports("float16")
    with pytest.raises(leakycl.InvalidArgument):
        device.supports(np.int8)
    for d in devs:
        with leakycl.Context(d.spec) as ctx:
            assert ctx.backend == ("cpu" if d.spec == "cpu" else "opencl")
            assert repr(ctx).startswith("<leakycl.Context")
        assert ctx.closed and "closed" in repr(ctx)


def test_default_context_follows_leakycl_device(monkeypatch):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "import leakycl; print(leakycl.default_context().backend)"],
                         env={**__import__("os").environ, "LEAKYCL_DEVICE": "cpu"}, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "cpu"
