"""The matrix product row (numpy's matmul rules: 1-D operands, broadcast batch axes)."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from ..errors import ArgumentError
from ..tensor import Tensor
from .core import MATMUL, Op, apply, broadcast_shapes, only_needed, register, unbroadcast
from .movement import reshape, transpose


def _matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if len(a) == 0 or len(b) == 0:
        raise ArgumentError(f"matmul: both operands need at least 1 dimension, got {a} @ {b}")
    inner_a = a[-1]
    inner_b = b[-2] if len(b) > 1 else b[0]
    if inner_a != inner_b:
        raise ArgumentError(
            f"matmul: inner dimensions differ: {a} @ {b} ({inner_a} != {inner_b})"
        )
    batch = broadcast_shapes(a[:-2], b[:-2], op="matmul (batch axes)")
    rows = a[-2:-1] if len(a) > 1 else ()
    cols = b[-1:] if len(b) > 1 else ()
    return (*batch, *rows, *cols)


def _swap_last(x: Tensor) -> Tensor:
    perm = (*range(x.ndim - 2), x.ndim - 1, x.ndim - 2)
    return transpose(x, perm)


def _matmul_vjp(g: Tensor, out: Tensor, a: Tensor, b: Tensor) -> tuple:
    a2 = a if a.ndim > 1 else reshape(a, (1, a.shape[0]))
    b2 = b if b.ndim > 1 else reshape(b, (b.shape[0], 1))
    if g.ndim != builtins.max(a2.ndim, b2.ndim):
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        g = reshape(g, (*batch, a2.shape[-2], b2.shape[-1]))
    g2 = g
    return only_needed(
        lambda: reshape(unbroadcast(matmul(g2, _swap_last(b2)), a2.shape), a.shape),
        lambda: reshape(unbroadcast(matmul(_swap_last(a2), g2), b2.shape), b.shape),
    )


MATMUL_OP = register(Op(
    "matmul", MATMUL, 2, np.matmul, _matmul_shape, _matmul_vjp,
    grads=("{g} @ {1}^T", "{0}^T @ {g}"), doc="matrix product (numpy's matmul rules)",
))


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with numpy's rules (1-D operands, broadcast batch axes)."""
    return apply(MATMUL_OP, a, b)


