"""torch.linalg's matrix functions (``mg.linalg.inv``, ``det``, ``slogdet``, ``solve``,
``cholesky``, ``eigh``, ``eigvalsh``, ``svd``, ``svdvals``, ``pinv``, ``eig``): PyTorch's
names, keywords, defaults and results (named tuples), over the rows of
ops/matrix_rows.py and ops/spectral_rows.py. Inputs are float32 or float64 (..., m, n)
tensors, batched over the leading axes.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from . import ops
from .errors import ArgumentError, ArgumentTypeError
from .ops.matrix_rows import LinAlgError, square_shape, transposed
from .shape_ops import as_tensor_input
from .tensor import Tensor

__all__ = ["EighResult", "LinAlgError", "SVDResult", "SlogdetResult", "cholesky", "det",
           "eig", "eigh", "eigvalsh", "inv", "pinv", "slogdet", "solve", "svd", "svdvals"]


class SlogdetResult(NamedTuple):
    """slogdet's results: det A = sign * exp(logabsdet)."""

    sign: Tensor
    logabsdet: Tensor


class EighResult(NamedTuple):
    """eigh's results: A = eigenvectors diag(eigenvalues) eigenvectors^T."""

    eigenvalues: Tensor
    eigenvectors: Tensor


class SVDResult(NamedTuple):
    """svd's results: A = U diag(S) Vh."""

    U: Tensor
    S: Tensor
    Vh: Tensor


def matrix_input(a: Any, name: str, square: bool = True) -> Tensor:
    """``a`` as a float32/float64 tensor of (..., m, n) matrices (n x n when ``square``),
    else an error naming the shape or the dtype."""
    a = as_tensor_input(a)
    if a.dtype not in (np.float32, np.float64):
        raise ArgumentTypeError(f"{name}: expected a float32 or float64 tensor, got {a.dtype} "
                                f"(shape {a.shape}); convert it with .float() or .double()")
    if square:
        square_shape(name, a.shape)
    elif a.ndim < 2:
        raise LinAlgError(f"{name}: A must have at least 2 dimensions, got shape {a.shape}")
    return a


def inv(A: Any) -> Tensor:
    """A^-1 of each (..., n, n) matrix; a singular one raises LinAlgError naming it.
    Gradient: -A^-T g A^-T."""
    return ops.inv(matrix_input(A, "linalg.inv"))


def det(A: Any) -> Tensor:
    """det A of each (..., n, n) matrix. Gradient g det(A) A^-T (at an exactly singular A
    the gradient raises LinAlgError; PyTorch returns its own value there)."""
    return ops.det(matrix_input(A, "linalg.det"))


def slogdet(A: Any) -> SlogdetResult:
    """(sign, logabsdet) with det A = sign exp(logabsdet): (0, -inf) for a singular A.
    Gradient of logabsdet: g A^-T; sign has none."""
    A = matrix_input(A, "linalg.slogdet")
    return SlogdetResult(ops.det_sign(A), ops.logabsdet(A))


def _is_vector_rhs(a: Tensor, b: Tensor) -> bool:
    """PyTorch's rule: B is a (batch of) vector(s) when 1-D or shaped A.shape[:-1]."""
    return b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])


def solve(A: Any, B: Any, *, left: bool = True) -> Tensor:
    """X with A X = B (``left``), or X A = B: A (..., n, n), B (..., n, k) or a (batch of)
    vector(s) (..., n) (PyTorch's rule: 1-D, or A.shape[:-1]), batch axes broadcast.
    A singular A raises LinAlgError naming the batch element."""
    A = matrix_input(A, "linalg.solve")
    B = as_tensor_input(B)
    if B.dtype != A.dtype:
        raise ArgumentTypeError(f"linalg.solve: A and B must have one dtype, got {A.dtype} and "
                                f"{B.dtype} (shapes {A.shape} and {B.shape})")
    if not left:
        if B.ndim < 2:
            raise LinAlgError(f"linalg.solve: left=False needs B of shape (..., k, n), got "
                              f"{B.shape}")
        return transposed(ops.solve(transposed(A), transposed(B)))
    if _is_vector_rhs(A, B):
        columns = ops.solve(A, ops.reshape(B, (*B.shape, 1)))
        return ops.reshape(columns, columns.shape[:-1])
    return ops.solve(A, B)


def cholesky(A: Any, *, upper: bool = False) -> Tensor:
    """L (lower) with A = L L^T of each positive-definite (..., n, n) A, read from its lower
    triangle; ``upper``: L^T. Not positive-definite: LinAlgError naming the batch element
    and the leading minor. Gradient: PyTorch's (symmetric)."""
    lower = ops.cholesky(matrix_input(A, "linalg.cholesky"))
    return transposed(lower) if upper else lower


def eigh(A: Any, UPLO: str = "L") -> EighResult:
    """The eigenvalues (ascending) and orthonormal eigenvectors (columns) of each symmetric
    (..., n, n) A, read from its ``UPLO`` ('L' or 'U') triangle. The eigenvectors' gradient
    divides by eigenvalue gaps (inf/NaN at repeated eigenvalues, as in PyTorch)."""
    A = matrix_input(A, "linalg.eigh")
    return EighResult(ops.eigvalsh(A, UPLO), ops.eigh_vectors(A, UPLO))


def eigvalsh(A: Any, UPLO: str = "L") -> Tensor:
    """The eigenvalues (ascending) of each symmetric (..., n, n) A (gradient V diag(g) V^T,
    finite at repeated eigenvalues too)."""
    return ops.eigvalsh(matrix_input(A, "linalg.eigvalsh"), UPLO)


def svd(A: Any, full_matrices: bool = True, *, driver: Any = None) -> SVDResult:
    """A = U diag(S) Vh for each (..., m, n) A: U (..., m, k), S (..., k) descending,
    Vh (..., k, n) with k = min(m, n); ``full_matrices`` (PyTorch's default): U m x m and
    Vh n x n, whose extra columns/rows get no gradient (any basis would do, as in
    PyTorch). U's and Vh's gradients divide by gaps of squared singular values: inf/NaN at
    repeated ones (and by S itself when m != n), as in PyTorch."""
    if driver is not None:
        raise ArgumentError(f"linalg.svd: driver={driver!r} is CUDA-only in PyTorch; leave it None")
    A = matrix_input(A, "linalg.svd", square=False)
    return SVDResult(ops.svd_u(A, full_matrices), ops.svdvals(A), ops.svd_vh(A, full_matrices))


def svdvals(A: Any) -> Tensor:
    """The singular values (descending) of each (..., m, n) A; gradient U diag(g) Vh."""
    return ops.svdvals(matrix_input(A, "linalg.svdvals", square=False))


def pinv(A: Any, *, atol: float | None = None, rtol: float | None = None,
         hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse of each (..., m, n) A, singular values (absolute
    eigenvalues when ``hermitian``) <= max(atol, rtol * the largest) taken as 0. PyTorch's
    defaults: atol 0; rtol max(m, n) * eps of the dtype when neither is given, else 0.
    Gradient: PyTorch's formula, the derivative where the rank does not change (exactly
    low-rank inputs included); where atol/rtol drop a nonzero singular value it is not the
    derivative of the truncated result (nor is PyTorch's)."""
    A = matrix_input(A, "linalg.pinv", square=hermitian)
    for name, value in (("atol", atol), ("rtol", rtol)):
        if value is not None and not (isinstance(value, int | float) and value >= 0):
            raise ArgumentError(f"linalg.pinv: {name} must be a number >= 0, got {value!r}")
    if rtol is None:
        rtol = max(A.shape[-2:]) * float(np.finfo(A.dtype).eps) if atol is None else 0.0
    return ops.pinv(A, atol=atol or 0.0, rtol=rtol, hermitian=hermitian)


def eig(A: Any) -> Any:
    """Refused: the eigenvalues of a general real matrix are complex in general, and
    minigrad holds no complex numbers (use eigh for symmetric matrices)."""
    A = matrix_input(A, "linalg.eig")
    raise ArgumentTypeError("linalg.eig: minigrad has no complex tensors, and the eigenvalues of "
                            "a "
                            f"general {A.shape} matrix are complex; use mg.linalg.eigh for "
                            "symmetric "
                            f"matrices")
