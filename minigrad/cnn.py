"""The toy CNN of issue 16: [Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d] x 2 -> Linear.

It reads flat images (the 8x8 digits come as rows of 64 values) and shapes them to
(N, 1, side, side) first, so it trains with the same loop, data and plots as the MLPs
(``experiments.train_classifier``; ``minigrad train --model cnn``).
"""

from __future__ import annotations

import math
from typing import Any

from . import nn
from .errors import ArgumentError
from .experiments import Probe
from .ops import reshape
from .tensor import Tensor


class Image(nn.Module):
    """(N, channels * side * side) rows -> (N, channels, side, side) images."""

    def __init__(self, channels: int, side: int) -> None:
        super().__init__()
        self.channels, self.side = channels, side

    def forward(self, x: Tensor) -> Tensor:
        """x reshaped to images (a view; no copy)."""
        if x.ndim != 2 or x.shape[1] != self.channels * self.side ** 2:
            raise ArgumentError(f"Image: expected rows of {self.channels * self.side ** 2} values "
                                f"({self.channels} x {self.side} x {self.side}), got {x.shape}")
        return reshape(x, (x.shape[0], self.channels, self.side, self.side))

    def extra_repr(self) -> str:
        return f"channels={self.channels}, side={self.side}"


NORMS = ("bn", "ln", "gn", "plain")
CHANNELS_PER_GROUP = 4  # GroupNorm's groups: 16 channels -> 4 groups, 32 -> 8


def norm_layer(norm: str, width: int, dtype: Any = None) -> nn.Module:
    """The normalisation after a convolution of ``width`` channels: BatchNorm2d (batch
    statistics per channel), LayerNorm as PyTorch users write it for conv nets,
    GroupNorm(1, width) (per sample, over channels and positions), or GroupNorm with
    ``width / 4`` groups (per sample, per group of 4 channels)."""
    if norm == "bn":
        return nn.BatchNorm2d(width, dtype=dtype)
    if norm == "ln":
        return nn.GroupNorm(1, width, dtype=dtype)
    return nn.GroupNorm(max(1, width // CHANNELS_PER_GROUP), width, dtype=dtype)


def cnn(features: int = 64, classes: int = 10, channels: tuple[int, ...] = (16, 32),
        norm: str = "bn", dtype: Any = None) -> nn.Sequential:
    """Image -> [Conv2d 3x3 (padding 1) -> norm -> ReLU -> MaxPool2d 2] per entry of
    ``channels`` -> Flatten -> Linear. ``norm`` is "bn" (BatchNorm2d), "ln" (LayerNorm over
    channels and positions), "gn" (GroupNorm) or "plain" (none; the convolutions then have
    biases). A ``Probe`` watches the last block's input to its ReLU (``model.probe``, as
    ``experiments.mlp``)."""
    side = math.isqrt(features)
    if side * side != features:
        raise ArgumentError(f"cnn: features must be a square number of pixels, got {features}")
    if norm not in NORMS:
        raise ArgumentError(f"cnn: norm must be one of {', '.join(NORMS)}, got {norm!r}")
    layers: list[nn.Module] = [Image(1, side)]
    probe = Probe()
    width_in = 1
    for position, width in enumerate(channels):
        layers.append(nn.Conv2d(width_in, width, 3, padding=1, bias=norm == "plain",
                                dtype=dtype))
        if norm != "plain":
            layers.append(norm_layer(norm, width, dtype))
        if position == len(channels) - 1:
            layers.append(probe)
        layers += [nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True)]
        width_in, side = width, -(-side // 2)
    layers += [nn.Flatten(), nn.Linear(width_in * side * side, classes, dtype=dtype)]
    model = nn.Sequential(*layers)
    object.__setattr__(model, "probe", probe)
    return model
