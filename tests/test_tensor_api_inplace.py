"""In-place ops (issue 15 §2) against PyTorch 2.13, live: values, gradients through in-place
changes of graph tensors (first and second order), and PyTorch's errors: a tensor changed
after a node read it makes backward raise instead of giving a wrong gradient."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

X = np.array([[0.5, -1.5, 2.0], [3.0, -0.25, 1.0]])
V = np.array([1.25, -2.0, 0.75])

# (id, the same in-place change for a minigrad and a torch tensor; lib is mg or torch)
CHANGES = [
    ("add_", lambda t, lib: t.add_(lib.tensor(V))),
    ("add_-alpha", lambda t, lib: t.add_(lib.tensor(V), alpha=-2.0)),
    ("sub_", lambda t, lib: t.sub_(1.5)),
    ("mul_", lambda t, lib: t.mul_(lib.tensor(V))),
    ("div_", lambda t, lib: t.div_(4.0)),
    ("zero_", lambda t, lib: t.zero_()),
    ("fill_", lambda t, lib: t.fill_(7.5)),
    ("clamp_", lambda t, lib: t.clamp_(-1.0, 1.0)),
    ("clamp_-min", lambda t, lib: t.clamp_(min=0.0)),
    ("copy_", lambda t, lib: t.copy_(lib.tensor(V))),
    ("setitem-row", lambda t, lib: t.__setitem__(1, lib.tensor(V))),
    ("setitem-slice", lambda t, lib: t.__setitem__((slice(None), slice(1, None)), 9.0)),
    ("setitem-index", lambda t, lib: t.__setitem__(
        (0, [0, 2]), lib.tensor([4.0, 5.0], dtype=lib.float64))),
    ("setitem-mask", lambda t, lib: t.__setitem__(t > 1, 0.0)),
]


@pytest.mark.parametrize("change", [pytest.param(c[1], id=c[0]) for c in CHANGES])
def test_values_match_pytorch(change) -> None:
    mine, theirs = mg.tensor(X), torch.tensor(X)
    result = change(mine, mg)
    change(theirs, torch)
    assert result is None or result is mine
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-15)
    assert mine.dtype == mg.float64


@pytest.mark.parametrize("change", [pytest.param(c[1], id=c[0]) for c in CHANGES])
def test_gradients_through_a_changed_graph_tensor_match_pytorch(change) -> None:
    """h = w * w (a graph tensor) changed in place, then used: gradients to w of order 1 and
    2 as PyTorch's (which rebases h onto the in-place op, as minigrad does)."""
    w, tw = mg.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    h, th = w * w, tw * tw
    change(h, mg)
    change(th, torch)
    weights = np.random.default_rng(3).standard_normal(X.shape)
    loss = (mg.tensor(weights) * h * w).sum()
    tloss = (torch.tensor(weights) * th * tw).sum()
    (g,) = mg.grad(loss, [w], create_graph=True)
    (tg,) = torch.autograd.grad(tloss, [tw], create_graph=True)
    np.testing.assert_allclose(g.numpy(), tg.detach().numpy(), rtol=1e-12, atol=1e-12)
    (h2,) = mg.grad((g * mg.tensor(weights[::-1].copy())).sum(), [w])
    (th2,) = torch.autograd.grad((tg * torch.tensor(weights[::-1].copy())).sum(), [tw])
    np.testing.assert_allclose(h2.numpy(), th2.numpy(), rtol=1e-12, atol=1e-12)


def test_a_value_written_into_a_plain_tensor_carries_its_gradient() -> None:
    v, tv = mg.tensor(V, requires_grad=True), torch.tensor(V, requires_grad=True)
    out, tout = mg.zeros(2, 3, dtype=mg.float64), torch.zeros(2, 3, dtype=torch.float64)
    out[0] = v * 2
    tout[0] = tv * 2
    out.add_(v)
    tout.add_(tv)
    assert out.requires_grad and not out.is_leaf
    (out ** 2).sum().backward()
    (tout ** 2).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), tv.grad.numpy(), rtol=1e-15)


MODIFIED = "one of the variables needed for gradient computation has been modified by an " \
           "inplace operation"


def test_changing_a_tensor_a_node_read_makes_backward_raise() -> None:
    for lib in (mg, torch):
        w = lib.tensor(X, requires_grad=True)
        y = (w * w).sum()
        with lib.no_grad():
            w.mul_(2.0)  # as an optimizer step would
        with pytest.raises(RuntimeError, match=MODIFIED):
            y.backward()
    h = mg.tensor(X, requires_grad=True) * 1.0
    y = (h.exp() * 2).sum()  # exp's VJP reads its output, mul's its inputs
    h.add_(1.0)
    with pytest.raises(RuntimeError, match=MODIFIED + r": the input of shape \(2, 3\) "
                                                      r"\(dtype float64\) of exp is at version 1"):
        y.backward()


def test_changing_a_node_s_own_value_makes_backward_raise() -> None:
    """exp's VJP reads its output: changing it (under no_grad) must not give g * new value."""
    for lib in (mg, torch):
        y = lib.tensor(X, requires_grad=True).exp()
        with lib.no_grad():
            y.mul_(2.0)
        with pytest.raises(RuntimeError, match=MODIFIED):
            y.sum().backward()
    y = mg.tensor(X, requires_grad=True).exp()
    with mg.no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match=r"the output of shape \(2, 3\) \(dtype float64\) "
                                           "of exp is at version 1"):
        y.sum().backward()


def test_minigrad_refuses_also_where_pytorch_saved_nothing() -> None:
    """A deliberate difference: a VJP rule gets its inputs as tensors, not saved values, so
    any input changed after the node read it is refused (PyTorch lets add pass: add saves
    nothing). Never a wrong gradient either way."""
    w = mg.tensor(X, requires_grad=True)
    y = (w + 1.0).sum()
    with mg.no_grad():
        w.zero_()
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_graphs_made_after_a_change_differentiate() -> None:
    w = mg.tensor(X, requires_grad=True)
    with mg.no_grad():
        w.mul_(2.0)
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 4 * X)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: mg.tensor(X, requires_grad=True).add_(1), RuntimeError,
     "add_: a leaf tensor that requires grad is being used in an in-place operation"),
    (lambda: mg.tensor([1, 2]).add_(0.5), TypeError,
     "add_: a float32 result cannot be stored in place into a tensor of dtype int64"),
    (lambda: mg.tensor(V).add_(mg.tensor(X)), ValueError,
     r"add_: the result of shape \(2, 3\) does not fit the tensor of shape \(3,\)"),
    (lambda: mg.tensor(X).clamp_(), ValueError, "clamp_: give min, max or both"),
    (lambda: mg.tensor(X).__setitem__(5, 1.0), IndexError, "index 5 is out of bounds"),
])
def test_bad_in_place_calls_are_named(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()


def test_integer_and_bool_tensors_change_in_place() -> None:
    k = mg.tensor([1, 2, 3])
    k.add_(2)
    k[0] = 7
    k.clamp_(max=4)
    assert k.tolist() == [4, 4, 4] and k.dtype == mg.int64
    b = mg.zeros(3, dtype=mg.bool)
    b[1] = True
    assert b.tolist() == [False, True, False]
