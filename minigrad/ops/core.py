"""The op table's core: the ``Op`` row, the table, ``apply``, and the shape and
broadcasting rules every row shares.

A row (``Op``) holds everything minigrad knows about a primitive:

* ``forward``   - the numpy computation of the value;
* ``shape``     - the shape rule, which also rejects bad inputs with a clear message;
* ``vjp``       - the vector-Jacobian product, written with minigrad's own ops so that the
                  backward pass is itself a graph (drawable, compilable, differentiable again);
* ``grads``     - the local rule per input as text (``{g}`` is the incoming gradient,
                  ``{out}`` the output, ``{0}``, ``{1}`` ... the inputs), shown by the renderer;
* ``expr``      - for elementwise ops, the scalar expression (``{0}``, ``{1}`` are inputs),
                  used for display and as the template the JIT generates loops from;
* typed fields for the JIT, the dtype rule and the PyTorch reference (see ``Op``).

Rows are made by the factories of ``rows.py`` (one call per elementwise op) or by hand for
the structural ops. Everything else (softmax, variance, ...) is composed from these.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._state import STATE
from ..dtypes import default_float
from ..errors import ArgumentError, OutOfRangeError
from ..promotion import number_dtype, result_type
from ..tensor import Axis, Tensor

ELEMENTWISE = "elementwise"
COMPARE = "compare"
REDUCE = "reduce"
MOVEMENT = "movement"
MATMUL = "matmul"
INDEX = "index"
FUSED = "fused"

# Dtype rules (``Op.dtype_rule``): how integer and bool inputs are computed.
SAME = "same"    # numpy's dtype of the inputs (arithmetic, comparisons, movement)
FLOAT = "float"  # integer/bool inputs cast to the default float dtype first (PyTorch's exp,
#                  log, sqrt, tanh, sigmoid, sin, ...; numpy gives float16 of bool/int8,
#                  float64 of int64, integer zeros for sigmoid)

VJP = Callable[..., tuple["Tensor | None", ...]]


@dataclass(frozen=True)
class Op:
    """One primitive: its numpy forward, shape rule, VJP and display/codegen templates.

    The typed fields after ``doc`` are read by the JIT (``numba*``, ``jit_*``), by ``apply``
    (``dtype_rule``) and by the fuzzer's PyTorch reference (``torch``).
    """

    name: str
    kind: str
    arity: int
    forward: Callable[..., np.ndarray]
    shape: Callable[..., tuple[int, ...]]
    vjp: VJP | None
    grads: tuple[str, ...] = ()
    expr: str | None = None
    doc: str = ""
    # The Numba scalar template when it differs from ``expr`` (e.g. np.maximum, whose NaN
    # propagation matches numpy's); ``{0}``, ``{1}`` are the inputs, ``{attr}`` attributes.
    numba: str | None = None
    # Templates by the value of the ``exponent`` attribute (pow's x*x, sqrt, 1/sqrt).
    numba_by_exponent: Mapping[float, str] = field(default_factory=dict)
    # Whether Numba's scalar expression of float inputs of the output's dtype already has
    # that dtype (no cast emitted): True, or a predicate of the node's attributes.
    numba_keeps_dtype: bool | Callable[[Mapping[str, Any]], bool] = False
    # Whether the template gives a Python bool for a bool output (comparisons, where).
    numba_bool: bool = False
    # The name of the JIT lowering in jit/lower.py's LOWERINGS (fused rows, reductions).
    jit_lowering: str | None = None
    # Whether the JIT drops the node when it keeps its input's dtype and shape.
    jit_identity: bool = False
    # How integer and bool inputs are computed (SAME or FLOAT).
    dtype_rule: str = SAME
    # The PyTorch function (``torch.<name>(*inputs, **attrs)``) the fuzzer compares with.
    torch: str | None = None
    # Rows whose second input divides (fmod, remainder, floor_divide): eager's message for
    # an integer divisor holding a zero, from the divisor's shape and dtype. The JIT checks
    # such divisors element by element (jit/value_checks.py) and raises the same error.
    integer_zero_message: Callable[[tuple[int, ...], np.dtype], str] | None = None

    @property
    def differentiable(self) -> bool:
        """Whether gradients flow through this op."""
        return self.vjp is not None

    def __repr__(self) -> str:
        return f"Op({self.name})"


OPS: dict[str, Op] = {}


def register(op: Op) -> Op:
    """Add ``op`` to the table (names are unique)."""
    if op.name in OPS:
        raise ArgumentError(f"op {op.name!r} is already registered")
    OPS[op.name] = op
    return op


# ---------------------------------------------------------------------------- applying
def _float_dtype_of(values: Sequence[Any]) -> np.dtype | None:
    for value in values:
        if isinstance(value, Tensor) and value.data.dtype.kind == "f":
            return value.data.dtype
    return None


def _as_input(value: Any, like: np.dtype | None) -> Tensor:
    """A Tensor for an op input; Python numbers take the dtype of the tensors beside them."""
    if isinstance(value, Tensor):
        return value
    if type(value) is float and like is not None:  # the common case, e.g. x * 2.0
        return Tensor._constant(np.array(value, dtype=like))
    if isinstance(value, bool | np.bool_):
        return Tensor(np.asarray(value))
    if isinstance(value, int | float | np.number) and not isinstance(value, np.ndarray):
        if like is not None:
            return Tensor._constant(np.array(value, dtype=like))
        return Tensor(value)
    return Tensor(value)


def _to_default_float(x: Tensor) -> Tensor:
    """``x`` cast to the default float dtype (a cast node the JIT and drawings see)."""
    return apply(OPS["cast"], x, dtype=np.dtype(default_float()).name)


def _as_inputs(op: Op, args: Sequence[Any]) -> tuple[Tensor, ...]:
    """Tensors for ``args``. The operands of elementwise and comparison rows take PyTorch's
    result dtype (``_promoted``); elsewhere Python numbers take the float dtype of the
    tensors beside them."""
    if _promotes(op):
        return _promoted(op, args)
    like = _float_dtype_of(args)
    return tuple(_as_input(value, like) for value in args)


def _promotes(op: Op) -> bool:
    """Rows whose operands meet in one dtype: elementwise and comparison rows of two or
    more inputs (``where``: its two values, not the condition)."""
    return op.kind in (ELEMENTWISE, COMPARE) and op.arity >= 2


def _promoted(op: Op, args: Sequence[Any]) -> tuple[Tensor, ...]:
    """``args`` in PyTorch's result dtype (minigrad/promotion.py): tensors of another dtype
    are cast (a cast node), Python numbers become constants of that dtype. int32 + 1 stays
    int32, int32 + 1.5 is float32, float32 * a 0-d float64 tensor is float32."""
    first = 1 if op.name == "where" else 0
    groups: tuple[list[np.dtype], list[np.dtype], list[np.dtype]] = ([], [], [])
    for value in args[first:]:
        if isinstance(value, Tensor | np.ndarray):
            array = value.data if isinstance(value, Tensor) else value
            groups[0 if array.ndim else 1].append(array.dtype)
        elif isinstance(value, int | float | np.number | bool | np.bool_):
            groups[2].append(number_dtype(value))
        else:
            return tuple(_as_input(v, _float_dtype_of(args)) for v in args)  # lists: as before
    target = result_type(*groups)
    inputs = [_as_input(value, None) for value in args[:first]]
    for value in args[first:]:
        if isinstance(value, Tensor):
            same = value.data.dtype == target
            inputs.append(value if same else apply(OPS["cast"], value, dtype=target.name))
        elif isinstance(value, np.ndarray):
            inputs.append(Tensor(value.astype(target, copy=False)))
        else:
            inputs.append(Tensor._constant(np.array(value, dtype=target)))
    return tuple(inputs)


def _floats(inputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """Integer and bool inputs cast to the default float dtype (rows with ``FLOAT``)."""
    for t in inputs:
        if t.data.dtype.kind in "biu":
            return tuple(_to_default_float(t) if t.data.dtype.kind in "biu" else t
                         for t in inputs)
    return inputs


# Python number types whose constant beside a float tensor takes that tensor's dtype, under
# PyTorch's promotion (``_promoted``) and the float-like rule alike (``_as_input``); bool
# and numpy scalars take the general path.
_NUMBERS = (float, int)


def apply(op: Op, *args: Any, **attrs: Any) -> Tensor:
    """Run ``op`` eagerly on ``args`` and return its output node.

    The node keeps its inputs when gradients are tracked or the graph is being recorded.
    This is the hot path of eager mode (every node of every forward and backward pass):
    it reads each thread-local flag once and builds no list it does not need. Two inputs
    (most ops) take a fast path: a float tensor with a Python float or int beside it gets
    the constant the promotion rule gives (the tensor's dtype: 2.8 us instead of 11 for
    ``x * 2.0``), and a broadcasting row on two tensors of one shape and dtype skips its
    shape rule, which returns that shape (every other case runs the full checks).
    """
    if len(args) == 2:
        first, second = args
        if type(second) in _NUMBERS and isinstance(first, Tensor) and first.data.dtype.kind == "f":
            second = Tensor._constant(np.array(second, dtype=first.data.dtype))
        elif (type(first) in _NUMBERS and isinstance(second, Tensor)
              and second.data.dtype.kind == "f"):
            first = Tensor._constant(np.array(first, dtype=second.data.dtype))
        if isinstance(first, Tensor) and isinstance(second, Tensor):
            a, b = first.data, second.data
            if a.dtype == b.dtype and op.dtype_rule != FLOAT:
                if a.shape != b.shape or op.shape not in _BROADCAST_RULES:
                    op.shape(a.shape, b.shape, **attrs)
                return _node(op, (first, second), op.forward(a, b, **attrs), attrs)
        args = (first, second)
    inputs = _checked_inputs(op, args)
    if len(inputs) == 1:
        first = inputs[0].data
        op.shape(first.shape, **attrs)
        data = op.forward(first, **attrs)
    else:
        arrays = [t.data for t in inputs]
        op.shape(*[a.shape for a in arrays], **attrs)
        data = op.forward(*arrays, **attrs)
    return _node(op, inputs, data, attrs)


def _checked_inputs(op: Op, args: tuple[Any, ...]) -> tuple[Tensor, ...]:
    """``args`` as tensors of the dtypes ``op`` computes in (promotion, FLOAT rows)."""
    inputs = args
    for arg in args:
        if not isinstance(arg, Tensor):
            inputs = _as_inputs(op, args)
            break
    else:
        if len(args) == 2 and args[0].data.dtype != args[1].data.dtype and _promotes(op):
            inputs = _promoted(op, args)
        elif len(args) == 3 and args[1].data.dtype != args[2].data.dtype and _promotes(op):
            inputs = _promoted(op, args)
    if op.dtype_rule == FLOAT:
        inputs = _floats(inputs)
    return inputs


def _node(op: Op, inputs: tuple[Tensor, ...], data: Any, attrs: dict[str, Any]) -> Tensor:
    """The output node of ``op`` holding ``data``: it requires grad when ``op`` has a VJP,
    grad mode is on and an input requires grad; it keeps its inputs when it requires grad
    or the graph is being recorded; tagged with the running modules, seen by node hooks."""
    state = STATE
    requires_grad = False
    if op.vjp is not None and state.grad_enabled:
        for t in inputs:
            if t.requires_grad:
                requires_grad = True
                break
    if type(data) is not np.ndarray:
        data = np.asarray(data)
    keep = requires_grad or state.recording > 0
    node = Tensor._node(data, op, inputs if keep else (), attrs, requires_grad,
                        state.current_vjp)
    if state.module_stack:
        node.meta["modules"] = tuple(state.module_stack)
    for hook in state.node_hooks:
        hook(node)
    return node


# --------------------------------------------------------------------------- shape rules
def broadcast_shapes(*shapes: tuple[int, ...], op: str = "op") -> tuple[int, ...]:
    """numpy's broadcasting rule (align from the right; sizes must match or be 1), with an
    error naming every shape."""
    first = shapes[0]
    if all(shape == first for shape in shapes[1:]):
        return tuple(first)
    ndim = builtins.max(len(shape) for shape in shapes)
    result = []
    for axis in range(-ndim, 0):
        sizes = {shape[axis] for shape in shapes if len(shape) >= -axis} - {1}
        if len(sizes) > 1:
            listed = " and ".join(str(tuple(shape)) for shape in shapes)
            raise ArgumentError(f"{op}: shapes {listed} cannot be broadcast together")
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


# Broadcast results of input shapes seen before (the same few shapes recur on every step);
# failures are not stored, so every bad call raises its own message.
_BROADCAST_SEEN: dict[tuple[tuple[int, ...], ...], tuple[int, ...]] = {}
_BROADCAST_SEEN_MAX = 4096
# The shape rules made by ``_elementwise_shape``: inputs of one shape give that shape, so
# ``apply`` need not call them then.
_BROADCAST_RULES: set[Callable[..., tuple[int, ...]]] = set()


def _elementwise_shape(name: str) -> Callable[..., tuple[int, ...]]:
    """numpy's broadcasting rule for the row ``name`` (results of shapes seen cached)."""

    def rule(*shapes: tuple[int, ...], **_: Any) -> tuple[int, ...]:
        known = _BROADCAST_SEEN.get(shapes)
        if known is not None:
            return known
        result = broadcast_shapes(*shapes, op=name)
        if len(_BROADCAST_SEEN) < _BROADCAST_SEEN_MAX:
            _BROADCAST_SEEN[shapes] = result
        return result

    _BROADCAST_RULES.add(rule)
    return rule


def _same_shape(shape: tuple[int, ...], **_: Any) -> tuple[int, ...]:
    return shape


_AXES_SEEN: dict[tuple[Any, int], tuple[int, ...]] = {}


def normalize_axes(axis: Axis, ndim: int, op: str = "reduction") -> tuple[int, ...]:
    """``axis`` (None, int or tuple; negatives allowed) as a sorted tuple of axes.

    Valid (axis, ndim) pairs seen before are looked up (reductions repeat them every step).
    """
    if type(axis) is tuple or type(axis) is int:
        try:
            known = _AXES_SEEN.get((axis, ndim))
        except TypeError:  # an unhashable entry: the full rule names the problem
            return _normalize_axes(axis, ndim, op)
        if known is not None:
            return known
        result = _normalize_axes(axis, ndim, op)
        if len(_AXES_SEEN) < _BROADCAST_SEEN_MAX:
            _AXES_SEEN[(axis, ndim)] = result
        return result
    return _normalize_axes(axis, ndim, op)


def _normalize_axes(axis: Axis, ndim: int, op: str) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    normalized = []
    for ax in axes:
        if not -builtins.max(ndim, 1) <= int(ax) < builtins.max(ndim, 1):  # 0-d: 0 or -1
            raise OutOfRangeError(
                f"{op}: axis {ax} is out of range for a tensor with {ndim} dimensions"
            )
        normalized.append(int(ax) % builtins.max(ndim, 1))
    if len(set(normalized)) != len(normalized):
        raise ArgumentError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(normalized)) if ndim else ()


def _reduced_shape(
    shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool
) -> tuple[int, ...]:
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def unbroadcast(grad: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum ``grad`` over the axes broadcasting added or stretched, to get back ``shape``.

    The one unbroadcast rule of the project: leading axes are summed away, then size-1
    axes are summed with keepdims (by the table's ``sum`` row).
    """
    if grad.data.shape == shape or grad.data.shape == tuple(shape):
        return grad
    lead = grad.ndim - len(shape)
    if lead > 0:
        grad = apply(OPS["sum"], grad, axes=tuple(range(lead)), keepdims=False)
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = apply(OPS["sum"], grad, axes=stretched, keepdims=True)
    return grad


def only_needed(*partials: Callable[[], Tensor | None]) -> tuple[Tensor | None, ...]:
    """Evaluate the partial-gradient thunks of a VJP rule, skipping the inputs the running
    backward pass does not want (constants, integer indices): their nodes are never built."""
    needs = STATE.vjp_needs
    if needs is None:
        return tuple([partial() for partial in partials])
    return tuple([partial() if needs[position] else None
                  for position, partial in enumerate(partials)])


def _const(value: float, like: Tensor) -> Tensor:
    """A constant leaf holding ``value`` in ``like``'s float dtype (else the default float)."""
    dtype = like.data.dtype if like.data.dtype.kind == "f" else np.dtype(default_float())
    return Tensor._constant(np.array(value, dtype=dtype))
