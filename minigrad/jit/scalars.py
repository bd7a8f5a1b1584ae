"""Scalar pieces of the generated source: dtype names, broadcasting indices, literals,
and the scalar expression of an elementwise value from its op row's Numba template."""

from __future__ import annotations

import re

import numpy as np

from ..ops import OPS
from .ir import Graph, NotCompilableError, Value


def np_dtype(dtype: np.dtype) -> str:
    """The numpy constructor naming ``dtype`` in generated code."""
    return "np.bool_" if dtype.kind == "b" else f"np.{dtype.name}"


def broadcast_index(shape: tuple[int, ...], loop: tuple[int, ...]) -> str:
    """The index reading an array of ``shape`` inside a loop over ``loop`` (numpy rules)."""
    offset = len(loop) - len(shape)
    if offset < 0:
        raise NotCompilableError(f"internal: shape {shape} read inside a loop over {loop}")
    parts = ["0" if n == 1 and loop[offset + k] != 1 else f"i{offset + k}"
             for k, n in enumerate(shape)]
    return ", ".join(parts)


def literal(value: Value) -> str:
    """A scalar constant in the value's dtype (never user text: a float's repr)."""
    number = value.attrs["value"]
    if value.dtype.kind == "b":
        return "True" if number else "False"
    if value.dtype.kind in "iu":
        return f"{np_dtype(value.dtype)}({int(number)})"
    if np.isnan(number):
        text = "np.nan"
    elif np.isinf(number):
        text = "np.inf" if number > 0 else "-np.inf"
    else:
        text = repr(float(number))
    if value.dtype == np.float64 and np.isfinite(number):  # a Python float is a float64
        return f"({text})"
    return f"{np_dtype(value.dtype)}({text})"


def scalar_expr(value: Value, args: list[str], graph: Graph) -> str:
    """The scalar expression of an elementwise value from its op row's Numba template."""
    if value.op == "broadcast_to":
        body = args[0]
    else:
        row = OPS[value.op]
        special = row.numba_by_exponent.get(value.attrs.get("exponent"))
        template = special or row.numba or row.expr
        if template is None:
            raise NotCompilableError(f"mg.jit: op {value.op!r} has no Numba template in its row")
        if _all_float(value, graph):
            template = _MATH_CALL.sub(lambda m: _MATH[m.group(1)], template)
        attrs = {k: _attr_literal(v) for k, v in value.attrs.items()
                 if isinstance(v, int | float | str)}
        body = template.format(*_checked_args(value, args, graph), **attrs)
    if value.dtype.kind == "b":
        return body if _yields_bool(value) else f"({body} != 0)"
    if _keeps_dtype(value, graph):
        return body
    return f"{np_dtype(value.dtype)}({body})"


def _attr_literal(value: int | float | str) -> str:
    """An attribute as generated source: a number, np.inf / np.nan, or a string's repr
    (quoted and escaped, never pasted as code)."""
    if isinstance(value, float) and not np.isfinite(value):
        return "np.nan" if np.isnan(value) else ("np.inf" if value > 0 else "-np.inf")
    return repr(value)


def _checked_args(value: Value, args: list[str], graph: Graph) -> list[str]:
    """``args`` with an integer divisor read through ``value_checks.nonzero_divisor`` (the
    row's ``integer_zero_message``: eager refuses a zero in it)."""
    message = OPS[value.op].integer_zero_message
    inputs = [graph[i] for i in value.inputs]
    if message is None or any(v.dtype.kind not in "biu" for v in inputs):
        return args
    text = message(inputs[1].shape, inputs[1].dtype)  # op name, shape, dtype: no user text
    return [args[0], f"value_checks.nonzero_divisor({args[1]}, {text!r})", *args[2:]]


# numpy functions of scalars whose ``math`` namesakes Numba computes alike (checked at
# 0, -0, +-1, +-0.5, +-2, 1e-8, 1e-40, +-1e30, +-700, +-90, +-inf, NaN: same values and
# signs, float32 stays float32). Numba lowers ``np.tanh`` of a scalar as a one-trip loop;
# ``math.tanh`` is a plain call, and a long chain of loops in one loop body is what makes
# LLVM's loop passes slow (compile time super-linear in the graph's size).
_MATH = {"np.sqrt(": "math.sqrt(", "np.exp(": "math.exp(", "np.log(": "math.log(",
         "np.log10(": "math.log10(", "np.log1p(": "math.log1p(", "np.expm1(": "math.expm1(",
         "np.tanh(": "math.tanh(", "np.tan(": "math.tan(", "np.sinh(": "math.sinh(",
         "np.cosh(": "math.cosh(", "np.sin(": "math.sin(", "np.cos(": "math.cos(",
         "np.arcsin(": "math.asin(", "np.arccos(": "math.acos(", "np.arctan(": "math.atan(",
         "np.arcsinh(": "math.asinh(", "np.arccosh(": "math.acosh(",
         "np.arctanh(": "math.atanh(", "np.arctan2(": "math.atan2(",
         "np.copysign(": "math.copysign(", "np.abs(": "abs("}
_MATH_CALL = re.compile("(" + "|".join(re.escape(name) for name in _MATH) + ")")


def _all_float(value: Value, graph: Graph) -> bool:
    """Whether a value and all its inputs are floats (where the math templates apply)."""
    return value.dtype.kind == "f" and all(graph[i].dtype.kind == "f" for i in value.inputs)


def _yields_bool(value: Value) -> bool:
    """Whether the scalar expression of a bool value is a Python bool already. Numba's
    arithmetic on bools gives integers (True + True = 2) where numpy's bool ufuncs give
    bools (logical or / and); such results are turned back into bools (``!= 0``) so an
    inlined consumer sees what eager stored."""
    row = OPS.get(value.op)
    return row is not None and row.numba_bool


def _keeps_dtype(value: Value, graph: Graph) -> bool:
    """Whether Numba's scalar arithmetic already yields the value's dtype (no cast needed):
    the row says so (``numba_keeps_dtype``: + - * / and negation, exp, ...) and the inputs
    are floats of that very dtype."""
    row = OPS.get(value.op)
    if row is None or value.dtype.kind != "f":
        return False
    keeps = row.numba_keeps_dtype
    if callable(keeps):
        keeps = keeps(value.attrs)
    return bool(keeps) and all(graph[i].dtype == value.dtype for i in value.inputs)


def accumulator_dtype(op: str, dtype: np.dtype) -> str:
    """float64 for float sums (accuracy), int64 for integer/bool sums, the dtype for max."""
    if op == "reduce_max":
        return np_dtype(dtype)
    return "np.float64" if dtype.kind == "f" else "np.int64"


def max_identity(dtype: np.dtype) -> str:
    """The starting value of a running maximum."""
    if dtype.kind == "f":
        return "-np.inf"
    if dtype.kind == "b":
        return "False"
    return str(int(np.iinfo(dtype).min))
