"""Activation functions composed from minigrad ops (``F.gelu``, ``F.silu``, ...).

Each is written once with primitives, so its gradient (any order), drawing and JIT come
from the op rows. Branches use ``where`` on an input made safe for the branch not taken
(``exp`` of a clipped argument), so that branch's gradient is 0, never 0 * inf = NaN.
"""

from __future__ import annotations

import math

from .. import ops
from ..tensor import Tensor

GELU_APPROXIMATIONS = ("none", "tanh")


def _check_float(name: str, x: Tensor) -> None:
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: input must be floating point, got dtype {x.dtype}")


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)); with ``approximate="tanh"``
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (PyTorch's two forms)."""
    if approximate not in GELU_APPROXIMATIONS:
        raise ValueError(
            f"gelu: approximate must be one of {GELU_APPROXIMATIONS}, got {approximate!r}"
        )
    _check_float("gelu", x)
    if approximate == "tanh":
        inner = ops.mul(ops.add(x, ops.mul(ops.power(x, 3), 0.044715)),
                        math.sqrt(2.0 / math.pi))
        return ops.mul(ops.mul(x, 0.5), ops.add(ops.tanh(inner), 1.0))
    erf = getattr(ops, "erf", None)
    if erf is None:
        raise NotImplementedError(
            "gelu(approximate='none') needs ops.erf, which this build lacks; "
            "use approximate='tanh'"
        )
    return ops.mul(ops.mul(x, 0.5), ops.add(erf(ops.mul(x, 1.0 / math.sqrt(2.0))), 1.0))


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    _check_float("silu", x)
    return ops.mul(x, ops.sigmoid(x))


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, negative_slope * x elsewhere (gradient negative_slope at 0, as in
    PyTorch)."""
    _check_float("leaky_relu", x)
    return ops.where(ops.greater(x, 0.0), x, ops.mul(x, negative_slope))


def _nonpositive_part(x: Tensor) -> Tensor:
    """min(x, 0) as x where x <= 0 and the constant 0 elsewhere (gradient 1 / 0)."""
    return ops.where(ops.greater(x, 0.0), 0.0, x)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x where x > 0, alpha * (exp(x) - 1) elsewhere."""
    _check_float("elu", x)
    negative = ops.mul(ops.sub(ops.exp(_nonpositive_part(x)), 1.0), alpha)
    return ops.where(ops.greater(x, 0.0), x, negative)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (PyTorch's
    linear region). Computed as max(z, 0) + log(1 + exp(-|z|)) with z = beta x, so no
    exp overflows."""
    _check_float("softplus", x)
    if beta == 0:
        raise ValueError("softplus: beta must be nonzero, got 0")
    scaled = ops.mul(x, beta)
    linear = ops.greater(scaled, threshold)
    safe = ops.where(linear, 0.0, scaled)  # the curved branch never sees large values
    positive = ops.greater(safe, 0.0)
    minus_abs = ops.where(positive, ops.neg(safe), safe)
    curved = ops.add(ops.where(positive, safe, 0.0), ops.log(ops.add(ops.exp(minus_abs), 1.0)))
    return ops.where(linear, x, ops.div(curved, beta))


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x clipped to [min_val, max_val]; gradient 1 strictly inside, 0 elsewhere (PyTorch)."""
    _check_float("hardtanh", x)
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} is greater than max_val {max_val}")
    upper = ops.where(ops.greater_equal(x, max_val), max_val, x)
    return ops.where(ops.less_equal(x, min_val), min_val, upper)


def relu6(x: Tensor) -> Tensor:
    """min(max(x, 0), 6) = hardtanh(x, 0, 6)."""
    return hardtanh(x, 0.0, 6.0)
