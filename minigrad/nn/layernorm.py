"""LayerNorm: per-sample normalisation (no batch statistics, so any batch size works)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..dtypes import default_float, resolve_dtype
from ..errors import ArgumentError
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter


class LayerNorm(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last axes of each sample."""

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, impl: str = "composed",
                 dtype: Any = None) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        if eps < 0:
            raise ArgumentError(f"LayerNorm: eps must be >= 0, got {eps}")
        if impl not in F.IMPLS:
            raise ArgumentError(f"LayerNorm: impl must be one of {F.IMPLS}, got {impl!r}")
        self.impl = impl
        dtype = resolve_dtype(dtype) if dtype is not None else default_float()
        self.normalized_shape = tuple(int(n) for n in normalized_shape)
        self.eps = float(eps)
        self.elementwise_affine = elementwise_affine
        self.weight = (Parameter(np.ones(self.normalized_shape, dtype), name="gamma")
                       if elementwise_affine else None)
        self.bias = (Parameter(np.zeros(self.normalized_shape, dtype), name="beta")
                     if elementwise_affine and bias else None)

    def reset_parameters(self) -> None:
        """weight = 1, bias = 0 (PyTorch's default)."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        """Normalise each sample over the trailing ``normalized_shape`` axes."""
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps,
                            self.impl)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")
