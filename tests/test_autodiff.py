"""The reverse pass: accumulation, mg.grad, higher orders, deep graphs, and the tags the
renderer draws (the seed's gradient names on composed BatchNorm)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import functional as F


def test_backward_accumulates_like_pytorch() -> None:
    torch = pytest.importorskip("torch")
    x_np = np.array([0.5, -1.5, 2.0])
    x = mg.tensor(x_np, requires_grad=True)
    xt = torch.tensor(x_np, requires_grad=True)
    for _ in range(2):
        (x * x * 3.0 + x.exp()).sum().backward()
        (xt * xt * 3.0 + xt.exp()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-14)
    assert x.grad.is_leaf and not x.grad.requires_grad


def test_non_scalar_backward_needs_a_gradient() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar.*\(2,\)"):
        (x * 2).backward()
    (x * 2).backward(mg.tensor([1.0, 10.0]))
    assert x.grad.tolist() == [2.0, 20.0]
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        (x * 2).backward(np.ones(3))


def test_grad_leaves_dot_grad_alone_and_reports_unused_inputs() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    unused = mg.tensor(1.0, requires_grad=True)
    (gx,) = mg.grad((x ** 3).sum(), [x])
    assert x.grad is None
    np.testing.assert_allclose(gx.numpy(), [3.0, 12.0])
    with pytest.raises(RuntimeError, match="input 1 was not used"):
        mg.grad((x ** 3).sum(), [x, unused])
    assert mg.grad((x ** 3).sum(), [x, unused], allow_unused=True)[1] is None


def test_gradients_of_any_order() -> None:
    """d^k/dx^k of x^5 at x = 1.5 is 5!/(5-k)! * x^(5-k)."""
    x = mg.tensor(1.5, dtype="float64", requires_grad=True)
    current = x ** 5
    for order in range(1, 6):
        (current,) = mg.grad(current, [x], create_graph=True)
        expected = np.prod(range(5 - order + 1, 6)) * 1.5 ** (5 - order)
        assert float(current) == pytest.approx(expected, rel=1e-12), order
    (sixth,) = mg.grad(current, [x], allow_unused=True) if current.requires_grad else (None,)
    assert sixth is None or float(sixth) == 0.0


def test_hessian_of_a_mixed_expression_against_pytorch() -> None:
    torch = pytest.importorskip("torch")
    a_np, b_np = np.array([0.3, -0.7, 1.1]), np.array([[0.5, 1.0, -2.0]])

    def f(lib, a, b):
        return (lib.tanh(a * b) / (1.0 + (a * a).sum()) + lib.sigmoid(b - a) * a).sum()

    a, b = mg.tensor(a_np, requires_grad=True), mg.tensor(b_np, requires_grad=True)
    at, bt = torch.tensor(a_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)
    ga, gb = mg.grad(f(mg, a, b), [a, b], create_graph=True)
    gat, gbt = torch.autograd.grad(f(torch, at, bt), [at, bt], create_graph=True)
    h = mg.grad((ga * ga).sum() + gb.sum(), [a, b])
    ht = torch.autograd.grad((gat * gat).sum() + gbt.sum(), [at, bt])
    for mine, theirs in zip(h, ht, strict=True):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-14)


def test_hundred_thousand_deep_chain() -> None:
    x = mg.tensor(1.0, dtype="float64", requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert float(x.grad) == 1.0
    assert len(mg.topological_order([y])) > 200_000


def test_no_grad_and_detach_stop_tracking() -> None:
    x = mg.tensor([1.0], requires_grad=True)
    with mg.no_grad():
        y = x * 2
        with mg.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.inputs == ()
    assert z.requires_grad
    assert not x.detach().requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_topological_order_puts_inputs_first() -> None:
    a = mg.tensor(1.0, requires_grad=True)
    b = a * 2
    c = b + a
    d = c * b
    order = mg.topological_order([d])
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for parent in node.inputs:
            assert position[id(parent)] < position[id(node)]
    assert len(order) == len({id(n) for n in order})


# ------------------------------------------------------------ the derivation's tags
def _composed_bn_gradient_graph() -> tuple[mg.GradGraph, dict[str, mg.Tensor]]:
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((4, 3)), requires_grad=True, name="x")
    gamma = mg.tensor(rng.uniform(0.5, 1.5, 3), requires_grad=True, name="gamma")
    beta = mg.tensor(rng.standard_normal(3), requires_grad=True, name="beta")
    out = F.batch_norm(x, None, None, gamma, beta, training=True)
    graph = mg.gradient_graph(out, grad_outputs=mg.tensor(rng.standard_normal((4, 3))))
    by_name = {}
    for node in graph.created:
        for label in [node.name, *node.meta.get("aliases", [])]:
            if label:
                by_name[label] = node
    return graph, by_name


def test_composed_bn_backward_carries_the_seeds_gradient_names() -> None:
    _, by_name = _composed_bn_gradient_graph()
    seed_names = ["dout", "dbeta", "dgammax", "dgamma", "dxhat", "divar", "dxmu1",
                  "dsqrtvar", "dvar", "dsq", "dxmu2", "dx1", "dmu", "dx2", "dx"]
    assert [n for n in seed_names if n not in by_name] == []
    assert by_name["dout"] is by_name["dgammax"]  # the seed: dgammax = dout
    assert by_name["dx1"] is by_name["dxmu"]      # the seed: dx1 = dxmu1 + dxmu2


def test_gradient_tags_match_the_seeds_steps() -> None:
    graph, by_name = _composed_bn_gradient_graph()
    forward = {n.name: n for n in graph.forward if n.name}
    assert by_name["dxhat"].vjp_of is forward["gammax"]
    assert by_name["divar"].vjp_of is forward["xhat"]
    assert by_name["dxmu1"].vjp_of is forward["xhat"]
    assert by_name["dxmu2"].vjp_of is forward["sq"]
    assert by_name["dsq"].vjp_of is forward["var"]
    assert by_name["dmu"].vjp_of is forward["xmu"]
    assert by_name["dx2"].vjp_of is forward["mu"]
    assert by_name["dx"].vjp_of is None and by_name["dx"].op.name == "add"
    assert set(by_name["dx"].inputs) == {by_name["dx1"], by_name["dx2"]}
    assert (forward["xmu"], forward["xhat"]) in by_name["dxmu1"].partial_of
    assert by_name["dxmu"].grad_of == [forward["xmu"]]
    assert graph.grad(forward["x"]) is by_name["dx"]


def test_composed_bn_backward_values_follow_the_seeds_formulas() -> None:
    graph, by_name = _composed_bn_gradient_graph()
    fwd = {n.name: n.numpy() for n in graph.forward if n.name}
    dout = by_name["dout"].numpy()
    n = dout.shape[0]
    np.testing.assert_allclose(by_name["dbeta"].numpy(), dout.sum(0))
    np.testing.assert_allclose(by_name["dgamma"].numpy(), (dout * fwd["xhat"]).sum(0))
    divar = (dout * fwd["gamma"] * fwd["xmu"]).sum(0)
    np.testing.assert_allclose(by_name["divar"].numpy(), divar)
    dsqrtvar = -1.0 / fwd["sqrtvar"] ** 2 * divar
    np.testing.assert_allclose(by_name["dsqrtvar"].numpy(), dsqrtvar)
    dvar = 0.5 / np.sqrt(fwd["var"] + 1e-5) * dsqrtvar
    np.testing.assert_allclose(by_name["dvar"].numpy(), dvar)
    np.testing.assert_allclose(by_name["dsq"].numpy(), np.ones((n, 3)) * dvar / n)


def test_backward_graph_requires_grad_only_with_create_graph() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    plain = mg.gradient_graph((x * x).sum())
    assert all(not node.requires_grad for node in plain.created)
    assert any(node.inputs for node in plain.created)  # recorded, so it can be drawn
    nested = mg.gradient_graph((x * x).sum(), create_graph=True)
    assert nested.grad(x).requires_grad
