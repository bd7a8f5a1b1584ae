"""The elementwise losses of ``mg.nn.functional`` (PyTorch 2.13's names, keywords and
values): regression losses, binary cross-entropy, KL divergence; ``normalize`` and
``cosine_similarity``.

Each is composed from minigrad ops (gradients to any order, drawings and ``mg.jit`` come
from the op rows). |d| is ``Tensor.abs`` (gradient sign(d), 0 at 0, as in PyTorch). The
prediction and the target must have the same shape (PyTorch only warns and broadcasts,
which is rarely what was meant); a weight broadcasts to it.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import ops
from ..errors import ArgumentError, ArgumentTypeError
from ..tensor import Tensor
from .losses_functional import _check_reduction, _float_pair, _reduce

# log(x) is clamped at -100 in binary_cross_entropy (PyTorch's choice): x is first raised to
# at least exp(-101), below exp(-100), so log(0) is never taken (no inf * 0 = NaN gradient).
LOG_FLOOR = -100.0
_TINY = float(np.exp(-101.0))


def _as_weight(label: str, weight: Any, like: Tensor) -> Tensor:
    """``weight`` as a tensor of like's dtype that broadcasts to like's shape (an error
    names both shapes otherwise)."""
    if not isinstance(weight, Tensor):
        weight = Tensor(np.asarray(weight, dtype=like.dtype))
    try:
        fits = ops.broadcast_shapes(weight.shape, like.shape) == like.shape
    except ValueError:
        fits = False
    if not fits:
        raise ArgumentError(f"{label} of shape {weight.shape} does not broadcast to the input's "
                            f"shape {like.shape}")
    return weight


def _weighted(name: str, losses: Tensor, weight: Any) -> Tensor:
    """losses * weight, the weight broadcast to the losses' shape."""
    if weight is None:
        return losses
    return ops.mul(losses, _as_weight(f"{name}: weight", weight, losses))


def mse_loss(input: Tensor, target: Tensor | np.ndarray,  # noqa: A002
             reduction: str = "mean") -> Tensor:
    """(input - target)**2, then the mean (or sum)."""
    _check_reduction(reduction)
    target = _float_pair("mse_loss", input, target, label="prediction")
    return _reduce(ops.power(ops.sub(input, target), 2), reduction)


def l1_loss(input: Tensor, target: Tensor | np.ndarray,  # noqa: A002
            reduction: str = "mean") -> Tensor:
    """|input - target|, then the mean (or sum); gradient sign(input - target), 0 at 0."""
    _check_reduction(reduction)
    target = _float_pair("l1_loss", input, target)
    return _reduce(ops.sub(input, target).abs(), reduction)


def huber_loss(input: Tensor, target: Tensor | np.ndarray,  # noqa: A002
               reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5 d**2 where |d| < delta, else delta * (|d| - 0.5 delta), with d = input - target."""
    _check_reduction(reduction)
    if not delta > 0:
        raise ArgumentError(f"huber_loss: delta must be positive, got {delta}")
    target = _float_pair("huber_loss", input, target)
    diff = ops.sub(input, target)
    size = diff.abs()
    quadratic = ops.mul(ops.power(diff, 2), 0.5)
    linear = ops.mul(ops.sub(size, 0.5 * delta), delta)
    return _reduce(ops.where(ops.less(size, delta), quadratic, linear), reduction)


def smooth_l1_loss(input: Tensor, target: Tensor | np.ndarray,  # noqa: A002
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d**2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target);
    beta = 0 is the L1 loss (as in PyTorch)."""
    _check_reduction(reduction)
    if not beta >= 0:
        raise ArgumentError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    target = _float_pair("smooth_l1_loss", input, target)
    diff = ops.sub(input, target)
    size = diff.abs()
    if beta == 0:
        return _reduce(size, reduction)
    quadratic = ops.mul(ops.power(diff, 2), 0.5 / beta)
    linear = ops.sub(size, 0.5 * beta)
    return _reduce(ops.where(ops.less(size, beta), quadratic, linear), reduction)


def _clamped_log(x: Tensor) -> Tensor:
    """max(log x, -100) for x in [0, 1]; log(0) is never evaluated (see _TINY)."""
    return ops.maximum(ops.log(ops.maximum(x, _TINY)), LOG_FLOOR)


def binary_cross_entropy(input: Tensor, target: Tensor | np.ndarray,  # noqa: A002
                         weight: Tensor | None = None, reduction: str = "mean") -> Tensor:
    """-w * [y * max(log x, -100) + (1 - y) * max(log(1 - x), -100)] for probabilities x.

    The gradient is that of this formula: (x - y) / (x (1 - x)) inside the clamp, 0 where a
    log is clamped (PyTorch writes (x - y) / max(x (1 - x), 1e-12) there instead).
    """
    _check_reduction(reduction)
    target = _float_pair("binary_cross_entropy", input, target)
    # a check row, not a read of the values: mg.jit repeats it at every call
    input = ops.require_range(input, 0.0, 1.0,  # noqa: A001
                              "binary_cross_entropy: every element of input must lie in [0, 1]")
    log_p = _clamped_log(input)
    log_q = _clamped_log(ops.sub(1.0, input))
    inner = ops.add(ops.mul(target, log_p), ops.mul(ops.sub(1.0, target), log_q))
    return _reduce(_weighted("binary_cross_entropy", ops.neg(inner), weight), reduction)


def _softplus_of_minus(x: Tensor) -> Tensor:
    """log(1 + exp(-x)) = max(-x, 0) + log(1 + exp(-|x|)), never overflowing.

    max(-x, 0) and -|x| are built with ``where`` on x >= 0, so the gradient at x = 0 is the
    true one, -1/2 (a relu/abs with gradient 0 at the kink would lose it).
    """
    nonnegative = ops.greater_equal(x, 0.0)
    negative_part = ops.where(nonnegative, 0.0, ops.neg(x))
    minus_abs = ops.where(nonnegative, ops.neg(x), x)
    return ops.add(negative_part, ops.log(ops.add(ops.exp(minus_abs), 1.0)))


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor | np.ndarray,  # noqa: A002
                                     weight: Tensor | None = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """-w [p y log s(x) + (1 - y) log(1 - s(x))] with s the sigmoid and p = pos_weight,
    computed stably as w [(1 - y) x + (1 + (p - 1) y) log(1 + exp(-x))] (PyTorch's form).

    ``pos_weight`` broadcasts against the target (one value per class along the last axis).
    """
    _check_reduction(reduction)
    target = _float_pair("binary_cross_entropy_with_logits", input, target, label="logits")
    softplus = _softplus_of_minus(input)
    if pos_weight is not None:  # log_weight = 1 + (pos_weight - 1) y
        pos_weight = _as_weight("binary_cross_entropy_with_logits: pos_weight", pos_weight,
                                input)
        softplus = ops.mul(softplus, ops.add(ops.mul(ops.sub(pos_weight, 1.0), target), 1.0))
    losses = ops.add(ops.mul(ops.sub(1.0, target), input), softplus)
    return _reduce(_weighted("binary_cross_entropy_with_logits", losses, weight), reduction)


def kl_div(input: Tensor, target: Tensor | np.ndarray, reduction: str = "mean",  # noqa: A002
           log_target: bool = False) -> Tensor:
    """Pointwise KL divergence for log-probabilities ``input``: y (log y - x), 0 where
    y = 0 (y = target), or exp(y) (y - x) when ``log_target``.

    reduction 'batchmean' divides the sum by the batch size input.shape[0] (the KL
    divergence); 'mean' divides by every element and warns, as PyTorch does.
    """
    _check_reduction(reduction, REDUCTIONS_KL)
    target = _float_pair("kl_div", input, target)
    if log_target:
        losses = ops.mul(ops.exp(target), ops.sub(target, input))
    else:
        target = ops.require_range(target, 0.0, np.inf, "kl_div: target must hold "
                                   "probabilities (>= 0) when log_target is False (pass "
                                   "log_target=True for log-probabilities)")
        positive = ops.greater(target, 0.0)
        safe_log = ops.log(ops.where(positive, target, 1.0))
        losses = ops.where(positive, ops.mul(target, ops.sub(safe_log, input)),
                           ops.neg(ops.mul(target, input)))
    if reduction == "mean":
        warnings.warn("kl_div: reduction='mean' divides the total loss by both the batch size "
                      "and the support size; 'batchmean' divides only by the batch size, and "
                      "aligns with the KL div math definition", UserWarning, stacklevel=2)
    if reduction == "batchmean":
        total = ops.sum(losses)
        return total if input.ndim == 0 else ops.div(total, float(input.shape[0]))
    return _reduce(losses, reduction)


REDUCTIONS_KL = ("mean", "batchmean", "sum", "none")


def soft_margin_loss(input: Tensor, target: Tensor | np.ndarray,  # noqa: A002
                     reduction: str = "mean") -> Tensor:
    """log(1 + exp(-y x)) for targets y in {-1, 1}, computed without overflow."""
    _check_reduction(reduction)
    target = _float_pair("soft_margin_loss", input, target)
    return _reduce(_softplus_of_minus(ops.mul(target, input)), reduction)


# ==================================================================== similarities
def _norm(x: Tensor, p: float, dim: int, eps: float) -> Tensor:
    """max(||x||_p, eps) along dim (kept), as (max(sum |x|^p, eps^p))^(1/p): the floor is
    taken before the root, so a zero vector has gradient 0, not 0/0 from the root."""
    if p == np.inf:
        return ops.maximum(ops.max(x.abs(), dim, keepdims=True), eps)
    powers = ops.power(x, 2) if p == 2 else ops.power(x.abs(), p)
    total = ops.maximum(ops.sum(powers, dim, keepdims=True), eps ** p)
    return ops.sqrt(total) if p == 2 else ops.power(total, 1.0 / p)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1,  # noqa: A002
              eps: float = 1e-12) -> Tensor:
    """x / max(||x||_p, eps) along ``dim`` (PyTorch's F.normalize)."""
    if not (p > 0):
        raise ArgumentError(f"normalize: p must be positive, got {p}")
    if input.dtype.kind != "f":
        raise ArgumentTypeError(f"normalize: input must be floating point, got dtype {input.dtype}")
    dim = ops.normalize_axes(dim, input.ndim, op="normalize")[0]
    return ops.div(input, _norm(input, p, dim, eps))


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps), dim): the cosine of the angle
    between x1 and x2 along ``dim`` (broadcasting as PyTorch's F.cosine_similarity)."""
    shape = ops.broadcast_shapes(x1.shape, x2.shape, op="cosine_similarity")
    dim = ops.normalize_axes(dim, len(shape), op="cosine_similarity")[0]
    x1, x2 = ops.broadcast_to(x1, shape), ops.broadcast_to(x2, shape)
    unit1 = ops.div(x1, _norm(x1, 2, dim, eps))
    unit2 = ops.div(x2, _norm(x2, 2, dim, eps))
    return ops.sum(ops.mul(unit1, unit2), dim)
