"""gather with an index smaller than the input along the other axes, and reductions over
dim 0 / -1 of a 0-d tensor: PyTorch 2.13 accepts both (minigrad refused them)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops

X = np.arange(12.0).reshape(3, 4) * 0.5 - 1.0
IDX = np.array([[0, 3], [2, 1]])  # (2, 2): smaller than X along axis 0
# torch.gather(torch.tensor(X), 1, torch.tensor(IDX)) in PyTorch 2.13
EXPECTED = np.array([[-1.0, 0.5], [2.0, 1.5]])


def test_gather_reads_the_leading_part_of_the_other_axes() -> None:
    x = mg.tensor(X, requires_grad=True)
    out = ops.gather(x, mg.tensor(IDX), 1)
    np.testing.assert_array_equal(out.data, EXPECTED)
    (g,) = mg.grad(ops.sum(ops.mul(out, out)), [x])
    want = np.zeros_like(X)
    np.add.at(want, (np.array([[0, 0], [1, 1]]), IDX), 2 * EXPECTED)
    np.testing.assert_array_equal(g.data, want)
    assert mg.gradcheck(lambda t: ops.gather(t, mg.tensor(IDX), 1), [X], order=2)


def test_gather_against_live_pytorch() -> None:
    torch = pytest.importorskip("torch")
    want = torch.gather(torch.tensor(X), 1, torch.tensor(IDX)).numpy()
    np.testing.assert_array_equal(want, EXPECTED)
    for axis, idx in ((0, np.array([[2, 0], [1, 2]])), (1, np.array([[3], [0], [1]]))):
        got = ops.gather(mg.tensor(X), mg.tensor(idx), axis).data
        np.testing.assert_array_equal(
            got, torch.gather(torch.tensor(X), axis, torch.tensor(idx)).numpy())


def test_gather_refuses_an_index_larger_than_the_input() -> None:
    with pytest.raises(ValueError, match=r"larger than the input \(3, 4\) along axis 0"):
        ops.gather(mg.tensor(X), mg.tensor(np.zeros((4, 2), np.int64)), 1)


def test_jit_gather_with_a_smaller_index_equals_eager() -> None:
    def f(x, idx):
        return mg.grad(ops.sum(ops.exp(ops.gather(x, idx, 1))), [x])[0]

    fn = mg.jit(f)
    for idx in (IDX, np.array([[1, 1], [3, 0]]), IDX):  # the trace, then the kernel
        args = (mg.tensor(X, requires_grad=True), mg.tensor(idx))
        np.testing.assert_allclose(fn(*args).data, f(*args).data, rtol=1e-12)


@pytest.mark.parametrize("axis", [0, -1, (0,), (-1,)])
def test_reductions_of_a_0d_tensor_over_dim_0_or_minus_1(axis) -> None:
    """torch.tensor(3.).sum(-1) is tensor(3.) (minigrad said the axis was out of range)."""
    x = mg.tensor(3.0, requires_grad=True)
    for reduce in (ops.sum, ops.mean, ops.max):
        out = reduce(x, axis)
        assert out.shape == () and float(out.data) == 3.0
        (g,) = mg.grad(out, [x])
        assert float(g.data) == 1.0
    with pytest.raises(ValueError, match="axis 1 is out of range"):
        ops.sum(x, 1)
