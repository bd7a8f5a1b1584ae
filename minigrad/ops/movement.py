"""Movement rows: reshape, transpose, broadcast_to (values rearranged, not computed)."""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ArgumentError, OutOfRangeError
from ..tensor import Tensor
from .core import _as_input, apply, broadcast_shapes, unbroadcast
from .rows import movement


def _reshape_shape(shape: tuple[int, ...], *, shape_to: tuple[int, ...]) -> tuple:
    size = math.prod(shape)
    if math.prod(shape_to) != size or builtins.min(shape_to, default=0) < 0:
        raise ArgumentError(f"reshape: cannot reshape a tensor of shape {shape} to {shape_to}")
    return shape_to


def _resolve_reshape(shape: tuple[int, ...], target: tuple[int, ...]) -> tuple[int, ...]:
    size = math.prod(shape)
    unknown = [i for i, n in enumerate(target) if n == -1]
    if len(unknown) > 1:
        raise ArgumentError(f"reshape: only one dimension can be -1, got {target}")
    if unknown:
        known = math.prod([n for n in target if n != -1])
        if known == 0 or size % known:
            raise ArgumentError(f"reshape: cannot reshape a tensor of shape {shape} to {target}")
        target = tuple(size // known if n == -1 else n for n in target)
    return _reshape_shape(shape, shape_to=target)


RESHAPE = movement(
    "reshape", lambda x, *, shape_to: np.reshape(x, shape_to), _reshape_shape,
    lambda g, out, x, *, shape_to: (reshape(g, x.shape),), "reshape({g})",
    doc="the same values in another shape", jit_identity=True,
)


def reshape(x: Any, shape: Sequence[int]) -> Tensor:
    """The same values in ``shape`` (one entry may be -1)."""
    x = _as_input(x, None)
    return apply(RESHAPE, x, shape_to=_resolve_reshape(x.shape, tuple(int(n) for n in shape)))


def _transpose_shape(shape: tuple[int, ...], *, perm: tuple[int, ...]) -> tuple:
    if sorted(perm) != list(range(len(shape))):
        raise ArgumentError(f"transpose: axes {perm} are not a permutation for shape {shape}")
    return tuple(shape[p] for p in perm)


def _transpose_vjp(g: Tensor, out: Tensor, x: Tensor, *, perm: tuple) -> tuple:
    inverse = sorted(range(len(perm)), key=perm.__getitem__)  # argsort of the permutation
    return (transpose(g, tuple(inverse)),)


TRANSPOSE = movement(
    "transpose", lambda x, *, perm: np.transpose(x, perm).copy(), _transpose_shape,
    _transpose_vjp, "transpose({g})", doc="permute axes",
)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes (reverse them when ``axes`` is None)."""
    x = _as_input(x, None)
    for ax in () if axes is None else axes:
        if not -x.ndim <= int(ax) < builtins.max(x.ndim, 1):
            raise OutOfRangeError(f"transpose: axis {ax} is out of range for shape {x.shape}")
    perm = tuple(reversed(range(x.ndim))) if axes is None else tuple(
        int(a) % builtins.max(x.ndim, 1) for a in axes
    )
    return apply(TRANSPOSE, x, perm=perm)


def _broadcast_shape(shape: tuple[int, ...], *, shape_to: tuple[int, ...]) -> tuple:
    if broadcast_shapes(shape, shape_to, op="broadcast_to") != shape_to:
        raise ArgumentError(f"broadcast_to: cannot broadcast shape {shape} to {shape_to}")
    return shape_to


BROADCAST_TO = movement(
    "broadcast_to", lambda x, *, shape_to: np.broadcast_to(x, shape_to), _broadcast_shape,
    lambda g, out, x, *, shape_to: (unbroadcast(g, x.shape),), "unbroadcast({g})",
    doc="repeat along new or size-1 axes", jit_identity=True,
    numba_keeps_dtype=True, numba_bool=True,  # the JIT reads its input in the loop
)


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """``x`` repeated along new or size-1 axes to reach ``shape`` (a read-only view)."""
    x = _as_input(x, None)
    shape = tuple(int(n) for n in shape)
    if x.shape == shape:
        return x
    return apply(BROADCAST_TO, x, shape_to=shape)
