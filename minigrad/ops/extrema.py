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

from typing import Any, NamedTuple

import numpy as np

from .._state import no_grad
from ..errors import ArgumentError, ArgumentTypeError
from ..tensor import Tensor
from .binary_math import minimum
from .compare import equal
from .core import _as_input
from .dims import Dims, check_dim, install, reduced_dims, torch_keywords
from .elementwise import maximum, neg, where
from .indexing import gather
from .logical import bitwise_not, isnan, logical_or
from .movement import reshape
from .reductions import max as _max_row

__all__ = ["amax", "amin", "aminmax", "argmax", "argmin"]


class ValuesIndices(NamedTuple):
    """``(values, indices)``, as PyTorch's ``torch.return_types.max`` (also min, sort,
    topk): unpacks as a tuple, or read ``.values`` and ``.indices``."""

    values: Tensor
    indices: Tensor


class MinMax(NamedTuple):
    """``(min, max)``, as PyTorch's ``torch.return_types.aminmax``."""

    min: Tensor
    max: Tensor


@torch_keywords
def amax(x: Any, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """max(x) over ``dim`` (an int, several, or all when None); the gradient is shared
    evenly between tied maxima; NaN propagates."""
    x = _as_input(x, None)
    return _max_row(x, reduced_dims("amax", dim, x.shape), bool(keepdim))


@torch_keywords
def amin(x: Any, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """min(x) = -max(-x) over ``dim``; the gradient is shared evenly between tied minima.
    Integers and bools: ~max(~x) (~x = -x - 1 reverses their order, where -x overflows at
    the dtype's minimum: -(-2^31) is -2^31 in int32)."""
    x = _as_input(x, None)
    axes, keep = reduced_dims("amin", dim, x.shape), bool(keepdim)
    if x.dtype.kind in "biu":
        return bitwise_not(_max_row(bitwise_not(x), axes, keep))
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
        raise ArgumentError(f"{name}: cannot take the {name} of dim {dim} of size 0 "
                            f"(shape {x.shape})")
    with no_grad():
        x = x.detach() if x.requires_grad else x
        peak = (amax if largest else amin)(x, dim, keepdim=True)
        hit = equal(x, peak)
        if x.dtype.kind == "f":
            hit = logical_or(hit, isnan(x))
        positions = np.arange(n, dtype=np.int64).reshape((n,) + (1,) * (x.ndim - dim - 1))
        return amin(where(hit, Tensor(positions), n), dim, keepdim)


@torch_keywords
def argmax(x: Any, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """The int64 index of the first maximum along ``dim`` (of the flattened tensor when
    None); a NaN counts as the maximum. No gradient."""
    return _first_index("argmax", _as_input(x, None), dim, bool(keepdim), True)


@torch_keywords
def argmin(x: Any, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """The int64 index of the first minimum along ``dim`` (of the flattened tensor when
    None); a NaN counts as the minimum. No gradient."""
    return _first_index("argmin", _as_input(x, None), dim, bool(keepdim), False)


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


def _extremum(name: str, x: Any, dim: Any, keepdim: bool, largest: bool) -> Any:
    x = _as_input(x, None)
    if isinstance(dim, Tensor | np.ndarray):  # max(x, other): elementwise
        return maximum(x, dim) if largest else minimum(x, dim)
    if dim is None:
        if keepdim:
            raise ArgumentTypeError(f"{name}: keepdim needs a dim")
        return (amax if largest else amin)(x)
    return _values_indices(name, x, dim, bool(keepdim), largest)


@torch_keywords
def max(x: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """PyTorch's ``max``: ``max(x)`` the largest element (0-d; the gradient shared evenly
    between ties), ``max(x, dim, keepdim)`` the ``(values, indices)`` of the first maximum
    along ``dim`` (the gradient to that index), ``max(x, other)`` the elementwise maximum."""
    return _extremum("max", x, dim, keepdim, True)


@torch_keywords
def min(x: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """PyTorch's ``min``: ``min(x)``, ``min(x, dim, keepdim)`` -> ``(values, indices)``,
    ``min(x, other)`` elementwise; as ``max``."""
    return _extremum("min", x, dim, keepdim, False)


@torch_keywords
def aminmax(x: Any, *, dim: int | None = None, keepdim: bool = False) -> MinMax:
    """``(amin(x, dim), amax(x, dim))``, PyTorch's ``aminmax`` (dim=None: all elements)."""
    return MinMax(amin(x, dim, keepdim), amax(x, dim, keepdim))


install({"max": max, "min": min, "amax": amax, "amin": amin, "argmax": argmax,
         "argmin": argmin, "aminmax": aminmax})
