"""Elementwise math rows of two inputs: minimum, atan2, remainder (``%``), floor_divide
(``//``), copysign, fmod, the shifts (``<< >>``), xlogy, pow_tensor (``x ** t``). Each is
one ``binary`` call."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ArgumentTypeError
from ..tensor import Tensor
from .core import FLOAT, _const, only_needed, unbroadcast
from .elementwise import add, div, log, mul, neg, sub, where
from .movement import broadcast_to
from .rows import binary


def _minimum_vjp(g: Tensor, out: Tensor, a: Tensor, b: Tensor) -> tuple:
    """da = 0 where a > b, g/2 at ties, else g (and db likewise), as maximum's."""
    zero, share = _const(0.0, g), where(equal(a, b), mul(g, 0.5), g)
    return only_needed(lambda: unbroadcast(where(greater(a, b), zero, share), a.shape),
                       lambda: unbroadcast(where(less(a, b), zero, share), b.shape))


MINIMUM, minimum = binary(
    "minimum", np.minimum, _minimum_vjp,
    ("{g} * ([{0} < {1}] + [{0} == {1}] / 2)", "{g} * ([{1} < {0}] + [{0} == {1}] / 2)"),
    "min({0}, {1})",
    doc="Elementwise min(a, b); at ties each side gets half the gradient (PyTorch's rule).",
    numba="({0} if ({0} < {1} or {0} != {0}) else {1})",  # numpy's: NaN, b at ties (+-0)
    torch="minimum",
)


def _atan2_vjp(g: Tensor, out: Tensor, a: Tensor, b: Tensor) -> tuple:
    # 0 at the origin, as PyTorch's (b / (a^2 + b^2) is 0/0 there); the divisor is made
    # 1 there first, so no inf enters the gradient's own gradient
    radius2 = add(mul(a, a), mul(b, b))
    origin = equal(radius2, 0.0)
    scale = where(origin, 0.0, div(g, where(origin, 1.0, radius2)))
    return only_needed(lambda: unbroadcast(mul(scale, b), a.shape),
                       lambda: unbroadcast(neg(mul(scale, a)), b.shape))


def _atan2_forward(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.arctan2(a, b)


ATAN2, atan2 = binary(
    "atan2", _atan2_forward, _atan2_vjp,
    ("{g} * {1} / ({0}^2 + {1}^2)", "-{g} * {0} / ({0}^2 + {1}^2)"), "np.arctan2({0}, {1})",
    doc="The angle of the point (b, a): atan(a / b) in the right quadrant; "
        "d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2) (0 at the origin, as PyTorch).",
    dtype_rule=FLOAT, torch="atan2",
)


def _integer_zero_message(name: str) -> Any:
    """The message of ``name``'s integer division by zero, from the divisor's shape and
    dtype (eager's, and the JIT's: ``Op.integer_zero_message``)."""
    def message(shape: tuple[int, ...], dtype: np.dtype) -> str:
        return (f"{name}: integer division by zero (divisor of shape {tuple(shape)}, dtype "
                f"{np.dtype(dtype)}, holds zeros)")
    return message


def _refuse_integer_zero(name: str, a: np.ndarray, b: np.ndarray) -> None:
    """Integer division by zero is an error (PyTorch's ZeroDivisionError; numpy gives 0)."""
    if a.dtype.kind in "biu" and b.dtype.kind in "biu" and not np.all(b):
        raise ZeroDivisionError(_integer_zero_message(name)(b.shape, b.dtype))


def _remainder_forward(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a - b * floor(a / b), the sign of b (Python's and PyTorch's rule), from C's fmod (the
    sign of a) plus b where the signs differ; -0.0 % 2 is -0.0 as in PyTorch (numpy: 0.0)."""
    _refuse_integer_zero("remainder", a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        fmod = np.fmod(a, b)
        return np.where((fmod != 0) & ((fmod < 0) != (b < 0)), fmod + b, fmod)


def _remainder_vjp(g: Tensor, out: Tensor, a: Tensor, b: Tensor) -> tuple:
    return only_needed(lambda: unbroadcast(g, a.shape),
                       lambda: unbroadcast(neg(mul(g, floor_divide(a, b))), b.shape))


# C's fmod in float64 (exact for float32 and for integers below 2**53; Numba's integer
# np.fmod is wrong: fmod(-7, 3) gave 0).
_FMOD = "np.fmod(np.float64({0}), np.float64({1}))"
REMAINDER, remainder = binary(
    "remainder", _remainder_forward, _remainder_vjp,
    ("{g}", "-{g} * floor({0} / {1})"), "({0} % {1})",
    doc="a - b * floor(a / b): the remainder with the sign of b (Python's ``%``, PyTorch's "
        "remainder); d/da = 1, d/db = -floor(a / b).",
    numba=f"({_FMOD} + {{1}} if ({_FMOD} != 0 and (({_FMOD} < 0) != ({{1}} < 0))) "
          f"else {_FMOD})",
    torch="remainder", operator="mod", integer_zero_message=_integer_zero_message("remainder"),
)


def _floor_divide_forward(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """floor(a / b) (Python's ``//``, PyTorch's floor_divide)."""
    _refuse_integer_zero("floor_divide", a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.floor_divide(a, b)


def _floor_divide_template() -> str:
    """numpy's floor division (npy_floor_divide, which PyTorch's matches) as one Numba
    expression: a / b when b is 0; else d = (a - fmod(a, b)) / b, less 1 when the remainder
    and b differ in sign, rounded to the nearest whole number; +-0 by the sign of a / b.
    (Numba's own np.floor_divide differs at infinities: -3 // inf is -0.0, not -1.)"""
    mod = _FMOD
    div = (f"(({{0}} - {mod}) / {{1}} - (1.0 if ({mod} != 0 and "
           f"(({mod} < 0) != ({{1}} < 0))) else 0.0))")
    rounded = f"(np.floor({div}) + (1.0 if {div} - np.floor({div}) > 0.5 else 0.0))"
    whole = f"({rounded} if {div} != 0 else np.copysign(0.0, {{0}} / {{1}}))"
    return f"(({{0}} / {{1}}) if {{1}} == 0 else {whole})"


FLOOR_DIVIDE, floor_divide = binary(
    "floor_divide", _floor_divide_forward, None, ("", ""), "({0} // {1})",
    doc="floor(a / b) (Python's ``//``); no gradient, as in PyTorch.",
    numba=_floor_divide_template(), torch="floor_divide", operator="floordiv",
    integer_zero_message=_integer_zero_message("floor_divide"),
)


def _copysign_vjp(g: Tensor, out: Tensor, a: Tensor, b: Tensor) -> tuple:
    """da = g * out / a (the sign flip), 0 at a = 0; db = 0 (PyTorch's)."""
    zero = _const(0.0, g)
    return only_needed(
        lambda: unbroadcast(where(equal(a, 0.0), zero, div(mul(g, out), a)), a.shape),
        lambda: broadcast_to(zero, b.shape))


def _copysign_forward(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a| with b's sign; a NaN b counts as positive (see COPYSIGN)."""
    return np.copysign(a, np.where(np.isnan(b), np.ones((), b.dtype), b))


# A NaN's sign depends on the code that made it (numpy's arccos of 2 is -nan, libm's in
# compiled code +nan: fuzz seed 5151, program 24, copysign(a, acos(2.0)) differed between
# eager and mg.jit), so a NaN sign source counts as positive, as signbit reports no sign
# for NaN (ops/logical.py).
COPYSIGN, copysign = binary(
    "copysign", _copysign_forward, _copysign_vjp, ("{0} == 0 ? 0 : {g} * {out} / {0}", "0"),
    "np.copysign({0}, ({1} if {1} == {1} else 1.0))",
    doc="|a| with the sign of b (-0.0 counts as negative, NaN as positive); d/da = sign(a) "
        "sign(b), 0 at a = 0, d/db = 0.",
    dtype_rule=FLOAT, torch="copysign",
)



def _fmod_forward(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C's fmod: a - b * trunc(a / b), the sign of a (PyTorch's fmod)."""
    _refuse_integer_zero("fmod", a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.fmod(a, b)


def _fmod_vjp(g: Tensor, out: Tensor, a: Tensor, b: Tensor) -> tuple:
    return only_needed(lambda: unbroadcast(g, a.shape),
                       lambda: unbroadcast(neg(mul(g, trunc(div(a, b)))), b.shape))


FMOD, fmod = binary(
    "fmod", _fmod_forward, _fmod_vjp, ("{g}", "-{g} * trunc({0} / {1})"), "fmod({0}, {1})",
    doc="a - b * trunc(a / b): the remainder with the sign of a (C's fmod, PyTorch's fmod); "
        "d/da = 1, d/db = -trunc(a / b).",
    numba=_FMOD, torch="fmod", integer_zero_message=_integer_zero_message("fmod"),
)


def _shift(name: str, shift: np.ufunc, beyond: str) -> Any:
    """``shift`` of integers by 0 <= s < 64 bits; further or negative shifts give 0 (left)
    or the sign (right), as PyTorch (C leaves them undefined)."""
    def forward(a: np.ndarray, s: np.ndarray) -> np.ndarray:
        if a.dtype.kind not in "iu":
            raise ArgumentTypeError(f"{name}: integer tensors only, got {a.dtype} {a.shape} and "
                                    f"{s.dtype} {s.shape} (PyTorch refuses floats and bools too)")
        inside = (s >= 0) & (s < 64)
        fill = np.where(a < 0, -1, 0) if beyond == "sign" else 0
        return np.where(inside, shift(a, np.where(inside, s, 0)), fill).astype(a.dtype)

    return forward


BITWISE_LEFT_SHIFT, bitwise_left_shift = binary(
    "bitwise_left_shift", _shift("bitwise_left_shift", np.left_shift, "zero"), None, ("", ""),
    "({0} << {1})", doc="a << s: a * 2**s in integers (0 for s < 0 or s >= 64); no gradient.",
    numba="(({0} << {1}) if (0 <= {1} < 64) else 0)", torch="bitwise_left_shift",
    operator="lshift")
BITWISE_RIGHT_SHIFT, bitwise_right_shift = binary(
    "bitwise_right_shift", _shift("bitwise_right_shift", np.right_shift, "sign"), None,
    ("", ""), "({0} >> {1})",
    doc="a >> s: floor(a / 2**s) in integers (the sign for s < 0 or s >= 64); no gradient.",
    numba="(({0} >> {1}) if (0 <= {1} < 64) else (-1 if {0} < 0 else 0))",
    torch="bitwise_right_shift", operator="rshift")


def _xlogy_forward(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x * log(y), 0 where x = 0 (log(0) and log of negatives included), NaN where y is."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(x == 0, np.zeros((), np.result_type(x, y)), x * np.log(y))
    return np.where(np.isnan(y), y, out)


def _xlogy_vjp(g: Tensor, out: Tensor, x: Tensor, y: Tensor) -> tuple:
    """PyTorch's rules: dx = xlogy(g, y), 0 where x = 0 and y <= 0; dy = g x / y."""
    flat = logical_and(equal(x, 0.0), less_equal(y, 0.0))
    return only_needed(
        lambda: unbroadcast(where(flat, _const(0.0, g), xlogy(g, y)), x.shape),
        lambda: unbroadcast(mul(g, div(x, y)), y.shape))


XLOGY, xlogy = binary(
    "xlogy", _xlogy_forward, _xlogy_vjp,
    ("({0} == 0) & ({1} <= 0) ? 0 : {g} * log({1})", "{g} * {0} / {1}"),
    "xlogy({0}, {1})",
    doc="x log(y), 0 where x = 0, NaN where y is NaN (PyTorch's xlogy); d/dx = log(y) (0 "
        "where x = 0 and y <= 0), d/dy = x / y.",
    numba="({1} if {1} != {1} else (0.0 if {0} == 0 else {0} * np.log({1})))",
    dtype_rule=FLOAT, torch="xlogy",
)

# ---------------------------------------------------------------- pow, tensor exponent
def _integer_power(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """PyTorch's integer pow: numpy's for t >= 0 (wrapping on overflow as PyTorch's);
    for t < 0 (numpy raises) 1 ** t = 1, (-1) ** t = -1 or 1 by the parity of t, else 0."""
    whole = np.power(x, np.maximum(t, 0))
    if not np.any(t < 0):
        return whole
    unit = np.where(x == -1, np.where(t % 2 != 0, -1, 1), np.where(x == 1, 1, 0))
    return np.where(t < 0, unit.astype(whole.dtype), whole)


def _pow_tensor_forward(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """x ** t elementwise by C's pow (PyTorch's for a tensor exponent: 0 ** -1 = inf,
    (-2) ** 3 = -8, (-inf) ** 2 = inf, (-3) ** 0.5 = NaN)."""
    if x.dtype.kind == "b":
        raise ArgumentTypeError(f"pow: bool ** bool (shapes {x.shape} and {t.shape}) is not "
                                "defined (PyTorch refuses it too); cast to an integer or float "
                                "dtype")
    if x.dtype.kind in "iu":
        return _integer_power(x, t)
    with np.errstate(all="ignore"):
        return np.power(x, t)


def _pow_tensor_vjp(g: Tensor, out: Tensor, x: Tensor, t: Tensor) -> tuple:
    """PyTorch's rules: dx = t x**(t-1) g, 0 where t = 0; dt = x**t ln(x) g, 0 where
    x = 0 and t >= 0 (so 0 ** t and x ** 0 have finite gradients at 0). The log reads 1
    where its branch is not taken, so the derivatives of dt are 0 there too (PyTorch's
    d2/dt2 of 0 ** t is NaN: 0 * log(0) in the branch it does not take)."""
    zero = _const(0.0, g)

    def dx() -> Tensor:
        slope = mul(t, pow_tensor(x, sub(t, 1.0)))
        return unbroadcast(where(equal(t, 0.0), zero, mul(g, slope)), x.shape)

    def dt() -> Tensor:
        flat = logical_and(equal(x, 0.0), greater_equal(t, 0.0))
        safe_log = log(where(flat, 1.0, x))
        return unbroadcast(mul(g, where(flat, zero, mul(out, safe_log))), t.shape)

    return only_needed(dx, dt)


# Numba's integer 0 ** -1 is INT_MIN (np.power) or an exception (**); PyTorch's is 0. The
# third test tells integers (2 ** -1 = 0) from floats (0.5), whose 0 ** -1 is inf.
POW_TENSOR, pow_tensor = binary(
    "pow_tensor", _pow_tensor_forward, _pow_tensor_vjp,
    ("{1} == 0 ? 0 : {1} * {0}^({1}-1) * {g}",
     "({0} == 0) & ({1} >= 0) ? 0 : {out} * log({0}) * {g}"),
    "({0} ** {1})",
    doc="x ** t for a tensor exponent t (or a number base); d/dx = t x**(t-1) (0 where "
        "t = 0), d/dt = x**t ln x (0 where x = 0 and t >= 0), PyTorch's rules.",
    numba="(np.power({0}, {1}) if ({0} != 0 or {1} >= 0 or np.power({0} * 0 + 2, -1) != 0) "
          "else {0} * 0)",
    torch="pow",
)


# Imported last: the VJPs above call these only when they run.
from .compare import equal, greater, greater_equal, less, less_equal  # noqa: E402
from .logical import logical_and  # noqa: E402
from .unary_math import trunc  # noqa: E402
