"""Activation functions composed from minigrad ops (``F.gelu``, ``F.silu``, ...).

Each is written once with primitives, so its gradient (any order), drawing and JIT come
from the op rows. Branches use ``where`` on an input made safe for the branch not taken
(``exp`` of a clipped argument), so that branch's gradient is 0, never 0 * inf = NaN.
"""

from __future__ import annotations

import math

from .. import ops
from ..errors import ArgumentError, ArgumentTypeError
from ..tensor import Tensor

GELU_APPROXIMATIONS = ("none", "tanh")


def _check_float(name: str, x: Tensor) -> None:
    if x.dtype.kind != "f":
        raise ArgumentTypeError(f"{name}: input must be floating point, got dtype {x.dtype}")


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)); with ``approximate="tanh"``
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (PyTorch's two forms)."""
    if approximate not in GELU_APPROXIMATIONS:
        raise ArgumentError(
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
    linear region). Computed as max(z, 0) + log1p(exp(-|z|)) with z = beta x, so no exp
    overflows and exp(-|z|) far below 1 keeps its digits."""
    _check_float("softplus", x)
    if beta == 0:
        raise ArgumentError("softplus: beta must be nonzero, got 0")
    scaled = ops.mul(x, beta)
    linear = ops.greater(scaled, threshold)
    safe = ops.where(linear, 0.0, scaled)  # the curved branch never sees large values
    positive = ops.greater(safe, 0.0)
    minus_abs = ops.where(positive, ops.neg(safe), safe)
    curved = ops.add(ops.where(positive, safe, 0.0), ops.log1p(ops.exp(minus_abs)))
    return ops.where(linear, x, ops.div(curved, beta))


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x clipped to [min_val, max_val]; gradient 1 strictly inside, 0 elsewhere (PyTorch)."""
    _check_float("hardtanh", x)
    if min_val > max_val:
        raise ArgumentError(f"hardtanh: min_val {min_val} is greater than max_val {max_val}")
    upper = ops.where(ops.greater_equal(x, max_val), max_val, x)
    return ops.where(ops.less_equal(x, min_val), min_val, upper)


def relu6(x: Tensor) -> Tensor:
    """min(max(x, 0), 6) = hardtanh(x, 0, 6)."""
    return hardtanh(x, 0.0, 6.0)


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(x: Tensor) -> Tensor:
    """scale * elu(x, alpha) with PyTorch's constants (Klambauer et al., 2017)."""
    _check_float("selu", x)
    return ops.mul(elu(x, SELU_ALPHA), SELU_SCALE)


def celu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x where x > 0, alpha * (exp(x / alpha) - 1) elsewhere."""
    _check_float("celu", x)
    if alpha == 0:
        raise ArgumentError("celu: alpha must be nonzero, got 0")
    curve = ops.mul(ops.sub(ops.exp(ops.mul(_nonpositive_part(x), 1.0 / alpha)), 1.0), alpha)
    return ops.where(ops.greater(x, 0.0), x, curve)


def mish(x: Tensor) -> Tensor:
    """x * tanh(softplus(x)) (Misra, 2019)."""
    _check_float("mish", x)
    return ops.mul(x, ops.tanh(softplus(x)))


def softsign(x: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    _check_float("softsign", x)
    return ops.div(x, ops.add(ops.abs(x), 1.0))


def hardsigmoid(x: Tensor) -> Tensor:
    """0 for x <= -3, 1 for x >= 3, x / 6 + 1/2 between (gradient 1/6 strictly inside)."""
    _check_float("hardsigmoid", x)
    inside = ops.where(ops.greater_equal(x, 3.0), 1.0, ops.add(ops.mul(x, 1.0 / 6.0), 0.5))
    return ops.where(ops.less_equal(x, -3.0), 0.0, inside)


def hardswish(x: Tensor) -> Tensor:
    """x * relu6(x + 3) / 6: 0 for x <= -3, x for x >= 3, x (x + 3) / 6 between (gradient
    (2x + 3) / 6 strictly inside; 0 at -3 and 1 at 3, as PyTorch 2.13 gives)."""
    _check_float("hardswish", x)
    middle = ops.mul(ops.mul(x, ops.add(x, 3.0)), 1.0 / 6.0)
    upper = ops.where(ops.greater_equal(x, 3.0), x, middle)
    return ops.where(ops.less_equal(x, -3.0), 0.0, upper)


def logsigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)) = x - log(1 + e^x) for x < 0, -log(1 + e^-x) otherwise (no exp
    overflows; each branch sees only its own side)."""
    _check_float("logsigmoid", x)
    negative = ops.less(x, 0.0)
    below = ops.where(negative, x, 0.0)
    above = ops.where(negative, 0.0, x)
    left = ops.sub(below, ops.log1p(ops.exp(below)))
    right = ops.neg(ops.log1p(ops.exp(ops.neg(above))))
    return ops.where(negative, left, right)
