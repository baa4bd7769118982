#!/usr/bin/python3
"""Writes models/conv-leaky-prelu.onnx: a small convolutional network whose activations are the
ONNX nodes OpenCV maps onto its ReLU and PReLU layers: LeakyRelu (slopes 0.1, 1.5 and 0.01), Relu
(slope 0), and PRelu (a slope per channel, negative, zero and above one among them). The weights
come from a fixed seed, so running it again gives the same file.

usage: /usr/bin/python3 examples/opencv/make_onnx.py [OUTPUT]   (Debian's python3-onnx, numpy)
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INPUT_SHAPE = [1, 3, 64, 64]
OPSET = 11  # what OpenCV 4.6's importer reads well


def conv(rng, name, x, c_in, c_out, k, stride, inits):
    """A Conv node with He-initialised weights and a small bias."""
    w = rng.normal(0.0, np.sqrt(2.0 / (c_in * k * k)), size=(c_out, c_in, k, k)).astype(np.float32)
    b = rng.uniform(-0.1, 0.1, size=(c_out,)).astype(np.float32)
    inits += [numpy_helper.from_array(w, name + ".w"), numpy_helper.from_array(b, name + ".b")]
    pad = k // 2
    return helper.make_node("Conv", [x, name + ".w", name + ".b"], [name], name=name, kernel_shape=[k, k],
                            strides=[stride, stride], pads=[pad, pad, pad, pad])


def prelu_slopes(rng, channels):
    """Per-channel slopes with the cases that matter: negative, zero, one, above one."""
    slopes = rng.uniform(-0.5, 2.0, size=(channels,)).astype(np.float32)
    slopes[:4] = [0.0, -0.25, 1.0, 1.5]
    return slopes.reshape(channels, 1, 1)


def build(rng):
    inits, nodes = [], []
    nodes.append(conv(rng, "conv1", "input", 3, 16, 3, 1, inits))
    nodes.append(helper.make_node("LeakyRelu", ["conv1"], ["leaky1"], name="leaky1", alpha=0.1))
    nodes.append(conv(rng, "conv2", "leaky1", 16, 32, 3, 2, inits))
    inits.append(numpy_helper.from_array(prelu_slopes(rng, 32), "prelu2.slope"))
    nodes.append(helper.make_node("PRelu", ["conv2", "prelu2.slope"], ["prelu2"], name="prelu2"))
    nodes.append(conv(rng, "conv3", "prelu2", 32, 32, 1, 1, inits))
    nodes.append(helper.make_node("LeakyRelu", ["conv3"], ["leaky3"], name="leaky3", alpha=1.5))
    nodes.append(conv(rng, "conv4", "leaky3", 32, 16, 3, 1, inits))
    nodes.append(helper.make_node("Relu", ["conv4"], ["relu4"], name="relu4"))
    nodes.append(conv(rng, "conv5", "relu4", 16, 8, 1, 1, inits))
    nodes.append(helper.make_node("LeakyRelu", ["conv5"], ["output"], name="leaky5", alpha=0.01))
    out_shape = [1, 8, INPUT_SHAPE[2] // 2, INPUT_SHAPE[3] // 2]
    graph = helper.make_graph(nodes, "conv_leaky_prelu",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, INPUT_SHAPE)],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, out_shape)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="leakycl examples/opencv/make_onnx.py")
    model.ir_version = 6
    onnx.checker.check_model(model)
    return model


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "models", "conv-leaky-prelu.onnx")
    onnx.save(build(np.random.default_rng(20261207)), out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
