"""Shared by the spatial op tests: values and float64 gradients of orders 1 and 2 of a
minigrad function against PyTorch's (live), through a tanh head so the second order is
not trivially zero."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

import minigrad as mg

TOL = {"rtol": 1e-9, "atol": 1e-10}


def compare_with_torch(ours: Callable, theirs: Callable, arrays: Sequence[np.ndarray],
                       torch, order: int = 2, tol: dict | None = None, seed: int = 3) -> None:
    """ours(*tensors) vs theirs(*torch tensors): values, first and second order gradients
    (Hessian-vector products of sum(tanh(out) * head)) of every floating input."""
    tol = tol or TOL
    mine = [mg.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    ref = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out, out_t = ours(*mine), theirs(*ref)
    assert out.shape == tuple(out_t.shape), (out.shape, tuple(out_t.shape))
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), **tol)
    if order == 0:
        return
    diff = [t for t in mine if t.requires_grad]
    diff_t = [t for t in ref if t.requires_grad]
    rng = np.random.default_rng(seed)
    head = rng.standard_normal(out.shape)
    loss = mg.sum(mg.tanh(out) * mg.tensor(head))
    loss_t = (torch.tanh(out_t) * torch.tensor(head)).sum()
    grads = mg.grad(loss, diff, create_graph=order > 1)
    grads_t = torch.autograd.grad(loss_t, diff_t, create_graph=order > 1)
    for a, b in zip(grads, grads_t, strict=True):
        np.testing.assert_allclose(a.data, b.detach().numpy(), **tol)
    if order == 1:
        return
    probes = [rng.standard_normal(t.shape) for t in diff]
    total = grads[0] * mg.tensor(probes[0])
    second = mg.grad(mg.sum(total) + sum(mg.sum(g * mg.tensor(p)) for g, p in
                                         zip(grads[1:], probes[1:], strict=True)), diff)
    second_t = torch.autograd.grad(
        sum((g * torch.tensor(p)).sum() for g, p in zip(grads_t, probes, strict=True)), diff_t)
    for a, b in zip(second, second_t, strict=True):
        np.testing.assert_allclose(a.data, b.detach().numpy(), **tol)
