"""The same network in PyTorch (CPU, float32), started from the same weights and fed the same
minibatches in the same order, to compare losses and time per epoch against leakycl."""

import time

import numpy as np
import torch
from tqdm import tqdm

from .model import HIDDEN, LAYER_NAMES, SLOPE
from .train import epoch_batches


class TorchNet(torch.nn.Module):
    def __init__(self, weights):
        super().__init__()
        sizes = [weights["w1"].shape[1], *HIDDEN, weights["w3"].shape[0]]
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        with torch.no_grad():
            for layer, name in zip(self.layers, LAYER_NAMES):
                layer.weight.copy_(torch.from_numpy(weights["w" + name]))
                layer.bias.copy_(torch.from_numpy(weights["b" + name]))

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = torch.nn.functional.leaky_relu(layer(x), SLOPE)
        return self.layers[-1](x)

    def host_weights(self):
        out = {}
        for layer, name in zip(self.layers, LAYER_NAMES):
            out["w" + name] = layer.weight.detach().numpy().copy()
            out["b" + name] = layer.bias.detach().numpy().copy()
        return out


def train_torch(dataset, hyper, weights, progress=True, log=print):
    """(TorchNet, history) like train.train_epochs, in PyTorch."""
    net = TorchNet(weights)
    opt = torch.optim.Adam(net.parameters(), lr=hyper.lr)
    labels = torch.from_numpy(dataset.train_labels)
    history = []
    for epoch in range(hyper.epochs):
        batches = epoch_batches(len(dataset.train), hyper.batch_size, dataset.config.seed, epoch)
        bar = tqdm(batches, desc=f"torch epoch {epoch + 1}/{hyper.epochs}", unit="batch",
                   disable=not progress, leave=False)
        losses = []
        start = time.perf_counter()
        for rows in bar:
            x = torch.from_numpy(dataset.train.dense(rows))
            loss = torch.nn.functional.cross_entropy(net(x), labels[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        seconds = time.perf_counter() - start
        with torch.no_grad():
            logits = net(torch.from_numpy(dataset.validation.dense(
                np.arange(len(dataset.validation))))).numpy()
        record = {"epoch": epoch + 1, "loss": float(np.mean(losses)), "seconds": seconds,
                  "val_accuracy": float(np.mean(np.argmax(logits, 1) == dataset.validation_labels))}
        history.append(record)
        log(f"torch: epoch {record['epoch']} loss={record['loss']:.6f} "
            f"val_accuracy={record['val_accuracy']:.4f} seconds={seconds:.2f}")
    return net, history
