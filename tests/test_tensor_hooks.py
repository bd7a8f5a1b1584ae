"""Tensor.register_hook / retain_grad against PyTorch 2.13.

Expected values are PyTorch's, written out below from torch 2.13 (and compared live when
torch is importable): the same programs run in both libraries.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Callable

import numpy as np
import pytest

import minigrad as mg
from minigrad.tensor_hooks import HOOKED

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None


def _leaf_hook_then_removed(lib: object) -> list[list[float]]:
    x = lib.tensor([1.0, 2.0], requires_grad=True)  # type: ignore[attr-defined]
    handle = x.register_hook(lambda g: g * 10)
    (x * 2).sum().backward()
    first = x.grad.tolist() if hasattr(x.grad, "tolist") else x.grad.data.tolist()
    handle.remove()
    (x * 2).sum().backward()
    return [first, _list(x.grad)]


def _hook_replaces_upstream(lib: object) -> list[list[float]]:
    x = lib.tensor([1.0, 2.0], requires_grad=True)  # type: ignore[attr-defined]
    y = x * 3
    y.register_hook(lambda g: g * 0 + 1)
    (y * y).sum().backward()
    return [_list(x.grad)]


def _retain_after_all_hooks(lib: object) -> list[list[float]]:
    seen: list[list[float]] = []
    x = lib.tensor([1.0, 2.0], requires_grad=True)  # type: ignore[attr-defined]
    y = x * 3
    y.register_hook(lambda g: seen.append(_list(g)))
    y.retain_grad()
    y.register_hook(lambda g: g * 2)
    (y * y).sum().backward()
    return [*seen, _list(y.grad), _list(x.grad), [float(y.retains_grad), float(x.retains_grad)]]


def _retained_accumulates(lib: object) -> list[list[float]]:
    x = lib.tensor([1.0, 2.0], requires_grad=True)  # type: ignore[attr-defined]
    y = x * 3
    y.retain_grad()
    keep = {"retain_graph": True} if lib is torch else {}  # minigrad keeps graphs anyway
    (y * y).sum().backward(**keep)
    (y * 1.5).sum().backward()
    return [_list(y.grad), _list(x.grad)]


def _hooks_in_grad(lib: object) -> list[list[float]]:
    x = lib.tensor([1.0, -2.0], requires_grad=True)  # type: ignore[attr-defined]
    y = x.exp()
    y.register_hook(lambda g: g * 0.5)
    z = (y * y).sum()
    grad = (lib.autograd.grad(z, x) if lib is torch  # type: ignore[attr-defined]
            else mg.grad(z, [x]))
    return [_list(grad[0])]


def _list(value: object) -> list[float]:
    array = value.detach().numpy() if hasattr(value, "detach") else value.data  # type: ignore
    return np.asarray(array, dtype=float).ravel().tolist()


PROGRAMS: dict[str, Callable[[object], list[list[float]]]] = {
    "leaf hook, then removed": _leaf_hook_then_removed,
    "hook replaces the gradient upstream": _hook_replaces_upstream,
    "retain_grad after all hooks": _retain_after_all_hooks,
    "retained gradient accumulates": _retained_accumulates,
    "hooks run in autograd.grad": _hooks_in_grad,
}

# torch 2.13's results of each program (float64 lists)
EXPECTED = {
    "leaf hook, then removed": [[20.0, 20.0], [22.0, 22.0]],
    "hook replaces the gradient upstream": [[3.0, 3.0]],
    "retain_grad after all hooks": [[6.0, 12.0], [12.0, 24.0], [36.0, 72.0], [1.0, 0.0]],
    "retained gradient accumulates": [[7.5, 13.5], [22.5, 40.5]],
    "hooks run in autograd.grad": [[float(np.exp(2.0)), float(np.exp(-4.0))]],
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_hooks_match_torch(name: str) -> None:
    np.testing.assert_allclose(
        np.concatenate(PROGRAMS[name](mg)), np.concatenate(EXPECTED[name]), rtol=1e-6)


@pytest.mark.skipif(torch is None, reason="torch not importable")
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_expected_values_are_torchs(name: str) -> None:
    np.testing.assert_allclose(
        np.concatenate(PROGRAMS[name](torch)), np.concatenate(EXPECTED[name]), rtol=1e-6)


def test_bad_hooks_are_refused() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor([1.0]).register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor([1.0]).retain_grad()
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: mg.zeros(3))
    with pytest.raises(RuntimeError, match=r"shape \(3,\).*gradient of shape \(2,\)"):
        (x * 2).sum().backward()
    y = mg.tensor([1.0], requires_grad=True)
    y.register_hook(lambda g: g.data * 2)
    with pytest.raises(TypeError, match="must return a Tensor or None"):
        (y * 2).sum().backward()


def test_jit_runs_eagerly_while_hooks_exist() -> None:
    """A compiled step must not ignore a hook added after it traced."""
    gc.collect()
    base = HOOKED[0]
    w = mg.tensor([1.0, 2.0], requires_grad=True)

    def step(x: mg.Tensor) -> mg.Tensor:
        return mg.grad((x * w).sum(), [w])[0]

    compiled = mg.jit(step)
    x = mg.tensor([3.0, 4.0])
    np.testing.assert_array_equal(compiled(x).data, [3.0, 4.0])
    np.testing.assert_array_equal(compiled(x).data, [3.0, 4.0])  # the compiled entry
    handle = w.register_hook(lambda g: g * 10)
    assert HOOKED[0] == base + 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        np.testing.assert_array_equal(compiled(x).data, [30.0, 40.0])
    assert any("runs eagerly while tensors have gradient hooks" in str(w.message)
               for w in caught)
    handle.remove()
    assert HOOKED[0] == base
    np.testing.assert_array_equal(compiled(x).data, [3.0, 4.0])
    assert compiled.stats()["traces"] == 1


def test_hooked_tensors_are_counted_until_they_die() -> None:
    gc.collect()
    base = HOOKED[0]
    y = mg.tensor([1.0], requires_grad=True) * 2
    y.retain_grad()
    y.register_hook(lambda g: None)
    assert HOOKED[0] == base + 1
    del y
    gc.collect()
    assert HOOKED[0] == base
