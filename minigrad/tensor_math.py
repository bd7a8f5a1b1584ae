"""PyTorch's math functions and Tensor methods over the op table's math rows (issue 15 §2).

``mg.sin``, ``mg.remainder``, ``mg.logical_and`` ... are the rows' wrappers (one loop over
the elementwise rows); the rest is composed from rows (no rows of its own), so gradients,
drawings and the JIT come from those rows: ``fmax``/``fmin``, ``lerp``, ``addcmul``/
``addcdiv``, ``isclose``/``allclose``, ``masked_fill``, ``index_select``, ``where`` with
one argument and ``nonzero`` (values read into Python: refused under mg.jit, as ``item``),
``clamp_min``/``clamp_max``, ``hypot``, ``logaddexp(2)``, ``round(decimals=)``, ``float_power``,
``sinc``, ``deg2rad``/``rad2deg``, ``heaviside``, ``logit``. ``_install`` sets the Tensor
methods from one table;
``__all__`` is what ``minigrad`` re-exports.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import ops
from .errors import ArgumentError, ArgumentTypeError
from .ops.core import COMPARE, ELEMENTWISE
from .tensor import Tensor, read_values

# rows whose wrapper is not PyTorch's function of that name (cast; where: below; pow_tensor:
# mg.pow; bitwise_not: its row is the integer half of ops.bitwise_not)
_NOT_EXPORTED = {"cast", "where", "pow_tensor", "bitwise_not"}
ROW_FUNCTIONS = [name for name, row in ops.OPS.items()
                 if row.kind in (ELEMENTWISE, COMPARE) and name not in _NOT_EXPORTED]
ALIASES = {  # PyTorch's other names of the rows' functions
    "gt": "greater", "ge": "greater_equal", "lt": "less", "le": "less_equal", "eq": "equal",
    "ne": "not_equal", "multiply": "mul", "subtract": "sub", "true_divide": "div",
    "negative": "neg", "absolute": "abs", "arcsin": "asin", "arccos": "acos",
    "arctan": "atan", "arctan2": "atan2", "arcsinh": "asinh", "arccosh": "acosh",
    "arctanh": "atanh", "fix": "trunc", "clip": "clamp", "sgn": "sign",
}
Number = int | float | bool


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001, A002 - PyTorch's names
    """input ** exponent (either may be a number or a tensor; PyTorch's dtypes and
    gradients, see ``ops.power``)."""
    return ops.power(input, exponent)


def add(input: Any, other: Any, *, alpha: Number = 1) -> Tensor:  # noqa: A002
    """input + alpha * other."""
    return ops.add(input, other if alpha == 1 else ops.mul(other, alpha))


def sub(input: Any, other: Any, *, alpha: Number = 1) -> Tensor:  # noqa: A002
    """input - alpha * other."""
    return ops.sub(input, other if alpha == 1 else ops.mul(other, alpha))


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:  # noqa: A002
    """input / other: true division (None), rounded toward 0 ("trunc") or down ("floor");
    integers stay integers when rounded, as in PyTorch."""
    if rounding_mode is None:
        return ops.div(input, other)
    if rounding_mode == "floor":
        return ops.floor_divide(input, other)
    if rounding_mode != "trunc":
        raise ArgumentError(f"div: rounding_mode must be None, 'trunc' or 'floor', got "
                            f"{rounding_mode!r}")
    floor = ops.floor_divide(input, other)
    if floor.dtype.kind == "f":
        return ops.trunc(ops.div(input, other))
    # floor(a / b) + 1 where the division was inexact and negative: toward 0
    inexact = ops.not_equal(ops.remainder(input, other), 0)
    negative = ops.logical_xor(ops.less(input, 0), ops.less(other, 0))
    return ops.where(ops.logical_and(inexact, negative), ops.add(floor, 1), floor)


def fmax(input: Any, other: Any) -> Tensor:  # noqa: A002
    """The larger of the two, ignoring a NaN (NaN only when both are); PyTorch's gradient:
    all of it to ``input`` where input >= other or other is NaN, else to ``other``."""
    return _nan_ignoring(input, other, ops.greater_equal)


def fmin(input: Any, other: Any) -> Tensor:  # noqa: A002
    """The smaller of the two, ignoring a NaN (``fmax``'s rules with <=)."""
    return _nan_ignoring(input, other, ops.less_equal)


def _nan_ignoring(a: Any, b: Any, keeps_a: Any) -> Tensor:
    a, b = ops._as_inputs(ops.OPS["add"], (a, b))
    choose_a = keeps_a(a, b) if b.dtype.kind != "f" else ops.logical_or(keeps_a(a, b),
                                                                         ops.isnan(b))
    return ops.where(choose_a, a, b)


def lerp(input: Any, end: Any, weight: Any) -> Tensor:  # noqa: A002
    """input + weight (end - input), computed as PyTorch: from ``end`` when weight >= 0.5
    (end - (end - input)(1 - weight)), so lerp(a, b, 1) is exactly b."""
    span = ops.sub(end, input)
    if not isinstance(weight, Tensor):
        if abs(weight) < 0.5:
            return ops.add(input, ops.mul(weight, span))
        return ops.sub(end, ops.mul(span, 1 - weight))
    low = ops.add(input, ops.mul(weight, span))
    high = ops.sub(end, ops.mul(span, ops.sub(1, weight)))
    return ops.where(ops.less(ops.abs(weight), 0.5), low, high)


def addcmul(input: Any, tensor1: Any, tensor2: Any, *, value: Number = 1) -> Tensor:  # noqa: A002
    """input + value * tensor1 * tensor2."""
    product = ops.mul(tensor1, tensor2)
    return ops.add(input, product if value == 1 else ops.mul(product, value))


def addcdiv(input: Any, tensor1: Any, tensor2: Any, *, value: Number = 1) -> Tensor:  # noqa: A002
    """input + value * tensor1 / tensor2."""
    ratio = ops.div(tensor1, tensor2)
    return ops.add(input, ratio if value == 1 else ops.mul(ratio, value))


def isclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
            equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol |other| elementwise (PyTorch's: equal values, the
    infinities included, are close; NaN only with ``equal_nan``). Both tensors must have
    one dtype, as in PyTorch."""
    if isinstance(input, Tensor) and isinstance(other, Tensor) and input.dtype != other.dtype:
        raise ArgumentTypeError(f"isclose: both tensors must have one dtype, got {input.dtype} "
                                f"{input.shape} and {other.dtype} {other.shape}")
    if rtol < 0 or atol < 0:
        raise ArgumentError(f"isclose: rtol and atol must be >= 0, got rtol={rtol}, atol={atol}")
    close = ops.equal(input, other)
    if ops._as_input(input, None).dtype.kind == "b":
        return close
    if equal_nan:
        close = ops.logical_or(close, ops.logical_and(ops.isnan(input), ops.isnan(other)))
    gap = ops.abs(ops.sub(input, other))
    allowed = ops.add(ops.mul(ops.abs(other), float(rtol)), float(atol))
    within = ops.logical_and(ops.isfinite(gap), ops.less_equal(gap, allowed))
    return ops.logical_or(close, within)


def allclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
             equal_nan: bool = False) -> bool:
    """Whether ``isclose`` holds everywhere (a Python bool: refused under mg.jit)."""
    return bool(np.all(read_values(isclose(input, other, rtol, atol, equal_nan))))





def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:  # noqa: A002
    """``input`` with ``value`` where the bool ``mask`` (broadcast to input's shape) holds;
    input's dtype. The gradient reaches input where mask is False, and a 0-d tensor
    ``value`` by the sum over the filled places."""
    mask = ops._as_input(mask, None)
    if mask.dtype != np.bool_:
        raise ArgumentTypeError(f"masked_fill: the mask must be a bool tensor, got {mask.dtype} "
                                f"{mask.shape} (PyTorch refuses it too)")
    if ops.broadcast_shapes(input.shape, mask.shape, op="masked_fill") != input.shape:
        raise ArgumentError(f"masked_fill: mask of shape {mask.shape} does not broadcast to "
                            f"the input's shape {input.shape}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise ArgumentError(f"masked_fill: value must be a number or a 0-d tensor, got "
                                f"shape {value.shape}")
        fill = value if value.dtype == input.dtype else ops.cast(value, input.dtype)
    else:
        fill = Tensor._constant(np.asarray(value).astype(input.dtype))
    return ops.where(mask, fill, input)


def index_select(input: Tensor, dim: int, index: Any) -> Tensor:  # noqa: A002
    """The entries of ``index`` (a 1-D or 0-d integer tensor) along ``dim``:
    out.shape[dim] = len(index). The gradient adds back into those places."""
    from .shape_ops import dim_index

    index = ops._as_input(index, None)
    if index.dtype.kind not in "iu" or index.ndim > 1:
        raise ArgumentTypeError(f"index_select: index must be a 1-D or 0-d integer tensor, got "
                                f"{index.dtype} of shape {index.shape}")
    axis = dim_index(dim, max(input.ndim, 1), "index_select")
    size = input.shape[axis] if input.ndim else 1
    flat = index if index.ndim else ops.reshape(index, (1,))
    # refused outside [0, size) (indexing would wrap a negative; PyTorch refuses it),
    # eagerly and by the check row in every mg.jit call
    flat = ops.require_range(flat, 0, size - 1, f"index_select: indices must lie in [0, {size})"
                             f" along dim {dim} of shape {input.shape} (PyTorch refuses "
                             "negative ones too)", index=True)
    source = input if input.ndim else ops.reshape(input, (1,))
    out = source[(slice(None),) * axis + (flat,)]
    return out if input.ndim else ops.reshape(out, ())


def nonzero(input: Any, *, as_tuple: bool = False) -> Any:  # noqa: A002
    """The indices of the non-zero entries: an int64 tensor (count, ndim), or with
    ``as_tuple`` one int64 tensor per dim. Values are read into Python (the shape depends
    on them): refused under mg.jit."""
    values = read_values(ops._as_input(input, None))
    if as_tuple:
        return tuple(Tensor(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(values)))
    return Tensor(np.argwhere(values).astype(np.int64))


def where(condition: Any, input: Any = None, other: Any = None) -> Any:  # noqa: A002
    """``input`` where ``condition`` holds, else ``other``; with the condition alone,
    ``nonzero(condition, as_tuple=True)`` (PyTorch's one-argument form)."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise ArgumentTypeError("where: give both input and other, or neither")
    return ops.where(condition, input, other)


def clamp_min(input: Any, min: Any) -> Tensor:  # noqa: A002
    """max(input, min) with clamp's rules."""
    return ops.clamp(input, min=min)


def clamp_max(input: Any, max: Any) -> Tensor:  # noqa: A002
    """min(input, max) with clamp's rules."""
    return ops.clamp(input, max=max)


def softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """``nn.functional.softmax``."""
    from .nn.losses_functional import softmax as function

    return function(input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """``nn.functional.log_softmax``."""
    from .nn.losses_functional import log_softmax as function

    return function(input, dim, dtype)


def hypot(input: Any, other: Any) -> Tensor:  # noqa: A002
    """sqrt(input^2 + other^2); d/dinput = input / out. An infinite side with a NaN other
    gives inf (C's hypot, PyTorch's), where the sum of squares would give NaN."""
    a, b = ops._as_input(input, None), ops._as_input(other, None)
    inf_and_nan = ops.logical_or(ops.logical_and(ops.isinf(a), ops.isnan(b)),
                                 ops.logical_and(ops.isnan(a), ops.isinf(b)))
    return ops.where(inf_and_nan, float("inf"), ops.sqrt(ops.add(ops.mul(a, a), ops.mul(b, b))))


def logaddexp(input: Any, other: Any) -> Tensor:  # noqa: A002
    """log(e^input + e^other), stable: l + log1p(e^(s - l)) with l the larger, s the smaller,
    picked by a comparison (no gradient), so ties take one smooth branch and every order of
    gradient is PyTorch's there (d2/da2 = 1/4 at a = b; max and |a - b| would give 0);
    equal infinities give themselves (PyTorch's)."""
    return _log_add(input, other, ops.exp, 1.0)


def logaddexp2(input: Any, other: Any) -> Tensor:  # noqa: A002
    """log2(2^input + 2^other): m + log1p(2^-|input - other|) / ln 2, as ``logaddexp``."""
    return _log_add(input, other, ops.exp2, float(1.0 / np.log(2.0)))


def _log_add(a: Any, b: Any, power: Any, scale: float) -> Tensor:
    """l + log1p(power(s - l)) * scale with l the larger of a, b and s the smaller, picked by
    a comparison (no gradient), so ties take one smooth branch and every order of gradient
    is PyTorch's there (max and |a - b| have kinks: second derivatives 0 at a = b)."""
    first_larger = ops.greater_equal(a, b)
    larger = ops.where(first_larger, a, b)
    smaller = ops.where(first_larger, b, a)
    same = ops.logical_and(ops.equal(a, b), ops.isinf(ops._as_input(a, None)))
    gap = ops.where(same, 0.0, ops.sub(smaller, larger))  # inf - inf is NaN: nothing to add
    extra = ops.log1p(power(gap))
    return ops.add(larger, ops.where(same, 0.0, extra if scale == 1.0 else ops.mul(extra, scale)))


def round(input: Any, *, decimals: int = 0) -> Tensor:  # noqa: A001, A002
    """input rounded to ``decimals`` places, halves to even (PyTorch's: round(x * 10^d) /
    10^d); gradient 0."""
    if decimals == 0:
        return ops.round(input)
    scale = 10.0 ** decimals
    return ops.div(ops.round(ops.mul(input, scale)), scale)


def float_power(input: Any, exponent: Any) -> Tensor:  # noqa: A002
    """input ** exponent computed in float64 (both cast first), as PyTorch."""
    def wide(value: Any) -> Any:
        if isinstance(value, Tensor):
            return value if value.dtype == np.float64 else ops.cast(value, np.float64)
        return float(value) if isinstance(value, int | float | np.number) else \
            ops.cast(ops._as_input(value, None), np.float64)

    return ops.power(wide(input), wide(exponent))


SINC_SERIES_BELOW = 0.05  # |x| under this: the Taylor series (error < 3e-16 there)
SINC_SERIES = (1.0, -1 / 6, 1 / 120, -1 / 5040, 1 / 362880)  # in u = (pi x)^2


def sinc(input: Any) -> Tensor:  # noqa: A002
    """sin(pi x) / (pi x), 1 at x = 0. For |x| < 0.05 it is the series
    1 - u/6 + u^2/120 - u^3/5040 + u^4/362880 in u = (pi x)^2, so every order of
    derivative is right at and near 0 (sinc''(0) = -pi^2/3; the quotient's derivatives
    cancel catastrophically there). Each branch runs on inputs safe for it."""
    x = ops._as_input(input, None)
    small = ops.less(ops.abs(x), SINC_SERIES_BELOW)
    near = ops.where(small, x, 0.0)
    u = ops.square(ops.mul(near, float(np.pi)))
    series = ops.mul(u, 0.0)
    for coefficient in reversed(SINC_SERIES):  # Horner
        series = ops.add(ops.mul(series, u), coefficient)
    angle = ops.mul(ops.where(small, 1.0, x), float(np.pi))
    return ops.where(small, series, ops.div(ops.sin(angle), angle))


def deg2rad(input: Any) -> Tensor:  # noqa: A002
    """input * pi / 180 (integers give float32, as PyTorch)."""
    return ops.mul(input, float(np.pi / 180.0))


def rad2deg(input: Any) -> Tensor:  # noqa: A002
    """input * 180 / pi."""
    return ops.mul(input, float(180.0 / np.pi))


def positive(input: Tensor) -> Tensor:  # noqa: A002
    """input itself (PyTorch's unary +)."""
    return input


def heaviside(input: Any, values: Any) -> Tensor:  # noqa: A002
    """0 where input < 0, ``values`` where input == 0, 1 where input > 0 (no gradient in
    PyTorch: here none flows to input)."""
    x = ops._as_input(input, None)
    step = ops.cast(ops.greater(x, 0), x.dtype)
    return ops.where(ops.equal(x, 0), values, step)


def logit(input: Any, eps: float | None = None) -> Tensor:  # noqa: A002
    """log(p / (1 - p)) of p = input clamped to [eps, 1 - eps] when eps is given;
    d/dinput = 1 / (p (1 - p)), 0 outside the bounds. Without eps, NaN (value and
    gradient) outside [0, 1], as PyTorch."""
    p = ops._as_input(input, None)
    if eps is not None:
        p = ops.clamp(p, eps, 1.0 - eps)
    else:  # + NaN outside [0, 1]: the gradient is NaN there too (d/dp of p + c is 1)
        outside = ops.logical_or(ops.less(p, 0.0), ops.greater(p, 1.0))
        p = ops.add(p, ops.where(outside, float("nan"), 0.0))
    # log p - log(1 - p), not log(p / (1 - p)): at p = 0 or 1 the quotient's chain rule
    # meets inf * 0 (a NaN gradient); this form gives PyTorch's inf there
    return ops.sub(ops.log(p), ops.log1p(ops.neg(p)))


COMPOSED = ["pow", "add", "sub", "div", "fmax", "fmin", "lerp", "addcmul", "addcdiv",
            "isclose", "allclose", "masked_fill", "index_select", "nonzero", "where",
            "clamp_min", "clamp_max", "softmax", "log_softmax", "hypot", "logaddexp",
            "logaddexp2", "round", "float_power", "sinc", "deg2rad", "rad2deg", "positive",
            "heaviside", "logit"]
# Tensor methods: the binary rows (x.atan2(y)), the composed functions, the aliases; not
# ``equal`` (PyTorch's Tensor.equal is one bool for the whole tensors)
METHODS = [*(n for n in ROW_FUNCTIONS if n != "equal"), *COMPOSED, *ALIASES, "clamp",
           "bitwise_not", "logical_not"]


def _function(name: str) -> Any:
    if name in ALIASES:
        return _function(ALIASES[name])
    return globals().get(name) if name in COMPOSED else getattr(ops, name)


def _method(name: str) -> Any:
    """The method ``x.name(...)``: ``where``'s is x.where(condition, other) as PyTorch."""
    if name == "where":
        return lambda self, condition, other: ops.where(condition, self, other)
    return _function(name)


# The exported functions that are rows' wrappers, looked up by ``__getattr__`` (not set as
# globals here, where ``abs`` or ``round`` would shadow the builtins)
ROW_EXPORTS: dict[str, Any] = {}


def _install() -> None:
    """The rows' functions for export; Tensor methods for ``METHODS`` not defined already
    (the factories' unary methods, reductions, Tensor's own)."""
    for name in [*ROW_FUNCTIONS, *ALIASES, "clamp", "bitwise_not"]:
        if name not in COMPOSED:
            ROW_EXPORTS[name] = _function(name)
    for name in METHODS:
        if name in ("where", "round") or not hasattr(Tensor, name):
            setattr(Tensor, name, _method(name))


def __getattr__(name: str) -> Any:
    if name in ROW_EXPORTS:
        return ROW_EXPORTS[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_install()
__all__: list[str] = []
__all__.extend(sorted({*ROW_EXPORTS, *COMPOSED}))
