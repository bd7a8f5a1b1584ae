"""numpy's protocols on Tensor (issue 15 §1/§2): numpy functions and ufuncs called on
tensors run minigrad's function of that name and keep the graph (values and gradients
equal to calling minigrad directly, values equal to numpy's); a numpy function minigrad
lacks raises a TypeError naming it instead of returning an array that drops the graph."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

_rng = np.random.default_rng(11)
X = _rng.uniform(0.5, 2.0, (2, 3))
Y = _rng.standard_normal((2, 3))

# (id, numpy call, minigrad call)
CALLS = [
    ("exp", np.exp, mg.exp),
    ("sqrt", np.sqrt, mg.sqrt),
    ("log", np.log, mg.log),
    ("tanh", np.tanh, mg.tanh),
    ("negative", np.negative, lambda x: -x),
    ("add-scalar", lambda x: np.add(x, 1), lambda x: x + 1),
    ("multiply-array", lambda x: np.multiply(np.arange(3.0), x), lambda x: x * mg.arange(3.0)),
    ("subtract-left", lambda x: np.float64(2.0) - x, lambda x: 2.0 - x),
    ("divide", lambda x: np.divide(x, Y), lambda x: x / mg.tensor(Y)),
    ("power", lambda x: np.power(x, 3), lambda x: x ** 3),
    ("matmul", lambda x: np.arange(4.0).reshape(2, 2) @ x,
     lambda x: mg.tensor(np.arange(4.0).reshape(2, 2)) @ x),
    ("maximum", lambda x: np.maximum(x, 1.0), lambda x: mg.maximum(x, 1.0)),
    ("sum", lambda x: np.sum(x, axis=0), lambda x: x.sum(0)),
    ("sum-keepdims", lambda x: np.sum(x, axis=1, keepdims=True), lambda x: x.sum(1, True)),
    ("mean", np.mean, lambda x: x.mean()),
    ("var", lambda x: np.var(x, axis=1, ddof=1), lambda x: x.var(1, correction=1)),
    ("std", lambda x: np.std(x, axis=0), lambda x: x.std(0, correction=0)),  # numpy: ddof 0
    ("max", lambda x: np.max(x, axis=1), lambda x: x.amax(1)),
    ("concatenate", lambda x: np.concatenate([x, x * 2]), lambda x: mg.cat([x, x * 2])),
    ("concatenate-axis", lambda x: np.concatenate([x, Y], axis=1),
     lambda x: mg.cat([x, mg.tensor(Y)], 1)),
    ("stack", lambda x: np.stack([x, x], axis=-1), lambda x: mg.stack([x, x], -1)),
    ("transpose", np.transpose, lambda x: x.T),
    ("reshape", lambda x: np.reshape(x, (3, 2)), lambda x: x.reshape(3, 2)),
    ("expand_dims", lambda x: np.expand_dims(x, 1), lambda x: x.unsqueeze(1)),
    ("moveaxis", lambda x: np.moveaxis(x, 0, 1), lambda x: x.movedim(0, 1)),
    ("where", lambda x: np.where(x > 1, x, 0.0), lambda x: mg.where(x > 1, x, 0.0)),
    ("einsum", lambda x: np.einsum("ij,kj->ik", x, x), lambda x: mg.einsum("ij,kj->ik", x, x)),
    ("tensordot", lambda x: np.tensordot(x, Y.T, axes=1), lambda x: mg.tensordot(x, Y.T, 1)),
    ("roll", lambda x: np.roll(x, 1, axis=1), lambda x: x.roll(1, 1)),
    ("flip", lambda x: np.flip(x, 0), lambda x: x.flip(0)),
    ("tril", np.tril, lambda x: x.tril()),
    ("trace", np.trace, mg.trace),
]


@pytest.mark.parametrize(("np_call", "mg_call"), [pytest.param(*c[1:], id=c[0]) for c in CALLS])
def test_numpy_call_keeps_the_graph(np_call, mg_call) -> None:
    x = mg.tensor(X, requires_grad=True)
    out = np_call(x)
    assert isinstance(out, mg.Tensor) and out.requires_grad
    np.testing.assert_allclose(out.numpy(), np_call(X), rtol=1e-12)  # numpy's own answer
    direct = mg_call(x)
    np.testing.assert_array_equal(out.numpy(), direct.numpy())
    (got,) = mg.grad(out.sum(), [x])
    (want,) = mg.grad(direct.sum(), [x])
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize(("call", "named"), [
    (lambda x: np.ldexp(x, 2), "numpy.ldexp"),
    (np.histogram, "numpy.histogram"),
    (np.unique, "numpy.unique"),
    (np.add.reduce, "numpy.add.reduce"),
    (lambda x: np.exp(x, out=np.empty((2, 3))), "numpy.exp"),
    (lambda x: np.add.outer(x, x), "numpy.add.outer"),
])
def test_numpy_without_a_minigrad_function_is_refused(call, named) -> None:
    with pytest.raises(TypeError, match=f"{named} is not supported on minigrad tensors"):
        call(mg.tensor(X, requires_grad=True))


def test_functions_are_looked_up_when_called(monkeypatch) -> None:
    """A function added to minigrad later (by name) is what numpy's call runs."""
    x = mg.tensor(X)
    with pytest.raises(TypeError, match=r"numpy\.spacing"):
        np.spacing(x)
    monkeypatch.setattr(mg, "spacing", lambda t: t * 0 + 1, raising=False)
    assert np.spacing(x).tolist() == [[1.0] * 3] * 2


def test_queries_answer_on_the_values() -> None:
    x = mg.tensor(X)
    assert np.shape(x) == (2, 3) and np.ndim(x) == 2 and np.size(x) == 6
    assert np.allclose(x, X) and np.array_equal(x, X)
    assert np.asarray(x) is x.numpy()
