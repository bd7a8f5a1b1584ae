"""Loss modules wrapping the functional losses."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import functional as F
from .module import Module


class CrossEntropyLoss(Module):
    """mean_i -log_softmax(logits_i)[t_i] for integer class targets t."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def forward(self, logits: Tensor, targets: Any) -> Tensor:
        """The cross-entropy of ``logits`` against integer ``targets``."""
        return F.cross_entropy(logits, targets, self.reduction)


class MSELoss(Module):
    """mean((prediction - target)**2)."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def forward(self, prediction: Tensor, target: Any) -> Tensor:
        """The mean squared error."""
        return F.mse_loss(prediction, target, self.reduction)


class BCEWithLogitsLoss(Module):
    """mean(max(x,0) - x*y + log(1 + exp(-|x|))): sigmoid + binary cross-entropy, stably."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def forward(self, logits: Tensor, target: Any) -> Tensor:
        """The binary cross-entropy of sigmoid(logits) against ``target``."""
        return F.binary_cross_entropy_with_logits(logits, target, self.reduction)
