"""numpy's protocols on Tensor: ``np.exp(t)``, ``np.add(t, 1)``, ``np.sum(t, axis=0)``,
``np.concatenate([t, u])`` run minigrad's function of the same name (looked up when called,
so functions added later are found), keeping the graph. A numpy function minigrad does
not have raises a TypeError naming it: never a plain numpy array that silently drops the
graph. Queries whose answer carries no gradient (np.shape, np.allclose, ...) get numpy's
answer on the values.
"""

from __future__ import annotations

import inspect
import itertools
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from . import numpy_meaning
from .errors import ArgumentError

# numpy names that minigrad spells otherwise (looked up as minigrad.<name> at call time)
RENAMED = {
    "absolute": "abs", "concatenate": "cat", "concat": "cat", "amax": "max", "amin": "min",
    "expand_dims": "unsqueeze", "moveaxis": "movedim", "swapaxes": "swapdims",
    "negative": "neg", "subtract": "sub", "multiply": "mul", "true_divide": "div",
    "divide": "div", "fabs": "abs", "radians": "deg2rad", "degrees": "rad2deg",
    "rint": "round", "left_shift": "bitwise_left_shift", "right_shift": "bitwise_right_shift",
    "invert": "bitwise_not", "conjugate": "conj",
}
# numpy keywords that PyTorch spells otherwise: renamed when minigrad's function takes only
# PyTorch's (np.concatenate(ts, axis=1) -> cat(ts, dim=1))
KEYWORDS = {"axis": ("dim", "dims"), "keepdims": ("keepdim",), "axes": ("dims",),
            "k": ("diagonal", "offset"), "a_min": ("min",), "a_max": ("max",)}
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
# those of them that read the values (refused while mg.jit traces: the answer would be frozen)
VALUE_QUERIES = frozenset({"allclose", "isclose", "array_equal", "array_equiv", "copyto"})


def _values(value: Any, read: bool = False) -> Any:
    """``value`` with every Tensor (also inside lists and tuples) replaced by its array
    (``read``: its values are read, ``read_values``)."""
    from .tensor import Tensor, read_values

    if isinstance(value, Tensor):
        return read_values(value) if read else value.data
    if isinstance(value, list | tuple):
        return type(value)(_values(v, read) for v in value)
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


def _extreme(largest: bool) -> Callable[..., Any]:
    """numpy's max / min: the values only (PyTorch's max(dim) also gives the indices)."""
    def extreme(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        from . import ops

        if largest:
            return ops.max(a, axis, keepdims)
        return ops.amin(a, axis, keepdims)  # integers too (-x overflows at their minimum)

    return extreme


def _sort(a: Any, axis: int | None = -1) -> Any:
    """numpy's sort: the sorted values only (flattened first when axis is None)."""
    import minigrad

    from . import ops

    sort = getattr(minigrad, "sort", None)
    if sort is None:
        raise _refuse("numpy.sort", "minigrad has no function of that name")
    if axis is None:
        a, axis = ops.reshape(a, (-1,)), 0
    return sort(a, axis)[0]


def _round(a: Any, decimals: int = 0) -> Any:
    """numpy.round / around: halves to even at ``decimals`` places (PyTorch's round with
    ``decimals``, the same multiply-rint-divide as numpy)."""
    import minigrad

    return minigrad.round(a, decimals=decimals)


def _spread(name: str) -> Callable[..., Any]:
    """numpy.var / numpy.std: ``ddof`` defaults to 0 (numpy's), where minigrad's and
    PyTorch's ``var``/``std`` default to correction 1."""

    def numpy_spread(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
                     ddof: int = 0, keepdims: bool = False) -> Any:
        import minigrad

        if out is not None:
            raise _refuse(f"numpy.{name}", "out= is not supported")
        value = getattr(minigrad, name)(a, axis, keepdims, correction=ddof)
        return value if dtype is None else value.to(dtype)

    return numpy_spread


def _median(*_: Any, **__: Any) -> Any:
    raise _refuse("numpy.median", "numpy averages the two middle values where PyTorch's "
                  "median takes the lower one")


def _split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list:
    """numpy's split: ``n`` equal pieces (refused unless n divides the length, as numpy), or
    the pieces between the listed indices (PyTorch's split takes the pieces' sizes)."""
    from . import ops

    length = ops._as_input(ary, None).shape[axis]
    if isinstance(indices_or_sections, int | np.integer):
        sections = int(indices_or_sections)
        if sections <= 0 or length % sections:
            raise ArgumentError(f"numpy.split: {sections} sections do not divide the length "
                                f"{length} of axis {axis} equally")
        points = [length // sections * k for k in range(1, sections)]
    else:
        points = [int(p) for p in indices_or_sections]
    lead = (slice(None),) * (axis % ops._as_input(ary, None).ndim)
    bounds = [None, *points, None]
    return [ary[(*lead, slice(start, stop))] for start, stop in itertools.pairwise(bounds)]


def _repeat(a: Any, repeats: Any, axis: int | None = None) -> Any:
    """numpy's repeat: each element ``repeats`` times in a row along ``axis`` (flattened
    when None): PyTorch's repeat_interleave, a gather, where PyTorch's repeat tiles."""
    import minigrad

    from . import ops

    if axis is None:
        a, axis = ops.reshape(a, (-1,)), 0
    length = ops._as_input(a, None).shape[axis]
    counts = _values(repeats, read=True)
    positions = np.repeat(np.arange(length), counts)
    return minigrad.index_select(a, axis, minigrad.tensor(positions))


def _pad(array: Any, pad_width: Any, mode: str = "constant", constant_values: Any = 0) -> Any:
    """numpy's pad: ``pad_width`` (before, after) per axis, first axis first, numpy's
    broadcasting of it; modes constant, edge, reflect, wrap as PyTorch's pad's constant,
    replicate, reflect, circular (PyTorch's pad lists the last dim first)."""
    import minigrad

    from . import ops

    ndim = ops._as_input(array, None).ndim
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2))
    modes = {"constant": "constant", "edge": "replicate", "reflect": "reflect",
             "wrap": "circular"}
    if mode not in modes or np.ndim(constant_values) != 0:
        raise _refuse("numpy.pad", f"mode={mode!r}, constant_values={constant_values!r}; "
                      f"modes {sorted(modes)} with one constant are dispatched")
    flat = [int(w) for pair in widths[::-1] for w in pair]
    return minigrad.pad(array, flat, mode=modes[mode], value=float(constant_values))


def _nonzero(a: Any) -> tuple:
    """numpy's nonzero: one index array per dim (PyTorch's nonzero gives one (count, ndim)
    tensor, numpy's argwhere)."""
    import minigrad

    return minigrad.nonzero(a, as_tuple=True)


def _argwhere(a: Any) -> Any:
    """numpy's argwhere: the (count, ndim) indices, PyTorch's nonzero."""
    import minigrad

    return minigrad.nonzero(a)


def _meshgrid(*xi: Any, indexing: str = "xy", **keywords: Any) -> Any:
    """numpy.meshgrid: indexing 'xy' by default (PyTorch's meshgrid defaults to 'ij')."""
    import minigrad

    if keywords:
        raise _refuse("numpy.meshgrid", f"arguments {sorted(keywords)} are not supported")
    return list(minigrad.meshgrid(*xi, indexing=indexing))


# numpy functions whose minigrad namesake means something else (PyTorch's max(dim) and
# sort give indices too; split takes split points, not sizes; repeat repeats elements, not
# the whole; pad lists the first axis first; var and std default to ddof 0):
# numpy's meaning, keyed by the qualified name (numpy.linalg's: numpy_linalg.NUMPY_LINALG)
OWN: dict[str, Callable[..., Any]] = {
    "numpy.max": _extreme(True), "numpy.amax": _extreme(True),
    "numpy.min": _extreme(False), "numpy.amin": _extreme(False),
    "numpy.sort": _sort, "numpy.median": _median,
    "numpy.round": _round, "numpy.around": _round, "numpy.split": _split,
    "numpy.repeat": _repeat, "numpy.pad": _pad, "numpy.nonzero": _nonzero,
    "numpy.argwhere": _argwhere,
    "numpy.var": _spread("var"), "numpy.std": _spread("std"),
    "numpy.meshgrid": _meshgrid,
}
OWN.update(numpy_meaning.OWN)  # np.trace, np.dot, np.einsum, np.append, ... (numpy's meaning)


def _qualified(func: Callable[..., Any]) -> str:
    """numpy.linalg.norm, numpy.sum ... (the public module numpy lists the function in)."""
    module = getattr(func, "__module__", None) or "numpy"
    return f"{module if module.startswith('numpy') else 'numpy'}.{func.__name__}"


def array_function(func: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """``Tensor.__array_function__``: numpy's function ``func`` called with tensors."""
    name, qualified = func.__name__, _qualified(func)
    if name in QUERIES:
        read = name in VALUE_QUERIES or (name == "min_scalar_type" and bool(args)
                                         and getattr(args[0], "ndim", None) == 0)
        # (min_scalar_type of a 0-d array answers by its value: 3 uint8, 300 uint16)
        return func(*_values(args, read), **_values(kwargs, read))
    function = OWN.get(qualified)
    if function is None and qualified.startswith("numpy.linalg."):
        from .numpy_linalg import NUMPY_LINALG  # numpy.linalg's meanings over mg.linalg

        function = NUMPY_LINALG.get(qualified)
    if function is None and qualified.count(".") == 1:  # not numpy.linalg, numpy.fft, ...
        function = find(name)
    if function is None:
        raise _refuse(qualified, "minigrad has no function of that name")
    args, kwargs = _tensors(args), _keywords(function, kwargs)
    _check_arguments(qualified, function, args, kwargs)
    return function(*args, **kwargs)


def _check_arguments(qualified: str, function: Callable[..., Any], args: tuple,
                     kwargs: dict) -> None:
    """A call minigrad's function cannot take (numpy's extra arguments: np.round(t, 2),
    np.sum(t, dtype=..., out=...)) is refused naming the numpy function."""
    try:
        inspect.signature(function).bind(*args, **kwargs)
    except TypeError as error:
        raise _refuse(qualified, f"minigrad's function takes other arguments: {error}") from None
    except ValueError:  # no signature to check (a builtin)
        return


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
