"""numpy's protocols on Tensor: ``np.exp(t)``, ``np.add(t, 1)``, ``np.sum(t, axis=0)``,
``np.concatenate([t, u])`` run minigrad's function of the same name (looked up when called,
so functions added later are found), keeping the graph. A numpy function minigrad does
not have raises a TypeError naming it: never a plain numpy array that silently drops the
graph. Queries whose answer carries no gradient (np.shape, np.allclose, ...) get numpy's
answer on the values.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

# numpy names that minigrad spells otherwise (looked up as minigrad.<name> at call time)
RENAMED = {
    "absolute": "abs", "concatenate": "cat", "concat": "cat", "amax": "max", "amin": "min",
    "expand_dims": "unsqueeze", "moveaxis": "movedim", "swapaxes": "swapdims",
    "negative": "neg", "subtract": "sub", "multiply": "mul", "true_divide": "div",
    "divide": "div", "fabs": "abs",
}
# numpy keywords that PyTorch spells otherwise: renamed when minigrad's function takes only
# PyTorch's (np.concatenate(ts, axis=1) -> cat(ts, dim=1))
KEYWORDS = {"axis": ("dim", "dims"), "keepdims": ("keepdim",), "axes": ("dims",)}
# ufuncs that are Python operators: applied as operators, so a Tensor on either side works
OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add, "subtract": operator.sub, "multiply": operator.mul,
    "true_divide": operator.truediv, "divide": operator.truediv, "power": operator.pow,
    "matmul": operator.matmul, "less": operator.lt, "less_equal": operator.le,
    "greater": operator.gt, "greater_equal": operator.ge, "equal": operator.eq,
    "not_equal": operator.ne,
}
# answers without gradients: numpy computes them on the values
QUERIES = frozenset({
    "shape", "ndim", "size", "allclose", "isclose", "array_equal", "array_equiv",
    "result_type", "can_cast", "iscomplexobj", "isrealobj", "may_share_memory",
    "shares_memory", "min_scalar_type", "copyto",
})


def _values(value: Any) -> Any:
    """``value`` with every Tensor (also inside lists and tuples) replaced by its array."""
    from .tensor import Tensor

    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, list | tuple):
        return type(value)(_values(v) for v in value)
    return value


def _tensors(value: Any) -> Any:
    """numpy arrays among ``value`` (and inside lists) as leaf Tensors, numpy scalars as
    Python numbers (so they take a tensor's dtype, as Python numbers do); the rest unchanged."""
    from .tensor import Tensor

    if isinstance(value, np.ndarray):
        return Tensor(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return type(value)(_tensors(v) for v in value)
    return value


def find(name: str) -> Callable[..., Any] | None:
    """minigrad's function called ``name`` (numpy's spelling translated), or None."""
    import minigrad

    from . import ops

    name = RENAMED.get(name, name)
    found = getattr(minigrad, name, None)
    if found is None:
        found = getattr(ops, name, None)
    return found if callable(found) and not isinstance(found, type | np.dtype) else None


def _refuse(what: str, reason: str) -> TypeError:
    return TypeError(f"{what} is not supported on minigrad tensors ({reason}); call "
                     "minigrad's function or use t.numpy() for a plain array without the graph")


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    """``Tensor.__array_ufunc__``: numpy's ufunc ``ufunc`` called on tensors."""
    what = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    if method != "__call__":
        raise _refuse(what, f"ufunc method {method!r}")
    if kwargs.get("out") is not None or set(kwargs) - {"out"}:
        raise _refuse(what, f"keyword arguments {sorted(kwargs)}")
    args = _tensors(inputs)
    if ufunc.__name__ in OPERATORS and len(args) == 2:
        return OPERATORS[ufunc.__name__](*args)
    function = find(ufunc.__name__)
    if function is None:
        method_of = getattr(args[0], RENAMED.get(ufunc.__name__, ufunc.__name__), None)
        if method_of is None or len(args) != 1:
            raise _refuse(what, "minigrad has no function of that name")
        return method_of()
    return function(*args)


def array_function(func: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """``Tensor.__array_function__``: numpy's function ``func`` called with tensors."""
    name = func.__name__
    if name in QUERIES:
        return func(*_values(args), **_values(kwargs))
    function = find(name)
    if function is None:
        raise _refuse(f"numpy.{name}", "minigrad has no function of that name")
    return function(*_tensors(args), **_keywords(function, kwargs))


def _keywords(function: Callable[..., Any], kwargs: dict) -> dict:
    """``kwargs`` with numpy's names replaced by PyTorch's where ``function`` takes those."""
    try:
        taken = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return kwargs
    renamed = {}
    for key, value in kwargs.items():
        if key not in taken:
            key = next((name for name in KEYWORDS.get(key, ()) if name in taken), key)
        renamed[key] = value
    return renamed
