"""Training, evaluation and the saved model (.npz) of the language identifier."""

import json
import time
from dataclasses import dataclass, asdict

import numpy as np
from tqdm import tqdm

from . import data, features
from .model import Adam, Network, initial_weights, softmax_cross_entropy


@dataclass
class Config:
    """Everything that fixes the data and the features; saved with the model."""
    languages: tuple = data.ALL_LANGUAGES
    hash_bits: int = 14
    max_per_language: int = 1000
    seed: int = 0


@dataclass
class Hyper:
    epochs: int = 3
    batch_size: int = 128
    lr: float = 1e-3


@dataclass
class Dataset:
    """The split's texts hashed into features."""
    config: Config
    languages: tuple
    train: features.HashedRows
    train_labels: np.ndarray
    validation: features.HashedRows
    validation_labels: np.ndarray
    test: features.HashedRows
    test_labels: np.ndarray
    test_texts: list


def build_dataset(config):
    corpus = data.load_corpus(config.languages)
    split = data.split_corpus(corpus, config.max_per_language, config.seed)
    bits = config.hash_bits
    return Dataset(config, split.languages,
                   features.hash_texts(split.train, bits), split.train_labels,
                   features.hash_texts(split.validation, bits), split.validation_labels,
                   features.hash_texts(split.test, bits), split.test_labels, split.test)


def epoch_batches(n, batch_size, seed, epoch):
    """The minibatches (index arrays) of one epoch: a permutation fixed by seed and epoch, so
    every backend and the PyTorch twin see the same batches in the same order."""
    order = np.random.default_rng([seed, epoch]).permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def train_epochs(ops, dataset, hyper, weights=None, progress=True, log=print):
    """Train from `weights` (default: the seeded initial weights). Returns (network,
    [{'epoch', 'loss', 'seconds', 'val_accuracy'}...]); loss is the mean minibatch loss."""
    if weights is None:
        weights = initial_weights(dataset.train.width, len(dataset.languages), dataset.config.seed)
    net = Network(ops, weights)
    adam = Adam(net, lr=hyper.lr)

    def step(rows):
        x = ops.upload(dataset.train.dense(rows))   # the one transfer of the batch
        acts = net.forward(x)
        loss, dlogits = softmax_cross_entropy(ops.download(acts[-1]), dataset.train_labels[rows])
        adam.step(net.backward(acts, ops.upload(dlogits)))
        return loss

    history = run_epochs(ops.name, dataset, hyper, step, ops.synchronize,
                         lambda: predict_rows(net, dataset.validation), progress, log)
    return net, history


def run_epochs(name, dataset, hyper, step, synchronize, predict_validation, progress, log):
    """The epoch loop every trainer shares: step(rows) -> loss per minibatch under a tqdm bar,
    synchronize() before the clock stops, then the validation accuracy. Returns the history."""
    history = []
    for epoch in range(hyper.epochs):
        batches = epoch_batches(len(dataset.train), hyper.batch_size, dataset.config.seed, epoch)
        bar = tqdm(batches, desc=f"{name} epoch {epoch + 1}/{hyper.epochs}", unit="batch",
                   disable=not progress, leave=False)
        losses = []
        start = time.perf_counter()
        for rows in bar:
            losses.append(step(rows))
            bar.set_postfix(loss=f"{np.mean(losses):.4f}")
        synchronize()
        seconds = time.perf_counter() - start
        accuracy = float(np.mean(predict_validation() == dataset.validation_labels))
        record = {"epoch": epoch + 1, "loss": float(np.mean(losses)), "seconds": seconds,
                  "val_accuracy": accuracy}
        history.append(record)
        log(f"{name}: epoch {record['epoch']} loss={record['loss']:.6f} "
            f"val_accuracy={accuracy:.4f} seconds={seconds:.2f}")
    return history


def predict_rows(net, rows, batch_size=512):
    """The predicted language index of every row of a HashedRows."""
    out = []
    for start in range(0, len(rows), batch_size):
        index = np.arange(start, min(start + batch_size, len(rows)))
        out.append(np.argmax(net.predict_logits(rows.dense(index)), axis=1))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def confusion_matrix(labels, predicted, n):
    matrix = np.zeros((n, n), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def format_confusion(matrix, languages):
    """The confusion table (rows: true language, columns: predicted) with per-language recall."""
    width = max(5, len(str(matrix.max())) + 1)
    lines = ["true\\pred " + "".join(f"{lang:>{width}}" for lang in languages) + "   recall"]
    for i, lang in enumerate(languages):
        total = matrix[i].sum()
        recall = matrix[i, i] / total if total else float("nan")
        lines.append(f"{lang:<10}" + "".join(f"{v:>{width}}" for v in matrix[i])
                     + f"   {recall:.4f}")
    return "\n".join(lines)


def save_model(path, net, config, hyper, history):
    meta = {"config": asdict(config), "hyper": asdict(hyper), "history": history}
    np.savez(path, meta=np.array(json.dumps(meta)), **net.host_weights())


def load_model(path):
    """(config, host weights, metadata) of a saved model."""
    with np.load(path) as archive:
        meta = json.loads(str(archive["meta"]))
        weights = {k: archive[k] for k in archive.files if k != "meta"}
    cfg = meta["config"]
    cfg["languages"] = tuple(cfg["languages"])
    return Config(**cfg), weights, meta
