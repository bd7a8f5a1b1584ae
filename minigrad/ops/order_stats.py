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

from ..errors import ArgumentError, ArgumentTypeError
from ..tensor import Tensor, read_values
from .binary_math import floor_divide
from .compare import equal, not_equal
from .core import _as_input
from .dims import check_dim, install, torch_keywords
from .elementwise import add, cast, div, maximum, mul, sub, where
from .extrema import ValuesIndices, argmax
from .indexing import gather
from .logical import isnan, logical_and, logical_not, logical_or
from .movement import reshape
from .reductions import sum as _sum
from .sorting import argsort, check_k, scalar_values_indices, sort
from .unary_math import ceil, floor
from .unary_math import round as round_

__all__ = ["kthvalue", "median", "nanmedian", "nanquantile", "quantile"]


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


@torch_keywords
def kthvalue(x: Any, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """``(values, indices)`` of the k-th smallest element along ``dim`` (k from 1; NaN
    sorts as the largest)."""
    x = _as_input(x, None)
    axis = check_dim("kthvalue", dim, x.shape)
    k = check_k("kthvalue", k, 1, dim, x, axis)
    return scalar_values_indices(x) if x.ndim == 0 else _at(x, axis, k - 1, bool(keepdim))


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
            raise ArgumentTypeError(f"{name}: keepdim needs a dim")
        flat = reshape(x, (-1,))
        if flat.shape[0] == 0:
            raise ArgumentError(f"{name}: the median of an empty tensor is undefined")
        return _shared(flat, _median(name, flat, 0, False, skip_nan).values)
    axis = check_dim(name, dim, x.shape)
    if x.ndim == 0:
        return scalar_values_indices(x)
    n = x.shape[axis]
    if n == 0:
        raise ArgumentError(f"{name}: cannot take the {name} of dim {axis} of size 0 "
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


# ------------------------------------------------------------------------ quantiles
INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_levels(name: str, q: Any) -> tuple[np.ndarray, bool]:
    """The levels as a 1-D float64 array, and whether q was one number (0-d)."""
    levels = np.asarray(read_values(q) if isinstance(q, Tensor) else q, dtype=np.float64)
    if levels.ndim > 1:
        raise ArgumentError(f"{name}: q must be a number or a 1-D tensor, got shape {levels.shape}")
    if levels.size and not ((levels >= 0) & (levels <= 1)).all():
        raise ArgumentError(f"{name}: q must be in the range [0, 1] but got {q!r}")
    return levels.reshape(-1), levels.ndim == 0


def _at_rank(sorted_x: Tensor, axis: int, rank: Tensor, how: str) -> Tensor:
    """Sorted values at the (fractional) ``rank`` along ``axis`` (keepdim shaped), combined
    as ``how`` says: linear v_lo + (v_hi - v_lo) * (rank - lo), lower, higher, midpoint,
    nearest (round half to even)."""
    if how == "nearest":
        return gather(sorted_x, cast(round_(rank), np.int64), axis)
    low, high = floor(rank), ceil(rank)
    v_low = gather(sorted_x, cast(low, np.int64), axis)
    v_high = gather(sorted_x, cast(high, np.int64), axis)
    if how == "lower":
        return v_low
    if how == "higher":
        return v_high
    if how == "midpoint":
        return mul(add(v_low, v_high), 0.5)
    return add(v_low, mul(sub(v_high, v_low), sub(rank, low)))


def _quantile(name: str, x: Any, q: Any, dim: int | None, keepdim: bool, how: str,
              skip_nan: bool) -> Tensor:
    x = _as_input(x, None)
    if x.dtype.kind != "f":
        raise ArgumentTypeError(f"{name}: input must be floating point, got dtype {x.dtype}")
    if how not in INTERPOLATIONS:
        raise ArgumentError(f"{name}: interpolation must be one of {INTERPOLATIONS}, got {how!r}")
    levels, single = _quantile_levels(name, q)
    axis = 0 if dim is None else check_dim(name, dim, x.shape)
    source = reshape(x, (-1,)) if dim is None or x.ndim == 0 else x
    n = source.shape[axis]
    if n == 0:
        raise ArgumentError(f"{name}: cannot take a quantile of dim {axis} of size 0 "
                            f"(shape {x.shape})")
    nan = isnan(source)
    sorted_x = sort(source, axis).values  # NaN last
    if skip_nan:  # ranks among the numbers of each row
        numbers = _sum(cast(logical_not(nan), x.dtype), (axis,), keepdims=True)
        last = maximum(sub(numbers, 1), 0)
        ranks = [mul(last, float(level)) for level in levels]
    else:  # a row holding a NaN reads its last sorted element, a NaN (as PyTorch)
        has_nan = not_equal(_sum(cast(nan, np.int64), (axis,), True), 0)
        last = Tensor(np.array(n - 1, dtype=x.dtype))
        ranks = [where(has_nan, last, Tensor(np.array(level * (n - 1), dtype=x.dtype)))
                 for level in levels]
    results = [_quantile_shape(_at_rank(sorted_x, axis, rank, how), x, dim, keepdim, axis)
               for rank in ranks]
    return results[0] if single else stack_(results)


def _quantile_shape(value: Tensor, x: Tensor, dim: int | None, keepdim: bool, axis: int
                    ) -> Tensor:
    """One level's keepdim-shaped result as PyTorch's: dim=None gives 0-d (all ones with
    keepdim), a dim is dropped unless keepdim, a 0-d input gives 0-d."""
    if dim is None:
        return reshape(value, (1,) * x.ndim if keepdim else ())
    if x.ndim == 0:
        return reshape(value, ())
    return value if keepdim else reshape(value, x.shape[:axis] + x.shape[axis + 1:])


def stack_(values: list[Tensor]) -> Tensor:
    """The values stacked along a new first dim."""
    from ..shape_ops import stack

    return stack(values, 0)


@torch_keywords
def quantile(x: Any, q: Any, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The q-th quantiles of ``x`` along ``dim`` (of all elements when None): the sorted
    values at rank q (n - 1), interpolated; NaN where a NaN is. A 1-D q adds a first dim."""
    return _quantile("quantile", x, q, dim, keepdim, interpolation, skip_nan=False)


@torch_keywords
def nanquantile(x: Any, q: Any, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """``quantile`` of the elements that are not NaN (NaN only where all are)."""
    return _quantile("nanquantile", x, q, dim, keepdim, interpolation, skip_nan=True)


install({"kthvalue": kthvalue, "median": median, "nanmedian": nanmedian,
         "quantile": quantile, "nanquantile": nanquantile})
