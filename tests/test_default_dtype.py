"""mg.get_default_dtype / set_default_dtype against PyTorch 2.13's rules.

The expected dtypes are PyTorch's (written out below from torch 2.13 and compared live when
torch is importable): with the default float64, every place a float appears without a dtype
(Python floats, float constructors, integer inputs of float-valued ops, layers' parameters)
takes float64; tensors made before keep theirs. mg.jit retraces under a new default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest

import minigrad as mg

try:
    import torch
except ImportError:  # pragma: no cover - torch is a test oracle only
    torch = None


@pytest.fixture(autouse=True)
def _restore_default() -> Iterator[None]:
    yield
    mg.set_default_dtype(mg.float32)
    if torch is not None:
        torch.set_default_dtype(torch.float32)


def _cases(lib: object) -> dict[str, Callable[[], object]]:
    """The same expressions in minigrad and torch (``lib`` is the module)."""
    t = lib.tensor  # type: ignore[attr-defined]
    return {
        "tensor of floats": lambda: t([1.5, 2.0]),
        "zeros": lambda: lib.zeros(3),  # type: ignore[attr-defined]
        "ones_like of int": lambda: lib.ones_like(t([1, 2]), dtype=None),  # type: ignore
        "full with a float": lambda: lib.full((2,), 1.5),  # type: ignore[attr-defined]
        "arange of floats": lambda: lib.arange(0.0, 3.0),  # type: ignore[attr-defined]
        "int exp": lambda: t([1, 2]).exp(),
        "int sigmoid": lambda: t([1, 2]).sigmoid(),
        "int / int": lambda: t([1, 2]) / t([2, 2]),
        "int32 + 1.5": lambda: t([1, 2], dtype=lib.int32) + 1.5,  # type: ignore[attr-defined]
        "int64 * 2.0": lambda: t([1, 2]) * 2.0,
        "float32 + 1.5": lambda: t([1.0], dtype=lib.float32) + 1.5,  # type: ignore
        "Linear weight": lambda: lib.nn.Linear(2, 2).weight,  # type: ignore[attr-defined]
    }


# torch 2.13: the dtype of each case under each default (torch.set_default_dtype).
EXPECTED = {
    "float32": {"tensor of floats": "float32", "zeros": "float32", "ones_like of int": "int64",
                "full with a float": "float32", "arange of floats": "float32",
                "int exp": "float32", "int sigmoid": "float32", "int / int": "float32",
                "int32 + 1.5": "float32", "int64 * 2.0": "float32", "float32 + 1.5": "float32",
                "Linear weight": "float32"},
    "float64": {"tensor of floats": "float64", "zeros": "float64", "ones_like of int": "int64",
                "full with a float": "float64", "arange of floats": "float64",
                "int exp": "float64", "int sigmoid": "float64", "int / int": "float64",
                "int32 + 1.5": "float64", "int64 * 2.0": "float64", "float32 + 1.5": "float32",
                "Linear weight": "float64"},
}


def _name(dtype: object) -> str:
    return str(dtype).removeprefix("torch.")


@pytest.mark.parametrize("default", ["float32", "float64"])
def test_dtypes_follow_the_default_as_in_torch(default: str) -> None:
    mg.set_default_dtype(getattr(mg, default))
    assert mg.get_default_dtype() == np.dtype(default)
    got = {name: _name(make().dtype) for name, make in _cases(mg).items()}
    assert got == EXPECTED[default]


@pytest.mark.skipif(torch is None, reason="torch not importable")
@pytest.mark.parametrize("default", ["float32", "float64"])
def test_expected_table_is_torchs(default: str) -> None:
    torch.set_default_dtype(getattr(torch, default))
    assert _name(torch.get_default_dtype()) == default
    got = {name: _name(make().dtype) for name, make in _cases(torch).items()}
    assert got == EXPECTED[default]


def test_values_in_float64_default_match_float64_math() -> None:
    """Not only the dtype: int.exp() under float64 equals numpy's float64 exp exactly."""
    mg.set_default_dtype(mg.float64)
    out = mg.tensor([1, 2, 30]).exp()
    np.testing.assert_array_equal(out.data, np.exp(np.array([1.0, 2.0, 30.0])))


def test_earlier_tensors_keep_their_dtype() -> None:
    before = mg.tensor([1.5])
    mg.set_default_dtype(mg.float64)
    assert before.dtype == mg.float32
    assert (before + 1.5).dtype == mg.float32  # a Python float never widens a float tensor


@pytest.mark.parametrize("bad", [mg.int64, mg.bool, "int32"])
def test_non_float_default_is_refused(bad: object) -> None:
    with pytest.raises(TypeError, match="only floating-point dtypes"):
        mg.set_default_dtype(bad)
    assert mg.get_default_dtype() == mg.float32


def test_jit_retraces_under_a_new_default() -> None:
    """A trace bakes in what the default made of int inputs; a new default must not reuse it."""
    f = mg.jit(lambda n: (n.exp() * 0.5).sum())
    n = mg.tensor(np.arange(5))
    first = f(n)
    assert first.dtype == mg.float32
    mg.set_default_dtype(mg.float64)
    second = f(n)
    eager = (mg.tensor(np.arange(5)).exp() * 0.5).sum()
    assert second.dtype == eager.dtype == mg.float64
    assert float(second.item()) == pytest.approx(float(eager.item()), rel=1e-15)
    assert f.stats()["traces"] == 2
