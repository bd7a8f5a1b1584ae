"""Factories for the op table: one call makes a row, registers it, and makes its wrapper
function (and, for unary math and boolean functions, the Tensor method of the same name).

    EXP, exp = unary("exp", np.exp, lambda g, out, x: (mul(g, out),), "{g} * {out}",
                     "np.exp({0})", doc="e ** x", dtype_rule=FLOAT, torch="exp")

is the whole definition of ``exp``: its eager forward, its VJP (written with minigrad ops),
the drawn gradient text, the Numba template, its dtype rule and its PyTorch counterpart.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..errors import OutOfRangeError
from ..tensor import Axis, Tensor
from .core import (
    COMPARE,
    ELEMENTWISE,
    MOVEMENT,
    REDUCE,
    SAME,
    VJP,
    Op,
    _as_input,
    _elementwise_shape,
    _reduced_shape,
    _same_shape,
    apply,
    normalize_axes,
    register,
)

Wrapper = Callable[..., Tensor]
KeepsDtype = bool | Callable[[Mapping[str, Any]], bool]


def _named(function: Wrapper, name: str, doc: str) -> Wrapper:
    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    function.__module__ = "minigrad.ops"
    return function


def unary(name: str, forward: Callable[..., np.ndarray], vjp: VJP | None, grad: str,
          expr: str, *, doc: str, numba: str | None = None, dtype_rule: str = SAME,
          keeps_dtype: KeepsDtype = False, torch: str | None = None,
          method: bool = True) -> tuple[Op, Wrapper]:
    """An elementwise row of one input, its wrapper ``name(x)`` and (``method``) the
    Tensor method ``x.name()``."""
    row = register(Op(
        name, ELEMENTWISE, 1, forward, _same_shape, vjp, grads=(grad,) if vjp else (),
        expr=expr, doc=doc, numba=numba, numba_keeps_dtype=keeps_dtype,
        dtype_rule=dtype_rule, torch=torch,
    ))

    def wrapper(x: Any) -> Tensor:
        return apply(row, x)

    if method:
        setattr(Tensor, name, _named(lambda self: apply(row, self), name, doc))
    return row, _named(wrapper, name, doc)


def binary(name: str, forward: Callable[..., np.ndarray], vjp: VJP | None,
           grads: tuple[str, str], expr: str, *, doc: str, numba: str | None = None,
           keeps_dtype: KeepsDtype = False, torch: str | None = None,
           dtype_rule: str = SAME, operator: str | None = None,
           integer_zero_message: Callable[[tuple[int, ...], np.dtype], str] | None = None,
           ) -> tuple[Op, Wrapper]:
    """An elementwise row of two broadcasting inputs and its wrapper ``name(a, b)``; with
    ``operator`` (e.g. "mod") also the Tensor operators ``__mod__`` and ``__rmod__``;
    ``integer_zero_message``: see ``Op``."""
    row = register(Op(
        name, ELEMENTWISE, 2, forward, _elementwise_shape(name), vjp,
        grads=grads if vjp else (), expr=expr, doc=doc, numba=numba,
        numba_keeps_dtype=keeps_dtype, dtype_rule=dtype_rule, torch=torch,
        integer_zero_message=integer_zero_message,
    ))

    def wrapper(a: Any, b: Any) -> Tensor:
        return apply(row, a, b)

    if operator:
        setattr(Tensor, f"__{operator}__",
                _named(lambda self, other: apply(row, self, other), f"__{operator}__", doc))
        setattr(Tensor, f"__r{operator}__",
                _named(lambda self, other: apply(row, other, self), f"__r{operator}__", doc))
    return row, _named(wrapper, name, doc)


def compare(name: str, ufunc: np.ufunc, symbol: str) -> tuple[Op, Wrapper]:
    """A comparison row (a boolean mask, no gradient) and its wrapper ``name(a, b)``."""
    doc = f"Boolean mask a {symbol} b."
    row = register(Op(
        name, COMPARE, 2, ufunc, _elementwise_shape(name), None,
        expr=f"({{0}} {symbol} {{1}})", doc=f"a {symbol} b (a boolean mask)", numba_bool=True,
    ))

    def wrapper(a: Any, b: Any) -> Tensor:
        return apply(row, a, b)

    return row, _named(wrapper, name, doc)


def boolean(name: str, forward: Callable[..., np.ndarray], expr: str, *, doc: str,
            arity: int = 2, method: bool = True) -> tuple[Op, Wrapper]:
    """A boolean row of ``arity`` broadcasting inputs (logical functions, isnan, ...): no
    gradient, a Numba template giving a bool; its wrapper ``name(...)``, and the Tensor
    method ``x.name(...)`` (PyTorch's ``x.isnan()``, ``x.logical_and(y)``)."""
    row = register(Op(
        name, COMPARE, arity, forward, _elementwise_shape(name), None, expr=expr, doc=doc,
        numba_bool=True, torch=name,
    ))

    def wrapper(*args: Any) -> Tensor:
        return apply(row, *args)

    if method:
        setattr(Tensor, name, _named(lambda self, *others: apply(row, self, *others), name, doc))
    return row, _named(wrapper, name, doc)


def _reduction_shape(name: str) -> Callable[..., tuple[int, ...]]:
    def rule(shape: tuple[int, ...], *, axes: tuple[int, ...], keepdims: bool) -> tuple:
        for ax in axes:
            if not 0 <= ax < builtins.max(len(shape), 1):
                raise OutOfRangeError(
                    f"{name}: axis {ax} is out of range for shape {shape}"
                )
        return _reduced_shape(shape, axes, keepdims)

    return rule


def reduction(name: str, forward: Callable[..., np.ndarray], vjp: VJP | None, grad: str,
              *, doc: str, jit_lowering: str | None = None,
              function_doc: str = "") -> tuple[Op, Wrapper]:
    """A reduction row (attributes ``axes``, ``keepdims``) and its wrapper
    ``name(x, axis=None, keepdims=False)``."""
    row = register(Op(
        name, REDUCE, 1, forward, _reduction_shape(name), vjp, grads=(grad,), doc=doc,
        jit_lowering=jit_lowering,
    ))

    def wrapper(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
        x = _as_input(x, None)
        return apply(row, x, axes=normalize_axes(axis, x.ndim, name), keepdims=bool(keepdims))

    return row, _named(wrapper, name, function_doc or doc)


def movement(name: str, forward: Callable[..., np.ndarray],
             shape: Callable[..., tuple[int, ...]], vjp: VJP, grad: str, *, doc: str,
             jit_identity: bool = False, **fields: Any) -> Op:
    """A movement row (values rearranged, not computed); its wrapper is written by hand,
    as each resolves its own arguments (-1 in a shape, axes to a permutation)."""
    return register(Op(name, MOVEMENT, 1, forward, shape, vjp, grads=(grad,), doc=doc,
                       jit_identity=jit_identity, **fields))
