"""Order statistics read off the ``argsort`` row: ``kthvalue``, ``median``, ``nanmedian``
(PyTorch's: the lower median of an even count).

Over a dim they give ``(values, indices)``, the values a ``gather`` at the chosen position
of the ascending order, so the gradient goes to that element. Over the whole tensor
(``median(x)``) the result is 0-d and, as in PyTorch, its gradient is shared evenly
between the elements equal to it. NaN: ``median`` is NaN where a NaN is (its index the
first NaN), ``nanmedian`` leaves NaNs out (NaN only when all are), ``kthvalue`` sorts them
last. Among tied values the index is the one the stable order puts there (PyTorch's
selection may name another tied position: the values agree).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .binary_math import floor_divide
from .compare import equal, not_equal
from .core import _as_input
from .dims import check_dim, install, torch_keywords
from .elementwise import cast, div, maximum, sub, where
from .extrema import ValuesIndices, argmax
from .indexing import gather
from .logical import isnan, logical_and, logical_not, logical_or
from .movement import reshape
from .reductions import sum as _sum
from .sorting import argsort

__all__ = ["kthvalue", "median", "nanmedian"]


def _at(x: Tensor, axis: int, position: Tensor | int, keepdim: bool) -> ValuesIndices:
    """(values, indices) at ``position`` of x's ascending order along ``axis`` (an int, or
    an int64 tensor with a size-1 ``axis``)."""
    order = argsort(x, axis)
    if isinstance(position, int):
        key = tuple(slice(position, position + 1) if d == axis else slice(None)
                    for d in range(x.ndim))
        indices = order[key]
    else:
        indices = gather(order, position, axis)
    values = gather(x, indices, axis)
    if not keepdim:
        shape = x.shape[:axis] + x.shape[axis + 1:]
        values, indices = reshape(values, shape), reshape(indices, shape)
    return ValuesIndices(values, indices)


def _scalar_case(x: Tensor) -> ValuesIndices:
    return ValuesIndices(x, Tensor(np.zeros((), np.int64)))


@torch_keywords
def kthvalue(x: Any, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """``(values, indices)`` of the k-th smallest element along ``dim`` (k from 1; NaN
    sorts as the largest)."""
    x = _as_input(x, None)
    axis = check_dim("kthvalue", dim, x.shape)
    size = x.shape[axis] if x.ndim else 1
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= size:
        raise ValueError(f"kthvalue: k={k!r} must be an integer in [1, {size}] (the size of "
                         f"dim {dim} of shape {x.shape})")
    return _scalar_case(x) if x.ndim == 0 else _at(x, axis, int(k) - 1, bool(keepdim))


def _shared(x: Tensor, picked: Tensor) -> Tensor:
    """``picked`` (an element of the flat ``x``, 0-d) as the mean of the elements equal to
    it: the same value, its gradient shared evenly between ties (PyTorch's median())."""
    if x.dtype.kind != "f":
        return picked
    value = picked.detach()
    hit = logical_or(equal(x, value), logical_and(isnan(x), isnan(value)))
    return div(_sum(where(hit, x, 0.0)), _sum(cast(hit, x.dtype)))


def _median(name: str, x: Any, dim: int | None, keepdim: bool, skip_nan: bool) -> Any:
    x = _as_input(x, None)
    if dim is None:
        if keepdim:
            raise TypeError(f"{name}: keepdim needs a dim")
        flat = reshape(x, (-1,))
        if flat.shape[0] == 0:
            raise ValueError(f"{name}: the median of an empty tensor is undefined")
        return _shared(flat, _median(name, flat, 0, False, skip_nan).values)
    axis = check_dim(name, dim, x.shape)
    if x.ndim == 0:
        return _scalar_case(x)
    n = x.shape[axis]
    if n == 0:
        raise ValueError(f"{name}: cannot take the {name} of dim {axis} of size 0 "
                         f"(shape {x.shape})")
    if x.dtype.kind != "f":
        return _at(x, axis, (n - 1) // 2, bool(keepdim))
    if skip_nan:  # the lower median of the numbers (NaNs sort after them)
        count = _sum(cast(logical_not(isnan(x)), np.int64), (axis,), keepdims=True)
        return _at(x, axis, floor_divide(maximum(sub(count, 1), 0), 2), bool(keepdim))
    return _median_or_nan(x, axis, bool(keepdim))


def _median_or_nan(x: Tensor, axis: int, keepdim: bool) -> ValuesIndices:
    """The lower median along ``axis``, or the first NaN where there is one."""
    nan = isnan(x)
    has_nan = not_equal(_sum(cast(nan, np.int64), (axis,), keepdims=True), 0)
    chosen = _at(x, axis, (x.shape[axis] - 1) // 2, True).indices
    indices = where(has_nan, argmax(nan, axis, keepdim=True), chosen)
    values = gather(x, indices, axis)
    if not keepdim:
        shape = x.shape[:axis] + x.shape[axis + 1:]
        values, indices = reshape(values, shape), reshape(indices, shape)
    return ValuesIndices(values, indices)


@torch_keywords
def median(x: Any, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median: ``median(x)`` of all elements (0-d; NaN if any is NaN; the
    gradient shared between ties), ``median(x, dim)`` -> ``(values, indices)``."""
    return _median("median", x, dim, keepdim, skip_nan=False)


@torch_keywords
def nanmedian(x: Any, dim: int | None = None, keepdim: bool = False) -> Any:
    """``median`` of the elements that are not NaN (NaN only where all are)."""
    return _median("nanmedian", x, dim, keepdim, skip_nan=True)


install({"kthvalue": kthvalue, "median": median, "nanmedian": nanmedian})
