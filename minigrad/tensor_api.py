"""PyTorch's Tensor methods (issue 15 §2), mixed into ``Tensor``: sizes and dtypes,
reductions with ``dim=``/``keepdim=`` beside ``axis=``/``keepdims=``, shape ops, products,
numpy's protocols. Every method forwards to a function of ops, shape_ops or linalg: the
Tensor class itself stays small."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .dtypes import resolve_dtype
from .errors import ArgumentTypeError

if TYPE_CHECKING:
    from .tensor import Tensor

Axis = int | tuple[int, ...] | None


def reduction_axes(name: str, axis: Any, dim: Any, keepdims: Any, keepdim: Any
                   ) -> tuple[Axis, bool]:
    """(axes, keepdims) from numpy's ``axis``/``keepdims`` or PyTorch's ``dim``/``keepdim``
    (one spelling of each; a list of dims is a tuple)."""
    if axis is not None and dim is not None:
        raise ArgumentTypeError(f"{name}: got both axis={axis!r} and dim={dim!r}; give one")
    if keepdims is not None and keepdim is not None:
        raise ArgumentTypeError(f"{name}: got both keepdims and keepdim; give one")
    chosen = dim if axis is None else axis
    if isinstance(chosen, list):
        chosen = tuple(chosen)
    return chosen, bool(keepdim if keepdims is None else keepdims)


def _correction(name: str, correction: Any, unbiased: Any) -> int:
    """PyTorch's ``correction`` or the older ``unbiased`` (True: 1, False: 0); the default
    is 1 (Bessel's correction), as PyTorch's. BatchNorm's biased variance is ops.var's."""
    if correction is not None and unbiased is not None:
        raise ArgumentTypeError(f"{name}: got both correction and unbiased; give one")
    if unbiased is not None:
        return int(bool(unbiased))
    return 1 if correction is None else correction


def sum(x: Any, axis: Axis = None, keepdims: bool | None = None, *, dim: Axis = None,  # noqa: A001
        keepdim: bool | None = None, dtype: Any = None) -> Tensor:
    """Sum over ``axis``/``dim`` (all dims when None)."""
    from . import ops

    axes, keep = reduction_axes("sum", axis, dim, keepdims, keepdim)
    x = x if dtype is None else ops.cast(x, dtype)
    return ops.sum(x, axes, keep)


def mean(x: Any, axis: Axis = None, keepdims: bool | None = None, *, dim: Axis = None,
         keepdim: bool | None = None, dtype: Any = None) -> Tensor:
    """sum(x) / N over ``axis``/``dim`` (all dims when None)."""
    from . import ops

    axes, keep = reduction_axes("mean", axis, dim, keepdims, keepdim)
    x = x if dtype is None else ops.cast(x, dtype)
    return ops.mean(x, axes, keep)


def var(x: Any, axis: Axis = None, keepdims: bool | None = None, correction: Any = None, *,
        dim: Axis = None, keepdim: bool | None = None, unbiased: bool | None = None,
        ddof: int | None = None) -> Tensor:
    """sum((x - mean(x))**2) / max(0, N - correction) over ``axis``/``dim``; ``correction``
    defaults to 1, as in PyTorch (``unbiased=False`` or numpy's ``ddof`` set it too)."""
    from . import ops

    axes, keep = reduction_axes("var", axis, dim, keepdims, keepdim)
    if ddof is not None:
        if correction is not None or unbiased is not None:
            raise ArgumentTypeError("var: got ddof with correction or unbiased; give one")
        correction = ddof
    return ops.var(x, axes, keep, _correction("var", correction, unbiased))


def std(x: Any, axis: Axis = None, keepdims: bool | None = None, correction: Any = None, *,
        dim: Axis = None, keepdim: bool | None = None, unbiased: bool | None = None,
        ddof: int | None = None) -> Tensor:
    """sqrt(var(x)) with ``var``'s arguments (correction 1 by default, as ``var``); where
    var = 0 the gradient is 0, as PyTorch's (d sqrt(v) = dv / (2 sqrt v) would be 0/0)."""
    from . import ops

    variance = var(x, axis, keepdims, correction, dim=dim, keepdim=keepdim,
                   unbiased=unbiased, ddof=ddof)
    flat = ops.equal(variance, 0.0)
    return ops.where(flat, 0.0, ops.sqrt(ops.where(flat, 1.0, variance)))


def _misused_size(*_: Any) -> Any:
    raise ArgumentTypeError("Tensor.size is a method, as in PyTorch: size() is the shape, size(d) "
                            "the "
                            "size of dim d; numel() is the number of elements (numpy's .size)")


class SizeMethod:
    """``Tensor.size``: called, the shape (or one dim's size). Used as a number (numpy's
    element count, which ``Tensor.size`` was before) it raises a TypeError saying so, where
    a plain bound method would compare unequal to every number without a word."""

    __slots__ = ("_array",)

    def __init__(self, array: np.ndarray) -> None:
        self._array = array

    def __call__(self, dim: int | None = None) -> Any:
        from .shape_ops import dim_index

        if dim is None:
            return self._array.shape
        return self._array.shape[dim_index(dim, self._array.ndim, "size")]

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _misused_size  # type: ignore[assignment]
    __bool__ = __int__ = __index__ = __float__ = __format__ = _misused_size
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _misused_size
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = _misused_size
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<method size of a tensor of shape {self._array.shape}>"


def _variadic(name: str, values: tuple, keywords: dict, key: str) -> tuple:
    """``f(1, 2)``, ``f((1, 2))`` or ``f(key=(1, 2))`` as the positional values."""
    if set(keywords) - {key} or (values and keywords):
        raise ArgumentTypeError(f"{name}: takes {key} positionally or as {key}=, got "
                                f"{values} and {sorted(keywords)}")
    return values if not keywords else (keywords[key],)


class TensorAPI:
    """Methods with PyTorch's names; ``Tensor`` inherits them (no state of its own)."""

    __slots__ = ()
    data: np.ndarray

    # -------------------------------------------------------------- sizes and dtypes
    @property
    def size(self) -> SizeMethod:
        """``size()``: the shape; ``size(d)``: the size of dim d, as in PyTorch."""
        return SizeMethod(self.data)

    def dim(self) -> int:
        """The number of dims."""
        return self.data.ndim

    def numel(self) -> int:
        """The number of elements."""
        return self.data.size

    nelement = numel

    def to(self, *args: Any, dtype: Any = None, **_: Any) -> Tensor:
        """A cast to ``dtype`` (a dtype, or another tensor's dtype); device strings such as
        ``"cpu"`` are accepted and change nothing (minigrad runs on the CPU)."""
        for arg in args:
            if isinstance(arg, TensorAPI):
                dtype = arg.data.dtype
            elif not isinstance(arg, str) or arg.split(":")[0] != "cpu":
                dtype = arg
        return self if dtype is None else self.type(dtype)

    def type(self, dtype: Any) -> Tensor:
        """``self`` cast to ``dtype`` (itself when it has that dtype already)."""
        from .ops import cast

        target = resolve_dtype(dtype)
        return self if self.data.dtype == target else cast(self, target)  # type: ignore[return-value]

    def type_as(self, other: Tensor) -> Tensor:
        """``self`` cast to ``other``'s dtype."""
        return self.type(other.dtype)

    def half(self) -> Tensor:
        """Cast to float16."""
        return self.type(np.float16)

    def long(self) -> Tensor:
        """Cast to int64."""
        return self.type(np.int64)

    def int(self) -> Tensor:
        """Cast to int32."""
        return self.type(np.int32)

    def bool(self) -> Tensor:
        """Cast to bool (nonzero is True)."""
        return self.type(np.bool_)

    def clone(self) -> Tensor:
        """A copy with its own array; gradients flow back to ``self`` (a cast to the same
        dtype)."""
        from .ops import cast

        return cast(self, self.data.dtype)

    def contiguous(self) -> Tensor:
        """``self``: minigrad's arrays are always contiguous."""
        return self  # type: ignore[return-value]

    def new_zeros(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Zeros of ``size`` with (unless given) this tensor's dtype."""
        from .creation import zeros

        return zeros(*size, dtype=dtype or self.data.dtype, requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Ones of ``size`` with (unless given) this tensor's dtype."""
        from .creation import ones

        return ones(*size, dtype=dtype or self.data.dtype, requires_grad=requires_grad)

    def new_full(self, size: Any, fill_value: Any, *, dtype: Any = None,
                 requires_grad: bool = False) -> Tensor:
        """``fill_value`` in ``size`` with (unless given) this tensor's dtype."""
        from .creation import full

        return full(size, fill_value, dtype=dtype or self.data.dtype,
                    requires_grad=requires_grad)

    def new_tensor(self, data: Any, *, dtype: Any = None, requires_grad: bool = False
                   ) -> Tensor:
        """A new leaf from ``data`` with (unless given) this tensor's dtype."""
        from .tensor import tensor

        return tensor(data, dtype=dtype or self.data.dtype, requires_grad=requires_grad)

    # -------------------------------------------------------------------- reductions
    def sum(self, axis: Axis = None, keepdims: bool | None = None, **keywords: Any) -> Tensor:
        """Sum over ``axis``/``dim`` (all dims when None; ``keepdims``/``keepdim``)."""
        return sum(self, axis, keepdims, **keywords)

    def mean(self, axis: Axis = None, keepdims: bool | None = None, **keywords: Any) -> Tensor:
        """Arithmetic mean over ``axis``/``dim``."""
        return mean(self, axis, keepdims, **keywords)

    def var(self, axis: Axis = None, keepdims: bool | None = None, correction: Any = None,
            **keywords: Any) -> Tensor:
        """Variance by two passes: sum((x - mean(x))**2) / max(0, N - correction)."""
        return var(self, axis, keepdims, correction, **keywords)

    def std(self, axis: Axis = None, keepdims: bool | None = None, correction: Any = None,
            **keywords: Any) -> Tensor:
        """sqrt(var) with var's arguments."""
        return std(self, axis, keepdims, correction, **keywords)

    def pow(self, exponent: Any) -> Tensor:
        """self ** exponent."""
        return self ** exponent  # type: ignore[operator]

    # --------------------------------------------------------------------- shape ops
    def permute(self, *dims: Any, **keywords: Any) -> Tensor:
        """The dims reordered: out.shape[i] = self.shape[dims[i]] (``dims=`` too)."""
        from .shape_ops import permute

        return permute(self, *_variadic("permute", dims, keywords, "dims"))

    def t(self) -> Tensor:
        """The transpose of a matrix (0-d and 1-D: self)."""
        from .shape_ops import t

        return t(self)

    @property
    def mT(self) -> Tensor:  # noqa: N802 - PyTorch's spelling
        """The last two dims exchanged."""
        from .shape_ops import matrix_transpose

        return matrix_transpose(self)

    def swapdims(self, dim0: int, dim1: int) -> Tensor:
        """Dims dim0 and dim1 exchanged."""
        from .shape_ops import swapdims

        return swapdims(self, dim0, dim1)

    swapaxes = swapdims

    def unsqueeze(self, dim: int) -> Tensor:
        """A new dim of size 1 at ``dim``."""
        from .shape_ops import unsqueeze

        return unsqueeze(self, dim)

    def squeeze(self, dim: Any = None) -> Tensor:
        """Without size-1 dims (among ``dim`` when given)."""
        from .shape_ops import squeeze

        return squeeze(self, dim)

    def expand(self, *sizes: Any) -> Tensor:
        """Repeated along size-1 and new leading dims to ``sizes`` (-1 keeps a size)."""
        from .shape_ops import expand

        return expand(self, *sizes)

    def expand_as(self, other: Tensor) -> Tensor:
        """``expand`` to ``other``'s shape."""
        return self.expand(other.shape)

    def repeat(self, *repeats: Any) -> Tensor:
        """Tiled ``repeats[i]`` times along dim i."""
        from .shape_ops import repeat

        return repeat(self, *repeats)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Dims start_dim .. end_dim merged into one."""
        from .shape_ops import flatten

        return flatten(self, start_dim, end_dim)

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        """Dim ``dim`` split into ``sizes``."""
        from .shape_ops import unflatten

        return unflatten(self, dim, sizes)

    def view_as(self, other: Tensor) -> Tensor:
        """The values in ``other``'s shape."""
        from .ops import reshape

        return reshape(self, other.shape)

    reshape_as = view_as

    def split(self, split_size: Any, dim: int = 0) -> tuple[Tensor, ...]:
        """Pieces along ``dim`` of ``split_size`` each, or of the given sizes."""
        from .shape_ops import split

        return split(self, split_size, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """``chunks`` pieces (or fewer) along ``dim``."""
        from .shape_ops import chunk

        return chunk(self, chunks, dim)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """The slices along ``dim``."""
        from .shape_ops import unbind

        return unbind(self, dim)

    def flip(self, *dims: Any, **keywords: Any) -> Tensor:
        """Elements reversed along ``dims`` (``flip(0, 1)``, ``flip((0, 1))``, ``dims=``)."""
        from .shape_ops import _dims, flip

        return flip(self, _dims(_variadic("flip", dims, keywords, "dims")))

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        """Shifted circularly by ``shifts`` along ``dims``."""
        from .shape_ops import roll

        return roll(self, shifts, dims)

    def movedim(self, source: Any, destination: Any) -> Tensor:
        """Dims ``source`` moved to ``destination``."""
        from .shape_ops import movedim

        return movedim(self, source, destination)

    def tril(self, diagonal: int = 0) -> Tensor:
        """The lower triangle (j - i <= diagonal), zeros above."""
        from .shape_ops import tril

        return tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        """The upper triangle (j - i >= diagonal), zeros below."""
        from .shape_ops import triu

        return triu(self, diagonal)

    def diag(self, diagonal: int = 0) -> Tensor:
        """A vector on a diagonal, or a matrix's diagonal."""
        from .shape_ops import diag

        return diag(self, diagonal)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """The ``offset`` diagonal over dims dim1 and dim2, as the last dim."""
        from .shape_ops import diagonal

        return diagonal(self, offset, dim1, dim2)

    def trace(self) -> Tensor:
        """The sum of a matrix's main diagonal."""
        from .shape_ops import trace

        return trace(self)

    def gather(self, dim: int, index: Any) -> Tensor:
        """out[i][j] = self[index[i][j]][j] for dim 0 (PyTorch's argument order; the
        function ``mg.gather(x, index, dim)`` takes numpy's take_along_axis order)."""
        from .ops import gather

        return gather(self, index, dim)

    def take_along_dim(self, indices: Any, dim: int | None = None) -> Tensor:
        """Values at ``indices`` along ``dim``."""
        from .shape_ops import take_along_dim

        return take_along_dim(self, indices, dim)

    # ---------------------------------------------------------------------- products
    def matmul(self, other: Any) -> Tensor:
        """self @ other (numpy's matmul rules: 1-D operands, broadcast batch axes)."""
        return self @ other

    def outer(self, other: Any) -> Tensor:
        """out[i, j] = self[i] * other[j]."""
        from .linalg import outer

        return outer(self, other)

    def dot(self, other: Any) -> Tensor:
        """sum_i self[i] * other[i]."""
        from .linalg import dot

        return dot(self, other)

    def inner(self, other: Any) -> Tensor:
        """Products summed over the last dims."""
        from .linalg import inner

        return inner(self, other)

    # --------------------------------------------------------------------- in place
    def add_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """self += alpha * other, in place."""
        from .inplace import add_

        return add_(self, other, alpha)  # type: ignore[arg-type]

    def sub_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """self -= alpha * other, in place."""
        from .inplace import sub_

        return sub_(self, other, alpha)  # type: ignore[arg-type]

    def mul_(self, other: Any) -> Tensor:
        """self *= other, in place."""
        from .inplace import mul_

        return mul_(self, other)  # type: ignore[arg-type]

    def div_(self, other: Any) -> Tensor:
        """self /= other, in place."""
        from .inplace import div_

        return div_(self, other)  # type: ignore[arg-type]

    def zero_(self) -> Tensor:
        """Every element set to 0, in place."""
        from .inplace import zero_

        return zero_(self)  # type: ignore[arg-type]

    def fill_(self, value: Any) -> Tensor:
        """Every element set to ``value``, in place."""
        from .inplace import fill_

        return fill_(self, value)  # type: ignore[arg-type]

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        """Limited to [min, max], in place."""
        from .inplace import clamp_

        return clamp_(self, min, max)  # type: ignore[arg-type]

    def copy_(self, source: Any) -> Tensor:
        """``source``'s values (broadcast, cast) copied in."""
        from .inplace import copy_

        return copy_(self, source)  # type: ignore[arg-type]

    def __setitem__(self, key: Any, value: Any) -> None:
        from .inplace import setitem

        setitem(self, key, value)  # type: ignore[arg-type]

    # ----------------------------------------------------------------- numpy protocols
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any,
                        **kwargs: Any) -> Any:
        from .numpy_dispatch import array_ufunc

        return array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        from .numpy_dispatch import array_function

        return array_function(func, args, kwargs)
