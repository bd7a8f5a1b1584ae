"""Core paths the other test files left uncovered (found with ``make test``'s coverage
report): reflected operators and tensor methods against numpy/PyTorch, tensor exponents,
create_graph accumulation, unreachable leaves, a faulty VJP, module utilities, and the
composed-vs-fused comparison table."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops
from minigrad.dtypes import result_float_dtype

try:
    import torch
except ImportError:
    torch = None

X = np.array([0.5, 1.5, 2.0])
Y = np.array([1.25, -0.5, 3.0])


def _pair(values: np.ndarray) -> tuple[mg.Tensor, object]:
    x = mg.tensor(values, requires_grad=True)
    xt = torch.tensor(values, requires_grad=True) if torch is not None else None
    return x, xt


REFLECTED = {
    "rsub": (lambda x: 2.0 - x, lambda x: 2.0 - x),
    "rtruediv": (lambda x: 3.0 / x, lambda x: 3.0 / x),
    "rtruediv-one": (lambda x: 1 / x, lambda x: 1 / x),
    "rpow": (lambda x: 2.0 ** x, lambda x: 2.0 ** x),
    "radd": (lambda x: 1.5 + x, lambda x: 1.5 + x),
    "rmul": (lambda x: 4.0 * x, lambda x: 4.0 * x),
    "pos": (lambda x: +x * 1.0, lambda x: +x * 1.0),
    "neg": (lambda x: -x, lambda x: -x),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: x.sigmoid()),
    "tanh": (lambda x: x.tanh(), lambda x: x.tanh()),
    "log": (lambda x: x.log(), lambda x: x.log()),
    "sqrt": (lambda x: x.sqrt(), lambda x: x.sqrt()),
    "exp": (lambda x: x.exp(), lambda x: x.exp()),
    "abs": (lambda x: (x - 1.0).abs(), lambda x: (x - 1.0).abs()),
    "tensor-pow": (lambda x: x ** mg.tensor(Y), lambda x: x ** torch.tensor(Y)),
    "var": (lambda x: x.var(), lambda x: x.var()),  # both default to correction 1
    "std": (lambda x: x.std(), lambda x: x.std()),
    "var-biased": (lambda x: x.var(correction=0), lambda x: x.var(unbiased=False)),
    "var-corrected": (lambda x: x.var(correction=1), lambda x: x.var(unbiased=True)),
    "max": (lambda x: x.max(), lambda x: x.max()),
    "flatten": (lambda x: x.reshape(3, 1).flatten(), lambda x: x.reshape(3, 1).flatten()),
}


@pytest.mark.parametrize("name", list(REFLECTED))
def test_tensor_methods_and_reflected_operators(name) -> None:
    ours, theirs = REFLECTED[name]
    x, xt = _pair(X)
    out = ours(x)
    weights = np.array([0.3, -1.1, 0.7])[: out.numel()].reshape(out.shape)
    (out * mg.tensor(weights)).sum().backward()
    assert mg.gradcheck(ours, [X])
    if torch is None:
        return
    tout = theirs(xt)
    (tout * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_tensor_exponent_gradient_reaches_the_exponent() -> None:
    base = mg.tensor(X, requires_grad=True)
    exponent = mg.tensor(Y, requires_grad=True)
    (base ** exponent).sum().backward()
    np.testing.assert_allclose(base.grad.numpy(), Y * X ** (Y - 1), rtol=1e-12)
    np.testing.assert_allclose(exponent.grad.numpy(), X ** Y * np.log(X), rtol=1e-12)


def test_numpy_on_the_left_defers_to_tensor() -> None:
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    a = np.arange(4.0).reshape(2, 2)
    product = a @ x
    assert isinstance(product, mg.Tensor)
    np.testing.assert_array_equal(product.numpy(), a @ x.numpy())
    product.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), a.T @ np.ones((2, 3)))
    assert isinstance(np.float64(2.0) - x, mg.Tensor)


def test_comparisons_give_masks() -> None:
    x, y = mg.tensor(X), mg.tensor(Y)
    for ours, theirs in ((x >= y, X >= Y), (x <= y, X <= Y), (x > y, X > Y),
                         (x < y, X < Y), (x == y, X == Y), (x != y, X != Y)):
        assert ours.dtype == np.bool_
        np.testing.assert_array_equal(ours.numpy(), theirs)


def test_bool_operand_becomes_a_tensor() -> None:
    x = mg.tensor(X)
    np.testing.assert_array_equal((x * True).numpy(), X)
    np.testing.assert_array_equal(ops.add(np.bool_(True), x).numpy(), X + 1)


def test_dtype_conversions() -> None:
    x = mg.tensor(X, requires_grad=True)
    assert x.float().dtype == np.float32 and x.double().dtype == np.float64
    assert x.astype("float32").dtype == np.float32
    y = x.float()
    (y * 2).sum().backward()
    assert x.grad.dtype == np.float64 and np.all(x.grad.numpy() == 2.0)
    assert result_float_dtype(np.dtype("int64"), np.dtype("float32")) == np.float32
    assert result_float_dtype(np.dtype("float32"), np.dtype("float64")) == np.float64
    assert result_float_dtype(np.dtype("int64")) == np.float32


def test_repr_shows_dtype_name_and_grad_fn() -> None:
    x = mg.tensor(X, requires_grad=True, name="x")
    assert "dtype=float64" in repr(x) and "name='x'" in repr(x)
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=mul" in repr(x * 2)
    assert repr(mg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert str(x) == repr(x)
    assert repr(ops.OPS["add"]) == "Op(add)"
    assert repr(mg.nn.Parameter(np.ones(2))).startswith("Parameter containing:\ntensor(")


def test_requires_grad_toggle_and_tensor_copy() -> None:
    x = mg.tensor(X)
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    copy = mg.tensor(x)
    copy.data[0] = 99.0
    assert x.numpy()[0] == 0.5  # mg.tensor copies
    assert mg.nn.Parameter(x).requires_grad  # a Parameter from a Tensor


def test_index_with_a_tensor_key() -> None:
    x = mg.tensor(np.arange(5.0), requires_grad=True)
    picked = x[mg.tensor(np.array([4, 0, 4]))]
    np.testing.assert_array_equal(picked.numpy(), [4.0, 0.0, 4.0])
    picked.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 0, 0, 0, 2])


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_backward_twice_with_create_graph_accumulates_a_graph() -> None:
    x = mg.tensor(X, requires_grad=True)
    y = (x ** 3).sum()
    y.backward(create_graph=True)
    y.backward(create_graph=True)
    assert x.grad.op is not None  # a node: 2 * 3x^2, differentiable again
    np.testing.assert_allclose(x.grad.numpy(), 6 * X ** 2)
    (second,) = mg.grad(x.grad.sum(), [x])
    np.testing.assert_allclose(second.numpy(), 12 * X)
    if torch is not None:
        xt = torch.tensor(X, requires_grad=True)
        yt = (xt ** 3).sum()
        yt.backward(create_graph=True)
        yt.backward(create_graph=True)
        (st,) = torch.autograd.grad(xt.grad.sum(), [xt])
        np.testing.assert_allclose(second.numpy(), st.numpy(), rtol=1e-12)


def test_leaf_reached_only_through_a_comparison_gets_no_gradient() -> None:
    a = mg.tensor(X, requires_grad=True)
    b = mg.tensor(Y, requires_grad=True)
    with mg._state.recording():  # keep b in the graph through the non-differentiable op
        y = (a * 2.0).sum() + mg.cast(b > 0, "float64").sum()
    assert any(node is b for node in mg.topological_order([y]))
    y.backward()
    assert b.grad is None  # as in PyTorch: a comparison passes no gradient
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0, 2.0])


def test_a_vjp_returning_the_wrong_shape_is_caught() -> None:
    bad = ops.Op("bad_double", ops.ELEMENTWISE, 1, lambda x: 2 * x, lambda s: s,
                 lambda g, out, x: (ops.sum(g),))  # not registered: the table stays clean
    x = mg.tensor(X, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"VJP of bad_double returned a gradient of shape "
                                           r"\(\) for an input of shape \(3,\)"):
        ops.apply(bad, x).sum().backward()
    assert "bad_double" not in mg.OPS


def test_fused_batch_norm_rejects_one_dimensional_input() -> None:
    from minigrad import fused_bn

    with pytest.raises(ValueError, match=r"batch_norm: input needs shape \(N, C, \.\.\.\), "
                                         r"got \(3,\)"):
        ops.apply(fused_bn.BATCH_NORM, mg.tensor(X), mg.tensor(X[:1]), mg.tensor(X[:1]),
                  axes=(0,), eps=1e-5)


# ------------------------------------------------------------------ nn.Module utilities
def test_module_children_float_and_shared_submodules() -> None:
    shared = mg.nn.BatchNorm1d(2)
    net = mg.nn.Sequential(shared, mg.nn.ReLU(), shared)
    assert len(net) == 3
    assert list(net.children()) == [shared, net[1]]  # each once, as in PyTorch
    assert [name for name, _ in net.named_modules()] == ["", "0", "1"]  # shared once
    assert len(list(net.parameters())) == 2
    net.double()
    assert shared.weight.dtype == np.float64
    net.float()
    assert shared.weight.dtype == np.float32 and shared.running_var.dtype == np.float32
    assert shared.num_batches_tracked.dtype == np.int64  # integers untouched


def test_load_state_dict_not_strict_ignores_unknown_keys() -> None:
    layer = mg.nn.BatchNorm1d(2, dtype="float64")
    state = {"weight": np.array([2.0, 3.0]), "unknown": np.zeros(7)}
    layer.load_state_dict(state, strict=False)
    np.testing.assert_array_equal(layer.weight.numpy(), [2.0, 3.0])
    np.testing.assert_array_equal(layer.bias.numpy(), [0.0, 0.0])


# -------------------------------------------------------- composed vs fused: the table
def test_compare_bn_table_float64() -> None:
    from minigrad.compare import compare_bn, format_table

    rows = compare_bn((6, 3), "float64", 1e-5, seed=1)
    pairs = {(r.order, r.quantity, r.left, r.right) for r in rows}
    assert (3, "d3x", "composed", "fused") in pairs
    assert (1, "dx", "fused", "seed numpy") in pairs
    for row in rows:
        limit = 1e-12 if row.right in ("fused", "seed numpy") else 1e-6
        assert row.max_abs < limit, row
    table = format_table(rows)
    assert table.splitlines()[0].split() == ["order", "quantity", "compared", "max", "abs",
                                             "max", "rel"]
    assert len(table.splitlines()) == len(rows) + 2


def test_compare_bn_table_float32_shows_float32_error() -> None:
    from minigrad.compare import compare_bn

    rows = compare_bn((8, 4), "float32", 1e-3, seed=2)
    worst = max(r.max_abs for r in rows if r.order <= 1 and r.right != "fused")
    assert 1e-9 < worst < 1e-4  # float32 rounding, visible and small


def test_compare_command_prints_the_table(capsys) -> None:
    from minigrad import cli

    assert cli.main(["compare", "--shape", "4x2", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "Composed vs fused BatchNorm, shape (4, 2), float64" in out
    assert "composed vs fused" in out and "d3x" in out
