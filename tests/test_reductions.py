"""Reductions of issue 15 beyond the stored PyTorch values (test_reductions_reference.py):
gradients of order 1 and 2 against finite differences (float64), PyTorch's result types,
clear errors for bad dims, numpy's protocol, and mg.jit against eager."""

from __future__ import annotations

import math

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
    (lambda x: x.max(dim=0, axis=1), r"max: got both dim= and axis=; give one"),
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
    np.testing.assert_array_equal(np.prod(x, axis=1).data, [4.0, 6.0])
    np.testing.assert_array_equal(np.cumsum(x, axis=0).data, [[1.0, 4.0], [4.0, 6.0]])
    assert bool(np.all(x).data) and np.any(x, axis=0).dtype == np.bool_
    np.testing.assert_array_equal(np.sort(x, axis=0).data, [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(np.argsort(x).data, [[0, 1], [1, 0]])


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


# ------------------------------------------------- prod, scans, logsumexp, norms, any/all
ONE_ZERO = np.array([[0.7, -1.3, 0.0, 1.6], [1.2, 0.9, -0.8, 1.1]])
TWO_ZEROS = np.array([[0.0, -1.3, 0.0, 1.6], [0.5, 0.0, 2.0, 0.0]])


@pytest.mark.parametrize("fn", [
    lambda x: x.prod(1), lambda x: x.prod(), lambda x: mg.prod(x, 0, keepdim=True),
    lambda x: x.cumprod(1), lambda x: mg.cumprod(x, 0), lambda x: x.cumsum(-1),
], ids=["prod_dim", "prod_all", "prod_dim0", "cumprod", "cumprod_dim0", "cumsum"])
@pytest.mark.parametrize("data", [ONE_ZERO, TWO_ZEROS, DISTINCT[0] * 0.3],
                         ids=["one_zero", "two_zeros", "no_zero"])
def test_products_gradients_order_1_and_2_at_zeros(fn, data) -> None:
    assert mg.gradcheck(fn, [data], order=1)
    assert mg.gradcheck(fn, [data], order=2, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("fn", [
    lambda x: x.cummax(1).values, lambda x: mg.cummin(x, 0)[0], lambda x: x.logcumsumexp(1),
], ids=["cummax", "cummin", "logcumsumexp"])
@pytest.mark.parametrize("data", [ONE_ZERO, DISTINCT[0] * 0.3], ids=["one_zero", "no_zero"])
def test_running_extrema_gradients_order_1_and_2(fn, data) -> None:
    """Away from ties (where the gradient's choice of position is a kink)."""
    assert mg.gradcheck(fn, [data], order=1)
    assert mg.gradcheck(fn, [data], order=2, atol=1e-4, rtol=1e-3)


def test_logcumsumexp_keeps_tiny_terms_and_is_smooth_at_equal_values() -> None:
    """log(1 + e^-40) = 4.25e-18 (not 0: log1p), and the second order at equal neighbours
    is that of log(e^a + e^b) (1/4 for two equal values, where |a - b| has a kink)."""
    out = mg.tensor([[0.0, -40.0]]).double().logcumsumexp(1)
    np.testing.assert_allclose(out.data[0, 1], math.log1p(math.exp(-40.0)), rtol=1e-15)
    x = mg.tensor(np.array([0.5, 0.5]), requires_grad=True)
    (grad,) = mg.grad(x.logcumsumexp(0)[1], [x], create_graph=True)
    (second,) = mg.grad(grad[0], [x])
    np.testing.assert_allclose(grad.data, [0.5, 0.5], rtol=1e-15)
    np.testing.assert_allclose(second.data, [0.25, -0.25], rtol=1e-15)


def test_prod_gradient_with_zeros_is_pytorchs() -> None:
    """One zero: only that element's gradient is nonzero; two zeros: all are zero."""
    x = mg.tensor(np.concatenate([ONE_ZERO[:1], TWO_ZEROS[:1]]), requires_grad=True)
    x.prod(1).sum().backward()
    np.testing.assert_allclose(x.grad.data, [[0, 0, 0.7 * -1.3 * 1.6, 0], [0, 0, 0, 0]],
                               rtol=1e-15)


@pytest.mark.parametrize("fn", [
    lambda x: mg.logsumexp(x, 1), lambda x: x.logsumexp((0, 2), keepdim=True),
    lambda x: x.norm(), lambda x: x.norm(3, dim=-1), lambda x: mg.linalg.vector_norm(x, 1.5, 1),
    lambda x: x.norm(float("inf"), 0),
], ids=["logsumexp", "logsumexp_dims", "fro", "p3", "vector_norm", "inf"])
def test_smooth_reductions_gradients_order_1_and_2(fn) -> None:
    assert mg.gradcheck(fn, [DISTINCT * 0.3], order=1)
    assert mg.gradcheck(fn, [DISTINCT * 0.3], order=2, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, float("inf")])
def test_norm_gradient_at_a_zero_vector_is_zero_to_second_order(p) -> None:
    x = mg.tensor(np.zeros((2, 3)), requires_grad=True)
    (grad,) = mg.grad(x.norm(p, dim=1).sum(), [x], create_graph=True)
    (second,) = mg.grad((grad * mg.tensor(np.ones((2, 3)))).sum(), [x])
    np.testing.assert_array_equal(grad.data, np.zeros((2, 3)))
    np.testing.assert_array_equal(second.data, np.zeros((2, 3)))


def test_float32_cumsum_accumulates_in_float64() -> None:
    values = np.full(4097, 0.1, np.float32)
    values[0] = 1e4
    out = mg.tensor(values).cumsum(0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, np.cumsum(values, dtype=np.float64).astype(np.float32))


def test_result_dtypes_are_pytorchs() -> None:
    ints = mg.tensor(np.array([[1, 2], [3, 4]], np.int32))
    assert ints.cumsum(0).dtype == np.int64 and ints.prod().dtype == np.int64
    assert mg.tensor([True, False]).cumprod(0).dtype == np.int64
    assert ints.logsumexp(1).dtype == np.float32 and ints.norm().dtype == np.float32
    assert ints.any().dtype == np.bool_ and mg.count_nonzero(ints).dtype == np.int64
    assert mg.zeros(0, 2).all(0).data.tolist() == [True, True]
    assert mg.zeros(0, 2).any(0).data.tolist() == [False, False]
    np.testing.assert_array_equal(mg.zeros(0, 2).prod(0).data, [1.0, 1.0])


@pytest.mark.parametrize(("call", "message"), [
    (lambda x: x.cumsum(2), r"cumsum: dim 2 is out of range for a tensor of shape \(2, 3\)"),
    (lambda x: mg.cumprod(x, -3), r"cumprod: dim -3 is out of range .* shape \(2, 3\)"),
    (lambda x: x.prod(5), r"prod: dim 5 is out of range .* shape \(2, 3\)"),
    (lambda x: x.logsumexp((0, 2)), r"logsumexp: dim 2 is out of range .* shape \(2, 3\)"),
    (lambda x: x.norm("nuc"), r"norm: p='nuc' is not supported"),
    (lambda x: x.any(4), r"any: dim 4 is out of range .* shape \(2, 3\)"),
])
def test_bad_arguments_are_named(call, message) -> None:
    with pytest.raises((IndexError, TypeError, ValueError), match=message):
        call(mg.zeros(2, 3))


def test_jit_products_scans_and_norms_equal_eager() -> None:
    def f(x, n):
        loss = (x.prod(1).sum() + x.cumprod(0).sum() + (x.cumsum(1) ** 2).sum()
                + mg.logsumexp(x, 0).sum() + x.norm() + mg.linalg.vector_norm(x, 3, 1).sum()
                + (x.cummax(1).values ** 2).sum() + x.logcumsumexp(1).sum())
        (grad,) = mg.grad(loss, [x])
        return (grad, x.prod(), n.cumsum(1), x.any(1), x.all(0), mg.count_nonzero(x, 1),
                x.cummin(0).indices, n.cummax(1).indices)

    data = ONE_ZERO.copy()
    ints = np.array([[3, -1, 2], [0, 5, 7]])
    eager = f(mg.tensor(data, requires_grad=True), mg.tensor(ints))
    compiled = jit(f)(mg.tensor(data, requires_grad=True), mg.tensor(ints))
    for e, c in zip(eager, compiled, strict=True):
        assert e.dtype == c.dtype and e.shape == c.shape
        np.testing.assert_allclose(c.data, e.data, rtol=1e-12)


# ---------------------------------------------------------------- sort, argsort, topk
TIED = np.array([[1.0, 3.0, 3.0, 2.0, 3.0, 1.0], [0.5, 0.5, -1.0, 0.5, 2.0, -1.0]])


@pytest.mark.parametrize("fn", [
    lambda x: x.sort(1).values, lambda x: mg.sort(x, 0, descending=True)[0],
    lambda x: x.topk(2, 1).values, lambda x: mg.topk(x, 3, dim=-1, largest=False).values,
], ids=["sort", "sort_descending", "topk", "topk_smallest"])
def test_sorted_values_gradients_order_1_and_2(fn) -> None:
    assert mg.gradcheck(lambda x: mg.tanh(fn(x)), [DISTINCT[1]], order=1)
    assert mg.gradcheck(lambda x: mg.tanh(fn(x)), [DISTINCT[1]], order=2, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("fn", [
    lambda x: x.median(1).values, lambda x: x.median(), lambda x: x.kthvalue(2, 0)[0],
    lambda x: mg.nanmedian(x, -1).values, lambda x: x.nanmean(1), lambda x: mg.nansum(x, 0),
    lambda x: x.quantile(0.3, 1), lambda x: mg.quantile(x, mg.tensor([0.2, 0.9]).double()),
    lambda x: x.nanquantile(0.7, 0, interpolation="midpoint"),
], ids=["median_dim", "median_all", "kthvalue", "nanmedian", "nanmean", "nansum", "quantile",
        "quantile_levels", "nanquantile_midpoint"])
def test_order_statistics_gradients_order_1_and_2(fn) -> None:
    assert mg.gradcheck(lambda x: mg.tanh(fn(x)), [DISTINCT[1]], order=1)
    assert mg.gradcheck(lambda x: mg.tanh(fn(x)), [DISTINCT[1]], order=2, atol=1e-4, rtol=1e-3)


def test_topk_with_ties_agrees_with_pytorch_on_values() -> None:
    """Which of several tied positions topk picks is PyTorch's kernel's choice (it gave
    [2, 4, 1] for the three 3s); the values agree, and the indices point at them."""
    torch = pytest.importorskip("torch")
    for largest in (True, False):
        ours = mg.tensor(TIED).topk(3, 1, largest=largest)
        theirs = torch.tensor(TIED).topk(3, 1, largest=largest)
        np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())
        np.testing.assert_array_equal(np.take_along_axis(TIED, ours.indices.data, 1),
                                      ours.values.data)


def test_sort_gradient_goes_where_each_value_came_from() -> None:
    x = mg.tensor(TIED, requires_grad=True)
    values, indices = x.sort(1, descending=True)
    (values * mg.tensor(np.arange(6.0))).sum().backward()
    expected = np.zeros_like(TIED)
    np.put_along_axis(expected, indices.data, np.broadcast_to(np.arange(6.0), (2, 6)), 1)
    np.testing.assert_array_equal(x.grad.data, expected)
    assert not indices.requires_grad and indices.dtype == np.int64


@pytest.mark.parametrize(("call", "message"), [
    (lambda x: x.sort(2), r"argsort: dim 2 is out of range for a tensor of shape \(2, 3\)"),
    (lambda x: mg.argsort(x, -3), r"argsort: dim -3 is out of range .* shape \(2, 3\)"),
    (lambda x: x.topk(4), r"topk: k=4 must be an integer in \[0, 3\] .* shape \(2, 3\)"),
    (lambda x: x.topk(-1, 0), r"topk: k=-1 must be an integer in \[0, 2\]"),
    (lambda x: x.topk(1, 2), r"topk: dim 2 is out of range .* shape \(2, 3\)"),
    (lambda x: x.kthvalue(4), r"kthvalue: k=4 must be an integer in \[1, 3\] .* shape \(2, 3\)"),
    (lambda x: mg.median(x, 2), r"median: dim 2 is out of range .* shape \(2, 3\)"),
    (lambda x: mg.zeros(0).median(), r"median: the median of an empty tensor is undefined"),
    (lambda x: x.nanmedian(keepdim=True), r"nanmedian: keepdim needs a dim"),
    (lambda x: x.quantile(1.5), r"quantile: q must be in the range \[0, 1\] but got 1.5"),
    (lambda x: x.long().quantile(0.5), r"quantile: input must be floating point, got .*int64"),
    (lambda x: x.quantile(0.5, 1, interpolation="cubic"), r"quantile: interpolation must"),
    (lambda x: x.nanquantile(0.5, 3), r"nanquantile: dim 3 is out of range .* \(2, 3\)"),
])
def test_bad_sort_arguments_are_named(call, message) -> None:
    with pytest.raises((IndexError, TypeError, ValueError), match=message):
        call(mg.zeros(2, 3))


@pytest.mark.filterwarnings("ignore:invalid value encountered")  # -inf - -inf in a quantile
def test_jit_sorting_equals_eager() -> None:
    def f(x):
        values, indices = x.sort(1)
        top = mg.topk(x, 2, dim=0, largest=False)
        middle = x.median(1)
        loss = ((values * values).sum() + mg.tanh(top.values).sum() + middle.values.sum()
                + x.nanmedian(0).values.sum() + x.median() + x.nanmean(1).sum()
                + x.quantile(0.3, 1).sum() + x.nanquantile(0.6, 0).sum())
        (grad,) = mg.grad(loss, [x])
        return (values, indices, x.argsort(-1, descending=True), top.indices, grad,
                middle.indices, x.kthvalue(2, 0).indices)

    data = np.array([[0.5, np.nan, -1.0, 0.5], [2.0, -np.inf, 0.5, 2.0], [1.0, 0.0, 3.0, -2.0]])
    eager = f(mg.tensor(data, requires_grad=True))
    compiled = jit(f)(mg.tensor(data, requires_grad=True))
    for e, c in zip(eager, compiled, strict=True):
        assert e.dtype == c.dtype and e.shape == c.shape
        np.testing.assert_allclose(c.data, e.data, rtol=1e-12, equal_nan=True)
