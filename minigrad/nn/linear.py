"""Linear, Identity and Flatten layers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ops
from ..dtypes import default_float, resolve_dtype
from ..errors import ArgumentError
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter


class Linear(Module):
    """y = x @ W.T + b with W of shape (out_features, in_features).

    PyTorch's default initialisation: kaiming_uniform(a=sqrt(5)) on W, which is
    U(-1/sqrt(in_features), 1/sqrt(in_features)), and the same bound for b.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = None) -> None:
        super().__init__()
        if int(in_features) < 1 or int(out_features) < 1:
            raise ArgumentError(
                f"Linear: in_features and out_features must be >= 1, got "
                f"{in_features} and {out_features}"
            )
        dtype = resolve_dtype(dtype) if dtype is not None else default_float()
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        shape = (self.out_features, self.in_features)
        self.weight = Parameter(np.zeros(shape, dtype), name="W")
        self.bias = Parameter(np.zeros(self.out_features, dtype), name="b") if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: W and b ~ U(-1/sqrt(in_features), 1/sqrt(in_features))
        (kaiming_uniform_ with a = sqrt(5) gives that bound for W)."""
        bound = 1.0 / math.sqrt(self.in_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        """x @ W.T + b."""
        if x.shape[-1] != self.in_features:
            raise ArgumentError(
                f"Linear({self.in_features}, {self.out_features}): input has "
                f"{x.shape[-1]} features (shape {x.shape}), expected {self.in_features}"
            )
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input unchanged (arguments, as PyTorch allows, are ignored)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        """x."""
        return x


class Flatten(Module):
    """Merge the axes start_dim..end_dim into one (default: all but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x: Tensor) -> Tensor:
        """x reshaped to (*shape[:start], prod(shape[start:end+1]), *shape[end+1:])."""
        start = self.start_dim % x.ndim
        end = self.end_dim % x.ndim
        merged = math.prod(x.shape[start:end + 1])
        return ops.reshape(x, (*x.shape[:start], merged, *x.shape[end + 1:]))

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size`` (one entry may be -1)."""

    def __init__(self, dim: int, unflattened_size: tuple[int, ...]) -> None:
        super().__init__()
        self.dim = int(dim)
        self.unflattened_size = tuple(int(n) for n in unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        """x reshaped to (*shape[:dim], *unflattened_size, *shape[dim+1:])."""
        dim = self.dim % x.ndim
        sizes = self.unflattened_size
        known = math.prod(n for n in sizes if n != -1)
        if (-1 not in sizes and known != x.shape[dim]) or (known and x.shape[dim] % known):
            raise ArgumentError(f"Unflatten: unflattened_size {sizes} does not fit the size "
                                f"{x.shape[dim]} of axis {self.dim} (input shape {x.shape})")
        return ops.reshape(x, (*x.shape[:dim], *sizes, *x.shape[dim + 1:]))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
