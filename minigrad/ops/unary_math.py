"""Elementwise math rows of one input: trigonometric, hyperbolic, exponential and
logarithmic functions, erf, rounding, sign, abs, square, rsqrt, nan_to_num.

Each is one ``unary`` call (its row, ``ops.<name>`` and ``Tensor.<name>``). Functions of
integer and bool tensors that PyTorch computes in floats (``dtype_rule=FLOAT``) are; the
rounding functions, sign, abs and square keep integer dtypes, as PyTorch's do. The Numba
templates give eager's values at +-inf, NaN and +-0 (tests/test_ops_math.py checks them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special

from ..errors import ArgumentTypeError
from ..tensor import Tensor
from .core import ELEMENTWISE, FLOAT, Op, _const, _same_shape, apply, register
from .elementwise import add, div, exp, mul, neg, sqrt, sub, where
from .logical import isfinite
from .movement import broadcast_to
from .rows import unary

_LN2, _LN10 = float(np.log(2.0)), float(np.log(10.0))
_TWO_OVER_ROOT_PI = float(2.0 / np.sqrt(np.pi))


def _quiet(function: Any) -> Any:
    """``function`` with numpy's floating-point warnings off (log(0), arcsin(2), ...:
    PyTorch returns inf/NaN silently too)."""
    def forward(x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return function(x)

    return forward


def _zero_grad(g: Tensor, out: Tensor, x: Tensor) -> tuple:
    """The gradient of a piecewise-constant function: zeros (PyTorch's), not None, so x.grad
    is a zero tensor as in PyTorch."""
    return (broadcast_to(_const(0.0, g), g.shape),)


# ------------------------------------------------------------ trigonometric functions
SIN, sin = unary("sin", _quiet(np.sin), lambda g, out, x: (mul(g, cos(x)),),
                 "{g} * cos({0})", "np.sin({0})", doc="sin x; d/dx = cos x.",
                 dtype_rule=FLOAT, torch="sin")
COS, cos = unary("cos", _quiet(np.cos), lambda g, out, x: (neg(mul(g, sin(x))),),
                 "-{g} * sin({0})", "np.cos({0})", doc="cos x; d/dx = -sin x.",
                 dtype_rule=FLOAT, torch="cos")
TAN, tan = unary("tan", _quiet(np.tan), lambda g, out, x: (mul(g, add(1.0, mul(out, out))),),
                 "{g} * (1 + {out}^2)", "np.tan({0})", doc="tan x; d/dx = 1 + tan(x)^2.",
                 dtype_rule=FLOAT, torch="tan")
ASIN, asin = unary("asin", _quiet(np.arcsin),
                   lambda g, out, x: (div(g, sqrt(sub(1.0, mul(x, x)))),),
                   "{g} / sqrt(1 - {0}^2)", "np.arcsin({0})",
                   doc="arcsin x; d/dx = 1 / sqrt(1 - x^2).", dtype_rule=FLOAT, torch="asin")
ACOS, acos = unary("acos", _quiet(np.arccos),
                   lambda g, out, x: (neg(div(g, sqrt(sub(1.0, mul(x, x))))),),
                   "-{g} / sqrt(1 - {0}^2)", "np.arccos({0})",
                   doc="arccos x; d/dx = -1 / sqrt(1 - x^2).", dtype_rule=FLOAT, torch="acos")
ATAN, atan = unary("atan", _quiet(np.arctan),
                   lambda g, out, x: (div(g, add(1.0, mul(x, x))),),
                   "{g} / (1 + {0}^2)", "np.arctan({0})",
                   doc="arctan x; d/dx = 1 / (1 + x^2).", dtype_rule=FLOAT, torch="atan")

# --------------------------------------------------------------- hyperbolic functions
SINH, sinh = unary("sinh", _quiet(np.sinh), lambda g, out, x: (mul(g, cosh(x)),),
                   "{g} * cosh({0})", "np.sinh({0})", doc="sinh x; d/dx = cosh x.",
                   dtype_rule=FLOAT, torch="sinh")
COSH, cosh = unary("cosh", _quiet(np.cosh), lambda g, out, x: (mul(g, sinh(x)),),
                   "{g} * sinh({0})", "np.cosh({0})", doc="cosh x; d/dx = sinh x.",
                   dtype_rule=FLOAT, torch="cosh")
ASINH, asinh = unary("asinh", _quiet(np.arcsinh),
                     lambda g, out, x: (div(g, sqrt(add(mul(x, x), 1.0))),),
                     "{g} / sqrt({0}^2 + 1)", "np.arcsinh({0})",
                     doc="arsinh x; d/dx = 1 / sqrt(x^2 + 1).", dtype_rule=FLOAT,
                     torch="asinh")
ACOSH, acosh = unary("acosh", _quiet(np.arccosh),
                     lambda g, out, x: (div(g, sqrt(sub(mul(x, x), 1.0))),),
                     "{g} / sqrt({0}^2 - 1)", "np.arccosh({0})",
                     doc="arcosh x; d/dx = 1 / sqrt(x^2 - 1).", dtype_rule=FLOAT,
                     torch="acosh")
ATANH, atanh = unary("atanh", _quiet(np.arctanh),
                     lambda g, out, x: (div(g, sub(1.0, mul(x, x))),),
                     "{g} / (1 - {0}^2)", "np.arctanh({0})",
                     doc="artanh x; d/dx = 1 / (1 - x^2).", dtype_rule=FLOAT, torch="atanh")

# ------------------------------------------------------ exponentials and logarithms
LOG1P, log1p = unary("log1p", _quiet(np.log1p), lambda g, out, x: (div(g, add(x, 1.0)),),
                     "{g} / (1 + {0})", "np.log1p({0})",
                     doc="ln(1 + x), accurate near 0; d/dx = 1 / (1 + x).", dtype_rule=FLOAT,
                     torch="log1p")
EXPM1, expm1 = unary("expm1", _quiet(np.expm1), lambda g, out, x: (mul(g, add(out, 1.0)),),
                     "{g} * ({out} + 1)", "np.expm1({0})",
                     doc="e^x - 1, accurate near 0; d/dx = e^x.", dtype_rule=FLOAT,
                     torch="expm1")
# Numba types np.log2 and np.exp2 once per kernel: a kernel applying one to float32 and
# to float64 values failed to compile ("Type of #1 arg mismatch: float != double", fuzz
# seed 5652250). They run on float64 (the result is cast back to the value's dtype).
_IN_FLOAT64 = "{function}(np.float64({{0}}))"
LOG2, log2 = unary("log2", _quiet(np.log2), lambda g, out, x: (div(g, mul(x, _LN2)),),
                   "{g} / ({0} * ln2)", "np.log2({0})",
                   doc="log base 2; d/dx = 1 / (x ln 2).", dtype_rule=FLOAT, torch="log2",
                   numba=_IN_FLOAT64.format(function="np.log2"))
LOG10, log10 = unary("log10", _quiet(np.log10), lambda g, out, x: (div(g, mul(x, _LN10)),),
                     "{g} / ({0} * ln10)", "np.log10({0})",
                     doc="log base 10; d/dx = 1 / (x ln 10).", dtype_rule=FLOAT,
                     torch="log10")
EXP2, exp2 = unary("exp2", _quiet(np.exp2), lambda g, out, x: (mul(g, mul(out, _LN2)),),
                   "{g} * {out} * ln2", "np.exp2({0})", doc="2^x; d/dx = 2^x ln 2.",
                   dtype_rule=FLOAT, torch="exp2", numba=_IN_FLOAT64.format(function="np.exp2"))


def _rsqrt_forward(x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.reciprocal(np.sqrt(x))


RSQRT, rsqrt = unary("rsqrt", _rsqrt_forward,
                     lambda g, out, x: (mul(mul(g, -0.5), mul(out, mul(out, out))),),
                     "-0.5 * {out}^3 * {g}", "(1.0 / np.sqrt({0}))",
                     doc="1 / sqrt(x); d/dx = -x^(-3/2) / 2.", dtype_rule=FLOAT,
                     torch="rsqrt")


def _erf_grad(x: Tensor, g: Tensor) -> Tensor:
    """g * 2 / sqrt(pi) * e^(-x^2)."""
    return mul(g, mul(exp(neg(mul(x, x))), _TWO_OVER_ROOT_PI))


ERF, erf = unary("erf", _quiet(scipy.special.erf), lambda g, out, x: (_erf_grad(x, g),),
                 "{g} * 2 / sqrt(pi) * exp(-{0}^2)", "math.erf({0})",
                 doc="The error function; d/dx = 2 / sqrt(pi) e^(-x^2).", dtype_rule=FLOAT,
                 torch="erf")
ERFC, erfc = unary("erfc", _quiet(scipy.special.erfc),
                   lambda g, out, x: (neg(_erf_grad(x, g)),),
                   "-{g} * 2 / sqrt(pi) * exp(-{0}^2)", "math.erfc({0})",
                   doc="1 - erf(x), accurate for large x; d/dx = -2 / sqrt(pi) e^(-x^2).",
                   dtype_rule=FLOAT, torch="erfc")


# -------------------------------------------------------------------------- rounding
def _rounding(function: np.ufunc) -> Any:
    """``function`` of floats; integers are whole already (a copy, as PyTorch's)."""
    def forward(x: np.ndarray) -> np.ndarray:
        if x.dtype.kind == "b":
            raise ArgumentTypeError(f"{function.__name__} of a bool tensor: PyTorch refuses it too "
                                    f"(shape {x.shape})")
        return function(x) if x.dtype.kind == "f" else x.copy()

    return forward


FLOOR, floor = unary("floor", _rounding(np.floor), _zero_grad, "0", "np.floor({0})",
                     doc="The largest whole number <= x (integers unchanged); gradient 0.",
                     torch="floor")
CEIL, ceil = unary("ceil", _rounding(np.ceil), _zero_grad, "0", "np.ceil({0})",
                   doc="The smallest whole number >= x (integers unchanged); gradient 0.",
                   torch="ceil")
ROUND, round = unary(  # noqa: A001
    "round", _rounding(np.rint), _zero_grad, "0", "np.rint({0})",
    doc="x rounded to the nearest whole number, halves to even (PyTorch's); gradient 0.",
    torch="round")
TRUNC, trunc = unary("trunc", _rounding(np.trunc), _zero_grad, "0", "np.trunc({0})",
                     doc="x rounded toward 0 (integers unchanged); gradient 0.", torch="trunc")


def _frac_forward(x: np.ndarray) -> np.ndarray:
    if x.dtype.kind != "f":
        raise ArgumentTypeError(f"frac: a {x.dtype} tensor (shape {x.shape}) has no fractional "
                                "part; PyTorch refuses integer and bool tensors too")
    with np.errstate(invalid="ignore"):
        return np.subtract(x, np.trunc(x))


FRAC, frac = unary("frac", _frac_forward, lambda g, out, x: (g,), "{g}",
                   "({0} - np.trunc({0}))", doc="x - trunc(x) (the sign of x); d/dx = 1.",
                   torch="frac")


def _sign_forward(x: np.ndarray) -> np.ndarray:
    """-1, 0 or 1; 0 at NaN (PyTorch's; numpy's is NaN); bools unchanged."""
    if x.dtype.kind == "b":
        return x.copy()
    signs = np.sign(x)
    return np.where(np.isnan(signs), np.zeros((), x.dtype), signs) if x.dtype.kind == "f" else signs


SIGN, sign = unary("sign", _sign_forward, _zero_grad, "0",
                   "(np.sign({0}) + 0.0 if {0} == {0} else 0.0)",  # +0.0, not -0.0
                   doc="-1, 0 or 1 by the sign of x (0 at NaN, as PyTorch); gradient 0.",
                   torch="sign")


def _abs_forward(x: np.ndarray) -> np.ndarray:
    if x.dtype.kind == "b":
        raise ArgumentTypeError(f"abs of a bool tensor: PyTorch refuses it too (shape {x.shape})")
    return np.abs(x)


ABS, abs = unary(  # noqa: A001
    "abs", _abs_forward, lambda g, out, x: (mul(g, sign(x)),), "{g} * sign({0})",
    "np.abs({0})", doc="|x|; d/dx = sign(x), 0 at 0 (PyTorch's).", torch="abs")


def _square_forward(x: np.ndarray) -> np.ndarray:
    """x * x; bools square as int64 (PyTorch's)."""
    return np.multiply(x, x, dtype=np.int64 if x.dtype.kind == "b" else None)


SQUARE, square = unary("square", _square_forward, lambda g, out, x: (mul(g, mul(x, 2.0)),),
                       "2 * {0} * {g}", "({0} * {0})", doc="x * x; d/dx = 2 x.",
                       keeps_dtype=True, torch="square")


# -------------------------------------------------------------------------- nan_to_num
def _nan_to_num_forward(x: np.ndarray, *, nan: float, posinf: float,
                        neginf: float) -> np.ndarray:
    if x.dtype.kind != "f":
        return x.copy()
    return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


def _nan_to_num_vjp(g: Tensor, out: Tensor, x: Tensor, **_: float) -> tuple:
    """g where x is finite, else 0 (PyTorch's)."""
    return (where(isfinite(x), g, _const(0.0, g)),)


NAN_TO_NUM = register(Op(
    "nan_to_num", ELEMENTWISE, 1, _nan_to_num_forward, _same_shape, _nan_to_num_vjp,
    grads=("[isfinite({0})] * {g}",),
    expr="nan_to_num({0})",
    doc="NaN, +inf, -inf replaced by numbers", torch="nan_to_num",
    numba="({nan} if {0} != {0} else ({posinf} if {0} == np.inf else "
          "({neginf} if {0} == -np.inf else {0})))",
))


def nan_to_num(x: Any, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """``x`` with NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (by
    default the largest and smallest finite numbers of x's dtype, as PyTorch)."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    finite = np.finfo(x.dtype) if x.dtype.kind == "f" else np.finfo(np.float64)
    return apply(NAN_TO_NUM, x, nan=float(nan),
                 posinf=float(finite.max if posinf is None else posinf),
                 neginf=float(finite.min if neginf is None else neginf))


Tensor.nan_to_num = nan_to_num  # type: ignore[attr-defined]
