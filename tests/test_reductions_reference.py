"""The reductions of issue 15 against PyTorch 2.13's values written out by
tests/reference/gen_torch_reductions.py (torch_reductions.npz): outputs (values, int64
indices), first- and second-order float64 gradients; always, and against live torch when
it is importable. Cases hold ties, NaN, -inf rows, 0-d inputs, keepdim and negative dims."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from tests.reference import gen_torch_reductions as gen

STORED = np.load(gen.OUT)
TOL = {"rtol": 1e-10, "atol": 1e-12}


def _assert_same(ours: dict[str, np.ndarray], name: str, **tol: float) -> None:
    keys = sorted(k[len(name) + 1:] for k in STORED.files if k.startswith(f"{name}/"))
    assert sorted(ours) == keys, (sorted(ours), keys)
    for key in keys:
        expected = STORED[f"{name}/{key}"]
        assert ours[key].dtype == expected.dtype, (key, ours[key].dtype, expected.dtype)
        assert ours[key].shape == expected.shape, (key, ours[key].shape, expected.shape)
        np.testing.assert_allclose(ours[key], expected, **tol, err_msg=key)


def test_file_is_from_pytorch_2_13() -> None:
    assert str(STORED["torch_version"]).startswith("2.13")


@pytest.mark.filterwarnings("ignore:invalid value encountered")  # -inf - -inf in -inf rows
@pytest.mark.parametrize("name", list(gen.CASES))
def test_against_stored_pytorch_values(name) -> None:
    _assert_same(gen.run(mg, name), name, **TOL)


@pytest.mark.parametrize("name", list(gen.CASES))
def test_stored_values_are_live_pytorch(name) -> None:
    torch = pytest.importorskip("torch")
    _assert_same(gen.run(torch, name), name, rtol=1e-12, atol=1e-14)
