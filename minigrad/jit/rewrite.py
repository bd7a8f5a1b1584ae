"""Shifted one-pass sums: a reduction of a polynomial in ``x - mean(x)`` reads x only once.

The composed BatchNorm computes ``m = mean(x)``, then ``var = mean((x - m)**2)`` and, in
its backward pass, ``sum(g * gamma * (x - m))``. Each of those needs m, so generic fusion
spends one pass over x for m and another for them. This rewrite removes the dependence:
with ``K`` the value of x at the first index of the reduced axes (one sample per channel),

    e = x - K,   c = m - K   (c is constant along the reduced axes),   x - m = e - c,

and for a sum over those axes of ``sum_k p_k (x - m)**k`` (coefficients p_k free of m, or
constant along the axes):

    sum(sum_k p_k (e - c)**k) = sum_k sum_j C(k, j) (-c)**(k - j) * sum(p_k e**j).

The sums on the right read x, K and the p_k only; with m itself taken as K + sum(e)/n,
and factors of p_k that are constant along the reduced axes (gamma) moved out of the sums,
the fusion planner packs them all into one loop over x. Per-channel factors may depend on
m (1/std, the backward's dvar/N): they multiply the sums after that loop. The composed
BatchNorm forward + backward then takes two passes: statistics with every gradient sum,
then out and dx.

Accuracy: e, the sums and the combination are float64. Shifting by a sample of the data
keeps ``sum(e**2) / n`` within a few variances of ``c**2`` for any data set that is not
dominated by one outlier, so the subtraction loses at most a few of float64's 16 digits
(the unshifted ``E[x**2] - m**2`` would lose ``log10(m**2 / var)`` digits). The m used is
the graph's own (rounded) m, so the result is the graph's two-pass value, more accurately.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

from .ir import Graph, Value, count_over, live_values, rebuild

MAX_DEGREE = 2
F64 = np.dtype(np.float64)
I64 = np.dtype(np.int64)
# A term of a coefficient: (constant, ids of the factors multiplied).
Term = tuple[float, tuple[int, ...]]
Poly = dict[int, list[Term]]   # degree -> the terms of its coefficient


@dataclass
class Centred:
    """A reduction of a polynomial in ``x - m`` over the axes of ``mean`` (m = mean(x))."""

    mean: int
    poly: Poly


def shift_centred_sums(graph: Graph) -> Graph:
    """``graph`` with every matching reduction expanded into shifted one-pass sums.

    When anything was expanded, the result has one more root than ``graph``, last: the
    non-finite check (``nonfinite_check``), 0 when every shifted mean and sum is finite.
    The two forms agree only on finite values: with an infinite term the expansion can
    give inf - inf = NaN where the direct sum is ±inf (an infinite upstream gradient), and
    a shift K = inf makes every e NaN. The caller then runs the graph without this
    rewrite (the fallback kernel, ``jit/entry.py``), whose sums are eager's.
    """
    targets = find_targets(graph)
    if not targets:
        return graph
    centred_means = {target.mean for target in targets.values()}
    out = Graph()
    new_id: dict[int, int] = {}
    shifts: dict[int, int] = {}  # mean (old id) -> K, made just before the mean
    checked: list[int] = []  # the float64 shifted means and expanded sums
    for value in graph.values:
        if value.vid in centred_means:
            shifts[value.vid] = first_sample(out, value, new_id[value.inputs[0]])
            new_id[value.vid] = shifted_mean(out, value, new_id[value.inputs[0]],
                                             shifts[value.vid], checked)
        elif value.vid in targets:
            target = targets[value.vid]
            new_id[value.vid] = expand(out, value, target, new_id, shifts, graph[target.mean],
                                       checked)
        else:
            inputs = tuple(new_id[i] for i in value.inputs)
            new_id[value.vid] = out.add(value.op, value.shape, value.dtype, inputs,
                                        **value.attrs)
    out.roots = [new_id[r] for r in graph.roots] + [nonfinite_check(out, checked)]
    return rebuild(out, live_values(out))


def nonfinite_check(out: Graph, checked: list[int]) -> int:
    """A 0-d int64 value: how many elements of (v - v) summed over the ``checked`` values
    of one shape are not 0, i.e. where one of them is ±inf or NaN (v - v is NaN there; the
    kernel runs without fastmath, so it is not folded). The elementwise sums fuse into the
    loops computing the values; one ``count_nonfinite`` call (emit_calls.py) reads them
    after those loops."""
    by_shape: dict[tuple[int, ...], int] = {}
    for vid in checked:
        difference = out.ew("sub", vid, vid)
        shape = out[vid].shape
        by_shape[shape] = (difference if shape not in by_shape
                           else out.ew("add", by_shape[shape], difference))
    return out.add("count_nonfinite", (), I64, tuple(by_shape.values()))


def merge_widened_sums(graph: Graph) -> Graph:
    """A float32 (or float16) ``reduce_sum`` of x that the graph also takes as the sum of
    ``cast(x, float64)`` (same axes, keepdims, scale) becomes ``cast`` of that sum: one
    accumulator instead of two.

    The code generator accumulates every float sum in float64, so the two differ only in
    how the rows are paired before the accumulator (in x's dtype or in float64); the merged
    value is the more accurate one. The composed BatchNorm backward takes sum(g) twice this
    way: dbeta (float32), and the sum(g) of dx after the shift rewrite (float64).
    """
    wide = {_sum_key(v, graph[v.inputs[0]].inputs[0]) for v in graph.values
            if v.op == "reduce_sum" and v.dtype == F64 and graph[v.inputs[0]].op == "cast"
            and _narrow_float(graph[graph[v.inputs[0]].inputs[0]])}
    narrow = {v.vid for v in graph.values if v.op == "reduce_sum" and _narrow_float(v)
              and _narrow_float(graph[v.inputs[0]])
              and _sum_key(v, v.inputs[0]) in wide}
    if not narrow:
        return graph
    out = Graph()
    new_id: dict[int, int] = {}
    for value in graph.values:
        inputs = tuple(new_id[i] for i in value.inputs)
        if value.vid in narrow:  # identical to the float64 sum: rebuild merges the two
            total = out.reduce("reduce_sum", _as_f64(out, inputs[0]), value.attrs["axes"],
                               value.attrs["keepdims"], value.attrs["scale"], F64)
            new_id[value.vid] = out.add("cast", value.shape, value.dtype, (total,),
                                        dtype=value.dtype.name)
        else:
            new_id[value.vid] = out.add(value.op, value.shape, value.dtype, inputs,
                                        **value.attrs)
    out.roots = [new_id[r] for r in graph.roots]
    return rebuild(out, live_values(out))


def _narrow_float(value: Value) -> bool:
    return value.dtype.kind == "f" and value.dtype.itemsize < 8


def _sum_key(value: Value, source: int) -> tuple:
    """What makes two sums of ``source`` equal apart from their dtype."""
    attrs = value.attrs
    return source, tuple(attrs["axes"]), attrs["keepdims"], attrs["scale"]


# ------------------------------------------------------------------------- matching
def find_targets(graph: Graph) -> dict[int, Centred]:
    """reduce_sum ids whose operand is a polynomial (degree <= MAX_DEGREE) in x - mean(x),
    reduced over the mean's own axes, with coefficients that do not depend on the mean."""
    means = {v.vid for v in graph.values if _is_mean(graph, v)}
    if not means:
        return {}
    depends = _mean_dependence(graph, means)
    targets = {}
    for value in graph.values:
        if value.op != "reduce_sum":
            continue
        operand = value.inputs[0]
        for mean in sorted(depends[operand], reverse=True):  # the latest mean first
            target = _match(graph, value, mean, depends)
            if target is not None:
                targets[value.vid] = target
                break
    return targets


def _match(graph: Graph, value: Value, mean: int,
           depends: dict[int, frozenset[int]]) -> Centred | None:
    """The expansion of reduction ``value`` around ``mean`` (None when it does not apply)."""
    x = graph[mean].inputs[0]
    operand = value.inputs[0]
    if set(value.attrs["axes"]) != set(graph[mean].attrs["axes"]) or (
            graph[operand].shape != graph[x].shape):
        return None
    poly = polynomial(graph, operand, mean, depends)
    if poly is None or max(poly) < 1:  # no x - mean in it: try another mean
        return None
    return Centred(mean, poly)


def _is_mean(graph: Graph, value: Value) -> bool:
    """A float reduce_sum scaled by 1/count whose result broadcasts back onto its input."""
    if value.op != "reduce_sum" or value.dtype.kind != "f":
        return False
    source = graph[value.inputs[0]]
    axes = value.attrs["axes"]
    count = count_over(source.shape, axes) if axes else 0
    return (count > 0 and source.dtype == value.dtype and value.attrs["scale"] == 1.0 / count
            and _aligned(value.shape, source.shape, axes))


def _aligned(shape: tuple[int, ...], full: tuple[int, ...], axes: tuple[int, ...]) -> bool:
    """Whether ``shape``, broadcast against ``full``, varies exactly along the kept axes."""
    padded = (1,) * (len(full) - len(shape)) + tuple(shape)
    kept = tuple(1 if k in axes else n for k, n in enumerate(full))
    return len(padded) == len(full) and padded == kept


def _mean_dependence(graph: Graph, means: set[int]) -> dict[int, frozenset[int]]:
    """For each value, the means it depends on (a forward sweep)."""
    depends: dict[int, frozenset[int]] = {}
    for value in graph.values:
        found = frozenset().union(*(depends[i] for i in value.inputs))
        depends[value.vid] = found | {value.vid} if value.vid in means else found
    return depends


def _is_centred(graph: Graph, value: Value, mean: int) -> bool:
    """``value`` is ``x - mean`` for the mean's own x."""
    return (value.op == "sub" and value.inputs[1] == mean
            and value.inputs[0] == graph[mean].inputs[0] and value.dtype == graph[mean].dtype)


def polynomial(graph: Graph, root: int, mean: int,
               depends: dict[int, frozenset[int]]) -> Poly | None:
    """The operand as {degree: coefficient terms} in d = x - mean; None when it is not a
    polynomial of degree <= MAX_DEGREE in d (or uses the mean otherwise).

    Values that do not depend on the mean are coefficients (factors; products of them are
    split into their factors); the ones that do are walked bottom-up (an explicit stack, no
    recursion).
    """
    polys: dict[int, Poly] = {}
    stack = [(root, False)]
    while stack:
        vid, ready = stack.pop()
        if vid in polys:
            continue
        value = graph[vid]
        factor = _as_factor(graph, value, mean, depends)
        if factor is not None:
            polys[vid] = {0: [(1.0, (factor,))]}
            continue
        if _is_centred(graph, value, mean):
            polys[vid] = {1: [(1.0, ())]}
            continue
        if not ready:
            stack.append((vid, True))
            stack.extend((i, False) for i in value.inputs)
            continue
        combined = _combine(value, [polys.get(i) for i in value.inputs])
        if combined is None:
            return None
        polys[vid] = combined
    return polys[root]


def _as_factor(graph: Graph, value: Value, mean: int,
               depends: dict[int, frozenset[int]]) -> int | None:
    """The id ``value`` stands for as one coefficient factor, or None when it is walked.

    A value free of the mean is a factor (a product of such values is split instead); so is
    one constant along the reduced axes (1/std, a broadcast per-channel value: the sums take
    it out, so it may depend on the mean, computed after the pass).
    """
    if mean not in depends[value.vid]:
        return None if _is_product(value) else value.vid
    x, axes = graph[graph[mean].inputs[0]], graph[mean].attrs["axes"]
    if _constant_along(value.shape, x.shape, axes):
        return value.vid
    if value.op == "broadcast_to":
        source = graph[value.inputs[0]]
        if _constant_along(source.shape, x.shape, axes):
            return source.vid
    return None


def _constant_along(shape: tuple[int, ...], full: tuple[int, ...],
                    axes: tuple[int, ...]) -> bool:
    """Whether an array of ``shape``, broadcast against ``full``, is constant along ``axes``."""
    if len(shape) > len(full):
        return False
    padded = (1,) * (len(full) - len(shape)) + tuple(shape)
    return all(padded[k] == 1 for k in axes)


def _is_product(value: Value) -> bool:
    """A binary mul: walked into its factors, so per-channel ones can leave the sums."""
    return value.op == "mul" and len(value.inputs) == 2


def _combine(value: Value, args: list[Poly | None]) -> Poly | None:
    """The polynomial of ``value`` from its inputs' (None when it is not one)."""
    if any(a is None for a in args):
        return None
    if value.op == "add" and len(args) == 2:
        return _add(args[0], args[1], 1.0)
    if value.op == "sub" and len(args) == 2:
        return _add(args[0], args[1], -1.0)
    if value.op == "neg":
        return _scale(args[0], -1.0)
    if value.op == "mul" and len(args) == 2:
        return _mul(args[0], args[1])
    if value.op == "pow" and value.attrs.get("exponent") == 2.0:
        return _mul(args[0], args[0])
    return None


def _add(a: Poly, b: Poly, sign: float) -> Poly:
    result = {k: list(terms) for k, terms in a.items()}
    for k, terms in b.items():
        result.setdefault(k, []).extend((sign * const, f) for const, f in terms)
    return result


def _scale(a: Poly, factor: float) -> Poly:
    return {k: [(factor * const, f) for const, f in terms] for k, terms in a.items()}


def _mul(a: Poly, b: Poly) -> Poly | None:
    result: Poly = {}
    for ka, terms_a in a.items():
        for kb, terms_b in b.items():
            if ka + kb > MAX_DEGREE:
                return None
            result.setdefault(ka + kb, []).extend(
                (ca * cb, tuple(sorted(fa + fb))) for ca, fa in terms_a for cb, fb in terms_b)
    return result


# ------------------------------------------------------------------------- emitting
def first_sample(out: Graph, mean: Value, x: int) -> int:
    """K: x at index 0 of every reduced axis, in float64 and in the mean's shape."""
    shape, axes = out[x].shape, mean.attrs["axes"]
    if mean.attrs["keepdims"]:
        key = tuple(slice(0, 1) if k in axes else slice(None) for k in range(len(shape)))
    else:
        key = tuple(0 if k in axes else slice(None) for k in range(len(shape)))
    sample = out.add("index", mean.shape, out[x].dtype, (x,), key=key)
    return _as_f64(out, sample)


def _as_f64(out: Graph, vid: int) -> int:
    if out[vid].dtype == F64:
        return vid
    if out[vid].op == "literal":  # a constant stays a constant (inlined, never an array)
        return out.literal(out[vid].attrs["value"], F64)
    return out.add("cast", out[vid].shape, F64, (vid,), dtype="float64")


def shifted_mean(out: Graph, mean: Value, x: int, shift: int, checked: list[int]) -> int:
    """m = K + sum(e) / n: the mean from the same sum of e = x - K as the moments (its
    float64 value joins ``checked``)."""
    e = out.ew("sub", _as_f64(out, x), shift)
    total = out.reduce("reduce_sum", e, tuple(mean.attrs["axes"]), mean.attrs["keepdims"],
                       1.0, F64)
    m64 = out.ew("add", shift, out.ew("mul", total, out.literal(mean.attrs["scale"], F64)))
    checked.append(m64)
    return m64 if mean.dtype == F64 else out.add("cast", mean.shape, mean.dtype, (m64,),
                                                  dtype=mean.dtype.name)


def expand(out: Graph, value: Value, target: Centred, new_id: dict[int, int],
           shifts: dict[int, int], mean: Value, checked: list[int]) -> int:
    """sum_k sum_j C(k, j) (-c)^(k-j) sum(p_k e^j), scaled, cast and shaped like ``value``
    (its float64 value joins ``checked``).

    The per-channel values (c, the sums, the result) have the mean's shape.
    """
    x, shift = new_id[mean.inputs[0]], shifts[target.mean]
    axes = tuple(mean.attrs["axes"])
    e = out.ew("sub", _as_f64(out, x), shift)
    c = out.ew("sub", _as_f64(out, new_id[target.mean]), shift)
    count = count_over(out[x].shape, axes)
    total = None
    for k, terms in sorted(target.poly.items()):
        for const, factors in terms:
            for j in range(k + 1):
                weight = const * comb(k, j) * (-1.0) ** (k - j)
                part = _term_sum(out, [new_id[f] for f in factors], e, j, mean, count)
                for _ in range(k - j):
                    part = out.ew("mul", part, c)
                part = out.ew("mul", part, out.literal(weight, F64))
                total = part if total is None else out.ew("add", total, part)
    scaled = out.ew("mul", total, out.literal(value.attrs["scale"], F64))
    checked.append(scaled)
    result = scaled if value.dtype == F64 else out.add(
        "cast", out[scaled].shape, value.dtype, (scaled,), dtype=value.dtype.name)
    return out.reshape(result, value.shape)


def _term_sum(out: Graph, factors: list[int], e: int, power: int, mean: Value,
              count: int) -> int:
    """sum over the mean's axes of (product of factors) * e**power, float64. Factors that
    are constant along those axes (shaped like the mean, or scalars) multiply the sum."""
    full = out[e].shape
    shaped = {f: _per_channel(out, f, mean, full) for f in factors}
    inside = [f for f in factors if shaped[f] is None]
    outside = [_as_f64(out, shaped[f]) for f in factors if shaped[f] is not None]
    if not inside and power == 0:
        total = out.literal(float(count), F64)
    else:
        operand = None
        for vid in [_as_f64(out, f) for f in inside] + [e] * power:
            operand = vid if operand is None else out.ew("mul", operand, vid)
        if out[operand].shape != full:
            operand = out.add("broadcast_to", full, F64, (operand,), shape_to=full)
        total = out.reduce("reduce_sum", operand, tuple(mean.attrs["axes"]),
                           mean.attrs["keepdims"], 1.0, F64)
    for factor in outside:
        total = out.ew("mul", total, factor)
    return total


def _per_channel(out: Graph, factor: int, mean: Value, full: tuple[int, ...]) -> int | None:
    """``factor`` in the mean's shape when it is constant along the reduced axes of an
    array of shape ``full`` (as many values as the mean, or one); else None (it stays in
    the sum)."""
    shape = out[factor].shape
    if not _constant_along(shape, full, tuple(mean.attrs["axes"])):
        return None
    size = out[factor].size
    if size == 1:
        return out.reshape(factor, ())
    mean_size = int(np.prod(mean.shape, dtype=np.int64))
    return out.reshape(factor, mean.shape) if size == mean_size else None
