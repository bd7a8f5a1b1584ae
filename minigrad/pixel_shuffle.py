"""``pixel_shuffle`` / ``pixel_unshuffle``: channels to space and back, a reshape, a
transpose and a reshape (so gradients, drawings and the JIT come from those rows):

    pixel_shuffle(x, r)[..., c, h r + i, w r + j] = x[..., c r^2 + i r + j, h, w]

and pixel_unshuffle is its inverse.
"""

from __future__ import annotations

from typing import Any

from . import ops
from .errors import ArgumentError
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


__all__ = ["pixel_shuffle", "pixel_unshuffle"]
