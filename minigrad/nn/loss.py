"""Loss modules (PyTorch's names, arguments and buffers), each calling its function in
``nn.functional``. Class weights and ``pos_weight`` are buffers, as in PyTorch, so they
are in ``state_dict`` and follow ``.to(dtype)``."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..tensor import Tensor
from . import functional as F
from .module import Module


def _legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """PyTorch's mapping of the deprecated size_average / reduce flags to ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  "reduction='mean', 'sum' or 'none' instead.", UserWarning, stacklevel=3)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _optional_tensor(value: Any) -> Tensor | None:
    if value is None or isinstance(value, Tensor):
        return value
    array = np.asarray(value)
    return Tensor(array if array.dtype.kind == "f" else array.astype(np.float32))


class _Loss(Module):
    """A loss module: its ``reduction`` ('none', 'mean', 'sum', and more for some)."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = _legacy_reduction(size_average, reduce, reduction)

    def extra_repr(self) -> str:
        """The reduction, when not the default."""
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    """A loss with a per-class (or per-element) ``weight`` buffer."""

    def __init__(self, weight: Any = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _optional_tensor(weight))


class NLLLoss(_WeightedLoss):
    """-w[t_i] * input[i, t_i] for log-probabilities; see ``F.nll_loss``."""

    def __init__(self, weight: Any = None, size_average: bool | None = None,
                 ignore_index: int = -100, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        """The negative log-likelihood of ``target`` under log-probabilities ``input``."""
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """log_softmax then the negative log-likelihood, with class weights, ignore_index,
    label smoothing and probability targets; see ``F.cross_entropy``."""

    def __init__(self, weight: Any = None, size_average: bool | None = None,
                 ignore_index: int = -100, reduce: bool | None = None,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        """The cross-entropy of logits ``input`` against ``target``."""
        return F.cross_entropy(input, target, weight=self.weight,
                               ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)


class MSELoss(_Loss):
    """(input - target)**2, reduced; see ``F.mse_loss``."""

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        """The squared error."""
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """|input - target|, reduced; see ``F.l1_loss``."""

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        """The absolute error."""
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """0.5 d**2 for |d| < delta, else delta (|d| - 0.5 delta); see ``F.huber_loss``."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        """The Huber loss."""
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """0.5 d**2 / beta for |d| < beta, else |d| - 0.5 beta; see ``F.smooth_l1_loss``."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        """The smooth L1 loss."""
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class BCELoss(_WeightedLoss):
    """-w [y log x + (1 - y) log(1 - x)], logs clamped at -100; see
    ``F.binary_cross_entropy``."""

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        """The binary cross-entropy of probabilities ``input`` against ``target``."""
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross-entropy in one stable formula, with ``weight`` and
    ``pos_weight`` buffers; see ``F.binary_cross_entropy_with_logits``."""

    def __init__(self, weight: Any = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean",
                 pos_weight: Any = None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _optional_tensor(weight))
        self.register_buffer("pos_weight", _optional_tensor(pos_weight))

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        """The binary cross-entropy of sigmoid(input) against ``target``."""
        return F.binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction,
            pos_weight=self.pos_weight)


class KLDivLoss(_Loss):
    """y (log y - x) (or exp(y) (y - x) with ``log_target``); reduction may be
    'batchmean'; see ``F.kl_div``."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        """The KL divergence of ``target`` from log-probabilities ``input``."""
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class SoftMarginLoss(_Loss):
    """log(1 + exp(-y x)) for y in {-1, 1}; see ``F.soft_margin_loss``."""

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        """The soft margin loss."""
        return F.soft_margin_loss(input, target, reduction=self.reduction)
