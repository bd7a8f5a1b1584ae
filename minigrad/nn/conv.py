"""Conv1d and Conv2d layers (PyTorch's arguments, default initialisation and semantics)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _state
from ..conv import conv1d, conv2d, pair
from ..dtypes import default_float, resolve_dtype
from ..tensor import Tensor
from .module import Module, Parameter


class _ConvNd(Module):
    """Shared by Conv1d and Conv2d: argument checks, parameters and their default init.

    PyTorch's default initialisation: kaiming_uniform(a=sqrt(5)) on the weight, which is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels / groups * prod(kernel),
    and the same bound for the bias.
    """

    dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
                 padding: Any, dilation: Any, groups: int, bias: bool, padding_mode: str,
                 dtype: Any) -> None:
        super().__init__()
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, got "
                             f"{padding_mode!r}")
        if min(int(in_channels), int(out_channels), int(groups)) < 1:
            raise ValueError(f"{name}: in_channels, out_channels and groups must be >= 1, got "
                             f"{in_channels}, {out_channels} and {groups}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels={in_channels} "
                             f"and out_channels={out_channels}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = self._tuple(kernel_size, "kernel_size")
        self.stride = self._tuple(stride, "stride")
        self.padding = padding if isinstance(padding, str) else self._tuple(padding, "padding",
                                                                            minimum=0)
        self.dilation = self._tuple(dilation, "dilation")
        self.groups, self.padding_mode = int(groups), padding_mode
        dtype = resolve_dtype(dtype) if dtype is not None else default_float()
        fan_in = self.in_channels // self.groups * math.prod(self.kernel_size)
        bound = 1.0 / math.sqrt(fan_in)
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(_state.rng().uniform(-bound, bound, shape).astype(dtype),
                                name="W")
        if bias:
            values = _state.rng().uniform(-bound, bound, self.out_channels).astype(dtype)
            self.bias = Parameter(values, name="b")
        else:
            self.bias = None

    def _tuple(self, value: Any, name: str, minimum: int = 1) -> tuple[int, ...]:
        if self.dims == 2:
            return pair(value, name, type(self).__name__, minimum)
        values = (value,) if isinstance(value, int | np.integer) else tuple(value)
        if len(values) != 1 or int(values[0]) < minimum:
            raise ValueError(f"{type(self).__name__}: {name} must be an int >= {minimum} "
                             f"or a 1-tuple, got {value!r}")
        return (int(values[0]),)

    def _check_input(self, x: Tensor) -> None:
        if x.ndim != self.dims + 2 or x.shape[1] != self.in_channels:
            layout = "(N, C, L)" if self.dims == 1 else "(N, C, H, W)"
            raise ValueError(f"{type(self).__name__}({self.in_channels}, {self.out_channels}):"
                             f" expected input {layout} with C={self.in_channels}, got shape "
                             f"{x.shape}")

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding not in ((0,), (0, 0)):
            text += f", padding={self.padding!r}"
        if self.dilation not in ((1,), (1, 1)):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + ("" if self.bias is not None else ", bias=False")


class Conv2d(_ConvNd):
    """2-D convolution of (N, C, H, W) inputs (``torch.nn.Conv2d``); one conv2d node."""

    dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype)

    def forward(self, x: Tensor) -> Tensor:
        """conv2d(x, W) + b."""
        self._check_input(x)
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)


class Conv1d(_ConvNd):
    """1-D convolution of (N, C, L) inputs (``torch.nn.Conv1d``): conv2d over a unit axis."""

    dims = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype)

    def forward(self, x: Tensor) -> Tensor:
        """conv1d(x, W) + b."""
        self._check_input(x)
        return conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)
