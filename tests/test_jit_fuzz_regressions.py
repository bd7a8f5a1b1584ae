"""Programs the differential fuzzer (minigrad.testing.fuzz) found wrong, shrunk, kept as
regression tests. Each states what was wrong and is checked eagerly and under mg.jit."""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad import ops


def test_no_gradient_through_a_cast_to_bool_or_int() -> None:
    """Found against PyTorch: d/db of a * cast(b, bool) was a (the gradient flowed through
    the cast); a cast to bool or int is piecewise constant, so db = 0 (PyTorch: None)."""
    for dtype in ("bool", "int64"):
        a = mg.tensor(np.array([1.5, -2.0]), requires_grad=True)
        b = mg.tensor(np.array([1.5, 0.0]), requires_grad=True)
        out = ops.sum(ops.mul(a, ops.cast(b, dtype)))
        ga, gb = mg.grad(out, [a, b], allow_unused=True)
        np.testing.assert_array_equal(ga.data, [1.0, 0.0])
        assert gb is None or not np.any(gb.data), dtype
