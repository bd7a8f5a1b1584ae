"""BatchNorm1d/2d/3d modules (PyTorch's interface and semantics)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from .._state import no_grad
from ..dtypes import default_float, resolve_dtype
from ..errors import ArgumentError, ArgumentTypeError
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter


class _BatchNorm(Module):
    """Shared body of BatchNorm1d/2d; subclasses say which input ranks they take."""

    ranks: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        impl: str = "composed",
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if int(num_features) < 1:
            raise ArgumentError(f"num_features must be >= 1, got {num_features}")
        if not eps >= 0 or not np.isfinite(eps):
            raise ArgumentError(f"eps must be >= 0 (0 is allowed), got {eps}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ArgumentError(f"momentum must lie in [0, 1] or be None, got {momentum}")
        if impl not in F.IMPLS:
            raise ArgumentError(f"impl must be one of {F.IMPLS}, got {impl!r}")
        dtype = resolve_dtype(dtype) if dtype is not None else default_float()
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.impl = impl
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype), name="gamma")
            self.bias = (Parameter(np.zeros(num_features, dtype), name="beta") if bias
                         else None)
        else:
            self.weight = None
            self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """running_mean = 0, running_var = 1, num_batches_tracked = 0 (when tracked)."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        """The running statistics reset, weight = 1 and bias = 0 (PyTorch's default)."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input(self, x: Tensor) -> None:
        name = type(self).__name__
        if x.ndim not in self.ranks:
            wanted = " or ".join(f"{r}D" for r in self.ranks)
            raise ArgumentError(f"{name}: expected {wanted} input (got {x.ndim}D input)")
        if x.shape[1] != self.num_features:
            raise ArgumentError(
                f"{name}({self.num_features}): input has {x.shape[1]} channels "
                f"(shape {x.shape}), expected {self.num_features}"
            )
        reference = self.weight if self.weight is not None else self.running_mean
        if reference is not None and x.dtype != reference.dtype:
            raise ArgumentTypeError(
                f"{name}: input dtype {x.dtype} differs from the layer's {reference.dtype}; "
                "convert one of them (module.double() / x.double())"
            )

    def forward(self, x: Tensor) -> Tensor:
        """Normalise ``x`` per channel (batch statistics in training, running ones in eval)."""
        self._check_input(x)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            count = self.num_batches_tracked
            with no_grad():
                count.assign_(ops.add(count, 1))
            if self.momentum is None:
                factor = 1.0 / int(count)
        use_batch_stats = self.training or self.running_mean is None
        keep_running = not self.training or self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean if keep_running else None,
            self.running_var if keep_running else None,
            self.weight,
            self.bias,
            training=use_batch_stats,
            momentum=factor,
            eps=self.eps,
            impl=self.impl,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}, "
            f"impl={self.impl!r}"
        )


class BatchNorm1d(_BatchNorm):
    """BatchNorm over (N, C) or (N, C, L) input: statistics per channel C."""

    ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """BatchNorm over (N, C, H, W) input: statistics per channel over (N, H, W)."""

    ranks = (4,)


class BatchNorm3d(_BatchNorm):
    """BatchNorm over (N, C, D, H, W) input: statistics per channel over (N, D, H, W)."""

    ranks = (5,)
