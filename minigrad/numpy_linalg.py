"""numpy.linalg's functions on minigrad tensors (``np.linalg.inv(t)``, ``np.linalg.svd(t)``
...), dispatched through numpy_dispatch's ``OWN`` table: numpy's names, keywords, defaults
and results over mg.linalg, where they differ from PyTorch's:

* integer and bool inputs compute in float64, as numpy's;
* ``solve(a, b)``: b is a vector only when 1-D (numpy 2's rule);
* ``svd``: ``full_matrices=True`` and ``compute_uv`` (False: the singular values);
  ``pinv``: numpy's ``rcond`` (default 1e-15) / ``rtol``;
* ``cholesky``, ``eigh`` and ``eigvalsh`` read one triangle of a, so their gradients are
  those of the function numpy computes: an entry of the other triangle gets none, and a
  read entry off the diagonal also stands for its mirror (mg.linalg's, as PyTorch's,
  are the symmetric gradients of a symmetric input instead);
* ``norm(x, ord, axis, keepdims)``: every vector and matrix order, numpy's dims rules;
* ``eig``/``eigvals`` of matrices with real eigenvalues (a complex one: LinAlgError, as
  minigrad has no complex tensors);
* also ``matrix_power``, ``multi_dot``, ``matrix_transpose``, ``matrix_rank``, ``cond``,
  ``vecdot`` (linalg_extras.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from . import linalg_extras as extras
from . import linalg_functions as fn
from . import ops
from .errors import ArgumentError, ArgumentTypeError
from .linalg_norms import matrix_norm as _matrix_norm
from .linalg_norms import norm as _norm
from .linalg_norms import vector_norm as _vector_norm
from .ops.matrix_rows import constant_like, transposed
from .shape_ops import as_tensor_input
from .tensor import Tensor


def _floats(a: Any) -> Tensor:
    """``a`` as a tensor; integers and bools in float64, as numpy.linalg computes them."""
    a = as_tensor_input(a)
    return ops.cast(a, "float64") if a.dtype.kind in "biu" else a


def _one_triangle(a: Tensor, uplo: str) -> Tensor:
    """The symmetric matrix numpy.linalg reads from ``uplo``'s triangle of a: T + T^T with
    the triangle T's diagonal once (same values where a is symmetric; the gradient reaches
    only the triangle read)."""
    if uplo not in ("L", "U"):
        raise ArgumentError(f"numpy.linalg: UPLO must be 'L' or 'U', got {uplo!r}")
    n = fn.matrix_input(a, "numpy.linalg").shape[-1]
    kept, strict = np.tri(n), np.tri(n, k=-1)
    if uplo == "U":
        kept, strict = kept.T, strict.T
    triangle = ops.mul(a, constant_like(kept, a))
    return ops.add(triangle, transposed(ops.mul(a, constant_like(strict, a))))


def inv(a: Any) -> Tensor:
    return fn.inv(_floats(a))


def det(a: Any) -> Tensor:
    return fn.det(_floats(a))


def slogdet(a: Any) -> fn.SlogdetResult:
    return fn.slogdet(_floats(a))


def solve(a: Any, b: Any) -> Tensor:
    a, b = _floats(a), _floats(b)
    if b.ndim == 1:
        return fn.solve(a, b)
    return ops.solve(fn.matrix_input(a, "numpy.linalg.solve"), b)


def cholesky(a: Any, /, *, upper: bool = False) -> Tensor:
    return fn.cholesky(_one_triangle(_floats(a), "L"), upper=upper)


def eigh(a: Any, UPLO: str = "L") -> fn.EighResult:
    return fn.eigh(_one_triangle(_floats(a), UPLO), UPLO)


def eigvalsh(a: Any, UPLO: str = "L") -> Tensor:
    return fn.eigvalsh(_one_triangle(_floats(a), UPLO), UPLO)


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False) -> Any:
    a = _floats(a)
    if not compute_uv:
        return fn.svdvals(a)
    if hermitian:
        raise ArgumentTypeError("numpy.linalg.svd is not supported on minigrad tensors with "
                                "hermitian=True and compute_uv=True (numpy's signs of U and Vh "
                                "come "
                                "from eigh); call it with hermitian=False")
    return fn.svd(a, full_matrices)


def svdvals(x: Any, /) -> Tensor:
    return fn.svdvals(_floats(x))


_UNSET = object()


def pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = _UNSET) -> Tensor:
    a = _floats(a)
    if rcond is None:
        if rtol is _UNSET:
            rcond = 1e-15
        elif rtol is None:
            rcond = max(a.shape[-2:]) * float(np.finfo(a.dtype).eps)
        else:
            rcond = rtol
    elif rtol is not _UNSET:
        raise ArgumentError("numpy.linalg.pinv: rtol and rcond can't be both set")
    return fn.pinv(a, atol=0.0, rtol=float(rcond), hermitian=hermitian)


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A002
    x = _floats(x)
    if axis is None and ord is not None and x.ndim not in (1, 2):
        raise ArgumentError(f"numpy.linalg.norm: improper number of dimensions to norm: shape "
                            f"{x.shape} with ord={ord!r} and no axis")
    if isinstance(axis, int) and isinstance(ord, str):
        raise ArgumentError(f"numpy.linalg.norm: invalid norm order {ord!r} for vectors")
    return _norm(x, ord, axis, keepdims)


def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Tensor:  # noqa: A002
    return _matrix_norm(_floats(x), ord, (-2, -1), keepdims)


def vector_norm(x: Any, /, *, axis: Any = None, keepdims: bool = False,
                ord: Any = 2) -> Tensor:  # noqa: A002
    return _vector_norm(_floats(x), ord, axis, keepdims)


def matrix_power(a: Any, n: int) -> Tensor:
    """numpy.linalg.matrix_power: integer matrices stay integers for n >= 0."""
    return extras.matrix_power(_floats(a) if n < 0 else a, n)


def multi_dot(arrays: Any, *, out: Any = None) -> Tensor:
    if out is not None:
        raise ArgumentTypeError("numpy.linalg.multi_dot is not supported on minigrad tensors "
                                "with out=")
    return extras.multi_dot(arrays)


def matrix_rank(A: Any, tol: Any = None, hermitian: bool = False, *, rtol: Any = None) -> Tensor:
    """numpy.linalg.matrix_rank: singular values > tol (default max(M, N) eps S.max())."""
    if tol is not None and rtol is not None:
        raise ArgumentError("numpy.linalg.matrix_rank: tol and rtol can't be both set")
    return extras.matrix_rank(_floats(A), atol=tol, rtol=rtol, hermitian=hermitian)


def cond(x: Any, p: Any = None) -> Tensor:
    return extras.cond(_floats(x), p)


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Tensor:
    return extras.vecdot(x1, x2, dim=axis)


def matrix_transpose(x: Any, /) -> Tensor:
    return transposed(as_tensor_input(x))


class EigResult(NamedTuple):
    """numpy.linalg.eig's results (real here: complex eigenvalues are refused)."""

    eigenvalues: Tensor
    eigenvectors: Tensor


def eig(a: Any) -> EigResult:
    """numpy.linalg.eig of matrices whose eigenvalues are all real (numpy then returns real
    arrays too); a complex eigenvalue raises LinAlgError (minigrad has no complex tensors)."""
    a = fn.matrix_input(_floats(a), "numpy.linalg.eig")
    return EigResult(ops.eig_values(a), ops.eig_vectors(a))


def eigvals(a: Any) -> Tensor:
    return ops.eig_values(fn.matrix_input(_floats(a), "numpy.linalg.eigvals"))


NUMPY_LINALG: dict[str, Callable[..., Any]] = {
    f"numpy.linalg.{f.__name__}": f
    for f in (inv, det, slogdet, solve, cholesky, eigh, eigvalsh, svd, svdvals, pinv, norm,
              matrix_norm, vector_norm, matrix_power, multi_dot, matrix_transpose,
              matrix_rank, cond, vecdot, eig, eigvals)
}
