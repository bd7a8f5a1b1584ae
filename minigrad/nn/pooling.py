"""Pooling layers (``torch.nn.MaxPool1d/2d/3d``, ``AvgPool1d/2d/3d``, ``AdaptiveAvgPool2d``)
and ``torch.nn.Upsample``."""

from __future__ import annotations

from typing import Any

from ..blocks import fold, pixel_shuffle, pixel_unshuffle, unfold
from ..interpolate import interpolate
from ..pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from ..pool_nd import (
    adaptive_avg_pool1d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
    avg_pool1d,
    avg_pool3d,
    lp_pool1d,
    lp_pool2d,
    lp_pool3d,
    max_pool1d,
    max_pool3d,
)
from ..tensor import Tensor
from .module import Module


class MaxPool2d(Module):
    """The maximum of each window; the gradient goes to one element (PyTorch's argmax)."""

    function = staticmethod(max_pool2d)

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        """max_pool2d(x)."""
        return self.function(x, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, "
                f"padding={self.padding}, dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """The mean of each window (PyTorch's count_include_pad, ceil_mode, divisor_override)."""

    function = staticmethod(avg_pool2d)

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, x: Tensor) -> Tensor:
        """avg_pool2d(x)."""
        return self.function(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                             self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, "
                f"padding={self.padding}")


class AdaptiveAvgPool2d(Module):
    """Means over windows that split each axis into ``output_size`` parts."""

    function = staticmethod(adaptive_avg_pool2d)

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        """adaptive_avg_pool2d(x, output_size)."""
        return self.function(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class MaxPool1d(MaxPool2d):
    """``torch.nn.MaxPool1d`` of (N, C, L)."""

    function = staticmethod(max_pool1d)


class MaxPool3d(MaxPool2d):
    """``torch.nn.MaxPool3d`` of (N, C, D, H, W)."""

    function = staticmethod(max_pool3d)


class AvgPool1d(AvgPool2d):
    """``torch.nn.AvgPool1d`` of (N, C, L) (no divisor_override, as PyTorch)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)

    def forward(self, x: Tensor) -> Tensor:
        """avg_pool1d(x)."""
        return avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad)


class AvgPool3d(AvgPool2d):
    """``torch.nn.AvgPool3d`` of (N, C, D, H, W)."""

    function = staticmethod(avg_pool3d)


class Upsample(Module):
    """``torch.nn.Upsample``: interpolate to ``size`` or by ``scale_factor``."""

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, x: Tensor) -> Tensor:
        """interpolate(x)."""
        return interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                           self.recompute_scale_factor)

    def extra_repr(self) -> str:
        which = f"size={self.size}" if self.size is not None else (
            f"scale_factor={self.scale_factor}")
        return f"{which}, mode={self.mode!r}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """``torch.nn.AdaptiveAvgPool1d`` of (N, C, L)."""

    function = staticmethod(adaptive_avg_pool1d)


class AdaptiveAvgPool3d(AdaptiveAvgPool2d):
    """``torch.nn.AdaptiveAvgPool3d`` of (N, C, D, H, W)."""

    function = staticmethod(adaptive_avg_pool3d)


class UpsamplingNearest2d(Upsample):
    """``torch.nn.UpsamplingNearest2d``: Upsample with mode 'nearest'."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``torch.nn.UpsamplingBilinear2d``: Upsample with mode 'bilinear', corners aligned."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(Module):
    """``torch.nn.PixelShuffle``: (*, C r^2, H, W) to (*, C, H r, W r)."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, x: Tensor) -> Tensor:
        """pixel_shuffle(x, r)."""
        return pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``torch.nn.PixelUnshuffle``: (*, C, H r, W r) to (*, C r^2, H, W)."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, x: Tensor) -> Tensor:
        """pixel_unshuffle(x, r)."""
        return pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class AdaptiveMaxPool2d(Module):
    """``torch.nn.AdaptiveMaxPool2d``: maxima over windows splitting each axis into
    ``output_size`` parts (and their indices with ``return_indices``)."""

    function = staticmethod(adaptive_max_pool2d)

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        """adaptive_max_pool(x, output_size)."""
        return self.function(x, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """``torch.nn.AdaptiveMaxPool1d`` of (N, C, L)."""

    function = staticmethod(adaptive_max_pool1d)


class AdaptiveMaxPool3d(AdaptiveMaxPool2d):
    """``torch.nn.AdaptiveMaxPool3d`` of (N, C, D, H, W)."""

    function = staticmethod(adaptive_max_pool3d)


class LPPool2d(Module):
    """``torch.nn.LPPool2d``: (sum over each window of x^p)^(1/p)."""

    function = staticmethod(lp_pool2d)

    def __init__(self, norm_type: float, kernel_size: Any, stride: Any = None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type, self.kernel_size, self.stride = norm_type, kernel_size, stride
        self.ceil_mode = ceil_mode

    def forward(self, x: Tensor) -> Tensor:
        """lp_pool(x)."""
        return self.function(x, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return f"norm_type={self.norm_type}, kernel_size={self.kernel_size}"


class LPPool1d(LPPool2d):
    """``torch.nn.LPPool1d`` of (N, C, L)."""

    function = staticmethod(lp_pool1d)


class LPPool3d(LPPool2d):
    """``torch.nn.LPPool3d`` of (N, C, D, H, W)."""

    function = staticmethod(lp_pool3d)


class Unfold(Module):
    """``torch.nn.Unfold``: every sliding block of the input as a column (im2col)."""

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1) -> None:
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, x: Tensor) -> Tensor:
        """unfold(x)."""
        return unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class Fold(Unfold):
    """``torch.nn.Fold``: columns added back into an image of ``output_size`` (col2im)."""

    def __init__(self, output_size: Any, kernel_size: Any, dilation: Any = 1,
                 padding: Any = 0, stride: Any = 1) -> None:
        super().__init__(kernel_size, dilation, padding, stride)
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        """fold(x, output_size)."""
        return fold(x, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)
