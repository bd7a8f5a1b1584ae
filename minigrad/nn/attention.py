"""``F.scaled_dot_product_attention``, composed from matmul, softmax, where and dropout (so
its gradients of any order, drawings and mg.jit come from those)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ops, tensor_math
from ..errors import ArgumentError
from ..shape_ops import as_tensor_input, swapdims
from ..tensor import Tensor
from ..tensor_extras import repeat_interleave


def _heads(query: Tensor, key: Tensor, value: Tensor, enable_gqa: bool) -> tuple[Tensor, Tensor]:
    """key and value with each head repeated for its group of query heads (grouped-query
    attention: query heads Hq, key/value heads Hk dividing Hq)."""
    if not enable_gqa:
        return key, value
    if min(query.ndim, key.ndim, value.ndim) < 3:
        raise ArgumentError(f"scaled_dot_product_attention: enable_gqa needs inputs with a "
                            f"heads dim (..., heads, L, E), got {query.shape}, {key.shape}, "
                            f"{value.shape}")
    hq, hk = query.shape[-3], key.shape[-3]
    if hq == hk:
        return key, value
    if hq % hk or value.shape[-3] != hk:
        raise ArgumentError(f"scaled_dot_product_attention: with enable_gqa the number of "
                            f"query heads ({hq}) must be a multiple of the key and value "
                            f"heads (key {key.shape}, value {value.shape})")
    return (repeat_interleave(key, hq // hk, -3), repeat_interleave(value, hq // hk, -3))


def _masked(scores: Tensor, attn_mask: Any, is_causal: bool) -> Tensor:
    """scores with -inf where a bool mask (or the causal mask: key j > query i) is False, or
    plus a float mask."""
    if is_causal:
        if attn_mask is not None:
            raise ArgumentError("scaled_dot_product_attention: explicit attn_mask should not "
                               "be set when is_causal=True")
        rows, cols = scores.shape[-2:]
        attn_mask = Tensor(np.tril(np.ones((rows, cols), dtype=bool)))
    if attn_mask is None:
        return scores
    mask = as_tensor_input(attn_mask)
    try:
        fits = np.broadcast_shapes(mask.shape, scores.shape) == scores.shape
    except ValueError:
        fits = False
    if not fits:
        raise ArgumentError(f"scaled_dot_product_attention: attn_mask of shape {mask.shape} "
                            f"does not broadcast to the scores {scores.shape}")
    if mask.dtype == np.bool_:
        return ops.where(mask, scores, np.asarray(-np.inf, scores.dtype))
    return ops.add(scores, mask)


def _safe_softmax(scores: Tensor) -> Tensor:
    """softmax over the last dim, 0 (not NaN) in a row where every score is -inf (a query
    that may attend no key), as PyTorch 2.13's; no gradient flows there."""
    from ..ops.extrema import amax

    blocked = ops.equal(amax(scores, -1, True), np.asarray(-np.inf, scores.dtype))
    zero = np.zeros((), scores.dtype)
    return ops.where(blocked, zero, tensor_math.softmax(ops.where(blocked, zero, scores), -1))


def scaled_dot_product_attention(query: Any, key: Any, value: Any, attn_mask: Any = None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(q k^T * scale + mask) v over the last two dims (L queries, S keys):
    ``scale`` defaults to 1 / sqrt(E); a bool ``attn_mask`` (True = attend) or
    ``is_causal`` (query i attends keys j <= i) set -inf where not attended, a float mask
    is added (a query attending no key gets 0s, as PyTorch's); ``dropout_p`` drops
    attention weights (always, as PyTorch's function); ``enable_gqa`` repeats each
    key/value head for its group of query heads."""
    q, k, v = (as_tensor_input(t) for t in (query, key, value))
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2 or q.shape[-1] != k.shape[-1] or (
            k.shape[-2] != v.shape[-2]):
        raise ArgumentError(f"scaled_dot_product_attention: expected query (..., L, E), key "
                           f"(..., S, E) and value (..., S, Ev), got {q.shape}, {k.shape}, "
                           f"{v.shape}")
    k, v = _heads(q, k, v, enable_gqa)
    factor = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    try:
        scores = ops.mul(ops.matmul(q, swapdims(k, -2, -1)), factor)
    except ValueError as error:
        raise ArgumentError(f"scaled_dot_product_attention: {error}") from None
    weights = _safe_softmax(_masked(scores, attn_mask, is_causal))
    if dropout_p > 0.0:
        from .functional import dropout

        weights = dropout(weights, dropout_p, training=True)
    return ops.matmul(weights, v)
