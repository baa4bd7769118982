"""leakycl's dense layers in the network against PyTorch autograd (float64) and the numpy
oracle, and the oracle against finite differences."""

import numpy as np
import pytest
import torch

from examples.langid.backend import NumpyOps
from examples.langid.model import Network, initial_weights, softmax_cross_entropy
from examples.langid.torch_twin import TorchNet


def _batch(rng, batch, n_features):
    x = rng.standard_normal((batch, n_features)).astype(np.float32)
    x[0, :5] = 0.0        # zeros and negatives reach the first layer too
    return x


def _leakycl_grads(ops, weights, x, labels):
    net = Network(ops, weights)
    acts = net.forward(ops.upload(x))
    loss, dlogits = softmax_cross_entropy(ops.download(acts[-1]), labels)
    grads = net.backward(acts, ops.upload(dlogits))
    return loss, {k: ops.download(v) for k, v in grads.items()}


def _torch_grads(weights, x, labels):
    net = TorchNet(weights).double()
    loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(x).double()),
                                             torch.from_numpy(labels))
    loss.backward()
    grads = {}
    for layer, name in zip(net.layers, ("1", "2", "3")):
        grads["w" + name] = layer.weight.grad.numpy()
        grads["b" + name] = layer.bias.grad.numpy()
    return float(loss), grads


def test_network_gradients_match_torch_autograd(ops):
    rng = np.random.default_rng(7)
    weights = initial_weights(96, 5, seed=3)
    for name in ("1", "2", "3"):  # non-zero biases, so that the fused bias is exercised
        weights["b" + name] = rng.standard_normal(weights["b" + name].shape).astype(np.float32) * 0.1
    x, labels = _batch(rng, 19, 96), rng.integers(0, 5, 19)
    loss, grads = _leakycl_grads(ops, weights, x, labels)
    ref_loss, ref = _torch_grads(weights, x, labels)
    assert abs(loss - ref_loss) < 1e-5
    for k in ref:
        scale = np.abs(ref[k]).max()
        assert scale > 0, k
        err = np.abs(grads[k] - ref[k]).max() / scale
        assert err < 1e-4, f"{ops.name} {k}: relative error {err:.2e}"


def test_dense_matches_numpy_oracle_and_identity_layer(ops):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((13, 37)).astype(np.float32)
    w = rng.standard_normal((29, 37)).astype(np.float32)
    b = rng.standard_normal(29).astype(np.float32)
    oracle = NumpyOps()
    for alpha in (0.01, 1.0):
        y = ops.download(ops.dense(ops.upload(x), ops.upload(w), ops.upload(b), alpha))
        np.testing.assert_allclose(y, oracle.dense(x, w, b, alpha), rtol=1e-5, atol=1e-5)
    z = x.astype(np.float64) @ w.T.astype(np.float64) + b
    y = ops.download(ops.dense(ops.upload(x), ops.upload(w), ops.upload(b), 1.0))
    np.testing.assert_allclose(y, z, rtol=1e-5, atol=1e-5)   # alpha = 1: the linear layer
    assert (y < 0).any()


def test_numpy_oracle_gradients_match_finite_differences():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 8))
    w = rng.standard_normal((4, 8))
    b = rng.standard_normal(4)
    g = rng.standard_normal((6, 4))   # loss = sum(g * dense(x, w, b))

    def loss(x_, w_, b_):
        z = x_ @ w_.T + b_
        return float(np.sum(g * np.where(z > 0, z, 0.01 * z)))

    y = NumpyOps().dense(x, w, b, 0.01)
    dx, dw, db = NumpyOps().dense_backward(x, w, y, g, 0.01)
    eps = 1e-6
    for array, grad in ((x, dx), (w, dw), (b, db)):
        for index in np.ndindex(array.shape):
            saved = array[index]
            array[index] = saved + eps
            up = loss(x, w, b)
            array[index] = saved - eps
            down = loss(x, w, b)
            array[index] = saved
            assert (up - down) / (2 * eps) == pytest.approx(float(grad[index]), rel=1e-3, abs=1e-4)
