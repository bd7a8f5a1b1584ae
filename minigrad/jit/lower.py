"""Lowering: the traced graph (rows of the op table) -> the JIT's smaller op set.

* ``mean`` becomes ``reduce_sum`` with scale 1/N, ``sum`` ``reduce_sum``, ``max`` ``reduce_max``;
* a ``cast`` to the dtype a value already has disappears;
* the fused BatchNorm rows (``normalize``, ``batch_norm``, ``batch_norm_dx``) expand into
  the two statistics reductions plus elementwise work, following the ``jit_lowering`` named
  in their rows; common subexpression merging then lets the three rows of one layer share
  a single pair of statistics passes;
* everything else keeps its op-table name. A name the code generator does not know is a
  ``NotCompilableError`` error naming the op.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..ops import OPS
from .ir import Graph, NotCompilableError, Value, live_values, rebuild

Lowering = Callable[[Graph, Value, list[int]], int]

# Ops the code generator handles by name (besides every elementwise/compare row).
STRUCTURAL = {"input", "literal", "reduce_sum", "reduce_max", "reshape", "transpose",
              "matmul", "gather", "scatter_add", "index", "index_add", "broadcast_to"}


def lower(graph: Graph) -> Graph:
    """The lowered, dead-code-free, common-subexpression-merged copy of ``graph``."""
    out = Graph()
    new_id: dict[int, int] = {}
    for value in graph.values:
        inputs = [new_id[i] for i in value.inputs]
        new_id[value.vid] = _lower_value(out, value, inputs)
    out.roots = [new_id[r] for r in graph.roots]
    return rebuild(out, live_values(out))


def _lower_value(out: Graph, value: Value, inputs: list[int]) -> int:
    op = value.op
    if op in ("input", "literal"):
        return out.add(op, value.shape, value.dtype, **value.attrs)
    if op in ("sum", "mean", "max"):
        axes = value.attrs["axes"]
        count = int(np.prod([out[inputs[0]].shape[a] for a in axes])) if axes else 1
        scale = 1.0 / count if op == "mean" else 1.0
        kind = "reduce_max" if op == "max" else "reduce_sum"
        return out.reduce(kind, inputs[0], axes, value.attrs["keepdims"], scale, value.dtype)
    if op in ("cast", "reshape", "broadcast_to") and (
            out[inputs[0]].dtype == value.dtype and out[inputs[0]].shape == value.shape):
        return inputs[0]
    if op in LOWERINGS:
        return LOWERINGS[op](out, value, inputs)
    row = OPS.get(op)
    if row is None or (row.kind not in ("elementwise", "compare") and op not in STRUCTURAL):
        raise NotCompilableError(
            f"mg.jit cannot compile op {op!r} (kind {row.kind if row else 'unknown'}); "
            "call the function without jit or express it with compilable ops"
        )
    return out.add(op, value.shape, value.dtype, tuple(inputs), **value.attrs)


# ------------------------------------------------------------- fused BatchNorm rows
def bn_stats(out: Graph, x: int, axes: tuple[int, ...], eps: float) -> tuple[int, int]:
    """(mean, 1/sqrt(var + eps)) per channel, keepdims, by two passes (as eager does)."""
    mean = out.reduce("reduce_sum", x, axes, True, 1.0 / _count(out, x, axes))
    centred = out.ew("sub", x, mean)
    var = out.reduce("reduce_sum", out.ew("mul", centred, centred), axes, True,
                     1.0 / _count(out, x, axes))
    shifted = out.ew("add", var, out.literal(eps, out[x].dtype))
    return mean, out.ew("reciprocal", out.ew("sqrt", shifted))


def _count(out: Graph, x: int, axes: tuple[int, ...]) -> int:
    return int(np.prod([out[x].shape[a] for a in axes]))


def _channel(out: Graph, vector: int, x: int) -> int:
    ndim = len(out[x].shape)
    return out.reshape(vector, (1, out[x].shape[1]) + (1,) * (ndim - 2))


def lower_normalize(out: Graph, value: Value, inputs: list[int]) -> int:
    """xhat = (x - mean) * s."""
    (x,) = inputs
    mean, inv_std = bn_stats(out, x, value.attrs["axes"], value.attrs["eps"])
    return out.ew("mul", out.ew("sub", x, mean), inv_std)


def lower_batch_norm(out: Graph, value: Value, inputs: list[int]) -> int:
    """out = xhat * w + b."""
    x, w, b = inputs
    xhat = lower_normalize(out, value, [x])
    return out.ew("add", out.ew("mul", xhat, _channel(out, w, x)), _channel(out, b, x))


def lower_batch_norm_dx(out: Graph, value: Value, inputs: list[int]) -> int:
    """dx = w * s * (g - mean(g) - xhat * mean(g * xhat))."""
    g, x, w = inputs
    axes = value.attrs["axes"]
    xhat = lower_normalize(out, value, [x])
    _, inv_std = bn_stats(out, x, axes, value.attrs["eps"])
    scale = 1.0 / _count(out, x, axes)
    g_mean = out.reduce("reduce_sum", g, axes, True, scale)
    gx_mean = out.reduce("reduce_sum", out.ew("mul", g, xhat), axes, True, scale)
    bracket = out.ew("sub", out.ew("sub", g, g_mean), out.ew("mul", xhat, gx_mean))
    factor = out.ew("mul", _channel(out, w, x), inv_std)
    return out.ew("mul", factor, bracket)


LOWERINGS: dict[str, Lowering] = {}


def _register_fused() -> None:
    """Take each fused row's lowering from its ``extra["jit_lowering"]`` name."""
    table = {"lower_normalize": lower_normalize, "lower_batch_norm": lower_batch_norm,
             "lower_batch_norm_dx": lower_batch_norm_dx}
    for name, row in OPS.items():
        target = row.extra.get("jit_lowering")
        if target is not None:
            LOWERINGS[name] = table[target]


_register_fused()
