"""Shared fixtures: the repository root on sys.path (so `examples.langid` imports however pytest
is started), leakycl's contexts, and one short training run per backend."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from examples.langid.backend import LeakyclOps  # noqa: E402
from examples.langid.model import initial_weights  # noqa: E402
from examples.langid.torch_twin import train_torch  # noqa: E402
from examples.langid.train import (Config, Hyper, build_dataset, save_model,  # noqa: E402
                                   train_epochs)

# The short run: four languages of four families and two scripts, small hash width, few epochs.
SHORT_CONFIG = Config(languages=("de", "en", "pt", "ru"), hash_bits=12, max_per_language=250,
                      seed=0)
SHORT_HYPER = Hyper(epochs=3, batch_size=32, lr=2e-3)
DEVICES = ("cpu", "opencl")


def make_ops_or_skip(spec):
    """leakycl ops on spec. Without an OpenCL device the OpenCL cases skip with the reason,
    except under CI (CI=true), where PoCL must be there and a missing device fails the test."""
    try:
        return LeakyclOps(spec)
    except Exception as error:  # leakycl.DeviceNotFound and friends
        if spec != "cpu" and not os.environ.get("CI"):
            pytest.skip(f"no leakycl device for {spec!r}: {error}")
        raise


@pytest.fixture(scope="session")
def short_dataset():
    return build_dataset(SHORT_CONFIG)


@pytest.fixture(scope="session", params=DEVICES)
def ops(request):
    return make_ops_or_skip(request.param)


@pytest.fixture(scope="session")
def short_run(ops, short_dataset):
    """(ops, trained network, history) of the short run on one backend."""
    net, history = train_epochs(ops, short_dataset, SHORT_HYPER, progress=False, log=lambda s: None)
    return ops, net, history


@pytest.fixture(scope="session")
def torch_history(short_dataset):
    weights = initial_weights(short_dataset.train.width, len(short_dataset.languages),
                              SHORT_CONFIG.seed)
    return train_torch(short_dataset, SHORT_HYPER, weights, progress=False, log=lambda s: None)[1]


@pytest.fixture(scope="session")
def model_path(short_run, tmp_path_factory):
    ops, net, history = short_run
    path = tmp_path_factory.mktemp(ops.name) / "model.npz"
    save_model(str(path), net, SHORT_CONFIG, SHORT_HYPER, history)
    return str(path)
