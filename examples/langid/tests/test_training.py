"""The short training run on each backend: held-out accuracy, losses against the other backend
and the PyTorch twin, the saved model through `evaluate` and `predict`."""

import re

import numpy as np
import pytest

from examples.langid import cli
from examples.langid.train import predict_rows

MIN_TEST_ACCURACY = 0.95
SENTENCES = {
    "de": "Der Hund schläft heute den ganzen Tag im Garten, weil es draußen so warm ist.",
    "en": "The weather was lovely this morning, so we walked to the market together.",
    "pt": "Meu irmão trabalha em uma escola e gosta muito de ler livros à noite.",
    "ru": "Сегодня утром мы пошли в магазин, чтобы купить хлеб и молоко.",
}


def test_short_run_beats_fixed_accuracy(short_run, short_dataset):
    _, net, history = short_run
    losses = [h["loss"] for h in history]
    assert losses[-1] < losses[0] / 4
    accuracy = np.mean(predict_rows(net, short_dataset.test) == short_dataset.test_labels)
    assert len(short_dataset.test) >= 80
    assert accuracy >= MIN_TEST_ACCURACY


def test_losses_agree_with_torch_twin(short_run, torch_history):
    ops, _, history = short_run
    for mine, theirs in zip(history, torch_history, strict=True):
        assert abs(mine["loss"] - theirs["loss"]) < 1e-3, (ops.name, mine, theirs)


def test_evaluate_last_line(model_path, ops, capsys):
    assert cli.main(["evaluate", "--model", model_path, "--device", _spec(ops)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    match = re.fullmatch(r"accuracy=([0-9.]+) languages=4 test_samples=(\d+)", lines[-1])
    assert match, lines[-1]
    assert float(match.group(1)) >= MIN_TEST_ACCURACY and int(match.group(2)) >= 80
    assert any(line.startswith("ru ") for line in lines)   # a confusion-table row


@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_predict_each_language(model_path, ops, lang, capsys):
    assert cli.main(["predict", "--model", model_path, "--device", _spec(ops),
                     SENTENCES[lang]]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.split()[0] == lang, last


def _spec(ops):
    return "opencl" if ops.queue is not None else "cpu"


def test_training_leaves_the_callers_weights_alone(ops, short_dataset):
    from examples.langid.model import initial_weights
    from examples.langid.train import Hyper, train_epochs
    weights = initial_weights(short_dataset.train.width, len(short_dataset.languages), seed=1)
    before = {k: v.copy() for k, v in weights.items()}
    net, _ = train_epochs(ops, short_dataset, Hyper(epochs=1, batch_size=64), weights,
                          progress=False, log=lambda s: None)
    assert all((weights[k] == before[k]).all() for k in before)
    assert not (net.host_weights()["w1"] == before["w1"]).all()
