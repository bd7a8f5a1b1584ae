"""conv3d and the transposed convolutions, composed from the conv2d rows (minigrad/conv.py)
and indexing, so their gradients of every order, drawings and JIT lowering come from those.

* ``conv_transpose2d(x, w)`` is conv2d's input gradient: ``conv2d_input_grad(x, w)`` with
  w (C_in, C_out/G, kh, kw) read as the weight of a conv from C_out to C_in channels, and
  the transposed conv's output size per axis

      out = (in - 1) s - 2 p + d (k - 1) + output_padding + 1

  as the input size of the conv it is the gradient of. ``output_padding`` q makes the
  padding after p - q; where q > p the rows past the last one any input reaches are zeros.
* ``conv3d``: the depth axis unrolled into channels. For kernel depth a and output depth z
  the input depth read is s_d z + d_d a, so with xd[n, (g, a, c), z] = xpad[n, (g, c),
  s_d z + d_d a] (one index node) and w2[o, (a, c)] = w[o, c, a]:

      conv3d(x, w)[n, o, z] = conv2d(xd[n, :, z], w2)[o]      (N * OD images of kd * C)

* ``conv_transpose3d``: the adjoint of that: conv_transpose2d of each input depth into kd
  partial outputs, added back at depths s_d i + d_d a - p_d (one index_add node).
* ``conv_transpose1d``: conv_transpose2d over a unit height axis.

Unbatched inputs (no N axis) are taken as a batch of one, as PyTorch does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ops
from .conv import Pair, conv2d_input_grad, conv2d_primitive, operands, out_size
from .errors import ArgumentError
from .shape_ops import pad
from .tensor import Tensor

Pads = tuple[Pair, ...]


# ------------------------------------------------------------------ arguments
def ntuple(value: Any, n: int, name: str, op: str, minimum: int = 1) -> tuple[int, ...]:
    """An int or a tuple of ``n`` ints as a tuple of ``n`` ints, each at least ``minimum``."""
    values = (value,) * n if isinstance(value, int | np.integer) else tuple(value)
    if len(values) != n or not all(isinstance(v, int | np.integer) for v in values):
        raise ArgumentError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if min(values) < minimum:
        raise ArgumentError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return tuple(int(v) for v in values)


def conv_pads(padding: Any, kernel: Sequence[int], stride: Sequence[int],
              dilation: Sequence[int], op: str) -> Pads:
    """PyTorch's conv padding (int, tuple, 'valid', 'same') as (before, after) per axis;
    'same' pads d (k - 1) per axis, half before (rounded down), the rest after."""
    n = len(kernel)
    if not isinstance(padding, str):
        return tuple((p, p) for p in ntuple(padding, n, "padding", op, minimum=0))
    if padding == "valid":
        return ((0, 0),) * n
    if padding != "same":
        raise ArgumentError(f"{op}: padding must be 'valid', 'same', an int or a tuple of {n} "
                            f"ints, got {padding!r}")
    if any(s != 1 for s in stride):
        raise ArgumentError(f"{op}: padding='same' is not supported for strided convolutions "
                            f"(stride {tuple(stride)}), as in PyTorch")
    totals = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
    return tuple((t // 2, t - t // 2) for t in totals)


def _conv_sizes(op: str, x: tuple, w: tuple, stride: Sequence[int], pads: Pads,
                dilation: Sequence[int]) -> tuple[int, ...]:
    """The output's spatial sizes, or an error naming the shapes."""
    sizes = tuple(out_size(n, k, s, p, d) for n, k, s, p, d in
                  zip(x[2:], w[2:], stride, pads, dilation, strict=True))
    if min(sizes) < 1:
        padded = tuple(n + sum(p) for n, p in zip(x[2:], pads, strict=True))
        dilated = tuple(d * (k - 1) + 1 for d, k in zip(dilation, w[2:], strict=True))
        raise ArgumentError(f"{op}: input {x} padded to {padded} is smaller than the dilated "
                            f"kernel {dilated} (weight {w}, dilation {tuple(dilation)})")
    return sizes


def _transpose_args(op: str, n: int, stride: Any, padding: Any, output_padding: Any,
                    dilation: Any) -> tuple[tuple[int, ...], ...]:
    if isinstance(padding, str):
        raise ArgumentError(f"{op}: padding must be an int or a tuple of {n} ints, got "
                            f"{padding!r} (PyTorch has no string padding for it)")
    stride, dilation = ntuple(stride, n, "stride", op), ntuple(dilation, n, "dilation", op)
    padding = ntuple(padding, n, "padding", op, minimum=0)
    output_padding = ntuple(output_padding, n, "output_padding", op, minimum=0)
    for q, s, d in zip(output_padding, stride, dilation, strict=True):
        if q >= max(s, d):
            raise ArgumentError(f"{op}: output_padding {output_padding} must be smaller than "
                                f"either stride {stride} or dilation {dilation} on each axis")
    return stride, padding, output_padding, dilation


def transposed_sizes(op: str, x: tuple, w: tuple, stride: Sequence[int],
                     padding: Sequence[int], output_padding: Sequence[int],
                     dilation: Sequence[int]) -> tuple[int, ...]:
    """(in - 1) s - 2 p + d (k - 1) + output_padding + 1 per axis, each at least 1."""
    sizes = tuple((n - 1) * s - 2 * p + d * (k - 1) + q + 1 for n, k, s, p, q, d in
                  zip(x[2:], w[2:], stride, padding, output_padding, dilation, strict=True))
    if min(sizes) < 1:
        raise ArgumentError(f"{op}: input {x} with weight {w}, stride {tuple(stride)}, padding "
                            f"{tuple(padding)} and dilation {tuple(dilation)} gives an output "
                            f"of size {sizes}, which is too small")
    return sizes


def _check_transpose(op: str, x: Tensor, weight: Tensor, bias: Tensor | None,
                     groups: int) -> None:
    cin, cout_g = weight.shape[0], weight.shape[1]
    if groups < 1 or cin % groups:
        raise ArgumentError(f"{op}: groups={groups} must divide the input channels "
                            f"(weight {weight.shape}: weight.shape[0]={cin})")
    if x.shape[1] != cin:
        raise ArgumentError(f"{op}: weight {weight.shape} expects {cin} input channels "
                            f"(weight.shape[0]), input {x.shape} has {x.shape[1]}")
    if min(weight.shape[2:]) < 1:
        raise ArgumentError(f"{op}: kernel size must be at least 1, got weight {weight.shape}")
    if bias is not None and bias.shape != (cout_g * groups,):
        raise ArgumentError(f"{op}: bias of shape {bias.shape} does not fit {cout_g * groups} "
                            f"output channels (weight {weight.shape}, groups={groups})")


def _finish(out: Tensor, bias: Tensor | None, unbatched: bool) -> Tensor:
    if bias is not None:
        out = ops.add(out, ops.reshape(bias, (1, -1) + (1,) * (out.ndim - 2)))
    return ops.reshape(out, out.shape[1:]) if unbatched else out


# ------------------------------------------------------------------- conv3d
def _depth_positions(kernel: int, out: int, stride: int, dilation: int) -> np.ndarray:
    """(kernel, out): the (padded) depth that kernel depth a at output depth z reads."""
    return np.arange(kernel)[:, None] * dilation + np.arange(out)[None, :] * stride


def _conv3d(x: Tensor, weight: Tensor, stride: tuple, pads: Pads, dilation: tuple,
            groups: int, depth: int) -> Tensor:
    """conv3d as one conv2d over N * OD images whose channels are (group, kd, C/G)."""
    n, _, _, h, w = x.shape
    o, cg, kd = weight.shape[:3]
    if pads[0] != (0, 0):
        x = pad(x, (0, 0, 0, 0, *pads[0]))
    positions = _depth_positions(kd, depth, stride[0], dilation[0])
    cols = ops.index(x, (slice(None), slice(None), positions))  # (N, C, kd, OD, H, W)
    cols = ops.reshape(cols, (n, groups, cg, kd, depth, h, w))
    cols = ops.reshape(ops.transpose(cols, (0, 4, 1, 3, 2, 5, 6)),
                       (n * depth, groups * kd * cg, h, w))
    w2 = ops.reshape(ops.transpose(weight, (0, 2, 1, 3, 4)), (o, kd * cg, *weight.shape[3:]))
    out = conv2d_primitive(cols, w2, stride=stride[1:], padding=pads[1:],
                           dilation=dilation[1:], groups=groups)
    out = ops.reshape(out, (n, depth, o, *out.shape[2:]))
    return ops.transpose(out, (0, 2, 1, 3, 4))


def conv3d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """``torch.nn.functional.conv3d`` of (N, C, D, H, W) or (C, D, H, W):

    out[n, o, z, i, j] = sum_{c, a, b, e} xpad[n, c, s z + d a, s i + d b, s j + d e]
                                          * w[o, c, a, b, e]  (+ bias[o])
    """
    x, weight, bias, unbatched = operands("conv3d", input, weight, bias, 5)
    stride = ntuple(stride, 3, "stride", "conv3d")
    dilation = ntuple(dilation, 3, "dilation", "conv3d")
    pads = conv_pads(padding, weight.shape[2:], stride, dilation, "conv3d")
    groups = int(groups)
    if groups < 1 or x.shape[1] % groups or weight.shape[0] % groups:
        raise ArgumentError(f"conv3d: groups={groups} must divide the input channels "
                            f"({x.shape[1]}) and the output channels ({weight.shape[0]})")
    if weight.shape[1] * groups != x.shape[1]:
        raise ArgumentError(f"conv3d: weight {weight.shape} expects {weight.shape[1] * groups} "
                            f"input channels (weight.shape[1] * groups={groups}), input "
                            f"{x.shape} has {x.shape[1]}")
    if min(weight.shape[2:]) < 1:
        raise ArgumentError(f"conv3d: kernel size must be at least 1, got weight {weight.shape}")
    sizes = _conv_sizes("conv3d", x.shape, weight.shape, stride, pads, dilation)
    out = _conv3d(x, weight, stride, pads, dilation, groups, sizes[0])
    return _finish(out, bias, unbatched)


# ------------------------------------------------------------- transposed convs
def _conv_transpose2d(x: Tensor, weight: Tensor, sizes: Sequence[int], stride: tuple,
                      padding: tuple, output_padding: tuple, dilation: tuple,
                      groups: int) -> Tensor:
    """conv2d_input_grad(x, weight) for an input of ``sizes``: padding (p, p - q) per axis;
    where q > p, (p, 0) and zeros after."""
    pads, inner, extra = [], [], []
    for size, p, q in zip(sizes, padding, output_padding, strict=True):
        beyond = max(q - p, 0)
        pads.append((p, max(p - q, 0)))
        inner.append(size - beyond)
        extra.append(beyond)
    out = conv2d_input_grad(x, weight, inner, stride=tuple(stride), padding=tuple(pads),
                            dilation=tuple(dilation), groups=groups)
    if any(extra):
        out = pad(out, (0, extra[1], 0, extra[0]))
    return out


def conv_transpose2d(input: Any, weight: Any, bias: Any = None,  # noqa: A002
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """``torch.nn.functional.conv_transpose2d``: x (N, C_in, H, W), weight (C_in,
    C_out/groups, kh, kw); the gradient of conv2d with respect to its input:

    out[n, (g, c), s i + d a - p, s j + d b - p] += x[n, (g, ci), i, j] * w[(g, ci), c, a, b]
    """
    op = "conv_transpose2d"
    x, weight, bias, unbatched = operands(op, input, weight, bias, 4, transposed=True)
    groups = int(groups)
    _check_transpose(op, x, weight, bias, groups)
    args = _transpose_args(op, 2, stride, padding, output_padding, dilation)
    sizes = transposed_sizes(op, x.shape, weight.shape, *args)
    return _finish(_conv_transpose2d(x, weight, sizes, *args, groups), bias, unbatched)


def conv_transpose1d(input: Any, weight: Any, bias: Any = None,  # noqa: A002
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """``torch.nn.functional.conv_transpose1d``: conv_transpose2d over a unit height axis."""
    op = "conv_transpose1d"
    x, weight, bias, unbatched = operands(op, input, weight, bias, 3, transposed=True)
    groups = int(groups)
    _check_transpose(op, x, weight, bias, groups)
    args = _transpose_args(op, 1, stride, padding, output_padding, dilation)
    (size,) = transposed_sizes(op, x.shape, weight.shape, *args)
    x2 = ops.reshape(x, (x.shape[0], x.shape[1], 1, x.shape[2]))
    w2 = ops.reshape(weight, (*weight.shape[:2], 1, weight.shape[2]))
    (s,), (p,), (q,), (d,) = args
    out = _conv_transpose2d(x2, w2, (1, size), (1, s), (0, p), (0, q), (1, d), groups)
    return _finish(ops.reshape(out, (out.shape[0], out.shape[1], size)), bias, unbatched)


def conv_transpose3d(input: Any, weight: Any, bias: Any = None,  # noqa: A002
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """``torch.nn.functional.conv_transpose3d``: x (N, C_in, D, H, W), weight (C_in,
    C_out/groups, kd, kh, kw); each input depth's conv_transpose2d with the kd kernel
    slices, added at output depths s i + d a - p (the adjoint of conv3d in its input)."""
    op = "conv_transpose3d"
    x, weight, bias, unbatched = operands(op, input, weight, bias, 5, transposed=True)
    groups = int(groups)
    _check_transpose(op, x, weight, bias, groups)
    stride, padding, output_padding, dilation = _transpose_args(
        op, 3, stride, padding, output_padding, dilation)
    sizes = transposed_sizes(op, x.shape, weight.shape, stride, padding, output_padding,
                             dilation)
    n, cin, depth, h, w = x.shape
    cog, kd = weight.shape[1], weight.shape[2]
    x2 = ops.reshape(ops.transpose(x, (0, 2, 1, 3, 4)), (n * depth, cin, h, w))
    w2 = ops.reshape(ops.transpose(weight, (0, 2, 1, 3, 4)), (cin, kd * cog, *weight.shape[3:]))
    parts = _conv_transpose2d(x2, w2, sizes[1:], stride[1:], padding[1:], output_padding[1:],
                              dilation[1:], groups)  # (N * D, (G, kd, C_out/G), H', W')
    parts = ops.reshape(parts, (n, depth, groups, kd, cog, *sizes[1:]))
    parts = ops.reshape(ops.transpose(parts, (0, 2, 4, 3, 1, 5, 6)),
                        (n, groups * cog, kd, depth, *sizes[1:]))
    positions = _depth_positions(kd, depth, stride[0], dilation[0])
    full = max(int(positions.max()) + 1, padding[0] + sizes[0])
    placed = ops.index_add(parts, (slice(None), slice(None), positions),
                           (n, groups * cog, full, *sizes[1:]))
    out = ops.index(placed, (slice(None), slice(None), slice(padding[0], padding[0] + sizes[0])))
    return _finish(out, bias, unbatched)


__all__ = ["conv3d", "conv_pads", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "ntuple", "transposed_sizes"]
