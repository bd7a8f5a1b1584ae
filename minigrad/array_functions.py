"""PyTorch's numpy-flavoured functions, composed from shape ops, indexing and arithmetic
(so each has its gradient to any order, its drawing and its mg.jit lowering without a row):
``atleast_1d/2d/3d``, ``dstack``, ``row_stack``, ``tensor_split``, ``hsplit``/``vsplit``/
``dsplit``, ``swapaxes``, ``moveaxis``, ``rot90``, ``fliplr``/``flipud``, ``ravel``,
``diagflat``, ``kron``, ``cross``, ``gradient``, ``real``/``conj``/``angle`` (of real
tensors). Exported as ``mg.<name>`` and, where PyTorch has one, as a Tensor method.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ops, shape_ops, tensor_math
from .errors import ArgumentError
from .shape_ops import as_tensor_input, dim_index
from .tensor import Tensor
from .tensor_extras import vstack


def _at_least(ndim: int, tensors: tuple) -> Any:
    """Each tensor with dims added as numpy's/PyTorch's atleast_{ndim}d; one tensor alone,
    several as a tuple."""
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    out = tuple(_grown(as_tensor_input(t), ndim) for t in tensors)
    return out[0] if len(out) == 1 else out


def _grown(x: Tensor, ndim: int) -> Tensor:
    """0-d -> (1,)*ndim; 1-D (n) -> (1, n) or (1, n, 1); 2-D (m, n) -> (m, n, 1)."""
    if x.ndim >= ndim:
        return x
    if ndim == 3 and x.ndim == 2:
        return ops.reshape(x, (*x.shape, 1))
    if ndim == 3 and x.ndim == 1:
        return ops.reshape(x, (1, x.shape[0], 1))
    return ops.reshape(x, (1,) * (ndim - x.ndim) + x.shape)


def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least 1 dim (a 0-d tensor becomes (1,))."""
    return _at_least(1, tensors)


def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least 2 dims (leading 1s added)."""
    return _at_least(2, tensors)


def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least 3 dims: (n) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    return _at_least(3, tensors)


def dstack(tensors: Sequence[Any]) -> Tensor:
    """Depth-wise stacking: each tensor made at least 3-D, then cat along dim 2."""
    return shape_ops.cat([_grown(as_tensor_input(t), 3) for t in tensors], 2)


def row_stack(tensors: Sequence[Any]) -> Tensor:
    """``vstack`` (PyTorch's and numpy's other name)."""
    return vstack(tensors)


# ------------------------------------------------------------------------ splitting
def tensor_split(input: Any, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """Pieces along ``dim`` (numpy's array_split): n sections, the first ``size % n`` of
    them one longer; or the pieces between the given indices (x[:i0], x[i0:i1], ...,
    Python slicing, so indices past the end give empty pieces)."""
    x = as_tensor_input(input)
    d = dim_index(dim, x.ndim, "tensor_split")
    size = x.shape[d]
    if isinstance(indices_or_sections, Tensor):  # the pieces' sizes: not under mg.jit
        indices_or_sections = tensor_math.read_values(indices_or_sections).tolist()
    if isinstance(indices_or_sections, int | np.integer):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ArgumentError(f"tensor_split: number of sections must be larger than 0, got "
                               f"{sections}")
        lengths = [size // sections + (k < size % sections) for k in range(sections)]
        points = [int(p) for p in np.cumsum(lengths)[:-1]]
    else:
        points = [int(p) for p in indices_or_sections]
    bounds = [None, *points, None]
    lead = (slice(None),) * d
    return tuple(x[(*lead, slice(start, stop))] for start, stop in itertools.pairwise(bounds))


def _even_split(name: str, x: Tensor, indices_or_sections: Any, dim: int) -> tuple:
    """hsplit/vsplit/dsplit: a number of sections must divide the dim's size."""
    if isinstance(indices_or_sections, int | np.integer):
        size, sections = x.shape[dim], int(indices_or_sections)
        if sections == 0 or size % sections:
            raise ArgumentError(f"{name}: attempted to split along dimension {dim}, but the "
                               f"size of the dimension {size} is not divisible by the "
                               f"split_size {sections}")
    return tensor_split(x, indices_or_sections, dim)


def hsplit(input: Any, indices_or_sections: Any) -> tuple[Tensor, ...]:  # noqa: A002
    """Split along dim 1 (dim 0 of a 1-D tensor)."""
    x = as_tensor_input(input)
    if x.ndim < 1:
        raise ArgumentError(f"hsplit: requires a tensor with at least 1 dimension, got shape "
                           f"{x.shape}")
    return _even_split("hsplit", x, indices_or_sections, 1 if x.ndim > 1 else 0)


def vsplit(input: Any, indices_or_sections: Any) -> tuple[Tensor, ...]:  # noqa: A002
    """Split along dim 0 of a tensor with at least 2 dims."""
    x = as_tensor_input(input)
    if x.ndim < 2:
        raise ArgumentError(f"vsplit: requires a tensor with at least 2 dimensions, got shape "
                           f"{x.shape}")
    return _even_split("vsplit", x, indices_or_sections, 0)


def dsplit(input: Any, indices_or_sections: Any) -> tuple[Tensor, ...]:  # noqa: A002
    """Split along dim 2 of a tensor with at least 3 dims."""
    x = as_tensor_input(input)
    if x.ndim < 3:
        raise ArgumentError(f"dsplit: requires a tensor with at least 3 dimensions, got shape "
                           f"{x.shape}")
    return _even_split("dsplit", x, indices_or_sections, 2)


# ------------------------------------------------------------------------ reordering
def swapaxes(input: Any, axis0: int, axis1: int) -> Tensor:  # noqa: A002
    """``swapdims`` (PyTorch's numpy-named alias)."""
    return shape_ops.swapdims(input, axis0, axis1)


def moveaxis(input: Any, source: Any, destination: Any) -> Tensor:  # noqa: A002
    """``movedim`` (PyTorch's numpy-named alias)."""
    return shape_ops.movedim(input, source, destination)


def rot90(input: Any, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:  # noqa: A002
    """``input`` rotated by k * 90 degrees in the plane of ``dims``, from the first towards
    the second: k = 1 is flip(dims[1]) then the two dims swapped."""
    x = as_tensor_input(input)
    dims = tuple(dims)
    if len(dims) != 2:
        raise ArgumentError(f"rot90: expected total rotation dims == 2, but got dims = {dims}")
    if x.ndim < 2:
        raise ArgumentError(f"rot90: expected total dims >= 2, but got total dims = {x.ndim}")
    a, b = (dim_index(d, x.ndim, "rot90") for d in dims)
    if a == b:
        raise ArgumentError(f"rot90: expected rotation dims to be different, but got dim0 = "
                           f"{dims[0]} and dim1 = {dims[1]}")
    turns = int(k) % 4
    if turns == 1:
        return shape_ops.swapdims(shape_ops.flip(x, b), a, b)
    if turns == 2:
        return shape_ops.flip(x, (a, b))
    if turns == 3:
        return shape_ops.swapdims(shape_ops.flip(x, a), a, b)
    return x


def fliplr(input: Any) -> Tensor:  # noqa: A002
    """Columns in reverse order (flip of dim 1; at least 2 dims)."""
    x = as_tensor_input(input)
    if x.ndim < 2:
        raise ArgumentError(f"fliplr: input must be >= 2-d, got shape {x.shape}")
    return shape_ops.flip(x, 1)


def flipud(input: Any) -> Tensor:  # noqa: A002
    """Rows in reverse order (flip of dim 0; at least 1 dim)."""
    x = as_tensor_input(input)
    if x.ndim < 1:
        raise ArgumentError(f"flipud: input must be >= 1-d, got shape {x.shape}")
    return shape_ops.flip(x, 0)


def ravel(input: Any) -> Tensor:  # noqa: A002
    """The elements as a 1-D tensor, in C order."""
    return ops.reshape(as_tensor_input(input), (-1,))


def diagflat(input: Any, offset: int = 0) -> Tensor:  # noqa: A002
    """The flattened input placed on the ``offset`` diagonal of a square matrix."""
    return shape_ops.diag(ravel(input), offset)


# ------------------------------------------------------------------------ products
def kron(input: Any, other: Any) -> Tensor:  # noqa: A002
    """The Kronecker product: out[i0*m0 + j0, i1*m1 + j1, ...] = a[i0, i1, ...] * b[j0, j1,
    ...] (the operand with fewer dims gets leading 1s)."""
    a, b = as_tensor_input(input), as_tensor_input(other)
    ndim = max(a.ndim, b.ndim)
    sa = (1,) * (ndim - a.ndim) + a.shape
    sb = (1,) * (ndim - b.ndim) + b.shape
    left = ops.reshape(a, tuple(n for size in sa for n in (size, 1)))
    right = ops.reshape(b, tuple(n for size in sb for n in (1, size)))
    return ops.reshape(ops.mul(left, right), tuple(m * n for m, n in zip(sa, sb, strict=True)))


def cross(input: Any, other: Any, dim: int | None = None) -> Tensor:  # noqa: A002
    """The cross product of 3-vectors along ``dim`` (the inputs broadcast); without dim, the
    first dim of size 3 (torch.cross; torch.linalg.cross defaults to -1):
    (a1 b2 - a2 b1, a2 b0 - a0 b2, a0 b1 - a1 b0)."""
    a, b = as_tensor_input(input), as_tensor_input(other)
    if a.ndim != b.ndim:
        raise ArgumentError(f"cross: inputs must have the same number of dimensions, got "
                            f"{a.shape} and {b.shape}")
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ArgumentError(f"cross: shapes {a.shape} and {b.shape} cannot be broadcast") from None
    if dim is None:  # the first dim of size 3 of input (PyTorch's deprecated default)
        dim = next((d for d, n in enumerate(a.shape) if n == 3), None)
        if dim is None:
            raise ArgumentError(f"cross: no dimension of size 3 in input {a.shape}")
    d = dim_index(dim, len(shape), "cross")
    if a.shape[d - len(shape) + a.ndim] != 3 or b.shape[d - len(shape) + b.ndim] != 3:
        raise ArgumentError(f"cross: inputs dimension {dim} must have length 3, got "
                           f"{a.shape} and {b.shape}")
    a, b = ops.broadcast_to(a, shape), ops.broadcast_to(b, shape)
    x, y = shape_ops.unbind(a, d), shape_ops.unbind(b, d)
    parts = [ops.sub(ops.mul(x[i], y[j]), ops.mul(x[j], y[i])) for i, j in ((1, 2), (2, 0),
                                                                             (0, 1))]
    return shape_ops.stack(parts, d)


# ------------------------------------------------------------------------ calculus
def gradient(input: Any, *, spacing: Any = 1, dim: Any = None,  # noqa: A002
             edge_order: int = 1) -> tuple[Tensor, ...]:
    """Central differences (f[i+1] - f[i-1]) / 2h inside, one-sided differences of order
    ``edge_order`` (1 or 2) at the ends, along each of ``dim`` (all dims when None).
    ``spacing``: one number h for every dim, or one entry per dim, a number or the 1-D
    coordinates of the samples (second-order differences for uneven steps, numpy's and
    PyTorch's formulas). One tensor per dim."""
    x = as_tensor_input(input)
    if x.dtype.kind != "f":
        x = ops.cast(x, np.dtype(np.float32))
    dims = range(x.ndim) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    dims = [dim_index(d, x.ndim, "gradient") for d in dims]
    steps = _spacings(spacing, len(dims))
    if edge_order not in (1, 2):
        raise ArgumentError(f"gradient: edge_order must be 1 or 2, got {edge_order}")
    return tuple(_difference(x, d, h, edge_order) if isinstance(h, float)
                 else _uneven_difference(x, d, h, edge_order)
                 for d, h in zip(dims, steps, strict=True))


def _spacings(spacing: Any, count: int) -> list[float | np.ndarray]:
    """One step (a float) or one array of coordinates per dim."""
    if isinstance(spacing, int | float | np.number):
        return [float(spacing)] * count
    values = list(spacing)
    if len(values) != count:
        raise ArgumentError(f"gradient: spacing must be a number or one entry per dim "
                            f"({count}), got {len(values)} entries")
    steps: list[float | np.ndarray] = []
    for v in values:
        if isinstance(v, Tensor):  # coordinates: not under mg.jit (read into Python)
            v = tensor_math.read_values(v)
        if np.ndim(v) == 0:
            steps.append(float(v))
        elif np.ndim(v) == 1:
            steps.append(np.asarray(v, dtype=np.float64))
        else:
            raise ArgumentError(f"gradient: coordinates must be 1-D, got shape {np.shape(v)}")
    return steps


def _difference(x: Tensor, d: int, h: float, edge_order: int) -> Tensor:
    n = x.shape[d]
    if n < edge_order + 1:
        raise ArgumentError(f"gradient: expected each dimension size to be at least "
                            f"edge_order+1, got dim {d} of size {n} (shape {x.shape})")
    lead = (slice(None),) * d

    def at(part: Any) -> Tensor:
        return x[(*lead, part)]

    inside = ops.div(ops.sub(at(slice(2, None)), at(slice(None, -2))), 2 * h)
    if edge_order == 1:
        first = ops.div(ops.sub(at(slice(1, 2)), at(slice(0, 1))), h)
        last = ops.div(ops.sub(at(slice(-1, None)), at(slice(-2, -1))), h)
    else:
        first = ops.div(ops.sub(ops.sub(ops.mul(at(slice(1, 2)), 4.0),
                                        ops.mul(at(slice(0, 1)), 3.0)), at(slice(2, 3))), 2 * h)
        last = ops.div(ops.add(ops.sub(ops.mul(at(slice(-1, None)), 3.0),
                                       ops.mul(at(slice(-2, -1)), 4.0)), at(slice(-3, -2))),
                       2 * h)
    return shape_ops.cat([first, inside, last], d)


def _uneven_difference(x: Tensor, d: int, points: np.ndarray, edge_order: int) -> Tensor:
    """Along d with sample coordinates ``points``: inside a f[i-1] + b f[i] + c f[i+1] with
    steps h1 = x[i] - x[i-1], h2 = x[i+1] - x[i]: a = -h2 / (h1 (h1 + h2)),
    b = (h2 - h1) / (h1 h2), c = h1 / (h2 (h1 + h2)); the ends one-sided (order 1 or 2)."""
    n = x.shape[d]
    if points.shape[0] != n or n < edge_order + 1:
        raise ArgumentError(f"gradient: {points.shape[0]} coordinates for dim {d} of size {n} "
                            f"(at least edge_order+1 = {edge_order + 1} needed)")
    step = np.diff(points)
    h1, h2 = step[:-1], step[1:]
    lead = (slice(None),) * d

    def weighted(start: int, stop: int | None, weights: Any) -> Tensor:
        w = np.asarray(weights, dtype=x.dtype).reshape((-1,) + (1,) * (x.ndim - d - 1))
        return ops.mul(x[(*lead, slice(start, stop))], Tensor(w))

    inside = ops.add(ops.add(weighted(0, -2, -h2 / (h1 * (h1 + h2))),
                             weighted(1, -1, (h2 - h1) / (h1 * h2))),
                     weighted(2, None, h1 / (h2 * (h1 + h2))))
    if edge_order == 1:
        first = ops.div(ops.sub(x[(*lead, slice(1, 2))], x[(*lead, slice(0, 1))]), step[0])
        last = ops.div(ops.sub(x[(*lead, slice(-1, None))], x[(*lead, slice(-2, -1))]),
                       step[-1])
    else:
        a, b = step[0], step[1]
        first = ops.add(ops.add(weighted(0, 1, [-(2 * a + b) / (a * (a + b))]),
                                weighted(1, 2, [(a + b) / (a * b)])),
                        weighted(2, 3, [-a / (b * (a + b))]))
        a, b = step[-2], step[-1]
        last = ops.add(ops.add(weighted(-3, -2, [b / (a * (a + b))]),
                               weighted(-2, -1, [-(a + b) / (a * b)])),
                       weighted(-1, None, [(2 * b + a) / (b * (a + b))]))
    return shape_ops.cat([first, inside, last], d)


def trapezoid(y: Any, x: Any = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """The trapezoidal rule along ``dim``: sum over k of (y[k+1] + y[k]) / 2 * (x[k+1] - x[k]),
    with sample points ``x`` or a uniform spacing ``dx`` (default 1). As PyTorch's: a 1-D x
    lies along dim; an x with fewer dims gets leading 1s; its differences broadcast with
    y's; no samples give 0."""
    values = as_tensor_input(y)
    d = dim_index(dim, values.ndim, "trapezoid")
    if values.ndim and values.shape[d] == 0:
        return ops.sum(values, d)  # zeros
    lead = (slice(None),) * d
    heights = ops.add(values[(*lead, slice(1, None))], values[(*lead, slice(None, -1))])
    if x is None:
        step = 1.0 if dx is None else float(dx)
        return ops.mul(ops.sum(heights, d), step / 2)
    if dx is not None:
        raise ArgumentError("trapezoid: give x or dx, not both")
    points = as_tensor_input(x)
    if points.ndim == 1:
        if points.shape[0] != values.shape[d]:
            raise ArgumentError(f"trapezoid: There must be one `x` value for each sample "
                                f"point, got {points.shape[0]} for dim {d} of y {values.shape}")
        view = [1] * values.ndim
        view[d] = points.shape[0]
        points = ops.reshape(points, tuple(view))
    elif points.ndim < values.ndim:
        points = ops.reshape(points, (1,) * (values.ndim - points.ndim) + points.shape)
    widths = ops.sub(points[(*lead, slice(1, None))], points[(*lead, slice(None, -1))])
    return ops.div(ops.sum(ops.mul(heights, widths), d), 2.0)


# ------------------------------------------------------------------------ tests, search
def isposinf(input: Any) -> Tensor:  # noqa: A002
    """Where x is +inf (a bool tensor)."""
    x = as_tensor_input(input)
    return ops.logical_and(ops.isinf(x), ops.greater(x, 0))


def isneginf(input: Any) -> Tensor:  # noqa: A002
    """Where x is -inf (a bool tensor)."""
    x = as_tensor_input(input)
    return ops.logical_and(ops.isinf(x), ops.less(x, 0))


def searchsorted(sorted_sequence: Any, input: Any, *, out_int32: bool = False,  # noqa: A002
                 right: bool = False, side: str | None = None, sorter: Any = None) -> Tensor:
    """For each value of ``input``, the index in ``sorted_sequence`` (sorted along its last
    dim; 1-D, or one row per row of input) before which it would be inserted to keep the
    order: the first such place, or the last with ``right`` / ``side='right'``. No
    gradient; the values are read into Python (mg.jit refuses it)."""
    if side is not None:
        if side not in ("left", "right") or (right and side == "left"):
            raise ArgumentError(f"searchsorted: side must be 'left' or 'right' and agree with "
                                f"right={right}, got {side!r}")
        right = side == "right"
    edges = tensor_math.read_values(as_tensor_input(sorted_sequence))
    values = tensor_math.read_values(as_tensor_input(input))
    if sorter is not None:
        edges = np.take_along_axis(edges, tensor_math.read_values(as_tensor_input(sorter)),
                                   -1)
    how = "right" if right else "left"
    if edges.ndim == 1:
        found = np.searchsorted(edges, values, side=how)
    else:
        if edges.shape[:-1] != values.shape[:-1]:
            raise ArgumentError(f"searchsorted: boundaries {edges.shape} and input "
                                f"{values.shape} must agree in all dims but the last")
        rows = edges.reshape(-1, edges.shape[-1])
        found = np.stack([np.searchsorted(row, v, side=how) for row, v in
                          zip(rows, values.reshape(rows.shape[0], -1), strict=True)])
        found = found.reshape(values.shape)
    return Tensor(np.asarray(found, dtype=np.int32 if out_int32 else np.int64))


# ------------------------------------------------------------------------ complex parts
def real(input: Any) -> Tensor:  # noqa: A002
    """The real part: a real tensor itself (minigrad holds no complex tensors)."""
    return as_tensor_input(input)


def conj(input: Any) -> Tensor:  # noqa: A002
    """The complex conjugate: a real tensor itself."""
    return as_tensor_input(input)


def angle(input: Any) -> Tensor:  # noqa: A002
    """The argument of a real number: pi where x < 0, else 0 (NaN stays NaN); float, its
    gradient 0 (constant almost everywhere), as PyTorch's."""
    x = as_tensor_input(input)
    if x.dtype.kind != "f":
        x = ops.cast(x, np.dtype(np.float32))
    value = ops.where(ops.less(x, 0), np.asarray(math.pi, x.dtype), np.zeros((), x.dtype))
    return ops.where(ops.isnan(x), x, value)


FUNCTIONS = ("atleast_1d", "atleast_2d", "atleast_3d", "dstack", "row_stack", "tensor_split",
             "hsplit", "vsplit", "dsplit", "swapaxes", "moveaxis", "rot90", "fliplr", "flipud",
             "ravel", "diagflat", "kron", "cross", "gradient", "trapezoid", "real", "conj",
             "angle", "isposinf", "isneginf", "searchsorted")
METHODS = ("tensor_split", "hsplit", "vsplit", "dsplit", "swapaxes", "moveaxis", "rot90",
           "fliplr", "flipud", "ravel", "diagflat", "kron", "cross", "conj", "angle",
           "isposinf", "isneginf")
for _name in METHODS:
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, globals()[_name])
__all__ = list(FUNCTIONS)
