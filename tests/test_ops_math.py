"""The elementwise math rows (issue 15 §2-3): values and dtypes against PyTorch 2.13 live,
on random values and on a row of special values (+-inf, NaN, +-0, bounds of the domains);
gradients of order 1 and 2 against PyTorch's on the op samples; the JIT's Numba templates
against eager on the special values (one compiled function for all rows); the operators
``%`` and ``//``; clamp and nan_to_num."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops
from minigrad.testing.op_samples import SAMPLES

torch = pytest.importorskip("torch")

UNARY = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
         "atanh", "log1p", "expm1", "log2", "log10", "exp2", "erf", "erfc", "floor", "ceil",
         "round", "trunc", "frac", "sign", "abs", "rsqrt", "square"]
BINARY = ["atan2", "minimum", "remainder", "floor_divide", "copysign"]
BOOLEAN = ["logical_not", "isnan", "isinf", "isfinite", "signbit"]
LOGICAL = ["logical_and", "logical_or", "logical_xor"]

SPECIAL = np.array([-np.inf, -1e300, -2.5, -1.5, -1.0, -0.5, -1e-300, -0.0, 0.0, 1e-300, 0.5,
                    1.0, 1.5, 2.5, 1e300, np.inf, np.nan])
_A, _B = np.meshgrid(np.array([-np.inf, -3.0, -1.0, -0.0, 0.0, 2.0, 5.5, np.inf, np.nan]),
                     np.array([-np.inf, -2.0, -0.5, -0.0, 0.0, 1.5, 3.0, np.inf, np.nan]))
PAIRS = (_A.ravel(), _B.ravel())
_TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64,
                 "int32": torch.int32, "bool": torch.bool}


def _same(mine: np.ndarray, theirs: np.ndarray, label: str, rtol: float | None = None) -> None:
    """Equal values (NaN where NaN, infinities, the sign of zeros) to ``rtol`` (by default
    1e-13 for float64 results, 1e-6 (a few ulps) for float32, exact for the others)."""
    if rtol is None:
        rtol = {"float64": 1e-13, "float32": 1e-6}.get(theirs.dtype.name, 0.0)
    assert mine.dtype == theirs.dtype, f"{label}: dtype {mine.dtype} != PyTorch {theirs.dtype}"
    np.testing.assert_allclose(mine.astype(float), theirs.astype(float), rtol=rtol, atol=0,
                               equal_nan=True, err_msg=label)
    zeros = (theirs == 0) & (mine == 0)
    if mine.dtype.kind == "f":
        assert np.array_equal(np.signbit(mine[zeros]), np.signbit(theirs[zeros])), \
            f"{label}: signs of zeros differ: {mine} vs {theirs}"


def _torch_fn(name: str):
    return getattr(torch, ops.OPS[name].torch)


@pytest.mark.parametrize("name", UNARY + BOOLEAN)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "bool"])
def test_unary_values_and_dtypes_match_pytorch(name: str, dtype: str) -> None:
    """Values at the special values and random ones, and the result dtype, of float, int
    and bool inputs; an input PyTorch refuses is refused too."""
    rng = np.random.default_rng(3)
    if dtype.startswith("float"):
        with np.errstate(over="ignore"):  # +-1e300 are infinities in float32
            values = np.concatenate([SPECIAL, rng.standard_normal(8) * 3]).astype(dtype)
    elif dtype == "int64":
        values = np.array([-7, -2, -1, 0, 1, 3, 40])
    else:
        values = np.array([True, False])
    try:
        theirs = _torch_fn(name)(torch.tensor(values)).numpy()
    except RuntimeError:
        with pytest.raises((TypeError, ValueError)):
            getattr(ops, name)(mg.tensor(values))
        return
    with np.errstate(all="ignore"):
        mine = getattr(ops, name)(mg.tensor(values)).numpy()
    _same(mine, theirs, f"{name}({dtype})")


@pytest.mark.parametrize("name", BINARY + LOGICAL)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_binary_values_and_dtypes_match_pytorch(name: str, dtype: str) -> None:
    """Every pair of special values (floats), or of small integers (divisors without 0)."""
    if dtype == "int64":
        a, b = np.meshgrid(np.array([-7, -3, -1, 0, 2, 5]), np.array([-3, -2, -1, 1, 2, 4]))
        a, b = a.ravel(), b.ravel()
    else:
        a, b = (p.astype(dtype) for p in PAIRS)
    theirs = _torch_fn(name)(torch.tensor(a), torch.tensor(b)).numpy()
    mine = getattr(ops, name)(mg.tensor(a), mg.tensor(b)).numpy()
    _same(mine, theirs, f"{name}({dtype})")


def _row_samples() -> list:
    """The op samples that call a new row's wrapper directly (PyTorch has the same
    function under the row's ``torch`` name)."""
    return [pytest.param(name, inputs, id=f"{name}-{k}")
            for name in UNARY + BINARY if ops.OPS[name].vjp is not None
            for k, (fn, inputs) in enumerate(SAMPLES[name]) if fn is getattr(ops, name)]


@pytest.mark.parametrize(("name", "inputs"), _row_samples())
def test_gradients_to_second_order_match_pytorch(name: str, inputs: list) -> None:
    rng = np.random.default_rng(5)
    mine = [mg.tensor(a, requires_grad=True) for a in inputs]
    theirs = [torch.tensor(a, requires_grad=True) for a in inputs]
    out_m, out_t = getattr(ops, name)(*mine), _torch_fn(name)(*theirs)
    w = rng.standard_normal(out_m.shape)
    first_m = mg.grad((out_m * mg.tensor(w)).sum(), mine, create_graph=True)
    first_t = torch.autograd.grad((out_t * torch.tensor(w)).sum(), theirs, create_graph=True)
    vs = [rng.standard_normal(a.shape) for a in inputs]
    second_m: list = [None] * len(mine)  # a piecewise-constant row: constant zeros
    if any(g.requires_grad for g in first_m):
        second_m = mg.grad(sum((g * mg.tensor(v)).sum() for g, v in
                               zip(first_m, vs, strict=True)), mine, allow_unused=True)
    terms = [(g * torch.tensor(v)).sum() for g, v in zip(first_t, vs, strict=True)
             if g.requires_grad]
    second_t = (torch.autograd.grad(sum(terms), theirs, allow_unused=True) if terms
                else [None] * len(theirs))
    for order, got, want in (("1", first_m, first_t), ("2", second_m, second_t)):
        for k, (m, t) in enumerate(zip(got, want, strict=True)):
            m = np.zeros(inputs[k].shape) if m is None else m.numpy()
            t = np.zeros(inputs[k].shape) if t is None else t.detach().numpy(force=True)
            np.testing.assert_allclose(m, t, rtol=1e-10, atol=1e-12,
                                       err_msg=f"{name}: order {order}, input {k}")


def test_jit_templates_give_eager_values_at_special_values() -> None:
    """One compiled function applies every new row to the special values (pairs of them for
    the binary rows): mg.jit equals eager, exactly at NaN, +-inf and zeros (their signs
    too), to 1e-15 elsewhere (one ulp for float32 results)."""
    x, a, b = mg.tensor(SPECIAL), mg.tensor(PAIRS[0]), mg.tensor(PAIRS[1])
    ints = mg.tensor(np.array([-7, -2, 0, 3]))
    safe = [n for n in BINARY if n not in ("remainder", "floor_divide")]

    def everything(x, a, b, ints):
        outs = [getattr(ops, n)(x) for n in UNARY + BOOLEAN]
        outs += [getattr(ops, n)(a, b) for n in [*BINARY, *LOGICAL, "maximum"]]
        outs += [ops.relu(x)]
        outs += [ops.nan_to_num(x), ops.nan_to_num(x, 1.0, 2.0, -3.0)]
        outs += [getattr(ops, n)(ints) for n in ("floor", "round", "sign", "abs", "square")]
        outs += [ops.remainder(ints, 3), ops.floor_divide(ints, -2)]
        outs += [getattr(ops, n)(ints, ints + 9) for n in safe]
        return outs

    with np.errstate(all="ignore"):
        eager = everything(x, a, b, ints)
        compiled = mg.jit(everything)
        compiled(x, a, b, ints)
        jitted = compiled(x, a, b, ints)
    assert compiled.trace_count == 1
    for k, (e, j) in enumerate(zip(eager, jitted, strict=True)):
        e, j = e.numpy(), j.numpy()
        assert e.dtype == j.dtype, k
        special = ~np.isfinite(e) | (e == 0)  # exactly: NaN, +-inf, the signs of zeros
        assert np.array_equal(e[special], j[special], equal_nan=True), f"output {k}: {e} {j}"
        assert np.array_equal(np.signbit(e[e == 0]), np.signbit(j[e == 0])), k
        # other values to a few ulps (scipy's erf and libm's differ in the last bits; a
        # float32 result, e.g. atan2 of integers, to one float32 ulp: numpy's AVX-512
        # float32 atan2 and Numba's differ in the last bit on AMD EPYC model 17)
        rtol = float(np.finfo(np.float32).eps) if e.dtype == np.float32 else 1e-15
        np.testing.assert_allclose(j[~special], e[~special], rtol=rtol, err_msg=str(k))


def test_remainder_and_floor_divide_operators_follow_python() -> None:
    a = np.array([5.0, -5.0, 5.0, -5.0, 7.5, -0.0])
    b = np.array([3.0, 3.0, -3.0, -3.0, 2.0, 2.0])
    for x, y in ((a, b), (a.astype(np.int64), b.astype(np.int64))):
        got_mod, got_div = mg.tensor(x) % mg.tensor(y), mg.tensor(x) // mg.tensor(y)
        assert got_mod.tolist() == [float(p % q) if x.dtype.kind == "f" else int(p % q)
                                    for p, q in zip(x.tolist(), y.tolist(), strict=True)]
        assert got_div.tolist() == [p // q for p, q in zip(x.tolist(), y.tolist(), strict=True)]
        assert got_mod.dtype == x.dtype and got_div.dtype == x.dtype
    assert (7 % mg.tensor([3, -3])).tolist() == [1, -2]
    assert (7 // mg.tensor([2, -2])).tolist() == [3, -4]
    assert (mg.tensor([5, 6]) % 2.5).dtype == np.float32  # PyTorch's: a float scalar


def test_integer_division_by_zero_is_a_clear_error() -> None:
    for op in (ops.remainder, ops.floor_divide):
        with pytest.raises(ZeroDivisionError, match=r"integer division by zero.*int64"):
            op(mg.tensor([1, 2]), mg.tensor([1, 0]))


def test_tensor_methods_come_from_the_rows() -> None:
    x = mg.tensor([0.25, -1.5])
    for name in [*UNARY, "isnan", "isinf", "isfinite", "logical_not", "nan_to_num"]:
        assert np.array_equal(getattr(x, name)().numpy(), getattr(ops, name)(x).numpy(),
                              equal_nan=True), name


@pytest.mark.parametrize("bounds", [(-0.5, 1.0), (None, 0.0), (0.0, None), (1.0, -1.0)])
def test_clamp_values_and_gradients_match_pytorch(bounds) -> None:
    """Numbers as bounds, one-sided, min > max (everything is max); the gradient reaches x
    inside [min, max] bounds included."""
    values = np.array([-2.0, -0.5, 0.0, 0.3, 1.0, 4.0, np.nan])
    mine, theirs = mg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    out_m, out_t = mine.clamp(*bounds), theirs.clamp(*bounds)
    _same(out_m.numpy(), out_t.detach().numpy(), f"clamp{bounds}", 0)
    out_m.sum().backward()
    out_t.sum().backward()
    _same(mine.grad.numpy(), theirs.grad.numpy(), f"clamp{bounds} grad", 0)
    assert np.array_equal(ops.clip(mine, *bounds).numpy(), out_m.numpy(), equal_nan=True)


def test_clamp_with_tensor_bounds_matches_pytorch() -> None:
    rng = np.random.default_rng(2)
    x, lo, hi = rng.standard_normal((3, 4)), rng.standard_normal(4) - 0.5, rng.standard_normal(4)
    x[0, :2] = lo[:2]  # ties with the bound
    mine = [mg.tensor(v, requires_grad=True) for v in (x, lo, hi)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, lo, hi)]
    out_m, out_t = ops.clamp(*mine), torch.clamp(*theirs)
    _same(out_m.numpy(), out_t.detach().numpy(), "clamp tensors", 0)
    w = rng.standard_normal((3, 4))
    (out_m * mg.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    for m, t, label in zip(mine, theirs, ("x", "min", "max"), strict=True):
        _same(m.grad.numpy(), t.grad.numpy(), f"clamp d{label}", 1e-15)
    lo[3], hi[1] = np.nan, np.nan  # a NaN bound gives NaN
    _same(ops.clamp(mg.tensor(x), mg.tensor(lo), mg.tensor(hi)).numpy(),
          torch.clamp(*(torch.tensor(v) for v in (x, lo, hi))).numpy(), "NaN bounds", 0)


def test_clamp_dtypes_and_errors() -> None:
    assert mg.tensor([1, 5]).clamp(2, 3).dtype == np.int64
    assert mg.tensor([1, 5]).clamp(min=1.5).dtype == np.float32  # as PyTorch
    with pytest.raises(ValueError, match="clamp: at least one of min and max"):
        ops.clamp(mg.tensor([1.0]))


def test_nan_to_num_matches_pytorch() -> None:
    values = np.array([np.nan, np.inf, -np.inf, 1.5, -0.0])
    for dtype in ("float32", "float64"):
        for args in ((), (1.0, 2.0, -3.0)):
            mine = mg.tensor(values.astype(dtype), requires_grad=True)
            theirs = torch.tensor(values.astype(dtype), requires_grad=True)
            out_m, out_t = mine.nan_to_num(*args), theirs.nan_to_num(*args)
            _same(out_m.numpy(), out_t.detach().numpy(), f"nan_to_num{args} {dtype}", 0)
            out_m.sum().backward()
            out_t.sum().backward()
            _same(mine.grad.numpy(), theirs.grad.numpy(), "nan_to_num grad", 0)
