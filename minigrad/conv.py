"""Convolution primitives: ``conv2d`` and its two VJPs, each a row of the op table.

With x of shape (N, C, H, W), w of shape (O, C/G, kh, kw) (G groups; output channel o
reads the input channels of its group), stride s, dilation d and x zero-padded to xp:

    conv2d(x, w)[n, o, i, j] = sum_{c, a, b} xp[n, g(o) C/G + c, s_h i + d_h a, s_w j + d_w b]
                                             * w[o, c, a, b]

It is bilinear in (x, w), so both its VJPs are convolutions again, and so are theirs:

    conv2d_input_grad(g, w)  = dL/dx  (a transposed convolution: g scattered back through w)
    conv2d_weight_grad(x, g) = dL/dw  (the correlation of x's windows with g)

    VJP of conv2d_input_grad(g, w), incoming h (shaped like x):
        d/dg = conv2d(h, w),               d/dw = conv2d_weight_grad(h, g)
    VJP of conv2d_weight_grad(x, g), incoming h (shaped like w):
        d/dx = conv2d_input_grad(g, h),    d/dg = conv2d(x, h)

(all from <h, A(u, v)> = <u, A*(h, v)> for the adjoint pairs above), so gradients of any
order are convolutions. Padding is per side: ((top, bottom), (left, right)), which is what
PyTorch's padding='same' needs for an even dilated kernel (the extra zero goes after).
The forward passes are numpy: strided window views (no copies) contracted with tensordot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import ops
from .errors import ArgumentError, ArgumentTypeError
from .ops import FUSED, Op, register
from .tensor import Tensor

Pair = tuple[int, int]
Padding = tuple[Pair, Pair]


# ------------------------------------------------------------------ arguments
def pair(value: Any, name: str, op: str = "conv2d", minimum: int = 1) -> Pair:
    """An int or a pair of ints as a pair, each at least ``minimum``."""
    values = (value, value) if isinstance(value, int | np.integer) else tuple(value)
    if len(values) != 2 or not all(isinstance(v, int | np.integer) for v in values):
        raise ArgumentError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(values) < minimum:
        raise ArgumentError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return int(values[0]), int(values[1])


def conv_padding(padding: Any, kernel: Pair, stride: Pair, dilation: Pair,
                 op: str = "conv2d") -> Padding:
    """PyTorch's padding argument (int, pair, 'valid', 'same') as ((top, bottom), (left,
    right)). 'same' pads d (k - 1) zeros per axis, half before (rounded down), the rest after."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding != "same":
            raise ArgumentError(f"{op}: padding must be 'valid', 'same', an int or a pair of "
                                f"ints, got {padding!r}")
        if stride != (1, 1):
            raise ArgumentError(f"{op}: padding='same' is not supported for strided "
                                f"convolutions (stride {stride}), as in PyTorch")
        total = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
        return (total[0] // 2, total[0] - total[0] // 2), (total[1] // 2, total[1] - total[1] // 2)
    ph, pw = pair(padding, "padding", op, minimum=0)
    return (ph, ph), (pw, pw)


def out_size(size: int, kernel: int, stride: int, pad: Pair, dilation: int) -> int:
    """floor((size + pads - d (k - 1) - 1) / s) + 1 (may be < 1: the caller refuses it)."""
    return (size + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride + 1


def _out_hw(hw: Sequence[int], kernel: Sequence[int], stride: Pair, padding: Padding,
            dilation: Pair) -> Pair:
    return (out_size(hw[0], kernel[0], stride[0], padding[0], dilation[0]),
            out_size(hw[1], kernel[1], stride[1], padding[1], dilation[1]))


def _check_conv(op: str, x: tuple, w: tuple, stride: Pair, padding: Padding, dilation: Pair,
                groups: int) -> tuple[int, int, int, int]:
    """(N, O, OH, OW) of conv2d(x, w), or an error naming the shapes."""
    if len(x) != 4 or len(w) != 4:
        raise ArgumentError(f"{op}: needs input (N, C, H, W) and weight (O, C/groups, kH, kW), "
                            f"got input {x} and weight {w}")
    if groups < 1 or x[1] % groups or w[0] % groups:
        raise ArgumentError(f"{op}: groups={groups} must divide the input channels ({x[1]}) and "
                            f"the output channels ({w[0]})")
    if w[1] * groups != x[1]:
        raise ArgumentError(f"{op}: weight {w} expects {w[1] * groups} input channels "
                            f"(weight.shape[1] * groups={groups}), input {x} has {x[1]}")
    if min(w[2:]) < 1:
        raise ArgumentError(f"{op}: kernel size must be at least 1, got weight {w}")
    oh, ow = _out_hw(x[2:], w[2:], stride, padding, dilation)
    if oh < 1 or ow < 1:
        padded = (x[2] + sum(padding[0]), x[3] + sum(padding[1]))
        dilated = tuple(d * (k - 1) + 1 for d, k in zip(dilation, w[2:], strict=True))
        raise ArgumentError(f"{op}: input {x} padded to {padded} is smaller than the dilated "
                            f"kernel {dilated} (weight {w}, dilation {dilation})")
    return x[0], w[0], oh, ow


# ----------------------------------------------------------------- numpy kernels
def _pad(x: np.ndarray, padding: Padding) -> np.ndarray:
    if padding == ((0, 0), (0, 0)):
        return x
    return np.pad(x, ((0, 0), (0, 0), *padding))


def windows(x: np.ndarray, kernel: Pair, stride: Pair, padding: Padding, dilation: Pair,
            out_hw: Pair) -> np.ndarray:
    """The (N, C, OH, OW, kh, kw) view of padded x that output (i, j) reads (no copy)."""
    span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True))
    view = sliding_window_view(_pad(x, padding), span, axis=(2, 3))
    view = view[:, :, ::stride[0], ::stride[1], ::dilation[0], ::dilation[1]]
    return view[:, :, :out_hw[0], :out_hw[1]]


def _conv2d_forward(x: np.ndarray, w: np.ndarray, *, stride: Pair, padding: Padding,
                    dilation: Pair, groups: int) -> np.ndarray:
    n, o, oh, ow = _check_conv("conv2d", x.shape, w.shape, stride, padding, dilation, groups)
    win = windows(x, w.shape[2:], stride, padding, dilation, (oh, ow))
    cg, og = w.shape[1], o // groups
    out = np.empty((n, o, oh, ow), dtype=np.result_type(x, w))
    for k in range(groups):
        part = np.tensordot(win[:, k * cg:(k + 1) * cg], w[k * og:(k + 1) * og],
                            axes=([1, 4, 5], [1, 2, 3]))  # (N, OH, OW, Og)
        out[:, k * og:(k + 1) * og] = part.transpose(0, 3, 1, 2)
    return out


def _input_grad_forward(g: np.ndarray, w: np.ndarray, *, in_size: Pair, stride: Pair,
                        padding: Padding, dilation: Pair, groups: int) -> np.ndarray:
    n, cg, (kh, kw) = g.shape[0], w.shape[1], w.shape[2:]
    (pt, pb), (pl, pr) = padding
    padded = np.zeros((n, cg * groups, in_size[0] + pt + pb, in_size[1] + pl + pr),
                      dtype=np.result_type(g, w))
    oh, ow = g.shape[2:]
    og = w.shape[0] // groups
    for k in range(groups):
        cols = np.tensordot(g[:, k * og:(k + 1) * og], w[k * og:(k + 1) * og],
                            axes=([1], [0]))  # (N, OH, OW, Cg, kh, kw)
        cols = cols.transpose(0, 3, 4, 5, 1, 2)
        for a in range(kh):
            rows = slice(a * dilation[0], a * dilation[0] + (oh - 1) * stride[0] + 1, stride[0])
            for b in range(kw):
                cols_at = slice(b * dilation[1], b * dilation[1] + (ow - 1) * stride[1] + 1,
                                stride[1])
                padded[:, k * cg:(k + 1) * cg, rows, cols_at] += cols[:, :, a, b]
    return np.ascontiguousarray(padded[:, :, pt:pt + in_size[0], pl:pl + in_size[1]])


def _weight_grad_forward(x: np.ndarray, g: np.ndarray, *, kernel_size: Pair, stride: Pair,
                         padding: Padding, dilation: Pair, groups: int) -> np.ndarray:
    o, oh, ow = g.shape[1:]
    win = windows(x, kernel_size, stride, padding, dilation, (oh, ow))
    cg, og = x.shape[1] // groups, o // groups
    out = np.empty((o, cg, *kernel_size), dtype=np.result_type(x, g))
    for k in range(groups):
        out[k * og:(k + 1) * og] = np.tensordot(
            g[:, k * og:(k + 1) * og], win[:, k * cg:(k + 1) * cg], axes=([0, 2, 3], [0, 2, 3]))
    return out


# --------------------------------------------------------------------- shape rules
def _conv2d_shape(x: tuple, w: tuple, *, stride: Pair, padding: Padding, dilation: Pair,
                  groups: int) -> tuple:
    return _check_conv("conv2d", x, w, stride, padding, dilation, groups)


def _input_grad_shape(g: tuple, w: tuple, *, in_size: Pair, stride: Pair, padding: Padding,
                      dilation: Pair, groups: int) -> tuple:
    x = (g[0] if g else 0, w[1] * groups if len(w) == 4 else 0, *in_size)
    expected = _check_conv("conv2d_input_grad", x, w, stride, padding, dilation, groups)
    if tuple(g) != expected:
        raise ArgumentError(f"conv2d_input_grad: gradient {g} does not fit the output {expected} "
                            f"of an input {x} with weight {w}")
    return x


def _weight_grad_shape(x: tuple, g: tuple, *, kernel_size: Pair, stride: Pair,
                       padding: Padding, dilation: Pair, groups: int) -> tuple:
    cin = x[1] if len(x) == 4 else 0
    w = (g[1] if len(g) == 4 else 0, cin // max(groups, 1), *kernel_size)
    expected = _check_conv("conv2d_weight_grad", x, w, stride, padding, dilation, groups)
    if tuple(g) != expected:
        raise ArgumentError(f"conv2d_weight_grad: gradient {g} does not fit the output "
                            f"{expected} of input {x} with weight {w}")
    return w


# ------------------------------------------------------------------------- rows
def _conv2d_vjp(g: Tensor, out: Tensor, x: Tensor, w: Tensor, **attrs: Any) -> tuple:
    return ops.only_needed(
        lambda: conv2d_input_grad(g, w, x.shape[2:], **attrs),
        lambda: conv2d_weight_grad(x, g, w.shape[2:], **attrs),
    )


CONV2D = register(Op(
    "conv2d", FUSED, 2, _conv2d_forward, _conv2d_shape, _conv2d_vjp,
    grads=("conv2d_input_grad({g}, {1})", "conv2d_weight_grad({0}, {g})"),
    doc="out[n,o,i,j] = sum_{c,a,b} xpad[n, c, s*i + d*a, s*j + d*b] * w[o, c, a, b]",
))


def _input_grad_vjp(h: Tensor, out: Tensor, g: Tensor, w: Tensor, *, in_size: Pair,
                    **attrs: Any) -> tuple:
    return ops.only_needed(
        lambda: conv2d_primitive(h, w, **attrs),
        lambda: conv2d_weight_grad(h, g, w.shape[2:], **attrs),
    )


CONV2D_INPUT_GRAD = register(Op(
    "conv2d_input_grad", FUSED, 2, _input_grad_forward, _input_grad_shape, _input_grad_vjp,
    grads=("conv2d({g}, {1})", "conv2d_weight_grad({g}, {0})"),
    doc="dx = the transposed convolution of g with w (the VJP of conv2d in x)",
))


def _weight_grad_vjp(h: Tensor, out: Tensor, x: Tensor, g: Tensor, *, kernel_size: Pair,
                     **attrs: Any) -> tuple:
    return ops.only_needed(
        lambda: conv2d_input_grad(g, h, x.shape[2:], **attrs),
        lambda: conv2d_primitive(x, h, **attrs),
    )


CONV2D_WEIGHT_GRAD = register(Op(
    "conv2d_weight_grad", FUSED, 2, _weight_grad_forward, _weight_grad_shape,
    _weight_grad_vjp,
    grads=("conv2d_input_grad({1}, {g})", "conv2d({0}, {g})"),
    doc="dw[o,c,a,b] = sum_{n,i,j} g[n,o,i,j] * xpad[n, c, s*i + d*a, s*j + d*b]",
))


def conv2d_primitive(x: Tensor, w: Tensor, *, stride: Pair, padding: Padding,
                     dilation: Pair, groups: int) -> Tensor:
    """The conv2d row with normalised arguments (see ``conv2d`` for PyTorch's)."""
    return ops.apply(CONV2D, x, w, stride=stride, padding=padding, dilation=dilation,
                     groups=groups)


def conv2d_input_grad(g: Tensor, w: Tensor, in_size: Sequence[int], *, stride: Pair,
                      padding: Padding, dilation: Pair, groups: int) -> Tensor:
    """dL/dx of conv2d for an input of spatial size ``in_size`` (a transposed convolution)."""
    return ops.apply(CONV2D_INPUT_GRAD, g, w, in_size=tuple(in_size), stride=stride,
                     padding=padding, dilation=dilation, groups=groups)


def conv2d_weight_grad(x: Tensor, g: Tensor, kernel_size: Sequence[int], *, stride: Pair,
                       padding: Padding, dilation: Pair, groups: int) -> Tensor:
    """dL/dw of conv2d for a kernel of ``kernel_size`` (a correlation of x with g)."""
    return ops.apply(CONV2D_WEIGHT_GRAD, x, g, kernel_size=tuple(kernel_size), stride=stride,
                     padding=padding, dilation=dilation, groups=groups)


# ------------------------------------------------------------- PyTorch's functions
LAYOUTS = {3: "(N, C, L)", 4: "(N, C, H, W)", 5: "(N, C, D, H, W)"}


def _check_operands(op: str, x: Tensor, weight: Tensor, bias: Tensor | None,
                    ndim: int, transposed: bool = False) -> None:
    if x.ndim != ndim or weight.ndim != ndim:
        raise ArgumentError(f"{op}: needs a {ndim}-D input {LAYOUTS[ndim]} (or {ndim - 1}-D "
                            f"unbatched) and a {ndim}-D weight, got input {x.shape} and weight "
                            f"{weight.shape}")
    dtypes = [t.dtype for t in (x, weight, bias) if t is not None]
    if any(d.kind != "f" for d in dtypes) or len(set(dtypes)) > 1:
        listed = ", ".join(str(d) for d in dtypes)
        raise ArgumentTypeError(f"{op}: input, weight and bias must share one floating dtype, got "
                                f"{listed}")
    if not transposed and bias is not None and bias.shape != (weight.shape[0],):
        raise ArgumentError(f"{op}: bias of shape {bias.shape} does not fit {weight.shape[0]} "
                            f"output channels (weight {weight.shape})")


def _tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(value)


def operands(op: str, input: Any, weight: Any, bias: Any, ndim: int,  # noqa: A002
             transposed: bool = False) -> tuple[Tensor, Tensor, Tensor | None, bool]:
    """(x, weight, bias, unbatched) checked; an unbatched input (no N axis, as PyTorch
    takes it) gets a batch axis of one, which the caller removes again."""
    x, weight = _tensor(input), _tensor(weight)
    bias = None if bias is None else _tensor(bias)
    unbatched = x.ndim == ndim - 1
    if unbatched:
        x = ops.reshape(x, (1, *x.shape))
    _check_operands(op, x, weight, bias, ndim, transposed)
    return x, weight, bias, unbatched


def conv2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """``torch.nn.functional.conv2d``: one conv2d node, plus an add of the bias."""
    x, weight, bias, unbatched = operands("conv2d", input, weight, bias, 4)
    stride, dilation = pair(stride, "stride"), pair(dilation, "dilation")
    pads = conv_padding(padding, weight.shape[2:], stride, dilation)
    out = conv2d_primitive(x, weight, stride=stride, padding=pads, dilation=dilation,
                           groups=int(groups))
    if bias is not None:
        out = ops.add(out, ops.reshape(bias, (1, -1, 1, 1)))
    return ops.reshape(out, out.shape[1:]) if unbatched else out


def _single(value: Any, name: str) -> int | str:
    if isinstance(value, str):
        return value
    values = (value,) if isinstance(value, int | np.integer) else tuple(value)
    if len(values) != 1:
        raise ArgumentError(f"conv1d: {name} must be an int or a 1-tuple, got {value!r}")
    return int(values[0])


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """``torch.nn.functional.conv1d``: conv2d over a unit height axis (reshapes around it)."""
    x, weight, bias, unbatched = operands("conv1d", input, weight, bias, 3)
    pad = _single(padding, "padding")
    out = conv2d(ops.reshape(x, (x.shape[0], x.shape[1], 1, x.shape[2])),
                 ops.reshape(weight, (*weight.shape[:2], 1, weight.shape[2])), bias,
                 stride=(1, _single(stride, "stride")),
                 padding=pad if isinstance(pad, str) else (0, pad),
                 dilation=(1, _single(dilation, "dilation")), groups=groups)
    out = ops.reshape(out, (out.shape[0], out.shape[1], out.shape[3]))
    return ops.reshape(out, out.shape[1:]) if unbatched else out
