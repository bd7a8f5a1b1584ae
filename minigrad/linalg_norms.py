"""torch.linalg's norms: ``matrix_norm`` and ``norm`` (``vector_norm`` is in
ops/aggregates.py), composed of reductions, ``vector_norm`` and the ``svdvals`` row, so
their gradients (to any order), drawings and JIT come from those rows.

Matrix orders (over the two dims ``dim``, rows then columns):

* 'fro'  sqrt(sum a_ij^2);  'nuc'  sum of the singular values;
* 2 / -2  the largest / smallest singular value;
* 1 / -1  max / min over columns of sum_i |a_ij|;  inf / -inf  max / min over rows of
  sum_j |a_ij|.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from . import ops
from .errors import ArgumentError, ArgumentTypeError
from .ops.aggregates import vector_norm
from .ops.dims import torch_keywords
from .ops.extrema import amax, amin
from .ops.matrix_rows import LinAlgError
from .shape_ops import as_tensor_input, dim_index, permute, unsqueeze
from .tensor import Tensor

__all__ = ["matrix_norm", "norm", "vector_norm"]

MATRIX_ORDERS = ("fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf)


def _floating(x: Tensor, name: str, dtype: Any) -> Tensor:
    if dtype is not None:
        x = ops.cast(x, dtype)
    if x.dtype.kind != "f":
        raise ArgumentTypeError(f"{name}: expected a floating point tensor, got {x.dtype} "
                                f"(shape {x.shape}); pass dtype= or convert it with .float()")
    return x


def _two_dims(name: str, dim: Sequence[int], ndim: int) -> tuple[int, int]:
    if not isinstance(dim, tuple | list) or len(dim) != 2:
        raise ArgumentError(f"{name}: dim must be a 2-tuple of ints, got {dim!r}")
    first, second = (dim_index(d, ndim, name) for d in dim)
    if first == second:
        raise ArgumentError(f"{name}: dims must be different, got {tuple(dim)}")
    return first, second


def _spectral(x: Tensor, order: Any, rows: int, cols: int) -> Tensor:
    """max / min / sum of the singular values of the (rows, cols) matrices of x, with
    those dims removed."""
    rest = [d for d in range(x.ndim) if d not in (rows, cols)]
    values = ops.svdvals(permute(x, (*rest, rows, cols)))
    if order == "nuc":
        return ops.sum(values, -1)
    return amax(values, -1) if order == 2 else amin(values, -1)


@torch_keywords
def matrix_norm(A: Any, ord: Any = "fro", dim: Sequence[int] = (-2, -1),  # noqa: A002
                keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The matrix norm of order ``ord`` ('fro', 'nuc', 2, -2, 1, -1, inf, -inf) of the
    matrices spanned by ``dim`` (module docstring); ``keepdim`` keeps those dims as 1."""
    A = _floating(as_tensor_input(A), "linalg.matrix_norm", dtype)
    if A.ndim < 2:
        raise LinAlgError(f"linalg.matrix_norm: the input must have at least 2 dimensions, "
                          f"got shape {A.shape}")
    if ord not in MATRIX_ORDERS or isinstance(ord, bool):
        raise ArgumentError(f"linalg.matrix_norm: order {ord!r} is not supported (one of "
                            f"'fro', 'nuc', inf, -inf, 1, -1, 2, -2)")
    rows, cols = _two_dims("linalg.matrix_norm", dim, A.ndim)
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        result = _spectral(A, ord, rows, cols)
        for d in sorted((rows, cols)) if keepdim else ():
            result = unsqueeze(result, d)
        return result
    summed, across = (rows, cols) if abs(ord) == 1 else (cols, rows)
    sums = ops.sum(ops.abs(A), summed, keepdims=True)
    pick = amax if ord > 0 else amin
    result = pick(sums, across, keepdim=True)
    return result if keepdim else ops.reshape(
        result, tuple(n for d, n in enumerate(result.shape) if d not in (rows, cols)))


@torch_keywords
def norm(A: Any, ord: Any = None, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
         dtype: Any = None) -> Tensor:
    """torch.linalg.norm: a vector norm over an int ``dim``, a matrix norm over a 2-tuple;
    with ``dim`` None, the 2-norm of all elements when ``ord`` is None, else the vector
    norm of a 1-D A or the matrix norm of a 2-D A."""
    A = as_tensor_input(A)
    if isinstance(dim, int) or (isinstance(dim, tuple | list) and len(dim) == 1):
        if isinstance(ord, str):
            raise ArgumentError(f"linalg.norm: order {ord!r} is a matrix norm; dim {dim!r} "
                                f"names one dimension (a vector norm)")
        return vector_norm(_floating(A, "linalg.norm", dtype), 2 if ord is None else ord,
                           dim, keepdim)
    if dim is not None:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(_floating(A, "linalg.norm", dtype), 2, None, keepdim)
    if A.ndim == 1:
        return norm(A, ord, 0, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (0, 1), keepdim, dtype=dtype)
    raise ArgumentError(f"linalg.norm: if dim is not given but ord is, the input must be 1-D or "
                        f"2-D, got shape {A.shape}")
