"""Lowering: the traced graph (rows of the op table) -> the JIT's smaller op set.

* rows naming a ``jit_lowering`` follow it: the reductions ``lower_reduction`` (``mean``
  becomes ``reduce_sum`` with scale 1/N, ``sum`` ``reduce_sum``, ``max`` ``reduce_max``);
* a row marked ``jit_identity`` (cast, reshape, broadcast_to) disappears when it keeps
  its input's dtype and shape, and so does a transpose by the identity permutation;
* the fused BatchNorm rows (``normalize``, ``batch_norm``, ``batch_norm_dx``) follow the
  ``jit_lowering`` named in their rows. A 2-D float input becomes calls of the hand-written
  kernels of ``bn_kernels``: ``bn_stats`` (mean, 1/sqrt(var + eps), var; one read of x),
  ``bn_apply``/``bn_normalize``, ``bn_grad_sums`` (sum(g), sum(g xhat); one read of g and
  x) and ``bn_dx``. Common subexpression merging lets the rows of one layer share one
  ``bn_stats`` and one ``bn_grad_sums``, and ``bn_row`` reads per-channel results out of
  them where the graph asks for the same numbers: mean(x) and the two-pass variance of
  the running statistics, sum(g * normalize(x)) (dw) and sum(g) (db). Other inputs
  expand into the two statistics reductions plus elementwise work (generic fusion);
* everything else keeps its op-table name. A name the code generator does not know is a
  ``NotCompilableError`` error naming the op.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..ops import OPS
from .ir import Graph, NotCompilableError, Value, count_over, live_values, rebuild
from .plan import LINALG_CALL_OPS
from .rewrite import merge_widened_sums, shift_centred_sums

Lowering = Callable[[Graph, Value, list[int]], int]

# Ops the code generator handles by name (besides every elementwise/compare row).
STRUCTURAL = {"input", "literal", "reduce_sum", "reduce_max", "reshape", "transpose",
              "matmul", "gather", "scatter_add", "index", "index_add", "broadcast_to",
              "conv2d", "conv2d_input_grad", "conv2d_weight_grad", "max_pool2d_index",
              "cumsum", "argsort", "scatter_max", *LINALG_CALL_OPS}
# The JIT's internal ops calling the hand-written BatchNorm kernels (see bn_kernels.py).
BN_KERNEL_OPS = ("bn_stats", "bn_apply", "bn_normalize", "bn_grad_sums", "bn_dx", "bn_row")


def lower(graph: Graph, shift: bool = True) -> Graph:
    """The lowered, dead-code-free, common-subexpression-merged copy of ``graph``.

    With ``shift``, centred sums become shifted one-pass sums (rewrite.py); when any did,
    the result has one root more than ``graph``: the last, their non-finite check.
    """
    out = Graph()
    new_id: dict[int, int] = {}
    for value in graph.values:
        inputs = [new_id[i] for i in value.inputs]
        new_id[value.vid] = _lower_value(out, value, inputs)
    out.roots = [new_id[r] for r in graph.roots]
    _name_bounds_checks(out)
    merged = rebuild(out, live_values(out))
    return merge_widened_sums(shift_centred_sums(merged) if shift else merged)


def _name_bounds_checks(graph: Graph) -> None:
    """Each gather/scatter_add checks its indices at run time (emit_calls._bounds_check)
    and raises eager's IndexError. Eager raises at the first op of the trace reading an
    index out of range: a scatter_add (a gather's backward) whose gather is not computed
    (dead, only its gradient is needed) still words the error as that gather would
    (``attrs["bounds_as"]``: the first such op reading the same indices, axis and extent)."""
    first: dict[tuple[int, int, int], str] = {}
    for value in graph.values:
        if value.op not in ("gather", "scatter_add"):
            continue
        extent = (graph[value.inputs[0]].shape if value.op == "gather" else value.shape)
        key = (value.inputs[1], value.attrs["axis"], extent[value.attrs["axis"]])
        value.attrs["bounds_as"] = first.setdefault(key, value.op)


def _lower_value(out: Graph, value: Value, inputs: list[int]) -> int:
    op = value.op
    if op in ("input", "literal"):
        return out.add(op, value.shape, value.dtype, **value.attrs)
    row = OPS.get(op)
    if row is not None and row.jit_identity and (
            out[inputs[0]].dtype == value.dtype and out[inputs[0]].shape == value.shape):
        return inputs[0]
    if op == "transpose" and value.attrs["perm"] == tuple(range(len(value.shape))):
        return inputs[0]  # the identity (0-d values included, which the copy loop cannot index)
    if op in LOWERINGS:
        return LOWERINGS[op](out, value, inputs)
    if row is None or (row.kind not in ("elementwise", "compare") and op not in STRUCTURAL):
        raise NotCompilableError(
            f"mg.jit cannot compile op {op!r} (kind {row.kind if row else 'unknown'}); "
            "call the function without jit or express it with compilable ops"
        )
    return out.add(op, value.shape, value.dtype, tuple(inputs), **value.attrs)


# ------------------------------------------------------------------------ reductions
# The JIT's reduction for each reduction row (a row names ``lower_reduction`` as its
# ``jit_lowering``); mean is a sum scaled by 1/N.
REDUCE_KINDS = {"sum": ("reduce_sum", False), "mean": ("reduce_sum", True),
                "max": ("reduce_max", False)}


def lower_reduction(out: Graph, value: Value, inputs: list[int]) -> int:
    """sum, mean -> reduce_sum (scale 1/N for mean), max -> reduce_max; a sum or mean a
    fused BatchNorm kernel computes already is read from it."""
    kind, averages = REDUCE_KINDS[value.op]
    if kind == "reduce_sum":
        reused = reuse_bn_sums(out, value, inputs[0])
        if reused is not None:
            return reused
    axes = value.attrs["axes"]
    scale = 1.0 / count_over(out[inputs[0]].shape, axes) if averages else 1.0
    return out.reduce(kind, inputs[0], axes, value.attrs["keepdims"], scale, value.dtype)


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
    return count_over(out[x].shape, axes)


def _channel(out: Graph, vector: int, x: int) -> int:
    ndim = len(out[x].shape)
    return out.reshape(vector, (1, out[x].shape[1]) + (1,) * (ndim - 2))


def lower_normalize(out: Graph, value: Value, inputs: list[int]) -> int:
    """xhat = (x - mean) * s."""
    (x,) = inputs
    if uses_bn_kernel(out, x, value.attrs["axes"]):
        stats = kernel_stats(out, x, value.attrs["eps"])
        return out.add("bn_normalize", out[x].shape, out[x].dtype, (x, stats))
    mean, inv_std = bn_stats(out, x, value.attrs["axes"], value.attrs["eps"])
    return out.ew("mul", out.ew("sub", x, mean), inv_std)


def lower_batch_norm(out: Graph, value: Value, inputs: list[int]) -> int:
    """out = xhat * w + b."""
    x, w, b = inputs
    if uses_bn_kernel(out, x, value.attrs["axes"]):
        stats = kernel_stats(out, x, value.attrs["eps"])
        return out.add("bn_apply", out[x].shape, out[x].dtype, (x, stats, w, b))
    xhat = lower_normalize(out, value, [x])
    return out.ew("add", out.ew("mul", xhat, _channel(out, w, x)), _channel(out, b, x))


def lower_batch_norm_dx(out: Graph, value: Value, inputs: list[int]) -> int:
    """dx = w * s * (g - mean(g) - xhat * mean(g * xhat))."""
    g, x, w = inputs
    axes = value.attrs["axes"]
    if uses_bn_kernel(out, x, axes) and out[g].dtype == out[x].dtype:
        stats = kernel_stats(out, x, value.attrs["eps"])
        sums = kernel_grad_sums(out, g, x, stats)
        return out.add("bn_dx", out[x].shape, out[x].dtype, (g, x, stats, sums, w))
    xhat = lower_normalize(out, value, [x])
    _, inv_std = bn_stats(out, x, axes, value.attrs["eps"])
    scale = 1.0 / _count(out, x, axes)
    g_mean = out.reduce("reduce_sum", g, axes, True, scale)
    gx_mean = out.reduce("reduce_sum", out.ew("mul", g, xhat), axes, True, scale)
    bracket = out.ew("sub", out.ew("sub", g, g_mean), out.ew("mul", xhat, gx_mean))
    factor = out.ew("mul", _channel(out, w, x), inv_std)
    return out.ew("mul", factor, bracket)


# ------------------------------------------------- the hand-written kernel path (2-D)
def uses_bn_kernel(out: Graph, x: int, axes: tuple[int, ...]) -> bool:
    """Whether the fused rows of ``x`` call bn_kernels: a float (N, C) input, N >= 1."""
    value = out[x]
    return (len(value.shape) == 2 and tuple(axes) == (0,) and value.dtype.kind == "f"
            and value.shape[0] >= 1)


def kernel_stats(out: Graph, x: int, eps: float) -> int:
    """``bn_stats(x)``: a (3, C) value holding mean, 1/sqrt(var + eps) and var."""
    return out.add("bn_stats", (3, out[x].shape[1]), out[x].dtype, (x,), eps=float(eps))


def kernel_grad_sums(out: Graph, g: int, x: int, stats: int) -> int:
    """``bn_grad_sums(g, x, stats)``: a (2, C) float64 value, sum(g) and sum(g * xhat)."""
    return out.add("bn_grad_sums", (2, out[x].shape[1]), np.float64, (g, x, stats))


def _find(out: Graph, op: str, first_input: int) -> Value | None:
    """The latest value ``op`` whose first input is ``first_input`` (None if there is none)."""
    for value in reversed(out.values):
        if value.op == op and value.inputs and value.inputs[0] == first_input:
            return value
    return None


def _row(out: Graph, source: int, row: int, value: Value, scale: float = 1.0) -> int:
    """Row ``row`` of a per-channel kernel result, times ``scale``, as ``value`` wants it."""
    return out.add("bn_row", value.shape, value.dtype, (source,), row=row, scale=float(scale))


def reuse_bn_sums(out: Graph, value: Value, src: int) -> int | None:
    """A sum/mean over axis 0 that a bn kernel already computes, read from its result.

    mean(x) -> bn_stats row 0; sum((x - mean(x))**2) -> N * var (row 2); sum(g) and
    sum(g * normalize(x)) -> bn_grad_sums rows 0 and 1. None when nothing matches.
    """
    if tuple(value.attrs["axes"]) != (0,) or len(out[src].shape) != 2:
        return None
    count = out[src].shape[0]
    if value.op == "mean":
        stats = _find(out, "bn_stats", src)
        return None if stats is None else _row(out, stats.vid, 0, value)
    source = out[src]
    if source.op == "pow" and source.attrs.get("exponent") == 2.0:
        centred = out[source.inputs[0]]
        if centred.op == "sub" and out[centred.inputs[1]].op == "bn_row":
            x, mean = centred.inputs[0], out[centred.inputs[1]]
            stats = out[mean.inputs[0]]
            if (stats.op == "bn_stats" and stats.inputs[0] == x and mean.attrs["row"] == 0
                    and mean.attrs["scale"] == 1.0):
                return _row(out, stats.vid, 2, value, count)
    sums = _find(out, "bn_grad_sums", src)
    if sums is not None:
        return _row(out, sums.vid, 0, value)
    if source.op == "mul" and len(source.inputs) == 2:
        for g, xhat in (source.inputs, source.inputs[::-1]):
            norm = out[xhat]
            if norm.op == "bn_normalize" and out[g].shape == norm.shape and (
                    out[g].dtype == norm.dtype):
                sums_vid = kernel_grad_sums(out, g, norm.inputs[0], norm.inputs[1])
                return _row(out, sums_vid, 1, value)
    return None


LOWERINGS: dict[str, Lowering] = {}


def _register_lowerings() -> None:
    """Take each row's lowering from its ``jit_lowering`` name (reductions, fused rows)."""
    table = {"lower_reduction": lower_reduction, "lower_normalize": lower_normalize,
             "lower_batch_norm": lower_batch_norm, "lower_batch_norm_dx": lower_batch_norm_dx}
    for name, row in OPS.items():
        target = row.jit_lowering
        if target is not None:
            LOWERINGS[name] = table[target]


_register_lowerings()
