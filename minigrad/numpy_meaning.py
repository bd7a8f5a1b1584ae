"""numpy functions whose numpy meaning differs from minigrad's (PyTorch's) function of the
same name, or which PyTorch lacks, written with minigrad functions for numpy's dispatch
(``numpy_dispatch.OWN``): ``np.trace`` (offset, axes, batched), ``np.cumsum``/``cumprod``
without an axis (flattened), ``np.append``, ``np.select``, ``np.partition``, ``np.dot``
(numpy's N-D rule), ``np.einsum`` (also the operand/sublist form), ``np.array_split``,
``np.swapaxes``, ``np.rollaxis``, ``np.vstack``/``hstack``/``tile``/``cross``/``gradient``
with numpy's arguments, ``np.imag`` and ``np.angle`` of real tensors.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import array_functions, linalg, ops, shape_ops, tensor_extras
from .errors import ArgumentError, ArgumentTypeError, OutOfRangeError
from .shape_ops import as_tensor_input, dim_index
from .tensor import Tensor, read_values


def _refuse(what: str, reason: str) -> TypeError:
    return TypeError(f"{what} is not supported on minigrad tensors ({reason}); call "
                     "minigrad's function or use t.numpy() for a plain array without the graph")


def _no_out(name: str, out: Any) -> None:
    if out is not None:
        raise _refuse(f"numpy.{name}", "out= is not supported")


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None,
          out: Any = None) -> Tensor:
    """numpy.trace: the sum along the ``offset`` diagonal of the (axis1, axis2) planes."""
    _no_out("trace", out)
    total = ops.sum(shape_ops.diagonal(a, offset, axis1, axis2), -1)
    return total if dtype is None else total.to(dtype)


def _scan(name: str) -> Callable[..., Tensor]:
    def scan(a: Any, axis: int | None = None, dtype: Any = None, out: Any = None) -> Tensor:
        import minigrad

        _no_out(name, out)
        x = as_tensor_input(a)
        if axis is None or x.ndim == 0:  # numpy's scan of a 0-d array has shape (1,)
            x, axis = ops.reshape(x, (-1,)), 0 if axis is None else axis
        return getattr(minigrad, name)(x, axis, dtype=dtype)

    scan.__doc__ = f"numpy.{name}: along ``axis``, over the flattened array when None."
    return scan


def _array(value: Any) -> Tensor:
    """``value`` as one tensor; a (nested) list holding tensors is stacked, as numpy makes
    one array of a list of arrays."""
    if isinstance(value, list | tuple) and any(isinstance(v, Tensor | list | tuple)
                                               for v in value):
        return shape_ops.stack([_array(v) for v in value], 0)
    return as_tensor_input(value)


def _triangle(name: str) -> Callable[..., Tensor]:
    """numpy.tril / triu: a 1-D array is taken as a row repeated into a square matrix."""
    def triangle(m: Any, k: int = 0) -> Tensor:
        import minigrad

        x = as_tensor_input(m)
        if x.ndim == 1:
            x = ops.broadcast_to(x, (x.shape[0], x.shape[0]))
        return getattr(minigrad, name)(x, k)

    triangle.__doc__ = f"numpy.{name}: PyTorch's {name}; a 1-D array is a repeated row."
    return triangle


def append(arr: Any, values: Any, axis: int | None = None) -> Tensor:
    """numpy.append: ``values`` after ``arr`` along ``axis`` (both flattened when None)."""
    a, b = _array(arr), _array(values)
    if axis is None:
        return shape_ops.cat([ops.reshape(a, (-1,)), ops.reshape(b, (-1,))], 0)
    return shape_ops.cat([a, b], axis)


def prod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
         keepdims: bool = False) -> Tensor:
    """numpy.prod: over ``axis`` (every axis when None; ``keepdims`` keeps them as 1s)."""
    import minigrad

    _no_out("prod", out)
    x = as_tensor_input(a)
    if axis is None:
        total = minigrad.prod(x, dtype=dtype)
        return ops.reshape(total, (1,) * x.ndim) if keepdims else total
    return minigrad.prod(x, axis, keepdims, dtype=dtype)


def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Tensor:
    """numpy.select: where the first true condition picks its choice, else ``default``."""
    if len(condlist) != len(choicelist):
        raise ArgumentError(f"numpy.select: {len(condlist)} conditions and {len(choicelist)} "
                            "choices; list of cases must be same length as list of conditions")
    out = as_tensor_input(default)
    for condition, choice in zip(reversed(condlist), reversed(choicelist), strict=True):
        condition = as_tensor_input(condition)
        if condition.dtype != np.bool_:
            raise ArgumentTypeError(f"numpy.select: invalid entry in condlist: should be boolean "
                                    f"ndarray, got dtype {condition.dtype}")
        out = ops.where(condition, choice, out)
    return out


def partition(a: Any, kth: Any, axis: int | None = -1, kind: str = "introselect",
              order: Any = None) -> Tensor:
    """numpy.partition: the values sorted along ``axis`` (a sorted array is a partition at
    every kth; numpy leaves the order inside the parts unspecified)."""
    import minigrad

    x = as_tensor_input(a)
    if axis is None:
        x, axis = ops.reshape(x, (-1,)), 0
    size = x.shape[dim_index(axis, x.ndim, "partition")]
    for k in np.ravel(kth):
        if not -size <= int(k) < size:
            raise ArgumentError(f"numpy.partition: kth(={int(k)}) out of bounds ({size})")
    return minigrad.sort(x, axis)[0]


def dot(a: Any, b: Any, out: Any = None) -> Tensor:
    """numpy.dot: a product with a 0-d operand; the inner product of 1-D operands; else the
    sum over a's last dim and b's second-to-last (its only one when 1-D):
    out[i.., j.., k] = sum_m a[i.., m] b[j.., m, k]."""
    _no_out("dot", out)
    x, y = as_tensor_input(a), as_tensor_input(b)
    if x.ndim == 0 or y.ndim == 0:
        return ops.mul(x, y)
    return linalg.tensordot(x, y, ([-1], [0 if y.ndim == 1 else -2]))


def einsum(*operands: Any, out: Any = None, optimize: Any = False, **keywords: Any) -> Tensor:
    """numpy.einsum: ``einsum("ij,jk->ik", a, b)`` or the sublist form ``einsum(a, [0, 1],
    b, [1, 2], [0, 2])`` (integers as letters, Ellipsis as '...')."""
    _no_out("einsum", out)
    if keywords:
        raise _refuse("numpy.einsum", f"arguments {sorted(keywords)}")
    if isinstance(operands[0], str):
        return linalg.einsum(operands[0], *operands[1:])
    pairs = len(operands) // 2
    tensors = operands[0:2 * pairs:2]
    inputs = ",".join(_letters(s) for s in operands[1:2 * pairs:2])
    output = "->" + _letters(operands[-1]) if len(operands) % 2 else ""
    return linalg.einsum(inputs + output, *tensors)


def _letters(sublist: Sequence[Any]) -> str:
    """[0, 1, Ellipsis] -> 'ab...'."""
    return "".join("..." if s is Ellipsis else string.ascii_letters[int(s)] for s in sublist)


def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """numpy.array_split: PyTorch's tensor_split, as a list."""
    return list(array_functions.tensor_split(ary, indices_or_sections, axis))


def _numpy_split(name: str, dim_of: Callable[[int], int], least: int) -> Callable[..., list]:
    """numpy's hsplit/vsplit/dsplit: n sections must divide the size (a ValueError)."""
    def split(ary: Any, indices_or_sections: Any) -> list[Tensor]:
        x = as_tensor_input(ary)
        if x.ndim < least:
            raise ArgumentError(f"numpy.{name} only works on arrays of {least} or more "
                                f"dimensions, got shape {x.shape}")
        dim = dim_of(x.ndim)
        if isinstance(indices_or_sections, int | np.integer) and (
                indices_or_sections <= 0 or x.shape[dim] % int(indices_or_sections)):
            raise ArgumentError(f"numpy.{name}: array split does not result in an equal "
                                f"division ({x.shape[dim]} into {indices_or_sections})")
        return array_split(x, indices_or_sections, dim)

    return split


def swapaxes(a: Any, axis1: int, axis2: int) -> Tensor:
    """numpy.swapaxes: PyTorch's swapdims."""
    return shape_ops.swapdims(a, axis1, axis2)


def rollaxis(a: Any, axis: int, start: int = 0) -> Tensor:
    """numpy.rollaxis: ``axis`` moved to lie before position ``start``."""
    x = as_tensor_input(a)
    axis = dim_index(axis, x.ndim, "rollaxis")
    if not -x.ndim <= start <= x.ndim:
        raise np.exceptions.AxisError(f"rollaxis: start {start} is out of range for a "
                                      f"{x.ndim}-D array")
    start = start % (x.ndim + 1) if start < 0 else start
    if axis < start:
        start -= 1
    return x if axis == start else shape_ops.movedim(x, axis, start)


def _stacking(name: str, function: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """numpy.vstack / hstack / row_stack with numpy's dtype= and casting= keywords."""
    def stacking(tup: Sequence[Any], *, dtype: Any = None, casting: str = "same_kind") -> Tensor:
        joined = function(tup)
        return joined if dtype is None else joined.to(dtype)

    stacking.__doc__ = f"numpy.{name}: minigrad's {function.__name__}, then cast to dtype."
    return stacking


def tile(A: Any, reps: Any) -> Tensor:
    """numpy.tile: ``reps`` one int or one per dim (PyTorch's tile takes a sequence)."""
    counts = (int(reps),) if isinstance(reps, int | np.integer) else tuple(reps)
    return tensor_extras.tile(A, counts)


def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> Tensor:
    """numpy.cross: vectors along ``axisa`` of a and ``axisb`` of b (``axis`` sets all three),
    of 3 (or 2, a zero z) components; the result's vectors along ``axisc``; two 2-vectors
    give the z component alone."""
    if axis is not None:
        axisa = axisb = axisc = axis
    x = shape_ops.movedim(as_tensor_input(a), axisa, -1)
    y = shape_ops.movedim(as_tensor_input(b), axisb, -1)
    if x.shape[-1] not in (2, 3) or y.shape[-1] not in (2, 3):
        raise ArgumentError(f"numpy.cross: incompatible dimensions for cross product (dimension "
                            f"must be 2 or 3), got {x.shape} and {y.shape}")
    if x.shape[-1] == 2 and y.shape[-1] == 2:
        return ops.sub(ops.mul(x[..., 0], y[..., 1]), ops.mul(x[..., 1], y[..., 0]))
    x, y = _three(x), _three(y)
    try:  # numpy broadcasts operands of different ranks (PyTorch's cross does not)
        shape = np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise ArgumentError(f"numpy.cross: shapes {x.shape} and {y.shape} cannot be "
                            "broadcast") from None
    product = array_functions.cross(ops.broadcast_to(x, shape), ops.broadcast_to(y, shape), -1)
    return shape_ops.movedim(product, -1, axisc)


def _three(v: Tensor) -> Tensor:
    """A vector of 2 components with a zero third one."""
    if v.shape[-1] == 3:
        return v
    return shape_ops.pad(v, (0, 1))


def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """numpy.gradient: one tensor for one axis, else a tuple; ``varargs`` one step, or one
    step or array of coordinates per axis."""
    if not varargs:
        spacing: Any = 1.0
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacing = varargs[0]  # one step for every axis
    else:
        spacing = list(varargs)  # one step or one array of coordinates per axis
    grads = array_functions.gradient(f, spacing=spacing, dim=axis, edge_order=edge_order)
    return grads[0] if len(grads) == 1 else grads


def imag(val: Any) -> Tensor:
    """numpy.imag of a real tensor: zeros (no gradient reaches the input)."""
    x = as_tensor_input(val)
    return ops.where(Tensor(np.zeros(x.shape, dtype=bool)), x, np.zeros((), x.dtype))


def angle(z: Any, deg: bool = False) -> Tensor:
    """numpy.angle of a real tensor: pi (180 with ``deg``) where negative, else 0."""
    value = array_functions.angle(z)
    return ops.mul(value, 180.0 / np.pi) if deg else value


def real_if_close(a: Any, tol: float = 100) -> Tensor:
    """numpy.real_if_close of a real tensor: the tensor."""
    return as_tensor_input(a)


# ------------------------------------------------------------ more numpy spellings
def flip(m: Any, axis: Any = None) -> Tensor:
    """numpy.flip: along ``axis``, every axis when None."""
    x = as_tensor_input(m)
    return shape_ops.flip(x, tuple(range(x.ndim)) if axis is None else axis)


def reshape(a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None,
            copy: Any = None) -> Tensor:
    """numpy.reshape: C order only; ``shape`` an int or a sequence."""
    if order != "C":
        raise _refuse("numpy.reshape", f"order={order!r}; only C order is dispatched")
    shape = newshape if shape is None else shape
    return ops.reshape(a, (int(shape),) if isinstance(shape, int | np.integer) else tuple(shape))


def concatenate(arrays: Sequence[Any], axis: int | None = 0, out: Any = None, *,
                dtype: Any = None, casting: str = "same_kind") -> Tensor:
    """numpy.concatenate: along ``axis``; every array flattened first when None."""
    _no_out("concatenate", out)
    parts = [as_tensor_input(a) for a in arrays]
    if axis is None:
        parts, axis = [ops.reshape(p, (-1,)) for p in parts], 0
    joined = shape_ops.cat(parts, axis)
    return joined if dtype is None else joined.to(dtype)


def take(a: Any, indices: Any, axis: int | None = None, out: Any = None,
         mode: str = "raise") -> Tensor:
    """numpy.take: the flattened array at ``indices`` (any shape), or the slices at them
    along ``axis`` (out.shape = a.shape[:axis] + indices.shape + a.shape[axis + 1:])."""
    _no_out("take", out)
    if mode != "raise":
        raise _refuse("numpy.take", f"mode={mode!r}")
    x = as_tensor_input(a)
    if axis is None:
        x, axis = ops.reshape(x, (-1,)), 0
    position = indices if isinstance(indices, Tensor) else Tensor(np.asarray(indices))
    if position.dtype.kind not in "iu":
        raise ArgumentTypeError(f"numpy.take: indices must be integers, got {position.dtype}")
    d = dim_index(axis, x.ndim, "take")
    return x[(*([slice(None)] * d), position)]


def take_along_axis(arr: Any, indices: Any, axis: int | None = -1) -> Tensor:
    """numpy.take_along_axis: PyTorch's take_along_dim (flattened when axis is None)."""
    return shape_ops.take_along_dim(arr, indices, axis)


def average(a: Any, axis: Any = None, weights: Any = None, returned: bool = False, *,
            keepdims: bool = False) -> Any:
    """numpy.average: sum(a * w) / sum(w) over ``axis`` (the mean without weights; 1-D
    weights lie along the one axis given); ``returned`` also gives sum(w)."""
    import minigrad

    x = as_tensor_input(a)
    if weights is None:
        total = minigrad.mean(x, axis, keepdims)
        count = x.data.size / max(total.data.size, 1)
        return (total, Tensor(np.full(total.shape, count, total.dtype))) if returned else total
    w = as_tensor_input(weights)
    if w.shape != x.shape:
        if axis is None or w.ndim != 1 or not isinstance(axis, int | np.integer):
            raise ArgumentError(f"numpy.average: weights of shape {w.shape} differ from a's "
                                f"{x.shape}; 1-D weights need one axis")
        d = dim_index(axis, x.ndim, "average")
        w = ops.reshape(w, tuple(n if k == d else 1 for k, n in enumerate(x.shape)))
    w = ops.broadcast_to(w, x.shape)
    scale = ops.sum(w, axis, keepdims)
    result = ops.div(ops.sum(ops.mul(x, w), axis, keepdims), scale)
    return (result, ops.broadcast_to(scale, result.shape)) if returned else result


def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Tensor:
    """numpy.ptp: max - min over ``axis``."""
    import minigrad

    _no_out("ptp", out)
    return ops.sub(minigrad.amax(a, axis, keepdims), minigrad.amin(a, axis, keepdims))


def _quantile(name: str, scale: float) -> Callable[..., Tensor]:
    def quantile(a: Any, q: Any, axis: int | None = None, out: Any = None,
                 overwrite_input: bool = False, method: str = "linear",
                 keepdims: bool = False) -> Tensor:
        import minigrad

        _no_out(name, out)
        fraction = np.asarray(read_values(q) if isinstance(q, Tensor) else q,
                              dtype=np.float64) / scale
        at = fraction.item() if fraction.ndim == 0 else Tensor(fraction)
        return minigrad.quantile(a, at, axis, keepdims, interpolation=method)

    quantile.__doc__ = (f"numpy.{name}: the quantile at q{' / 100' if scale != 1 else ''} "
                        "(numpy's methods linear, lower, higher, nearest, midpoint: PyTorch's "
                        "interpolations of those names).")
    return quantile


def outer(a: Any, b: Any, out: Any = None) -> Tensor:
    """numpy.outer: both inputs flattened first."""
    _no_out("outer", out)
    return linalg.outer(ops.reshape(as_tensor_input(a), (-1,)),
                        ops.reshape(as_tensor_input(b), (-1,)))


def vdot(a: Any, b: Any) -> Tensor:
    """numpy.vdot of real arrays: the dot product of the flattened inputs."""
    return linalg.dot(ops.reshape(as_tensor_input(a), (-1,)),
                      ops.reshape(as_tensor_input(b), (-1,)))


def ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Tensor:
    """numpy.ediff1d: the differences of the flattened array, with ``to_begin`` before and
    ``to_end`` after."""
    flat = ops.reshape(as_tensor_input(ary), (-1,))
    parts = [ops.sub(flat[1:], flat[:-1])]
    if to_begin is not None:
        parts.insert(0, ops.reshape(as_tensor_input(to_begin), (-1,)))
    if to_end is not None:
        parts.append(ops.reshape(as_tensor_input(to_end), (-1,)))
    return shape_ops.cat([ops.cast(p, flat.dtype) for p in parts], 0)


def delete(arr: Any, obj: Any, axis: int | None = None) -> Tensor:
    """numpy.delete: ``arr`` without the entries ``obj`` (an int, a slice or a list) along
    ``axis`` (of the flattened array when None)."""
    x = as_tensor_input(arr)
    if axis is None:
        x, axis = ops.reshape(x, (-1,)), 0
    d = dim_index(axis, x.ndim, "delete")
    if isinstance(obj, Tensor):
        obj = read_values(obj)
    kept = np.delete(np.arange(x.shape[d]), obj)
    return x[(*([slice(None)] * d), kept)]


def insert(arr: Any, obj: Any, values: Any, axis: int | None = None) -> Tensor:
    """numpy.insert: ``values`` placed before the positions ``obj`` along ``axis`` (of the
    flattened array when None): one int inserts all of values there (their first dim
    along axis), a sequence or slice one value before each position. Written as the
    concatenation of arr and the values, reordered by one index."""
    x = as_tensor_input(arr)
    if axis is None:
        x, axis = ops.reshape(x, (-1,)), 0
    d = dim_index(axis, x.ndim, "insert")
    n = x.shape[d]
    source = _array(values)
    if source.dtype != x.dtype:
        source = ops.cast(source, x.dtype)
    if isinstance(obj, slice):
        obj = np.arange(*obj.indices(n))
    points = np.asarray(read_values(obj) if isinstance(obj, Tensor) else obj)
    if points.dtype.kind not in "iu" or points.ndim > 1:
        raise ArgumentTypeError(f"numpy.insert: obj must be integers (an int, a slice or a "
                                f"1-D sequence), got {points.dtype} of shape {points.shape}")
    if points.size and (points.min() < -n or points.max() > n):
        raise OutOfRangeError(f"numpy.insert: index {points.tolist()} is out of bounds for "
                              f"axis {d} with size {n}")
    points = np.where(points < 0, points + n, points)
    if points.ndim == 0:
        if source.ndim < x.ndim:
            source = ops.reshape(source, (1,) * (x.ndim - source.ndim) + source.shape)
        source = shape_ops.movedim(source, 0, d)
        count = source.shape[d]
        new_at = int(points) + np.arange(count)
    else:
        count = points.size
        order = np.argsort(points, kind="stable")
        new_at = np.empty(count, dtype=np.int64)
        new_at[order] = points[order] + np.arange(count)
    block = (*x.shape[:d], count, *x.shape[d + 1:])
    try:
        source = ops.broadcast_to(source, block)
    except ValueError:
        raise ArgumentError(f"numpy.insert: values of shape {source.shape} do not broadcast "
                            f"to {block}") from None
    taken = np.empty(n + count, dtype=np.int64)
    old_at = np.setdiff1d(np.arange(n + count), new_at, assume_unique=True)
    taken[old_at], taken[new_at] = np.arange(n), n + np.arange(count)
    joined = shape_ops.cat([x, source], d)
    return joined[(*([slice(None)] * d), taken)]


def searchsorted(a: Any, v: Any, side: str = "left", sorter: Any = None) -> Tensor:
    """numpy.searchsorted: PyTorch's, with numpy's side= and sorter=."""
    return array_functions.searchsorted(a, v, side=side, sorter=sorter)


def flatnonzero(a: Any) -> Tensor:
    """numpy.flatnonzero: the indices of the non-zero entries of the flattened array."""
    import minigrad

    return minigrad.nonzero(ops.reshape(as_tensor_input(a), (-1,)), as_tuple=True)[0]


def argpartition(a: Any, kth: Any, axis: int | None = -1, kind: str = "introselect",
                 order: Any = None) -> Tensor:
    """numpy.argpartition: the stable argsort (a sorted order partitions at every kth)."""
    import minigrad

    x = as_tensor_input(a)
    if axis is None:
        x, axis = ops.reshape(x, (-1,)), 0
    partition(x, kth, axis)  # numpy's kth check
    return minigrad.argsort(x, axis, stable=True)


def _is_real(real: bool) -> Callable[..., Tensor]:
    def test(x: Any) -> Tensor:
        t = as_tensor_input(x)
        return Tensor(np.full(t.shape, real, dtype=bool))

    test.__doc__ = f"numpy.is{'real' if real else 'complex'} of a real tensor: all {real}."
    return test


OWN: dict[str, Callable[..., Any]] = {
    "numpy.trace": trace, "numpy.cumsum": _scan("cumsum"),
    "numpy.cumprod": _scan("cumprod"),
    "numpy.append": append, "numpy.prod": prod, "numpy.select": select,
    "numpy.partition": partition,
    "numpy.dot": dot, "numpy.einsum": einsum, "numpy.array_split": array_split,
    "numpy.hsplit": _numpy_split("hsplit", lambda n: 1 if n > 1 else 0, 1),
    "numpy.vsplit": _numpy_split("vsplit", lambda n: 0, 2),
    "numpy.dsplit": _numpy_split("dsplit", lambda n: 2, 3),
    "numpy.swapaxes": swapaxes, "numpy.rollaxis": rollaxis,
    "numpy.vstack": _stacking("vstack", tensor_extras.vstack),
    "numpy.row_stack": _stacking("row_stack", tensor_extras.vstack),
    "numpy.hstack": _stacking("hstack", tensor_extras.hstack),
    "numpy.tile": tile, "numpy.cross": cross, "numpy.gradient": gradient,
    "numpy.imag": imag, "numpy.angle": angle, "numpy.real_if_close": real_if_close,
    "numpy.flip": flip, "numpy.reshape": reshape, "numpy.concatenate": concatenate,
    "numpy.take": take, "numpy.take_along_axis": take_along_axis, "numpy.average": average,
    "numpy.ptp": ptp, "numpy.percentile": _quantile("percentile", 100.0),
    "numpy.quantile": _quantile("quantile", 1.0), "numpy.outer": outer, "numpy.vdot": vdot,
    "numpy.tril": _triangle("tril"), "numpy.triu": _triangle("triu"),
    "numpy.searchsorted": searchsorted, "numpy.flatnonzero": flatnonzero,
    "numpy.argpartition": argpartition, "numpy.isreal": _is_real(True),
    "numpy.iscomplex": _is_real(False),
    "numpy.ediff1d": ediff1d, "numpy.delete": delete, "numpy.insert": insert,
}
