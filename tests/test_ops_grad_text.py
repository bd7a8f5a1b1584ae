"""The drawn gradient text of every elementwise row (its ``grads``, which the renderer
shows) evaluated with numpy on the op samples equals the row's VJP, so a wrong or stale text
fails here (minigrad/ops/gradtext.py documents the syntax)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops
from minigrad.ops import gradtext
from minigrad.testing.op_samples import SAMPLES

ROWS = [name for name, row in ops.OPS.items()
        if row.kind == ops.ELEMENTWISE and row.vjp is not None]


def _sum_to(value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` summed over the axes broadcasting added or stretched (numpy's unbroadcast)."""
    value = value.sum(axis=tuple(range(value.ndim - len(shape))))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and value.shape[i] != 1)
    return value.sum(axis=stretched, keepdims=True)


def _nodes(name: str, fn, inputs: list[np.ndarray]) -> list[mg.Tensor]:
    """The nodes of row ``name`` in the sample's graph."""
    with mg._state.recording():
        out = fn(*[mg.tensor(a) for a in inputs])
    return [n for n in mg.topological_order([out]) if n.op is not None and n.op.name == name]


def check_text(row: ops.Op, node: mg.Tensor, g: np.ndarray) -> None:
    """Each input's drawn rule, evaluated at the node, equals the row's VJP."""
    partials = row.vjp(mg.tensor(g), node, *node.inputs, **node.attrs)
    for k, (text, partial) in enumerate(zip(row.grads, partials, strict=True)):
        if not text:  # no gradient flows to this input (where's condition)
            continue
        value = gradtext.evaluate(text, g, node.data, [t.data for t in node.inputs],
                                  node.attrs)
        np.testing.assert_allclose(_sum_to(value, node.inputs[k].shape), partial.numpy(),
                                   rtol=1e-10, atol=1e-12, err_msg=f"{row.name} input {k}: {text}")


@pytest.mark.parametrize("name", ROWS)
def test_drawn_gradient_text_matches_the_vjp(name: str) -> None:
    row = ops.OPS[name]
    assert len(row.grads) == row.arity, f"{name}: one gradient text per input"
    rng = np.random.default_rng(0)
    checked = 0
    for fn, inputs in SAMPLES[name]:
        for node in _nodes(name, fn, inputs):
            check_text(row, node, rng.standard_normal(node.shape))
            checked += 1
    assert checked, f"{name}: no node of the row in its samples"


def test_a_wrong_text_fails() -> None:
    """The check can fail: tanh drawn with 1 + tanh^2 instead of 1 - tanh^2."""
    wrong = replace(ops.OPS["tanh"], grads=("{g} * (1 + {out}^2)",))
    fn, inputs = SAMPLES["tanh"][0]
    node = _nodes("tanh", fn, inputs)[0]
    with pytest.raises(AssertionError, match=r"tanh input 0: \{g\} \* \(1 \+ \{out\}\^2\)"):
        check_text(wrong, node, np.ones(node.shape))


def test_the_syntax() -> None:
    """^ is a power, [c] Iverson's bracket, c ? a : b a where, names are numpy's."""
    x, g = np.array([-1.0, 0.0, 2.0]), np.array([1.0, 2.0, 3.0])
    value = gradtext.evaluate("{0} > 0 ? {g} * {0}^2 : [{0} == 0] * cos({0})", g, x, [x], {})
    assert value.tolist() == [0.0, 1.0, 12.0]
    assert gradtext.evaluate("{p} * {g}", g, x, [x], {"p": 0.5}).tolist() == [0.5, 1.0, 1.5]
    with pytest.raises(NameError):
        gradtext.evaluate("open({0})", g, x, [x], {})
