"""leakycl.torch: the modules against torch.nn's, bit for bit, forward and backward; gradcheck
in float64; in place; a training loop whose float32 losses equal torch.nn.LeakyReLU's."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import numpy as np  # noqa: E402

import leakycl.torch as lt  # noqa: E402
from conftest import FLOAT_DTYPES, DTYPE_IDS, from_numpy, random_array  # noqa: E402

TORCH_DTYPES = [torch.float32, torch.float16, torch.bfloat16, torch.float64]


def same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    nan = torch.isnan(a.double()) & torch.isnan(b.double())
    ints = {2: torch.int16, 4: torch.int32, 8: torch.int64}[a.element_size()]
    return bool(((a.view(ints) == b.view(ints)) | nan).all())


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("slope", [0.01, 0.0, 1.0, 3.0, -0.5])
def test_leaky_relu_matches_torch_forward_and_backward(device, dtype, slope):
    x = from_numpy("torch", random_array(dtype, 1003, 1)).reshape(17, 59)
    dy = from_numpy("torch", random_array(dtype, 1003, 2)).reshape(17, 59)
    ours = x.clone().requires_grad_(True)
    y = lt.LeakyReLU(slope, ctx=device)(ours)
    y.backward(dy)
    if x.dtype == torch.float16:  # torch 1.13 has no CPU half leaky_relu: the same formula in fp32
        y_ref = torch.nn.functional.leaky_relu(x.float(), slope).half()
        dx_ref = torch.where(x.float() > 0, dy.float(), slope * dy.float()).half()
    else:
        theirs = x.clone().requires_grad_(True)
        y_ref = torch.nn.LeakyReLU(slope)(theirs)
        y_ref.backward(dy)
        dx_ref = theirs.grad
    assert same_bits(y.detach(), y_ref.detach())
    assert same_bits(ours.grad, dx_ref)


@pytest.mark.parametrize("slope", [0.2, -0.5, 2.0])
def test_in_place_backward_is_exact_for_any_slope(device, slope):
    x = torch.randn(64, 32, dtype=torch.float64)
    dy = torch.randn(64, 32, dtype=torch.float64)
    leaf = x.clone().requires_grad_(True)
    h = leaf * 1.0  # in place needs a non-leaf
    y = lt.LeakyReLU(slope, inplace=True, ctx=device)(h)
    assert y.data_ptr() == h.data_ptr()
    y.backward(dy)
    want = torch.where(x > 0, dy, slope * dy)
    assert torch.equal(leaf.grad, want)


def test_in_place_on_a_strided_tensor(device):
    x = torch.randn(20, 30)
    h = x.clone().t()  # not contiguous
    y = lt.LeakyReLU(0.1, inplace=True, ctx=device)(h)
    assert y is h or y.data_ptr() == h.data_ptr()
    assert torch.equal(h, torch.nn.functional.leaky_relu(x.t(), 0.1))


def test_gradcheck_float64(device):
    x = torch.randn(4, 3, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: lt.leaky_relu(t, 0.3, ctx=device), (x,))
    assert torch.autograd.gradcheck(lambda t: lt.leaky_relu(t, -1.7, ctx=device), (x,))
    w = torch.tensor([0.25, -0.5, 1.5], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t, s: lt.prelu(t, s, ctx=device), (x, w))
    w1 = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t, s: lt.prelu(t, s, ctx=device), (x, w1))


@pytest.mark.parametrize("num_parameters", [1, 3])
def test_prelu_matches_torch(device, num_parameters):
    x = from_numpy("torch", random_array(np.dtype(np.float32), 2 * 3 * 7 * 5, 3)).reshape(2, 3, 7, 5)
    x[~torch.isfinite(x)] = 0.5  # the slope gradient sums x: keep it finite to compare
    dy = torch.randn(2, 3, 7, 5)
    ours = lt.PReLU(num_parameters, 0.25, ctx=device)
    theirs = torch.nn.PReLU(num_parameters, 0.25)
    with torch.no_grad():
        ours.weight.copy_(torch.tensor([0.25, -0.75, 2.0][:num_parameters]))
        theirs.weight.copy_(ours.weight)
    xa, xb = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    ya, yb = ours(xa), theirs(xb)
    assert same_bits(ya.detach(), yb.detach())
    ya.backward(dy)
    yb.backward(dy)
    assert same_bits(xa.grad, xb.grad)
    assert torch.allclose(ours.weight.grad, theirs.weight.grad, rtol=1e-5, atol=1e-5)


def test_module_signatures_match_torch():
    import inspect

    for ours, theirs in ((lt.LeakyReLU, torch.nn.LeakyReLU), (lt.PReLU, torch.nn.PReLU)):
        a = [p for p in inspect.signature(ours).parameters.values() if p.kind != p.KEYWORD_ONLY]
        b = list(inspect.signature(theirs).parameters.values())
        assert [(p.name, p.default) for p in a] == [(p.name, p.default) for p in b]
    m = lt.PReLU()
    assert m.weight.shape == (1,) and float(m.weight) == 0.25
    assert lt.LeakyReLU().negative_slope == 0.01


def _train(activation: torch.nn.Module, seed: int = 0) -> list[float]:
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(2, 32), activation, torch.nn.Linear(32, 32), activation,
                                torch.nn.Linear(32, 1))
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(128, 2, generator=gen)
    target = (x[:, :1] * x[:, 1:]).sin()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("slope", [0.01, 0.2])
def test_training_loop_bit_equal_to_torch(device, slope):
    torch.set_num_threads(1)  # one GEMM order for both runs
    ours = _train(lt.LeakyReLU(slope, ctx=device))
    theirs = _train(torch.nn.LeakyReLU(slope))
    assert ours == theirs
    assert ours[-1] < ours[0]  # it learned
