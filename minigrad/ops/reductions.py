"""Reduction rows (sum, mean, max over axes) and the accumulation helpers they share."""

from __future__ import annotations

import builtins
import math
import warnings
from typing import Any

import numpy as np

from ..errors import ArgumentError
from ..tensor import Axis, Tensor
from .compare import equal
from .core import _as_input, _reduced_shape, normalize_axes
from .elementwise import cast, div, mul, power, sub
from .rows import reduction


def _expand_reduced(grad: Tensor, in_shape: tuple[int, ...], axes: tuple[int, ...],
                    keepdims: bool) -> Tensor:
    """Reshape a reduced gradient so it broadcasts against the unreduced input."""
    leading = axes == tuple(range(len(axes)))
    if not keepdims and not leading:
        grad = reshape(grad, _reduced_shape(in_shape, axes, True))
    return grad


def _sum_vjp(g: Tensor, out: Tensor, x: Tensor, *, axes: tuple, keepdims: bool) -> tuple:
    return (broadcast_to(_expand_reduced(g, x.shape, axes, keepdims), x.shape),)


def accumulator(dtype: np.dtype) -> np.dtype | None:
    """Reductions of float16/float32 accumulate in float64 (accurate at large offsets)."""
    return np.dtype(np.float64) if dtype.kind == "f" and dtype.itemsize < 8 else None


# From this size on (where numpy's float64 sum costs >= ~60 us) ``wide_sum`` uses the
# compiled kernel; smaller eager work never imports Numba.
WIDE_SUM_MIN_ELEMENTS = 1 << 18


def wide_sum(x: np.ndarray, axes: tuple, keepdims: bool) -> np.ndarray:
    """np.add.reduce(x, axes, dtype=float64, keepdims) of a float16/float32 array. Over the
    leading axes of a large C-contiguous float32 array with at least 16 columns the
    compiled kernel of ``_wide_sum`` does it: bitwise the same sums (numpy's row order),
    6x faster than numpy's buffered casting."""
    lead = len(axes)
    if (x.size >= WIDE_SUM_MIN_ELEMENTS and x.dtype == np.float32 and 0 < lead < x.ndim
            and tuple(axes) == tuple(range(lead)) and x.flags.c_contiguous
            and math.prod(x.shape[lead:]) >= 16):  # one column numpy sums pairwise
        from .._wide_sum import sum_rows

        total = np.zeros(math.prod(x.shape[lead:]))
        sum_rows(x.reshape(-1, total.size), total)
        return total.reshape(((1,) * lead if keepdims else ()) + x.shape[lead:])
    return np.add.reduce(x, axis=axes, dtype=np.float64, keepdims=keepdims)


def reduce_mean(x: np.ndarray, axes: tuple, keepdims: bool = True) -> np.ndarray:
    """np.mean with float64 accumulation for low-precision floats, in x's dtype.

    For floats: sum(x) / N with the sum in the accumulator dtype, the same arithmetic as
    ``np.mean(x, dtype=...)`` without its Python wrapper.
    """
    if x.dtype.kind != "f":
        return np.mean(x, axis=axes, keepdims=keepdims)
    acc = accumulator(x.dtype)
    total = (np.add.reduce(x, axis=axes, keepdims=keepdims) if acc is None
             else wide_sum(x, axes, keepdims))
    average = total / _count(x.shape, axes)
    return average if acc is None else average.astype(x.dtype)


def _sum_forward(x: np.ndarray, *, axes: tuple, keepdims: bool) -> np.ndarray:
    if accumulator(x.dtype) is None:
        return np.add.reduce(x, axis=axes, keepdims=keepdims)
    return wide_sum(x, axes, keepdims).astype(x.dtype)


SUM, sum = reduction(  # noqa: A001
    "sum", _sum_forward, _sum_vjp, "broadcast({g})",
    doc="sum over axes (float64 accumulation for float32)", jit_lowering="lower_reduction",
    function_doc="Sum over ``axis`` (int, tuple, or None for all).",
)


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    """The number of elements a reduction over ``axes`` combines."""
    return math.prod([shape[a] for a in axes])


def _mean_vjp(g: Tensor, out: Tensor, x: Tensor, *, axes: tuple, keepdims: bool) -> tuple:
    scaled = mul(g, 1.0 / builtins.max(_count(x.shape, axes), 1))  # 0 elements: g is empty
    return (broadcast_to(_expand_reduced(scaled, x.shape, axes, keepdims), x.shape),)


def _mean_forward(x: np.ndarray, *, axes: tuple, keepdims: bool) -> np.ndarray:
    if _count(x.shape, axes) == 0 and math.prod(_reduced_shape(x.shape, axes, keepdims)):
        # an empty result is fine (nothing averaged); a 0/0 is refused, not a silent NaN
        raise ArgumentError(f"mean: cannot average over empty axes {axes} of shape {x.shape}")
    return reduce_mean(x, axes, keepdims)


MEAN, mean = reduction(
    "mean", _mean_forward, _mean_vjp, "broadcast({g} / N)", doc="mean over axes: sum / N",
    jit_lowering="lower_reduction",
    function_doc="Arithmetic mean over ``axis``: sum(x) / N.",
)


def _max_vjp(g: Tensor, out: Tensor, x: Tensor, *, axes: tuple, keepdims: bool) -> tuple:
    peak = _expand_reduced(out, x.shape, axes, keepdims)
    mask = cast(equal(x, peak), g.dtype)
    ties = sum(mask, axes, keepdims=True)
    share = div(_expand_reduced(g, x.shape, axes, keepdims), ties)
    return (mul(mask, share),)


def _max_forward(x: np.ndarray, *, axes: tuple, keepdims: bool) -> np.ndarray:
    if _count(x.shape, axes) == 0:
        raise ArgumentError(f"max: cannot take the max over empty axes {axes} of shape {x.shape}")
    return np.max(x, axis=axes, keepdims=keepdims)


MAX, max = reduction(  # noqa: A001
    "max", _max_forward, _max_vjp, "[{0} == {out}] * {g} / #ties", doc="max over axes",
    jit_lowering="lower_reduction",
    function_doc="Maximum over ``axis``; the gradient is shared equally among tied maxima.",
)


def var(x: Any, axis: Axis = None, keepdims: bool = False, correction: int = 0) -> Tensor:
    """Variance by two passes: sum((x - mean(x))**2) / max(0, N - correction).

    Two passes (as the seed computes it) stay accurate at a large mean offset, where
    E[x^2] - E[x]^2 cancels catastrophically in float32. With correction >= N there are no
    degrees of freedom left: as in PyTorch the divisor is 0 (inf, or NaN for equal values)
    and a RuntimeWarning says so (it was N - correction: a negative variance).
    """
    x = _as_input(x, None)
    axes = normalize_axes(axis, x.ndim, "var")
    count = _count(x.shape, axes)
    if count - correction <= 0:
        warnings.warn(f"var: correction={correction} leaves no degrees of freedom over "
                      f"{count} values per result (shape {x.shape}, axes {axes}): the "
                      "divisor is 0", RuntimeWarning, stacklevel=2)
    centred = sub(x, mean(x, axes, keepdims=True))
    squares = sum(power(centred, 2), axes, keepdims=keepdims)
    return div(squares, float(builtins.max(0, count - correction)))


# Imported last so that the table keeps its order (reductions before movement rows): the
# VJPs above call these only when they run.
from .movement import broadcast_to, reshape  # noqa: E402
