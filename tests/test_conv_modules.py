"""nn.Conv1d/Conv2d and the pooling modules against torch.nn (same weights), PyTorch's
default initialisation (bounds and spread), arguments and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

torch = pytest.importorskip("torch")


def _load_into_torch(ours: nn.Module, theirs) -> None:
    with torch.no_grad():
        for name, param in ours.named_parameters():
            getattr(theirs, name).copy_(torch.tensor(param.data))


@pytest.mark.parametrize(("ours", "theirs", "shape"), [
    (lambda: nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, dtype="float64"),
     lambda: torch.nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, dtype=torch.float64),
     (2, 4, 7, 6)),
    (lambda: nn.Conv2d(3, 2, (2, 3), padding="same", dilation=(2, 1), bias=False,
                       dtype="float64"),
     lambda: torch.nn.Conv2d(3, 2, (2, 3), padding="same", dilation=(2, 1), bias=False,
                             dtype=torch.float64), (1, 3, 5, 6)),
    (lambda: nn.Conv1d(4, 4, 3, stride=2, padding=1, groups=4, dtype="float64"),
     lambda: torch.nn.Conv1d(4, 4, 3, stride=2, padding=1, groups=4, dtype=torch.float64),
     (3, 4, 9)),
    (lambda: nn.MaxPool2d(3, 2, 1, ceil_mode=True),
     lambda: torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True), (2, 3, 7, 6)),
    (lambda: nn.AvgPool2d(2, count_include_pad=False, padding=1),
     lambda: torch.nn.AvgPool2d(2, count_include_pad=False, padding=1), (2, 3, 7, 6)),
    (lambda: nn.AdaptiveAvgPool2d((2, 3)), lambda: torch.nn.AdaptiveAvgPool2d((2, 3)),
     (2, 3, 7, 6)),
])
def test_modules_match_torch(ours, theirs, shape) -> None:
    ours, theirs = ours(), theirs()
    _load_into_torch(ours, theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    x = np.random.default_rng(1).standard_normal(shape)
    mine = mg.tensor(x, requires_grad=True)
    ref = torch.tensor(x, requires_grad=True)
    out, out_t = ours(mine), theirs(ref)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    head = np.random.default_rng(2).standard_normal(out.shape)
    mg.sum(out * mg.tensor(head)).backward()
    (out_t * torch.tensor(head)).sum().backward()
    np.testing.assert_allclose(mine.grad.data, ref.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (name, param), (_, param_t) in zip(ours.named_parameters(), theirs.named_parameters(),
                                           strict=True):
        np.testing.assert_allclose(param.grad.data, param_t.grad.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=name)


def test_default_init_is_pytorchs() -> None:
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias (fan_in = C/groups * kh * kw),
    float32 by default: bounds and a uniform's standard deviation bound/sqrt(3)."""
    mg.manual_seed(0)
    layer = nn.Conv2d(8, 64, (3, 5), groups=2)
    bound = 1 / math.sqrt(4 * 15)
    weight = layer.weight.data
    assert weight.shape == (64, 4, 3, 5) and weight.dtype == np.float32
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.98 * bound
    assert abs(weight.std() - bound / math.sqrt(3)) < 0.03 * bound
    assert np.abs(layer.bias.data).max() <= bound and layer.bias.shape == (64,)
    torch_layer = torch.nn.Conv2d(8, 64, (3, 5), groups=2)  # same bound in PyTorch
    assert float(torch_layer.weight.detach().abs().max()) <= bound
    assert nn.Conv1d(3, 2, 4).weight.shape == (2, 3, 4)


def test_repr_and_errors() -> None:
    assert "kernel_size=(3, 3), stride=(2, 2), padding=(1, 1)" in repr(nn.Conv2d(2, 4, 3, 2, 1))
    with pytest.raises(ValueError, match="groups=2 must divide in_channels=3"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode='zeros'"):
        nn.Conv2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match=r"expected input \(N, C, H, W\) with C=3, got shape "
                                         r"\(2, 4, 5, 5\)"):
        nn.Conv2d(3, 4, 3)(mg.tensor(np.ones((2, 4, 5, 5), dtype=np.float32)))
    with pytest.raises(ValueError, match="kernel_size must be an int or a tuple of 1 ints"):
        nn.Conv1d(3, 4, (3, 3))
