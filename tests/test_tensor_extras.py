"""mm, bmm, mv, addmm, narrow, select, tile, vstack/hstack/column_stack, broadcast_tensors,
meshgrid, repeat_interleave, diff, take (minigrad/tensor_extras.py).

Values against numpy's namesakes (np.tile, np.vstack, np.meshgrid, np.repeat, np.diff,
np.take, ...: written independently of minigrad) and against PyTorch 2.13 live; gradients
to second order by finite differences; one mg.jit function of all of them equals eager.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

R = np.random.default_rng(0)
A, B, V = R.standard_normal((3, 4)), R.standard_normal((4, 2)), R.standard_normal(4)
C, D = R.standard_normal((2, 3, 4)), R.standard_normal((2, 4, 5))
IDX = np.array([[0, -1], [5, 2]])

# name -> (minigrad call, numpy reference, torch call of the same meaning)
CASES = {
    "mm": (lambda: mg.mm(A, B), lambda: A @ B, lambda t: t.mm(t.tensor(A), t.tensor(B))),
    "bmm": (lambda: mg.bmm(C, D), lambda: C @ D, lambda t: t.bmm(t.tensor(C), t.tensor(D))),
    "mv": (lambda: mg.tensor(A).mv(V), lambda: A @ V, lambda t: t.mv(t.tensor(A), t.tensor(V))),
    "addmm": (lambda: mg.addmm(np.ones(2), A, B, beta=0.5, alpha=2.0),
              lambda: 0.5 + 2.0 * (A @ B),
              lambda t: t.addmm(t.ones(2, dtype=t.float64), t.tensor(A), t.tensor(B), beta=0.5,
                                alpha=2.0)),
    "narrow": (lambda: mg.tensor(C).narrow(2, -3, 2), lambda: C[:, :, 1:3],
               lambda t: t.tensor(C).narrow(2, -3, 2)),
    "select": (lambda: mg.tensor(C).select(1, -1), lambda: C[:, -1],
               lambda t: t.tensor(C).select(1, -1)),
    "tile": (lambda: mg.tile(V, (2, 1, 3)), lambda: np.tile(V, (2, 1, 3)),
             lambda t: t.tile(t.tensor(V), (2, 1, 3))),
    "vstack": (lambda: mg.vstack([V, V]), lambda: np.vstack([V, V]),
               lambda t: t.vstack([t.tensor(V), t.tensor(V)])),
    "hstack": (lambda: mg.hstack([A, A]), lambda: np.hstack([A, A]),
               lambda t: t.hstack([t.tensor(A), t.tensor(A)])),
    "column_stack": (lambda: mg.column_stack([A, V[:3]]), lambda: np.column_stack([A, V[:3]]),
                     lambda t: t.column_stack([t.tensor(A), t.tensor(V[:3])])),
    "meshgrid-xy": (lambda: mg.meshgrid(V, V[:3], indexing="xy")[0],
                    lambda: np.meshgrid(V, V[:3], indexing="xy")[0],
                    lambda t: t.meshgrid(t.tensor(V), t.tensor(V[:3]), indexing="xy")[0]),
    "meshgrid-ij": (lambda: mg.meshgrid(V, V[:3], V[:2], indexing="ij")[1],
                    lambda: np.meshgrid(V, V[:3], V[:2], indexing="ij")[1],
                    lambda t: t.meshgrid(t.tensor(V), t.tensor(V[:3]), t.tensor(V[:2]),
                                         indexing="ij")[1]),
    "broadcast_tensors": (lambda: mg.broadcast_tensors(A, V)[1],
                          lambda: np.broadcast_arrays(A, V)[1],
                          lambda t: t.broadcast_tensors(t.tensor(A), t.tensor(V))[1]),
    "repeat_interleave": (lambda: mg.repeat_interleave(A, np.array([1, 0, 2]), dim=0),
                          lambda: np.repeat(A, [1, 0, 2], axis=0),
                          lambda t: t.repeat_interleave(t.tensor(A), t.tensor([1, 0, 2]),
                                                        dim=0)),
    "repeat_interleave-flat": (lambda: mg.tensor(A).repeat_interleave(2),
                               lambda: np.repeat(A, 2),
                               lambda t: t.tensor(A).repeat_interleave(2)),
    "diff": (lambda: mg.diff(A, n=2, dim=0), lambda: np.diff(A, n=2, axis=0),
             lambda t: t.diff(t.tensor(A), n=2, dim=0)),
    "take": (lambda: mg.tensor(A).take(IDX), lambda: np.take(A, IDX),
             lambda t: t.tensor(A).take(t.tensor(IDX))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_equal_numpy_and_torch(name: str) -> None:
    mine, numpy_ref, torch_call = CASES[name]
    got = mine().numpy()
    np.testing.assert_allclose(got, numpy_ref(), rtol=1e-14, atol=1e-15)
    assert got.shape == np.shape(numpy_ref())
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(got, torch_call(torch).numpy(), rtol=1e-14, atol=1e-15)


GRADIENT_CASES = {
    "mm": mg.mm,
    "bmm": lambda a, b: mg.bmm(a.reshape(1, 3, 4), b.reshape(1, 4, 2)),
    "mv-addmm": lambda a, b: mg.addmm(b[0], a, b, beta=0.5, alpha=-1.5) + mg.mv(a, b[:, 0]
                                                                                 ).unsqueeze(1),
    "narrow-select": lambda a, b: a.narrow(1, 1, 2) * a.select(0, -1)[1:3],
    "tile-stacks": lambda a, b: (mg.tile(a, (2, 1)).sum() + mg.vstack([a, b.T]).sum(0)[:2]
                                 * mg.hstack([b[:, 0], b[:, 1]]).sum()),
    "meshgrid-repeat-diff-take": lambda a, b: (
        mg.meshgrid(a[0], b[:, 1])[0] * mg.repeat_interleave(a[1], 2)[:4, None]
        + mg.diff(a, dim=1).sum() + a.take(mg.tensor(np.array([[1, -2]]))).sum()),
}


@pytest.mark.parametrize("name", sorted(GRADIENT_CASES))
def test_gradients_to_second_order(name: str) -> None:
    fn = GRADIENT_CASES[name]
    assert mg.gradcheck(fn, [A, B], order=1)
    assert mg.gradcheck(lambda a, b: (fn(a, b) ** 2).sum(), [A, B], order=2)


def test_jit_equals_eager() -> None:
    def everything(a: mg.Tensor, b: mg.Tensor) -> tuple:
        total = sum((GRADIENT_CASES[name](a, b) ** 2).sum() for name in sorted(GRADIENT_CASES))
        return (total, *mg.grad(total, [a, b]))

    a = mg.tensor(A, requires_grad=True)
    b = mg.tensor(B, requires_grad=True)
    eager = everything(a, b)
    compiled = mg.jit(everything)
    compiled(a, b)
    jitted = compiled(a, b)
    for x, y in zip(eager, jitted, strict=True):
        np.testing.assert_allclose(y.numpy(), x.numpy(), rtol=1e-12)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: mg.mm(A, V), ValueError, r"mm: expected a 2-D tensor, got shape \(4,\)"),
    (lambda: mg.bmm(C, D[:1]), ValueError, "bmm: batch sizes differ"),
    (lambda: mg.narrow(A, 1, 3, 2), IndexError, "do not fit in dim 1 of size 4"),
    (lambda: mg.select(A, 0, 3), IndexError, "index 3 is out of range for dim 0 of size 3"),
    (lambda: mg.repeat_interleave(A, [1, 2], dim=0), ValueError, "2 repeats for a dim of size 3"),
    (lambda: mg.take(A, np.array([12])), IndexError, "out of range for 12 elements"),
    (lambda: mg.broadcast_tensors(A, B), ValueError, r"\(3, 4\), \(4, 2\) do not broadcast"),
    (lambda: mg.meshgrid(A, V), ValueError, "expected 0-d or 1-D tensors"),
])
def test_bad_input_is_named(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()
