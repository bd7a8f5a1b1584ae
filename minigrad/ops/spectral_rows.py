"""The spectral rows of ``mg.linalg``: the symmetric eigendecomposition (``eigvalsh``,
``eigh_vectors``), the singular value decomposition (``svdvals``, ``svd_u``, ``svd_vh``) and
``pinv``.

Every node has one output, so a decomposition is one row per result, each calling
numpy.linalg on the same input (deterministic: the rows of one call agree). The VJPs are
PyTorch's (FunctionsManual.cpp: linalg_eig_backward, svd_backward, pinv_backward) split per
result, which they are linear in, written with minigrad ops so they differentiate again.
A row's VJP reads the other results by applying their rows to the same input.

Gradients through eigenvectors or singular vectors divide by differences of eigenvalues
(squared singular values): at repeated ones they are inf/NaN, as in PyTorch; eigenvalues
and singular values alone have finite gradients everywhere.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from ..errors import ArgumentError
from ..tensor import Tensor
from .core import Op, apply, register
from .elementwise import add, div, mul, neg, sub
from .indexing import index
from .linalg import matmul
from .matrix_rows import (
    LINALG,
    LinAlgError,
    col,
    eye_like,
    lapack,
    row,
    square_shape,
    transposed,
)


# ----------------------------------------------------------------------------- eigh
def _check_uplo(uplo: str) -> None:
    if uplo not in ("L", "U"):
        raise ArgumentError(f"linalg.eigh: UPLO must be 'L' or 'U', got {uplo!r}")


def _eigvalsh_shape(shape: tuple[int, ...], *, UPLO: str) -> tuple[int, ...]:
    _check_uplo(UPLO)
    square_shape("linalg.eigh", shape)
    return shape[:-1]


def _eigh_vectors_shape(shape: tuple[int, ...], *, UPLO: str) -> tuple[int, ...]:
    _check_uplo(UPLO)
    square_shape("linalg.eigh", shape)
    return shape


def _eigvalsh_vjp(g: Tensor, out: Tensor, a: Tensor, *, UPLO: str) -> tuple:
    """A = V diag(L) V^T: gA = V diag(gL) V^T."""
    vectors = eigh_vectors(a, UPLO)
    return (matmul(mul(vectors, row(g)), transposed(vectors)),)


def _eigh_vectors_vjp(g: Tensor, out: Tensor, a: Tensor, *, UPLO: str) -> tuple:
    """gA = V ((V^T gV - gV^T V) / 2 / E) V^T with E[i, j] = L[j] - L[i] (1 on the
    diagonal, where the numerator is 0)."""
    values = eigvalsh(a, UPLO)
    vg = matmul(transposed(out), g)
    skew = mul(sub(vg, transposed(vg)), 0.5)
    gaps = add(sub(row(values), col(values)), eye_like(values.shape[-1], values))
    return (matmul(matmul(out, div(skew, gaps)), transposed(out)),)


def _eigvalsh_forward(a: np.ndarray, *, UPLO: str) -> np.ndarray:
    return lapack("linalg.eigh", lambda m: np.linalg.eigvalsh(m, UPLO))(a)


def _eigh_vectors_forward(a: np.ndarray, *, UPLO: str) -> np.ndarray:
    return lapack("linalg.eigh", lambda m: np.linalg.eigh(m, UPLO)[1])(a)


EIGVALSH = register(Op(
    "eigvalsh", LINALG, 1, _eigvalsh_forward, _eigvalsh_shape,
    _eigvalsh_vjp, grads=("V diag({g}) V^T",),
    doc="the ascending eigenvalues of each symmetric matrix, read from its UPLO triangle",
    torch="linalg.eigvalsh",
))
EIGH_VECTORS = register(Op(
    "eigh_vectors", LINALG, 1, _eigh_vectors_forward, _eigh_vectors_shape, _eigh_vectors_vjp,
    grads=("V (skew(V^T {g}) / (λj - λi)) V^T",),
    doc="the eigenvectors (columns, ascending eigenvalues) of each symmetric matrix",
))


def eigvalsh(a: Any, UPLO: str = "L") -> Tensor:
    """The eigenvalues, ascending, of each symmetric (..., n, n) matrix."""
    return apply(EIGVALSH, a, UPLO=UPLO)


def eigh_vectors(a: Any, UPLO: str = "L") -> Tensor:
    """The orthonormal eigenvectors (columns) of each symmetric (..., n, n) matrix."""
    return apply(EIGH_VECTORS, a, UPLO=UPLO)


# ------------------------------------------------------------------------------ svd
def _matrix_sizes(name: str, shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) < 2:
        raise LinAlgError(f"{name}: A must have at least 2 dimensions, got shape {shape}")
    return shape[-2], shape[-1]


def _svdvals_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    m, n = _matrix_sizes("linalg.svd", shape)
    return (*shape[:-2], builtins.min(m, n))


def _svd_u_shape(shape: tuple[int, ...], *, full_matrices: bool) -> tuple[int, ...]:
    m, n = _matrix_sizes("linalg.svd", shape)
    return (*shape[:-2], m, m if full_matrices else builtins.min(m, n))


def _svd_vh_shape(shape: tuple[int, ...], *, full_matrices: bool) -> tuple[int, ...]:
    m, n = _matrix_sizes("linalg.svd", shape)
    return (*shape[:-2], n if full_matrices else builtins.min(m, n), n)


def _factors(a: Tensor, full_matrices: bool, u: Tensor | None = None,
             vh: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """U (m, k), S (k), Vh (k, n) of ``a`` (k = min(m, n)): the first k columns of U and
    rows of Vh of the full_matrices decomposition, so they pair with its other results."""
    k = builtins.min(a.shape[-2:])
    u = svd_u(a, full_matrices) if u is None else u
    vh = svd_vh(a, full_matrices) if vh is None else vh
    if full_matrices:
        u, vh = index(u, (Ellipsis, slice(0, k))), index(vh, (Ellipsis, slice(0, k), slice(None)))
    return u, svdvals(a), vh


def _gaps(s: Tensor) -> Tensor:
    """E[i, j] = S[j]^2 - S[i]^2, with 1 on the diagonal (where the numerators are 0)."""
    s2 = mul(s, s)
    return add(sub(row(s2), col(s2)), eye_like(s.shape[-1], s))


def _svdvals_vjp(g: Tensor, out: Tensor, a: Tensor) -> tuple:
    """gA = U diag(gS) Vh."""
    u, _, vh = _factors(a, False)
    return (matmul(mul(u, row(g)), vh),)


def _svd_u_vjp(g: Tensor, out: Tensor, a: Tensor, *, full_matrices: bool) -> tuple:
    """gA = U (skew(U^T gU) S / E) Vh, plus (I - U U^T) gU S^-1 Vh when m > n (only U's
    first k columns count: the others are any basis of the rest, as in PyTorch)."""
    u, s, vh = _factors(a, full_matrices, u=out)
    k = s.shape[-1]
    if full_matrices:
        g = index(g, (Ellipsis, slice(0, k)))
    ug = matmul(transposed(u), g)
    inner = div(mul(sub(ug, transposed(ug)), row(s)), _gaps(s))
    grad = matmul(u, inner)
    if a.shape[-2] > a.shape[-1]:
        scaled = div(g, row(s))
        grad = add(grad, sub(scaled, matmul(u, matmul(transposed(u), scaled))))
    return (matmul(grad, vh),)


def _svd_vh_vjp(g: Tensor, out: Tensor, a: Tensor, *, full_matrices: bool) -> tuple:
    """gA = U (S skew(Vh gVh^T) / E) Vh, plus U S^-1 gVh (I - V Vh) when m < n."""
    u, s, vh = _factors(a, full_matrices, vh=out)
    k = s.shape[-1]
    if full_matrices:
        g = index(g, (Ellipsis, slice(0, k), slice(None)))
    vg = matmul(vh, transposed(g))
    grad = matmul(div(mul(col(s), sub(vg, transposed(vg))), _gaps(s)), vh)
    if a.shape[-2] < a.shape[-1]:
        scaled = div(g, col(s))
        grad = add(grad, sub(scaled, matmul(matmul(scaled, transposed(vh)), vh)))
    return (matmul(u, grad),)


def _singular_values(m: np.ndarray) -> np.ndarray:
    return np.linalg.svd(m, compute_uv=False)


def _svd_part(part: int) -> Any:
    """The forward of U (part 0) or Vh (part 2) of numpy's svd."""
    def forward(a: np.ndarray, *, full_matrices: bool) -> np.ndarray:
        return lapack("linalg.svd", lambda m: np.linalg.svd(
            m, full_matrices=full_matrices)[part])(a)

    return forward


SVDVALS = register(Op(
    "svdvals", LINALG, 1, lapack("linalg.svd", _singular_values), _svdvals_shape,
    _svdvals_vjp, grads=("U diag({g}) Vh",),
    doc="the singular values, descending, of each (..., m, n) matrix",
    torch="linalg.svdvals",
))
SVD_U = register(Op(
    "svd_u", LINALG, 1, _svd_part(0), _svd_u_shape, _svd_u_vjp,
    grads=("U (skew(U^T {g}) S / (Sj² - Si²)) Vh + ...",),
    doc="U of A = U diag(S) Vh (left singular vectors, columns)",
))
SVD_VH = register(Op(
    "svd_vh", LINALG, 1, _svd_part(2), _svd_vh_shape, _svd_vh_vjp,
    grads=("U (S skew(Vh {g}^T) / (Sj² - Si²)) Vh + ...",),
    doc="Vh of A = U diag(S) Vh (right singular vectors, rows)",
))


def svdvals(a: Any) -> Tensor:
    """The singular values of each (..., m, n) matrix, descending."""
    return apply(SVDVALS, a)


def svd_u(a: Any, full_matrices: bool = False) -> Tensor:
    """U of A = U diag(S) Vh: (..., m, k), or (..., m, m) with ``full_matrices``."""
    return apply(SVD_U, a, full_matrices=bool(full_matrices))


def svd_vh(a: Any, full_matrices: bool = False) -> Tensor:
    """Vh of A = U diag(S) Vh: (..., k, n), or (..., n, n) with ``full_matrices``."""
    return apply(SVD_VH, a, full_matrices=bool(full_matrices))


# ----------------------------------------------------------------------------- pinv
def _pinv_forward(a: np.ndarray, *, atol: float, rtol: float, hermitian: bool) -> np.ndarray:
    """V diag(1/S) U^T over the singular values S > max(atol, rtol * max S) (the others
    taken as 0); ``hermitian``: from eigh, |eigenvalues| as the singular values."""
    if hermitian:
        values, vectors = lapack("linalg.pinv", np.linalg.eigh)(a)
        left, right, scale = vectors, np.swapaxes(vectors, -1, -2), values
        size = np.abs(values)
    else:
        u, size, vh = lapack("linalg.pinv", lambda m: np.linalg.svd(m, full_matrices=False))(a)
        left, right, scale = u, vh, size
    if size.shape[-1] == 0:
        return np.zeros((*a.shape[:-2], a.shape[-1], a.shape[-2]), a.dtype)
    cutoff = np.maximum(atol, rtol * size.max(axis=-1, keepdims=True))
    with np.errstate(divide="ignore"):
        inverse = np.where(size > cutoff, 1.0 / np.where(scale == 0, 1, scale), 0.0)
    result = np.swapaxes(right, -1, -2) * inverse[..., None, :] @ np.swapaxes(left, -1, -2)
    return result.astype(a.dtype, copy=False)


def _pinv_shape(shape: tuple[int, ...], **_: Any) -> tuple[int, ...]:
    _matrix_sizes("linalg.pinv", shape)
    return (*shape[:-2], shape[-1], shape[-2])


def _pinv_vjp(g: Tensor, out: Tensor, a: Tensor, **attrs: Any) -> tuple:
    """PyTorch's pinv_backward (right where the rank does not change near A), with P =
    pinv(A) and the projector residuals R = I - A P, Q = I - P A as rows of their own:
    gA = -P^T g P^T + R g^T P P^T + P^T P g^T Q. (R and Q vanish at full rank; as rows,
    their derivatives are multiples of them, so the second order does not take the large
    cancelling terms of d(A P): at pinv(X^T X) for the 5 x 5 X of condition 1.2e4 of
    autograd's test_pinv, the Hessian-vector product is that of inv to 1e-10, where
    PyTorch's is 4e-5 off.)"""
    p, pt, gt = out, transposed(out), transposed(g)
    left, right = pinv_residual(a, "left", **attrs), pinv_residual(a, "right", **attrs)
    main = neg(matmul(matmul(pt, g), pt))
    return (add(main, add(matmul(matmul(left, gt), matmul(p, pt)),
                          matmul(matmul(pt, p), matmul(gt, right)))),)


def _residual_forward(a: np.ndarray, *, side: str, atol: float, rtol: float,
                      hermitian: bool) -> np.ndarray:
    p = _pinv_forward(a, atol=atol, rtol=rtol, hermitian=hermitian)
    product = a @ p if side == "left" else p @ a
    return np.eye(product.shape[-1], dtype=a.dtype) - product


def _residual_shape(shape: tuple[int, ...], *, side: str, **_: Any) -> tuple[int, ...]:
    _matrix_sizes("linalg.pinv", shape)
    n = shape[-2] if side == "left" else shape[-1]
    return (*shape[:-2], n, n)


def _residual_vjp(g: Tensor, out: Tensor, a: Tensor, *, side: str, **attrs: Any) -> tuple:
    """R = I - A P (the projector on range(A)'s complement) moves as
    dR = -(R dA P + P^T dA^T R), so gA = -(R g P^T + R g^T P^T); Q = I - P A:
    dQ = -(P dA Q + Q dA^T P^T), gA = -(P^T g Q + P^T g^T Q) (R, Q symmetric)."""
    p = pinv(a, **attrs)
    both = add(g, transposed(g))
    if side == "left":
        return (neg(matmul(matmul(out, both), transposed(p))),)
    return (neg(matmul(matmul(transposed(p), both), out)),)


PINV_RESIDUAL = register(Op(
    "pinv_residual", LINALG, 1, _residual_forward, _residual_shape, _residual_vjp,
    grads=("-R ({g} + {g}^T) P^T (left), -P^T ({g} + {g}^T) Q (right)",),
    doc="I - A pinv(A) (side 'left') or I - pinv(A) A ('right'): the residual projectors "
        "of pinv's gradient",
))


def pinv_residual(a: Any, side: str, atol: float = 0.0, rtol: float = 0.0,
                  hermitian: bool = False) -> Tensor:
    """I - A pinv(A) (``side`` 'left') or I - pinv(A) A ('right')."""
    return apply(PINV_RESIDUAL, a, side=side, atol=float(atol), rtol=float(rtol),
                 hermitian=bool(hermitian))


PINV = register(Op(
    "pinv", LINALG, 1, _pinv_forward, _pinv_shape, _pinv_vjp,
    grads=("-P^T {g} P^T + (I - {0} P) {g}^T P P^T + P^T P {g}^T (I - P {0}), P = {out}",),
    doc="the Moore-Penrose pseudo-inverse of each (..., m, n) matrix (singular values "
        "<= max(atol, rtol * max S) dropped)", torch="linalg.pinv",
))


def pinv(a: Any, atol: float = 0.0, rtol: float = 0.0, hermitian: bool = False) -> Tensor:
    """The pseudo-inverse of each (..., m, n) matrix (no defaults chosen here: see
    mg.linalg.pinv for PyTorch's)."""
    return apply(PINV, a, atol=float(atol), rtol=float(rtol), hermitian=bool(hermitian))
