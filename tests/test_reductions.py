"""Reductions of issue 15 beyond the stored PyTorch values (test_reductions_reference.py):
gradients of order 1 and 2 against finite differences (float64), PyTorch's result types,
clear errors for bad dims, numpy's protocol, and mg.jit against eager."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.jit import jit

rng = np.random.default_rng(15)
DISTINCT = (rng.permutation(24) * 0.37 - 4.0).reshape(2, 3, 4)


# ------------------------------------------------------------------------- extrema
def test_max_dim_is_a_named_tuple() -> None:
    x = mg.tensor([[1.0, 5.0, 5.0], [7.0, 0.0, 7.0]])
    result = x.max(1)
    values, indices = result
    assert result.values is values and result.indices is indices
    np.testing.assert_array_equal(values.data, [5.0, 7.0])
    np.testing.assert_array_equal(indices.data, [1, 0])
    assert indices.dtype == np.int64 and not indices.requires_grad
    low = mg.min(x, dim=0, keepdim=True)
    assert low.values.shape == (1, 3) and low.indices.shape == (1, 3)
    bounds = x.aminmax(dim=0)
    np.testing.assert_array_equal(bounds.min.data, [1.0, 0.0, 5.0])
    np.testing.assert_array_equal(bounds.max.data, [7.0, 5.0, 7.0])


@pytest.mark.parametrize("fn", [
    lambda x: x.max(1).values, lambda x: mg.min(x, -1, keepdim=True)[0],
    lambda x: x.amax((0, 2)), lambda x: mg.amin(x, 1), lambda x: x.max(),
    lambda x: mg.aminmax(x, dim=2).min * mg.aminmax(x, dim=2).max,
], ids=["max_dim", "min_dim_keepdim", "amax_dims", "amin", "max_all", "aminmax"])
def test_extrema_gradients_order_1_and_2(fn) -> None:
    assert mg.gradcheck(lambda x: mg.tanh(fn(x)), [DISTINCT], order=1)
    assert mg.gradcheck(lambda x: mg.tanh(fn(x)), [DISTINCT], order=2, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize(("call", "message"), [
    (lambda x: x.max(2), r"max: dim 2 is out of range for a tensor of shape \(2, 3\)"),
    (lambda x: mg.argmin(x, -3), r"argmin: dim -3 is out of range .* shape \(2, 3\)"),
    (lambda x: x.amax((0, 5)), r"amax: dim 5 is out of range .* shape \(2, 3\)"),
    (lambda x: x.min(1.5), r"min: dim must be an integer, got 1.5"),
    (lambda x: mg.argmax(mg.zeros(2, 0), 1), r"argmax: cannot .* dim 1 of size 0"),
    (lambda x: x.max(dim=0, axis=1), r"max: got both dim=0 and axis=1"),
])
def test_bad_dims_are_named(call, message) -> None:
    with pytest.raises((IndexError, TypeError, ValueError), match=message):
        call(mg.zeros(2, 3))


def test_numpy_max_and_min_keep_numpy_semantics() -> None:
    x = mg.tensor([[1.0, 4.0], [3.0, 2.0]], requires_grad=True)
    top = np.max(x, axis=0)
    assert isinstance(top, mg.Tensor) and top.requires_grad
    np.testing.assert_array_equal(top.data, [3.0, 4.0])
    np.testing.assert_array_equal(np.amin(x, axis=1, keepdims=True).data, [[1.0], [2.0]])
    assert float(np.min(x).data) == 1.0


@pytest.mark.filterwarnings("ignore:invalid value encountered")  # the NaN row's 0 * inf
def test_jit_extrema_equal_eager() -> None:
    def f(x):
        values, indices = x.max(1)
        low = mg.amin(x, (0, 2), keepdim=True)
        loss = (values * values).sum() + low.sum() + x.min(-1).values.sum()
        (grad,) = mg.grad(loss, [x])
        return values, indices, mg.argmin(x, 2), mg.argmax(x), grad

    data = DISTINCT.copy()
    data[0, 1, 2] = data[0, 1, 0]  # a tie: the first index wins
    data[1, 2, 3] = np.nan
    eager = f(mg.tensor(data, requires_grad=True))
    compiled = jit(f)(mg.tensor(data, requires_grad=True))
    for e, c in zip(eager, compiled, strict=True):
        assert e.dtype == c.dtype and e.shape == c.shape
        np.testing.assert_allclose(c.data, e.data, rtol=1e-12, equal_nan=True)
