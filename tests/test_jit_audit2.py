"""mg.jit against eager where a trace once assumed more than its guards checked (issue 13,
second audit). Each case runs one program eagerly and under ``mg.jit`` on twins built from
one seed, changes both the same way between calls, and compares every call's result: a
compiled entry must retrace (or refuse) rather than run what it was not traced for.
"""

from __future__ import annotations

import types

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.jit import NotCompilableError, jit

pytest.importorskip("numba")


def _x() -> mg.Tensor:
    return mg.tensor(np.random.default_rng(0).standard_normal((4, 3)))


def _twins(build):
    mg.manual_seed(0)
    eager = build()
    mg.manual_seed(0)
    return eager, build()


def _follow(build, change, calls: int = 4, at: int = 2) -> dict:
    """Eager and jitted twins called ``calls`` times, ``change`` applied to both (from the
    same seed) before call ``at``: the results agree at every call. The jit's stats."""
    eager, twin = _twins(build)
    compiled = jit(twin.fn, background=False)
    x = _x()
    for k in range(calls):
        if k == at:
            for target in (eager, twin):
                mg.manual_seed(7)
                change(target)
        expected, got = eager.fn(x), compiled(x)
        assert got.shape == expected.shape, k
        np.testing.assert_allclose(got.data, expected.data, rtol=1e-12, atol=1e-12,
                                   err_msg=f"call {k}")
    return compiled.stats()


def _linear() -> nn.Linear:
    return nn.Linear(3, 3, dtype=mg.float64)


def _calling(model):
    """The model and a function calling it (fn names it through a closure cell)."""
    def fn(x):
        return model(x)

    return types.SimpleNamespace(model=model, fn=fn)


def _sequential():
    return _calling(nn.Sequential(_linear(), nn.Tanh()))


def _module_list():
    layers = nn.ModuleList([_linear()])

    def fn(x):
        for layer in layers:
            x = layer(x)
        return x

    return types.SimpleNamespace(model=layers, fn=fn)


def _dict_of_layers():
    blocks = {"a": _linear()}

    def fn(x):
        for block in blocks.values():
            x = block(x)
        return x

    return types.SimpleNamespace(model=blocks, fn=fn)


class _Optional(nn.Module):
    """Applies ``self.extra`` when it has one (a forward branching on its attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = _linear()

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        y = self.body(x)
        return self.extra(y) if hasattr(self, "extra") else y


def _optional():
    return _calling(_Optional())


def _holder():
    holder = types.SimpleNamespace(body=_linear())

    def fn(x):
        y = holder.body(x)
        return holder.head(y) if hasattr(holder, "head") else y

    return types.SimpleNamespace(model=holder, fn=fn)


def _add_head(t) -> None:
    t.model.head = nn.Sigmoid()


@pytest.mark.parametrize(("build", "change"), [
    (_sequential, lambda t: t.model.append(_linear())),
    (_module_list, lambda t: t.model.append(_linear())),
    (_module_list, lambda t: t.model.insert(0, nn.Sigmoid())),
    (_dict_of_layers, lambda t: t.model.__setitem__("b", _linear())),
    (_optional, lambda t: setattr(t.model, "extra", nn.Sigmoid())),
    (_holder, _add_head),
], ids=["sequential append", "module list append", "module list insert",
        "dict of layers gains one", "module gains an attribute", "object gains one"])
def test_a_layer_added_after_the_first_calls_retraces(build, change) -> None:
    """Before: the layer added after call 2 never ran under jit (its guards checked the
    attributes on the traced paths only, not that none was added beside them)."""
    stats = _follow(build, change)
    assert stats["traces"] == 2 and stats["guard_failures"] == {"identity": 1}, stats


def test_a_replaced_layer_keeps_its_place() -> None:
    """``layers[0] = m`` replaces layer 0 where it is (PyTorch); minigrad moved it to the
    end of the module table, so the layers ran in another order, eager and jitted."""
    layers = nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.Sigmoid()])
    layers[0] = nn.Identity()
    model = nn.Sequential(nn.ReLU(), nn.Tanh())
    model.add_module("0", nn.Sigmoid())
    assert [type(m).__name__ for m in layers] == ["Identity", "Tanh", "Sigmoid"]
    assert [type(m).__name__ for m in model] == ["Sigmoid", "Tanh"]
    stats = _follow(_module_list, lambda t: t.model.__setitem__(0, nn.Tanh()))
    assert stats["traces"] == 2, stats


def _scaled(x: mg.Tensor, scale: float = 2.0, *, shift: float = 1.0) -> mg.Tensor:
    return x * scale + shift


def _with_defaults():
    def fn(x, scale=2.0, *, shift=1.0):
        return x * scale + shift

    return types.SimpleNamespace(fn=fn)


def _partial():
    import functools

    return types.SimpleNamespace(fn=functools.partial(_scaled, scale=3.0, shift=0.5))


@pytest.mark.parametrize(("build", "change"), [
    (_with_defaults, lambda t: setattr(t.fn, "__defaults__", (5.0,))),
    (_with_defaults, lambda t: t.fn.__kwdefaults__.__setitem__("shift", -3.0)),
    (_partial, lambda t: t.fn.keywords.__setitem__("scale", -1.0)),
], ids=["defaults rebound", "keyword default changed", "partial keyword changed"])
def test_a_changed_default_or_bound_argument_retraces(build, change) -> None:
    """Before: the trace baked the default (or the partial's bound number) in, and the
    compiled call kept using it after the change."""
    stats = _follow(build, change)
    assert stats["traces"] == 2 and stats["guard_failures"] == {"value": 1}, stats


class _LazyScale(nn.Module):
    """Makes its one-element scale on the first call (a lazy initialisation)."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = None

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        if self.scale is None:
            self.scale = mg.tensor(2.0, dtype=mg.float64)
        return x * self.scale


def _lazy_module():
    return _calling(_LazyScale())


def _lazy_dict():
    kept: dict = {}

    def fn(x):
        if "shift" not in kept:
            kept["shift"] = mg.tensor([3.0], dtype=mg.float64)
        return x + kept["shift"]

    return types.SimpleNamespace(model=kept, fn=fn)


def _add_in_place(t) -> None:
    with mg.no_grad():
        t.model.scale.add_(1.5)


@pytest.mark.parametrize(("build", "change"), [
    (_lazy_module, lambda t: t.model.scale.data.fill(5.0)),
    (_lazy_module, _add_in_place),
    (_lazy_dict, lambda t: t.model["shift"].data.fill(-1.0)),
], ids=["module attribute, data written", "module attribute, add_", "closure dict"])
def test_a_one_element_tensor_made_by_the_trace_and_kept_is_read_at_each_call(
        build, change) -> None:
    """One-element tensors made while tracing became literals of the source. One that fn
    keeps (made on its first call) and the caller then changes kept its traced value in
    the compiled call (x * 2 where eager gave x * 5)."""
    stats = _follow(build, change)
    assert stats["traces"] == 1, stats  # read at call time: no retrace needed


def test_a_tensor_made_by_the_trace_read_into_python_and_kept_is_refused() -> None:
    """Reading a constant fn made is allowed (the same at every call), unless fn keeps it
    where it reaches it again: then the value read (here 2.0, a Python float multiplying x)
    would stay in the compiled call after the caller changed the tensor to 5."""
    kept: dict = {}

    def fn(x):
        if "t" not in kept:
            kept["t"] = mg.tensor([2.0, 3.0], dtype=mg.float64)
        return x * kept["t"].tolist()[0]

    with pytest.raises(NotCompilableError, match="kept"):
        jit(fn, background=False)(_x())
