"""The eager hot path's shortcuts give what the plain definitions give.

Topological order against a recursive depth-first reference, the remembered shape and axis
rules against repeated bad calls, the reductions against numpy's own mean and sum.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops
from minigrad.autodiff import topological_order


def _recursive_order(roots):
    order, seen = [], set()

    def visit(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        for parent in node.inputs:
            visit(parent)
        order.append(node)

    for root in roots:
        visit(root)
    return order


@pytest.mark.parametrize("seed", range(8))
def test_topological_order_matches_the_recursive_definition(seed):
    rng = np.random.default_rng(seed)
    nodes = [mg.tensor(rng.standard_normal(3), requires_grad=True) for _ in range(3)]
    for _ in range(25):
        picks = rng.integers(0, len(nodes), size=rng.integers(1, 4))
        a = nodes[picks[0]]
        b = nodes[picks[-1]]
        nodes.append(ops.mul(a, b) if len(picks) % 2 else ops.add(a, ops.neg(b)))
    roots = [nodes[-1], nodes[len(nodes) // 2], nodes[-1]]
    assert [id(n) for n in topological_order(roots)] == [id(n) for n in _recursive_order(roots)]


def test_topological_order_of_a_deep_chain():
    x = mg.tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(5000):
        y = ops.neg(y)
    order = topological_order([y])
    assert len(order) == 5001 and order[0] is x and order[-1] is y


def test_bad_broadcast_raises_every_time():
    a, b = mg.tensor(np.ones((2, 3))), mg.tensor(np.ones((4,)))
    for _ in range(2):
        with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be"):
            ops.add(a, b)
    assert ops.add(a, mg.tensor(np.ones(3))).shape == (2, 3)
    assert ops.mul(mg.tensor(np.ones((4, 1))), a[0]).shape == (4, 3)


def test_bad_axis_raises_every_time():
    x = mg.tensor(np.ones((2, 3)))
    for _ in range(2):
        with pytest.raises(ValueError, match="axis 2 is out of range"):
            ops.sum(x, 2)
        with pytest.raises(ValueError, match="repeated axis"):
            ops.sum(x, (1, -1))
    assert ops.sum(x, -1).shape == (2,)
    assert ops.sum(x, (np.int64(1), 0)).shape == ()
    assert ops.mean(x, [1]).shape == (2,)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("axes", [(0,), (1,), (0, 2), (0, 1, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_are_numpys_mean_and_sum_with_the_wide_accumulator(dtype, axes, keepdims):
    x = (np.random.default_rng(3).standard_normal((5, 4, 3)) + 100).astype(dtype)
    wide = np.float64
    want_mean = np.asarray(np.mean(x, axis=axes, keepdims=keepdims, dtype=wide)).astype(dtype)
    want_sum = np.asarray(np.sum(x, axis=axes, keepdims=keepdims, dtype=wide)).astype(dtype)
    got_mean = ops.mean(mg.tensor(x), axes, keepdims=keepdims).data
    got_sum = ops.sum(mg.tensor(x), axes, keepdims=keepdims).data
    assert got_mean.dtype == want_mean.dtype and got_sum.dtype == want_sum.dtype
    np.testing.assert_array_equal(got_mean, want_mean)
    np.testing.assert_array_equal(got_sum, want_sum)


def test_integer_mean_is_numpys():
    x = np.arange(12).reshape(3, 4)
    got = ops.mean(mg.tensor(x), 0).data
    np.testing.assert_array_equal(got, np.mean(x, axis=0))
    assert got.dtype == np.mean(x, axis=0).dtype


def test_python_number_constants_are_fresh_leaves_of_the_tensors_dtype():
    x = mg.tensor(np.ones(3, np.float64), requires_grad=True)
    y = x * 2.0
    constant = y.inputs[1]
    assert constant.is_leaf and not constant.requires_grad
    assert constant.dtype == np.float64 and constant.shape == ()
    assert (x * 2.0).inputs[1] is not constant
    assert constant.data is not (x * 2.0).inputs[1].data
