"""PyTorch's type promotion for ops on several operands (``torch.result_type``).

numpy's rules differ where it matters for a PyTorch user: int32 + float32 is float64 in
numpy and float32 in PyTorch, a 0-d float64 tensor times a float32 tensor is float64 in
numpy and float32 in PyTorch, int64 + float16 is float64 in numpy and float16 in PyTorch.

PyTorch's rule. Dtypes fall in categories bool < integer < float. Operands form three
groups by priority: tensors with dimensions, 0-d tensors, Python numbers (a Python float
counts as the default float dtype, an int as int64, a bool as bool). Each group's dtype
is the promotion of its members (``promote_types``); then

    result = combine(dimensioned, combine(zero_dim, numbers))
    combine(higher, lower) = higher                          if higher is a float
                           = promote_types(higher, lower)    if higher is bool or lower
                                                                is a float
                           = higher if there is one, else lower

so a lower-priority group changes the result only when it is of a higher category, and
then only to what that category needs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .dtypes import default_float
from .errors import ArgumentError

BOOL = np.dtype(bool)
INT64 = np.dtype(np.int64)


def promote_types(a: np.dtype | None, b: np.dtype | None) -> np.dtype | None:
    """PyTorch's ``promote_types``: the larger float when both are floats, the float one
    when one is (int64 with float16 is float16), numpy's rule between integers and bools
    (uint8 with int8 is int16). None stands for an empty group."""
    if a is None or b is None:
        return b if a is None else a
    if a == b:
        return a
    if a.kind == "f" or b.kind == "f":
        if a.kind == "f" and b.kind == "f":
            return a if a.itemsize >= b.itemsize else b
        return a if a.kind == "f" else b
    return np.promote_types(a, b)


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    if higher is not None and higher.kind == "f":
        return higher
    if higher is None and lower is None:
        return None
    if (higher is not None and higher.kind == "b") or (lower is not None and lower.kind == "f"):
        return promote_types(higher, lower)
    return higher if higher is not None else lower


def number_dtype(value: Any) -> np.dtype:
    """The dtype a Python number stands for in promotion: bool, int64, or the default
    float dtype."""
    if isinstance(value, bool | np.bool_):
        return BOOL
    if isinstance(value, int | np.integer):
        return INT64
    return default_float()


def result_type(dimensioned: list[np.dtype], zero_dim: list[np.dtype],
                numbers: list[np.dtype]) -> np.dtype:
    """The dtype PyTorch computes an op in, from its operands' dtypes by group."""
    groups = []
    for group in (dimensioned, zero_dim, numbers):
        promoted = None
        for dtype in group:
            promoted = promote_types(promoted, dtype)
        groups.append(promoted)
    result = _combine(groups[0], _combine(groups[1], groups[2]))
    if result is None:
        raise ArgumentError("result_type: no operands")
    return result
