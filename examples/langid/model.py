"""The network: features -> 256 -> 64 -> languages, leaky ReLU (0.01) after the hidden layers.

Every layer is one fused dense call (x @ w.T + b, then the activation). The output layer is
linear: it runs with alpha = 1.0, for which the piecewise leaky ReLU is the identity (x if x > 0,
else 1.0 * x), and its backward passes dy through unchanged. Softmax and cross-entropy are in
numpy on the [batch, languages] logits, which are small next to the minibatch itself.
"""

import numpy as np

HIDDEN = (256, 64)
SLOPE = 0.01
IDENTITY = 1.0
LAYER_NAMES = ("1", "2", "3")


def layer_sizes(n_features, n_languages):
    return [n_features, *HIDDEN, n_languages]


def initial_weights(n_features, n_languages, seed):
    """He-uniform weights for leaky ReLU (the bound PyTorch's kaiming_uniform_ uses with
    a=slope), zero biases, from a numpy generator with a fixed seed: host float32 arrays that
    the leakycl run and the PyTorch twin both start from."""
    rng = np.random.default_rng(seed)
    sizes = layer_sizes(n_features, n_languages)
    weights = {}
    for name, fan_in, fan_out in zip(LAYER_NAMES, sizes[:-1], sizes[1:]):
        gain = np.sqrt(2.0 / (1.0 + SLOPE ** 2))
        bound = gain * np.sqrt(3.0 / fan_in)
        weights["w" + name] = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        weights["b" + name] = np.zeros(fan_out, dtype=np.float32)
    return weights


def layer_alphas():
    return {"1": SLOPE, "2": SLOPE, "3": IDENTITY}


def softmax_cross_entropy(logits, labels):
    """(mean cross-entropy, its gradient w.r.t. the logits) for integer labels, in float64
    for the loss and float32 for the gradient."""
    z = logits.astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(z).sum(axis=1))
    batch = len(labels)
    loss = float(np.mean(log_sum - z[np.arange(batch), labels]))
    probs = np.exp(z - log_sum[:, None])
    probs[np.arange(batch), labels] -= 1.0
    return loss, (probs / batch).astype(np.float32)


class Network:
    """The weights (arrays of `ops`), forward, backward and an Adam step."""

    def __init__(self, ops, host_weights):
        self.ops = ops
        # A copy: on the CPU backend upload() is zero copy, and training must not change the
        # caller's arrays (the PyTorch twin starts from the same ones).
        self.params = {k: ops.upload(np.array(v, dtype=np.float32)) for k, v in host_weights.items()}
        self.alphas = layer_alphas()

    def host_weights(self):
        return {k: self.ops.download(v) for k, v in self.params.items()}

    def forward(self, x):
        """The activations [x, h1, h2, logits]; x is an array of `ops`."""
        acts = [x]
        for name in LAYER_NAMES:
            acts.append(self.ops.dense(acts[-1], self.params["w" + name], self.params["b" + name],
                                       self.alphas[name]))
        return acts

    def backward(self, acts, dlogits):
        """{param name: gradient} from the activations and the gradient of the logits."""
        grads = {}
        dy = dlogits
        for i in reversed(range(len(LAYER_NAMES))):
            name = LAYER_NAMES[i]
            dx, dw, db = self.ops.dense_backward(acts[i], self.params["w" + name], acts[i + 1], dy,
                                                 self.alphas[name], need_dx=i > 0)
            grads["w" + name], grads["b" + name] = dw, db
            dy = dx
        return grads

    def predict_logits(self, x_host):
        return self.ops.download(self.forward(self.ops.upload(x_host))[-1])


class Adam:
    """torch.optim.Adam (no weight decay) over a Network's parameters, moments kept with them."""

    def __init__(self, network, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.network = network
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.steps = 0
        ops = network.ops
        self.m = {k: ops.zeros_like(p) for k, p in network.params.items()}
        self.v = {k: ops.zeros_like(p) for k, p in network.params.items()}

    def step(self, grads):
        self.steps += 1
        bias1 = 1.0 - self.beta1 ** self.steps
        bias2 = 1.0 - self.beta2 ** self.steps
        for k, p in self.network.params.items():
            self.network.ops.adam(p, grads[k], self.m[k], self.v[k], self.beta1, self.beta2,
                                  self.lr / bias1, np.sqrt(bias2), self.eps)
