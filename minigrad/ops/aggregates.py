"""PyTorch's other reductions, composed of rows (gradients of every order, drawings and
mg.jit come from those): ``prod``, ``logsumexp``, ``norm`` / ``vector_norm``, ``any``,
``all``, ``count_nonzero``.

* ``prod`` multiplies halves in ceil(log2 n) steps (ones padded up to a power of two):
  only ``mul`` rows, so the gradient is the product of the others also at zeros (one
  zero: only that element's gradient is nonzero; two: all are zero), and the second
  order is right there too.
* ``logsumexp`` = m + log(sum(exp(x - m))) with m = max(x) held constant (0 where it is
  infinite, as PyTorch: a row of -inf gives -inf, a NaN gives NaN).
* ``norm``: (sum |x|^p)^(1/p); p = 2 as sqrt(sum x*x); inf / -inf as amax / amin of |x|;
  0 counts the nonzero elements. The gradient at a zero vector is 0, and zero elements
  get 0 for every p, as in PyTorch (``where`` keeps the unselected branch away from 0).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._state import no_grad
from ..dtypes import default_float
from ..errors import ArgumentError, ArgumentTypeError
from ..tensor import Tensor
from .compare import equal, greater, not_equal
from .core import _as_input
from .dims import Dims, check_dim, install, reduced_dims, torch_keywords
from .elementwise import add, cast, div, exp, log, mul, power, sqrt, sub, where
from .extrema import amax, amin
from .logical import isinf, isnan, logical_not
from .movement import reshape
from .reductions import sum as _sum
from .unary_math import abs as _abs

__all__ = ["all_", "any_", "count_nonzero", "logsumexp", "nanmean", "nansum", "norm", "prod",
           "vector_norm"]


def _floating(x: Tensor, dtype: Any = None) -> Tensor:
    """``x`` in ``dtype``, else integers and bools in the default float dtype."""
    if dtype is not None:
        return cast(x, dtype)
    return cast(x, default_float()) if x.dtype.kind in "biu" else x


def _squeeze(out: Tensor, shape: tuple[int, ...], axes: tuple[int, ...], keepdim: bool
             ) -> Tensor:
    """A keepdim result reshaped without the reduced dims unless ``keepdim``."""
    if keepdim:
        return out
    return reshape(out, tuple(n for k, n in enumerate(shape) if k not in axes))


# ---------------------------------------------------------------------------- prod
def _halves_product(y: Tensor, axis: int) -> Tensor:
    """prod along ``axis``: ones padded up to a power of two, then halves multiplied until
    one is left (a keepdim result)."""
    from ..shape_ops import pad

    n = y.shape[axis]
    wide = 1 << max(n - 1, 0).bit_length()
    if wide != n:
        y = pad(y, [0, 0] * (y.ndim - 1 - axis) + [0, wide - n], value=1)
    while wide > 1:
        wide //= 2
        low = tuple(slice(0, wide) if k == axis else slice(None) for k in range(y.ndim))
        high = tuple(slice(wide, 2 * wide) if k == axis else slice(None) for k in range(y.ndim))
        y = mul(y[low], y[high])
    return y


@torch_keywords
def prod(x: Any, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None
         ) -> Tensor:
    """prod_j x[..., j, ...] along ``dim`` (all elements when None, a 0-d result);
    integers and bools give int64, as in PyTorch."""
    x = _as_input(x, None)
    x = cast(x, dtype) if dtype is not None else (
        cast(x, np.int64) if x.dtype.kind in "biu" else x)
    if dim is None:
        if keepdim:
            raise ArgumentTypeError("prod: keepdim needs a dim")
        return reshape(_halves_product(reshape(x, (-1,)), 0), ())
    axis = check_dim("prod", dim, x.shape)
    if x.ndim == 0:
        return x
    if x.shape[axis] == 0:  # the empty product
        return _squeeze(add(_sum(x, (axis,), True), 1), x.shape, (axis,), keepdim)
    return _squeeze(_halves_product(x, axis), x.shape, (axis,), keepdim)


# ----------------------------------------------------------------------- logsumexp
@torch_keywords
def logsumexp(x: Any, dim: Dims, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x), dim)) = m + log(sum(exp(x - m), dim)), m = max(x, dim) held constant
    (0 where infinite, as PyTorch): stable for any x; the gradient is softmax(x)."""
    x = _floating(_as_input(x, None))
    axes = reduced_dims("logsumexp", dim, x.shape)
    with no_grad():
        if math.prod(x.shape[a] for a in axes) == 0:  # nothing to add: log 0 = -inf
            peak = _sum(x.detach(), axes, keepdims=True)
        else:
            peak = amax(x.detach() if x.requires_grad else x, axes, keepdim=True)
            peak = where(isinf(peak), 0.0, peak)
    total = _sum(exp(sub(x, peak)), axes, keepdims=True)
    return _squeeze(add(log(total), peak), x.shape, axes, keepdim)


# ---------------------------------------------------------------------------- norms
def _root(total: Tensor, order: float) -> Tensor:
    """total^(1/order), 0 with a zero gradient where total is 0."""
    empty = equal(total, 0.0)
    safe = where(empty, 1.0, total)
    rooted = sqrt(safe) if order == 2 else power(safe, 1.0 / order)
    return where(empty, 0.0, rooted)


@torch_keywords
def vector_norm(x: Any, ord: float = 2, dim: Dims = None, keepdim: bool = False, *,  # noqa: A002
                dtype: Any = None) -> Tensor:
    """(sum |x|^ord)^(1/ord) over ``dim`` (all elements when None): ord = inf / -inf is
    max / min |x|, ord = 0 the number of nonzero elements (``torch.linalg.vector_norm``).
    Zero elements and zero vectors get a zero gradient, as in PyTorch."""
    x = _floating(_as_input(x, None), dtype)
    axes = reduced_dims("vector_norm", dim, x.shape)
    order = float(ord)
    if order == math.inf:
        return amax(_abs(x), axes, keepdim)
    if order == -math.inf:
        return amin(_abs(x), axes, keepdim)
    nonzero = not_equal(x, 0.0)
    if order == 0:
        return _sum(cast(nonzero, x.dtype), axes, keepdims=keepdim)
    if order == 2:
        return _root(_sum(mul(x, x), axes, keepdims=keepdim), 2)
    size = where(nonzero, _abs(x), 1.0)  # |x|, with 1 where x = 0: no 0^(p - 1)
    terms = where(nonzero, power(size, order), 0.0 if order > 0 else math.inf)
    return _root(_sum(terms, axes, keepdims=keepdim), order)


@torch_keywords
def norm(x: Any, p: Any = "fro", dim: Dims = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """PyTorch's ``Tensor.norm``: p = 'fro' (or 2) the 2-norm over ``dim`` (all elements
    when None), a number the vector p-norm (``vector_norm``)."""
    if p == "fro":
        p = 2
    if isinstance(p, str):
        raise ArgumentError(f"norm: p={p!r} is not supported (use 'fro' or a number)")
    return vector_norm(x, p, dim, keepdim, dtype=dtype)


# ------------------------------------------------------------------ nansum, nanmean
@torch_keywords
def nansum(x: Any, dim: Dims = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """sum over ``dim`` with NaNs counted as 0 (no gradient reaches them)."""
    x = _as_input(x, None)
    x = cast(x, dtype) if dtype is not None else x
    axes = reduced_dims("nansum", dim, x.shape)
    numbers = where(isnan(x), 0, x) if x.dtype.kind == "f" else x
    return _sum(numbers, axes, keepdims=bool(keepdim))


@torch_keywords
def nanmean(x: Any, dim: Dims = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """nansum(x) / (the number of elements that are not NaN) over ``dim``; NaN where all
    are NaN."""
    x = _floating(_as_input(x, None), dtype)
    axes = reduced_dims("nanmean", dim, x.shape)
    count = _sum(cast(logical_not(isnan(x)), x.dtype), axes, keepdims=bool(keepdim))
    return div(nansum(x, axes, keepdim), count)


# ------------------------------------------------------------------ any, all, count
def _nonzero_count(name: str, x: Any, dim: Dims, keepdim: bool
                   ) -> tuple[Tensor, tuple[int, ...], int]:
    x = _as_input(x, None)
    axes = reduced_dims(name, dim, x.shape)
    count = _sum(cast(not_equal(x, 0), np.int64), axes, keepdims=keepdim)
    return count, axes, math.prod(x.shape[a] for a in axes)


def _truth(result: Tensor, x: Any) -> Tensor:
    """bool, or uint8 for a uint8 input (PyTorch keeps that for old code)."""
    is_uint8 = isinstance(x, Tensor) and x.dtype == np.uint8
    return cast(result, np.uint8) if is_uint8 else result


@torch_keywords
def any_(x: Any, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """Whether any element along ``dim`` is nonzero (NaN counts); bool (uint8 for uint8)."""
    count, _, _ = _nonzero_count("any", x, dim, keepdim)
    return _truth(greater(count, 0), x)


@torch_keywords
def all_(x: Any, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """Whether every element along ``dim`` is nonzero (NaN counts); bool (uint8 for
    uint8), True when empty."""
    count, _, size = _nonzero_count("all", x, dim, keepdim)
    return _truth(equal(count, size), x)


@torch_keywords
def count_nonzero(x: Any, dim: Dims = None) -> Tensor:
    """The number of nonzero elements along ``dim`` (all when None); int64."""
    count, _, _ = _nonzero_count("count_nonzero", x, dim, False)
    return count


any_.__name__, all_.__name__ = "any", "all"
install({"prod": prod, "logsumexp": logsumexp, "norm": norm, "any": any_, "all": all_,
         "count_nonzero": count_nonzero, "nansum": nansum, "nanmean": nanmean})
