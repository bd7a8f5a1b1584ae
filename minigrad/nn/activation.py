"""Activation modules."""

from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module


class ReLU(Module):
    """max(x, 0); gradient 0 at exactly 0 (PyTorch's convention)."""

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
    """exp(x - max) / sum(exp(x - max)) along ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        """Apply softmax along ``dim``."""
        return F.softmax(x, self.dim)


class LogSoftmax(Module):
    """log softmax(x) along ``dim``, computed stably."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        """Apply log_softmax along ``dim``."""
        return F.log_softmax(x, self.dim)
