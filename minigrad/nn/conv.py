"""Conv1d/2d/3d and ConvTranspose1d/2d/3d layers (PyTorch's arguments, default
initialisation and semantics)."""

from __future__ import annotations

import math
from typing import Any

from .. import _state
from ..conv import LAYOUTS, conv1d, conv2d
from ..conv_nd import (
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    ntuple,
    transposed_sizes,
)
from ..dtypes import default_float, resolve_dtype
from ..errors import ArgumentError
from ..tensor import Tensor
from .module import Module, Parameter


class _ConvNd(Module):
    """Shared by the conv layers: argument checks, parameters and their default init.

    PyTorch's default initialisation: kaiming_uniform(a=sqrt(5)) on the weight, which is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = weight.shape[1] * prod(kernel)
    (in_channels / groups; out_channels / groups for a transposed conv, whose weight is
    (in, out / groups, *kernel)), and the same bound for the bias.
    """

    dims = 2
    transposed = False
    function = staticmethod(conv2d)  # each layer's functional form

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ArgumentError(f"{name}: only padding_mode='zeros' is supported, got "
                                f"{padding_mode!r}")
        if min(int(in_channels), int(out_channels), int(groups)) < 1:
            raise ArgumentError(f"{name}: in_channels, out_channels and groups must be >= 1, got "
                                f"{in_channels}, {out_channels} and {groups}")
        if in_channels % groups or out_channels % groups:
            raise ArgumentError(f"{name}: groups={groups} must divide in_channels={in_channels} "
                                f"and out_channels={out_channels}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = self._tuple(kernel_size, "kernel_size")
        self.stride = self._tuple(stride, "stride")
        self.padding = padding if isinstance(padding, str) else self._tuple(padding, "padding",
                                                                            minimum=0)
        self.dilation = self._tuple(dilation, "dilation")
        self.groups, self.padding_mode = int(groups), padding_mode
        dtype = resolve_dtype(dtype) if dtype is not None else default_float()
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        if self.transposed:
            shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        bound = 1.0 / math.sqrt(shape[1] * math.prod(self.kernel_size))
        self.weight = Parameter(_state.rng().uniform(-bound, bound, shape).astype(dtype),
                                name="W")
        if bias:
            values = _state.rng().uniform(-bound, bound, self.out_channels).astype(dtype)
            self.bias = Parameter(values, name="b")
        else:
            self.bias = None

    def _tuple(self, value: Any, name: str, minimum: int = 1) -> tuple[int, ...]:
        return ntuple(value, self.dims, name, type(self).__name__, minimum)

    def forward(self, x: Tensor) -> Tensor:
        """conv(x, W) + b, with the layer's dims."""
        self._check_input(x)
        return self.function(x, self.weight, self.bias, self.stride, self.padding,
                             self.dilation, self.groups)

    def _check_input(self, x: Tensor) -> None:
        if x.ndim != self.dims + 2 or x.shape[1] != self.in_channels:
            layout = LAYOUTS[self.dims + 2]
            raise ArgumentError(f"{type(self).__name__}({self.in_channels}, {self.out_channels}):"
                                f" expected input {layout} with C={self.in_channels}, got shape "
                                f"{x.shape}")

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding not in ((0,), (0, 0), (0, 0, 0)):
            text += f", padding={self.padding!r}"
        if self.dilation not in ((1,), (1, 1), (1, 1, 1)):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + ("" if self.bias is not None else ", bias=False")


class Conv2d(_ConvNd):
    """2-D convolution of (N, C, H, W) inputs (``torch.nn.Conv2d``); one conv2d node."""

    dims = 2
    function = staticmethod(conv2d)


class Conv1d(_ConvNd):
    """1-D convolution of (N, C, L) inputs (``torch.nn.Conv1d``): conv2d over a unit axis."""

    dims = 1
    function = staticmethod(conv1d)


class Conv3d(_ConvNd):
    """3-D convolution of (N, C, D, H, W) inputs (``torch.nn.Conv3d``)."""

    dims = 3
    function = staticmethod(conv3d)


class _ConvTransposeNd(_ConvNd):
    """Shared by ConvTranspose1d/2d/3d: weight (in, out / groups, *kernel), output_padding,
    and ``forward(x, output_size)`` choosing output_padding to reach ``output_size``."""

    transposed = True
    function = staticmethod(conv_transpose2d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", dtype: Any = None) -> None:
        if isinstance(padding, str):
            raise ArgumentError(f"{type(self).__name__}: padding must be an int or a tuple of "
                                f"ints, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype)
        self.output_padding = self._tuple(output_padding, "output_padding", minimum=0)

    def _output_padding(self, x: Tensor, output_size: Any) -> tuple[int, ...]:
        """output_size - the smallest output, per axis (PyTorch's rule: in [0, stride))."""
        if output_size is None:
            return self.output_padding
        wanted = tuple(int(v) for v in output_size)[-self.dims:]
        smallest = transposed_sizes(type(self).__name__, x.shape, self.weight.shape,
                                    self.stride, self.padding, (0,) * self.dims,
                                    self.dilation)
        extra = tuple(w - s for w, s in zip(wanted, smallest, strict=True))
        if len(wanted) != self.dims or any(not 0 <= e < s for e, s in
                                           zip(extra, self.stride, strict=True)):
            largest = tuple(s + t - 1 for s, t in zip(smallest, self.stride, strict=True))
            raise ArgumentError(f"{type(self).__name__}: output_size {tuple(output_size)} must "
                                f"lie between {smallest} and {largest} for input {x.shape}")
        return extra

    def forward(self, x: Tensor, output_size: Any = None) -> Tensor:
        """conv_transpose(x, W) + b."""
        self._check_input(x)
        return self.function(x, self.weight, self.bias, self.stride, self.padding,
                             self._output_padding(x, output_size), self.groups,
                             self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """``torch.nn.ConvTranspose1d``: the gradient of a conv1d with respect to its input."""

    dims = 1
    function = staticmethod(conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """``torch.nn.ConvTranspose2d``: the gradient of a conv2d with respect to its input."""

    dims = 2
    function = staticmethod(conv_transpose2d)


class ConvTranspose3d(_ConvTransposeNd):
    """``torch.nn.ConvTranspose3d``: the gradient of a conv3d with respect to its input."""

    dims = 3
    function = staticmethod(conv_transpose3d)
