"""PyTorch's scatter family, composed from the indexing rows (``scatter_add``, ``gather``,
``scatter_max``), comparisons, ``where`` and ``prod``, so gradients of any order, drawings
and mg.jit come from those rows: ``scatter`` (src or value; reduce 'add'/'multiply'),
``scatter_add``, ``scatter_reduce`` (sum, prod, mean, amax, amin; include_self),
``index_add``/``index_copy``/``index_fill``/``index_put``, ``masked_select``,
``masked_scatter`` and ``Tensor.unfold`` (sliding windows); the in-place methods
``scatter_``, ``scatter_add_``, ``scatter_reduce_``, ``index_add_``, ``index_copy_``,
``index_fill_``, ``index_put_``, ``masked_scatter_``.

How each is built (out has the input's shape; ``idx`` the index, ``s`` src cut to its shape):
- scatter_add: x + scatter_add_row(s). sum/mean: the same sum, and the count of values
  each position receives (a scatter_add of ones).
- scatter: the last writer wins (in C order of the index, as PyTorch's CPU kernel): the
  ``scatter_max`` of the writers' flat positions names it, ``gather`` reads its value, and
  ``where`` keeps x where nobody writes. The gradient reaches the winning src element only
  (PyTorch's gives every duplicate the gradient of its target; without duplicates the two
  agree).
- prod: the product over a one-hot expansion (index i meets position p) with ``prod``,
  exact at zeros to any order; it costs index.numel() x size(dim) values.
- amax/amin: the values from ``scatter_max``; the gradient shared evenly between the
  elements equal to the result (input included), PyTorch's rule, as
  (sum of the tied values) / (their count). Without include_self PyTorch still counts an
  input equal to the result when it divides (its share then dropped, so the shares do not
  add up to the gradient); here only the scattered values share.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import ops, shape_ops, tensor_math
from .errors import ArgumentError, ArgumentTypeError, OutOfRangeError
from .inplace import apply_inplace
from .shape_ops import as_tensor_input, dim_index
from .tensor import Tensor

REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _index(name: str, index: Any) -> Tensor:
    idx = as_tensor_input(index)
    if idx.dtype.kind not in "iu":
        raise ArgumentTypeError(f"{name}(): Expected dtype int64 for index, got {idx.dtype}")
    return idx


def _checked(name: str, input: Any, dim: int, index: Any, src: Any  # noqa: A002
             ) -> tuple[Tensor, int, Tensor, Tensor]:
    """(x, dim, index, src cut to the index's shape); a number src filled in x's dtype.
    PyTorch's checks: one dtype, as many dims, the index no larger than src anywhere and
    than x apart from ``dim``."""
    x, idx = as_tensor_input(input), _index(name, index)
    d = dim_index(dim, x.ndim, name)
    if not isinstance(src, Tensor) and np.ndim(src) == 0:
        src = Tensor(np.full(idx.shape, src, dtype=x.dtype))  # a number fills the index
    src = as_tensor_input(src)
    if src.dtype != x.dtype:
        raise ArgumentTypeError(f"{name}(): Expected self.dtype to be equal to src.dtype, "
                                f"got {x.dtype} and {src.dtype}")
    if idx.ndim != x.ndim or src.ndim != x.ndim:
        raise ArgumentError(f"{name}(): Index tensor must have the same number of dimensions "
                            f"as self and src tensors, got index {idx.shape}, self {x.shape}, "
                            f"src {src.shape}")
    if any(n > s or (k != d and n > m)
           for k, (n, m, s) in enumerate(zip(idx.shape, x.shape, src.shape, strict=True))):
        raise ArgumentError(f"{name}(): Expected index {list(idx.shape)} to be smaller than "
                            f"self {list(x.shape)} apart from dimension {d} and to be smaller "
                            f"size than src {list(src.shape)}")
    if src.shape != idx.shape:
        src = src[tuple(slice(0, n) for n in idx.shape)]
    return x, d, _in_bounds(name, idx, d, x.shape[d]), src


def _in_bounds(name: str, idx: Tensor, d: int, size: int) -> Tensor:
    """The index, checked to lie in [0, size) as PyTorch requires (no negative indices):
    eagerly with PyTorch's message; mg.jit repeats the check at every call through the
    ``require_range`` row (OutOfRangeError; the compiled rows would wrap a negative)."""
    values = idx.data  # eager's message names the value; the row below checks every call
    if values.size and (values.min() < 0 or values.max() >= size):
        bad = int(values.min()) if values.min() < 0 else int(values.max())
        raise OutOfRangeError(f"{name}(): index {bad} is out of bounds for dimension {d} with "
                              f"size {size}")
    return ops.require_range(idx, 0, size - 1, f"{name}(): an index is out of bounds for "
                             f"dimension {d} with size {size}", index=True)


def _vector(value: Any) -> Any:
    """A 0-d tensor as shape (1,); anything else unchanged."""
    return ops.reshape(value, (1,)) if isinstance(value, Tensor) and value.ndim == 0 else value


def _of_scalar(function: Any, name: str, input: Any, dim: int, index: Any,  # noqa: A002
               *args: Any, **kwargs: Any) -> Tensor | None:
    """``function`` of a 0-d input, computed on shape-(1,) views (PyTorch takes 0-d self,
    index and src, dim 0 or -1), or None for other inputs."""
    x = as_tensor_input(input)
    if x.ndim:
        return None
    dim_index(dim, 0, name)
    args = tuple(_vector(a) for a in args)
    kwargs = {k: _vector(v) for k, v in kwargs.items()}
    return ops.reshape(function(_vector(x), 0, _vector(as_tensor_input(index)), *args,
                                **kwargs), ())


def _summed(s: Tensor, idx: Tensor, d: int, shape: tuple[int, ...]) -> Tensor:
    """zeros(shape) with each s[i] added at idx[i] along d."""
    return ops.scatter_add(s, idx, d, shape)


def _count(x: Tensor, idx: Tensor, d: int) -> Tensor:
    """How many index entries point at each position of x (x's dtype)."""
    return _summed(Tensor(np.ones(idx.shape, dtype=x.dtype)), idx, d, x.shape)


def _written(x: Tensor, d: int, idx: Tensor, s: Tensor) -> Tensor:
    """x with s written at idx along d, the last writer (C order) winning."""
    if idx.data.size == 0:
        return x
    positions = Tensor(np.arange(idx.data.size, dtype=np.int64).reshape(idx.shape))
    nobody = Tensor(np.full(x.shape, -1, dtype=np.int64))
    writer = ops.scatter_max(nobody, idx, positions, d)
    hit = ops.greater_equal(writer, 0)
    flat = ops.reshape(ops.where(hit, writer, np.int64(0)), (-1,))
    picked = ops.reshape(ops.gather(ops.reshape(s, (-1,)), flat, 0), x.shape)
    return ops.where(hit, picked, x)


def _product(x: Tensor, d: int, idx: Tensor, s: Tensor) -> Tensor:
    """ones(x.shape) times each s[i] at idx[i] along d: prod over a one-hot expansion
    (index position i meets target position p along d), padded with 1s where the index is
    shorter than x. The count of hits (a scatter_add) keeps the index's run-time bounds
    check in compiled code: a one-hot alone would ignore an index out of range."""
    import minigrad

    size = x.shape[d]
    targets = Tensor(np.arange(size).reshape((1,) * (d + 1) + (size,) + (1,) * (x.ndim - d - 1)))
    meets = ops.equal(shape_ops.unsqueeze(idx, d + 1), targets)
    one = np.ones((), x.dtype)
    block = minigrad.prod(ops.where(meets, shape_ops.unsqueeze(s, d + 1), one), d)
    if block.dtype != x.dtype:  # prod of integers and bools gives int64; keep x's dtype
        block = ops.cast(block, x.dtype)
    widths = [w for k in reversed(range(x.ndim)) for w in (0, x.shape[k] - block.shape[k])]
    product = shape_ops.pad(block, widths, value=1) if any(widths) else block
    return ops.where(ops.greater(_count(x, idx, d), 0), product, one)


def _nan_equal(a: Tensor, b: Tensor) -> Tensor:
    """a == b, NaN equal to NaN."""
    same = ops.equal(a, b)
    if a.dtype.kind != "f":
        return same
    return ops.logical_or(same, ops.logical_and(ops.isnan(a), ops.isnan(b)))


def _extreme(x: Tensor, d: int, idx: Tensor, s: Tensor, largest: bool,
             include_self: bool) -> Tensor:
    """amax / amin: values from scatter_max; for floats the gradient shared evenly between
    the tied elements (x's included when include_self), PyTorch's rule."""
    hit = ops.greater(_count(x, idx, d), 0)
    if include_self:
        base = x
    elif x.dtype.kind == "f":
        base = Tensor(np.full(x.shape, -np.inf if largest else np.inf, dtype=x.dtype))
    else:
        info = np.iinfo(x.dtype) if x.dtype.kind in "iu" else None
        extreme = (info.min if largest else info.max) if info else (not largest)
        base = Tensor(np.full(x.shape, extreme, dtype=x.dtype))
    result = ops.where(hit, ops.scatter_max(base, idx, s, d, largest), x)
    if x.dtype.kind != "f":
        return result
    self_counts = ops.logical_not(hit)
    if include_self:
        self_counts = ops.logical_or(self_counts, _nan_equal(x, result))
    src_counts = _nan_equal(s, ops.gather(result, idx, d))
    zero = np.zeros((), x.dtype)
    total = ops.add(ops.where(self_counts, x, zero),
                    _summed(ops.where(src_counts, s, zero), idx, d, x.shape))
    ties = ops.add(ops.cast(self_counts, x.dtype),
                   _summed(ops.cast(src_counts, x.dtype), idx, d, x.shape))
    return ops.div(total, ties)


def _mean(x: Tensor, d: int, idx: Tensor, s: Tensor, include_self: bool) -> Tensor:
    """(x + the values received) / (1 + their count); without x, positions receiving none
    keep x. Integers are floor-divided."""
    count = _count(x, idx, d)
    total = _summed(s, idx, d, x.shape)
    if include_self:
        total, count = ops.add(total, x), ops.add(count, np.ones((), x.dtype))
    hit = ops.greater(count, 0)
    safe = ops.where(hit, count, np.ones((), x.dtype))
    mean = ops.div(total, safe) if x.dtype.kind == "f" else ops.floor_divide(total, safe)
    return mean if include_self else ops.where(hit, mean, x)


def scatter_add(input: Any, dim: int, index: Any, src: Any) -> Tensor:  # noqa: A002
    """out = input, then out[..idx[i]..] += src[i] along ``dim`` (repeats accumulate)."""
    return _scatter_add("scatter_add", input, dim, index, src)


def _scatter_add(name: str, input: Any, dim: int, index: Any, src: Any) -> Tensor:  # noqa: A002
    scalar = _of_scalar(scatter_add, name, input, dim, index, src)
    if scalar is not None:
        return scalar
    x, d, idx, s = _checked(name, input, dim, index, src)
    return ops.add(x, _summed(s, idx, d, x.shape))


def scatter(input: Any, dim: int, index: Any, src: Any = None, value: Any = None, *,  # noqa: A002
            reduce: str | None = None) -> Tensor:
    """out = input, then out[..idx[i]..] = src[i] along ``dim`` (``src`` a tensor or a number;
    ``value`` PyTorch's name for a number). With repeated indices the last in C order wins.
    ``reduce='add'`` adds, ``reduce='multiply'`` multiplies instead."""
    return _scatter("scatter", input, dim, index, src, value, reduce)


def _scatter(name: str, input: Any, dim: int, index: Any, src: Any, value: Any,  # noqa: A002
             reduce: str | None) -> Tensor:
    if (src is None) == (value is None):
        raise ArgumentTypeError(f"{name}(): give exactly one of src and value")
    scalar = _of_scalar(scatter, name, input, dim, index, src=src, value=value, reduce=reduce)
    if scalar is not None:
        return scalar
    x, d, idx, s = _checked(name, input, dim, index, value if src is None else src)
    if reduce is None:
        return _written(x, d, idx, s)
    if reduce == "add":
        return ops.add(x, _summed(s, idx, d, x.shape))
    if reduce == "multiply":
        return ops.mul(x, _product(x, d, idx, s))
    raise ArgumentError(f"{name}(): reduce argument must be either add or multiply, got "
                        f"{reduce!r}")


def scatter_reduce(input: Any, dim: int, index: Any, src: Any, reduce: str, *,  # noqa: A002
                   include_self: bool = True) -> Tensor:
    """out = input with each src[i] reduced into out[..idx[i]..] along ``dim`` by ``reduce``
    (sum, prod, mean, amax, amin); without ``include_self`` the input's own values take no
    part where something is scattered (elsewhere they stay)."""
    if reduce not in REDUCTIONS:
        raise ArgumentError(f"scatter_reduce(): reduce argument must be either sum, prod, "
                            f"mean, amax or amin, got {reduce}")
    scalar = _of_scalar(scatter_reduce, "scatter_reduce", input, dim, index, src, reduce,
                        include_self=include_self)
    if scalar is not None:
        return scalar
    x, d, idx, s = _checked("scatter_reduce", input, dim, index, src)
    if reduce in ("amax", "amin"):
        return _extreme(x, d, idx, s, reduce == "amax", include_self)
    if reduce == "mean":
        if x.dtype == np.bool_:
            raise ArgumentTypeError("scatter_reduce(): reduce='mean' is not implemented for "
                                    "bool tensors (as in PyTorch)")
        return _mean(x, d, idx, s, include_self)
    hit = ops.greater(_count(x, idx, d), 0)
    if reduce == "sum":
        received = _summed(s, idx, d, x.shape)
        return ops.add(x, received) if include_self else ops.where(hit, received, x)
    product = _product(x, d, idx, s)
    return ops.mul(x, product) if include_self else ops.where(hit, product, x)


# ------------------------------------------------------------------ index_* along a dim
def _along(name: str, x: Tensor, dim: int, index: Any, count_of: tuple[int, ...] | None
           ) -> tuple[int, Tensor]:
    """(dim, the 1-D index broadcast over the shape ``count_of``, or over x's shape with dim
    of the index's length)."""
    d = dim_index(dim, x.ndim, name)
    idx = _index(name, index)
    if idx.ndim > 1:
        raise ArgumentError(f"{name}(): Index is supposed to be a vector, got shape {idx.shape}")
    length = int(idx.data.size)
    shape = count_of or (*x.shape[:d], length, *x.shape[d + 1:])
    view = [1] * max(x.ndim, 1)
    view[d] = length
    return d, ops.broadcast_to(ops.reshape(idx, tuple(view)), shape)


def _source(name: str, x: Tensor, d: int, index: Any, source: Any) -> Tensor:
    src = as_tensor_input(source)
    length = int(np.size(index.data if isinstance(index, Tensor) else index))
    expected = (*x.shape[:d], length, *x.shape[d + 1:])
    if src.shape != expected:
        raise ArgumentError(f"{name}(): source of shape {src.shape} must match self {x.shape} "
                           f"excluding dimension {d}, with {length} indices along it "
                           f"(expected {expected})")
    if src.dtype != x.dtype:
        raise ArgumentTypeError(f"{name}(): self ({x.dtype}) and source ({src.dtype}) must have "
                           "the same scalar type")
    return src


def index_add(input: Any, dim: int, index: Any, source: Any, *,  # noqa: A002
              alpha: float = 1) -> Tensor:
    """out = input, then out[.., index[i], ..] += alpha * source[.., i, ..] along ``dim``."""
    x = as_tensor_input(input)
    d = dim_index(dim, x.ndim, "index_add")
    src = _source("index_add", x, d, index, source)
    d, idx = _along("index_add", x, dim, index, src.shape)
    return _scatter_add("index_add", x, d, idx, src if alpha == 1 else ops.mul(src, alpha))


def index_copy(input: Any, dim: int, index: Any, source: Any) -> Tensor:  # noqa: A002
    """out = input, then out[.., index[i], ..] = source[.., i, ..] along ``dim``."""
    x = as_tensor_input(input)
    d = dim_index(dim, x.ndim, "index_copy")
    src = _source("index_copy", x, d, index, source)
    d, idx = _along("index_copy", x, dim, index, src.shape)
    return _scatter("index_copy", x, d, idx, src, None, None)


def index_fill(input: Any, dim: int, index: Any, value: Any) -> Tensor:  # noqa: A002
    """out = input with the slices out[.., index[i], ..] along ``dim`` set to ``value`` (a
    number or a 0-d tensor, which then receives their gradient); negative indices count
    from the end (PyTorch's index_fill takes them, unlike its other index_* functions)."""
    x = as_tensor_input(input)
    d, idx = _along("index_fill", x, dim, index, None)
    idx = ops.where(ops.less(idx, 0), ops.add(idx, x.shape[d]), idx)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ArgumentError(f"index_fill(): only supports a 0-dimensional value tensor, "
                                f"got shape {value.shape}")
        value = ops.broadcast_to(ops.cast(value, x.dtype), idx.shape)
        return _scatter("index_fill", x, d, idx, value, None, None)
    return _scatter("index_fill", x, d, idx, None, value, None)


def index_put(input: Any, indices: Any, values: Any, accumulate: bool = False) -> Tensor:  # noqa: A002
    """out = input with ``values`` (broadcast to input[indices]'s shape) written at
    ``indices`` (a tuple of index tensors, as ``input[indices]``): the last write wins where
    indices repeat, or with ``accumulate`` the values are added (repeats accumulate)."""
    from .inplace import setitem
    from .ops.indexing import _freeze_key

    x, key = as_tensor_input(input), tuple(indices)
    source = as_tensor_input(values)
    if source.dtype != x.dtype:
        raise ArgumentTypeError(f"index_put(): values ({source.dtype}) and self ({x.dtype}) "
                                "must have the same dtype")
    if not accumulate:
        out = x.clone()
        setitem(out, key, source)
        return out
    frozen = _freeze_key(key)
    shape = np.broadcast_to(np.empty((), np.int8), x.shape)[frozen].shape
    try:
        spread = ops.broadcast_to(source, shape)
    except ValueError:
        raise ArgumentError(f"index_put(): values of shape {source.shape} cannot be broadcast "
                            f"to the indexed shape {shape}") from None
    return ops.add(x, ops.index_add(spread, frozen, x.shape))


# ------------------------------------------------------------------------ masks
def _mask(name: str, mask: Any) -> Tensor:
    m = as_tensor_input(mask)
    if m.dtype != np.bool_:
        raise ArgumentTypeError(f"{name}: expected BoolTensor for mask, got {m.dtype}")
    return m


def masked_select(input: Any, mask: Any) -> Tensor:  # noqa: A002
    """The elements of input where mask is true (both broadcast), as a 1-D tensor. The
    mask is read into Python (the result's size depends on it), so mg.jit refuses it."""
    x, m = as_tensor_input(input), _mask("masked_select", mask)
    try:
        shape = np.broadcast_shapes(x.shape, m.shape)
    except ValueError:
        raise ArgumentError(f"masked_select: mask {m.shape} and input {x.shape} cannot be "
                           "broadcast") from None
    x = ops.broadcast_to(x, shape)
    chosen = tensor_math.read_values(m)  # the result's shape depends on them: not under mg.jit
    return ops.index(x, (np.broadcast_to(chosen, shape),))


def masked_scatter(input: Any, mask: Any, source: Any) -> Tensor:  # noqa: A002
    """input with the positions where mask is true (broadcast to input's shape) filled by
    source's elements in order (C order): out[p] = source.flat[number of true before p]."""
    x, m = as_tensor_input(input), _mask("masked_scatter", mask)
    src = as_tensor_input(source)
    if src.dtype != x.dtype:
        raise ArgumentTypeError(f"masked_scatter: expected self and source to have same dtypes but "
                           f"got {x.dtype} and {src.dtype}")
    try:
        m = ops.broadcast_to(m, x.shape)
    except ValueError:
        raise ArgumentError(f"masked_scatter: mask {m.shape} cannot be broadcast to input "
                           f"{x.shape}") from None
    wanted = int(np.count_nonzero(m.data))
    if wanted > src.data.size:
        raise ArgumentError(f"masked_scatter: expected source to have at least {wanted} "
                           f"elements (the true entries of mask), got {src.data.size}")
    import minigrad

    # the true entries so far, checked not to outrun the source: eager's check above reads
    # the mask, so this row repeats it in every mg.jit call (gather would refuse it with
    # another error, and an empty source would skip it)
    taken = ops.require_range(
        minigrad.cumsum(ops.reshape(ops.cast(m, np.int64), (-1,)), 0), 0, src.data.size,
        f"masked_scatter: expected source to have at least as many elements as the true "
        f"entries of mask, got {src.data.size}")
    if src.data.size == 0:
        return ops.where(ops.reshape(ops.greater_equal(taken, 0), x.shape), x, x)
    order = ops.sub(taken, 1)
    order = ops.where(ops.less(order, 0), np.int64(0), order)
    picked = ops.reshape(ops.gather(ops.reshape(src, (-1,)), order, 0), x.shape)
    return ops.where(m, picked, x)


# ------------------------------------------------------------------------ windows
def unfold(input: Any, dimension: int, size: int, step: int) -> Tensor:  # noqa: A002
    """The windows of ``size`` elements every ``step`` along ``dimension``: that dim becomes
    the window count (size(dim) - size) // step + 1 and a last dim of ``size`` is added
    (Tensor.unfold)."""
    x = as_tensor_input(input)
    d = dim_index(dimension, x.ndim, "unfold")
    length = x.shape[d] if x.ndim else 1
    if size < 0 or size > length:
        raise ArgumentError(f"unfold: maximum size for tensor at dimension {d} is {length} but "
                           f"size is {size}")
    if step <= 0:
        raise ArgumentError(f"unfold: step is {step} but must be > 0")
    if x.ndim == 0:
        return ops.reshape(x, (1,))[:size]
    count = (length - size) // step + 1
    starts = np.arange(count, dtype=np.int64)[:, None] * step
    positions = starts + np.arange(size, dtype=np.int64)[None, :]
    windows = ops.index(x, (*([slice(None)] * d), positions))
    return shape_ops.movedim(windows, d + 1, -1)


# ------------------------------------------------------------------------ in place
def _in_place(function: Any) -> Any:
    """``x.<name>_(...)``: the out-of-place function, then inplace.apply_inplace (PyTorch's
    rebase of a graph tensor; a leaf that requires grad refused)."""
    name = f"{function.__name__}_"

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return apply_inplace(self, name, lambda t: function(t, *args, **kwargs))

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In place: ``{function.__name__}`` written into this tensor."
    return method


FUNCTIONS = ("scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy",
             "index_fill", "index_put", "masked_select", "masked_scatter")
METHODS = (*FUNCTIONS, "unfold")
for _name in METHODS:
    setattr(Tensor, _name, globals()[_name])
for _name in ("scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy",
              "index_fill", "index_put", "masked_scatter"):
    setattr(Tensor, f"{_name}_", _in_place(globals()[_name]))
__all__ = list(FUNCTIONS)
