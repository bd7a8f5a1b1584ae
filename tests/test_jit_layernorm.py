"""mg.jit of normalisations over trailing axes (issue 17): LayerNorm (``F.layer_norm``,
composed) and an RMSNorm composition, x * rsqrt(mean(x * x, -1) + eps) * w.

Values and gradients (first and second order) of the compiled function against eager
minigrad and against PyTorch in float64 (an independent implementation), on odd shapes
(one feature, one row, zero rows, 3-D inputs normalised over their last one or two axes);
and the number of passes over the data in the kernel plan: two (statistics with every sum
over the normalised axes, then out, dx and the sums over the rows).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import minigrad as mg
from minigrad.jit import jit

torch = pytest.importorskip("torch")
F = mg.nn.functional
EPS = 1e-5
# (x shape, normalized_shape)
SHAPES = [((37, 24), (24,)), ((5, 1), (1,)), ((1, 16), (16,)), ((4, 3, 10), (3, 10)),
          ((2, 3, 9), (9,)), ((0, 8), (8,))]


def _arrays(shape: tuple[int, ...], normalized: tuple[int, ...], dtype: type, seed: int = 0
            ) -> list[np.ndarray]:
    """x (offset mean), w, b, g (the loss weights) and v (a direction for x)."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(shape) * 2.0 + 3.0).astype(dtype),
            (rng.standard_normal(normalized) * 0.5 + 1.0).astype(dtype),
            rng.standard_normal(normalized).astype(dtype),
            rng.standard_normal(shape).astype(dtype),
            rng.standard_normal(shape).astype(dtype)]


def _layer_norm(normalized: tuple[int, ...], lib: str = "mg"):
    """fn(x, w, b, g, v) -> (loss, dx, dw, db, d/dx sum(dx * v)) with minigrad or torch
    (without the second order on zero rows: minigrad's dx then does not depend on x)."""
    def minigrad_fn(x, w, b, g, v):
        loss = (F.layer_norm(x, normalized, w, b, EPS) * g).sum()
        dx, dw, db = mg.grad(loss, [x, w, b], create_graph=True)
        if x.numel() == 0:
            return (loss, dx, dw, db)
        return (loss, dx, dw, db, *mg.grad((dx * v).sum(), [x]))

    def torch_fn(x, w, b, g, v):
        loss = (torch.nn.functional.layer_norm(x, normalized, w, b, EPS) * g).sum()
        dx, dw, db = torch.autograd.grad(loss, (x, w, b), create_graph=True)
        if x.numel() == 0:
            return (loss, dx, dw, db)
        return (loss, dx, dw, db, *torch.autograd.grad((dx * v).sum(), (x,)))

    return minigrad_fn if lib == "mg" else torch_fn


def _rms_norm(lib: str = "mg"):
    """fn(x, w, g, v) -> (loss, dx, dw, d/dx sum(dx * v)) of the RMSNorm composition."""
    def minigrad_fn(x, w, g, v):
        loss = (x * mg.rsqrt((x * x).mean(-1, keepdims=True) + EPS) * w * g).sum()
        dx, dw = mg.grad(loss, [x, w], create_graph=True)
        return (loss, dx, dw, *mg.grad((dx * v).sum(), [x]))

    def torch_fn(x, w, g, v):
        loss = (x * torch.rsqrt((x * x).mean(-1, keepdim=True) + EPS) * w * g).sum()
        dx, dw = torch.autograd.grad(loss, (x, w), create_graph=True)
        return (loss, dx, dw, *torch.autograd.grad((dx * v).sum(), (x,)))

    return minigrad_fn if lib == "mg" else torch_fn


def _check(fn, torch_fn, arrays: list[np.ndarray], grads: int) -> None:
    """The compiled fn (second call: the kernel) against eager and torch in float64."""
    leaves = [mg.tensor(a, requires_grad=k < grads) for k, a in enumerate(arrays)]
    compiled = jit(fn)
    compiled(*leaves)
    got = [np.asarray(t.data, np.float64) for t in compiled(*leaves)]
    eager = [np.asarray(t.data, np.float64) for t in fn(*leaves)]
    refs = [torch.tensor(a.astype(np.float64), requires_grad=k < grads)
            for k, a in enumerate(arrays)]
    want = [t.detach().numpy() for t in torch_fn(*refs)]
    tol = 2e-4 if arrays[0].dtype == np.float32 else 1e-9
    for k, (a, e, w) in enumerate(zip(got, eager, want, strict=True)):
        scale = max(1.0, float(np.abs(w).max(initial=0.0)))
        np.testing.assert_allclose(a, e, rtol=tol, atol=tol * scale, err_msg=f"result {k}")
        np.testing.assert_allclose(a, w, rtol=tol, atol=tol * scale, err_msg=f"result {k}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, normalized", SHAPES, ids=[str(s) for s, _ in SHAPES])
def test_layer_norm_values_and_gradients(shape, normalized, dtype) -> None:
    _check(_layer_norm(normalized), _layer_norm(normalized, "torch"),
           _arrays(shape, normalized, dtype), grads=3)


RMS_SHAPES = [(37, 24), (5, 1), (1, 16), (2, 3, 9), (0, 8)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", RMS_SHAPES, ids=[str(s) for s in RMS_SHAPES])
def test_rms_norm_values_and_gradients(shape, dtype) -> None:
    x, w, _, g, v = _arrays(shape, shape[-1:], dtype)
    _check(_rms_norm(), _rms_norm("torch"), [x, w, g, v], grads=2)


def _passes(fn, arrays: list[np.ndarray], grads: int) -> str:
    """The plan of the compiled fn (traced and compiled on its first call)."""
    compiled = jit(fn)
    compiled(*[mg.tensor(a, requires_grad=k < grads) for k, a in enumerate(arrays)])
    return compiled.plan


def _loops_over(plan: str, shape: tuple[int, ...]) -> int:
    return len(re.findall(rf"loop  over {re.escape(str(shape))}:", plan))


def _first_order_layer_norm(normalized: tuple[int, ...], via_loss: bool):
    def step(x, w, b, g):
        out = F.layer_norm(x, normalized, w, b, EPS)
        if via_loss:
            loss = (out * g).sum()
            return (loss, *mg.grad(loss, [x, w, b]))
        return (out, *mg.grad(out, [x, w, b], grad_outputs=g))

    return step


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("via_loss", [True, False], ids=["sum(y * g)", "grad_outputs=g"])
@pytest.mark.parametrize("shape, normalized", [((96, 40), (40,)), ((6, 5, 8), (5, 8)),
                                               ((3, 7, 40), (40,))])
def test_layer_norm_forward_backward_takes_two_passes(shape, normalized, via_loss,
                                                      dtype) -> None:
    """Statistics with every sum over the normalised axes (before, in float32: the
    backward's sums over each row read the weight cast to float64, from a loop placed
    after the batch sums: 4 passes on 2-D; 3-D inputs were reshaped to (rows, K) between
    the loops: 5 passes)."""
    x, w, b, g, _ = _arrays(shape, normalized, dtype)
    plan = _passes(_first_order_layer_norm(normalized, via_loss), [x, w, b, g], 3)
    assert _loops_over(plan, shape) == 2, plan
    assert "reshape" not in plan, plan


def test_rms_norm_forward_backward_takes_two_passes() -> None:
    x, w, _, g, _ = _arrays((96, 40), (40,), np.float32)

    def step(x, w, g):
        loss = (x * mg.rsqrt((x * x).mean(-1, keepdims=True) + EPS) * w * g).sum()
        return (loss, *mg.grad(loss, [x, w]))

    assert _loops_over(_passes(step, [x, w, g], 2), (96, 40)) == 2


def test_row_sums_of_a_wide_row_are_float64_accurate() -> None:
    """Sums over a long last axis (buffered per row, summed in any order in float64)
    against numpy's float64 sums: float32 rows of 1e4 + noise keep their small mean."""
    rng = np.random.default_rng(3)
    x = (1e4 + rng.standard_normal((300, 4099))).astype(np.float32)
    compiled = jit(lambda t: (t.sum(1), t.amax(1), (t - t.mean(1, keepdims=True)).sum(1)))
    tensor = mg.tensor(x)
    compiled(tensor)
    total, top, centred = (np.asarray(r.data, np.float64) for r in compiled(tensor))
    assert "row_sum(" in compiled.source and "row_max(" in compiled.source
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(total, x64.sum(1).astype(np.float32), rtol=1e-7)
    np.testing.assert_array_equal(top, x64.max(1))
    mean32 = x64.mean(1, keepdims=True).astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(centred, (x64 - mean32).sum(1), rtol=1e-3, atol=0.5)


def test_small_matmul_summed_over_rows_beside_a_row_sum() -> None:
    """x.T @ h with a small x (a matmul summed over the rows in the loop computing h) and a
    sum of h over its last axis in the same loop (buffered): both against numpy. Found by
    the fuzzer (seed 20261207, program 39: a Linear(1, 8) training step with an MSE loss):
    the buffered loop had dropped the matmul's accumulation, dW was wrong."""
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((16, 1)), rng.standard_normal((16, 8))

    def fn(x, y):
        h = y * 2.0 + 1.0
        return x.T @ h, (h * h).sum(1)

    compiled = jit(fn)
    args = [mg.tensor(x), mg.tensor(y)]
    compiled(*args)
    product, sums = (np.asarray(r.data) for r in compiled(*args))
    assert "row_sum(" in compiled.source and "np.dot" not in compiled.source
    h = y * 2.0 + 1.0
    np.testing.assert_allclose(product, x.T @ h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sums, (h * h).sum(1), rtol=1e-12)
