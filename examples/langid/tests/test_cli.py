"""`train` and `compare` from the command line, on a tiny corpus."""

import os
import re

import pytest

from examples.langid import cli
from examples.langid.train import load_model

from .conftest import make_ops_or_skip

TINY = ["--languages", "de,ru", "--max-per-language", "60", "--hash-bits", "10", "--epochs", "2",
        "--no-progress"]


def test_train_saves_a_model_that_loads(tmp_path, capsys):
    path = str(tmp_path / "tiny.npz")
    assert cli.main(["train", "--device", "cpu", "--model", path, *TINY]) == 0
    config, weights, meta = load_model(path)
    assert config.languages == ("de", "ru") and config.hash_bits == 10
    assert weights["w1"].shape == (256, 1024) and weights["w3"].shape == (2, 64)
    assert len(meta["history"]) == 2
    assert "saved " + path in capsys.readouterr().out


def test_compare_prints_losses_and_times_of_every_run(tmp_path, capsys):
    make_ops_or_skip("opencl")
    save = str(tmp_path / "runs")
    assert cli.main(["compare", "--devices", "cpu,opencl", "--save", save, *TINY]) == 0
    out = capsys.readouterr().out
    assert re.search(r"seconds per epoch \(mean\): leakycl-cpu=[0-9.]+, leakycl-opencl=[0-9.]+, "
                     r"torch=[0-9.]+", out), out
    assert re.search(r"largest per-epoch loss difference \S+: within 0.001", out), out
    assert sorted(os.listdir(save)) == ["langid-leakycl-cpu.npz", "langid-leakycl-opencl.npz"]


def test_unknown_language_is_refused(tmp_path):
    path = tmp_path / "never.npz"
    with pytest.raises(SystemExit, match=r"unknown language codes \['xx'\]"):
        cli.main(["train", "--device", "cpu", "--languages", "xx", "--model", str(path)])
    assert not path.exists()
