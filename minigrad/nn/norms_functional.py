"""LayerNorm, GroupNorm and InstanceNorm as functions, each composed from the seed's steps
or as one fused node (``impl="composed"`` / ``"fused"``, as ``F.batch_norm``).

All three normalise rows of a reshaped view of x: with M rows of K values each,

    layer_norm      x of shape (..., *normalized_shape): M = prod(...),  K = prod(normalized)
    group_norm      x of shape (N, C, *):  M = N * num_groups,  K = C / num_groups * prod(*)
    instance_norm   x of shape (N, C, *):  M = N * C,           K = prod(*)

``composed`` builds the seed's forward on the (M, K) view, one named node per step
(mu, xmu, sq, var, sqrtvar, ivar, xhat), so autodiff derives the seed's backward and the
renderer draws it; ``fused`` views x as (1, M, K), a BatchNorm-shaped tensor whose M
"channels" are the rows, and applies the fused ``normalize`` row of fused_bn.py (closed-form
backward, any order; the JIT's BatchNorm lowering). The affine step (gammax = weight * xhat,
out = gammax + bias) is the same in both.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import ops
from .._state import no_grad
from ..errors import ArgumentError, ArgumentTypeError
from ..fused_bn import normalize
from ..tensor import Tensor
from . import functional as F  # (imports this module; its names are read at call time)


def _named(node: Tensor, name: str) -> Tensor:
    node.name = name
    node.meta["seed_step"] = F.SEED_FORWARD_STEPS[name]
    return node


def _check(name: str, x: Tensor, eps: float, impl: str) -> None:
    if impl not in F.IMPLS:
        raise ArgumentError(f"{name}: impl must be one of {F.IMPLS}, got {impl!r}")
    if x.dtype.kind != "f":
        raise ArgumentTypeError(f"{name}: input must be floating point, got dtype {x.dtype}")
    if not eps >= 0 or not np.isfinite(eps):
        raise ArgumentError(f"{name}: eps must be >= 0, got {eps}")


def normalize_rows(x: Tensor, rows: int, eps: float, impl: str
                   ) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """(xhat in x's shape, mu, var): each of the ``rows`` rows of x viewed as (rows, K)
    normalised to mean 0 and biased variance 1; mu and var (shape (rows, 1)) only when
    composed (the fused node keeps its statistics inside)."""
    if x.numel() == 0:
        return x, None, None
    width = x.numel() // rows
    if impl == "fused":
        flat = normalize(ops.reshape(x, (1, rows, width)), axes=(0, 2), eps=eps)
        return ops.reshape(flat, x.shape), None, None
    axes = _trailing_axes(x.shape, rows)
    view = x if axes or x.shape == (rows, width) else ops.reshape(x, (rows, width))
    axes = axes or (1,)
    mu = _named(ops.mean(view, axes, keepdims=True), "mu")
    xmu = _named(ops.sub(view, mu), "xmu")
    sq = _named(ops.power(xmu, 2), "sq")
    var = _named(ops.mean(sq, axes, keepdims=True), "var")
    sqrtvar = _named(ops.sqrt(ops.add(var, eps)), "sqrtvar")
    ivar = _named(ops.reciprocal(sqrtvar), "ivar")
    xhat = _named(ops.mul(xmu, ivar), "xhat")
    return (xhat if xhat.shape == x.shape else ops.reshape(xhat, x.shape)), mu, var


def _trailing_axes(shape: tuple[int, ...], rows: int) -> tuple[int, ...]:
    """The trailing axes k.. of ``shape`` whose leading axes hold exactly ``rows`` rows
    (prod(shape[:k]) == rows, the largest such k below the last axis), or () when there
    is none (group_norm's groups split an axis: x is reshaped to (rows, K) instead).
    Reducing over them directly, without a reshape, keeps every step in x's shape, so
    mg.jit fuses them into its loops (a reshape is a call between loops)."""
    for k in range(len(shape) - 1, -1, -1):
        if math.prod(shape[:k]) == rows:
            return tuple(range(k, len(shape)))
    return ()


def affine(xhat: Tensor, weight: Tensor | None, bias: Tensor | None, shape: tuple[int, ...]
           ) -> Tensor:
    """gammax = weight * xhat, out = gammax + bias, with weight and bias viewed as ``shape``
    (each step skipped when its parameter is None)."""
    out = xhat
    if weight is not None:
        out = _named(ops.mul(ops.reshape(weight, shape), out), "gammax")
    if bias is not None:
        out = _named(ops.add(out, ops.reshape(bias, shape)), "out")
    return out


def _check_parameter(name: str, label: str, value: Tensor | None, shape: tuple[int, ...]
                     ) -> None:
    if value is not None and tuple(value.shape) != shape:
        raise ArgumentError(f"{name}: {label} of shape {value.shape} does not fit {shape}")


def layer_norm(x: Tensor, normalized_shape: int | tuple[int, ...], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5, impl: str = "composed"
               ) -> Tensor:
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last len(normalized_shape)
    axes of each sample (biased variance; the same for every batch size)."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(n) for n in normalized_shape)
    _check("layer_norm", x, eps, impl)
    if x.shape[x.ndim - len(normalized_shape):] != normalized_shape:
        raise ArgumentError(f"layer_norm: input shape {x.shape} does not end with "
                            f"normalized_shape {normalized_shape}")
    for label, value in (("weight", weight), ("bias", bias)):
        _check_parameter("layer_norm", label, value, normalized_shape)
    rows = math.prod(x.shape[:x.ndim - len(normalized_shape)])
    xhat, _, _ = normalize_rows(x, rows, eps, impl)
    return affine(xhat, weight, bias, normalized_shape)


def _channel_view(x: Tensor) -> tuple[int, ...]:
    """The shape a per-channel vector takes against x of shape (N, C, ...)."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def group_norm(x: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5, impl: str = "composed"
               ) -> Tensor:
    """Normalise each sample's channels in ``num_groups`` groups of C / num_groups channels
    (statistics over a group's channels and all spatial positions), then a per-channel
    weight and bias."""
    _check("group_norm", x, eps, impl)
    if x.ndim < 2:
        raise ArgumentError(f"group_norm: input needs shape (N, C, ...), got shape {x.shape}")
    channels = x.shape[1]
    if num_groups < 1 or channels % num_groups:
        raise ArgumentError(f"group_norm: {channels} channels (input shape {x.shape}) cannot be "
                            f"split into {num_groups} groups")
    for label, value in (("weight", weight), ("bias", bias)):
        _check_parameter("group_norm", label, value, (channels,))
    xhat, _, _ = normalize_rows(x, x.shape[0] * num_groups, eps, impl)
    return affine(xhat, weight, bias, _channel_view(x))


def instance_norm(x: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5, impl: str = "composed") -> Tensor:
    """Normalise each (sample, channel) over its spatial positions; with
    ``use_input_stats=False`` the running statistics are used instead. Given running
    statistics, training updates them with the batch mean of the instance statistics
    (the variance unbiased: times K / (K - 1)), as PyTorch does."""
    _check("instance_norm", x, eps, impl)
    if x.ndim < 3:
        raise ArgumentError(f"instance_norm: input needs shape (N, C, ...), got shape {x.shape}")
    n, channels = x.shape[:2]
    for label, value in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                         ("running_var", running_var)):
        _check_parameter("instance_norm", label, value, (channels,))
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ArgumentError("instance_norm: use_input_stats=False needs running statistics")
        return F.batch_norm(x, running_mean, running_var, weight, bias, training=False, eps=eps)
    width = x.numel() // max(n * channels, 1)
    if width <= 1 and x.numel():
        raise ArgumentError("Expected more than 1 spatial element when training, got input "
                            f"size {x.shape}")
    xhat, mu, var = normalize_rows(x, n * channels, eps, impl)
    if running_mean is not None and running_var is not None and x.numel():
        _update_running(x, running_mean, running_var, mu, var, momentum)
    return affine(xhat, weight, bias, _channel_view(x))


def _update_running(x: Tensor, running_mean: Tensor, running_var: Tensor, mu: Tensor | None,
                    var: Tensor | None, momentum: float) -> None:
    """running = (1 - momentum) * running + momentum * mean over the batch of the instance
    statistics (variance unbiased)."""
    n, channels = x.shape[:2]
    width = x.numel() // (n * channels)
    with no_grad():
        if mu is None or var is None:
            rows = ops.reshape(x, (n * channels, width))
            mu = ops.mean(rows, 1, keepdims=True)
            var = ops.var(rows, 1, keepdims=True)
        batch_mean = ops.mean(ops.reshape(mu, (n, channels)), 0)
        batch_var = ops.mul(ops.mean(ops.reshape(var, (n, channels)), 0), width / (width - 1))
        for running, batch in ((running_mean, batch_mean), (running_var, batch_var)):
            running.assign_(ops.add(ops.mul(running, 1.0 - momentum),
                                    ops.mul(batch, momentum)))


def warn_channel_mismatch(name: str, num_features: int, x: Tensor) -> None:
    """PyTorch's InstanceNorm without affine parameters only warns about a channel count
    other than num_features."""
    warnings.warn(f"{name}: input has {x.shape[1]} channels (shape {x.shape}) but "
                  f"num_features is {num_features}; it is not used", UserWarning, stacklevel=3)
