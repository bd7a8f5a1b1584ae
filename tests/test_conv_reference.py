"""Convolution and pooling against PyTorch 2.13's values written out by
tests/reference/gen_torch_conv.py (torch_conv.npz): outputs, first- and second-order
float64 gradients; always, and against live torch when it is importable."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from tests.reference import gen_torch_conv as gen

F = mg.nn.functional
STORED = np.load(gen.OUT)
TOL = {"rtol": 1e-10, "atol": 1e-12}


def _ours(name: str) -> dict[str, np.ndarray]:
    fn, _, kwargs = gen.CASES[name]
    leaves = [mg.tensor(a, requires_grad=True) for a in gen.case_inputs(name)]
    out = getattr(F, fn)(*leaves, **kwargs)
    extras = gen.case_extras(name, out.shape)
    loss = mg.sum(mg.tanh(out) * mg.tensor(extras["head"]))
    grads = mg.grad(loss, leaves, create_graph=True)
    inner = mg.sum(sum(mg.sum(g * mg.tensor(extras[f"probe{k}"]))
                       for k, g in enumerate(grads)))
    second = mg.grad(inner, leaves)
    result = {"out": out.data}
    for k, (g, s) in enumerate(zip(grads, second, strict=True)):
        result[f"grad{k}"], result[f"second{k}"] = g.data, s.data
    return result


def test_file_is_from_pytorch_2_13() -> None:
    assert str(STORED["torch_version"]).startswith("2.13")


@pytest.mark.parametrize("name", list(gen.CASES))
def test_against_stored_pytorch_values(name) -> None:
    for key, value in _ours(name).items():
        np.testing.assert_allclose(value, STORED[f"{name}/{key}"], **TOL, err_msg=key)


@pytest.mark.parametrize("name", list(gen.CASES))
def test_stored_values_are_live_pytorch(name) -> None:
    pytest.importorskip("torch")
    for key, value in gen.torch_case(name).items():
        np.testing.assert_allclose(value, STORED[f"{name}/{key}"], rtol=1e-12, atol=1e-14,
                                   err_msg=key)
