"""Composite elementwise functions, written once with the table's rows (so their
gradients, drawings and JIT come from those rows): clamp / clip."""

from __future__ import annotations

import math
from typing import Any

from ..dtypes import default_float
from ..errors import ArgumentError
from ..tensor import Tensor
from .compare import greater, less
from .core import _as_input
from .elementwise import cast, where
from .logical import isnan

Bound = Tensor | float | int | None


def _is_float(value: Any) -> bool:
    return isinstance(value, float) or (isinstance(value, Tensor) and value.dtype.kind == "f")


def _limit(out: Tensor, bound: Tensor | float | int, beyond: Any) -> Tensor:
    """``bound`` where ``out`` is beyond it, else ``out``; NaN (reaching neither) where the
    bound is NaN, as PyTorch's clamp."""
    out = where(beyond(out, bound), bound, out)
    if isinstance(bound, Tensor) and bound.dtype.kind == "f":
        out = where(isnan(bound), bound.detach(), out)
    elif isinstance(bound, float) and math.isnan(bound):
        out = where(True, bound, out)
    return out


def clamp(x: Any, min: Bound = None, max: Bound = None) -> Tensor:  # noqa: A002
    """min(max(x, min), max), elementwise; ``min`` and ``max`` are numbers or tensors (either
    may be None). As PyTorch's: where min > max everything is max; a NaN (x or a bound)
    gives NaN; the gradient reaches x where min <= x <= max (bounds included), ``min``
    where x < min <= max, ``max`` where x > max or max < min. Integer tensors stay
    integers unless a bound is a float (then the default float dtype, as PyTorch). Where a
    bound is NaN no gradient flows (PyTorch still gives the other bound its share)."""
    if min is None and max is None:
        raise ArgumentError("clamp: at least one of min and max must be given")
    out = _as_input(x, None)
    if out.dtype.kind in "biu" and (_is_float(min) or _is_float(max)):
        out = cast(out, default_float())
    if out.dtype.kind == "f" and out.requires_grad:  # no gradient reaches a NaN of x
        out = where(isnan(out), out.detach(), out)
    if min is not None:
        out = _limit(out, min, less)
    if max is not None:
        out = _limit(out, max, greater)
    return out


def clip(x: Any, min: Bound = None, max: Bound = None) -> Tensor:  # noqa: A002
    """``clamp`` (numpy's and PyTorch's other name)."""
    return clamp(x, min, max)


Tensor.clamp = clamp  # type: ignore[attr-defined]
Tensor.clip = clip  # type: ignore[attr-defined]
