"""mg.func (torch.func / JAX-style transforms over pytrees): gradients by dicts, lists,
tuples and named tuples, argnums, has_aux, nesting, against closed forms and against
torch.func live when torch imports; errors."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import minigrad as mg

try:
    import torch
    import torch.func
except ImportError:  # pragma: no cover
    torch = None

Pair = namedtuple("Pair", ["w", "b"])
RNG = np.random.default_rng(7)
A, B, C = RNG.standard_normal((3, 4)), RNG.standard_normal(4), RNG.standard_normal(2)


def _loss(lib, params, x):
    """sum(tanh(x @ W + b)) + sum(c ** 2) * 0.5, with params {'layer': Pair(W, b), 'c': [c]}."""
    layer = params["layer"]
    hidden = lib.tanh(x @ layer.w + layer.b)
    return hidden.sum() + (params["c"][0] ** 2).sum() * 0.5


def _params(lib):
    return {"layer": Pair(lib.tensor(A), lib.tensor(B)), "c": [lib.tensor(C)]}


def test_grad_by_a_pytree_keeps_its_structure_and_matches_the_closed_form() -> None:
    x = np.ones((2, 3))
    grads = mg.func.grad(lambda p: _loss(mg, p, mg.tensor(x)))(_params(mg))
    assert set(grads) == {"layer", "c"} and isinstance(grads["layer"], Pair)
    assert isinstance(grads["c"], list) and len(grads["c"]) == 1
    slope = 1 - np.tanh(x @ A + B) ** 2  # d tanh
    np.testing.assert_allclose(grads["layer"].w.numpy(), x.T @ slope, rtol=1e-12)
    np.testing.assert_allclose(grads["layer"].b.numpy(), slope.sum(0), rtol=1e-12)
    np.testing.assert_allclose(grads["c"][0].numpy(), C, rtol=1e-12)


@pytest.mark.skipif(torch is None, reason="torch not importable")
def test_grad_and_argnums_match_torch_func() -> None:
    x = RNG.standard_normal((2, 3))
    mine = mg.func.grad(lambda p, xx: _loss(mg, p, xx), argnums=(0, 1))(_params(mg),
                                                                         mg.tensor(x))
    theirs = torch.func.grad(lambda p, xx: _loss(torch, p, xx), argnums=(0, 1))(
        _params(torch), torch.tensor(x))
    np.testing.assert_allclose(mine[0]["layer"].w.numpy(), theirs[0]["layer"].w.numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(mine[0]["c"][0].numpy(), theirs[0]["c"][0].numpy(), rtol=1e-12)
    np.testing.assert_allclose(mine[1].numpy(), theirs[1].numpy(), rtol=1e-12)


def test_has_aux_and_value() -> None:
    def f(x):
        return (x ** 2).sum(), {"mean": x.mean()}

    x = mg.tensor([1.0, 2.0, 3.0], dtype="float64")
    grads, aux = mg.func.grad(f, has_aux=True)(x)
    np.testing.assert_allclose(grads.numpy(), [2.0, 4.0, 6.0])
    assert float(aux["mean"]) == 2.0
    grads, value = mg.func.grad_and_value(lambda x: (x ** 2).sum())(x)
    assert float(value) == 14.0 and not value.requires_grad
    value, grads = mg.func.value_and_grad(lambda x: (x ** 3).sum())(x)
    np.testing.assert_allclose(grads.numpy(), [3.0, 12.0, 27.0])


def test_nested_grads_are_higher_derivatives_without_perturbation_confusion() -> None:
    x = mg.tensor(1.5, dtype="float64")
    d3 = mg.func.grad(mg.func.grad(mg.func.grad(lambda t: t.sin())))(x)
    np.testing.assert_allclose(float(d3), -np.cos(1.5), rtol=1e-12)
    # d/dx [d/dy (x * y) at y = x] = d/dx x = 1 (2 if the two variables were confused)
    mixed = mg.func.grad(lambda t: mg.func.grad(lambda y: t * y)(t))(x)
    assert float(mixed) == 1.0
    # a gradient by a tensor that already requires grad keeps its graph
    w = mg.tensor([0.5, -1.0], dtype="float64", requires_grad=True)
    inner = mg.func.grad(lambda v: (v ** 3).sum())(w)
    assert inner.requires_grad
    inner.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 6 * w.numpy())


def test_numbers_and_arrays_are_differentiated_as_float_tensors() -> None:
    grads = mg.func.grad(lambda p: (p[0] * p[1]).sum())((2.0, np.array([1.0, 3.0])))
    assert isinstance(grads, tuple)
    assert float(grads[0]) == 4.0
    np.testing.assert_allclose(grads[1].numpy(), [2.0, 2.0])
    unused = mg.func.grad(lambda d: d["a"].sum())({"a": np.ones(2), "b": np.ones(3)})
    np.testing.assert_array_equal(unused["b"].numpy(), np.zeros(3))


def test_errors_name_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"one number to differentiate, got a tensor of shape "
                                         r"\(2,\)"):
        mg.func.grad(lambda x: x * 2)(mg.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="floating-point values, got a int of dtype int64"):
        mg.func.grad(lambda x: x * 2)(3)
    with pytest.raises(TypeError, match="floating-point tensors, got dtype int64"):
        mg.func.grad(lambda x: x.sum())(mg.tensor([1, 2]))
    with pytest.raises(ValueError, match="argnums 2 names argument 2 but the function got 1"):
        mg.func.grad(lambda x: x.sum(), argnums=2)(mg.tensor([1.0]))
    with pytest.raises(ValueError, match=r"has_aux=True\): the function must return a pair"):
        mg.func.grad(lambda x: x.sum(), has_aux=True)(mg.tensor([1.0]))


def test_a_gradient_depending_on_a_closed_over_variable_keeps_its_graph() -> None:
    """d/dy (x y) = x, closed over: differentiable by x (d/dx = 1); without such a
    variable the gradient is a new leaf."""
    x = mg.tensor(3.0, dtype="float64", requires_grad=True)
    inner = mg.func.grad(lambda y: x * y)(2.0)
    assert inner.requires_grad and float(inner) == 3.0
    (dx,) = mg.grad(inner, [x])
    assert float(dx) == 1.0
    alone = mg.func.grad(lambda y: y ** 2)(mg.tensor(2.0, dtype="float64"))
    assert not alone.requires_grad and alone.is_leaf and float(alone) == 4.0
