"""Every primitive, driven by the op table: shape rules, gradients of order 1 and 2 against
finite differences, and values/gradients against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops
from minigrad.testing.op_samples import NON_DIFFERENTIABLE, SAMPLES


def _cases(table: dict) -> list:
    return [
        pytest.param(name, fn, inputs, id=f"{name}-{k}")
        for name, samples in table.items()
        for k, (fn, inputs) in enumerate(samples)
    ]


def test_every_op_has_samples() -> None:
    """A new row in the op table must come with sample calls (minigrad/testing/op_samples.py)."""
    missing = [
        name for name, op in mg.OPS.items()
        if name not in (SAMPLES if op.differentiable else NON_DIFFERENTIABLE)
    ]
    assert not missing, f"ops without samples: {missing}"


def _called_ops(fn, inputs) -> set[str]:
    leaves = [mg.tensor(a, requires_grad=True) for a in inputs]
    out = fn(*leaves)
    return {node.op.name for node in mg.topological_order([out]) if node.op is not None}


@pytest.mark.parametrize(("name", "fn", "inputs"), _cases(SAMPLES))
def test_sample_uses_its_op(name, fn, inputs) -> None:
    assert name in _called_ops(fn, inputs)


@pytest.mark.parametrize(("name", "fn", "inputs"), _cases({**SAMPLES, **NON_DIFFERENTIABLE}))
def test_shape_rule_matches_forward(name, fn, inputs) -> None:
    leaves = [mg.tensor(a) for a in inputs]
    with mg._state.recording():
        out = fn(*leaves)
    for node in mg.topological_order([out]):
        if node.op is None:
            continue
        predicted = node.op.shape(*(t.shape for t in node.inputs), **node.attrs)
        assert tuple(predicted) == node.shape, node.op.name


@pytest.mark.parametrize(("name", "fn", "inputs"), _cases(SAMPLES))
def test_gradient_order_1(name, fn, inputs) -> None:
    assert mg.gradcheck(fn, inputs, order=1)


@pytest.mark.parametrize(("name", "fn", "inputs"), _cases(SAMPLES))
def test_gradient_order_2(name, fn, inputs) -> None:
    assert mg.gradcheck(fn, inputs, order=2, atol=1e-4, rtol=1e-3)


def test_gradcheck_catches_a_wrong_rule() -> None:
    """The checker itself can fail: break tanh's VJP and it must raise."""
    broken = ops.Op("tanh", ops.ELEMENTWISE, 1, np.tanh, lambda s: s,
                    lambda g, out, x: (ops.mul(g, out),))
    with pytest.raises(AssertionError, match="finite differences"):
        mg.gradcheck(lambda x: ops.apply(broken, x), [np.linspace(-1, 1, 5)], order=1)


# ----------------------------------------------------------------------- PyTorch parity
def _torch_cases():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal(4)
    p = rng.uniform(0.5, 2.0, (3, 4))
    return torch, [
        ("add", ops.add, torch.add, [a, b]),
        ("sub", ops.sub, torch.sub, [a, b]),
        ("mul", ops.mul, torch.mul, [a, b]),
        ("div", ops.div, torch.div, [a, p]),
        ("maximum", ops.maximum, torch.maximum, [a, np.round(a, 0)]),
        ("pow3", lambda x: x ** 3, lambda x: x ** 3, [a]),
        ("sqrt", ops.sqrt, torch.sqrt, [p]),
        ("reciprocal", ops.reciprocal, torch.reciprocal, [p]),
        ("exp", ops.exp, torch.exp, [a]),
        ("log", ops.log, torch.log, [p]),
        ("tanh", ops.tanh, torch.tanh, [a]),
        ("sigmoid", ops.sigmoid, torch.sigmoid, [a * 30]),
        ("relu", ops.relu, tf.relu, [np.array([-1.0, 0.0, 0.0, 2.0])]),
        ("sum", lambda x: ops.sum(x, 1, keepdims=True), lambda x: x.sum(1, keepdim=True), [a]),
        ("mean", lambda x: ops.mean(x, 0), lambda x: x.mean(0), [a]),
        ("amax", lambda x: ops.max(x, 1), lambda x: torch.amax(x, 1),
         [np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]])]),
        ("matmul", ops.matmul, torch.matmul, [a, rng.standard_normal((4, 2))]),
        ("transpose", lambda x: x.T, lambda x: x.T, [a]),
        ("index", lambda x: x[1:, ::2], lambda x: x[1:, ::2], [a]),
        ("gather", lambda x: ops.gather(x, mg.tensor([[0, 0], [2, 1], [3, 3]]), 1),
         lambda x: torch.gather(x, 1, torch.tensor([[0, 0], [2, 1], [3, 3]])), [a]),
        ("var", lambda x: ops.var(x, 0, correction=1), lambda x: torch.var(x, 0), [a]),
        ("abs", lambda x: x.abs(), torch.abs, [np.array([-2.0, 0.0, 3.0])]),
    ]


def test_values_and_gradients_match_pytorch() -> None:
    torch, cases = _torch_cases()
    for label, mg_fn, torch_fn, arrays in cases:
        mine = [mg.tensor(x, requires_grad=True) for x in arrays]
        theirs = [torch.tensor(x, requires_grad=True) for x in arrays]
        out_mine, out_theirs = mg_fn(*mine), torch_fn(*theirs)
        np.testing.assert_allclose(out_mine.numpy(), out_theirs.detach().numpy(),
                                   rtol=1e-12, atol=1e-12, err_msg=label)
        weights = np.random.default_rng(0).standard_normal(out_mine.shape)
        (out_mine * mg.tensor(weights)).sum().backward()
        (out_theirs * torch.tensor(weights)).sum().backward()
        for m, t in zip(mine, theirs, strict=True):
            np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-12,
                                       atol=1e-12, err_msg=label)


def test_relu_gradient_at_zero_is_zero() -> None:
    x = mg.tensor([0.0, -0.0, 1e-30, -1e-30], requires_grad=True)
    x.relu().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, 0.0]


def test_sigmoid_is_stable_at_large_inputs() -> None:
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        values = mg.sigmoid(mg.tensor([-1000.0, -20.0, 0.0, 20.0, 1000.0], dtype="float64"))
    expected = 1.0 / (1.0 + np.exp(-np.array([-700.0, -20.0, 0.0, 20.0, 700.0])))
    np.testing.assert_allclose(values.numpy()[1:4], expected[1:4], rtol=1e-15)
    assert values.numpy()[0] == 0.0 and values.numpy()[-1] == 1.0


def test_unbroadcast_sums_exactly_the_broadcast_axes() -> None:
    g = mg.tensor(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(ops.unbroadcast(g, (3, 1)).numpy(),
                                  np.arange(24.0).reshape(2, 3, 4).sum(axis=(0, 2))[:, None])
    np.testing.assert_array_equal(ops.unbroadcast(g, (4,)).numpy(),
                                  np.arange(24.0).reshape(2, 3, 4).sum(axis=(0, 1)))
    assert ops.unbroadcast(g, (2, 3, 4)) is g
