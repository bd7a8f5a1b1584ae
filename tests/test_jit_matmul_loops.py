"""mg.jit matmuls generated as loops instead of BLAS calls, against numpy.

* a small inner dimension K (<= 8): an expression per output element, fused with the
  elementwise consumers (``x @ W.T + b`` of a Linear layer with few inputs);
* ``X.T @ B`` with a small M or N (<= 8): a sum over the shared outer axis, fused with the
  loop computing B (the weight gradient of a Linear layer with few inputs or outputs);
* transposes read only by matmuls are views; ``(A @ B).T`` is computed as ``B.T @ A.T``.

References are numpy in float64; every case runs in float32 and float64.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.jit import jit

DTYPES = (np.float32, np.float64)


def _close(got: mg.Tensor, expected: np.ndarray, dtype: type) -> None:
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(np.asarray(got.data, np.float64), expected, rtol=tol, atol=tol)


def _arrays(dtype: type, *shapes: tuple[int, ...], seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for shape in shapes]


def _f64(*arrays: np.ndarray) -> list[np.ndarray]:
    return [a.astype(np.float64) for a in arrays]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("m", "k", "n"), [(5, 1, 7), (33, 2, 64), (16, 3, 1), (9, 8, 12)])
def test_small_inner_dimension_fused_with_its_consumers(m, k, n, dtype) -> None:
    x, w, b = _arrays(dtype, (m, k), (n, k), (n,))
    compiled = jit(lambda x, w, b: ((x @ w.T) + b).relu())
    got = compiled(mg.Tensor(x), mg.Tensor(w), mg.Tensor(b))
    x64, w64, b64 = _f64(x, w, b)
    _close(got, np.maximum(x64 @ w64.T + b64, 0.0), dtype)
    assert "np.dot" not in compiled.source


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("transpose_a", [False, True])
def test_small_inner_dimension_as_a_result(transpose_a, dtype) -> None:
    a, b = _arrays(dtype, (3, 20) if transpose_a else (20, 3), (3, 6))
    compiled = jit(lambda a, b: (a.T if transpose_a else a) @ b)
    got = compiled(mg.Tensor(a), mg.Tensor(b))
    a64, b64 = _f64(a, b)
    _close(got, (a64.T if transpose_a else a64) @ b64, dtype)
    assert "np.dot" not in compiled.source


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("k", "m", "n"), [(128, 2, 64), (100, 64, 2), (50, 1, 30), (40, 8, 8),
                                           (12, 3, 5)])
def test_sum_over_the_outer_axis(k, m, n, dtype) -> None:
    """X.T @ (2 * B + 1): the second operand is recomputed in the loop that sums."""
    x, b = _arrays(dtype, (k, m), (k, n), seed=1)
    compiled = jit(lambda x, b: x.T @ (b * 2.0 + 1.0))
    got = compiled(mg.Tensor(x), mg.Tensor(b))
    x64, b64 = _f64(x, b)
    _close(got, x64.T @ (2.0 * b64 + 1.0), dtype)
    assert "np.dot" not in compiled.source


@pytest.mark.parametrize("dtype", DTYPES)
def test_same_operand_on_both_sides(dtype) -> None:
    (x,) = _arrays(dtype, (30, 4), seed=2)
    compiled = jit(lambda x: (x * 3.0).T @ (x * 3.0))
    got = compiled(mg.Tensor(x))
    x64 = 3.0 * x.astype(np.float64)
    _close(got, x64.T @ x64, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_large_matmuls_stay_blas_and_transposes_are_views(dtype) -> None:
    a, b = _arrays(dtype, (40, 30), (20, 30), seed=3)
    compiled = jit(lambda a, b: ((a @ b.T).T, (b.T).T @ a.T))
    first, second = compiled(mg.Tensor(a), mg.Tensor(b))
    a64, b64 = _f64(a, b)
    _close(first, (a64 @ b64.T).T, dtype)
    _close(second, b64 @ a64.T, dtype)
    assert "np.dot" in compiled.source
    assert "for i0" not in compiled.source  # no transpose copied


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_layer_gradients_with_few_inputs_and_outputs(dtype) -> None:
    """Linear(3, 16) -> tanh -> Linear(16, 2), loss = sum(out**2): every gradient against the
    chain rule written out in numpy."""
    x, w1, b1, w2, b2 = _arrays(dtype, (64, 3), (16, 3), (16,), (2, 16), (2,), seed=4)
    params = [mg.Tensor(p, requires_grad=True) for p in (w1, b1, w2, b2)]

    def step(x):
        for p in params:
            p.grad = None
        hidden = (x @ params[0].T + params[1]).tanh()
        out = hidden @ params[2].T + params[3]
        loss = (out * out).sum()
        loss.backward()
        return loss

    compiled = jit(step)
    loss = compiled(mg.Tensor(x))
    x64, w164, b164, w264, b264 = _f64(x, w1, b1, w2, b2)
    hidden = np.tanh(x64 @ w164.T + b164)
    out = hidden @ w264.T + b264
    d_out = 2.0 * out
    d_pre = (d_out @ w264) * (1.0 - hidden**2)
    expected = [d_pre.T @ x64, d_pre.sum(0), d_out.T @ hidden, d_out.sum(0)]
    tol = 1e-4 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(float(loss.data), float((out * out).sum()), rtol=tol)
    for param, grad in zip(params, expected, strict=True):
        np.testing.assert_allclose(np.asarray(param.grad.data, np.float64), grad,
                                   rtol=tol, atol=tol)
