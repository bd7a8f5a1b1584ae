"""In-place ops (``add_``, ``mul_``, ``zero_``, ``fill_``, ``clamp_``, ``copy_``,
``x[key] = v``) with PyTorch's semantics, each the out-of-place op followed by one change:

* a tensor outside the graph (no grad, or a leaf under ``no_grad``) gets the new value
  through ``Tensor.assign_`` (tracers and hooks see it);
* a non-leaf tensor in the graph becomes the new node, whose input is a copy of its old node
  (PyTorch's rebase), so gradients flow through the op;
* a leaf that requires grad is refused outside ``no_grad`` (PyTorch's error).

Either way the tensor's stamp moves on: a node that read it before raises in backward
instead of differentiating with the new value (autodiff._check_unchanged).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._state import STATE
from .errors import ArgumentError, ArgumentTypeError
from .ops import (
    broadcast_to,
    cast,
    gather,
    greater_equal,
    index,
    index_add,
    reshape,
    scatter_max,
    where,
)
from .tensor import Tensor


def apply_inplace(x: Tensor, name: str, compute: Callable[[Tensor], Tensor]) -> Tensor:
    """Replace ``x`` by ``compute(x)`` (same shape; cast to x's dtype) and return ``x``."""
    if x.is_leaf and x.requires_grad and STATE.grad_enabled:
        raise RuntimeError(f"{name}: a leaf tensor that requires grad is being used in an "
                           "in-place operation (wrap it in mg.no_grad() to change it)")
    old = Tensor._node(x.data, x.op, x.inputs, x.attrs, x.requires_grad, x.vjp_of)
    old._stamp, old.name, old.meta = x._stamp, x.name, dict(x.meta)  # x's node until now
    new = _fit(x, compute(old), name)
    if old.requires_grad and STATE.grad_enabled and not new.requires_grad:
        new = where(Tensor(np.ones(x.shape, bool)), new, old)  # fill_, zero_, copy_ of a
        # graph tensor: still in the graph (a gradient of zero to the old value)
    if not new.requires_grad:
        return x.assign_(new)
    if STATE.uniform_recorder is not None:  # mg.jit is tracing (see _state.py)
        raise RuntimeError(f"{name}: in-place ops on tensors in the graph are not supported "
                           "under mg.jit; use the out-of-place op")
    x.data, x.op, x.inputs, x.attrs = new.data, new.op, new.inputs, new.attrs
    x.requires_grad = True
    x.mark_changed()
    x._stamp = Tensor._inplace_clock  # a new node, made now
    return x


def _fit(x: Tensor, value: Tensor, name: str) -> Tensor:
    """``value`` in x's shape and dtype; a float result into an integer tensor is refused
    (PyTorch: the result type can't be cast to the desired output type)."""
    if value.shape != x.shape:
        raise ArgumentError(f"{name}: the result of shape {value.shape} does not fit the tensor "
                            f"of shape {x.shape}")
    if value.dtype.kind == "f" and x.dtype.kind != "f":
        raise ArgumentTypeError(f"{name}: a {value.dtype} result cannot be stored in place into a "
                                f"tensor of dtype {x.dtype}")
    return value if value.dtype == x.dtype else cast(value, x.dtype)


def _like(x: Tensor, value: Any) -> Tensor:
    """``value`` broadcast to x's shape (as a tensor)."""
    value = value if isinstance(value, Tensor) else Tensor(np.asarray(value, dtype=x.dtype))
    return broadcast_to(value, x.shape)


def add_(x: Tensor, other: Any, alpha: float = 1) -> Tensor:
    """x += alpha * other."""
    return apply_inplace(x, "add_", lambda t: t + (other if alpha == 1 else other * alpha))


def sub_(x: Tensor, other: Any, alpha: float = 1) -> Tensor:
    """x -= alpha * other."""
    return apply_inplace(x, "sub_", lambda t: t - (other if alpha == 1 else other * alpha))


def mul_(x: Tensor, other: Any) -> Tensor:
    """x *= other."""
    return apply_inplace(x, "mul_", lambda t: t * other)


def div_(x: Tensor, other: Any) -> Tensor:
    """x /= other."""
    return apply_inplace(x, "div_", lambda t: t / other)


def fill_(x: Tensor, value: Any) -> Tensor:
    """Every element set to ``value`` (a number or a 0-d tensor)."""
    return apply_inplace(x, "fill_", lambda t: _like(t, value))


def zero_(x: Tensor) -> Tensor:
    """Every element set to 0."""
    return fill_(x, 0)


def copy_(x: Tensor, source: Any) -> Tensor:
    """The values of ``source`` (broadcast to x's shape, cast to x's dtype) copied in."""
    return apply_inplace(x, "copy_", lambda t: _like(t, source))


def clamp_(x: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """x limited to [min, max] (either may be None): where(x < min, min, where(x > max, max,
    x)); NaN stays NaN, the gradient is 1 inside and 0 where clamped."""
    if min is None and max is None:
        raise ArgumentError("clamp_: give min, max or both")

    def clamped(t: Tensor) -> Tensor:
        if max is not None:
            t = where(t > max, max, t)
        if min is not None:
            t = where(t < min, min, t)
        return t

    return apply_inplace(x, "clamp_", clamped)


def _holds_tensor(key: Any) -> bool:
    return any(isinstance(part, Tensor) for part in (key if isinstance(key, tuple) else (key,)))


def setitem(x: Tensor, key: Any, value: Any) -> None:
    """``x[key] = value``: where(mask of key, value placed at key, x). The positions key
    selects are found by indexing the positions (PyTorch's axis order, as ``x[key]``); where
    a position repeats, the last value written wins (as in numpy)."""
    if _holds_tensor(key):
        _setitem_by_tensor(x, key, value)
        return
    size = x.numel()
    selected = index(Tensor(np.arange(size).reshape(x.shape)), key).data
    positions = selected.reshape(-1)
    _, last_from_end = np.unique(positions[::-1], return_index=True)
    kept = positions.size - 1 - last_from_end  # the last write to each position
    mask = np.zeros(size, dtype=bool)
    mask[positions] = True

    def placed(t: Tensor) -> Tensor:
        source = value if isinstance(value, Tensor) else Tensor(np.asarray(value, t.dtype))
        if source.dtype != t.dtype:
            source = cast(source, t.dtype)
        spread = reshape(broadcast_to(source, selected.shape), (-1,))
        flat = index_add(index(spread, (kept,)), (positions[kept],), (size,))
        return where(Tensor(mask.reshape(x.shape)), reshape(flat, x.shape), t)

    apply_inplace(x, "__setitem__", placed)


def _setitem_by_tensor(x: Tensor, key: Any, value: Any) -> None:
    """``x[key] = value`` for a key holding index tensors: the positions are ops on the key
    (never read into Python), so a compiled step writes where each call's key says (reading
    them froze the traced call's positions under mg.jit). Each position takes the value of
    its last writer (scatter_max of the write order), as numpy's and the path above."""
    size = x.numel()
    selected = index(Tensor(np.arange(size).reshape(x.shape)), key)
    positions = reshape(selected, (-1,))
    count = positions.shape[0]

    def placed(t: Tensor) -> Tensor:
        source = value if isinstance(value, Tensor) else Tensor(np.asarray(value, t.dtype))
        if source.dtype != t.dtype:
            source = cast(source, t.dtype)
        spread = reshape(broadcast_to(source, selected.shape), (-1,))
        if count == 0:
            return t
        nobody = Tensor(np.full(size, -1, dtype=np.int64))
        order = Tensor(np.arange(count, dtype=np.int64))
        writer = scatter_max(nobody, positions, order, 0)
        hit = greater_equal(writer, 0)
        picked = gather(spread, where(hit, writer, np.int64(0)), 0)
        return where(reshape(hit, x.shape), reshape(picked, x.shape), t)

    apply_inplace(x, "__setitem__", placed)
