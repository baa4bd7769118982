"""The same network in PyTorch (CPU, float32), started from the same weights and fed the same
minibatches in the same order, to compare losses and time per epoch against leakycl."""

import numpy as np
import torch

from .model import HIDDEN, LAYER_NAMES, SLOPE
from .train import run_epochs


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


def train_torch(dataset, hyper, weights, progress=True, log=print):
    """(TorchNet, history) like train.train_epochs, in PyTorch."""
    net = TorchNet(weights)
    opt = torch.optim.Adam(net.parameters(), lr=hyper.lr)
    labels = torch.from_numpy(dataset.train_labels)

    def step(rows):
        loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(dataset.train.dense(rows))),
                                                 labels[rows])
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    def predict_validation():
        rows = np.arange(len(dataset.validation))
        with torch.no_grad():
            return np.argmax(net(torch.from_numpy(dataset.validation.dense(rows))).numpy(), 1)

    return net, run_epochs("torch", dataset, hyper, step, lambda: None, predict_validation,
                           progress, log)
