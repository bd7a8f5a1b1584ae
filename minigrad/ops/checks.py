"""The check row: ``require_range(x, lo, hi, label)`` is x, refused where an element lies
outside [lo, hi] (NaN always outside).

Functions that must refuse bad values (``binary_cross_entropy``'s input in [0, 1],
``kl_div``'s nonnegative target, ``clip_grad_norm_(error_if_nonfinite=True)``) pass the
values through this row instead of reading them into Python, so ``mg.jit`` repeats the
check at every call: the kernel reads the element through ``value_checks.in_range``, which
raises the same error (its label; a loop holding it runs serially, as an exception
in Numba's prange is lost). The gradient passes through unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ArgumentError, OutOfRangeError
from ..tensor import Tensor
from .core import ELEMENTWISE, Op, _same_shape, apply, register


def _require_range_forward(x: np.ndarray, *, lo: float, hi: float, label: str,
                           index: bool = False) -> np.ndarray:
    """A copy of ``x``; ArgumentError (OutOfRangeError for an ``index``) naming the first
    element outside [lo, hi]."""
    wide = x.astype(np.float64) if x.dtype.kind == "f" else x  # as the kernel compares
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(~((wide >= lo) & (wide <= hi)))
    if bad.size:
        where = tuple(int(i) for i in np.unravel_index(int(bad[0]), x.shape))
        value = float(x.reshape(-1)[bad[0]])
        error = OutOfRangeError if index else ArgumentError
        raise error(f"{label}, got {value:.8g} at position {where}")
    return x.copy()


REQUIRE_RANGE = register(Op(
    "require_range", ELEMENTWISE, 1, _require_range_forward, _same_shape,
    lambda g, out, x, **attrs: (g,), grads=("{g}",), expr="{0}",
    numba="value_checks.in_range({0}, {lo}, {hi}, {label}, {index})",
    doc="x, refused where lo <= x <= hi fails (a check the compiled code repeats)",
    numba_keeps_dtype=True,
))


def require_range(x: Any, lo: float, hi: float, label: str, index: bool = False) -> Tensor:
    """``x`` unchanged, or ArgumentError("<label>, got <value> at position <index>") when an
    element lies outside [lo, hi] or is NaN (OutOfRangeError, an IndexError, when ``x``
    holds indices); ``label`` states the requirement ("binary_cross_entropy: every element
    of input must lie in [0, 1]")."""
    return apply(REQUIRE_RANGE, x, lo=float(lo), hi=float(hi), label=str(label),
                 index=bool(index))
