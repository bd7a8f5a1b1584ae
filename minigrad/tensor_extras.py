"""PyTorch's remaining everyday functions, composed from shape ops, indexing and matmul.

``mm``, ``bmm``, ``mv``, ``addmm``, ``narrow``, ``select``, ``tile``, ``vstack``/``hstack``/
``column_stack``, ``broadcast_tensors``, ``meshgrid``, ``repeat_interleave``, ``diff``,
``take``: each written once with existing rows, so gradients of any order, drawings and
``mg.jit`` come from them. Exported as ``mg.<name>`` and, where PyTorch has one, as a
Tensor method.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ops, shape_ops
from .errors import ArgumentError, ArgumentTypeError, OutOfRangeError
from .shape_ops import as_tensor_input
from .tensor import Tensor, read_values


def _matrix(name: str, x: Tensor, ndim: int) -> None:
    if x.ndim != ndim:
        raise ArgumentError(f"{name}: expected a {ndim}-D tensor, got shape {x.shape}")


def mm(input: Any, mat2: Any) -> Tensor:  # noqa: A002 - PyTorch's keyword
    """(n, m) @ (m, p) only (no broadcasting), as torch.mm."""
    a, b = as_tensor_input(input), as_tensor_input(mat2)
    _matrix("mm", a, 2)
    _matrix("mm", b, 2)
    return ops.matmul(a, b)


def bmm(input: Any, mat2: Any) -> Tensor:  # noqa: A002
    """(b, n, m) @ (b, m, p), the same batch size on both sides (torch.bmm)."""
    a, b = as_tensor_input(input), as_tensor_input(mat2)
    _matrix("bmm", a, 3)
    _matrix("bmm", b, 3)
    if a.shape[0] != b.shape[0]:
        raise ArgumentError(f"bmm: batch sizes differ: {a.shape} and {b.shape}")
    return ops.matmul(a, b)


def mv(input: Any, vec: Any) -> Tensor:  # noqa: A002
    """(n, m) @ (m,) -> (n,)."""
    a, v = as_tensor_input(input), as_tensor_input(vec)
    _matrix("mv", a, 2)
    _matrix("mv", v, 1)
    return ops.matmul(a, v)


def addmm(input: Any, mat1: Any, mat2: Any, *, beta: float = 1.0,  # noqa: A002
          alpha: float = 1.0) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2) (input broadcast to the product's shape)."""
    product = mm(mat1, mat2)
    scaled = product if alpha == 1 else ops.mul(product, alpha)
    if beta == 0:  # PyTorch ignores input then, NaN and inf included
        return scaled
    base = as_tensor_input(input)
    return ops.add(base if beta == 1 else ops.mul(base, beta), scaled)


def _dim(name: str, x: Tensor, dim: int) -> int:
    if not -max(x.ndim, 1) <= dim < max(x.ndim, 1):
        raise OutOfRangeError(f"{name}: dim {dim} is out of range for shape {x.shape}")
    return dim % max(x.ndim, 1)


def narrow(input: Any, dim: int, start: int, length: int) -> Tensor:  # noqa: A002
    """input[..., start:start + length, ...] along ``dim`` (start may be negative)."""
    x = as_tensor_input(input)
    axis = _dim("narrow", x, dim)
    size = x.shape[axis]
    first = start + size if start < 0 else start
    if not 0 <= first <= size or length < 0 or first + length > size:
        raise OutOfRangeError(f"narrow: start {start} and length {length} do not fit in dim {dim} "
                              f"of size {size}")
    return x[(slice(None),) * axis + (slice(first, first + length),)]


def select(input: Any, dim: int, index: int) -> Tensor:  # noqa: A002
    """input[..., index, ...] along ``dim`` (that dim removed)."""
    x = as_tensor_input(input)
    axis = _dim("select", x, dim)
    if not -x.shape[axis] <= index < x.shape[axis]:
        raise OutOfRangeError(f"select: index {index} is out of range for dim {dim} of size "
                              f"{x.shape[axis]}")
    return x[(slice(None),) * axis + (index,)]


def tile(input: Any, dims: Sequence[int]) -> Tensor:  # noqa: A002
    """``input`` repeated ``dims[i]`` times along each dim; fewer dims than the tensor has
    are padded with 1s in front (numpy's tile, torch.tile)."""
    x = as_tensor_input(input)
    counts = tuple(int(d) for d in dims)
    counts = (1,) * (x.ndim - len(counts)) + counts
    return shape_ops.repeat(x, counts)


def _at_least(x: Tensor, ndim: int) -> Tensor:
    """``x`` with leading 1s added up to ``ndim`` dims (numpy's atleast_1d/2d)."""
    return x if x.ndim >= ndim else ops.reshape(x, (1,) * (ndim - x.ndim) + x.shape)


def vstack(tensors: Sequence[Any]) -> Tensor:
    """Rows stacked: 1-D tensors become (1, n) first, then cat along dim 0."""
    return shape_ops.cat([_at_least(as_tensor_input(t), 2) for t in tensors], 0)


def hstack(tensors: Sequence[Any]) -> Tensor:
    """cat along dim 1, or dim 0 when the tensors are 1-D."""
    parts = [as_tensor_input(t) for t in tensors]
    if all(p.ndim <= 1 for p in parts):
        return shape_ops.cat([_at_least(p, 1) for p in parts], 0)
    return shape_ops.cat(parts, 1)


def column_stack(tensors: Sequence[Any]) -> Tensor:
    """1-D (and 0-d) tensors as columns (n, 1), then cat along dim 1."""
    parts = []
    for t in tensors:
        part = as_tensor_input(t)
        parts.append(ops.reshape(part, (part.data.size, 1)) if part.ndim <= 1 else part)
    return shape_ops.cat(parts, 1)


def broadcast_tensors(*tensors: Any) -> tuple[Tensor, ...]:
    """Every tensor broadcast to their common shape."""
    parts = [as_tensor_input(t) for t in tensors]
    try:
        shape = np.broadcast_shapes(*(p.shape for p in parts))
    except ValueError:
        raise ArgumentError("broadcast_tensors: shapes "
                            f"{', '.join(str(p.shape) for p in parts)} do not broadcast") from None
    return tuple(ops.broadcast_to(p, shape) for p in parts)


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids of 1-D tensors; ``indexing="ij"`` (PyTorch's default, matrix
    order) or ``"xy"`` (numpy's default: the first two dims swapped)."""
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ArgumentError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    parts = [as_tensor_input(t) for t in tensors]
    for p in parts:
        if p.ndim > 1:
            raise ArgumentError(f"meshgrid: expected 0-d or 1-D tensors, got shape {p.shape}")
    sizes = [int(p.data.size) for p in parts]
    if indexing == "xy" and len(parts) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for k, p in enumerate(parts):
        axis = k if indexing == "ij" or len(parts) < 2 else {0: 1, 1: 0}.get(k, k)
        view = [1] * len(parts)
        view[axis] = sizes[axis]
        grids.append(ops.broadcast_to(ops.reshape(p, tuple(view)), tuple(sizes)))
    return tuple(grids)


def repeat_interleave(input: Any, repeats: Any, dim: int | None = None) -> Tensor:  # noqa: A002
    """Each element repeated ``repeats`` times in place (numpy's repeat): along ``dim``, or
    over the flattened tensor when None; ``repeats`` an int or one count per element."""
    x = as_tensor_input(input)
    if dim is None:
        x, axis = ops.reshape(x, (-1,)), 0
    else:
        axis = _dim("repeat_interleave", x, dim)
    counts = np.asarray(read_values(repeats) if isinstance(repeats, Tensor) else repeats)
    if counts.dtype.kind not in "iub" or np.any(counts < 0):
        raise ArgumentError(f"repeat_interleave: repeats must be non-negative integers, got "
                            f"{counts}")
    length = x.shape[axis] if x.ndim else 1
    if counts.ndim and counts.size not in (1, length):
        raise ArgumentError(f"repeat_interleave: {counts.size} repeats for a dim of size {length}")
    positions = np.repeat(np.arange(length), counts.reshape(-1) if counts.ndim else counts)
    return x[(slice(None),) * axis + (Tensor(positions.astype(np.int64)),)]


def diff(input: Any, n: int = 1, dim: int = -1) -> Tensor:  # noqa: A002
    """The n-th forward difference along ``dim``: x[1:] - x[:-1], n times."""
    x = as_tensor_input(input)
    axis = _dim("diff", x, dim)
    if n < 0:
        raise ArgumentError(f"diff: order must be non-negative, got {n}")
    lead = (slice(None),) * axis
    for _ in range(n):
        if x.shape[axis] == 0:
            break
        x = ops.sub(x[(*lead, slice(1, None))], x[(*lead, slice(None, -1))])
    return x


def take(input: Any, index: Any) -> Tensor:  # noqa: A002
    """The flattened input at ``index`` (an integer tensor of any shape; negative counts
    from the end), shaped like ``index``."""
    x = ops.reshape(as_tensor_input(input), (-1,))
    positions = np.asarray(read_values(index) if isinstance(index, Tensor) else index)
    if positions.dtype.kind not in "iu":
        raise ArgumentTypeError(f"take: index must hold integers, got dtype {positions.dtype}")
    size = x.shape[0]
    if positions.size and (positions.min() < -size or positions.max() >= size):
        raise OutOfRangeError(f"take: an index is out of range for {size} elements")
    picked = x[Tensor(np.where(positions < 0, positions + size, positions).reshape(-1))]
    return ops.reshape(picked, positions.shape)


FUNCTIONS = ("mm", "bmm", "mv", "addmm", "narrow", "select", "tile", "vstack", "hstack",
             "column_stack", "broadcast_tensors", "meshgrid", "repeat_interleave", "diff",
             "take")
METHODS = ("mm", "bmm", "mv", "addmm", "narrow", "select", "tile", "repeat_interleave",
           "diff", "take")
for _name in METHODS:
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, globals()[_name])
__all__ = list(FUNCTIONS)
