"""Drawing graphs that are not made of Tensors: the JIT's traced graph (``mg.jit``).

The JIT records a flat list of values (op name, shape, dtype, input ids, attrs) with the ids
of its outputs in ``roots``. ``traced_outputs`` turns such a graph into stand-in tensors so
the same drawing code applies; they carry no values (only shapes), so the figure shows the
structure. Recognised duck-typed: an object with ``values`` and ``roots``; or one whose
``graph`` (a compiled entry) or ``last.graph`` (a jit function after its first call) is one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import OPS, Op
from ..tensor import Tensor
from .text import number


def traced_graph(root: Any) -> Any | None:
    """The JIT graph behind ``root`` (a graph, a compiled entry, a jit function), or None."""
    if callable(getattr(root, "wait", None)):  # a jit function compiling in the background
        root.wait()
    for candidate in (root, getattr(root, "graph", None),
                      getattr(getattr(root, "last", None), "graph", None)):
        if hasattr(candidate, "values") and hasattr(candidate, "roots"):
            return candidate
    return None


def _no_forward(*_: Any, **__: Any) -> np.ndarray:
    raise RuntimeError("a stand-in for a traced op cannot be evaluated")


def _op(name: str, arity: int) -> Op:
    return OPS.get(name) or Op(name, "traced", arity, _no_forward, _no_forward, None)


def _stand_in(value: Any, inputs: tuple[Tensor, ...]) -> Tensor:
    data = np.broadcast_to(np.zeros((), dtype=value.dtype), value.shape)
    if value.op in ("input", "literal"):
        node = Tensor._leaf_like(data)
        if value.op == "literal":
            node.name = number(value.attrs.get("value", 0.0))
        else:
            node.name = f"in{value.attrs.get('slot', value.vid)}"
    else:
        node = Tensor._node(data, _op(value.op, len(inputs)), inputs, dict(value.attrs), False)
        node.name = f"v{value.vid}"
    node.meta["traced"] = True
    return node


def traced_outputs(graph: Any) -> list[Tensor]:
    """Stand-in tensors for the outputs (``roots``) of a JIT graph, in one forward sweep."""
    made: dict[int, Tensor] = {}
    for value in graph.values:
        made[value.vid] = _stand_in(value, tuple(made[i] for i in value.inputs))
    return [made[vid] for vid in graph.roots]
