"""Normalisation layers against PyTorch 2.13 (live; the committed BatchNorm references are
in tests/reference/torch_bn.npz and test_batchnorm.py): BatchNorm3d, a zero-size batch,
reset_running_stats / reset_parameters, LayerNorm without affine or bias."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

nn = mg.nn


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (0, 3)), ("BatchNorm2d", (0, 3, 2, 2)),
                                       ("BatchNorm2d", (2, 3, 0, 2)),
                                       ("BatchNorm3d", (0, 3, 1, 2, 2))])
def test_zero_size_batch_is_pytorchs(cls, shape):
    layer = getattr(nn, cls)(3, dtype="float64")
    x = mg.tensor(np.zeros(shape), requires_grad=True)
    out = layer(x)
    out.sum().backward()
    assert out.shape == shape and x.grad.shape == shape
    assert layer.weight.grad.numpy().tolist() == [0.0] * 3
    assert layer.running_mean.numpy().tolist() == [0.0] * 3
    assert layer.running_var.numpy().tolist() == [1.0] * 3
    assert int(layer.num_batches_tracked) == 1
    assert layer.eval()(x).shape == shape
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.nn, cls)(3)
    t = torch.zeros(shape, requires_grad=True)
    out_t = theirs(t)
    out_t.sum().backward()
    assert tuple(out_t.shape) == shape and int(theirs.num_batches_tracked) == 1
    assert theirs.weight.grad.tolist() == [0.0] * 3


@pytest.mark.parametrize("impl", ["composed", "fused"])
def test_batchnorm3d_matches_torch_over_steps(impl):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    ours = nn.BatchNorm3d(3, momentum=0.3, impl=impl, dtype="float64")
    theirs = torch.nn.BatchNorm3d(3, momentum=0.3).double()
    for _ in range(2):
        x = rng.normal(size=(2, 3, 2, 3, 2)) * 2 + 1
        g = rng.normal(size=x.shape)
        a = mg.tensor(x, requires_grad=True)
        t = torch.tensor(x, requires_grad=True)
        (ours(a) * g).sum().backward()
        (theirs(t) * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (key, mine), (_, their) in zip(ours.state_dict().items(),
                                       theirs.state_dict().items(), strict=True):
        np.testing.assert_allclose(mine.numpy(), their.numpy(), rtol=1e-12, err_msg=key)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                               rtol=1e-10)
    with pytest.raises(ValueError, match="expected 5D input"):
        ours(mg.tensor(np.zeros((2, 3, 4))))


@pytest.mark.parametrize("affine,bias", [(True, True), (True, False), (False, True)])
def test_layer_norm_affine_and_bias_options_match_torch(affine, bias):
    torch = pytest.importorskip("torch")
    ours = nn.LayerNorm((3, 4), elementwise_affine=affine, bias=bias, dtype="float64")
    theirs = torch.nn.LayerNorm((3, 4), elementwise_affine=affine, bias=bias).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(2).normal(size=(2, 3, 4))
    for mine, their in zip(ours.parameters(), theirs.parameters(), strict=True):
        value = np.random.default_rng(mine.ndim).normal(size=mine.shape)
        mine.assign_(value)
        with torch.no_grad():
            their.copy_(torch.tensor(value))
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12)
