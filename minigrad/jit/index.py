"""Index keys that hold a tensor's array: runtime inputs, never constants.

``x[i]`` with a tensor ``i`` reaches the tracer as an ``index`` node whose ``key`` holds
``i``'s array (and its gradient as an ``index_add`` with the same key). Baked into the
generated code, later calls would gather the first call's rows. When a key array is the
array of an argument or of a tensor that existed before the trace (or of a traced value),
the node is rewritten with that tensor as a kernel input:

    x[s0, ..., i, ..., sk]          (slices s, one integer array i at axis a)
    = reshape(gather(x[s0, ..., :, ..., sk], broadcast_to(reshape(i, flat at a), ...), a))

and its gradient ``index_add(g, key, shape)`` as the ``scatter_add`` of g (flattened the
same way) followed, when the slices select part of x, by the static ``index_add`` of the
slices. Indices are checked against the axis size at every call (eager's IndexError).
Other keys holding such an array (a boolean mask, several arrays, ints or None beside an
array) are refused: their result's shape or layout depends on the values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..tensor import Tensor
from .ir import NotCompilableError

if TYPE_CHECKING:
    from .trace import Tracer


def _runtime_part(tracer: Tracer, key: tuple) -> tuple[int, Any] | None:
    """(position, the tensor or value id holding it) of the key array read at call time,
    or None when the key holds only constants."""
    found = None
    for pos, part in enumerate(key):
        if not isinstance(part, np.ndarray):
            continue
        owner = tracer.owner_of_data.get(id(part))
        holder = owner if owner is not None and owner.data is part else (
            tracer.data_value.get(id(part)))
        if holder is None:
            continue
        if found is not None:
            _refuse("several index arrays")
        found = (pos, holder)
    return found


def _refuse(what: str) -> None:
    raise NotCompilableError(
        f"mg.jit: indexing with {what} where an index is a tensor (an argument or state): "
        "the result's shape or layout would depend on its values. Index with one integer "
        "tensor among slices (x[i], x[:, i]), use gather, or call fn without mg.jit"
    )


def runtime_index(tracer: Tracer, node: Tensor) -> int | None:
    """The value id of ``node`` (an index / index_add) rewritten with its key array as a
    runtime input, or None when its key holds only constants."""
    key = node.attrs["key"]
    found = _runtime_part(tracer, key)
    if found is None:
        return None
    axis, holder = found
    array = key[axis]
    if array.dtype.kind not in "iu":
        _refuse("a boolean mask")
    if any(not isinstance(p, slice) for k, p in enumerate(key) if k != axis):
        _refuse("ints, None or Ellipsis beside an index array")
    graph = tracer.trace.graph
    full = node.attrs["shape_to"] if node.op.name == "index_add" else node.inputs[0].shape
    basic = tuple(slice(None) if k == axis else p for k, p in enumerate(key))
    trivial = all(p == slice(None) for p in basic)
    sub_shape = np.broadcast_to(np.empty((), np.int8), full)[basic].shape
    n = int(array.size)
    flat = list(sub_shape)
    flat[axis] = n
    flat_shape = tuple(flat)
    index = _broadcast_index(tracer, holder, array, axis, flat_shape)
    if isinstance(holder, Tensor):  # read at call time: its bounds are checked at every
        tracer.trace.index_checks.append(  # call (a traced value's, in the kernel)
            (holder, int(sub_shape[axis]), axis, tuple(node.inputs[0].shape)))
    dtype = graph[tracer.ref(node.inputs[0])].dtype
    if node.op.name == "index":
        source = tracer.ref(node.inputs[0])
        if not trivial:
            source = graph.add("index", sub_shape, dtype, (source,), key=basic)
        vid = graph.add("gather", flat_shape, dtype, (source, index), axis=axis)
        if flat_shape != node.shape:
            vid = graph.add("reshape", node.shape, dtype, (vid,), shape_to=node.shape)
        return vid
    g = tracer.ref(node.inputs[0])
    if graph[g].shape != flat_shape:
        g = graph.add("reshape", flat_shape, dtype, (g,), shape_to=flat_shape)
    vid = graph.add("scatter_add", sub_shape, dtype, (g, index), axis=axis,
                    shape_to=sub_shape)
    if not trivial:
        vid = graph.add("index_add", tuple(full), dtype, (vid,), key=basic,
                        shape_to=tuple(full))
    return vid


def _broadcast_index(tracer: Tracer, holder: Any, array: np.ndarray, axis: int,
                     shape: tuple[int, ...]) -> int:
    """The index array as a value of ``shape``: flat along ``axis``, broadcast elsewhere."""
    graph = tracer.trace.graph
    vid = tracer.ref(holder) if isinstance(holder, Tensor) else holder
    dtype = graph[vid].dtype
    ones = [1] * len(shape)
    ones[axis] = int(array.size)
    if graph[vid].shape != tuple(ones):
        vid = graph.add("reshape", tuple(ones), dtype, (vid,), shape_to=tuple(ones))
    if tuple(ones) != shape:
        vid = graph.add("broadcast_to", shape, dtype, (vid,), shape_to=shape)
    return vid
