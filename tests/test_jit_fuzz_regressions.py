"""Programs the differential fuzzer (minigrad.testing.fuzz) found wrong, shrunk, kept as
regression tests. Each states what was wrong and is checked eagerly and under mg.jit."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops


def test_no_gradient_through_a_cast_to_bool_or_int() -> None:
    """Found against PyTorch: d/db of a * cast(b, bool) was a (the gradient flowed through
    the cast); a cast to bool or int is piecewise constant, so db = 0 (PyTorch: None)."""
    for dtype in ("bool", "int64"):
        def grads(a, b, dtype=dtype):
            return mg.grad(ops.sum(ops.mul(a, ops.cast(b, dtype))), [a, b], allow_unused=True)

        compiled = mg.jit(grads)
        for fn in (grads, compiled, compiled):  # eager, the trace, the kernel
            a = mg.tensor(np.array([1.5, -2.0]), requires_grad=True)
            b = mg.tensor(np.array([1.5, 0.0]), requires_grad=True)
            ga, gb = fn(a, b)
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

    # at the NaN, g above is NaN anyway: a finite g there shows both sides get it (PyTorch:
    # [0, 1, 0.5, 1] and [1, 0, 0.5, 1]; the mask rule gave b's side 0)
    def plain(a, b):
        return mg.grad(ops.sum(ops.maximum(b, a)), [a, b])

    compiled = mg.jit(plain)
    for fn in (plain, compiled, compiled):  # eager, the trace, the kernel
        got = fn(mg.tensor(a.data, requires_grad=True), mg.tensor(b.data, requires_grad=True))
        np.testing.assert_array_equal(got[0].data, [0.0, 1.0, 0.5, 1.0])
        np.testing.assert_array_equal(got[1].data, [1.0, 0.0, 0.5, 1.0])


def test_integer_power_with_a_fractional_or_negative_exponent_is_float32() -> None:
    """Found by `make fuzz N=40 SEED=5609539`: int ** 0.5 was numpy's integer power with
    the exponent cast to int (4 ** 0.5 = 1, -1 ** 0.5 = 1) eagerly, while the kernel computed
    in floats. Like PyTorch, a float exponent gives float32 (2.0 too: PyTorch's promotion
    with a Python float); a whole int exponent >= 0 keeps the integers."""
    x = np.array([4, -1, 0, 9])
    fn = mg.jit(lambda a: (a ** 0.5, a ** -1.0, a ** 2.0, a ** 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        floats = x.astype(np.float32)
        expected = (np.sqrt(floats), 1 / floats, floats * floats, x * x)
    for k in range(3):  # the trace, then the compiled kernel
        arg = mg.tensor(np.roll(x, k))
        eager = (arg ** 0.5, arg ** -1.0, arg ** 2.0, arg ** 2)
        for e, g, want in zip(eager, fn(arg), expected, strict=True):
            assert e.dtype == g.dtype == want.dtype
            np.testing.assert_array_equal(e.data, np.roll(want, k))
            np.testing.assert_array_equal(g.data, np.roll(want, k))


INT_ARRAY_KEYS = [  # (key, the result's shape in PyTorch for x of shape (5, 6, 7))
    ((0, slice(None), [0, 1]), (6, 2)),      # numpy: (2, 6)
    ((0, Ellipsis, [0, 1]), (6, 2)),         # numpy: (2, 6)
    ((None, 0, slice(None), [3, 1]), (1, 6, 2)),  # numpy: (2, 1, 6)
    ((slice(None), 0, [1, 2]), (5, 2)),      # numpy agrees
    (([1, 2], slice(None), 3), (2, 6)),      # numpy agrees
]


def _staged(x: np.ndarray, key: tuple) -> np.ndarray:
    """PyTorch's rule written with numpy: the integers select first, then the rest."""
    first = tuple(part if isinstance(part, int) or part is None or part is Ellipsis
                  else slice(None) for part in key)
    rest = tuple(slice(None) if part is None else part for part in key
                 if not isinstance(part, int))
    return x[first][rest]


def test_integers_beside_index_arrays_place_axes_like_pytorch() -> None:
    """Found against PyTorch by `make fuzz N=40 SEED=5609539`: x[0, :, [0, 1]] followed
    numpy's rule (the array's axis first); PyTorch selects with the integers first. Values
    and gradients, eager and compiled with the index array as an argument."""
    x = np.random.default_rng(0).standard_normal((5, 6, 7))
    for key, shape in INT_ARRAY_KEYS:
        t = mg.tensor(x, requires_grad=True)
        out = t[key]
        assert out.shape == shape, key
        np.testing.assert_array_equal(out.data, _staged(x, key))
        (g,) = mg.grad(out.sum(), [t])
        counts = np.zeros_like(x)
        np.add.at(counts.reshape(-1), _staged(np.arange(x.size).reshape(x.shape), key), 1.0)
        np.testing.assert_array_equal(g.data, counts)
        if Ellipsis in key:  # beside a runtime index array: refused by mg.jit (index.py)
            continue
        at = next(k for k, part in enumerate(key) if isinstance(part, list))
        fn = mg.jit(lambda t, i, key=key, at=at: (t[(*key[:at], i, *key[at + 1:])]
                                                  * 2.0).sum())
        for rows in (key[at], [4, 0], [1, 1]):  # the trace, then the compiled kernel
            full = (*key[:at], rows, *key[at + 1:])
            np.testing.assert_allclose(fn(t, mg.tensor(np.array(rows))).data,
                                       2.0 * _staged(x, full).sum(), rtol=1e-12)


def test_integers_beside_index_arrays_against_live_pytorch() -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((5, 6, 7))
    for key, _ in INT_ARRAY_KEYS:
        tx = torch.tensor(x, requires_grad=True)
        ref = tx[tuple(torch.tensor(p) if isinstance(p, list) else p for p in key)]
        (ref ** 2).sum().backward()
        t = mg.tensor(x, requires_grad=True)
        (g,) = mg.grad((t[key] ** 2).sum(), [t])
        np.testing.assert_allclose(t[key].data, ref.detach().numpy(), rtol=0, atol=0)
        np.testing.assert_allclose(g.data, tx.grad.numpy(), rtol=1e-12)


SPECIAL = np.array([-np.inf, -2.0, -0.0, 0.0, 0.25, 2.0, np.inf, np.nan])
# PyTorch 2.13's torch.pow(torch.tensor(SPECIAL), p) (its pow kernel computes 0.5 by sqrt,
# -0.5 by rsqrt, 2 by x * x): written out so the test runs without torch.
POW_REFERENCE = {
    0.5: [np.nan, np.nan, -0.0, 0.0, 0.5, np.sqrt(2.0), np.inf, np.nan],
    -0.5: [np.nan, np.nan, -np.inf, np.inf, 2.0, 1 / np.sqrt(2.0), 0.0, np.nan],
    2.0: [np.inf, 4.0, 0.0, 0.0, 0.0625, 4.0, np.inf, np.nan],
    1.5: [np.inf, np.nan, 0.0, 0.0, 0.125, 2.0 ** 1.5, np.inf, np.nan],
}


def test_pow_at_infinities_and_zeros_follows_pytorch() -> None:
    """Found at seed 99445385: sqrt(a + log(b / c)) with log(...) = -inf gave NaN eagerly
    (numpy, like PyTorch, takes ** 0.5 as sqrt) and +inf compiled (C's pow(-inf, 0.5)).
    The exponents PyTorch computes with another function (0.5 sqrt, -0.5 rsqrt, 2 x * x)
    are one table in ops.py for eager and Numba; eager numpy gave 0 for (-inf) ** -0.5."""
    exponents = list(POW_REFERENCE)
    fn = mg.jit(lambda t: tuple(t ** p for p in exponents))
    for k in range(3):  # eager and the trace, then the compiled kernel
        got = fn(mg.tensor(np.roll(SPECIAL, k)))
        for p, result in zip(exponents, got, strict=True):
            want = np.roll(POW_REFERENCE[p], k)
            np.testing.assert_allclose((mg.tensor(np.roll(SPECIAL, k)) ** p).data, want,
                                       rtol=1e-15, err_msg=f"eager ** {p}")
            np.testing.assert_allclose(result.data, want, rtol=1e-15, err_msg=f"jit ** {p}")
            numbers = ~np.isnan(want)  # -0.0 vs 0.0 too; a NaN's sign means nothing
            assert np.array_equal(np.signbit(result.data[numbers]), np.signbit(want[numbers]))


def test_pow_at_infinities_and_zeros_against_live_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for p, want in POW_REFERENCE.items():
        np.testing.assert_allclose(torch.pow(torch.tensor(SPECIAL), p).numpy(), want,
                                   rtol=1e-15, err_msg=str(p))


def test_batch_norm_dx_with_an_infinite_weight_is_inf_not_nan() -> None:
    """Found at seed 99445385: batch_norm_dx(g, x, w) with w = relu(a) ** -1.5 = inf where
    a <= 0: eager's w * s * (bracket) is +-inf there, the compiled (N, C) kernel summed
    A g + A B (x - mean) + A C0 and gave inf - inf = NaN. Now A multiplies the bracket."""
    from minigrad.fused_bn import batch_norm_dx

    rng = np.random.default_rng(3)
    fn = mg.jit(lambda g, x, a: batch_norm_dx(g, x, ops.relu(a) ** -1.5, axes=(0,), eps=1e-3))
    for k in range(3):  # the trace, then the compiled kernel
        x = rng.standard_normal((4, 3))
        a = np.array([0.5, -1.0, 2.0])  # channel 1: w = inf
        args = [mg.tensor(x), mg.tensor(x), mg.tensor(a)]
        eager = batch_norm_dx(args[0], args[1], ops.relu(args[2]) ** -1.5, axes=(0,), eps=1e-3)
        assert np.isinf(eager.data[:, 1]).all() and np.isfinite(eager.data[:, [0, 2]]).all()
        got = fn(*args)
        np.testing.assert_allclose(got.data, eager.data, rtol=1e-12, err_msg=f"call {k}")


# PyTorch 2.13: torch.<op>(torch.tensor([True, False])) and (torch.tensor([1, 2])), float32
FLOAT_OF_INTEGERS = {
    "sqrt": ([1.0, 0.0], [1.0, 1.4142135381698608]),
    "exp": ([2.7182817459106445, 1.0], [2.7182817459106445, 7.389056205749512]),
    "log": ([0.0, -np.inf], [0.0, 0.6931471824645996]),
    "tanh": ([0.7615941762924194, 0.0], [0.7615941762924194, 0.9640275835990906]),
    "sigmoid": ([0.7310585975646973, 0.5], [0.7310585975646973, 0.8807970285415649]),
}


def test_float_functions_of_integers_and_booleans_are_float32() -> None:
    """make fuzz N=40 SEED=5620836 refused 4 of 13 programs: numpy gives float16 for exp,
    log, sqrt, tanh of bool (and int8) inputs, which mg.jit cannot compute; of int64, float64;
    sigmoid of integers was integer zeros, of bool a TypeError. PyTorch computes them in
    float32: the rows say so (Op.floats_integers), eager and compiled alike."""
    inputs = (np.array([True, False]), np.array([1, 2]))
    for name, expected in FLOAT_OF_INTEGERS.items():
        fn = mg.jit(lambda t, name=name: ops.apply(ops.OPS[name], t))
        for x, want in zip(inputs, expected, strict=True):
            for run in (lambda t, name=name: ops.apply(ops.OPS[name], t), fn, fn):
                with np.errstate(divide="ignore"):
                    got = run(mg.tensor(x))
                assert got.dtype == np.float32, (name, x.dtype)
                np.testing.assert_allclose(got.data, want, rtol=2e-7, err_msg=name)


def test_float_functions_of_integers_against_live_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for name, expected in FLOAT_OF_INTEGERS.items():
        for x, want in zip(([True, False], [1, 2]), expected, strict=True):
            got = getattr(torch, name)(torch.tensor(x))
            assert got.dtype == torch.float32
            np.testing.assert_array_equal(got.numpy(), np.float32(want))


def test_normalize_gradient_with_an_infinite_upstream_gradient() -> None:
    """Found by make fuzz N=300 SEED=77123457 (program 86): the gradient of normalize
    (eps 0) when the gradient reaching it holds inf (a division by 0 above). Eager sums
    g * xhat directly (-inf at one place); the kernel's shifted one-pass sums took
    sum(g (x - K)) - c sum(g) = inf - inf = NaN everywhere. Now the kernel's non-finite
    check sends such calls to the fallback kernel (direct sums), and finite calls never
    compile it."""
    x = np.array([[[1.7669420133066187, 0.8668471489826708, -0.5124194596442435,
                    -0.021491351048269363]]])
    a1 = np.array([[[3, 1, -1, 1]], [[1, 3, 0, 3]], [[-2, -1, 0, 1]]])

    def f(x, a1):
        out = ops.div(ops.apply(ops.OPS["normalize"], x, axes=(0, 2), eps=0.0), a1)
        return mg.grad(ops.sum(out), [x])[0]

    fn = mg.jit(f)
    finite = np.where(a1 == 0, 2, a1)
    with np.errstate(all="ignore"):
        for call, divisor in enumerate((finite, finite, a1, finite, a1)):
            args = [mg.tensor(x, requires_grad=True), mg.tensor(divisor)]
            eager, got = f(*args).data, fn(*args).data
            assert np.isinf(eager).any() == (divisor is a1)
            np.testing.assert_allclose(got, eager, rtol=1e-12, atol=0)  # same infs, NaNs
            if call == 1:  # the trace, then one kernel call: the fallback not compiled
                assert fn.last.fallback.kernel is None
    assert fn.last.fallback.runs == 2
    assert fn.stats()["traces"] == 1


def test_batch_norm_of_an_infinite_first_sample() -> None:
    """The shift K is x's first sample per channel: K = inf made every e = x - K NaN (and
    -inf elsewhere) where eager's mean is inf and its variance NaN. The non-finite check
    catches the shifted mean too: values equal eager's, NaN for NaN, inf for inf."""
    def f(x):
        mean = ops.mean(x, 0, keepdims=True)
        centred = ops.sub(x, mean)
        return ops.mean(ops.mul(centred, centred), 0), mean

    fn = mg.jit(f)
    clean = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.25]])
    spoiled = clean.copy()
    spoiled[0, 1] = np.inf
    with np.errstate(all="ignore"):
        for x in (clean, clean, spoiled, clean):
            want = [t.data for t in f(mg.tensor(x))]
            got = [t.data for t in fn(mg.tensor(x))]
            for g, w in zip(got, want, strict=True):
                np.testing.assert_allclose(g, w, rtol=1e-12, atol=0)
    assert fn.last.fallback is not None and fn.last.fallback.runs == 1


@pytest.mark.parametrize("row", ["fmod", "remainder", "floor_divide"])
def test_integer_division_by_a_zero_computed_in_the_kernel_raises_as_eager(row) -> None:
    """Found by the fuzzer (seed 741852963, program 82): eager refuses an integer divisor
    holding a zero (ZeroDivisionError, as PyTorch); the kernel computed C's fmod of floats
    and returned -2**63. The divisor here is computed inside the kernel (b + 1), so no
    check outside it could see the zero; it is checked element by element where it is
    read (jit/value_checks.py), with eager's message, also in a loop over 70,000 elements
    (a parallel loop)."""
    divide = getattr(mg, row)

    def f(a, b, x):
        q = divide(a, b + 1)
        return (x * q).sum(), q

    for size in (3, 70_000):
        compiled = mg.jit(f, background=False)
        x = mg.tensor(np.ones(size), requires_grad=True)
        a = mg.tensor(np.arange(7, 7 + size) * np.where(np.arange(size) % 2, -1, 1))
        fine = mg.tensor(np.full(size, 2))
        zero = mg.tensor(np.where(np.arange(size) == size - 2, -1, 2))
        for _ in range(2):  # the trace, then the kernel
            np.testing.assert_array_equal(compiled(a, fine, x)[1].data, f(a, fine, x)[1].data)
        with pytest.raises(ZeroDivisionError) as eager:
            f(a, zero, x)
        with pytest.raises(ZeroDivisionError) as jitted:
            compiled(a, zero, x)
        assert str(jitted.value) == str(eager.value)
        assert f"divisor of shape ({size},), dtype int64" in str(jitted.value)
        assert compiled.stats()["compiles"] == 1  # the kernel raised, not an eager rerun


def test_signbit_of_nan_is_false_eagerly_and_compiled() -> None:
    """Found by the fuzzer (seed 741852963, program 168): signbit(acos(x)) at x = 1.004 was
    True eagerly (numpy's arccos gives -nan) and False compiled (libm's gives +nan). The
    sign of a NaN depends on the code that made it, so signbit reports none: False at NaN,
    the sign bit elsewhere (-0.0 included)."""
    def f(x):
        return ops.signbit(ops.acos(x)), ops.signbit(x)

    compiled = mg.jit(f, background=False)
    x = np.array([1.004, -1.6, 2.77, 0.5, -0.0, 0.0, -1.0, np.nan, -np.nan, -np.inf])
    for _ in range(3):  # the trace, then the kernel
        for got in (f(mg.tensor(x)), compiled(mg.tensor(x))):
            np.testing.assert_array_equal(got[0].data, [False] * 10)
            np.testing.assert_array_equal(
                got[1].data, [False, True, False, False, True, False, True, False, False, True])


def test_copysign_from_a_nan_is_positive_eagerly_and_compiled() -> None:
    """Found by the fuzzer (seed 5151, program 24): copysign(a, acos(2.0)) took -nan's
    sign eagerly (numpy) and +nan's compiled (libm). A NaN sign source counts as positive;
    -0.0 still counts as negative."""
    def f(a, b):
        return ops.copysign(a, ops.acos(b)), ops.copysign(a, b)

    compiled = mg.jit(f, background=False)
    a = np.array([1.5, -2.0, 3.0, -4.0, 5.0])
    b = np.array([2.0, -3.0, np.nan, -np.nan, -0.0])
    for _ in range(3):  # the trace, then the kernel
        for got in (f(mg.tensor(a), mg.tensor(b)), compiled(mg.tensor(a), mg.tensor(b))):
            np.testing.assert_array_equal(got[0].data, np.abs(a))
            np.testing.assert_array_equal(got[1].data, [1.5, -2.0, 3.0, 4.0, -5.0])
