"""GroupNorm and InstanceNorm1d/2d modules (PyTorch's interface and defaults); the
computation is in norms_functional.py (composed from the seed's steps, or fused)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..dtypes import default_float, resolve_dtype
from ..errors import ArgumentError
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter
from .norms_functional import warn_channel_mismatch


def _check_options(name: str, eps: float, impl: str) -> None:
    if not eps >= 0 or not np.isfinite(eps):
        raise ArgumentError(f"{name}: eps must be >= 0, got {eps}")
    if impl not in F.IMPLS:
        raise ArgumentError(f"{name}: impl must be one of {F.IMPLS}, got {impl!r}")


class GroupNorm(Module):
    """Normalise each sample's channels in ``num_groups`` groups (statistics over a group's
    channels and positions), then a per-channel weight and bias (Wu & He, 2018)."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, impl: str = "composed", dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        if int(num_groups) < 1 or int(num_channels) % int(num_groups):
            raise ArgumentError(f"GroupNorm: num_channels must be divisible by num_groups "
                                f"(got {num_channels} and {num_groups})")
        _check_options("GroupNorm", eps, impl)
        dtype = resolve_dtype(dtype) if dtype is not None else default_float()
        self.num_groups = int(num_groups)
        self.num_channels = int(num_channels)
        self.eps = float(eps)
        self.affine = affine
        self.impl = impl
        self.weight = Parameter(np.ones(num_channels, dtype), name="gamma") if affine else None
        self.bias = (Parameter(np.zeros(num_channels, dtype), name="beta")
                     if affine and bias else None)

    def reset_parameters(self) -> None:
        """weight = 1, bias = 0."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        """group_norm(x) * weight + bias."""
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ArgumentError(f"GroupNorm({self.num_groups}, {self.num_channels}): input of "
                                f"shape {x.shape} does not have {self.num_channels} channels")
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps, self.impl)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class _InstanceNorm(Module):
    """Shared body of InstanceNorm1d/2d: statistics per sample and channel."""

    rank: int = 3  # batched input rank; one less is an unbatched input

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False,
                 impl: str = "composed", dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        _check_options(type(self).__name__, eps, impl)
        if not 0.0 <= momentum <= 1.0:
            raise ArgumentError(f"{type(self).__name__}: momentum must lie in [0, 1], got "
                                f"{momentum}")
        dtype = resolve_dtype(dtype) if dtype is not None else default_float()
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.impl = impl
        self.weight = Parameter(np.ones(num_features, dtype), name="gamma") if affine else None
        self.bias = (Parameter(np.zeros(num_features, dtype), name="beta")
                     if affine and bias else None)
        tracked = track_running_stats
        self.register_buffer("running_mean",
                             Tensor(np.zeros(num_features, dtype)) if tracked else None)
        self.register_buffer("running_var",
                             Tensor(np.ones(num_features, dtype)) if tracked else None)
        self.register_buffer("num_batches_tracked",
                             Tensor(np.array(0, np.int64)) if tracked else None)

    def reset_running_stats(self) -> None:
        """running_mean = 0, running_var = 1, num_batches_tracked = 0 (when tracked)."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        """The running statistics reset, weight = 1 and bias = 0."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        """instance_norm(x) * weight + bias (running statistics in eval when tracked)."""
        name = type(self).__name__
        if x.ndim not in (self.rank - 1, self.rank):
            raise ArgumentError(f"{name}: expected {self.rank - 1}D (unbatched) or {self.rank}D "
                                f"(batched) input (got {x.ndim}D input)")
        unbatched = x.ndim == self.rank - 1
        if unbatched:
            x = ops.reshape(x, (1, *x.shape))
        if x.shape[1] != self.num_features:
            if self.affine or self.track_running_stats:
                raise ArgumentError(f"{name}({self.num_features}): input has {x.shape[1]} "
                                    f"channels (shape {x.shape}), expected {self.num_features}")
            warn_channel_mismatch(name, self.num_features, x)
        use_input_stats = self.training or not self.track_running_stats
        # (PyTorch's InstanceNorm keeps num_batches_tracked at 0: it is never counted)
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              use_input_stats, self.momentum, self.eps, self.impl)
        return ops.reshape(out, out.shape[1:]) if unbatched else out

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """InstanceNorm over (N, C, L) or (C, L) input."""

    rank = 3


class InstanceNorm2d(_InstanceNorm):
    """InstanceNorm over (N, C, H, W) or (C, H, W) input."""

    rank = 4
