"""Elementwise rows: arithmetic, the activation functions, where, pow and cast."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._state import STATE
from ..dtypes import default_float, resolve_dtype
from ..tensor import Tensor
from .core import (
    ELEMENTWISE,
    FLOAT,
    Op,
    _as_input,
    _const,
    _elementwise_shape,
    _same_shape,
    _to_default_float,
    apply,
    only_needed,
    register,
    unbroadcast,
)
from .rows import binary, unary


# ================================================================ elementwise, binary
def _add_vjp(g: Tensor, out: Tensor, a: Tensor, b: Tensor) -> tuple:
    shape = g.data.shape
    if a.data.shape == shape and b.data.shape == shape:  # no broadcast: g itself, no node
        return g, g
    return only_needed(lambda: unbroadcast(g, a.shape), lambda: unbroadcast(g, b.shape))


ADD, add = binary("add", np.add, _add_vjp, ("{g}", "{g}"), "({0} + {1})",
                  doc="a + b, elementwise with broadcasting.", keeps_dtype=True)


def _sub_vjp(g: Tensor, out: Tensor, a: Tensor, b: Tensor) -> tuple:
    return only_needed(lambda: unbroadcast(g, a.shape), lambda: neg(unbroadcast(g, b.shape)))


SUB, sub = binary("sub", np.subtract, _sub_vjp, ("{g}", "-{g}"), "({0} - {1})",
                  doc="a - b, elementwise with broadcasting.", keeps_dtype=True)


def _mul_vjp(g: Tensor, out: Tensor, a: Tensor, b: Tensor) -> tuple:
    shape = g.data.shape
    if a.data.shape == shape and b.data.shape == shape:  # no broadcast: what only_needed
        needs = STATE.vjp_needs  # does, without its closures (scalar graphs are all this)
        return (apply(MUL, g, b) if needs is None or needs[0] else None,
                apply(MUL, g, a) if needs is None or needs[1] else None)
    return only_needed(lambda: unbroadcast(mul(g, b), a.shape),
                       lambda: unbroadcast(mul(g, a), b.shape))


MUL, mul = binary("mul", np.multiply, _mul_vjp, ("{g} * {1}", "{g} * {0}"), "({0} * {1})",
                  doc="a * b, elementwise with broadcasting.", keeps_dtype=True)


def _div_vjp(g: Tensor, out: Tensor, a: Tensor, b: Tensor) -> tuple:
    return only_needed(lambda: unbroadcast(div(g, b), a.shape),
                       lambda: unbroadcast(neg(div(mul(g, out), b)), b.shape))


def _div_forward(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """True division; integers divide into float32, as in PyTorch."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if a.dtype.kind != "f" and b.dtype.kind != "f":
            return np.true_divide(a, b, dtype=default_float())
        return np.true_divide(a, b)


DIV, div = binary("div", _div_forward, _div_vjp, ("{g} / {1}", "-{g} * {out} / {1}"),
                  "({0} / {1})", doc="a / b, elementwise with broadcasting (true division).",
                  keeps_dtype=True)


def _maximum_vjp(g: Tensor, out: Tensor, a: Tensor, b: Tensor) -> tuple:
    """da = 0 where a < b, g/2 at ties, else g (and db likewise), selected with ``where``
    as PyTorch does: an infinite g stays out of the side that lost (no inf * 0 = NaN), and
    at a NaN both sides get g."""
    zero, share = _const(0.0, g), where(equal(a, b), mul(g, 0.5), g)  # both sides' share
    return only_needed(lambda: unbroadcast(where(less(a, b), zero, share), a.shape),
                       lambda: unbroadcast(where(greater(a, b), zero, share), b.shape))


MAXIMUM, maximum = binary(
    "maximum", np.maximum, _maximum_vjp,
    ("{g} * ([{0} > {1}] + [{0} == {1}] / 2)", "{g} * ([{1} > {0}] + [{0} == {1}] / 2)"),
    "max({0}, {1})",
    doc="Elementwise max(a, b); at ties each side gets half the gradient (PyTorch's rule).",
    numba="({0} if ({0} > {1} or {0} != {0}) else {1})",  # numpy's: NaN, b at ties (+-0)
)


def _where_vjp(g: Tensor, out: Tensor, cond: Tensor, a: Tensor, b: Tensor) -> tuple:
    zero = _const(0.0, g)
    return only_needed(
        lambda: None,
        lambda: unbroadcast(where(cond, g, zero), a.shape),
        lambda: unbroadcast(where(cond, zero, g), b.shape),
    )


WHERE = register(Op(
    "where", ELEMENTWISE, 3, np.where, _elementwise_shape("where"),
    _where_vjp, grads=("", "{0} ? {g} : 0", "{0} ? 0 : {g}"), expr="({1} if {0} else {2})",
    doc="cond ? a : b", numba_bool=True,
))


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """Elementwise ``a`` where ``cond`` holds, else ``b`` (with broadcasting)."""
    return apply(WHERE, cond, a, b)


# ================================================================= elementwise, unary
NEG, neg = unary("neg", np.negative, lambda g, out, x: (neg(g),), "-{g}", "(-{0})",
                 doc="-x.", keeps_dtype=True)


def _pow_vjp(g: Tensor, out: Tensor, x: Tensor, *, exponent: float) -> tuple:
    """d/dx x**p = p x**(p-1); 0 for p = 0 (PyTorch's rule: no 0 * 0**-1 = NaN at x = 0)."""
    if exponent == 0:
        from .movement import broadcast_to

        return (broadcast_to(_const(0.0, g), g.shape),)
    if exponent == 2:
        return (mul(mul(x, 2.0), g),)
    if exponent == 1:
        return (g,)
    return (mul(mul(power(x, exponent - 1), float(exponent)), g),)


# Exponents PyTorch's pow computes with another function (x * x, sqrt, rsqrt): their
# infinities and NaNs differ from pow's ((-inf) ** 0.5 is nan by sqrt, inf by C's pow).
# Eager (numpy) and the JIT's Numba text side by side, so they cannot drift apart.
_POW_SPECIAL = {
    2.0: (lambda x: np.multiply(x, x), "({0} * {0})"),
    0.5: (np.sqrt, "np.sqrt({0})"),
    -0.5: (lambda x: np.reciprocal(np.sqrt(x)), "(1.0 / np.sqrt({0}))"),
}


def _pow_forward(x: np.ndarray, *, exponent: float) -> np.ndarray:
    """x ** p; integers and booleans stay integral for a whole p >= 0 and are raised in
    float32 otherwise (``power`` casts them first, as PyTorch's promotion does)."""
    if x.dtype.kind != "f" and not (exponent >= 0 and float(exponent).is_integer()):
        x = x.astype(default_float())
    with np.errstate(divide="ignore", invalid="ignore"):
        if exponent in _POW_SPECIAL:
            return _POW_SPECIAL[exponent][0](x)
        return np.power(x, np.asarray(exponent, dtype=x.dtype))


POW = register(Op(
    "pow", ELEMENTWISE, 1, _pow_forward, _same_shape, _pow_vjp,
    grads=("{exponent} == 0 ? 0 : {exponent} * {0}^({exponent}-1) * {g}",),
    expr="({0} ** {exponent})",
    doc="x ** p for a constant p; d/dx = p x**(p-1), 0 for p = 0", torch="pow",
    numba_by_exponent={p: text for p, (_, text) in _POW_SPECIAL.items()},
    numba_keeps_dtype=lambda attrs: attrs["exponent"] == 2.0,  # x * x
))


def _integral(value: Any) -> bool:
    return isinstance(value, int | np.integer | bool | np.bool_)


def power(x: Any, exponent: Any) -> Tensor:
    """x ** exponent with PyTorch's dtypes: an integer tensor stays integral for a whole
    number exponent >= 0 (a negative one is an error, as in PyTorch) and is raised in
    the default float dtype for a float exponent; a tensor exponent is ``pow_tensor``."""
    if not isinstance(exponent, int | float | np.number | bool | np.bool_):
        from .binary_math import pow_tensor

        return pow_tensor(x, exponent)
    x = _as_input(x, None)
    if x.dtype.kind in "biu":
        if not _integral(exponent):
            x = _to_default_float(x)
        elif exponent < 0:
            raise RuntimeError(f"pow: Integers to negative integer powers are not allowed "
                               f"({x.dtype} tensor of shape {x.shape} ** {exponent}; PyTorch "
                               "refuses it too): use a float exponent or tensor")
        elif x.dtype.kind == "b":
            x = cast(x, np.int64)  # bool ** 2 is int64, as PyTorch
    return apply(POW, x, exponent=float(exponent))


def _sqrt_forward(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.sqrt(x)


SQRT, sqrt = unary("sqrt", _sqrt_forward, lambda g, out, x: (mul(div(0.5, out), g),),
                   "0.5 / {out} * {g}", "np.sqrt({0})", doc="Square root; d/dx = 0.5 / sqrt(x).",
                   dtype_rule=FLOAT, keeps_dtype=True)


def _reciprocal_forward(x: np.ndarray) -> np.ndarray:
    """1 / x; integers and booleans give float32, as ``div`` and PyTorch do (numpy's
    integer reciprocal truncates: 1/2 = 0, 1/0 = INT_MIN)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if x.dtype.kind != "f":
            return np.true_divide(1, x, dtype=default_float())
        return np.reciprocal(x)


RECIPROCAL, reciprocal = unary(
    "reciprocal", _reciprocal_forward, lambda g, out, x: (mul(neg(mul(out, out)), g),),
    "-1 / {0}^2 * {g}", "(1.0 / {0})", doc="1 / x; d/dx = -1 / x**2.",
)


def _exp_forward(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.exp(x)


EXP, exp = unary("exp", _exp_forward, lambda g, out, x: (mul(g, out),), "{g} * {out}",
                 "np.exp({0})", doc="e ** x; d/dx = e ** x.", dtype_rule=FLOAT,
                 keeps_dtype=True)


def _log_forward(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x)


LOG, log = unary("log", _log_forward, lambda g, out, x: (div(g, x),), "{g} / {0}",
                 "np.log({0})", doc="Natural logarithm; d/dx = 1 / x.", dtype_rule=FLOAT,
                 keeps_dtype=True)

TANH, tanh = unary("tanh", np.tanh, lambda g, out, x: (mul(g, sub(1.0, mul(out, out))),),
                   "{g} * (1 - {out}^2)", "np.tanh({0})",
                   doc="Hyperbolic tangent; d/dx = 1 - tanh(x)**2.", dtype_rule=FLOAT,
                   keeps_dtype=True)


def _sigmoid_forward(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x), computed from e^-|x| so it never overflows."""
    decay = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + decay), decay / (1.0 + decay)).astype(x.dtype)


SIGMOID, sigmoid = unary(
    "sigmoid", _sigmoid_forward, lambda g, out, x: (mul(g, mul(out, sub(1.0, out))),),
    "{g} * {out} * (1 - {out})", "(1.0 / (1.0 + np.exp(-{0})))",
    doc="The logistic function 1 / (1 + e^-x); d/dx = s(x) (1 - s(x)).", dtype_rule=FLOAT,
)


def _relu_vjp(g: Tensor, out: Tensor, x: Tensor) -> tuple:
    return (where(greater(x, 0.0), g, _const(0.0, g)),)


RELU, relu = unary(
    "relu", lambda x: np.maximum(x, np.zeros((), x.dtype)), _relu_vjp,
    "{0} > 0 ? {g} : 0", "max({0}, 0)",
    doc="max(x, 0). Its gradient is 1 where x > 0 and 0 elsewhere, including at exactly 0 "
        "(PyTorch's convention).",
    numba="({0} if ({0} > 0 or {0} != {0}) else 0)",  # numpy's maximum: NaN, relu(-0) = +0
)


def _cast_vjp(g: Tensor, out: Tensor, x: Tensor, *, dtype: str) -> tuple:
    """g cast back between float dtypes; a cast to int or bool is piecewise constant, so no
    gradient flows through it (as in PyTorch)."""
    return (cast(g, x.dtype) if x.dtype.kind == "f" and out.dtype.kind == "f" else None,)


CAST = register(Op(
    "cast", ELEMENTWISE, 1, lambda x, *, dtype: x.astype(dtype), _same_shape, _cast_vjp,
    grads=("{g}",), expr="{0}", doc="x converted to another dtype", numba_keeps_dtype=True,
    jit_identity=True,
))


def cast(x: Any, dtype: Any) -> Tensor:
    """``x`` converted to ``dtype``; differentiable between float dtypes."""
    target = resolve_dtype(dtype)
    return apply(CAST, x, dtype=target.name)


# Imported last so that the table keeps its order (arithmetic rows before comparisons):
# the VJPs above call these only when they run.
from .compare import equal, greater, less  # noqa: E402
