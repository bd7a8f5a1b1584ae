"""Activation modules (PyTorch's names, arguments and ``repr``)."""

from __future__ import annotations

from typing import Any

from ..errors import ArgumentError
from ..tensor import Tensor
from . import functional as F
from .module import Module


class ReLU(Module):
    """max(x, 0); gradient 0 at exactly 0 (PyTorch's convention). ``inplace`` is accepted
    for PyTorch's signature; the result is computed out of place (the same values)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply relu elementwise."""
        return F.relu(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        """Apply the logistic sigmoid elementwise."""
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x) elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        """Apply tanh elementwise."""
        return F.tanh(x)


class Softmax(Module):
    """exp(x - max) / sum(exp(x - max)) along ``dim`` (None: PyTorch's implicit choice,
    with its warning)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        """Apply softmax along ``dim``."""
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log softmax(x) along ``dim``, computed stably (None: PyTorch's implicit choice)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        """Apply log_softmax along ``dim``."""
        return F.log_softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class GELU(Module):
    """x * Phi(x); ``approximate="tanh"`` uses PyTorch's tanh form."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in F.GELU_APPROXIMATIONS:
            raise ArgumentError(f"GELU: approximate must be one of {F.GELU_APPROXIMATIONS}, "
                                f"got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        """Apply gelu elementwise."""
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply silu elementwise."""
        return F.silu(x)


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply leaky_relu elementwise."""
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply elu elementwise."""
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, x: Tensor) -> Tensor:
        """Apply softplus elementwise."""
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """x clipped to [min_val, max_val]."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
                 ) -> None:
        super().__init__()
        if min_val > max_val:
            raise ArgumentError(f"Hardtanh: min_val {min_val} is greater than max_val {max_val}")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply hardtanh elementwise."""
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Hardtanh):
    """min(max(x, 0), 6)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return ""


class _Pointwise(Module):
    """A module applying ``function`` elementwise; ``inplace`` is PyTorch's flag, kept for
    signature compatibility (minigrad computes out of place)."""

    function: Any = None

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply the function elementwise."""
        return type(self).function(x)


class SELU(_Pointwise):
    """scale * elu(x, alpha), PyTorch's constants."""

    function = staticmethod(F.selu)


class Mish(_Pointwise):
    """x * tanh(softplus(x))."""

    function = staticmethod(F.mish)


class Hardsigmoid(_Pointwise):
    """0 for x <= -3, 1 for x >= 3, x / 6 + 1/2 between."""

    function = staticmethod(F.hardsigmoid)


class Hardswish(_Pointwise):
    """x * relu6(x + 3) / 6."""

    function = staticmethod(F.hardswish)


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, x: Tensor) -> Tensor:
        """Apply softsign elementwise."""
        return F.softsign(x)


class LogSigmoid(Module):
    """log(sigmoid(x))."""

    def forward(self, x: Tensor) -> Tensor:
        """Apply logsigmoid elementwise."""
        return F.logsigmoid(x)


class CELU(Module):
    """x for x > 0, alpha * (exp(x / alpha) - 1) otherwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply celu elementwise."""
        return F.celu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"
