"""1-D and 3-D pooling and max unpooling, composed from the 2-D pools (minigrad/pool.py),
gather/scatter and sorting, so gradients of every order come from those rows.

* ``max_pool3d``: a box's maximum is the maximum over depth of the (H, W) windows'
  maxima, so it is max_pool2d over (H, W) of every depth slice (N, C D, H, W), then
  max_pool2d with a (kd, 1) kernel over the (D, OH OW) plane of those maxima. PyTorch's
  rule (the first maximum in (d, h, w) order, or the last NaN) holds: the first pool keeps
  the first in (h, w) order, the second the first depth among equal maxima. The index is
  d H W + (the first pool's index at that depth).
* ``avg_pool3d``: window sums the same way (two avg_pool2d with divisor 1), divided by
  PyTorch's count, which for a box is the product of the per-axis counts.
* ``max_pool1d`` / ``avg_pool1d``: the 2-D pools over a unit height axis.
* ``adaptive_avg_pool1d/3d``: a constant averaging matmul per axis (as interpolate's area).
* ``adaptive_max_pool1d/2d/3d``: per axis (the last first), the windows gathered into
  rows and max_pool2d over each row; indices combined across axes by gather.
* ``max_unpool1d/2d/3d``: zeros with each input value scattered to its index. Of inputs
  sharing an index only the last is written, found by a stable argsort of the indices
  (PyTorch leaves it undefined: its kernel runs in parallel); its gradient reaches that
  one input (PyTorch's backward gathers for every duplicate, which finite differences do
  not confirm). Indices from max_pool share values, so there both agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _state, ops
from .conv_nd import ntuple
from .errors import ArgumentError, ArgumentTypeError, OutOfRangeError
from .interpolate import area_along
from .pool import avg_pool2d, max_pool2d, window_counts
from .shape_ops import cat
from .tensor import Tensor

LAYOUTS = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}


def _batched(op: str, input: Any, dims: int) -> tuple[Tensor, bool]:  # noqa: A002
    """The input with a batch axis (an unbatched one gets a batch of one)."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim == dims + 1:
        return ops.reshape(x, (1, *x.shape)), True
    if x.ndim != dims + 2:
        raise ArgumentError(f"{op}: needs an input {LAYOUTS[dims]} (or unbatched without N), "
                            f"got shape {x.shape}")
    return x, False


def _unbatch(out: Tensor, unbatched: bool) -> Tensor:
    return ops.reshape(out, out.shape[1:]) if unbatched else out


def _pool_tuples(op: str, dims: int, kernel_size: Any, stride: Any, padding: Any,
                 dilation: Any = 1, half: bool = True) -> tuple[tuple[int, ...], ...]:
    """kernel, stride (the kernel by default), padding (at most half the kernel, if
    ``half``) and dilation as tuples of ``dims`` ints."""
    kernel = ntuple(kernel_size, dims, "kernel_size", op)
    stride = kernel if stride is None or stride == () else ntuple(stride, dims, "stride", op)
    pad = ntuple(padding, dims, "padding", op, minimum=0)
    if half and any(p > k // 2 for p, k in zip(pad, kernel, strict=True)):
        raise ArgumentError(f"{op}: padding {pad} must be at most half the kernel size {kernel}")
    return kernel, stride, pad, ntuple(dilation, dims, "dilation", op)


# ------------------------------------------------------------------- 3-D pools
def max_pool3d(input: Any, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """``torch.nn.functional.max_pool3d``: max_pool2d over (H, W) per depth, then over
    depth; indices d * H * W + h * W + w."""
    x, unbatched = _batched("max_pool3d", input, 3)
    kernel, stride, pad, dilation = _pool_tuples("max_pool3d", 3, kernel_size, stride,
                                                 padding, dilation)
    n, c, d, h, w = x.shape
    planes, inner = max_pool2d(ops.reshape(x, (n, c * d, h, w)), kernel[1:], stride[1:],
                               pad[1:], dilation[1:], ceil_mode, return_indices=True)
    oh, ow = planes.shape[2:]
    out, outer = max_pool2d(ops.reshape(planes, (n, c, d, oh * ow)), (kernel[0], 1),
                            (stride[0], 1), (pad[0], 0), (dilation[0], 1), ceil_mode,
                            return_indices=True)
    od = out.shape[2]
    out = _unbatch(ops.reshape(out, (n, c, od, oh, ow)), unbatched)
    if not return_indices:
        return out
    outer = ops.reshape(outer, (n, c, od * oh * ow))
    within = ops.gather(ops.reshape(inner, (n, c, d * oh * ow)), outer, 2)
    index = ops.add(ops.mul(outer // (oh * ow), h * w), within)
    return out, _unbatch(ops.reshape(index, (n, c, od, oh, ow)), unbatched)


def avg_pool3d(input: Any, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """``torch.nn.functional.avg_pool3d``: box sums (avg_pool2d with divisor 1 over (H, W),
    then over depth) divided by PyTorch's count, the product of the per-axis counts."""
    x, unbatched = _batched("avg_pool3d", input, 3)
    kernel, stride, pad, _ = _pool_tuples("avg_pool3d", 3, kernel_size, stride, padding)
    if divisor_override is not None and int(divisor_override) == 0:
        raise ArgumentError("avg_pool3d: divisor_override must not be zero")
    n, c, d, h, w = x.shape
    planes = avg_pool2d(ops.reshape(x, (n, c * d, h, w)), kernel[1:], stride[1:], pad[1:],
                        ceil_mode, divisor_override=1)
    oh, ow = planes.shape[2:]
    sums = avg_pool2d(ops.reshape(planes, (n, c, d, oh * ow)), (kernel[0], 1),
                      (stride[0], 1), (pad[0], 0), ceil_mode, divisor_override=1)
    sums = ops.reshape(sums, (n, c, sums.shape[2], oh, ow))
    if divisor_override is not None:
        return _unbatch(ops.div(sums, float(divisor_override)), unbatched)
    axes = [window_counts(size, out, k, s, p, bool(count_include_pad)) for size, out, k, s, p
            in zip((d, h, w), sums.shape[2:], kernel, stride, pad, strict=True)]
    counts = np.einsum("i,j,k->ijk", *axes).astype(x.dtype)
    return _unbatch(ops.mul(sums, Tensor(1.0 / counts)), unbatched)


# ------------------------------------------------------------------- 1-D pools
def _as_2d(value: Any, name: str, op: str, fill: int) -> tuple[int, int]:
    return (fill, *ntuple(value, 1, name, op, minimum=0))


def max_pool1d(input: Any, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """``torch.nn.functional.max_pool1d``: max_pool2d over a unit height axis."""
    x, unbatched = _batched("max_pool1d", input, 1)
    kernel = _as_2d(kernel_size, "kernel_size", "max_pool1d", 1)
    stride = kernel if stride is None or stride == () else _as_2d(stride, "stride",
                                                                  "max_pool1d", 1)
    result = max_pool2d(ops.reshape(x, (x.shape[0], x.shape[1], 1, x.shape[2])), kernel,
                        stride, _as_2d(padding, "padding", "max_pool1d", 0),
                        _as_2d(dilation, "dilation", "max_pool1d", 1), ceil_mode,
                        return_indices)
    parts = result if return_indices else (result,)
    parts = tuple(_unbatch(ops.reshape(p, (*p.shape[:2], p.shape[3])), unbatched)
                  for p in parts)
    return parts if return_indices else parts[0]


def avg_pool1d(input: Any, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """``torch.nn.functional.avg_pool1d``: avg_pool2d over a unit height axis."""
    x, unbatched = _batched("avg_pool1d", input, 1)
    kernel = _as_2d(kernel_size, "kernel_size", "avg_pool1d", 1)
    stride = kernel if stride is None or stride == () else _as_2d(stride, "stride",
                                                                  "avg_pool1d", 1)
    out = avg_pool2d(ops.reshape(x, (x.shape[0], x.shape[1], 1, x.shape[2])), kernel,
                     stride, _as_2d(padding, "padding", "avg_pool1d", 0), ceil_mode,
                     count_include_pad)
    return _unbatch(ops.reshape(out, (*out.shape[:2], out.shape[3])), unbatched)


# ------------------------------------------------------- adaptive average pools
def _adaptive_input(op: str, dims: int, input: Any,  # noqa: A002
                    output_size: Any) -> tuple[Tensor, bool, tuple[int, ...]]:
    """(the batched float input, whether it was unbatched, the output size per spatial
    axis with None read as the input's) for the adaptive pools, checked."""
    x, unbatched = _batched(op, input, dims)
    if x.dtype.kind != "f":
        raise ArgumentTypeError(f"{op}: input must be floating point, got dtype {x.dtype}")
    sizes = tuple(output_size) if isinstance(output_size, tuple | list) else (
        (output_size,) * dims)
    if len(sizes) != dims:
        raise ArgumentError(f"{op}: output_size must be an int or {dims} ints, got "
                            f"{output_size!r}")
    sizes = tuple(n if s is None else int(s) for n, s in zip(x.shape[2:], sizes, strict=True))
    if min(sizes) < 1 or min(x.shape[2:]) < 1:
        raise ArgumentError(f"{op}: output size {sizes} and input {x.shape} must be positive "
                            f"along every spatial axis")
    return x, unbatched, sizes


def _adaptive_avg(op: str, dims: int, input: Any, output_size: Any) -> Tensor:  # noqa: A002
    """The mean over [floor(i n / m), ceil((i + 1) n / m)) along each axis: one constant
    averaging matmul per axis (None in ``output_size`` keeps that axis)."""
    x, unbatched, sizes = _adaptive_input(op, dims, input, output_size)
    out = x
    for k, m in enumerate(sizes):
        out = out if m == x.shape[2 + k] else area_along(out, 2 + k, m)
    return _unbatch(out, unbatched)


def adaptive_avg_pool1d(input: Any, output_size: Any) -> Tensor:  # noqa: A002
    """``torch.nn.functional.adaptive_avg_pool1d``."""
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool3d(input: Any, output_size: Any) -> Tensor:  # noqa: A002
    """``torch.nn.functional.adaptive_avg_pool3d``."""
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


# ------------------------------------------------------------------ power pools
def _lp_pool(dims: int) -> Callable[..., Tensor]:
    name = f"lp_pool{dims}d"
    average = {1: avg_pool1d, 2: avg_pool2d, 3: avg_pool3d}[dims]
    maximum = {1: max_pool1d, 2: max_pool2d, 3: max_pool3d}[dims]

    def pool(input: Any, norm_type: float, kernel_size: Any, stride: Any = None,  # noqa: A002
             ceil_mode: bool = False) -> Tensor:
        x = input if isinstance(input, Tensor) else Tensor(input)
        if norm_type in (math.inf, -math.inf):  # max |x| (min |x|) per window
            sign = 1 if norm_type > 0 else -1
            return ops.mul(maximum(ops.mul(ops.abs(x), sign), kernel_size, stride, 0, 1,
                                   ceil_mode), sign)
        kernel = ntuple(kernel_size, dims, "kernel_size", name)
        mean = average(x ** norm_type, kernel, stride, 0, ceil_mode)
        total = ops.mul(ops.mul(ops.sign(mean), ops.relu(ops.abs(mean))), math.prod(kernel))
        return total ** (1.0 / norm_type)

    pool.__name__ = pool.__qualname__ = name
    pool.__doc__ = (f"``torch.nn.functional.{name}``: (sum over each window of x^p)^(1/p), "
                    "as PyTorch computes it: the window mean of x^p times the window size; "
                    "p = inf is the max of |x|.")
    return pool


lp_pool1d = _lp_pool(1)
lp_pool2d = _lp_pool(2)
lp_pool3d = _lp_pool(3)


# ---------------------------------------------------------- adaptive max pools
def _window_table(n: int, m: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Adaptive windows [floor(i n / m), ceil((i + 1) n / m)): (starts, lengths, longest)."""
    i = np.arange(m)
    starts = (i * n) // m
    lengths = -((-(i + 1) * n) // m) - starts
    return starts, lengths, int(lengths.max())


def _adaptive_max_axis(x: Tensor, axis: int, m: int) -> tuple[Tensor, Tensor]:
    """Along ``axis``: each window's maximum and the position it came from. The windows are
    gathered into rows of the longest window's length (a shorter one repeats its last
    element, which changes neither its maximum nor PyTorch's first-maximum/last-NaN
    choice), and max_pool2d over each row picks it."""
    n = x.shape[axis]
    starts, lengths, longest = _window_table(n, m)
    positions = starts[:, None] + np.minimum(np.arange(longest)[None, :], lengths[:, None] - 1)
    moved = ops.transpose(x, [*(k for k in range(x.ndim) if k != axis), axis])
    rows = ops.index(moved, (Ellipsis, positions))  # (..., m, longest)
    lead = rows.shape[:-2]
    values, index = max_pool2d(ops.reshape(rows, (-1, 1, m, longest)), (1, longest),
                               return_indices=True)  # index = i * longest + j
    row_start = Tensor((np.arange(m) * longest)[:, None])
    last = Tensor((lengths - 1)[:, None])
    position = ops.add(Tensor(starts[:, None]),
                       ops.minimum(ops.sub(index, row_start), last))
    back = list(range(x.ndim - 1))
    back.insert(axis, x.ndim - 1)
    return tuple(ops.transpose(ops.reshape(t, (*lead, m)), back) for t in (values, position))


def _adaptive_max(op: str, dims: int, input: Any, output_size: Any,  # noqa: A002
                  return_indices: bool) -> Tensor | tuple[Tensor, Tensor]:
    """Separable: the last axis first, each pass the windows' maxima; the positions chosen
    on earlier passes are read at the rows later passes chose (gather), so the index is
    that of the first maximum (or last NaN) in row-major window order, as PyTorch's."""
    x, unbatched, sizes = _adaptive_input(op, dims, input, output_size)
    out, chosen = x, {}
    for axis in reversed(range(2, x.ndim)):
        out, position = _adaptive_max_axis(out, axis, sizes[axis - 2])
        chosen = {a: ops.gather(p, position, axis) for a, p in chosen.items()}
        chosen[axis] = position
    if not return_indices:
        return _unbatch(out, unbatched)
    index = Tensor(np.zeros((), dtype=np.int64))
    for axis, position in chosen.items():
        stride = int(np.prod(x.shape[axis + 1:]))
        index = ops.add(index, ops.mul(position, stride))
    return _unbatch(out, unbatched), _unbatch(index, unbatched)


def _adaptive_max_function(dims: int) -> Callable[..., Any]:
    name = f"adaptive_max_pool{dims}d"

    def pool(input: Any, output_size: Any,  # noqa: A002
             return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        return _adaptive_max(name, dims, input, output_size, return_indices)

    pool.__name__ = pool.__qualname__ = name
    pool.__doc__ = (f"``torch.nn.functional.{name}``: the maximum over windows "
                    "[floor(i n / m), ceil((i + 1) n / m)) of each axis (None keeps an "
                    "axis); indices into the flattened input plane.")
    return pool


adaptive_max_pool1d = _adaptive_max_function(1)
adaptive_max_pool2d = _adaptive_max_function(2)
adaptive_max_pool3d = _adaptive_max_function(3)


# ------------------------------------------------------------------ unpooling
def unpool_size(op: str, shape: tuple, kernel: tuple, stride: tuple, pad: tuple,
                output_size: Any) -> tuple[int, ...]:
    """(in - 1) s - 2 p + k per axis, or ``output_size`` (its last len(kernel) entries) if
    within a stride of that, as PyTorch."""
    default = tuple((n - 1) * s - 2 * p + k for n, k, s, p in
                    zip(shape[2:], kernel, stride, pad, strict=True))
    if output_size is None:
        return default
    wanted = tuple(int(v) for v in output_size)
    if len(wanted) == len(kernel) + 2:
        wanted = wanted[2:]
    if len(wanted) != len(kernel):
        raise ArgumentError(f"{op}: output_size must have {len(kernel)} or "
                            f"{len(kernel) + 2} entries, got {tuple(output_size)}")
    for axis, (size, base, s) in enumerate(zip(wanted, default, stride, strict=True)):
        if not base - s < size < base + s:
            raise ArgumentError(f"{op}: invalid output_size {tuple(output_size)} (dim {axis} "
                                f"must be between {base - s} and {base + s}, exclusive)")
    return wanted


def last_of_equal(index: Tensor) -> Tensor:
    """Bool, along the last axis: whether no later entry holds the same index (a stable
    argsort groups equal indices in their order; the last of each group is kept)."""
    order = ops.argsort(index, -1, stable=True)
    ranked = ops.gather(index, order, -1)
    differs = ops.not_equal(ops.index(ranked, (Ellipsis, slice(1, None))),
                            ops.index(ranked, (Ellipsis, slice(None, -1))))
    last = cat([differs, Tensor(np.ones((*index.shape[:-1], 1), dtype=bool))], -1)
    return ops.gather(last, ops.argsort(order, -1, stable=True), -1)


def _check_indices(op: str, index: Tensor, plane: int) -> None:
    """Indices outside [0, plane) are refused by name (eagerly; under mg.jit the
    ``require_range`` row in _max_unpool refuses them at every call)."""
    if _state.STATE.read_hooks or index.data.size == 0:
        return
    bad = (index.data < 0) | (index.data >= plane)
    if bad.any():
        raise OutOfRangeError(f"{op}: found an invalid max index {int(index.data[bad][0])} "
                              f"(output planes have {plane} elements)")


def _max_unpool(op: str, dims: int, input: Any, indices: Any,  # noqa: A002
                kernel_size: Any, stride: Any, padding: Any, output_size: Any) -> Tensor:
    x, unbatched = _batched(op, input, dims)
    index = indices if isinstance(indices, Tensor) else Tensor(np.asarray(indices))
    if unbatched:
        index = ops.reshape(index, (1, *index.shape))
    if index.dtype.kind not in "iu":
        raise ArgumentTypeError(f"{op}: indices must be integers, got dtype {index.dtype}")
    if index.shape != x.shape:
        raise ArgumentError(f"{op}: indices {index.shape} must have the input's shape "
                            f"{x.shape}")
    kernel, stride, pad, _ = _pool_tuples(op, dims, kernel_size, stride, padding, half=False)
    sizes = unpool_size(op, x.shape, kernel, stride, pad, output_size)
    n, c, plane = x.shape[0], x.shape[1], math.prod(sizes)
    _check_indices(op, index, plane)
    count = math.prod(x.shape[2:])  # inputs per plane (explicit: a batch may be empty)
    flat_index = ops.reshape(ops.cast(index, np.dtype(np.int64)), (n, c, count))
    flat_index = ops.require_range(flat_index, 0, plane - 1, f"{op}: found an invalid max "
                                   f"index (output planes have {plane} elements)", index=True)
    kept = ops.where(last_of_equal(flat_index), ops.reshape(x, (n, c, count)),
                     Tensor(np.zeros((), dtype=x.dtype)))
    out = ops.scatter_add(kept, flat_index, 2, (n, c, plane))
    return _unbatch(ops.reshape(out, (n, c, *sizes)), unbatched)


def _unpool(dims: int) -> Callable[..., Tensor]:
    name = f"max_unpool{dims}d"

    def unpool(input: Any, indices: Any, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0, output_size: Any = None) -> Tensor:
        return _max_unpool(name, dims, input, indices, kernel_size, stride, padding,
                           output_size)

    unpool.__name__ = unpool.__qualname__ = name
    unpool.__doc__ = (f"``torch.nn.functional.{name}``: zeros of size (in - 1) s - 2 p + k "
                      "per axis (or output_size) with each input value at its index into "
                      "the flattened spatial plane (the last of inputs sharing an index).")
    return unpool


max_unpool1d = _unpool(1)
max_unpool2d = _unpool(2)
max_unpool3d = _unpool(3)

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "adaptive_max_pool3d", "avg_pool1d", "avg_pool3d",
           "last_of_equal", "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_pool1d", "max_pool3d",
           "max_unpool1d", "max_unpool2d", "max_unpool3d", "unpool_size"]
