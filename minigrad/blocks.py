"""Rearrangements between channels and space, composed from movement and indexing rows
(so gradients, drawings and the JIT come from those rows):

* ``pixel_shuffle`` / ``pixel_unshuffle``: a reshape, a transpose and a reshape,

      pixel_shuffle(x, r)[..., c, h r + i, w r + j] = x[..., c r^2 + i r + j, h, w]

  and pixel_unshuffle its inverse.
* ``unfold`` (im2col): every sliding block of the zero-padded input as a column,

      unfold(x)[n, (c, a, b), (i, j)] = xpad[n, c, s_h i + d_h a, s_w j + d_w b]

  one index node at two index arrays; ``fold`` (col2im) is its adjoint, an index_add of
  the columns into zeros (overlaps add up) with the padding cropped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import ops
from .conv_nd import ntuple
from .errors import ArgumentError
from .shape_ops import pad
from .tensor import Tensor


def _checked(op: str, input: Any, factor: Any) -> tuple[Tensor, int]:  # noqa: A002
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim < 3:
        raise ArgumentError(f"{op} expects an input of at least 3 dimensions (*, C, H, W), "
                            f"got shape {x.shape}")
    if int(factor) < 1:
        raise ArgumentError(f"{op} expects a positive factor, got {factor!r}")
    return x, int(factor)


def pixel_shuffle(input: Any, upscale_factor: int) -> Tensor:  # noqa: A002
    """``torch.nn.functional.pixel_shuffle``: (*, C r^2, H, W) to (*, C, H r, W r)."""
    x, r = _checked("pixel_shuffle", input, upscale_factor)
    *lead, channels, h, w = x.shape
    if channels % (r * r):
        raise ArgumentError(f"pixel_shuffle expects the channel dimension to be divisible by "
                            f"upscale_factor^2 = {r * r}, got {channels} (input {x.shape})")
    k = len(lead)
    parts = ops.reshape(x, (*lead, channels // (r * r), r, r, h, w))
    order = (*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return ops.reshape(ops.transpose(parts, order), (*lead, channels // (r * r), h * r, w * r))


def pixel_unshuffle(input: Any, downscale_factor: int) -> Tensor:  # noqa: A002
    """``torch.nn.functional.pixel_unshuffle``: (*, C, H r, W r) to (*, C r^2, H, W)."""
    x, r = _checked("pixel_unshuffle", input, downscale_factor)
    *lead, channels, h, w = x.shape
    if h % r or w % r:
        raise ArgumentError(f"pixel_unshuffle expects height and width divisible by "
                            f"downscale_factor {r}, got input {x.shape}")
    k = len(lead)
    parts = ops.reshape(x, (*lead, channels, h // r, r, w // r, r))
    order = (*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return ops.reshape(ops.transpose(parts, order), (*lead, channels * r * r, h // r, w // r))


# -------------------------------------------------------------- im2col / col2im
def _block_args(op: str, kernel_size: Any, dilation: Any, padding: Any,
                stride: Any) -> tuple[tuple[int, int], ...]:
    return (ntuple(kernel_size, 2, "kernel_size", op), ntuple(dilation, 2, "dilation", op),
            ntuple(padding, 2, "padding", op, minimum=0), ntuple(stride, 2, "stride", op))


def _blocks(op: str, size: tuple, kernel: tuple, dilation: tuple, padding: tuple,
            stride: tuple) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """The padded rows (kh, 1, OH, 1) and columns (1, kw, 1, OW) each block reads, and the
    block counts (OH, OW); an error naming the sizes when there is no block."""
    counts = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, d, p, s in
                   zip(size, kernel, dilation, padding, stride, strict=True))
    if min(counts) < 1:
        raise ArgumentError(f"{op}: spatial size {tuple(size)} with kernel_size {kernel}, "
                            f"dilation {dilation}, padding {padding} and stride {stride} "
                            f"gives {counts} sliding blocks, which is too small")
    rows = np.arange(kernel[0])[:, None] * dilation[0] + np.arange(counts[0]) * stride[0]
    cols = np.arange(kernel[1])[:, None] * dilation[1] + np.arange(counts[1]) * stride[1]
    return rows[:, None, :, None], cols[None, :, None, :], counts


def unfold(input: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,  # noqa: A002
           stride: Any = 1) -> Tensor:
    """``torch.nn.functional.unfold``: (N, C, H, W) (or (C, H, W)) to (N, C kh kw, L), the
    blocks' elements as columns (see the module docstring)."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim not in (3, 4):
        raise ArgumentError(f"unfold: needs an input (N, C, H, W) or (C, H, W), got shape "
                            f"{x.shape}")
    batched = x if x.ndim == 4 else ops.reshape(x, (1, *x.shape))
    kernel, dilation, padding, stride = _block_args("unfold", kernel_size, dilation, padding,
                                                    stride)
    rows, cols, counts = _blocks("unfold", batched.shape[2:], kernel, dilation, padding,
                                 stride)
    if padding != (0, 0):
        batched = pad(batched, (padding[1], padding[1], padding[0], padding[0]))
    n, c = batched.shape[:2]
    picked = ops.index(batched, (slice(None), slice(None), rows, cols))  # (N, C, kh, kw, ...)
    out = ops.reshape(picked, (n, c * kernel[0] * kernel[1], counts[0] * counts[1]))
    return out if x.ndim == 4 else ops.reshape(out, out.shape[1:])


def fold(input: Any, output_size: Any, kernel_size: Any, dilation: Any = 1,  # noqa: A002
         padding: Any = 0, stride: Any = 1) -> Tensor:
    """``torch.nn.functional.fold``: (N, C kh kw, L) (or unbatched) to (N, C, H, W), each
    column added back where unfold took it from (overlapping blocks add up)."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim not in (2, 3):
        raise ArgumentError(f"fold: needs an input (N, C * kh * kw, L) or (C * kh * kw, L), "
                            f"got shape {x.shape}")
    batched = x if x.ndim == 3 else ops.reshape(x, (1, *x.shape))
    size = ntuple(output_size, 2, "output_size", "fold")
    kernel, dilation, padding, stride = _block_args("fold", kernel_size, dilation, padding,
                                                    stride)
    rows, cols, counts = _blocks("fold", size, kernel, dilation, padding, stride)
    n, columns, blocks = batched.shape
    per_block = kernel[0] * kernel[1]
    if columns % per_block or blocks != counts[0] * counts[1]:
        raise ArgumentError(f"fold: input {x.shape} must have a multiple of kh * kw = "
                            f"{per_block} rows and {counts[0] * counts[1]} blocks {counts} "
                            f"for output_size {size}, kernel_size {kernel}, dilation "
                            f"{dilation}, padding {padding} and stride {stride}")
    c = columns // per_block
    parts = ops.reshape(batched, (n, c, *kernel, *counts))
    padded = (n, c, size[0] + 2 * padding[0], size[1] + 2 * padding[1])
    placed = ops.index_add(parts, (slice(None), slice(None), rows, cols), padded)
    out = ops.index(placed, (slice(None), slice(None), slice(padding[0], padding[0] + size[0]),
                             slice(padding[1], padding[1] + size[1])))
    return out if x.ndim == 3 else ops.reshape(out, out.shape[1:])


__all__ = ["fold", "pixel_shuffle", "pixel_unshuffle", "unfold"]
