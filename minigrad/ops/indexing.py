"""Indexing rows: x[key], its VJP index_add, gather and its VJP scatter_add."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError, InvalidIndexError, OutOfRangeError
from ..tensor import Tensor
from .core import INDEX, Op, _as_input, apply, register
from .dims import check_dim


def _freeze_key(key: Any) -> tuple:
    """An index key as a tuple of ints, slices, None, Ellipsis and int/bool arrays. As in
    PyTorch and numpy, a list, a tuple inside the key, or a tensor is an index array."""
    parts = key if isinstance(key, tuple) else (key,)
    frozen = []
    for part in parts:
        if isinstance(part, Tensor):
            part = part.data
        if isinstance(part, list | tuple | np.ndarray):
            part = _index_array(part)
        elif not isinstance(part, int | np.integer | slice | type(None) | type(Ellipsis)):
            raise InvalidIndexError(
                f"unsupported index {part!r}: only integers, slices, None, Ellipsis and "
                "integer or bool tensors/lists are valid indices")
        frozen.append(part)
    return tuple(frozen)


def _index_array(part: Any) -> np.ndarray:
    try:
        array = np.asarray(part)
    except ValueError as error:  # a ragged list
        raise InvalidIndexError(f"index list {part!r} is not rectangular: {error}") from None
    if array.dtype.kind not in "iub":
        raise InvalidIndexError(
            f"index arrays must hold integers or booleans, got {array.dtype}")
    return array


def _mixes_ints_and_arrays(key: tuple) -> bool:
    """Whether ``key`` holds both integers and index arrays (numpy and PyTorch place the
    result's axes differently then: ``x[0, :, [0, 1]]`` is (2, 6) in numpy, (6, 2) in
    PyTorch for x of shape (5, 6, 7))."""
    kinds = {isinstance(part, np.ndarray) for part in key if not isinstance(part, slice)
             and part is not None and part is not Ellipsis}
    return kinds == {True, False}


def _index_shape(shape: tuple[int, ...], *, key: tuple) -> tuple[int, ...]:
    if _mixes_ints_and_arrays(key):
        raise ArgumentError("index: a key mixing integers and index arrays is split by "
                            "ops.index into two index nodes (PyTorch's axis order)")
    try:
        return np.broadcast_to(np.empty((), np.int8), shape)[key].shape
    except IndexError as error:
        raise OutOfRangeError(f"index: {error} (tensor shape {shape})") from None


def _index_vjp(g: Tensor, out: Tensor, x: Tensor, *, key: tuple) -> tuple:
    return (index_add(g, key, x.shape),)


INDEX_OP = register(Op(
    "index", INDEX, 1, lambda x, *, key: np.array(x[key]), _index_shape, _index_vjp,
    grads=("scatter {g} back into zeros",), doc="x[key] (basic and integer-array indexing)",
))


def index(x: Any, key: Any) -> Tensor:
    """``x[key]`` with PyTorch's indexing: numpy's basic and advanced indexing, except that
    integers beside index arrays select first, so the arrays' axes are placed as if the
    integer axes were not there (``x[0, :, idx]`` is ``x[0][:, idx]``)."""
    key = _freeze_key(key)
    if not _mixes_ints_and_arrays(key):
        return apply(INDEX_OP, x, key=key)
    selected: list[Any] = []  # the integers (and None, Ellipsis); every other axis kept
    for part in key:
        if isinstance(part, np.ndarray):
            selected += [slice(None)] * (part.ndim if part.dtype == bool else 1)
        else:
            selected.append(slice(None) if isinstance(part, slice) else part)
    rest = tuple(slice(None) if part is None else part for part in key
                 if not isinstance(part, int | np.integer))
    return apply(INDEX_OP, apply(INDEX_OP, x, key=tuple(selected)), key=rest)


def _index_add_forward(g: np.ndarray, *, key: tuple, shape_to: tuple) -> np.ndarray:
    out = np.zeros(shape_to, dtype=g.dtype)
    np.add.at(out, key, g)
    return out


def _index_add_shape(shape: tuple[int, ...], *, key: tuple, shape_to: tuple) -> tuple:
    _index_shape(shape_to, key=key)  # the key must be one the index row accepts
    return shape_to


def _index_add_vjp(h: Tensor, out: Tensor, g: Tensor, *, key: tuple, shape_to: tuple) -> tuple:
    return (index(h, key),)


INDEX_ADD = register(Op(
    "index_add", INDEX, 1, _index_add_forward, _index_add_shape, _index_add_vjp,
    grads=("{g}[key]",), doc="zeros(shape) with g added at key (repeats accumulate)",
))


def index_add(g: Any, key: tuple, shape: tuple[int, ...]) -> Tensor:
    """zeros(shape) with ``g`` added at ``key`` (the VJP of indexing)."""
    return apply(INDEX_ADD, g, key=key, shape_to=tuple(shape))


def _gather_shape(shape: tuple[int, ...], idx: tuple[int, ...], *, axis: int) -> tuple:
    """The index's shape. As in PyTorch, the index may be smaller than the input along the
    other axes (it reads the leading part of them), never larger."""
    if len(idx) != len(shape):
        raise ArgumentError(
            f"gather: index of shape {idx} needs as many dimensions as the input {shape}"
        )
    for k, (n_idx, n_x) in enumerate(zip(idx, shape, strict=True)):
        if k != axis and n_idx > n_x:
            raise ArgumentError(
                f"gather: index of shape {idx} is larger than the input {shape} along "
                f"axis {k} (along every axis but {axis} the index may be at most as large)"
            )
    return idx


def _gather_forward(x: np.ndarray, idx: np.ndarray, *, axis: int) -> np.ndarray:
    if idx.dtype.kind not in "iu":
        raise ArgumentTypeError(f"gather: indices must be integers, got dtype {idx.dtype}")
    if idx.size and (idx.min() < -x.shape[axis] or idx.max() >= x.shape[axis]):
        raise OutOfRangeError(
            f"gather: index {int(idx.max()) if idx.max() >= x.shape[axis] else int(idx.min())}"
            f" is out of range for axis {axis} of size {x.shape[axis]}"
        )
    leading = tuple(slice(None) if k == axis else slice(0, n) for k, n in enumerate(idx.shape))
    return np.take_along_axis(x[leading], idx, axis=axis)


def _gather_vjp(g: Tensor, out: Tensor, x: Tensor, idx: Tensor, *, axis: int) -> tuple:
    return scatter_add(g, idx, axis, x.shape), None


GATHER = register(Op(
    "gather", INDEX, 2, _gather_forward, _gather_shape, _gather_vjp,
    grads=("scatter_add({g})", ""), doc="out[..i..] = x[..idx[..i..]..] along axis",
))


def gather(x: Any, idx: Any, axis: int) -> Tensor:
    """Values of ``x`` at ``idx`` along ``axis`` (``torch.gather`` / ``take_along_axis``)."""
    x = _as_input(x, None)
    idx = _as_input(idx, None)
    return apply(GATHER, x, idx, axis=check_dim("gather", axis, x.shape))


def _scatter_add_forward(g: np.ndarray, idx: np.ndarray, *, axis: int,
                         shape_to: tuple) -> np.ndarray:
    out = np.zeros(shape_to, dtype=g.dtype)
    grid = list(np.indices(idx.shape, sparse=True))
    grid[axis] = idx
    np.add.at(out, tuple(grid), g)
    return out


def _scatter_add_vjp(h: Tensor, out: Tensor, g: Tensor, idx: Tensor, *, axis: int,
                     shape_to: tuple) -> tuple:
    return gather(h, idx, axis), None


SCATTER_ADD = register(Op(
    "scatter_add", INDEX, 2, _scatter_add_forward,
    lambda g, idx, *, axis, shape_to: shape_to, _scatter_add_vjp,
    grads=("gather({g})", ""), doc="zeros(shape) with g added at idx along axis",
))


def scatter_add(g: Any, idx: Any, axis: int, shape: tuple[int, ...]) -> Tensor:
    """zeros(shape) with ``g`` added at ``idx`` along ``axis`` (the VJP of gather)."""
    return apply(SCATTER_ADD, g, idx, axis=int(axis), shape_to=tuple(shape))


def _scatter_max_forward(base: np.ndarray, idx: np.ndarray, src: np.ndarray, *, axis: int,
                         largest: bool) -> np.ndarray:
    out = base.copy()
    grid = list(np.indices(idx.shape, sparse=True))
    grid[axis] = idx
    (np.maximum if largest else np.minimum).at(out, tuple(grid), src)
    return out


def _scatter_max_shape(base: tuple[int, ...], idx: tuple[int, ...], src: tuple[int, ...], *,
                       axis: int, largest: bool) -> tuple[int, ...]:
    if src != idx or len(idx) != len(base) or any(
            n > m for k, (n, m) in enumerate(zip(idx, base, strict=True)) if k != axis):
        raise ArgumentError(f"scatter_max: index {idx} and src {src} must have one shape, with "
                           f"as many dims as the input {base} and no larger apart from "
                           f"dim {axis}")
    return base


SCATTER_MAX = register(Op(
    "scatter_max", INDEX, 3, _scatter_max_forward, _scatter_max_shape, None,
    doc="base with out[..idx[..i..]..] = max (min) of it and src[..i..] along axis (NaN wins)",
))


def scatter_max(base: Any, idx: Any, src: Any, axis: int, largest: bool = True) -> Tensor:
    """``base`` with each ``src`` value reduced into it by max (``largest``) or min at
    ``idx`` along ``axis`` (no gradient: scatter_reduce's amax/amin build theirs around it)."""
    return apply(SCATTER_MAX, base, idx, src, axis=int(axis), largest=bool(largest))
