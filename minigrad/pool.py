"""Pooling, composed from primitives so that gradients of every order come for free.

* ``max_pool2d``: one index row, ``max_pool2d_index`` (no gradient, like a comparison),
  gives per output the flat index h * W + w of its window's maximum (the first one in
  window order on ties, as PyTorch's CPU kernel; the indices PyTorch's ``return_indices``
  gives); the values are then a ``gather`` of x at those indices, so the gradient goes to
  that one element (``scatter_add``) and the second order is a ``gather`` again.
* ``avg_pool2d``: a depthwise conv2d with a kernel of ones (the windows' sums), divided by
  each window's count (a constant of the shapes: PyTorch's rule with ``count_include_pad``,
  ``ceil_mode`` and ``divisor_override``).
* ``adaptive_avg_pool2d``: A_h @ x @ A_w^T with constant averaging matrices (window i of an
  axis of size n into m spans [floor(i n / m), ceil((i + 1) n / m))).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from . import ops
from .conv import Padding, Pair, conv2d_primitive, out_size, pair, windows
from .errors import ArgumentError, ArgumentTypeError
from .ops import INDEX, Op, register
from .tensor import Tensor


def _pool_args(op: str, kernel_size: Any, stride: Any, padding: Any,
               dilation: Any = 1) -> tuple[Pair, Pair, Pair, Pair]:
    kernel = pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None or stride == () else pair(stride, "stride", op)
    pad = pair(padding, "padding", op, minimum=0)
    dilation = pair(dilation, "dilation", op)
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise ArgumentError(f"{op}: padding {pad} must be at most half the kernel size {kernel}")
    return kernel, stride, pad, dilation


def _pooled_size(op: str, size: int, kernel: int, stride: int, pad: int, dilation: int,
                 ceil_mode: bool) -> int:
    """PyTorch's output size; with ceil_mode the last window must start inside the input
    or its left padding."""
    span = dilation * (kernel - 1) + 1
    n = (size + 2 * pad - span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (n - 1) * stride >= size + pad:
        n -= 1
    if n < 1:
        raise ArgumentError(f"{op}: input size {size} with padding {pad} is smaller than the "
                            f"window {span} (kernel {kernel}, dilation {dilation})")
    return n


def _pool_padding(op: str, shape: tuple, kernel: Pair, stride: Pair, pad: Pair,
                  dilation: Pair, ceil_mode: bool) -> tuple[Padding, Pair]:
    """((top, bottom), (left, right)) padding making floor division give the output size
    (ceil_mode adds room after), and that size."""
    sizes, pads = [], []
    for axis in range(2):
        n = _pooled_size(op, shape[2 + axis], kernel[axis], stride[axis], pad[axis],
                         dilation[axis], ceil_mode)
        needed = (n - 1) * stride[axis] + dilation[axis] * (kernel[axis] - 1) + 1
        after = max(needed - shape[2 + axis] - pad[axis], pad[axis])
        sizes.append(n)
        pads.append((pad[axis], after))
    return (pads[0], pads[1]), (sizes[0], sizes[1])


def _takes_unbatched(pool: Callable[..., Any]) -> Callable[..., Any]:
    """PyTorch's 2-D pools also take an unbatched (C, H, W) input: pooled as a batch of
    one, the batch axis removed again."""
    @functools.wraps(pool)
    def call(input: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: A002
        x = input if isinstance(input, Tensor) else Tensor(input)
        if x.ndim != 3:
            return pool(x, *args, **kwargs)
        out = pool(ops.reshape(x, (1, *x.shape)), *args, **kwargs)
        parts = out if isinstance(out, tuple) else (out,)
        parts = tuple(ops.reshape(part, part.shape[1:]) for part in parts)
        return parts if isinstance(out, tuple) else parts[0]
    return call


def _check_input(op: str, x: Tensor, integers: bool = False) -> None:
    """A 4-D input of a floating dtype (or, with ``integers``, an integer one, as PyTorch's
    max_pool2d takes)."""
    if x.ndim != 4:
        raise ArgumentError(f"{op}: needs an input (N, C, H, W) or (C, H, W), got shape "
                            f"{x.shape}")
    kinds = "fiu" if integers else "f"
    if x.dtype.kind not in kinds:
        wanted = "floating point or integer" if integers else "floating point"
        raise ArgumentTypeError(f"{op}: input must be {wanted}, got dtype {x.dtype}")


# ------------------------------------------------------------------- max pooling
def _max_index_shape(x: tuple, *, kernel: Pair, stride: Pair, padding: Padding,
                     dilation: Pair, out_hw: Pair) -> tuple:
    if len(x) != 4:
        raise ArgumentError(f"max_pool2d_index: needs an input (N, C, H, W), got shape {x}")
    for axis in range(2):
        span = (out_hw[axis] - 1) * stride[axis] + dilation[axis] * (kernel[axis] - 1) + 1
        if span > x[2 + axis] + sum(padding[axis]):
            raise ArgumentError(f"max_pool2d_index: {out_hw} windows do not fit input {x} "
                                f"padded by {padding}")
    return (x[0], x[1], *out_hw)


def _window_positions(size: int, n: int, kernel: int, stride: int, pad: int,
                      dilation: int) -> np.ndarray:
    """(n, kernel): the input position each window element reads (may lie in the padding)."""
    return np.arange(n)[:, None] * stride + np.arange(kernel)[None, :] * dilation - pad


def _max_index_forward(x: np.ndarray, *, kernel: Pair, stride: Pair, padding: Padding,
                       dilation: Pair, out_hw: Pair) -> np.ndarray:
    """PyTorch's CPU rule: start at the window's first element inside the input, move to
    each later element that is greater or NaN (so the first maximum, or the last NaN).
    Integer inputs pad with their dtype's minimum instead of -inf."""
    if x.dtype.kind not in "fiu":
        raise ArgumentTypeError("max_pool2d_index: input must be floating point or integer, "
                                f"got dtype {x.dtype}")
    lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    padded = np.pad(x, ((0, 0), (0, 0), *padding), constant_values=lowest)
    win = windows(padded, kernel, stride, ((0, 0), (0, 0)), dilation, out_hw)
    flat = win.reshape(*win.shape[:4], kernel[0] * kernel[1])
    rows, cols = (_window_positions(x.shape[2 + k], out_hw[k], kernel[k], stride[k],
                                    padding[k][0], dilation[k]) for k in range(2))
    rows_in = (rows >= 0) & (rows < x.shape[2])
    cols_in = (cols >= 0) & (cols < x.shape[3])
    inside = (rows_in[:, None, :, None] & cols_in[None, :, None, :]).reshape(
        *out_hw, kernel[0] * kernel[1])
    best = np.argmax(flat, axis=-1)
    first_inside = np.argmax(inside, axis=-1)
    best = np.where(np.max(flat, axis=-1) == lowest, first_inside, best)
    nans = np.isnan(flat) if x.dtype.kind == "f" else np.zeros(flat.shape, dtype=bool)
    last_nan = flat.shape[-1] - 1 - np.argmax(nans[..., ::-1], axis=-1)
    best = np.where(nans.any(axis=-1), last_nan, best)
    a, b = np.divmod(best, kernel[1])
    i = np.arange(out_hw[0])[:, None]
    j = np.arange(out_hw[1])[None, :]
    return (rows[i, a] * x.shape[3] + cols[j, b]).astype(np.int64)


MAX_POOL2D_INDEX = register(Op(
    "max_pool2d_index", INDEX, 1, _max_index_forward, _max_index_shape, None,
    doc="flat index h*W + w of each window's maximum (first on ties), no gradient",
))


def max_pool2d_index(x: Tensor, *, kernel: Pair, stride: Pair, padding: Padding,
                     dilation: Pair, out_hw: Pair) -> Tensor:
    """Per window, the flat index of its maximum into the (H * W) plane of its channel."""
    return ops.apply(MAX_POOL2D_INDEX, x, kernel=kernel, stride=stride, padding=padding,
                     dilation=dilation, out_hw=out_hw)


@_takes_unbatched
def max_pool2d(input: Any, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """``torch.nn.functional.max_pool2d``: a gather of x at its windows' argmaxes."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    _check_input("max_pool2d", x, integers=True)
    kernel, stride, pad, dilation = _pool_args("max_pool2d", kernel_size, stride, padding,
                                               dilation)
    pads, out_hw = _pool_padding("max_pool2d", x.shape, kernel, stride, pad, dilation,
                                 bool(ceil_mode))
    index = max_pool2d_index(x, kernel=kernel, stride=stride, padding=pads,
                             dilation=dilation, out_hw=out_hw)
    n, c, h, w = x.shape
    flat = ops.gather(ops.reshape(x, (n, c, h * w)),
                      ops.reshape(index, (n, c, out_hw[0] * out_hw[1])), 2)
    out = ops.reshape(flat, (n, c, *out_hw))
    return (out, index) if return_indices else out


# ------------------------------------------------------------------- average pooling
def window_counts(size: int, n: int, kernel: int, stride: int, pad: int,
                   include_pad: bool) -> np.ndarray:
    """PyTorch's per-window divisor along one axis."""
    start = np.arange(n) * stride - pad
    end = np.minimum(start + kernel, size + pad)
    if include_pad:
        return (end - start).astype(np.float64)
    return (np.minimum(end, size) - np.maximum(start, 0)).astype(np.float64)


@_takes_unbatched
def avg_pool2d(input: Any, kernel_size: Any, stride: Any = None,  # noqa: A002
               padding: Any = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """``torch.nn.functional.avg_pool2d``: windows' sums (a depthwise conv2d with ones)
    divided by PyTorch's per-window count."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    _check_input("avg_pool2d", x)
    kernel, stride, pad, _ = _pool_args("avg_pool2d", kernel_size, stride, padding)
    pads, out_hw = _pool_padding("avg_pool2d", x.shape, kernel, stride, pad, (1, 1),
                                 bool(ceil_mode))
    channels = x.shape[1]
    ones = Tensor(np.ones((channels, 1, *kernel), dtype=x.dtype))
    sums = conv2d_primitive(x, ones, stride=stride, padding=pads, dilation=(1, 1),
                            groups=channels)
    if divisor_override is not None:
        if int(divisor_override) == 0:
            raise ArgumentError("avg_pool2d: divisor_override must not be zero")
        return ops.div(sums, float(divisor_override))
    rows, cols = (window_counts(x.shape[2 + k], out_hw[k], kernel[k], stride[k], pad[k],
                                 bool(count_include_pad)) for k in range(2))
    counts = np.outer(rows, cols).astype(x.dtype)
    return ops.mul(sums, Tensor(1.0 / counts))


def averaging_matrix(size: int, n: int, dtype: np.dtype) -> np.ndarray:
    """(n, size): row i averages [floor(i size / n), ceil((i + 1) size / n))."""
    matrix = np.zeros((n, size), dtype=np.float64)
    for i in range(n):
        start, end = (i * size) // n, -((-(i + 1) * size) // n)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix.astype(dtype)


@_takes_unbatched
def adaptive_avg_pool2d(input: Any, output_size: Any) -> Tensor:  # noqa: A002
    """``torch.nn.functional.adaptive_avg_pool2d``: A_h @ x @ A_w^T (constant matrices);
    None in ``output_size`` keeps that axis."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    _check_input("adaptive_avg_pool2d", x)
    sizes = (output_size, output_size) if not isinstance(output_size, tuple | list) else (
        tuple(output_size))
    if len(sizes) != 2:
        raise ArgumentError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got "
                            f"{output_size!r}")
    oh, ow = (x.shape[2 + k] if s is None else int(s) for k, s in enumerate(sizes))
    if oh < 1 or ow < 1:
        raise ArgumentError(f"adaptive_avg_pool2d: output size must be positive, got {sizes}")
    if x.shape[2] == 0 or x.shape[3] == 0:
        raise ArgumentError(f"adaptive_avg_pool2d: input has an empty plane, shape {x.shape}")
    rows = Tensor(averaging_matrix(x.shape[2], oh, x.dtype))
    cols = Tensor(averaging_matrix(x.shape[3], ow, x.dtype).T.copy())
    return ops.matmul(ops.matmul(rows, x), cols)


__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "max_pool2d", "max_pool2d_index",
           "out_size"]
