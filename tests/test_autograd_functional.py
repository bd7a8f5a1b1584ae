"""mg.autograd.functional against torch.autograd.functional (live, float64): jacobian,
hessian, vjp, jvp, hvp, vhp on tensor and tuple inputs/outputs, to 1e-12; results stay
differentiable with create_graph (checked against finite differences); errors name shapes."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import functional as AF

torch = pytest.importorskip("torch")
TF = torch.autograd.functional
TOL = {"rtol": 1e-12, "atol": 1e-12}
RNG = np.random.default_rng(0)
W = RNG.standard_normal((3, 4))
X0, Y0 = RNG.standard_normal(4), RNG.standard_normal((2, 3))
U, V3, W23 = RNG.standard_normal(4), RNG.standard_normal(3), RNG.standard_normal((2, 3))


def _lib(mod):
    """The same functions written once for both libraries."""
    tensor = mg.tensor if mod is mg else torch.tensor
    w = tensor(W)
    return {
        "vector": lambda x: mod.tanh(w @ x) * x.sum(),
        "scalar2": lambda x, y: (mod.tanh(y @ (w @ x)) ** 2).sum() + (x * x * x).sum(),
        "pair": lambda x, y: (w @ x * 2.0, y.sum(0) * x[:2].sum()),
    }


OURS, THEIRS = _lib(mg), _lib(torch)


def _args(*arrays, lib):
    make = mg.tensor if lib is mg else torch.tensor
    return tuple(make(a) for a in arrays)


def _same(ours, theirs):
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            _same(a, b)
        return
    assert isinstance(ours, mg.Tensor) and ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), **TOL)


CASES = [
    ("jacobian", "vector", (X0,), None, False),
    ("jacobian", "pair", (X0, Y0), None, True),
    ("hessian", "scalar2", (X0, Y0), None, True),
    ("vjp", "vector", (X0,), (V3,), False),
    ("vjp", "pair", (X0, Y0), (V3, W23[0]), True),
    ("jvp", "vector", (X0,), (U,), False),
    ("jvp", "pair", (X0, Y0), (U, W23), True),
    ("hvp", "scalar2", (X0, Y0), (U, W23), True),
    ("vhp", "scalar2", (X0, Y0), (U, W23), True),
]


@pytest.mark.parametrize(("name", "fn", "inputs", "v", "as_tuple"), CASES)
def test_equals_torch(name, fn, inputs, v, as_tuple):
    def call(lib, table, module):
        args = _args(*inputs, lib=lib)
        args = args if as_tuple else args[0]
        if v is None:
            return getattr(module, name)(table[fn], args)
        vs = _args(*v, lib=lib)
        return getattr(module, name)(table[fn], args, vs if as_tuple else vs[0])

    _same(call(mg, OURS, AF), call(torch, THEIRS, TF))


def test_hessian_of_one_tensor_and_create_graph_is_differentiable_again():
    x = mg.tensor(X0, requires_grad=True)
    y = mg.tensor(Y0)
    hess = AF.hessian(lambda a: OURS["scalar2"](a, y), x, create_graph=True)
    ref = TF.hessian(lambda a: THEIRS["scalar2"](a, torch.tensor(Y0)), torch.tensor(X0))
    np.testing.assert_allclose(hess.numpy(), ref.numpy(), **TOL)
    assert hess.requires_grad
    # d(sum of the Hessian)/dx: third derivatives, against central differences of it
    (third,) = mg.grad(hess.sum(), [x])
    h, numeric = 1e-5, np.zeros(4)
    for k in range(4):
        step = np.eye(4)[k] * h
        plus = AF.hessian(lambda a: OURS["scalar2"](a, y), mg.tensor(X0 + step)).numpy()
        minus = AF.hessian(lambda a: OURS["scalar2"](a, y), mg.tensor(X0 - step)).numpy()
        numeric[k] = (plus.sum() - minus.sum()) / (2 * h)
    np.testing.assert_allclose(third.numpy(), numeric, rtol=1e-6, atol=1e-7)


def test_results_are_new_leaves_without_create_graph():
    x = mg.tensor(X0, requires_grad=True)
    out, grad = AF.vjp(OURS["vector"], x, mg.tensor(V3))
    assert not out.requires_grad and not grad.requires_grad and grad.op is None


def test_an_unused_input_gives_zeros_or_an_error_with_strict():
    jac = AF.jacobian(lambda x, y: x * 2.0, (mg.tensor(X0), mg.tensor(Y0)))
    np.testing.assert_array_equal(jac[1].numpy(), np.zeros((4, 2, 3)))
    ref = TF.jacobian(lambda x, y: x * 2.0, (torch.tensor(X0), torch.tensor(Y0)))
    _same(jac, ref)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.jacobian(lambda x, y: x * 2.0, (mg.tensor(X0), mg.tensor(Y0)), strict=True)


def test_bad_vectors_and_outputs_are_errors_naming_shapes():
    with pytest.raises(RuntimeError, match=r"v\[0\] has shape \(4,\), the output's tensor 0 "
                                           r"has shape \(3,\)"):
        AF.vjp(OURS["vector"], mg.tensor(X0), mg.tensor(U))
    with pytest.raises(RuntimeError, match="v can only be None if the output is a single"):
        AF.vjp(OURS["vector"], mg.tensor(X0))
    with pytest.raises(RuntimeError, match=r"single-element Tensor, got shape \(3,\)"):
        AF.hvp(OURS["vector"], mg.tensor(X0), mg.tensor(U))
    with pytest.raises(TypeError, match=r"inputs\[1\] is a list"):
        AF.jacobian(OURS["pair"], (mg.tensor(X0), [1.0]))


def test_the_namespace():
    assert mg.autograd.grad is mg.grad
    assert mg.autograd.functional.jacobian is AF.jacobian
