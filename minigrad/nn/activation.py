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
