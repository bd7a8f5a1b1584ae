"""``torch.nn.functional.interpolate``, composed per spatial axis from indexing, products
and matmul, so gradients of every order, drawings and the JIT come from those rows.

Along one axis of input size n and output size m, with r the source-per-output ratio
(n / m, or 1 / scale_factor when a scale factor is given; (n - 1) / (m - 1) with
align_corners), output j reads:

* nearest:        x[min(floor(j r), n - 1)]
* nearest-exact:  x[min(floor((j + 1/2) r), n - 1)]
* linear:         (1 - l) x[i] + l x[i + 1] at the source s = max((j + 1/2) r - 1/2, 0)
                  (s = j r with align_corners), i = floor(s), l = s - i
  (bilinear and trilinear: linear along each axis in turn)
* bicubic:        sum_k w_k(t) x[clamp(i - 1 + k)], k = 0..3, at s = (j + 1/2) r - 1/2,
                  Keys' cubic convolution weights with A = -0.75, t = s - floor(s)
* area:           the mean of x over [floor(j n / m), ceil((j + 1) n / m)) (adaptive
                  average pooling)
* antialias (bilinear, bicubic): when shrinking (r > 1) the kernel is stretched r times,
                  sum_j k((j - c + 1/2) / r) x[j] / sum_j k(...) around c = r (i + 1/2)
                  (Pillow's; bicubic with A = -0.5), the last axis first

The positions and weights are constants of the shapes, computed as PyTorch's CPU kernels
compute them (float32 arithmetic for float32 and uint8 inputs), so the indices agree with
PyTorch's exactly and the weights to the last bit or two.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import ops
from .errors import ArgumentError, ArgumentTypeError
from .pool import averaging_matrix
from .tensor import Tensor

LINEAR_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
MODES = ("nearest", "nearest-exact", "area", *LINEAR_DIMS)
CUBIC_A = -0.75


# ------------------------------------------------------------------ arguments
def _spatial(value: Any, dims: int, name: str, input_shape: tuple) -> tuple | None:
    if value is None:
        return None
    values = tuple(value) if isinstance(value, tuple | list) else (value,) * dims
    if len(values) != dims:
        raise ArgumentError(f"interpolate: input {input_shape} has {dims} spatial dimensions, "
                            f"but {name} {value!r} has {len(values)} (give the input as (N, C, "
                            f"d1, ..., dK) and {name} as K values)")
    return values


def _sizes_and_scales(shape: tuple, size: Any, scale_factor: Any, mode: str,
                      recompute: bool | None) -> tuple[tuple[int, ...], tuple | None]:
    """Output sizes, and the scale factors the kernels use (None: they use n / m)."""
    dims = len(shape) - 2
    sizes = _spatial(size, dims, "size", shape)
    scales = _spatial(scale_factor, dims, "scale_factor", shape)
    if (sizes is None) == (scales is None):
        raise ArgumentError("interpolate: give exactly one of size and scale_factor, got "
                            f"size={size!r} and scale_factor={scale_factor!r}")
    if sizes is not None:
        if recompute is not None:
            raise ArgumentError("interpolate: recompute_scale_factor is not meaningful with an "
                                "explicit size")
        out = tuple(int(s) for s in sizes)
    else:
        if any(not float(s) > 0 for s in scales):
            raise ArgumentError(f"interpolate: scale_factor must be positive, got "
                                f"{scale_factor!r}")
        out = tuple(math.floor(float(n) * float(s)) for n, s in zip(shape[2:], scales,
                                                                     strict=True))
        if recompute or mode == "area":
            scales = None
    if min(out) < 1 or min(shape[2:]) < 1:
        raise ArgumentError(f"interpolate: input {shape} and output size {out} must be greater "
                            f"than 0 along every spatial dimension")
    return out, scales


def _check_mode(x: Tensor, mode: str, align_corners: bool | None, antialias: bool) -> None:
    if mode not in MODES:
        raise ArgumentError(f"interpolate: mode must be one of {', '.join(MODES)}, got {mode!r}")
    if align_corners is not None and mode not in LINEAR_DIMS:
        raise ArgumentError("interpolate: align_corners can only be set with the interpolating "
                            f"modes {', '.join(LINEAR_DIMS)}, got mode {mode!r}")
    if x.ndim not in (3, 4, 5):
        raise NotImplementedError(f"interpolate: needs a 3-D, 4-D or 5-D input (N, C, ...), "
                                  f"got shape {x.shape}")
    if mode in LINEAR_DIMS and x.ndim != LINEAR_DIMS[mode] + 2:
        raise NotImplementedError(f"interpolate: got a {x.ndim}-D input {x.shape}, but "
                                  f"{mode} mode needs a {LINEAR_DIMS[mode] + 2}-D input")
    if antialias and (mode not in ("bilinear", "bicubic") or x.ndim != 4):
        raise ArgumentError("interpolate: antialias is only for the bilinear and bicubic modes "
                            f"of a 4-D input, got mode {mode!r} and input {x.shape}")
    kinds = "f" if mode in ("area", "linear", "trilinear") else "fu"
    if x.dtype.kind not in kinds or (x.dtype.kind == "u" and x.dtype != np.uint8):
        allowed = "floating" if kinds == "f" else "floating or uint8"
        raise ArgumentTypeError(f"interpolate: mode {mode!r} needs a {allowed} input, got dtype "
                                f"{x.dtype} (as PyTorch)")


# ---------------------------------------------------------- per-axis positions
def _opmath(dtype: np.dtype) -> type:
    return np.float64 if dtype == np.float64 else np.float32


def _ratio(n: int, m: int, scale: Any, opmath: type) -> Any:
    """PyTorch's compute_scales_value: 1 / scale_factor if given, else n / m."""
    if scale is not None and float(scale) > 0:
        return opmath(1.0 / float(scale))
    return opmath(n) / opmath(m)


def nearest_sources(n: int, m: int, scale: Any, exact: bool, dtype: np.dtype,
                    vectorized: bool) -> np.ndarray:
    """The input position each output reads, as PyTorch's CPU kernels compute it: the
    ``vectorized`` one (4-D inputs with out_h + out_w <= 128) in float32 with shortcuts for
    m = n and m = 2 n, the generic one in the input's arithmetic type."""
    j = np.arange(m)
    if vectorized:
        ratio = _ratio(n, m, scale, np.float32)
        if exact:
            src = ((j + 0.5) * np.float64(ratio)).astype(np.float32)
        elif m in (n, 2 * n):
            return j if m == n else j >> 1
        else:
            src = j.astype(np.float32) * ratio
    else:
        opmath = _opmath(dtype)
        ratio = _ratio(n, m, scale, opmath)
        if exact:
            src = np.maximum(ratio * (j.astype(opmath) + opmath(0.5)) - opmath(0.5), opmath(0))
            src = (src + 0.5).astype(np.float32)
        else:
            src = (ratio * j.astype(opmath)).astype(np.float32)
    return np.minimum(np.floor(src).astype(np.int64), n - 1)


def _source_positions(n: int, m: int, scale: Any, align_corners: bool, cubic: bool,
                      opmath: type) -> np.ndarray:
    """PyTorch's area_pixel_compute_source_index, in its arithmetic type."""
    if align_corners:
        ratio = opmath((n - 1) / (m - 1)) if m > 1 else opmath(0)
        return ratio * np.arange(m).astype(opmath)
    ratio = _ratio(n, m, scale, opmath)
    src = ratio * (np.arange(m).astype(opmath) + opmath(0.5)) - opmath(0.5)
    return src if cubic else np.maximum(src, opmath(0))


def _guard(src: np.ndarray, n: int, opmath: type) -> tuple[np.ndarray, np.ndarray]:
    """(floor index at most n - 1, fraction clamped to [0, 1]); the floor is taken of the
    float32 value, as PyTorch's floorf."""
    index = np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), n - 1)
    return index, np.clip(src - index.astype(opmath), opmath(0), opmath(1))


def linear_taps(n: int, m: int, scale: Any, align_corners: bool,
                dtype: np.dtype) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(positions, weights)] for the two taps of linear interpolation along one axis."""
    opmath = _opmath(dtype)
    if m == n:
        return [(np.arange(m), np.ones(m, dtype=opmath))]
    index, frac = _guard(_source_positions(n, m, scale, align_corners, False, opmath), n,
                         opmath)
    upper = index + (index < n - 1)
    return [(index, opmath(1) - frac), (upper, frac)]


def _cubic_weights(t: np.ndarray, opmath: type) -> list[np.ndarray]:
    """Keys' cubic convolution weights of the taps at -1, 0, 1, 2 for fraction t."""
    a = opmath(CUBIC_A)

    def near(x: np.ndarray) -> np.ndarray:  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: np.ndarray) -> np.ndarray:  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    one = opmath(1)
    return [far(t + one), near(t), near(one - t), far(opmath(2) - t)]


def cubic_taps(n: int, m: int, scale: Any, align_corners: bool,
               dtype: np.dtype) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(positions, weights)] for the four taps of bicubic interpolation along one axis."""
    opmath = _opmath(dtype)
    index, frac = _guard(_source_positions(n, m, scale, align_corners, True, opmath), n,
                         opmath)
    weights = _cubic_weights(frac, opmath)
    return [(np.clip(index - 1 + k, 0, n - 1), weights[k]) for k in range(4)]


# ------------------------------------------- antialias and uint8 (PyTorch's separable kernels)
def _filter(x: float, cubic: bool, a: float = CUBIC_A) -> float:
    """The triangle (linear) or Keys cubic kernel at x (A = -0.75; -0.5 with antialias)."""
    x = abs(x)
    if not cubic:
        return 1.0 - x if x < 1.0 else 0.0
    if x < 1.0:
        return ((a + 2) * x - (a + 3)) * x * x + 1
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a if x < 2.0 else 0.0


def _plain_weights(n: int, m: int, scale: Any, align_corners: bool,
                   cubic: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """PyTorch's uint8 (no antialias) weights in float64: the 2 or 4 taps around the source
    position, those falling outside the input added to the nearest inside one. (starts,
    counts, weights (m, taps), the largest weight met)."""
    size = 4 if cubic else 2
    support = size // 2
    index, frac = _guard(_source_positions(n, m, scale, align_corners, cubic, np.float64), n,
                         np.float64)
    starts, counts = np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.int64)
    weights = np.zeros((m, size))
    largest = 0.0
    for i in range(m):
        low = int(index[i]) - support + 1
        starts[i] = max(low, 0)
        counts[i] = min(max(min(low + size, n) - starts[i], 0), size)
        slot = 0
        for k in range(size):
            if low + k <= 0:
                slot = 0
            elif low + k >= n - 1:
                slot = counts[i] - 1
            weights[i, slot] += _filter(k + 1 - support - float(frac[i]), cubic)
            largest = max(largest, weights[i, slot])
            slot += 1
    return starts, counts, weights, largest


def _antialias_weights(n: int, m: int, scale: Any, align_corners: bool, cubic: bool,
                       opmath: type) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """PyTorch's antialiased weights (Pillow's): when shrinking by r >= 1 the kernel is
    stretched r times, w_j = k((j + start - c + 1/2) / r) around c = r (i + 1/2), normalised
    to sum 1. (starts, counts, weights (m, taps), the largest weight)."""
    ratio = float(_area_ratio(n, m, scale, align_corners, opmath))
    support = (2.0 if cubic else 1.0) * max(ratio, 1.0)
    taps = math.ceil(support) * 2 + 1
    inverse = 1.0 / ratio if ratio >= 1.0 else 1.0
    starts, counts = np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.int64)
    weights = np.zeros((m, taps))
    for i in range(m):
        center = ratio * (i + 0.5)
        starts[i] = max(int(center - support + 0.5), 0)
        counts[i] = min(max(min(int(center + support + 0.5), n) - starts[i], 0), taps)
        row = [_filter((j + starts[i] - center + 0.5) * inverse, cubic, -0.5)
               for j in range(counts[i])]
        total = sum(row)
        weights[i, :counts[i]] = np.array(row) / total if total != 0 else row
    return starts, counts, weights.astype(opmath), float(weights.max(initial=0.0))


def _area_ratio(n: int, m: int, scale: Any, align_corners: bool, opmath: type) -> Any:
    """PyTorch's area_pixel_compute_scale."""
    if align_corners:
        return opmath((n - 1) / (m - 1)) if m > 1 else opmath(0)
    return _ratio(n, m, scale, opmath)


def _weights(n: int, m: int, scale: Any, align_corners: bool, cubic: bool, antialias: bool,
             opmath: type) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    if antialias:
        return _antialias_weights(n, m, scale, align_corners, cubic, opmath)
    return _plain_weights(n, m, scale, align_corners, cubic)


def uint8_taps(n: int, m: int, scale: Any, align_corners: bool, cubic: bool,
               antialias: bool = False) -> tuple[np.ndarray, np.ndarray, int]:
    """PyTorch's uint8 weights along one axis: (positions (m, taps), int16 weights (m, taps),
    precision bits): the float64 weights scaled by 2^precision, the precision as large as
    keeps the largest weight below 2^15 (at most 22)."""
    starts, _, weights, largest = _weights(n, m, scale, align_corners, cubic, antialias,
                                           np.float64)
    precision = 0
    while precision < 22 and int(0.5 + largest * (1 << (precision + 1))) < (1 << 15):
        precision += 1
    scaled = weights * (1 << precision)
    fixed = np.where(scaled < 0, np.trunc(scaled - 0.5), np.trunc(scaled + 0.5))
    positions = np.minimum(starts[:, None] + np.arange(weights.shape[1])[None, :], n - 1)
    return positions, fixed.astype(np.int32), precision


def _antialias_pass(x: Tensor, axis: int, m: int, scale: Any, align_corners: bool,
                    cubic: bool, antialias: bool = True) -> Tensor:
    """One axis of PyTorch's antialiased float resampling: sum_j w_j x[start + j] over each
    output's own taps (the others masked out, so an inf elsewhere does not leak)."""
    n, opmath = x.shape[axis], _opmath(x.dtype)
    starts, counts, weights, _ = _antialias_weights(n, m, scale, align_corners, cubic, opmath)
    trailing = (1,) * (x.ndim - 1 - axis)
    out = None
    for k in range(weights.shape[1]):
        used = counts > k
        if not used.any():
            break
        part = ops.mul(_take(x, axis, np.minimum(starts + k, n - 1)),
                       Tensor(weights[:, k].astype(x.dtype).reshape(-1, *trailing)))
        if not used.all():
            part = ops.where(Tensor(used.reshape(-1, *trailing)), part,
                             Tensor(np.zeros((), dtype=x.dtype)))
        out = part if out is None else ops.add(out, part)
    return out


def _uint8_pass(x: Tensor, axis: int, m: int, scale: Any, align_corners: bool,
                cubic: bool, antialias: bool = False) -> Tensor:
    """One axis of PyTorch's uint8 resampling: sum_k x[p_k] w_k in int32, + 2^(b-1),
    shifted right by b bits, clamped to [0, 255]."""
    positions, weights, bits = uint8_taps(x.shape[axis], m, scale, align_corners, cubic,
                                          antialias)
    trailing = (1,) * (x.ndim - 1 - axis)
    wide = ops.cast(x, np.dtype(np.int32))
    total = Tensor(np.array(1 << (bits - 1), dtype=np.int32))
    for k in range(positions.shape[1]):
        tap = ops.mul(_take(wide, axis, positions[:, k]),
                      Tensor(weights[:, k].reshape(-1, *trailing)))
        total = ops.add(total, tap)
    shifted = ops.bitwise_right_shift(total, Tensor(np.array(bits, dtype=np.int32)))
    return ops.cast(ops.clamp(shifted, 0, 255), np.dtype(np.uint8))


def _separable(x: Tensor, sizes: tuple, scales: tuple | None,
               one_axis: Callable[..., Tensor], *args: bool) -> Tensor:
    """PyTorch's separable order: the last axis first, then the others backwards, each pass
    stored in the input's dtype; axes keeping their size are skipped."""
    out = x
    for k in reversed(range(len(sizes))):
        if sizes[k] != x.shape[2 + k]:
            out = one_axis(out, 2 + k, sizes[k], None if scales is None else scales[k], *args)
    return out


# --------------------------------------------------------------- composition
def _take(x: Tensor, axis: int, positions: np.ndarray) -> Tensor:
    return ops.index(x, (slice(None),) * axis + (positions,))


def _weighted(x: Tensor, axis: int, taps: list[tuple[np.ndarray, np.ndarray]]) -> Tensor:
    """sum_k w_k * x[positions_k] along ``axis`` (weights broadcast along it)."""
    trailing = (1,) * (x.ndim - 1 - axis)
    out = None
    for positions, weights in taps:
        part = _take(x, axis, positions)
        if not np.all(weights == 1):
            part = ops.mul(part, Tensor(weights.astype(x.dtype).reshape(-1, *trailing)))
        out = part if out is None else ops.add(out, part)
    return out


def area_along(x: Tensor, axis: int, m: int) -> Tensor:
    """Adaptive average pooling along ``axis`` to ``m``: a matmul with a constant matrix."""
    matrix = Tensor(averaging_matrix(x.shape[axis], m, x.dtype).T.copy())
    moved = ops.transpose(x, [*(k for k in range(x.ndim) if k != axis), axis])
    pooled = ops.matmul(moved, matrix)
    back = list(range(x.ndim - 1))
    back.insert(axis, x.ndim - 1)
    return ops.transpose(pooled, back)


def _plain_pass(x: Tensor, axis: int, m: int, scale: Any, mode: str, corners: bool,
                vectorized: bool) -> Tensor:
    """One axis of the float (and uint8 nearest) modes, resized from n to m."""
    n = x.shape[axis]
    if mode in ("nearest", "nearest-exact"):
        return _take(x, axis, nearest_sources(n, m, scale, mode == "nearest-exact", x.dtype,
                                              vectorized))
    if mode == "area":
        return x if m == n else area_along(x, axis, m)
    taps = cubic_taps if mode == "bicubic" else linear_taps
    return _weighted(x, axis, taps(n, m, scale, corners, x.dtype))


def interpolate(input: Any, size: Any = None, scale_factor: Any = None,  # noqa: A002
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """``torch.nn.functional.interpolate`` of (N, C, L), (N, C, H, W) or (N, C, D, H, W):
    resize the spatial axes to ``size`` or by ``scale_factor`` (see the module docstring
    for each mode's formula). float inputs; uint8 too for nearest, nearest-exact, bilinear
    and bicubic (PyTorch's rule; those two in PyTorch's fixed point arithmetic).
    ``antialias`` for bilinear and bicubic of 4-D inputs, as PyTorch."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    _check_mode(x, mode, align_corners, bool(antialias))
    sizes, scales = _sizes_and_scales(x.shape, size, scale_factor, mode,
                                      recompute_scale_factor)
    corners, cubic, antialias = bool(align_corners), mode == "bicubic", bool(antialias)
    if mode in LINEAR_DIMS and (x.dtype == np.uint8 or antialias):
        one_axis = _uint8_pass if x.dtype == np.uint8 else _antialias_pass
        return _separable(x, sizes, scales, one_axis, corners, cubic, antialias)
    vectorized = x.ndim == 4 and sum(sizes) <= 128  # PyTorch's nearest kernel choice
    out = x
    for k, m in enumerate(sizes):
        out = _plain_pass(out, 2 + k, m, None if scales is None else scales[k], mode,
                          corners, vectorized)
    return out


def upsample(input: Any, size: Any = None, scale_factor: Any = None,  # noqa: A002
             mode: str = "nearest", align_corners: bool | None = None) -> Tensor:
    """``torch.nn.functional.upsample`` (deprecated in PyTorch): interpolate."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Any, size: Any = None,  # noqa: A002
                     scale_factor: Any = None) -> Tensor:
    """``torch.nn.functional.upsample_nearest`` (deprecated in PyTorch): nearest."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Any, size: Any = None,  # noqa: A002
                      scale_factor: Any = None) -> Tensor:
    """``torch.nn.functional.upsample_bilinear`` (deprecated): bilinear, corners aligned."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


__all__ = ["area_along", "interpolate", "upsample", "upsample_bilinear", "upsample_nearest"]
