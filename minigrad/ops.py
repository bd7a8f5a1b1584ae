"""The primitives: one row per op, each defined in one place.

A row (``Op``) holds everything minigrad knows about a primitive:

* ``forward``   - the numpy computation of the value;
* ``shape``     - the shape rule, which also rejects bad inputs with a clear message;
* ``vjp``       - the vector-Jacobian product, written with minigrad's own ops so that the
                  backward pass is itself a graph (drawable, compilable, differentiable again);
* ``grads``     - the local rule per input as text (``{g}`` is the incoming gradient,
                  ``{out}`` the output, ``{0}``, ``{1}`` ... the inputs), shown by the renderer;
* ``expr``      - for elementwise ops, the scalar expression (``{0}``, ``{1}`` are inputs),
                  used for display and as the template the JIT generates loops from.

Adding a primitive is adding a row and its wrapper function below it. Everything else
(relu of a module, softmax, variance, ...) is composed from these.
"""

from __future__ import annotations

import builtins
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._state import STATE
from .dtypes import DEFAULT_FLOAT, resolve_dtype
from .tensor import Axis, Tensor

ELEMENTWISE = "elementwise"
COMPARE = "compare"
REDUCE = "reduce"
MOVEMENT = "movement"
MATMUL = "matmul"
INDEX = "index"
FUSED = "fused"

VJP = Callable[..., tuple["Tensor | None", ...]]


@dataclass(frozen=True)
class Op:
    """One primitive: its numpy forward, shape rule, VJP and display/codegen templates."""

    name: str
    kind: str
    arity: int
    forward: Callable[..., np.ndarray]
    shape: Callable[..., tuple[int, ...]]
    vjp: VJP | None
    grads: tuple[str, ...] = ()
    expr: str | None = None
    doc: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # Integer and bool inputs are computed in the default float dtype (float32), as
    # PyTorch's exp, log, sqrt, tanh, sigmoid do (numpy: float16 of bool/int8, float64 of
    # int64, integer zeros for sigmoid).
    floats_integers: bool = False

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
        raise ValueError(f"op {op.name!r} is already registered")
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


def _as_inputs(op: Op, args: Sequence[Any]) -> tuple[Tensor, ...]:
    """Tensors for ``args``. Python numbers take the float dtype of the tensors beside them;
    an integer tensor met with a Python float in arithmetic computes in float32 (PyTorch's
    rule: the float scalar promotes to the default float dtype, not to float64)."""
    like = _float_dtype_of(args)
    if like is None and op.kind == ELEMENTWISE and op.arity == 2 and any(
            isinstance(a, float) for a in args):
        return tuple(cast(a, DEFAULT_FLOAT) if isinstance(a, Tensor)
                     else _as_input(a, DEFAULT_FLOAT) for a in args)
    return tuple(_as_input(value, like) for value in args)


def apply(op: Op, *args: Any, **attrs: Any) -> Tensor:
    """Run ``op`` eagerly on ``args`` and return its output node.

    The node keeps its inputs when gradients are tracked or the graph is being recorded.
    This is the hot path of eager mode (every node of every forward and backward pass):
    it reads each thread-local flag once and builds no list it does not need.
    """
    inputs = args
    for arg in args:
        if not isinstance(arg, Tensor):
            inputs = _as_inputs(op, args)
            break
    if op.floats_integers and inputs[0].data.dtype.kind in "biu":  # unary rows (Op field)
        inputs = (cast(inputs[0], DEFAULT_FLOAT),)
    if len(inputs) == 2:  # most ops: spelled out, no lists built
        first, second = inputs[0].data, inputs[1].data
        op.shape(first.shape, second.shape, **attrs)
        data = op.forward(first, second, **attrs)
    elif len(inputs) == 1:
        first = inputs[0].data
        op.shape(first.shape, **attrs)
        data = op.forward(first, **attrs)
    else:
        arrays = [t.data for t in inputs]
        op.shape(*[a.shape for a in arrays], **attrs)
        data = op.forward(*arrays, **attrs)
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
            raise ValueError(f"{op}: shapes {listed} cannot be broadcast together")
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


# Broadcast results of input shapes seen before (the same few shapes recur on every step);
# failures are not stored, so every bad call raises its own message.
_BROADCAST_SEEN: dict[tuple[tuple[int, ...], ...], tuple[int, ...]] = {}
_BROADCAST_SEEN_MAX = 4096


def _elementwise_shape(name: str) -> Callable[..., tuple[int, ...]]:
    def rule(*shapes: tuple[int, ...], **_: Any) -> tuple[int, ...]:
        known = _BROADCAST_SEEN.get(shapes)
        if known is not None:
            return known
        result = broadcast_shapes(*shapes, op=name)
        if len(_BROADCAST_SEEN) < _BROADCAST_SEEN_MAX:
            _BROADCAST_SEEN[shapes] = result
        return result

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
        if not -ndim <= int(ax) < builtins.max(ndim, 1) or (ndim == 0 and ax not in (0, -1)):
            raise ValueError(
                f"{op}: axis {ax} is out of range for a tensor with {ndim} dimensions"
            )
        normalized.append(int(ax) % builtins.max(ndim, 1))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(normalized)) if ndim else ()


def _reduced_shape(
    shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool
) -> tuple[int, ...]:
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _reduce_shape(shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool) -> tuple:
    return _reduced_shape(shape, axes, keepdims)


def unbroadcast(grad: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum ``grad`` over the axes broadcasting added or stretched, to get back ``shape``.

    The one unbroadcast rule of the project: leading axes are summed away, then size-1
    axes are summed with keepdims.
    """
    if grad.data.shape == shape or grad.data.shape == tuple(shape):
        return grad
    lead = grad.ndim - len(shape)
    if lead > 0:
        grad = sum(grad, tuple(range(lead)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = sum(grad, stretched, keepdims=True)
    return grad


def _expand_reduced(grad: Tensor, in_shape: tuple[int, ...], axes: tuple[int, ...],
                    keepdims: bool) -> Tensor:
    """Reshape a reduced gradient so it broadcasts against the unreduced input."""
    leading = axes == tuple(range(len(axes)))
    if not keepdims and not leading:
        grad = reshape(grad, _reduced_shape(in_shape, axes, True))
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
    return Tensor(np.asarray(value, dtype=like.dtype if like.dtype.kind == "f" else DEFAULT_FLOAT))


# ================================================================ elementwise, binary
def _add_vjp(g: Tensor, out: Tensor, a: Tensor, b: Tensor) -> tuple:
    return only_needed(lambda: unbroadcast(g, a.shape), lambda: unbroadcast(g, b.shape))


ADD = register(Op(
    "add", ELEMENTWISE, 2, np.add, _elementwise_shape("add"), _add_vjp,
    grads=("{g}", "{g}"), expr="({0} + {1})", doc="a + b",
))


def add(a: Any, b: Any) -> Tensor:
    """a + b, elementwise with broadcasting."""
    return apply(ADD, a, b)


def _sub_vjp(g: Tensor, out: Tensor, a: Tensor, b: Tensor) -> tuple:
    return only_needed(lambda: unbroadcast(g, a.shape), lambda: neg(unbroadcast(g, b.shape)))


SUB = register(Op(
    "sub", ELEMENTWISE, 2, np.subtract, _elementwise_shape("sub"), _sub_vjp,
    grads=("{g}", "-{g}"), expr="({0} - {1})", doc="a - b",
))


def sub(a: Any, b: Any) -> Tensor:
    """a - b, elementwise with broadcasting."""
    return apply(SUB, a, b)


def _mul_vjp(g: Tensor, out: Tensor, a: Tensor, b: Tensor) -> tuple:
    return only_needed(lambda: unbroadcast(mul(g, b), a.shape),
                       lambda: unbroadcast(mul(g, a), b.shape))


MUL = register(Op(
    "mul", ELEMENTWISE, 2, np.multiply, _elementwise_shape("mul"), _mul_vjp,
    grads=("{g} * {1}", "{g} * {0}"), expr="({0} * {1})", doc="a * b",
))


def mul(a: Any, b: Any) -> Tensor:
    """a * b, elementwise with broadcasting."""
    return apply(MUL, a, b)


def _div_vjp(g: Tensor, out: Tensor, a: Tensor, b: Tensor) -> tuple:
    return only_needed(lambda: unbroadcast(div(g, b), a.shape),
                       lambda: unbroadcast(neg(div(mul(g, out), b)), b.shape))


def _div_forward(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """True division; integers divide into float32, as in PyTorch."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if a.dtype.kind != "f" and b.dtype.kind != "f":
            return np.true_divide(a, b, dtype=DEFAULT_FLOAT)
        return np.true_divide(a, b)


DIV = register(Op(
    "div", ELEMENTWISE, 2, _div_forward, _elementwise_shape("div"), _div_vjp,
    grads=("{g} / {1}", "-{g} * {out} / {1}"), expr="({0} / {1})", doc="a / b",
))


def div(a: Any, b: Any) -> Tensor:
    """a / b, elementwise with broadcasting (true division)."""
    return apply(DIV, a, b)


def _maximum_vjp(g: Tensor, out: Tensor, a: Tensor, b: Tensor) -> tuple:
    """da = 0 where a < b, g/2 at ties, else g (and db likewise), selected with ``where``
    as PyTorch does: an infinite g stays out of the side that lost (no inf * 0 = NaN), and
    at a NaN both sides get g."""
    zero, share = _const(0.0, g), where(equal(a, b), mul(g, 0.5), g)  # both sides' share
    return only_needed(lambda: unbroadcast(where(less(a, b), zero, share), a.shape),
                       lambda: unbroadcast(where(greater(a, b), zero, share), b.shape))


MAXIMUM = register(Op(
    "maximum", ELEMENTWISE, 2, np.maximum, _elementwise_shape("maximum"), _maximum_vjp,
    grads=("{g} * [{0} > {1}] (half at ties)", "{g} * [{1} > {0}] (half at ties)"),
    expr="max({0}, {1})", doc="max(a, b); ties share the gradient equally (as PyTorch)",
    extra={"numba": "np.maximum({0}, {1})"},  # NaN propagates, as numpy's
))


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise max(a, b); at ties each side gets half the gradient (PyTorch's rule)."""
    return apply(MAXIMUM, a, b)


def _where_vjp(g: Tensor, out: Tensor, cond: Tensor, a: Tensor, b: Tensor) -> tuple:
    zero = _const(0.0, g)
    return only_needed(
        lambda: None,
        lambda: unbroadcast(where(cond, g, zero), a.shape),
        lambda: unbroadcast(where(cond, zero, g), b.shape),
    )


WHERE = register(Op(
    "where", ELEMENTWISE, 3, np.where, _elementwise_shape("where"),
    _where_vjp, grads=("", "{0} ? {g} : 0", "{0} ? 0 : {g}"), expr="({1} if {0} else {2})",
    doc="cond ? a : b",
))


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """Elementwise ``a`` where ``cond`` holds, else ``b`` (with broadcasting)."""
    return apply(WHERE, cond, a, b)


# ================================================================= elementwise, unary
def _neg_vjp(g: Tensor, out: Tensor, x: Tensor) -> tuple:
    return (neg(g),)


NEG = register(Op(
    "neg", ELEMENTWISE, 1, np.negative, _same_shape, _neg_vjp,
    grads=("-{g}",), expr="(-{0})", doc="-x",
))


def neg(x: Any) -> Tensor:
    """-x."""
    return apply(NEG, x)


def _pow_vjp(g: Tensor, out: Tensor, x: Tensor, *, exponent: float) -> tuple:
    if exponent == 2:
        return (mul(mul(x, 2.0), g),)
    if exponent == 1:
        return (g,)
    return (mul(mul(power(x, exponent - 1), float(exponent)), g),)


# Exponents PyTorch's pow computes with another function (x * x, sqrt, rsqrt): their
# infinities and NaNs differ from pow's ((-inf) ** 0.5 is nan by sqrt, inf by C's pow).
# Eager (numpy) and the JIT's Numba text side by side, so they cannot drift apart.
_POW_SPECIAL = {
    2.0: (lambda x: np.multiply(x, x), "({0} * {0})"),
    0.5: (np.sqrt, "np.sqrt({0})"),
    -0.5: (lambda x: np.reciprocal(np.sqrt(x)), "(1.0 / np.sqrt({0}))"),
}


def _pow_forward(x: np.ndarray, *, exponent: float) -> np.ndarray:
    """x ** p; integers and booleans stay integral for a whole p >= 0 and are raised in
    float32 otherwise, as in PyTorch (numpy casts p to the integer dtype: 4 ** 0.5 = 1)."""
    if x.dtype.kind != "f" and not (exponent >= 0 and float(exponent).is_integer()):
        x = x.astype(DEFAULT_FLOAT)
    with np.errstate(divide="ignore", invalid="ignore"):
        if exponent in _POW_SPECIAL:
            return _POW_SPECIAL[exponent][0](x)
        return np.power(x, np.asarray(exponent, dtype=x.dtype))


POW = register(Op(
    "pow", ELEMENTWISE, 1, _pow_forward, _same_shape, _pow_vjp,
    grads=("{exponent} * {0}^({exponent}-1) * {g}",), expr="({0} ** {exponent})",
    doc="x ** p for a constant p",
    extra={"numba_by_exponent": {p: text for p, (_, text) in _POW_SPECIAL.items()}},
))


def power(x: Any, exponent: Any) -> Tensor:
    """x ** exponent; a tensor exponent is composed as exp(exponent * log(x))."""
    if isinstance(exponent, Tensor):
        return exp(mul(exponent, log(x)))
    return apply(POW, x, exponent=float(exponent))


def _sqrt_vjp(g: Tensor, out: Tensor, x: Tensor) -> tuple:
    return (mul(div(0.5, out), g),)


def _sqrt_forward(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.sqrt(x)


SQRT = register(Op(
    "sqrt", ELEMENTWISE, 1, _sqrt_forward, _same_shape, _sqrt_vjp,
    grads=("0.5 / {out} * {g}",), expr="np.sqrt({0})", doc="sqrt(x)",
    floats_integers=True,
))


def sqrt(x: Any) -> Tensor:
    """Square root; d/dx = 0.5 / sqrt(x)."""
    return apply(SQRT, x)


def _reciprocal_vjp(g: Tensor, out: Tensor, x: Tensor) -> tuple:
    return (mul(neg(mul(out, out)), g),)


def _reciprocal_forward(x: np.ndarray) -> np.ndarray:
    """1 / x; integers and booleans give float32, as ``div`` and PyTorch do (numpy's
    integer reciprocal truncates: 1/2 = 0, 1/0 = INT_MIN)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if x.dtype.kind != "f":
            return np.true_divide(1, x, dtype=DEFAULT_FLOAT)
        return np.reciprocal(x)


RECIPROCAL = register(Op(
    "reciprocal", ELEMENTWISE, 1, _reciprocal_forward, _same_shape, _reciprocal_vjp,
    grads=("-1 / {0}^2 * {g}",), expr="(1.0 / {0})", doc="1 / x",
))


def reciprocal(x: Any) -> Tensor:
    """1 / x; d/dx = -1 / x**2."""
    return apply(RECIPROCAL, x)


def _exp_vjp(g: Tensor, out: Tensor, x: Tensor) -> tuple:
    return (mul(g, out),)


def _exp_forward(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.exp(x)


EXP = register(Op(
    "exp", ELEMENTWISE, 1, _exp_forward, _same_shape, _exp_vjp,
    grads=("{g} * {out}",), expr="np.exp({0})", doc="e ** x",
    floats_integers=True,
))


def exp(x: Any) -> Tensor:
    """e ** x; d/dx = e ** x."""
    return apply(EXP, x)


def _log_vjp(g: Tensor, out: Tensor, x: Tensor) -> tuple:
    return (div(g, x),)


def _log_forward(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x)


LOG = register(Op(
    "log", ELEMENTWISE, 1, _log_forward, _same_shape, _log_vjp,
    grads=("{g} / {0}",), expr="np.log({0})", doc="ln x",
    floats_integers=True,
))


def log(x: Any) -> Tensor:
    """Natural logarithm; d/dx = 1 / x."""
    return apply(LOG, x)


def _tanh_vjp(g: Tensor, out: Tensor, x: Tensor) -> tuple:
    return (mul(g, sub(1.0, mul(out, out))),)


TANH = register(Op(
    "tanh", ELEMENTWISE, 1, np.tanh, _same_shape, _tanh_vjp,
    grads=("{g} * (1 - {out}^2)",), expr="np.tanh({0})", doc="tanh x",
    floats_integers=True,
))


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent; d/dx = 1 - tanh(x)**2."""
    return apply(TANH, x)


def _sigmoid_forward(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x), computed from e^-|x| so it never overflows."""
    decay = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + decay), decay / (1.0 + decay)).astype(x.dtype)


def _sigmoid_vjp(g: Tensor, out: Tensor, x: Tensor) -> tuple:
    return (mul(g, mul(out, sub(1.0, out))),)


SIGMOID = register(Op(
    "sigmoid", ELEMENTWISE, 1, _sigmoid_forward, _same_shape, _sigmoid_vjp,
    grads=("{g} * {out} * (1 - {out})",), expr="(1.0 / (1.0 + np.exp(-{0})))",
    doc="1 / (1 + e^-x)",
    floats_integers=True,
))


def sigmoid(x: Any) -> Tensor:
    """The logistic function 1 / (1 + e^-x); d/dx = s(x) (1 - s(x))."""
    return apply(SIGMOID, x)


def _relu_vjp(g: Tensor, out: Tensor, x: Tensor) -> tuple:
    return (where(greater(x, 0.0), g, _const(0.0, g)),)


RELU = register(Op(
    "relu", ELEMENTWISE, 1, lambda x: np.maximum(x, np.zeros((), x.dtype)), _same_shape,
    _relu_vjp, grads=("{0} > 0 ? {g} : 0",), expr="max({0}, 0)",
    doc="max(x, 0); gradient 1 where x > 0, else 0 (0 at exactly 0, PyTorch's convention)",
    extra={"numba": "np.maximum({0}, 0)"},  # NaN propagates, as numpy's
))


def relu(x: Any) -> Tensor:
    """max(x, 0). Its gradient is 1 where x > 0 and 0 elsewhere, including at exactly 0
    (PyTorch's convention)."""
    return apply(RELU, x)


def _cast_vjp(g: Tensor, out: Tensor, x: Tensor, *, dtype: str) -> tuple:
    """g cast back between float dtypes; a cast to int or bool is piecewise constant, so no
    gradient flows through it (as in PyTorch)."""
    return (cast(g, x.dtype) if x.dtype.kind == "f" and out.dtype.kind == "f" else None,)


CAST = register(Op(
    "cast", ELEMENTWISE, 1, lambda x, *, dtype: x.astype(dtype), _same_shape, _cast_vjp,
    grads=("{g}",), expr="{0}", doc="x converted to another dtype",
))


def cast(x: Any, dtype: Any) -> Tensor:
    """``x`` converted to ``dtype``; differentiable between float dtypes."""
    target = resolve_dtype(dtype)
    return apply(CAST, x, dtype=target.name)


# ========================================================================= comparisons
def _compare(name: str, ufunc: np.ufunc, symbol: str) -> Op:
    return register(Op(
        name, COMPARE, 2, ufunc, _elementwise_shape(name), None,
        expr=f"({{0}} {symbol} {{1}})", doc=f"a {symbol} b (a boolean mask)",
    ))


GREATER = _compare("greater", np.greater, ">")
GREATER_EQUAL = _compare("greater_equal", np.greater_equal, ">=")
LESS = _compare("less", np.less, "<")
LESS_EQUAL = _compare("less_equal", np.less_equal, "<=")
EQUAL = _compare("equal", np.equal, "==")
NOT_EQUAL = _compare("not_equal", np.not_equal, "!=")


def greater(a: Any, b: Any) -> Tensor:
    """Boolean mask a > b."""
    return apply(GREATER, a, b)


def greater_equal(a: Any, b: Any) -> Tensor:
    """Boolean mask a >= b."""
    return apply(GREATER_EQUAL, a, b)


def less(a: Any, b: Any) -> Tensor:
    """Boolean mask a < b."""
    return apply(LESS, a, b)


def less_equal(a: Any, b: Any) -> Tensor:
    """Boolean mask a <= b."""
    return apply(LESS_EQUAL, a, b)


def equal(a: Any, b: Any) -> Tensor:
    """Boolean mask a == b."""
    return apply(EQUAL, a, b)


def not_equal(a: Any, b: Any) -> Tensor:
    """Boolean mask a != b."""
    return apply(NOT_EQUAL, a, b)


# ========================================================================== reductions
def _reduction_shape(name: str) -> Callable[..., tuple[int, ...]]:
    def rule(shape: tuple[int, ...], *, axes: tuple[int, ...], keepdims: bool) -> tuple:
        for ax in axes:
            if not 0 <= ax < builtins.max(len(shape), 1):
                raise ValueError(
                    f"{name}: axis {ax} is out of range for shape {shape}"
                )
        return _reduce_shape(shape, axes, keepdims)

    return rule


def _sum_vjp(g: Tensor, out: Tensor, x: Tensor, *, axes: tuple, keepdims: bool) -> tuple:
    return (broadcast_to(_expand_reduced(g, x.shape, axes, keepdims), x.shape),)


def accumulator(dtype: np.dtype) -> np.dtype | None:
    """Reductions of float16/float32 accumulate in float64 (accurate at large offsets)."""
    return np.dtype(np.float64) if dtype.kind == "f" and dtype.itemsize < 8 else None


# From this size on (where numpy's float64 sum costs >= ~60 us) ``wide_sum`` uses the
# compiled kernel; smaller eager work never imports Numba.
WIDE_SUM_MIN_ELEMENTS = 1 << 18


def wide_sum(x: np.ndarray, axes: tuple, keepdims: bool) -> np.ndarray:
    """np.add.reduce(x, axes, dtype=float64, keepdims) of a float16/float32 array. Over the
    leading axes of a large C-contiguous float32 array with at least 16 columns the
    compiled kernel of ``_wide_sum`` does it: bitwise the same sums (numpy's row order),
    6x faster than numpy's buffered casting."""
    lead = len(axes)
    if (x.size >= WIDE_SUM_MIN_ELEMENTS and x.dtype == np.float32 and 0 < lead < x.ndim
            and tuple(axes) == tuple(range(lead)) and x.flags.c_contiguous
            and math.prod(x.shape[lead:]) >= 16):  # one column numpy sums pairwise
        from ._wide_sum import sum_rows

        total = np.zeros(math.prod(x.shape[lead:]))
        sum_rows(x.reshape(-1, total.size), total)
        return total.reshape(((1,) * lead if keepdims else ()) + x.shape[lead:])
    return np.add.reduce(x, axis=axes, dtype=np.float64, keepdims=keepdims)


def reduce_mean(x: np.ndarray, axes: tuple, keepdims: bool = True) -> np.ndarray:
    """np.mean with float64 accumulation for low-precision floats, in x's dtype.

    For floats: sum(x) / N with the sum in the accumulator dtype, the same arithmetic as
    ``np.mean(x, dtype=...)`` without its Python wrapper.
    """
    if x.dtype.kind != "f":
        return np.mean(x, axis=axes, keepdims=keepdims)
    acc = accumulator(x.dtype)
    total = (np.add.reduce(x, axis=axes, keepdims=keepdims) if acc is None
             else wide_sum(x, axes, keepdims))
    average = total / _count(x.shape, axes)
    return average if acc is None else average.astype(x.dtype)


def _sum_forward(x: np.ndarray, *, axes: tuple, keepdims: bool) -> np.ndarray:
    if accumulator(x.dtype) is None:
        return np.add.reduce(x, axis=axes, keepdims=keepdims)
    return wide_sum(x, axes, keepdims).astype(x.dtype)


SUM = register(Op(
    "sum", REDUCE, 1, _sum_forward, _reduction_shape("sum"), _sum_vjp,
    grads=("broadcast({g})",), doc="sum over axes (float64 accumulation for float32)",
))


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (int, tuple, or None for all)."""
    x = _as_input(x, None)
    return apply(SUM, x, axes=normalize_axes(axis, x.ndim, "sum"), keepdims=bool(keepdims))


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    """The number of elements a reduction over ``axes`` combines."""
    return math.prod([shape[a] for a in axes])


def _mean_vjp(g: Tensor, out: Tensor, x: Tensor, *, axes: tuple, keepdims: bool) -> tuple:
    scaled = mul(g, 1.0 / _count(x.shape, axes))
    return (broadcast_to(_expand_reduced(scaled, x.shape, axes, keepdims), x.shape),)


def _mean_forward(x: np.ndarray, *, axes: tuple, keepdims: bool) -> np.ndarray:
    if x.size == 0 or _count(x.shape, axes) == 0:
        raise ValueError(f"mean: cannot average over empty axes {axes} of shape {x.shape}")
    return reduce_mean(x, axes, keepdims)


MEAN = register(Op(
    "mean", REDUCE, 1, _mean_forward, _reduction_shape("mean"), _mean_vjp,
    grads=("broadcast({g} / N)",), doc="mean over axes: sum / N",
))


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis``: sum(x) / N."""
    x = _as_input(x, None)
    return apply(MEAN, x, axes=normalize_axes(axis, x.ndim, "mean"), keepdims=bool(keepdims))


def _max_vjp(g: Tensor, out: Tensor, x: Tensor, *, axes: tuple, keepdims: bool) -> tuple:
    peak = _expand_reduced(out, x.shape, axes, keepdims)
    mask = cast(equal(x, peak), g.dtype)
    ties = sum(mask, axes, keepdims=True)
    share = div(_expand_reduced(g, x.shape, axes, keepdims), ties)
    return (mul(mask, share),)


def _max_forward(x: np.ndarray, *, axes: tuple, keepdims: bool) -> np.ndarray:
    if _count(x.shape, axes) == 0:
        raise ValueError(f"max: cannot take the max over empty axes {axes} of shape {x.shape}")
    return np.max(x, axis=axes, keepdims=keepdims)


MAX = register(Op(
    "max", REDUCE, 1, _max_forward, _reduction_shape("max"), _max_vjp,
    grads=("[{0} == {out}] * {g} / #ties",), doc="max over axes",
))


def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum over ``axis``; the gradient is shared equally among tied maxima."""
    x = _as_input(x, None)
    return apply(MAX, x, axes=normalize_axes(axis, x.ndim, "max"), keepdims=bool(keepdims))


def var(x: Any, axis: Axis = None, keepdims: bool = False, correction: int = 0) -> Tensor:
    """Variance by two passes: sum((x - mean(x))**2) / max(0, N - correction).

    Two passes (as the seed computes it) stay accurate at a large mean offset, where
    E[x^2] - E[x]^2 cancels catastrophically in float32. With correction >= N there are no
    degrees of freedom left: as in PyTorch the divisor is 0 (inf, or NaN for equal values)
    and a RuntimeWarning says so (it was N - correction: a negative variance).
    """
    x = _as_input(x, None)
    axes = normalize_axes(axis, x.ndim, "var")
    count = _count(x.shape, axes)
    if count - correction <= 0:
        warnings.warn(f"var: correction={correction} leaves no degrees of freedom over "
                      f"{count} values per result (shape {x.shape}, axes {axes}): the "
                      "divisor is 0", RuntimeWarning, stacklevel=2)
    centred = sub(x, mean(x, axes, keepdims=True))
    squares = sum(power(centred, 2), axes, keepdims=keepdims)
    return div(squares, float(builtins.max(0, count - correction)))


# ======================================================================= movement ops
def _reshape_shape(shape: tuple[int, ...], *, shape_to: tuple[int, ...]) -> tuple:
    size = math.prod(shape)
    if math.prod(shape_to) != size or builtins.min(shape_to, default=0) < 0:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {shape} to {shape_to}")
    return shape_to


def _resolve_reshape(shape: tuple[int, ...], target: tuple[int, ...]) -> tuple[int, ...]:
    size = math.prod(shape)
    unknown = [i for i, n in enumerate(target) if n == -1]
    if len(unknown) > 1:
        raise ValueError(f"reshape: only one dimension can be -1, got {target}")
    if unknown:
        known = math.prod([n for n in target if n != -1])
        if known == 0 or size % known:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {shape} to {target}")
        target = tuple(size // known if n == -1 else n for n in target)
    return _reshape_shape(shape, shape_to=target)


def _reshape_vjp(g: Tensor, out: Tensor, x: Tensor, *, shape_to: tuple) -> tuple:
    return (reshape(g, x.shape),)


RESHAPE = register(Op(
    "reshape", MOVEMENT, 1, lambda x, *, shape_to: np.reshape(x, shape_to), _reshape_shape,
    _reshape_vjp, grads=("reshape({g})",), doc="the same values in another shape",
))


def reshape(x: Any, shape: Sequence[int]) -> Tensor:
    """The same values in ``shape`` (one entry may be -1)."""
    x = _as_input(x, None)
    return apply(RESHAPE, x, shape_to=_resolve_reshape(x.shape, tuple(int(n) for n in shape)))


def _transpose_shape(shape: tuple[int, ...], *, perm: tuple[int, ...]) -> tuple:
    if sorted(perm) != list(range(len(shape))):
        raise ValueError(f"transpose: axes {perm} are not a permutation for shape {shape}")
    return tuple(shape[p] for p in perm)


def _transpose_vjp(g: Tensor, out: Tensor, x: Tensor, *, perm: tuple) -> tuple:
    inverse = sorted(range(len(perm)), key=perm.__getitem__)  # argsort of the permutation
    return (transpose(g, tuple(inverse)),)


TRANSPOSE = register(Op(
    "transpose", MOVEMENT, 1, lambda x, *, perm: np.transpose(x, perm).copy(),
    _transpose_shape, _transpose_vjp, grads=("transpose({g})",), doc="permute axes",
))


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes (reverse them when ``axes`` is None)."""
    x = _as_input(x, None)
    for ax in () if axes is None else axes:
        if not -x.ndim <= int(ax) < builtins.max(x.ndim, 1):
            raise ValueError(f"transpose: axis {ax} is out of range for shape {x.shape}")
    perm = tuple(reversed(range(x.ndim))) if axes is None else tuple(
        int(a) % builtins.max(x.ndim, 1) for a in axes
    )
    return apply(TRANSPOSE, x, perm=perm)


def _broadcast_shape(shape: tuple[int, ...], *, shape_to: tuple[int, ...]) -> tuple:
    if broadcast_shapes(shape, shape_to, op="broadcast_to") != shape_to:
        raise ValueError(f"broadcast_to: cannot broadcast shape {shape} to {shape_to}")
    return shape_to


def _broadcast_vjp(g: Tensor, out: Tensor, x: Tensor, *, shape_to: tuple) -> tuple:
    return (unbroadcast(g, x.shape),)


BROADCAST_TO = register(Op(
    "broadcast_to", MOVEMENT, 1, lambda x, *, shape_to: np.broadcast_to(x, shape_to),
    _broadcast_shape, _broadcast_vjp, grads=("unbroadcast({g})",),
    doc="repeat along new or size-1 axes",
))


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """``x`` repeated along new or size-1 axes to reach ``shape`` (a read-only view)."""
    x = _as_input(x, None)
    shape = tuple(int(n) for n in shape)
    if x.shape == shape:
        return x
    return apply(BROADCAST_TO, x, shape_to=shape)


# ============================================================================== matmul
def _matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if len(a) == 0 or len(b) == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got {a} @ {b}")
    inner_a = a[-1]
    inner_b = b[-2] if len(b) > 1 else b[0]
    if inner_a != inner_b:
        raise ValueError(
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


# ============================================================================ indexing
def _freeze_key(key: Any) -> tuple:
    """An index key as a tuple of ints, slices, None, Ellipsis and int/bool arrays."""
    parts = key if isinstance(key, tuple) else (key,)
    frozen = []
    for part in parts:
        if isinstance(part, Tensor):
            part = part.data
        if isinstance(part, list | np.ndarray):
            part = np.asarray(part)
            if part.dtype.kind not in "iub":
                raise TypeError(f"index arrays must hold integers or booleans, got {part.dtype}")
        elif not isinstance(part, int | np.integer | slice | type(None) | type(Ellipsis)):
            raise TypeError(f"unsupported index {part!r}")
        frozen.append(part)
    return tuple(frozen)


def _mixes_ints_and_arrays(key: tuple) -> bool:
    """Whether ``key`` holds both integers and index arrays (numpy and PyTorch place the
    result's axes differently then: ``x[0, :, [0, 1]]`` is (2, 6) in numpy, (6, 2) in
    PyTorch for x of shape (5, 6, 7))."""
    kinds = {isinstance(part, np.ndarray) for part in key if not isinstance(part, slice)
             and part is not None and part is not Ellipsis}
    return kinds == {True, False}


def _index_shape(shape: tuple[int, ...], *, key: tuple) -> tuple[int, ...]:
    if _mixes_ints_and_arrays(key):
        raise ValueError("index: a key mixing integers and index arrays is split by "
                         "ops.index into two index nodes (PyTorch's axis order)")
    try:
        return np.broadcast_to(np.empty((), np.int8), shape)[key].shape
    except IndexError as error:
        raise IndexError(f"index: {error} (tensor shape {shape})") from None


def _index_vjp(g: Tensor, out: Tensor, x: Tensor, *, key: tuple) -> tuple:
    return (index_add(g, key, x.shape),)


INDEX_OP = register(Op(
    "index", INDEX, 1, lambda x, *, key: np.array(x[key]), _index_shape, _index_vjp,
    grads=("scatter {g} back into zeros",), doc="x[key] (basic and integer-array indexing)",
))


def index(x: Any, key: Any) -> Tensor:
    """``x[key]`` with PyTorch's indexing: numpy's basic and advanced indexing, except that
    integers beside index arrays select first, so the arrays' axes are placed as if the
    integer axes were not there (``x[0, :, idx]`` is ``x[0][:, idx]``)."""
    key = _freeze_key(key)
    if not _mixes_ints_and_arrays(key):
        return apply(INDEX_OP, x, key=key)
    selected: list[Any] = []  # the integers (and None, Ellipsis); every other axis kept
    for part in key:
        if isinstance(part, np.ndarray):
            selected += [slice(None)] * (part.ndim if part.dtype == bool else 1)
        else:
            selected.append(slice(None) if isinstance(part, slice) else part)
    rest = tuple(slice(None) if part is None else part for part in key
                 if not isinstance(part, int | np.integer))
    return apply(INDEX_OP, apply(INDEX_OP, x, key=tuple(selected)), key=rest)


def _index_add_forward(g: np.ndarray, *, key: tuple, shape_to: tuple) -> np.ndarray:
    out = np.zeros(shape_to, dtype=g.dtype)
    np.add.at(out, key, g)
    return out


def _index_add_shape(shape: tuple[int, ...], *, key: tuple, shape_to: tuple) -> tuple:
    _index_shape(shape_to, key=key)  # the key must be one the index row accepts
    return shape_to


def _index_add_vjp(h: Tensor, out: Tensor, g: Tensor, *, key: tuple, shape_to: tuple) -> tuple:
    return (index(h, key),)


INDEX_ADD = register(Op(
    "index_add", INDEX, 1, _index_add_forward, _index_add_shape, _index_add_vjp,
    grads=("{g}[key]",), doc="zeros(shape) with g added at key (repeats accumulate)",
))


def index_add(g: Any, key: tuple, shape: tuple[int, ...]) -> Tensor:
    """zeros(shape) with ``g`` added at ``key`` (the VJP of indexing)."""
    return apply(INDEX_ADD, g, key=key, shape_to=tuple(shape))


def _gather_shape(shape: tuple[int, ...], idx: tuple[int, ...], *, axis: int) -> tuple:
    if len(idx) != len(shape):
        raise ValueError(
            f"gather: index of shape {idx} needs as many dimensions as the input {shape}"
        )
    return idx


def _gather_forward(x: np.ndarray, idx: np.ndarray, *, axis: int) -> np.ndarray:
    if idx.dtype.kind not in "iu":
        raise TypeError(f"gather: indices must be integers, got dtype {idx.dtype}")
    if idx.size and (idx.min() < -x.shape[axis] or idx.max() >= x.shape[axis]):
        raise IndexError(
            f"gather: index {int(idx.max()) if idx.max() >= x.shape[axis] else int(idx.min())}"
            f" is out of range for axis {axis} of size {x.shape[axis]}"
        )
    return np.take_along_axis(x, idx, axis=axis)


def _gather_vjp(g: Tensor, out: Tensor, x: Tensor, idx: Tensor, *, axis: int) -> tuple:
    return scatter_add(g, idx, axis, x.shape), None


GATHER = register(Op(
    "gather", INDEX, 2, _gather_forward, _gather_shape, _gather_vjp,
    grads=("scatter_add({g})", ""), doc="out[..i..] = x[..idx[..i..]..] along axis",
))


def gather(x: Any, idx: Any, axis: int) -> Tensor:
    """Values of ``x`` at ``idx`` along ``axis`` (``torch.gather`` / ``take_along_axis``)."""
    x = _as_input(x, None)
    idx = _as_input(idx, None)
    return apply(GATHER, x, idx, axis=int(axis) % builtins.max(x.ndim, 1))


def _scatter_add_forward(g: np.ndarray, idx: np.ndarray, *, axis: int,
                         shape_to: tuple) -> np.ndarray:
    out = np.zeros(shape_to, dtype=g.dtype)
    grid = list(np.indices(idx.shape, sparse=True))
    grid[axis] = idx
    np.add.at(out, tuple(grid), g)
    return out


def _scatter_add_vjp(h: Tensor, out: Tensor, g: Tensor, idx: Tensor, *, axis: int,
                     shape_to: tuple) -> tuple:
    return gather(h, idx, axis), None


SCATTER_ADD = register(Op(
    "scatter_add", INDEX, 2, _scatter_add_forward,
    lambda g, idx, *, axis, shape_to: shape_to, _scatter_add_vjp,
    grads=("gather({g})", ""), doc="zeros(shape) with g added at idx along axis",
))


def scatter_add(g: Any, idx: Any, axis: int, shape: tuple[int, ...]) -> Tensor:
    """zeros(shape) with ``g`` added at ``idx`` along ``axis`` (the VJP of gather)."""
    return apply(SCATTER_ADD, g, idx, axis=int(axis), shape_to=tuple(shape))
