"""The eigendecomposition of a general real matrix with real eigenvalues (numpy.linalg.eig,
eigvals): ``eig_values`` and ``eig_vectors``, one row per result as the other
decompositions. minigrad has no complex numbers, so a matrix with a complex eigenvalue is
refused with a LinAlgError naming the batch element (numpy returns complex arrays there).

VJPs: PyTorch's linalg_eig_backward for real results, split per result: with A = V diag(L)
V^-1 and E[i, j] = L[j] - L[i],
gA = V^-T diag(gL) V^T (values),
gA = V^-T ((V^T gV - V^T V diag(diag(V^T gV))) / E) V^T (vectors, unit columns; the
diagonal of the quotient is 0). They divide by eigenvalue gaps: inf/NaN at repeated ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .core import Op, apply, register
from .elementwise import add, div, mul, sub
from .linalg import matmul
from .matrix_rows import (
    LINALG,
    LinAlgError,
    col,
    eye_like,
    lapack,
    row,
    solve,
    square_shape,
    transposed,
)


def _real_eig(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """numpy's eig of each matrix, refused when an eigenvalue is complex."""
    values, vectors = lapack("linalg.eig", np.linalg.eig)(a)
    if np.iscomplexobj(values):
        flat = values.reshape(-1, values.shape[-1])
        k = int(np.nonzero(np.any(flat.imag != 0, axis=-1))[0][0])
        where = (f"(Batch element {tuple(int(i) for i in np.unravel_index(k, a.shape[:-2]))}"
                 "): " if a.ndim > 2 else "")
        raise LinAlgError(f"linalg.eig: {where}the matrix has complex eigenvalues "
                          f"({flat[k]}; shape {a.shape}) and minigrad has no complex tensors")
    return values, vectors


def _values_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    square_shape("linalg.eig", shape)
    return shape[:-1]


def _vectors_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    square_shape("linalg.eig", shape)
    return shape


def _values_vjp(g: Tensor, out: Tensor, a: Tensor) -> tuple:
    """gA = V^-T diag(gL) V^T."""
    vt = transposed(eig_vectors(a))
    return (solve(vt, mul(col(g), vt)),)


def _vectors_vjp(g: Tensor, out: Tensor, a: Tensor) -> tuple:
    """gA = V^-T ((V^T gV - V^T V diag(diag(V^T gV))) / E) V^T."""
    values, vt = eig_values(a), transposed(out)
    n = values.shape[-1]
    vg = matmul(vt, g)
    diagonal = mul(vg, eye_like(n, vg))
    projected = sub(vg, matmul(matmul(vt, out), diagonal))
    gaps = add(sub(row(values), col(values)), eye_like(n, values))
    off = mul(div(projected, gaps), sub(1.0, eye_like(n, values)))
    return (solve(vt, matmul(off, vt)),)


EIG_VALUES = register(Op(
    "eig_values", LINALG, 1, lambda a: _real_eig(a)[0], _values_shape, _values_vjp,
    grads=("V^-T diag({g}) V^T",),
    doc="the real eigenvalues of each square matrix (numpy.linalg.eig's order; a complex "
        "eigenvalue is refused)",
))
EIG_VECTORS = register(Op(
    "eig_vectors", LINALG, 1, lambda a: _real_eig(a)[1], _vectors_shape, _vectors_vjp,
    grads=("V^-T ((V^T {g} - V^T V diag(V^T {g})) / (λj - λi)) V^T",),
    doc="the unit eigenvectors (columns) of each square matrix with real eigenvalues",
))


def eig_values(a: Any) -> Tensor:
    """The real eigenvalues of each (..., n, n) matrix (complex ones: LinAlgError)."""
    return apply(EIG_VALUES, a)


def eig_vectors(a: Any) -> Tensor:
    """The unit eigenvectors (columns) of each (..., n, n) matrix with real eigenvalues."""
    return apply(EIG_VECTORS, a)
