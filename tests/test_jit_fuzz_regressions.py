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


def test_transpose_of_a_0d_value_compiles() -> None:
    """Found by the fuzzer: transpose(x, ()) of a 0-d x made the generated source say
    `v1[i0] = v0[]` (a SyntaxError at compile time). A transpose by the identity
    permutation is now no copy at all."""
    cases = [((), [np.array(3.0), np.array(-1.5), np.array(0.25)]),
             ((0, 1), [np.ones((2, 3)), np.arange(6.0).reshape(2, 3), -np.ones((2, 3))])]
    for perm, values in cases:
        fn = mg.jit(lambda x, perm=perm: ops.mul(ops.transpose(x, perm), 2.0))
        for value in values:  # the trace, then the compiled kernel
            np.testing.assert_array_equal(fn(mg.tensor(value)).data, value * 2.0)


def test_reciprocal_of_integers_and_booleans_is_float32() -> None:
    """Found by the fuzzer: reciprocal of a bool tensor was numpy's integer reciprocal
    (int8; 1/False = 0) eagerly while the compiled cast int8(1.0 / 0) gave 1. Like div (and
    PyTorch), 1 / x of integers and booleans is float32 now, eager and compiled alike."""
    fn = mg.jit(lambda a: (ops.reciprocal(a), ops.equal(ops.reciprocal(a), a)))
    for values in ([False, False], [True, False], [True, True]):
        a = mg.tensor(np.array(values))
        with np.errstate(divide="ignore"):
            expected = 1 / np.array(values, np.float32)
        eager = ops.reciprocal(a).data
        assert eager.dtype == np.float32
        np.testing.assert_array_equal(eager, expected)
        got, same = fn(a)
        np.testing.assert_array_equal(got.data, expected)
        np.testing.assert_array_equal(same.data, expected == np.array(values))
    for values in ([0, 2, -1], [1, 2, 4]):
        with np.errstate(divide="ignore"):
            expected = 1 / np.array(values, np.float32)
        np.testing.assert_array_equal(ops.reciprocal(mg.tensor(np.array(values))).data, expected)


def test_maximum_gradient_selects_like_pytorch() -> None:
    """Found against PyTorch: d sqrt(maximum(b, a))/da at a < b = 0 was inf * 0 = NaN (the
    losing side's mask multiplied an infinite gradient); PyTorch selects, giving 0. Ties
    share g/2; at a NaN both sides get g (PyTorch's rule)."""
    a = mg.tensor(np.array([-1.5, 2.0, 1.0, np.nan]), requires_grad=True)
    b = mg.tensor(np.array([0.0, 1.0, 1.0, 0.5]), requires_grad=True)
    out = ops.sum(ops.sqrt(ops.maximum(b, a)))
    ga, gb = mg.grad(out, [a, b])
    np.testing.assert_array_equal(ga.data, [0.0, 0.5 / np.sqrt(2.0), 0.25, np.nan])
    np.testing.assert_array_equal(gb.data, [np.inf, 0.0, 0.25, np.nan])
    fn = mg.jit(lambda a, b: mg.grad(ops.sum(ops.sqrt(ops.maximum(b, a))), [a, b]))
    for _ in range(3):  # the trace, then the compiled kernel
        got = fn(mg.tensor(a.data, requires_grad=True), mg.tensor(b.data, requires_grad=True))
        np.testing.assert_array_equal(got[0].data, ga.data)
        np.testing.assert_array_equal(got[1].data, gb.data)
