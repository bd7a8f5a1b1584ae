"""PyTorch's extrema: ``max``/``min`` (values and indices over a dim, the whole tensor, or
elementwise against another tensor), ``amax``/``amin``, ``argmax``/``argmin``, ``aminmax``.

No rows of their own: they are composed from the ``max`` reduction row, comparisons,
``where`` and ``gather``, so gradients (of any order), drawings and ``mg.jit`` come from
those rows. Two gradient rules, as in PyTorch:

* ``amax``/``amin`` and ``max()``/``min()`` without a dim share the gradient evenly
  between tied extrema (the ``max`` row's rule);
* ``max(dim)``/``min(dim)`` give the whole gradient to the index they return (their
  values are a ``gather`` of x at those indices).

Indices are int64 and carry no gradient: the first extremum along the dim, or the first
NaN when there is one (NaN propagates: it is the max and the min of its row, as in
PyTorch).
"""

from __future__ import annotations

import builtins
from typing import Any, NamedTuple

import numpy as np

from .._state import no_grad
from ..tensor import Tensor
from .compare import equal
from .core import _as_input, normalize_axes
from .elementwise import cast, maximum, neg, where
from .indexing import gather
from .logical import isnan, logical_or
from .movement import reshape
from .reductions import max as _max_row

__all__ = ["amax", "amin", "aminmax", "argmax", "argmin"]

Dims = int | tuple[int, ...] | list[int] | None


class ValuesIndices(NamedTuple):
    """``(values, indices)``, as PyTorch's ``torch.return_types.max`` (also min, sort,
    topk): unpacks as a tuple, or read ``.values`` and ``.indices``."""

    values: Tensor
    indices: Tensor


class MinMax(NamedTuple):
    """``(min, max)``, as PyTorch's ``torch.return_types.aminmax``."""

    min: Tensor
    max: Tensor


def check_dim(name: str, dim: Any, shape: tuple[int, ...]) -> int:
    """``dim`` as a non-negative dim of a tensor of ``shape`` (a 0-d tensor takes 0 and
    -1, as in PyTorch); an error naming the dim and the shape otherwise."""
    span = builtins.max(len(shape), 1)
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer):
        raise TypeError(f"{name}: dim must be an integer, got {dim!r}")
    if not -span <= dim < span:
        raise IndexError(f"{name}: dim {dim} is out of range for a tensor of shape {shape} "
                         f"(expected one in [{-span}, {span - 1}])")
    return int(dim) % span


def _dims(name: str, dim: Dims, axis: Dims, x: Tensor) -> tuple[int, ...]:
    """The reduced dims of ``dim`` (or numpy's ``axis``): an int, a tuple/list, or None
    and () for all of them."""
    if dim is not None and axis is not None:
        raise TypeError(f"{name}: got both dim={dim!r} and axis={axis!r}; give one")
    chosen = dim if axis is None else axis
    if chosen is None or (isinstance(chosen, tuple | list) and not chosen):
        return tuple(range(x.ndim))
    many = chosen if isinstance(chosen, tuple | list) else (chosen,)
    for d in many:
        check_dim(name, d, x.shape)
    return normalize_axes(tuple(many), x.ndim, name)


def _keep(keepdim: bool, keepdims: bool | None) -> bool:
    return bool(keepdim if keepdims is None else keepdims)


def amax(x: Any, dim: Dims = None, keepdim: bool = False, *, axis: Dims = None,
         keepdims: bool | None = None) -> Tensor:
    """max(x) over ``dim`` (an int, several, or all when None); the gradient is shared
    evenly between tied maxima; NaN propagates."""
    x = _as_input(x, None)
    return _max_row(x, _dims("amax", dim, axis, x), _keep(keepdim, keepdims))


def amin(x: Any, dim: Dims = None, keepdim: bool = False, *, axis: Dims = None,
         keepdims: bool | None = None) -> Tensor:
    """min(x) = -max(-x) over ``dim``; the gradient is shared evenly between tied minima.
    Bool and unsigned inputs are negated as int64 and cast back."""
    x = _as_input(x, None)
    axes, keep = _dims("amin", dim, axis, x), _keep(keepdim, keepdims)
    if x.dtype.kind in "bu":
        return cast(neg(_max_row(neg(cast(x, np.int64)), axes, keep)), x.dtype)
    return neg(_max_row(neg(x), axes, keep))


def _first_index(name: str, x: Tensor, dim: int | None, keepdim: bool, largest: bool
                 ) -> Tensor:
    """The int64 index of the first extremum (or first NaN) along ``dim``: the smallest
    position where x equals its extremum, as amin(where(hit, position, n))."""
    if dim is None:
        flat = _first_index(name, reshape(x, (-1,)), 0, False, largest)
        return reshape(flat, (1,) * x.ndim) if keepdim else flat
    dim = check_dim(name, dim, x.shape)
    if x.ndim == 0:
        return Tensor(np.zeros((), np.int64))
    n = x.shape[dim]
    if n == 0:
        raise ValueError(f"{name}: cannot take the {name} of dim {dim} of size 0 "
                         f"(shape {x.shape})")
    with no_grad():
        x = x.detach() if x.requires_grad else x
        peak = (amax if largest else amin)(x, dim, keepdim=True)
        hit = equal(x, peak)
        if x.dtype.kind == "f":
            hit = logical_or(hit, isnan(x))
        positions = np.arange(n, dtype=np.int64).reshape((n,) + (1,) * (x.ndim - dim - 1))
        return amin(where(hit, Tensor(positions), n), dim, keepdim)


def argmax(x: Any, dim: int | None = None, keepdim: bool = False, *,
           axis: int | None = None, keepdims: bool | None = None) -> Tensor:
    """The int64 index of the first maximum along ``dim`` (of the flattened tensor when
    None); a NaN counts as the maximum. No gradient."""
    x = _as_input(x, None)
    chosen = axis if dim is None else dim
    return _first_index("argmax", x, chosen, _keep(keepdim, keepdims), True)


def argmin(x: Any, dim: int | None = None, keepdim: bool = False, *,
           axis: int | None = None, keepdims: bool | None = None) -> Tensor:
    """The int64 index of the first minimum along ``dim`` (of the flattened tensor when
    None); a NaN counts as the minimum. No gradient."""
    x = _as_input(x, None)
    chosen = axis if dim is None else dim
    return _first_index("argmin", x, chosen, _keep(keepdim, keepdims), False)


def _values_indices(name: str, x: Tensor, dim: int, keepdim: bool, largest: bool
                    ) -> ValuesIndices:
    """(x at its first extremum along ``dim``, that index): the gradient goes to the index."""
    dim = check_dim(name, dim, x.shape)
    if x.ndim == 0:
        return ValuesIndices(x, _first_index(name, x, dim, keepdim, largest))
    indices = _first_index(name, x, dim, True, largest)
    values = gather(x, indices, dim)
    if not keepdim:
        squeezed = x.shape[:dim] + x.shape[dim + 1:]
        values, indices = reshape(values, squeezed), reshape(indices, squeezed)
    return ValuesIndices(values, indices)


def _extremum(name: str, x: Any, dim: Any, keepdim: bool, axis: Any, keepdims: bool | None,
              largest: bool) -> Any:
    x = _as_input(x, None)
    if isinstance(dim, Tensor | np.ndarray):  # max(x, other): elementwise
        return maximum(x, dim) if largest else _minimum(x, dim)
    if dim is not None and axis is not None:
        raise TypeError(f"{name}: got both dim={dim!r} and axis={axis!r}; give one")
    chosen = axis if dim is None else dim
    if chosen is None:
        if keepdim or keepdims:
            raise TypeError(f"{name}: keepdim needs a dim")
        return (amax if largest else amin)(x)
    return _values_indices(name, x, chosen, _keep(keepdim, keepdims), largest)


def _minimum(a: Tensor, b: Any) -> Tensor:
    from .binary_math import minimum

    return minimum(a, b)


def max(x: Any, dim: Any = None, keepdim: bool = False, *, axis: int | None = None,  # noqa: A001
        keepdims: bool | None = None) -> Any:
    """PyTorch's ``max``: ``max(x)`` the largest element (0-d; the gradient shared evenly
    between ties), ``max(x, dim, keepdim)`` the ``(values, indices)`` of the first maximum
    along ``dim`` (the gradient to that index), ``max(x, other)`` the elementwise maximum."""
    return _extremum("max", x, dim, keepdim, axis, keepdims, True)


def min(x: Any, dim: Any = None, keepdim: bool = False, *, axis: int | None = None,  # noqa: A001
        keepdims: bool | None = None) -> Any:
    """PyTorch's ``min``: ``min(x)``, ``min(x, dim, keepdim)`` -> ``(values, indices)``,
    ``min(x, other)`` elementwise; as ``max``."""
    return _extremum("min", x, dim, keepdim, axis, keepdims, False)


def aminmax(x: Any, *, dim: int | None = None, keepdim: bool = False) -> MinMax:
    """``(amin(x, dim), amax(x, dim))``, PyTorch's ``aminmax`` (dim=None: all elements)."""
    return MinMax(amin(x, dim, keepdim), amax(x, dim, keepdim))


def _method(function: Any) -> Any:
    def method(self: Tensor, *args: Any, **keywords: Any) -> Any:
        return function(self, *args, **keywords)

    method.__name__ = method.__qualname__ = function.__name__
    method.__doc__ = function.__doc__
    return method


def install(functions: dict[str, Any]) -> None:
    """Set each function as the Tensor method of that name (``x.max(1)``)."""
    for name, function in functions.items():
        setattr(Tensor, name, _method(function))


install({"max": max, "min": min, "amax": amax, "amin": amin, "argmax": argmax,
         "argmin": argmin, "aminmax": aminmax})
