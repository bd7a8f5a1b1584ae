"""The Tensor: a numpy value plus the graph node that produced it.

Evaluation is eager: every operation computes its numpy value at once and, when gradients
are tracked (or the graph is being recorded), remembers its op, inputs and attributes.
The operators below only forward to the primitives of the op table (``minigrad/ops/``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._state import STATE, pause_gc, resume_gc
from .dtypes import as_array, default_float, is_float_dtype
from .errors import ArgumentError, ArgumentTypeError, OutOfRangeError
from .tensor_api import TensorAPI

if TYPE_CHECKING:
    from .ops import Op

Axis = int | tuple[int, ...] | None


class _NoTags(list):
    """The one shared, always-empty ``grad_of``/``partial_of`` of tensors no backward pass
    has tagged. Most nodes are never tagged, and two fresh lists per node were two more
    objects for Python's cyclic GC to track and rescan (the per-node cost of long eager
    chains grew with their length). The pass gives a tensor its own list when it tags it
    (autodiff._tag); appending here is refused."""

    __slots__ = ()

    def _refuse(self, *_: Any) -> None:
        raise ArgumentTypeError("NO_TAGS is shared by every untagged tensor: give the tensor its "
                                "own list (autodiff._tag)")

    append = extend = insert = __setitem__ = __iadd__ = _refuse  # type: ignore[assignment]


NO_TAGS: list[Any] = _NoTags()


class Tensor(TensorAPI):
    """A value (numpy array) and, when recorded, the node of the graph that made it.

    Graph fields: ``op`` (the primitive row, None for a leaf), ``inputs`` and ``attrs``.
    Gradient-graph fields, set by the backward pass:
    ``grad_of`` (forward tensors whose total gradient this is),
    ``partial_of`` (pairs (forward input, consumer) this is one contribution to),
    ``vjp_of`` (the forward node whose VJP rule created this node).
    ``meta`` holds free-form annotations (BatchNorm's seed step numbers, module names).
    PyTorch's methods (size(), dim=, shape ops, ...) come from ``TensorAPI``.
    """

    __slots__ = (
        "__weakref__",
        "_stamp",
        "attrs",
        "data",
        "grad",
        "grad_of",
        "inputs",
        "meta",
        "name",
        "op",
        "partial_of",
        "requires_grad",
        "vjp_of",
    )
    __array_priority__ = 1000  # numpy defers to Tensor's reflected operators
    # In-place changes so far (process-wide). A tensor's ``_stamp`` is the count when it was
    # made, ``meta["changed_at"]`` the count at its last in-place change: a node whose input
    # (or itself) changed after the node was made would differentiate with the new value,
    # and the backward pass refuses its VJP (autodiff._check_unchanged).
    _inplace_clock = 0

    def __init__(
        self,
        data: Any,
        dtype: Any = None,
        requires_grad: bool = False,
        name: str | None = None,
    ) -> None:
        array = as_array(data, dtype)
        if requires_grad and not is_float_dtype(array.dtype):
            raise ArgumentTypeError(
                f"only floating-point tensors can require grad, got dtype {array.dtype}"
            )
        self.data: np.ndarray = array
        self.op: Op | None = None
        self.inputs: tuple[Tensor, ...] = ()
        self.attrs: dict[str, Any] = {}
        self.requires_grad: bool = bool(requires_grad)
        self.grad: Tensor | None = None
        self.name: str | None = name
        self.meta: dict[str, Any] = {}
        self.grad_of: list[Tensor] = NO_TAGS
        self.partial_of: list[tuple[Tensor, Tensor]] = NO_TAGS
        self.vjp_of: Tensor | None = STATE.current_vjp
        self._stamp: int = Tensor._inplace_clock

    @classmethod
    def _node(
        cls,
        data: np.ndarray,
        op: Op | None,
        inputs: tuple[Tensor, ...],
        attrs: dict[str, Any],
        requires_grad: bool,
        vjp_of: Any = ...,
    ) -> Tensor:
        """A new graph node holding ``data`` (no copy, no checks).

        ``vjp_of`` defaults to the VJP rule running now (``STATE.current_vjp``); ``apply``
        passes it in, having read the thread-local state once.
        """
        node = cls.__new__(cls)
        node.data = data
        node.op = op
        node.inputs = inputs
        node.attrs = attrs
        node.requires_grad = requires_grad
        node.grad = None
        node.name = None
        node.meta = {}
        node.grad_of = NO_TAGS
        node.partial_of = NO_TAGS
        node.vjp_of = STATE.current_vjp if vjp_of is ... else vjp_of
        node._stamp = Tensor._inplace_clock
        return node

    @classmethod
    def _constant(cls, data: np.ndarray) -> Tensor:
        """A leaf holding ``data``, a fresh array minigrad made (a Python number converted to
        an op's dtype): what ``Tensor(data)`` gives, without its copy and checks."""
        return cls._node(data, None, (), {}, False)

    # ----------------------------------------------------------------- inspection
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the value."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype of the value."""
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (parameters, inputs, constants)."""
        return self.op is None

    def register_hook(self, hook: Any) -> Any:
        """Run ``hook(grad)`` when this tensor's gradient is computed; a Tensor it returns
        replaces the gradient. Returns a handle with ``remove()`` (minigrad/tensor_hooks.py)."""
        from .tensor_hooks import register_hook

        return register_hook(self, hook)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward."""
        from .tensor_hooks import retain_grad

        retain_grad(self)

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf tensor after ``retain_grad()`` (False for leaves, as PyTorch)."""
        return bool(self.meta.get("retains_grad"))

    def __len__(self) -> int:
        if self.ndim == 0:
            raise ArgumentTypeError("len() of a 0-d tensor")
        return self.shape[0]

    def numpy(self) -> np.ndarray:
        """The value as a numpy array (shared, not copied)."""
        for hook in STATE.read_hooks:  # mg.jit's tracer refuses it, as item()
            hook(self)
        return self.data

    def item(self) -> float | int | bool:
        """The single value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ArgumentError(
                f"item() needs a tensor with one element, got shape {self.shape}"
            )
        for hook in STATE.read_hooks:
            hook(self)
        return self.data.item()

    def tolist(self) -> Any:
        """The value as nested Python lists."""
        for hook in STATE.read_hooks:  # mg.jit's tracer refuses it, as item()
            hook(self)
        return self.data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self.item())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """numpy's conversion (np.asarray(t), a list holding tensors, np.r_[t]): refused
        for a tensor that requires grad, as PyTorch's, since the array drops the graph."""
        if self.requires_grad:
            raise RuntimeError(
                f"numpy cannot convert a tensor that requires grad (shape {self.shape}) to "
                "an array: that would drop its graph. Use t.detach() (or t.numpy()) for the "
                "values, or minigrad's function (mg.cat, mg.stack, ...) to keep the graph")
        for hook in STATE.read_hooks:  # mg.jit's tracer refuses it, as item()
            hook(self)
        return self.data if dtype is None else self.data.astype(dtype)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extras = []
        if self.data.dtype != default_float():
            extras.append(f"dtype={self.data.dtype}")
        if self.name:
            extras.append(f"name={self.name!r}")
        if self.op is not None and self.requires_grad:
            extras.append(f"grad_fn={self.op.name}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({', '.join([body, *extras])})"

    def __str__(self) -> str:
        return self.__repr__()

    def __hash__(self) -> int:
        return id(self)

    # ------------------------------------------------------------- graph handling
    def named(self, name: str) -> Tensor:
        """Set ``name`` and return self (for chaining when building a graph)."""
        self.name = name
        return self

    def detach(self) -> Tensor:
        """A new leaf sharing this value, outside any graph."""
        return Tensor._leaf_like(self.data)

    @staticmethod
    def _leaf_like(data: np.ndarray, requires_grad: bool = False) -> Tensor:
        return Tensor._node(data, None, (), {}, requires_grad)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Turn gradient tracking of this leaf on or off; returns self."""
        if not self.is_leaf:
            raise RuntimeError("requires_grad_ can only be changed on leaf tensors")
        if requires_grad and not is_float_dtype(self.dtype):
            raise ArgumentTypeError(
                f"only floating-point tensors can require grad, got dtype {self.dtype}"
            )
        self.requires_grad = requires_grad
        return self

    def assign_(self, value: Tensor | np.ndarray) -> Tensor:
        """Replace this leaf's value by ``value`` (same shape; cast to this dtype).

        Used for every in-place state change (optimizer steps, running statistics, ``add_``
        ...), so a tracer can see it. The old array is not mutated, but nodes that read this
        tensor before now would see the new value in their VJP: the stamp moves on, and a
        backward pass through such a node raises (PyTorch's version-counter error).
        """
        array = value.data if isinstance(value, Tensor) else np.asarray(value)
        if array.shape != self.shape:
            raise ArgumentError(
                f"assign_: value of shape {array.shape} does not fit tensor of shape {self.shape}"
            )
        for hook in STATE.assign_hooks:
            hook(self, value)
        self.data = np.array(array, dtype=self.dtype, copy=True)
        self.mark_changed()
        return self

    def mark_changed(self) -> None:
        """Record an in-place change of this tensor (its version goes up by one)."""
        Tensor._inplace_clock += 1
        self.meta["changed_at"] = Tensor._inplace_clock
        self.meta["version"] = self.meta.get("version", 0) + 1

    def zero_grad_(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    def backward(self, grad: Any = None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (like PyTorch)."""
        from .autodiff import backward

        pause_gc()  # until the pass's graph is freed (the statement below drops it), so the
        try:  # GC does not scan its nodes when it is back on (_state.pause_gc)
            backward(self, grad, create_graph=create_graph, keep_graph=False)
        finally:
            resume_gc()

    # ------------------------------------------------------------------ operators
    def __add__(self, other: Any) -> Tensor:
        return ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        if np.isscalar(other) and other == 1:
            return ops.reciprocal(self)
        return ops.div(other, self)

    def __pow__(self, exponent: Any) -> Tensor:
        return ops.power(self, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return ops.pow_tensor(base, self)

    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __matmul__(self, other: Any) -> Tensor:
        return ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.matmul(other, self)

    def __lt__(self, other: Any) -> Tensor:
        return ops.less(self, other)

    def __le__(self, other: Any) -> Tensor:
        return ops.less_equal(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return ops.greater(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return ops.greater_equal(self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops.equal(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops.not_equal(self, other)

    def __getitem__(self, key: Any) -> Tensor:
        return ops.index(self, key)

    # -------------------------------------------------------------------- methods
    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """The same values in a new shape (one entry may be -1)."""
        return ops.reshape(self, _shape_args(shape))

    def view(self, *shape: int | Sequence[int]) -> Tensor:
        """Alias of ``reshape`` (values are never shared-written, so no aliasing rules)."""
        return ops.reshape(self, _shape_args(shape))

    def transpose(self, *axes: int) -> Tensor:
        """Permute axes (reverse them when none given). Two axes swap just those two (as
        PyTorch's transpose(dim0, dim1); for a matrix (0, 1) swaps too)."""
        if len(axes) == 2:
            perm = list(range(self.ndim))
            for ax in axes:
                if not -self.ndim <= ax < self.ndim:
                    raise OutOfRangeError(f"transpose: axis {ax} is out of range for shape "
                                          f"{self.shape}")
            a, b = (ax % self.ndim for ax in axes)
            perm[a], perm[b] = perm[b], perm[a]
            return ops.transpose(self, tuple(perm))
        return ops.transpose(self, tuple(axes) if axes else None)

    @property
    def T(self) -> Tensor:  # noqa: N802 - numpy/PyTorch spelling
        """The transpose (axes reversed)."""
        return ops.transpose(self, None)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        """Repeat along new or size-1 axes to reach ``shape``."""
        return ops.broadcast_to(self, tuple(shape))

    # The unary math methods (x.exp(), x.relu(), x.abs(), ...), x.clamp, the operators
    # % and //, and x.max/min/argmax/... are set on Tensor by the op table
    # (minigrad/ops/rows.py, ops/composite.py, ops/extrema.py).

    def astype(self, dtype: Any) -> Tensor:
        """The values converted to ``dtype`` (differentiable between float types)."""
        return ops.cast(self, dtype)

    def float(self) -> Tensor:
        """Cast to float32."""
        return ops.cast(self, np.float32)

    def double(self) -> Tensor:
        """Cast to float64."""
        return ops.cast(self, np.float64)


def _shape_args(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], Iterable):
        return tuple(int(s) for s in shape[0])
    return tuple(int(s) for s in shape)


def tensor(
    data: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None
) -> Tensor:
    """A new leaf tensor from array-like ``data``.

    Floats default to float32 (PyTorch's convention), integers to int64, booleans stay bool.
    ``dtype`` accepts numpy dtypes and names such as ``"float64"``.
    """
    if isinstance(data, Tensor):  # a copy of its values (refused while mg.jit traces)
        data = read_values(data)
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, name=name)


from . import ops  # noqa: E402  (ops needs Tensor defined first)


def read_values(x: Tensor) -> np.ndarray:
    """``x``'s values read into Python or numpy by minigrad's own code (a quantile level, a
    count of repeats, positions to delete): told to ``STATE.read_hooks`` first, so mg.jit's
    tracer refuses it as it refuses ``item()`` (the compiled code would freeze the value)."""
    for hook in STATE.read_hooks:
        hook(x)
    return x.data
