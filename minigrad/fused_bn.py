"""The fused BatchNorm primitives: whole-layer nodes with closed-form VJPs.

Per channel c (the reduced axes hold N values each), with s = 1 / sqrt(var + eps):

    normalize(x)            xhat = (x - mean(x)) * s
    batch_norm(x, w, b)     out  = w * xhat + b
    batch_norm_dx(g, x, w)  dx   = w * s * (g - mean(g) - xhat * mean(g * xhat))
                                 = w * ivar / N * (N*g - sum(g) - xhat * sum(g * xhat))

The VJPs are written with minigrad ops, so the fused node differentiates to any order:
batch_norm_dx's own VJP, with h the incoming gradient, m = mean(g xhat), k = mean(h xhat),
c = mean(h g) - mean(h) mean(g) - m k, is

    d/dg = batch_norm_dx(h, x, w)
    d/dx = -w s^2 ((c - 2 m k) xhat + k (g - mean(g)) + m (h - mean(h)))
    d/dw = sum over the reduced axes of  N s c   (one value per channel)

Weights and biases have one value per channel (shape (C,)); the channel axis is axis 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import ops
from ._state import STATE
from .errors import ArgumentError
from .ops import FUSED, Op, reduce_mean, register
from .tensor import Tensor


def channel_shape(ndim: int, channels: int) -> tuple[int, ...]:
    """The shape a per-channel vector takes to broadcast against an (N, C, ...) input."""
    return (1, channels) + (1,) * (ndim - 2)


def reduced_axes(ndim: int) -> tuple[int, ...]:
    """BatchNorm's reduction axes: every axis but the channel axis 1."""
    return (0, *range(2, ndim))


def _stats(x: np.ndarray, axes: tuple[int, ...], eps: float) -> tuple[np.ndarray, np.ndarray]:
    """(xhat, s) by two passes, as the seed computes them."""
    centred = x - reduce_mean(x, axes)
    variance = reduce_mean(centred * centred, axes)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_std = 1.0 / np.sqrt(variance + np.asarray(eps, dtype=x.dtype))
    return centred * inv_std, inv_std


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    return v.reshape(channel_shape(ndim, v.shape[0]))


def _check_input(x: tuple[int, ...], params: tuple[tuple[int, ...], ...]) -> tuple:
    if len(x) < 2:
        raise ArgumentError(f"batch_norm: input needs shape (N, C, ...), got {x}")
    for p in params:
        if p != (x[1],):
            raise ArgumentError(
                f"batch_norm: per-channel parameter of shape {p} does not fit {x[1]} channels"
            )
    return x


def _bn_shape(x: tuple[int, ...], *params: tuple[int, ...], axes: tuple, eps: float) -> tuple:
    return _check_input(x, params)


def _bn_dx_shape(g: tuple[int, ...], x: tuple[int, ...], w: tuple[int, ...], *, axes: tuple,
                 eps: float) -> tuple:
    if g != x:
        raise ArgumentError(f"batch_norm_dx: gradient shape {g} differs from input shape {x}")
    return _check_input(x, (w,))


# ------------------------------------------------------------------------- normalize
def _normalize_forward(x: np.ndarray, *, axes: tuple, eps: float) -> np.ndarray:
    return _stats(x, axes, eps)[0]


def _normalize_vjp(h: Tensor, out: Tensor, x: Tensor, *, axes: tuple, eps: float) -> tuple:
    ones = Tensor(np.ones(x.shape[1], dtype=x.dtype))
    return (batch_norm_dx(h, x, ones, axes=axes, eps=eps),)


NORMALIZE = register(Op(
    "normalize", FUSED, 1, _normalize_forward, _bn_shape, _normalize_vjp,
    grads=("s * ({g} - mean({g}) - {out} * mean({g} * {out}))",),
    doc="xhat = (x - mean) / sqrt(var + eps), one fused node",
    jit_lowering="lower_normalize",
))


def normalize(x: Tensor, *, axes: tuple[int, ...], eps: float) -> Tensor:
    """xhat = (x - mean(x)) / sqrt(var(x) + eps) over ``axes``, as one node."""
    return ops.apply(NORMALIZE, x, axes=tuple(axes), eps=float(eps))


# ------------------------------------------------------------------------ batch_norm
def _batch_norm_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, *, axes: tuple,
                        eps: float) -> np.ndarray:
    xhat, _ = _stats(x, axes, eps)
    return xhat * _per_channel(w, x.ndim) + _per_channel(b, x.ndim)


def _batch_norm_vjp(g: Tensor, out: Tensor, x: Tensor, w: Tensor, b: Tensor, *,
                    axes: tuple, eps: float) -> tuple:
    return ops.only_needed(
        lambda: batch_norm_dx(g, x, w, axes=axes, eps=eps),
        lambda: ops.sum(ops.mul(g, normalize(x, axes=axes, eps=eps)), axes),
        lambda: ops.sum(g, axes),
    )


BATCH_NORM = register(Op(
    "batch_norm", FUSED, 3, _batch_norm_forward, _bn_shape, _batch_norm_vjp,
    grads=(
        "w*ivar/N * (N*{g} - sum({g}) - xhat*sum({g}*xhat))",
        "sum({g} * xhat)",
        "sum({g})",
    ),
    doc="out = w * (x - mean) / sqrt(var + eps) + b, one fused node",
    jit_lowering="lower_batch_norm",
))


def batch_norm_fused(x: Tensor, weight: Tensor, bias: Tensor, *, eps: float) -> Tensor:
    """The whole training-mode BatchNorm as one node (closed-form backward)."""
    return ops.apply(BATCH_NORM, x, weight, bias, axes=reduced_axes(x.ndim), eps=float(eps))


# --------------------------------------------------------------------- batch_norm_dx
def _batch_norm_dx_forward(g: np.ndarray, x: np.ndarray, w: np.ndarray, *, axes: tuple,
                           eps: float) -> np.ndarray:
    xhat, inv_std = _stats(x, axes, eps)
    g_mean = reduce_mean(g, axes)
    gx_mean = reduce_mean(g * xhat, axes)
    return _per_channel(w, x.ndim) * inv_std * (g - g_mean - xhat * gx_mean)


def _inv_std(x: Tensor, axes: tuple, eps: float) -> Tensor:
    """s = 1 / sqrt(var + eps) as a differentiable composition (keepdims)."""
    centred = ops.sub(x, ops.mean(x, axes, keepdims=True))
    variance = ops.mean(ops.mul(centred, centred), axes, keepdims=True)
    return ops.reciprocal(ops.sqrt(ops.add(variance, eps)))


def _batch_norm_dx_vjp(h: Tensor, out: Tensor, g: Tensor, x: Tensor, w: Tensor, *,
                       axes: tuple, eps: float) -> tuple:
    needs = STATE.vjp_needs or (True, True, True)
    grad_x = grad_w = None
    if needs[1] or needs[2]:
        grad_x, grad_w = _batch_norm_dx_vjp_x_w(h, g, x, w, axes, eps)
    return ops.only_needed(
        lambda: batch_norm_dx(h, x, w, axes=axes, eps=eps),
        lambda: grad_x,
        lambda: grad_w,
    )


def _batch_norm_dx_vjp_x_w(h: Tensor, g: Tensor, x: Tensor, w: Tensor, axes: tuple,
                           eps: float) -> tuple[Tensor, Tensor]:
    """d/dx and d/dw of batch_norm_dx (the formulas in the module docstring)."""
    count = float(np.prod([x.shape[a] for a in axes]))
    xhat = normalize(x, axes=axes, eps=eps)
    inv_std = _inv_std(x, axes, eps)
    w_b = ops.reshape(w, channel_shape(x.ndim, x.shape[1]))
    g_c = ops.sub(g, ops.mean(g, axes, keepdims=True))
    h_c = ops.sub(h, ops.mean(h, axes, keepdims=True))
    m = ops.mean(ops.mul(g, xhat), axes, keepdims=True)
    k = ops.mean(ops.mul(h, xhat), axes, keepdims=True)
    mk = ops.mul(m, k)
    c = ops.sub(ops.mean(ops.mul(h_c, g), axes, keepdims=True), mk)
    bracket = ops.add(
        ops.add(ops.mul(ops.sub(c, ops.mul(mk, 2.0)), xhat), ops.mul(k, g_c)),
        ops.mul(m, h_c),
    )
    grad_x = ops.neg(ops.mul(ops.mul(w_b, ops.mul(inv_std, inv_std)), bracket))
    grad_w = ops.reshape(ops.mul(ops.mul(inv_std, c), count), (x.shape[1],))
    return grad_x, grad_w


BATCH_NORM_DX = register(Op(
    "batch_norm_dx", FUSED, 3, _batch_norm_dx_forward, _bn_dx_shape, _batch_norm_dx_vjp,
    grads=(
        "batch_norm_dx({g})",
        "-w s^2 ((c - 2mk) xhat + k (g - mean g) + m ({g} - mean {g}))",
        "N s c",
    ),
    doc="dx = w * s * (g - mean(g) - xhat * mean(g * xhat)), one fused node",
    jit_lowering="lower_batch_norm_dx",
))


def batch_norm_dx(g: Any, x: Tensor, w: Tensor, *, axes: tuple[int, ...], eps: float) -> Tensor:
    """The closed-form BatchNorm input gradient as one node (see the module docstring)."""
    return ops.apply(BATCH_NORM_DX, g, x, w, axes=tuple(axes), eps=float(eps))
