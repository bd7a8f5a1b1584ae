"""Tensor constructors with PyTorch's names, keywords and default dtypes.

Every constructor returns a leaf. Floats default to ``dtypes.default_float()`` (float32),
integer ranges to int64, as in PyTorch. ``dtype`` takes ``mg.float32`` ... (numpy dtypes),
numpy types and names; ``requires_grad=True`` needs a float dtype. Random draws come from the
generator ``mg.manual_seed`` seeds (``_state.rng()``), so a seed gives the same values again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _state
from .dtypes import as_array, default_float, resolve_dtype
from .errors import ArgumentError, ArgumentTypeError
from .tensor import Tensor, read_values

Size = int | Sequence[int]


def _shape(size: tuple[Any, ...], name: str) -> tuple[int, ...]:
    """``zeros(2, 3)``, ``zeros((2, 3))`` and ``zeros([2, 3])`` all give (2, 3)."""
    if len(size) == 1 and isinstance(size[0], Sequence | np.ndarray):
        size = tuple(size[0])
    shape = []
    for n in size:
        if isinstance(n, bool) or not isinstance(n, int | np.integer):
            raise ArgumentTypeError(f"{name}: sizes must be integers, got {n!r} in {size}")
        if n < 0:
            raise ArgumentError(f"{name}: sizes must not be negative, got {tuple(size)}")
        shape.append(int(n))
    return tuple(shape)


def _leaf(array: np.ndarray, requires_grad: bool) -> Tensor:
    """A leaf around a fresh array minigrad made (checked like ``mg.tensor``)."""
    if requires_grad and array.dtype.kind != "f":
        raise ArgumentTypeError("only floating-point tensors can require grad, got dtype "
                                f"{array.dtype}")
    return Tensor._leaf_like(array, bool(requires_grad))


def _float_dtype(dtype: Any, name: str) -> np.dtype:
    resolved = default_float() if dtype is None else resolve_dtype(dtype)
    if resolved.kind != "f":
        raise ArgumentTypeError(f"{name}: dtype must be a float dtype, got {resolved}")
    return resolved


def full(size: Size, fill_value: Any, *, dtype: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` holding ``fill_value`` everywhere. Without ``dtype`` the dtype is
    that of the value: bool, int64, or the default float (as ``torch.full``)."""
    shape = _shape((size,), "full")
    if dtype is None:
        dtype = as_array(fill_value).dtype
    return _leaf(np.full(shape, fill_value, dtype=resolve_dtype(dtype)), requires_grad)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (``zeros(2, 3)`` or ``zeros((2, 3))``), default float dtype."""
    dtype = default_float() if dtype is None else resolve_dtype(dtype)
    return _leaf(np.zeros(_shape(size, "zeros"), dtype), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones, default float dtype."""
    dtype = default_float() if dtype is None else resolve_dtype(dtype)
    return _leaf(np.ones(_shape(size, "ones"), dtype), requires_grad)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor whose values are not to be relied on (zeros here, never stale memory)."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def _like(like: Any, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:
    array = like.data if isinstance(like, Tensor) else np.asarray(like)
    return array.shape, array.dtype if dtype is None else resolve_dtype(dtype)


def zeros_like(like: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``like``'s shape and (unless given) dtype."""
    shape, dtype = _like(like, dtype)
    return _leaf(np.zeros(shape, dtype), requires_grad)


def ones_like(like: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of ``like``'s shape and (unless given) dtype."""
    shape, dtype = _like(like, dtype)
    return _leaf(np.ones(shape, dtype), requires_grad)


def empty_like(like: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``zeros_like`` (never stale memory)."""
    return zeros_like(like, dtype=dtype, requires_grad=requires_grad)


def full_like(like: Any, fill_value: Any, *, dtype: Any = None,
              requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere, in ``like``'s shape and (unless given) dtype."""
    shape, dtype = _like(like, dtype)
    if isinstance(fill_value, Tensor):  # its value is read (refused while mg.jit traces)
        fill_value = read_values(fill_value)
    return _leaf(np.full(shape, fill_value, dtype), requires_grad)


# ------------------------------------------------------------------------------ random
def rand(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform numbers in [0, 1). Drawn by ``nn.functional.rand_uniform``, so under
    ``mg.jit`` the draw is an input drawn anew at each call (same values as eager)."""
    from .nn.functional import rand_uniform

    dtype = _float_dtype(dtype, "rand")
    shape = _shape(size, "rand")
    if dtype.itemsize >= 4 and not requires_grad:
        return rand_uniform(shape, dtype)
    return _leaf(_state.rng().random(shape).astype(dtype), requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal numbers N(0, 1)."""
    dtype = _float_dtype(dtype, "randn")
    draw = _state.rng().standard_normal(_shape(size, "randn"))
    return _leaf(draw.astype(dtype), requires_grad)


def rand_like(like: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``rand`` of ``like``'s shape and (unless given) dtype."""
    shape, dtype = _like(like, dtype)
    return rand(shape, dtype=dtype, requires_grad=requires_grad)


def randn_like(like: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``randn`` of ``like``'s shape and (unless given) dtype."""
    shape, dtype = _like(like, dtype)
    return randn(shape, dtype=dtype, requires_grad=requires_grad)


def randint(low: int, high: int | None = None, size: Size = (), *,
            dtype: Any = None) -> Tensor:
    """Integers uniform in [low, high) (``randint(high, size)`` takes low = 0), int64."""
    if high is None or isinstance(high, Sequence):  # randint(high, size)
        low, high, size = 0, low, (size if high is None else high)
    if not high > low:
        raise ArgumentError(f"randint: needs low < high, got low={low}, high={high}")
    dtype = np.dtype(np.int64) if dtype is None else resolve_dtype(dtype)
    draw = _state.rng().integers(int(low), int(high), _shape((size,), "randint"))
    return _leaf(draw.astype(dtype), False)


def randperm(n: int, *, dtype: Any = None) -> Tensor:
    """A random permutation of 0 .. n-1 (int64)."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ArgumentError(f"randperm: n must be a non-negative integer, got {n!r}")
    dtype = np.dtype(np.int64) if dtype is None else resolve_dtype(dtype)
    return _leaf(_state.rng().permutation(int(n)).astype(dtype), False)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Size | None = None, *,
           dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Normal numbers mean + std * N(0, 1). ``mean`` and ``std`` may be tensors (their
    broadcast shape, no gradient through them) or numbers with ``size``."""
    means, stds = (np.asarray(v.data if isinstance(v, Tensor) else v) for v in (mean, std))
    if np.any(stds < 0):
        raise ArgumentError(f"normal: std must be >= 0, got {stds.min()}")
    tensors = [v.data for v in (mean, std) if isinstance(v, Tensor)]
    if dtype is None:
        dtype = np.result_type(*tensors) if tensors else default_float()
    dtype = _float_dtype(dtype, "normal")
    shape = np.broadcast_shapes(means.shape, stds.shape)
    if size is not None:
        shape = np.broadcast_shapes(shape, _shape((size,), "normal"))
    draw = _state.rng().standard_normal(shape)
    return _leaf((means + stds * draw).astype(dtype), requires_grad)


# ------------------------------------------------------------------------------ ranges
def _is_float(value: Any) -> bool:
    return isinstance(value, float | np.floating) or (
        isinstance(value, Tensor | np.ndarray) and np.asarray(value).dtype.kind == "f")


def arange(start: Any, end: Any = None, step: Any = 1, *, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """start, start + step, ... below ``end`` (``arange(end)`` starts at 0):
    ceil((end - start) / step) values, each start + i * step computed in float64.
    int64 when start, end and step are integers, else the default float dtype."""
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if step == 0:
        raise ArgumentError("arange: step must be nonzero")
    count = math.ceil((values[1] - values[0]) / values[2])
    if count < 0:
        raise ArgumentError(f"arange: the range from {start} to {end} by {step} has the wrong "
                            "sign of step")
    if dtype is None:
        dtype = default_float() if any(_is_float(v) for v in values) else np.int64
    dtype = resolve_dtype(dtype)
    points = values[0] + np.arange(count, dtype=np.float64) * values[2]
    if dtype.kind in "iu" and not any(_is_float(v) for v in values):
        points = values[0] + np.arange(count, dtype=np.int64) * values[2]
    return _leaf(points.astype(dtype), requires_grad)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive. As PyTorch: step =
    (end - start) / (steps - 1); the first half is start + i * step, the second half
    end - (steps - 1 - i) * step (so both ends are exact), computed in float64."""
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise ArgumentError(f"linspace: steps must be a non-negative integer, got {steps!r}")
    dtype = default_float() if dtype is None else resolve_dtype(dtype)
    if isinstance(start, Tensor) or isinstance(end, Tensor):
        return _linspace_of_tensors(start, end, steps, dtype)
    i = np.arange(steps, dtype=np.float64)
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    half = steps // 2
    points = np.where(i < half, start + i * step, end - (steps - 1 - i) * step)
    if steps == 1:  # PyTorch's: the one point is start (the formula above would give end)
        points = np.full(1, start, dtype=np.float64)
    return _leaf(points.astype(dtype), requires_grad)


def _linspace_of_tensors(start: Any, end: Any, steps: int, dtype: np.dtype) -> Tensor:
    """linspace from 0-d tensors: the same formula in minigrad ops (computed in ``dtype``,
    float64 for an integer dtype), so gradients reach start and end where PyTorch's takes
    their values only; never the values silently without the graph."""
    from . import ops

    work = dtype if dtype.kind == "f" else np.dtype(np.float64)
    ends = [ops.cast(ops._as_input(v, None), work) for v in (start, end)]
    if any(v.ndim for v in ends):
        raise ArgumentError(f"linspace: start and end must be 0-d, got shapes "
                            f"{ends[0].shape} and {ends[1].shape}")
    i = np.arange(steps, dtype=np.float64)
    step = ops.div(ops.sub(ends[1], ends[0]), float(max(steps - 1, 1)))
    first = ops.add(ends[0], ops.mul(Tensor(i.astype(work)), step))
    second = ops.sub(ends[1], ops.mul(Tensor((steps - 1 - i).astype(work)), step))
    points = ops.where(Tensor((i < steps // 2) | (steps == 1)), first, second)
    return points if work == dtype else ops.cast(points, dtype)


def eye(n: int, m: int | None = None, *, dtype: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The n x m identity (m = n by default), default float dtype."""
    shape = _shape((n, n if m is None else m), "eye")
    dtype = default_float() if dtype is None else resolve_dtype(dtype)
    return _leaf(np.eye(*shape, dtype=dtype), requires_grad)


# --------------------------------------------------------------------------- from data
def from_numpy(array: np.ndarray) -> Tensor:
    """A leaf sharing ``array`` (its dtype kept: float64 stays float64, as in PyTorch)."""
    if not isinstance(array, np.ndarray):
        raise ArgumentTypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    resolve_dtype(array.dtype)  # refuses complex, object, string arrays
    return _leaf(array, False)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """``data`` as a tensor, without a copy when it already is one (or a numpy array) of
    ``dtype``; a Tensor of another dtype is cast (differentiably)."""
    if isinstance(data, Tensor):
        if dtype is None or data.dtype == resolve_dtype(dtype):
            return data
        from .ops import cast

        return cast(data, dtype)
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == resolve_dtype(dtype)):
        return from_numpy(data)
    return Tensor(data, dtype=dtype)
