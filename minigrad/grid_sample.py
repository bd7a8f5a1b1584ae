"""``grid_sample`` and ``affine_grid`` (spatial transformers), composed from elementwise
ops, gather and matmul, so gradients for the input and the grid (any order), drawings and
the JIT come from those rows.

grid_sample reads x at the points of ``grid`` (last axis (x, y[, z]) in [-1, 1]). Each
coordinate g of an axis of size n goes to the pixel coordinate

    s = (g + 1) / 2 (n - 1)        (align_corners)
    s = ((g + 1) n - 1) / 2        (otherwise: -1 and 1 are the outer pixel edges)

then padding_mode 'border' clips s to [0, n - 1]; 'reflection' reflects it about the
edges (or the pixel centres with align_corners) and clips. 'bilinear' (trilinear for 5-D)
adds the 2^d neighbours floor(s), floor(s) + 1 weighted by 1 - |s - corner| per axis;
'nearest' reads round(s) (half to even); 'bicubic' (4-D) adds the 4 x 4 taps around s with
Keys' weights (A = -0.75), padding each tap's coordinate. Points outside read zeros.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from . import ops
from .errors import ArgumentError, ArgumentTypeError
from .tensor import Tensor

PADDING_MODES = ("zeros", "border", "reflection")
CUBIC_A = -0.75


def _as(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(value)


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """coord reflected into [twice_low / 2, twice_high / 2] (PyTorch's reflect_coordinates)."""
    if twice_low == twice_high:
        return ops.mul(coord, 0)
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    distance = ops.abs(ops.sub(coord, low))
    extra = ops.fmod(distance, span)
    even = ops.equal(ops.remainder(ops.floor(ops.div(distance, span)), 2), 0)
    return ops.where(even, ops.add(extra, low), ops.add(ops.sub(span, extra), low))


def _unnormalise(coord: Tensor, size: int, align_corners: bool) -> Tensor:
    """A coordinate in [-1, 1] as a pixel coordinate."""
    if align_corners:
        return ops.mul(ops.add(coord, 1), (size - 1) / 2)
    return ops.div(ops.sub(ops.mul(ops.add(coord, 1), size), 1), 2)


def _padded(pixel: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    """A pixel coordinate moved inside as ``padding_mode`` says (reflected, then clipped;
    'zeros' leaves it, the read gives zero outside)."""
    if padding_mode == "reflection":
        pixel = (_reflect(pixel, 0, 2 * (size - 1)) if align_corners
                 else _reflect(pixel, -1, 2 * size - 1))
    if padding_mode != "zeros":
        pixel = ops.clamp(pixel, 0, size - 1)
    return pixel


def _cubic(t: Tensor) -> list[Tensor]:
    """Keys' cubic convolution weights (A = -0.75) of the taps at -1, 0, 1, 2 for t."""
    a = CUBIC_A

    def near(x: Tensor) -> Tensor:  # |x| <= 1
        return ops.add(ops.mul(ops.mul(ops.sub(ops.mul(x, a + 2), a + 3), x), x), 1)

    def far(x: Tensor) -> Tensor:  # 1 < |x| < 2
        inner = ops.add(ops.mul(ops.sub(ops.mul(x, a), 5 * a), x), 8 * a)
        return ops.sub(ops.mul(inner, x), 4 * a)

    return [far(ops.add(t, 1)), near(t), near(ops.sub(1, t)), far(ops.sub(2, t))]


def _bicubic(flat: Tensor, pixels: list[Tensor], sizes: tuple[int, ...], padding_mode: str,
             align_corners: bool) -> Tensor:
    """sum over the 4 x 4 taps around each point of w_x w_y x[tap], each tap's coordinate
    padded on its own (PyTorch's get_value_bounded)."""
    lows = [ops.floor(p) for p in pixels]
    weights = [_cubic(ops.sub(p, low)) for p, low in zip(pixels, lows, strict=True)]
    out = None
    for taps in itertools.product(range(4), repeat=2):
        corner = [_padded(ops.add(low, k - 1), size, padding_mode, align_corners)
                  for low, k, size in zip(lows, taps, sizes, strict=True)]
        weight = ops.mul(weights[0][taps[0]], weights[1][taps[1]])
        shape = (weight.shape[0], 1, *weight.shape[1:])
        term = ops.mul(_read(flat, corner, sizes), ops.reshape(weight, shape))
        out = term if out is None else ops.add(out, term)
    return out


def _read(flat: Tensor, corner: list[Tensor], sizes: tuple[int, ...]) -> Tensor:
    """x at integer-valued coordinates (one tensor per spatial axis, shaped like the output
    points), zero where any lies outside the input."""
    n, c = flat.shape[:2]
    points = corner[0].shape[1:]
    inside, index = None, None
    for axis, (coord, size) in enumerate(zip(corner, sizes, strict=True)):
        within = ops.logical_and(ops.greater_equal(coord, 0), ops.less_equal(coord, size - 1))
        inside = within if inside is None else ops.logical_and(inside, within)
        stride = math.prod(sizes[axis + 1:])
        part = ops.mul(ops.cast(ops.clamp(coord, 0, size - 1), np.dtype(np.int64)), stride)
        index = part if index is None else ops.add(index, part)
    count = math.prod(points)
    index = ops.broadcast_to(ops.reshape(index, (n, 1, count)), (n, c, count))
    values = ops.reshape(ops.gather(flat, index, 2), (n, c, *points))
    zero = Tensor(np.zeros((), dtype=flat.dtype))
    return ops.where(ops.reshape(inside, (n, 1, *points)), values, zero)


def _check(x: Tensor, grid: Tensor, mode: str, padding_mode: str) -> None:
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ArgumentError(f"grid_sample: mode must be 'bilinear', 'nearest' or 'bicubic', "
                            f"got {mode!r}")
    if padding_mode not in PADDING_MODES:
        raise ArgumentError(f"grid_sample: padding_mode must be one of {PADDING_MODES}, got "
                            f"{padding_mode!r}")
    if x.ndim not in (4, 5) or grid.ndim != x.ndim or grid.shape[-1] != x.ndim - 2 \
            or grid.shape[0] != x.shape[0]:
        raise ArgumentError(f"grid_sample: needs an input (N, C, H, W) with a grid (N, H', W', "
                            f"2), or (N, C, D, H, W) with (N, D', H', W', 3), got input "
                            f"{x.shape} and grid {grid.shape}")
    if mode == "bicubic" and x.ndim != 4:
        raise ArgumentError(f"grid_sample: bicubic needs a 4-D input, got {x.shape}")
    if x.dtype.kind != "f" or grid.dtype != x.dtype:
        raise ArgumentTypeError(f"grid_sample: input and grid must share one floating dtype, "
                                f"got {x.dtype} and {grid.dtype}")


def grid_sample(input: Any, grid: Any, mode: str = "bilinear",  # noqa: A002
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """``torch.nn.functional.grid_sample`` of (N, C, H, W) at grid (N, H', W', 2), or of
    (N, C, D, H, W) at (N, D', H', W', 3): bilinear (trilinear) or nearest, padding
    zeros, border or reflection (see the module docstring)."""
    x, grid = _as(input), _as(grid)
    _check(x, grid, mode, padding_mode)
    sizes = x.shape[2:]
    dims = len(sizes)
    corners = bool(align_corners)
    pixels = [_unnormalise(ops.index(grid, (Ellipsis, dims - 1 - axis)), size, corners)
              for axis, size in enumerate(sizes)]
    flat = ops.reshape(x, (x.shape[0], x.shape[1], math.prod(sizes)))
    if mode == "bicubic":
        return _bicubic(flat, pixels, sizes, padding_mode, corners)
    pixels = [_padded(p, size, padding_mode, corners) for p, size in zip(pixels, sizes,
                                                                         strict=True)]
    if mode == "nearest":
        return _read(flat, [ops.round(p) for p in pixels], sizes)
    lows = [ops.floor(p) for p in pixels]
    out = None
    for upper in itertools.product((False, True), repeat=dims):
        corner, weight = [], None
        for low, pixel, up in zip(lows, pixels, upper, strict=True):
            fraction = ops.sub(pixel, low)  # the weight of the upper neighbour
            corner.append(ops.add(low, 1) if up else low)
            share = fraction if up else ops.sub(1, fraction)
            weight = share if weight is None else ops.mul(weight, share)
        shape = (weight.shape[0], 1, *weight.shape[1:])
        term = ops.mul(_read(flat, corner, sizes), ops.reshape(weight, shape))
        out = term if out is None else ops.add(out, term)
    return out


def _normalised_axis(steps: int, align_corners: bool) -> np.ndarray:
    """linspace(-1, 1, steps), shrunk by (steps - 1) / steps without align_corners."""
    if steps <= 1:
        return np.zeros(max(steps, 0))
    axis = np.linspace(-1.0, 1.0, steps)
    return axis if align_corners else axis * (steps - 1) / steps


def affine_grid(theta: Any, size: Any, align_corners: bool | None = None) -> Tensor:
    """``torch.nn.functional.affine_grid``: for size (N, C, H, W) and theta (N, 2, 3), the
    points theta @ (x, y, 1) over the normalised output pixel centres, (N, H, W, 2); for
    (N, C, D, H, W) and theta (N, 3, 4), (N, D, H, W, 3)."""
    theta = _as(theta)
    size = tuple(int(s) for s in size)
    dims = len(size) - 2
    if dims not in (2, 3) or theta.shape != (size[0], dims, dims + 1):
        raise ArgumentError(f"affine_grid: needs theta (N, 2, 3) for size (N, C, H, W) or "
                            f"(N, 3, 4) for (N, C, D, H, W), got theta {theta.shape} and "
                            f"size {size}")
    if theta.dtype.kind != "f":
        raise ArgumentTypeError(f"affine_grid: theta must be floating point, got dtype "
                                f"{theta.dtype}")
    axes = [_normalised_axis(n, bool(align_corners)) for n in reversed(size[2:])]  # x, y, z
    mesh = np.meshgrid(*reversed(axes), indexing="ij")  # over (D,) H, W
    base = np.stack([*reversed(mesh), np.ones_like(mesh[0])], axis=-1)
    base = Tensor(base.reshape(1, -1, dims + 1).astype(theta.dtype))
    points = ops.matmul(base, ops.transpose(theta, (0, 2, 1)))
    return ops.reshape(points, (size[0], *size[2:], dims))


__all__ = ["affine_grid", "grid_sample"]
