"""The JIT's graph: a flat, topologically ordered list of values (no recursion anywhere).

A ``Value`` is one array the compiled function handles:

* ``input``    read at call time (a function argument, a tensor that existed before the
               trace such as a parameter or buffer, or the ``.grad`` of such a leaf);
* ``literal``  a Python scalar baked into the source (only ones the JIT itself introduces,
               such as ``eps`` when lowering the fused BatchNorm rows, or ``1/N`` of a mean);
* an op        a row of ``ops.OPS`` (elementwise, compare, reduce, movement, matmul, index)
               or one of the JIT's internal ops (``reduce_sum`` with a scale, ``reduce_max``,
               and the ``bn_*`` calls of the hand-written BatchNorm kernels, see lower.py).

Shapes are the tensors' true shapes; the code generator stores 0-d values as shape (1,).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


class NotCompilableError(Exception):
    """The JIT cannot compile something in the traced function (the message names it)."""


@dataclass
class Value:
    """One node of the JIT graph."""

    vid: int
    op: str
    shape: tuple[int, ...]
    dtype: np.dtype
    inputs: tuple[int, ...] = ()
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """The number of elements."""
        return int(np.prod(self.shape, dtype=np.int64))

    def describe(self) -> str:
        """A one-line summary: ``v3 = mul(v1, v2) float32 (64, 256)``."""
        args = ", ".join(f"v{i}" for i in self.inputs)
        shown = {k: v for k, v in self.attrs.items() if k not in ("key", "flat")}
        extra = f" {shown}" if shown else ""
        return f"v{self.vid} = {self.op}({args}){extra} {self.dtype} {self.shape}"


class Graph:
    """Values in topological order plus the ids the function must produce."""

    def __init__(self) -> None:
        self.values: list[Value] = []
        self.roots: list[int] = []

    def __getitem__(self, vid: int) -> Value:
        return self.values[vid]

    def add(self, op: str, shape: tuple[int, ...], dtype: Any, inputs: tuple[int, ...] = (), /,
            **attrs: Any) -> int:
        """Append a value and return its id."""
        vid = len(self.values)
        self.values.append(Value(vid, op, tuple(int(n) for n in shape), np.dtype(dtype),
                                 tuple(inputs), attrs))
        return vid

    def literal(self, value: float, dtype: Any) -> int:
        """A scalar constant baked into the generated source."""
        return self.add("literal", (), dtype, value=value)

    def ew(self, op: str, *inputs: int, dtype: Any = None, **attrs: Any) -> int:
        """An elementwise op on ``inputs`` with numpy broadcasting of their shapes."""
        shape = tuple(np.broadcast_shapes(*(self[i].shape for i in inputs)))
        dtype = self[inputs[-1]].dtype if dtype is None else dtype
        return self.add(op, shape, dtype, inputs, **attrs)

    def reduce(self, op: str, vid: int, axes: tuple[int, ...], keepdims: bool,
               scale: float = 1.0, dtype: Any = None) -> int:
        """``reduce_sum`` (times ``scale``) or ``reduce_max`` of ``vid`` over ``axes``."""
        shape = self[vid].shape
        if keepdims:
            out = tuple(1 if i in axes else n for i, n in enumerate(shape))
        else:
            out = tuple(n for i, n in enumerate(shape) if i not in axes)
        dtype = self[vid].dtype if dtype is None else dtype
        return self.add(op, out, dtype, (vid,), axes=tuple(axes), keepdims=keepdims,
                        scale=float(scale))

    def reshape(self, vid: int, shape: tuple[int, ...]) -> int:
        """The same values in another shape."""
        if tuple(shape) == self[vid].shape:
            return vid
        return self.add("reshape", shape, self[vid].dtype, (vid,), shape_to=tuple(shape))

    def describe(self) -> str:
        """Every value, one per line."""
        return "\n".join(v.describe() for v in self.values)


def count_over(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    """How many elements a reduction over ``axes`` of ``shape`` combines into each result."""
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def consumers(graph: Graph) -> dict[int, list[int]]:
    """For each value id, the ids of the values that read it (each listed once)."""
    users: dict[int, list[int]] = {v.vid: [] for v in graph.values}
    for value in graph.values:
        for i in dict.fromkeys(value.inputs):
            users[i].append(value.vid)
    return users


def live_values(graph: Graph) -> set[int]:
    """Ids of the values the roots depend on (a reverse sweep, no recursion)."""
    live = set(graph.roots)
    for value in reversed(graph.values):
        if value.vid in live:
            live.update(value.inputs)
    return live


def _attr_key(attrs: dict[str, Any]) -> Any:
    """A hashable form of ``attrs`` (None when it holds arrays: no merging then)."""
    items = []
    for name, item in sorted(attrs.items()):
        if isinstance(item, np.ndarray) or name == "key":
            return None
        items.append((name, repr(item)))
    return tuple(items)


def rebuild(graph: Graph, keep: set[int], alias: dict[int, int] | None = None) -> Graph:
    """A new graph with only the ``keep`` values, inputs renamed through ``alias``,
    identical values merged (common subexpressions), ids renumbered densely."""
    alias = dict(alias or {})
    out = Graph()
    new_id: dict[int, int] = {}
    seen: dict[Any, int] = {}
    for value in graph.values:
        if value.vid not in keep:
            continue
        inputs = tuple(new_id[_resolve(alias, i)] for i in value.inputs)
        attrs = value.attrs
        key = None
        if value.op != "input":
            akey = _attr_key(attrs)
            if akey is not None:
                key = (value.op, inputs, akey, value.dtype.str, value.shape)
        if key is not None and key in seen:
            new_id[value.vid] = seen[key]
            continue
        vid = out.add(value.op, value.shape, value.dtype, inputs, **attrs)
        new_id[value.vid] = vid
        if key is not None:
            seen[key] = vid
    out.roots = [new_id[_resolve(alias, r)] for r in graph.roots]
    return out


def _resolve(alias: dict[int, int], vid: int) -> int:
    while vid in alias:
        vid = alias[vid]
    return vid
