"""Gradient clipping and flat parameter vectors (``mg.nn.utils``, like ``torch.nn.utils``).

The clipping functions compute with minigrad ops under ``no_grad`` and store the result
in each ``.grad``, so a training step compiled by ``mg.jit`` traces them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .. import ops
from .._state import no_grad
from ..errors import ArgumentError, ArgumentTypeError
from ..shape_ops import cat
from ..tensor import Tensor


def _gradients(parameters: Tensor | Iterable[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
    """(parameters with a gradient, their gradients)."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    with_grad = [p for p in params if p.grad is not None]
    return with_grad, [p.grad for p in with_grad]


def _abs(x: Tensor) -> Tensor:
    return ops.where(ops.less(x, 0.0), ops.neg(x), x)


def _norm(x: Tensor, norm_type: float) -> Tensor:
    """||x||_p = (sum |x|^p)^(1/p); max |x| for p = inf; the number of nonzeros for p = 0."""
    if math.isinf(norm_type):
        return ops.max(_abs(x)) if norm_type > 0 else ops.neg(ops.max(ops.neg(_abs(x))))
    if norm_type == 0:
        return ops.sum(ops.cast(ops.not_equal(x, 0.0), x.dtype))
    if norm_type == 2:
        return ops.sqrt(ops.sum(ops.mul(x, x)))
    return ops.power(ops.sum(ops.power(_abs(x), norm_type)), 1.0 / norm_type)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Scale every gradient by min(1, max_norm / (total + 1e-6)), where total is the
    ``norm_type`` norm of all gradients together (the norm of the per-parameter norms);
    returns total (PyTorch's rule, including the 1e-6). ``foreach`` is accepted for
    PyTorch's signature."""
    norm_type = float(norm_type)
    params, grads = _gradients(parameters)
    if not grads:
        return Tensor(np.array(0.0, np.float32))
    with no_grad():
        norms = [ops.reshape(_norm(g, norm_type), (1,)) for g in grads]
        total = _norm(cat(norms), norm_type)
        if error_if_nonfinite:  # a check row: mg.jit repeats it at every call
            largest = float(np.finfo(np.float64).max)
            total = ops.require_range(
                total, -largest, largest,
                f"clip_grad_norm_: the total norm of order {norm_type} for gradients from "
                "`parameters` is non-finite, so it cannot be clipped (to scale the gradients "
                "by the non-finite norm anyway, set `error_if_nonfinite=False`)")
        coefficient = ops.div(float(max_norm), ops.add(total, 1e-6))
        clamped = ops.where(ops.greater(coefficient, 1.0), 1.0, coefficient)
        for param, grad in zip(params, grads, strict=True):
            param.grad = ops.mul(grad, ops.cast(clamped, grad.dtype))
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clip every gradient elementwise to [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    params, grads = _gradients(parameters)
    with no_grad():
        for param, grad in zip(params, grads, strict=True):
            upper = ops.where(ops.greater(grad, clip_value), clip_value, grad)
            param.grad = ops.where(ops.less(upper, -clip_value), -clip_value, upper)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one vector (differentiable)."""
    pieces = [ops.reshape(p, (-1,)) for p in parameters]
    if not pieces:
        raise ArgumentError("parameters_to_vector: no parameters given")
    return cat(pieces)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters (their shapes)."""
    if not isinstance(vec, Tensor):
        raise ArgumentTypeError(f"expected vec to be a Tensor, but got: {type(vec).__name__}")
    if vec.ndim != 1:
        raise ArgumentError(f"vector_to_parameters: vec must be 1-D, got shape {vec.shape}")
    params = list(parameters)
    needed = sum(p.data.size for p in params)
    if needed != vec.shape[0]:
        raise ArgumentError(f"vector_to_parameters: vec has {vec.shape[0]} values, the "
                            f"parameters hold {needed}")
    start = 0
    for param in params:
        count = param.data.size
        param.assign_(vec.data[start:start + count].reshape(param.shape))
        start += count
