"""Batched matmul under mg.jit: operands with batch axes (numpy's broadcasting, 1-D operands
combined with N-D as in np.matmul), forward and backward, float32 and float64.

Two code paths are covered for each shape: a small inner dimension K (<= 8, the K products
per element in a loop) and a larger one (np.dot of 2-D slices). References: np.matmul in
float64, eager minigrad, and central differences (minigrad.gradcheck.numerical_grad).
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops
from minigrad.gradcheck import numerical_grad
from minigrad.jit import NotCompilableError, jit

DTYPES = (np.float32, np.float64)
# (shape of a, shape of b) with the inner dimension written as K.
SHAPES = [((2, 3, "K"), ("K", 5)), ((3, "K"), (2, "K", 5)), ((2, 1, 3, "K"), (5, "K", 6)),
          (("K",), (2, "K", 3)), ((2, 3, "K"), ("K",)), ((2, 2, "K"), (2, "K", 1)),
          ((1, 4, "K"), (3, "K", 2))]
INNER = (4, 11)


def _shapes(case: tuple, k: int) -> list[tuple[int, ...]]:
    return [tuple(k if n == "K" else n for n in shape) for shape in case]


def _arrays(dtype: type, *shapes: tuple[int, ...], seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for shape in shapes]


def _close(got: np.ndarray, expected: np.ndarray, dtype: type, scale: float = 1.0) -> None:
    tol = (2e-5 if dtype == np.float32 else 1e-12) * scale
    np.testing.assert_allclose(np.asarray(got, np.float64), expected, rtol=tol, atol=tol)


def _step(a: mg.Tensor, b: mg.Tensor, w: mg.Tensor) -> mg.Tensor:
    """out = a @ b; the gradients of sum(w * out) into a.grad and b.grad."""
    a.grad = None
    b.grad = None
    out = ops.matmul(a, b)
    (out * w).sum().backward()
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", INNER)
@pytest.mark.parametrize("case", SHAPES, ids=lambda c: f"{c[0]}@{c[1]}")
def test_forward_matches_numpy_and_eager(case, k, dtype) -> None:
    sa, sb = _shapes(case, k)
    av, bv = _arrays(dtype, sa, sb)
    compiled = jit(lambda a, b: ops.matmul(a, b) + 0.0)
    got = compiled(mg.tensor(av), mg.tensor(bv))
    got = compiled(mg.tensor(av), mg.tensor(bv))  # the compiled call
    expected = np.matmul(av.astype(np.float64), bv.astype(np.float64))
    assert got.shape == expected.shape and got.dtype == np.dtype(dtype)
    _close(got.numpy(), expected, dtype)
    eager = ops.matmul(mg.tensor(av), mg.tensor(bv)).numpy()
    _close(got.numpy(), eager.astype(np.float64), dtype)
    assert ("np.dot" in compiled.source) == (k > 8)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", INNER)
@pytest.mark.parametrize("case", SHAPES, ids=lambda c: f"{c[0]}@{c[1]}")
def test_gradients_match_eager_and_finite_differences(case, k, dtype) -> None:
    sa, sb = _shapes(case, k)
    av, bv = _arrays(dtype, sa, sb, seed=1)
    wv = _arrays(dtype, np.matmul(av, bv).shape, seed=2)[0]
    a, b, w = mg.tensor(av, requires_grad=True), mg.tensor(bv, requires_grad=True), mg.tensor(wv)
    compiled = jit(_step)
    for _ in range(3):  # traces with .grad None, then set (docs/jit.md), then compiled
        compiled(a, b, w)
    got_a, got_b = a.grad.numpy().copy(), b.grad.numpy().copy()
    assert compiled.trace_count == 2
    _step(a, b, w)  # eager
    _close(got_a, a.grad.numpy().astype(np.float64), dtype)
    _close(got_b, b.grad.numpy().astype(np.float64), dtype)
    a64, b64, w64 = (x.astype(np.float64) for x in (av, bv, wv))

    def loss() -> float:
        return float(np.sum(w64 * np.matmul(a64, b64)))

    for got, x in ((got_a, a64), (got_b, b64)):
        numeric = numerical_grad(loss, x, 1e-6)
        _close(got, numeric, dtype, scale=1e4 if dtype == np.float64 else 10)


@pytest.mark.parametrize("k", INNER)
def test_transposed_weight_and_mixed_dtypes(k) -> None:
    """x @ W.T with W read through a transpose view, and float32 @ float64 -> float64."""
    xv, wv = _arrays(np.float32, (2, 3, k), (5, k))
    w64 = wv.astype(np.float64)
    compiled = jit(lambda x, w: ops.matmul(x, ops.transpose(w)) * 2.0)
    for _ in range(2):
        got = compiled(mg.tensor(xv), mg.tensor(w64))
    assert got.dtype == np.float64
    expected = np.matmul(xv.astype(np.float64), w64.T) * 2.0
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", INNER)
def test_swapped_batched_operands_are_read_in_place(k, dtype) -> None:
    """swapaxes(x, -1, -2) @ g and g @ swapaxes(y, -1, -2) (as in the backward pass) read x
    and y with their last two axes swapped: no copy loop, the same values as numpy."""
    xv, gv, yv = _arrays(dtype, (2, 3, k, 4), (2, 3, k, 5), (1, 6, 4))
    swap = (0, 1, 3, 2)

    def f(x, g, y):
        return ops.matmul(ops.transpose(x, swap), g), ops.matmul(x, ops.transpose(y, (0, 2, 1)))

    compiled = jit(f)
    for _ in range(2):
        first, second = compiled(mg.tensor(xv), mg.tensor(gv), mg.tensor(yv))
    x64, g64, y64 = (v.astype(np.float64) for v in (xv, gv, yv))
    _close(first.numpy(), np.matmul(np.swapaxes(x64, -1, -2), g64), dtype)
    _close(second.numpy(), np.matmul(x64, np.swapaxes(y64, -1, -2)), dtype)
    for copy in (f"np.empty((2, 3, 4, {k}), ", "np.empty((1, 4, 6), "):
        assert copy not in compiled.source  # no transposed copy of x or y


@pytest.mark.parametrize(("sa", "sb"), [((0, 3, 4), (4, 5)), ((2, 3, 0), (0, 5)),
                                        ((2, 0, 9), (2, 9, 3))])
def test_empty_operands(sa, sb) -> None:
    """An empty batch, K = 0 (zeros, as np.matmul gives) and an empty M."""
    av, bv = _arrays(np.float64, sa, sb)
    compiled = jit(ops.matmul)
    got = compiled(mg.tensor(av), mg.tensor(bv))
    got = compiled(mg.tensor(av), mg.tensor(bv))
    np.testing.assert_array_equal(got.numpy(), np.matmul(av, bv))


def test_batched_layer_in_a_training_step_follows_eager() -> None:
    """A (batch, tokens, features) input through a shared weight, trained with SGD."""
    def run(compiled: bool) -> list[np.ndarray]:
        rng = np.random.default_rng(0)
        x = mg.tensor(rng.standard_normal((4, 6, 10)))
        w = mg.tensor(rng.standard_normal((10, 3)) * 0.3, requires_grad=True)
        v = mg.tensor(rng.standard_normal((3,)), requires_grad=True)
        opt = mg.optim.SGD([w, v], lr=0.05)

        def step(x):
            opt.zero_grad()
            loss = (ops.matmul(ops.tanh(ops.matmul(x, w)), v) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        fn = jit(step) if compiled else step
        losses = [fn(x).numpy().copy() for _ in range(6)]
        return [np.array(losses), w.numpy().copy(), v.numpy().copy()]

    for got, expected in zip(run(True), run(False), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_integer_batched_matmul_is_refused() -> None:
    a = mg.tensor(np.arange(24).reshape(2, 3, 4))
    b = mg.tensor(np.arange(20).reshape(4, 5))
    with pytest.raises(NotCompilableError, match=r"float operands only.*\(2, 3, 4\) int64"):
        jit(lambda a, b: ops.matmul(a, b) + 1)(a, b)
