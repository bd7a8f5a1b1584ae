"""The square-matrix rows of ``mg.linalg``: ``inv``, ``det``, ``logabsdet`` and ``det_sign``
(slogdet), ``solve``, ``cholesky``. Forwards are numpy.linalg calls over the leading (batch)
axes; each VJP is written with minigrad ops (matmul, these rows), so it differentiates
again, is drawn and is traced like any other. A failed factorisation raises ``LinAlgError``
naming the shape and the batch element, as PyTorch's ``torch.linalg.LinAlgError`` does.

The helpers at the end (``transposed``, ``col``, ``row``, ``eye_like``, ...) are shared with
spectral_rows.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor
from .core import Op, apply, broadcast_shapes, only_needed, register, unbroadcast
from .elementwise import add, mul, neg
from .linalg import matmul
from .movement import reshape, transpose

LINALG = "linalg"  # the kind of the rows of mg.linalg


class LinAlgError(RuntimeError, np.linalg.LinAlgError):
    """A matrix function failed (a singular matrix, a matrix not positive-definite) or was
    given no (batch of) square matrices. A RuntimeError as PyTorch's LinAlgError and a
    numpy.linalg.LinAlgError (a ValueError) as numpy's: code catching either sees it."""


# ------------------------------------------------------------------ checks and errors
def square_shape(name: str, shape: tuple[int, ...]) -> int:
    """The size n of the (..., n, n) matrices of ``shape``, else a LinAlgError."""
    if len(shape) < 2 or shape[-1] != shape[-2]:
        got = f"{shape[-2]} by {shape[-1]} matrices" if len(shape) >= 2 else f"shape {shape}"
        raise LinAlgError(f"{name}: A must be batches of square matrices, but they are {got} "
                          f"(shape {shape})")
    return shape[-1]


def _where_failing(a: np.ndarray, solve_one: Callable[[np.ndarray], Any]) -> str:
    """'(Batch element (i, j)): ' for the first matrix of ``a`` that ``solve_one`` fails on
    ('' for a single matrix)."""
    batch = a.shape[:-2]
    if not batch:
        return ""
    flat = a.reshape(-1, *a.shape[-2:])
    for k, matrix in enumerate(flat):
        try:
            solve_one(matrix)
        except np.linalg.LinAlgError:
            return f"(Batch element {tuple(int(i) for i in np.unravel_index(k, batch))}): "
    return ""


def lapack(name: str, compute: Callable[[np.ndarray], Any]) -> Callable[[np.ndarray], Any]:
    """``compute`` of an array of matrices, numpy's LinAlgError (an iteration that did not
    converge, as on NaN or inf entries) raised as ours, naming the op, the batch element
    and the shape."""
    def run(a: np.ndarray) -> Any:
        try:
            return compute(a)
        except np.linalg.LinAlgError as error:
            where = _where_failing(a, compute)
            finite = "" if np.all(np.isfinite(a)) else "; the input holds NaN or inf"
            raise LinAlgError(f"{name}: {where}{error} (shape {a.shape}, {a.dtype}"
                              f"{finite})") from None

    return run


def _nan_where_nan(a: np.ndarray, result: np.ndarray) -> np.ndarray:
    """``result`` (one value per matrix of a) with NaN where a matrix holds a NaN, as
    PyTorch: numpy's det reads 0 off a singular LU before the NaN reaches it."""
    return np.where(np.isnan(a).any(axis=(-2, -1)), np.nan, result).astype(result.dtype)


def _singular(name: str, a: np.ndarray) -> LinAlgError:
    where = _where_failing(a, np.linalg.inv)
    return LinAlgError(f"{name}: {where}the input matrix is singular (shape {a.shape}, "
                       f"{a.dtype}): it has no inverse")


# ------------------------------------------------------------------------------ inv
def _inv_forward(a: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise _singular("linalg.inv", a) from None


def _inv_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    square_shape("linalg.inv", shape)
    return shape


def _inv_vjp(g: Tensor, out: Tensor, a: Tensor) -> tuple:
    """d inv(A) = -A^-1 dA A^-1, so gA = -A^-T g A^-T."""
    return (neg(matmul(matmul(transposed(out), g), transposed(out))),)


INV = register(Op(
    "inv", LINALG, 1, _inv_forward, _inv_shape, _inv_vjp, grads=("-{out}^T @ {g} @ {out}^T",),
    doc="A^-1 of each square matrix (numpy.linalg.inv); singular: a LinAlgError",
    torch="linalg.inv",
))


def inv(a: Any) -> Tensor:
    """The inverse of each (..., n, n) matrix: A A^-1 = I."""
    return apply(INV, a)


# ------------------------------------------------------------------- det and slogdet
def _det_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    square_shape("linalg.det", shape)
    return shape[:-2]


def _det_vjp(g: Tensor, out: Tensor, a: Tensor) -> tuple:
    """d det A = det A tr(A^-1 dA), so gA = g det A A^-T (an exactly singular A raises)."""
    return (mul(col(col(mul(g, out))), transposed(inv(a))),)


def _det_forward(a: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):  # a NaN matrix: NaN, without numpy's warning
        return _nan_where_nan(a, np.linalg.det(a))


def _logabsdet_forward(a: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return _nan_where_nan(a, np.linalg.slogdet(a)[1])


def _det_sign_forward(a: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.linalg.slogdet(a)[0]


DET = register(Op(
    "det", LINALG, 1, _det_forward, _det_shape, _det_vjp, grads=("{g} * {out} * {0}^-T",),
    doc="det A of each square matrix (numpy.linalg.det)", torch="linalg.det",
))


def det(a: Any) -> Tensor:
    """The determinant of each (..., n, n) matrix."""
    return apply(DET, a)


def _logabsdet_vjp(g: Tensor, out: Tensor, a: Tensor) -> tuple:
    """d log|det A| = tr(A^-1 dA), so gA = g A^-T."""
    return (mul(col(col(g)), transposed(inv(a))),)


LOGABSDET = register(Op(
    "logabsdet", LINALG, 1, _logabsdet_forward, _det_shape, _logabsdet_vjp,
    grads=("{g} * {0}^-T",), doc="log |det A| (slogdet's second result; -inf when singular)",
))
DET_SIGN = register(Op(
    "det_sign", LINALG, 1, _det_sign_forward, _det_shape, None,
    doc="the sign of det A: -1, 0 or 1 (slogdet's first result; no gradient)",
))


def logabsdet(a: Any) -> Tensor:
    """log |det A| of each (..., n, n) matrix, without over- or underflow."""
    return apply(LOGABSDET, a)


def det_sign(a: Any) -> Tensor:
    """The sign of det A (-1, 0 or 1) of each (..., n, n) matrix."""
    return apply(DET_SIGN, a)


# ----------------------------------------------------------------------------- solve
def _solve_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    n = square_shape("linalg.solve", a)
    if len(b) < 2 or b[-2] != n:
        raise LinAlgError(f"linalg.solve: B must be (..., {n}, k) for A of shape {a}, got "
                          f"shape {b}")
    batch = broadcast_shapes(a[:-2], b[:-2], op="linalg.solve (batch axes)")
    return (*batch, n, b[-1])


def _solve_forward(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a_all = np.broadcast_to(a, (*batch, *a.shape[-2:]))
        where = _where_failing(a_all, np.linalg.inv)
        raise LinAlgError(f"linalg.solve: {where}The solver failed because the input matrix "
                          f"is singular (A of shape {a.shape}, B of shape {b.shape})") from None


def _solve_vjp(g: Tensor, out: Tensor, a: Tensor, b: Tensor) -> tuple:
    """X = A^-1 B: gB = A^-T g, gA = -gB X^T (each summed over broadcast batch axes)."""
    gb = solve(transposed(a), g)
    return only_needed(lambda: unbroadcast(neg(matmul(gb, transposed(out))), a.shape),
                       lambda: unbroadcast(gb, b.shape))


SOLVE = register(Op(
    "solve", LINALG, 2, _solve_forward, _solve_shape, _solve_vjp,
    grads=("-({0}^-T @ {g}) @ {out}^T", "{0}^-T @ {g}"),
    doc="X with A X = B for (..., n, n) A and (..., n, k) B (numpy.linalg.solve)",
    torch="linalg.solve",
))


def solve(a: Any, b: Any) -> Tensor:
    """X with A X = B: A (..., n, n), B (..., n, k), batch axes broadcast."""
    return apply(SOLVE, a, b)


# -------------------------------------------------------------------------- cholesky
def _leading_minor(matrix: np.ndarray) -> int:
    """The order of the first leading minor of ``matrix`` that is not positive-definite."""
    for order in range(1, matrix.shape[-1] + 1):
        try:
            np.linalg.cholesky(matrix[:order, :order])
        except np.linalg.LinAlgError:
            return order
    return matrix.shape[-1]


def _cholesky_forward(a: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        flat = a.reshape(-1, *a.shape[-2:])
        k = next((k for k, m in enumerate(flat) if not _posdef(m)), 0)
        where = _where_failing(a, np.linalg.cholesky)
        raise LinAlgError(
            f"linalg.cholesky: {where}The factorization could not be completed because the "
            f"input is not positive-definite (the leading minor of order "
            f"{_leading_minor(flat[k])} is not positive-definite; shape {a.shape})") from None


def _posdef(matrix: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    return True


def _cholesky_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    square_shape("linalg.cholesky", shape)
    return shape


def _cholesky_vjp(g: Tensor, out: Tensor, a: Tensor) -> tuple:
    """PyTorch's rule (Murray 2016): P = tril(L^T gL), S = (P + P^T) / 2 with P's diagonal
    once, gA = L^-T S L^-1 (symmetric)."""
    n = out.shape[-1]
    p = mul(matmul(transposed(out), g), tri_mask(n, 0, out))
    s = mul(add(p, transposed(mul(p, tri_mask(n, -1, out)))), 0.5)
    left = solve(transposed(out), s)  # L^-T S; then (L^-T (L^-T S)^T)^T = L^-T S L^-1
    return (transposed(solve(transposed(out), transposed(left))),)


CHOLESKY = register(Op(
    "cholesky", LINALG, 1, _cholesky_forward, _cholesky_shape, _cholesky_vjp,
    grads=("{out}^-T Φ({out}^T @ {g}) {out}^-1",),
    doc="the lower L with A = L L^T of each positive-definite matrix (numpy.linalg.cholesky; "
        "reads A's lower triangle)", torch="linalg.cholesky",
))


def cholesky(a: Any) -> Tensor:
    """The lower-triangular L with L L^T = A of each (..., n, n) positive-definite A."""
    return apply(CHOLESKY, a)


# ----------------------------------------------------------------- shared helpers
def transposed(x: Tensor) -> Tensor:
    """x with its last two axes swapped (PyTorch's ``x.mT``)."""
    return transpose(x, (*range(x.ndim - 2), x.ndim - 1, x.ndim - 2))


def col(x: Tensor) -> Tensor:
    """x with a new last axis of size 1: (..., n) -> (..., n, 1)."""
    return reshape(x, (*x.shape, 1))


def row(x: Tensor) -> Tensor:
    """x with a new next-to-last axis of size 1: (..., n) -> (..., 1, n)."""
    return reshape(x, (*x.shape[:-1], 1, x.shape[-1]))


def constant_like(values: np.ndarray, like: Tensor) -> Tensor:
    """``values`` as a constant leaf of ``like``'s dtype."""
    return Tensor._constant(np.asarray(values, dtype=like.data.dtype))


def eye_like(n: int, like: Tensor) -> Tensor:
    """The n x n identity as a constant of ``like``'s dtype."""
    return constant_like(np.eye(n), like)


def tri_mask(n: int, diagonal: int, like: Tensor) -> Tensor:
    """1 on and below the ``diagonal``-th diagonal of an n x n matrix, else 0."""
    return constant_like(np.tri(n, n, diagonal), like)
