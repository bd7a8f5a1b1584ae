"""The rest of torch.linalg's everyday functions, composed of mg.linalg's rows, matmul and
reductions (so gradients, drawings and mg.jit come from those): ``matrix_power``,
``multi_dot``, ``matrix_rank``, ``cond``, ``vecdot``, ``solve_triangular``,
``cholesky_solve``/``cholesky_inverse``; and PyTorch's top-level names and Tensor methods
for them (``mg.inverse``, ``det``, ``logdet``, ``slogdet``, ``pinverse``, ``matrix_power``,
``cholesky``, ``cholesky_solve``, ``cholesky_inverse``; ``x.inverse()``, ``x.det()``, ...).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ops
from .errors import ArgumentError, ArgumentTypeError
from .linalg_functions import (
    SlogdetResult,
    cholesky,
    det,
    inv,
    matrix_input,
    pinv,
    slogdet,
    solve,
    svdvals,
)
from .linalg_norms import matrix_norm
from .ops.matrix_rows import LinAlgError, constant_like, transposed
from .shape_ops import as_tensor_input
from .tensor import Tensor

__all__ = ["cholesky_inverse", "cholesky_solve", "cond", "inverse", "logdet", "matrix_power",
           "matrix_rank", "multi_dot", "pinverse", "solve_triangular", "vecdot"]


def matrix_power(A: Any, n: int) -> Tensor:
    """A^n of each (..., m, m) matrix by repeated squaring (ceil(log2 n) products);
    n = 0: the identity; n < 0: inv(A)^-n."""
    A = as_tensor_input(A)
    if not isinstance(n, int | np.integer) or isinstance(n, bool):
        raise ArgumentTypeError(f"linalg.matrix_power: n must be an integer, got {n!r}")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise LinAlgError(f"linalg.matrix_power: A must be batches of square matrices, got "
                          f"shape {A.shape}")
    base, n = (inv(A), -int(n)) if n < 0 else (A, int(n))
    result = None
    while n:
        if n & 1:
            result = base if result is None else ops.matmul(result, base)
        n >>= 1
        if n:
            base = ops.matmul(base, base)
    if result is None:
        return ops.broadcast_to(constant_like(np.eye(A.shape[-1]), A), A.shape)
    return result


def multi_dot(tensors: Sequence[Any]) -> Tensor:
    """The product of the matrices left to right; a 1-D first (last) operand is a row
    (column) vector, dropped from the result's shape as in PyTorch."""
    if len(tensors) < 2:
        raise ArgumentError(f"linalg.multi_dot: needs at least 2 tensors, got {len(tensors)}")
    items = [as_tensor_input(t) for t in tensors]
    for k, t in enumerate(items):
        wanted = (1, 2) if k in (0, len(items) - 1) else (2,)
        if t.ndim not in wanted:
            raise ArgumentError(f"linalg.multi_dot: tensor {k} must be "
                                f"{' or '.join(f'{d}-D' for d in wanted)}, got shape {t.shape}")
    result = items[0]
    for t in items[1:]:
        result = ops.matmul(result, t)
    return result


def _tolerance(values: Tensor, shape: tuple[int, ...], dtype: np.dtype, atol: float | None,
               rtol: float | None) -> Tensor:
    """max(atol, rtol * the largest value), PyTorch's defaults (rtol = eps max(m, n) when
    neither is given, else 0 when only atol is)."""
    if rtol is None:
        rtol = float(np.finfo(dtype).eps) * max(shape[-2:]) if atol is None else 0.0
    largest = ops.amax(values, -1, True) if values.shape[-1] else constant_like(0.0, values)
    return ops.maximum(ops.mul(largest, float(rtol)), float(atol or 0.0))


def matrix_rank(A: Any, *, atol: float | None = None, rtol: float | None = None,
                hermitian: bool = False) -> Tensor:
    """How many singular values (|eigenvalues| when ``hermitian``) of each (..., m, n)
    matrix exceed max(atol, rtol * the largest) (int64, no gradient)."""
    A = matrix_input(A, "linalg.matrix_rank", square=hermitian)
    values = ops.abs(ops.eigvalsh(A)) if hermitian else svdvals(A)
    kept = ops.greater(values, _tolerance(values, A.shape, A.dtype, atol, rtol))
    return ops.sum(ops.cast(kept, "int64"), -1)


def cond(A: Any, p: Any = None) -> Tensor:
    """The condition number of each matrix in the norm ``p``: None or 2 the ratio of the
    largest to the smallest singular value (-2 its inverse), else
    matrix_norm(A, p) * matrix_norm(inv(A), p) (square A)."""
    if p in (None, 2, -2):
        values = svdvals(matrix_input(A, "linalg.cond", square=False))
        big, small = ops.index(values, (Ellipsis, 0)), ops.index(values, (Ellipsis, -1))
        return ops.div(big, small) if p != -2 else ops.div(small, big)
    if p not in ("fro", "nuc", 1, -1, math.inf, -math.inf):
        raise ArgumentError(f"linalg.cond: p={p!r} is not supported (None, 'fro', 'nuc', inf, "
                            f"-inf, 1, -1, 2, -2)")
    A = matrix_input(A, "linalg.cond")
    return ops.mul(matrix_norm(A, p), matrix_norm(inv(A), p))


def vecdot(x: Any, y: Any, *, dim: int = -1) -> Tensor:
    """sum(x * y) over ``dim`` (x and y broadcast)."""
    return ops.sum(ops.mul(as_tensor_input(x), as_tensor_input(y)), dim)


def solve_triangular(A: Any, B: Any, *, upper: bool, left: bool = True,
                     unitriangular: bool = False) -> Tensor:
    """X with A X = B (``left``) or X A = B, reading only A's ``upper`` (else lower)
    triangle, its diagonal taken as ones when ``unitriangular`` (no gradient reaches the
    other entries)."""
    A = matrix_input(A, "linalg.solve_triangular")
    n = A.shape[-1]
    mask = np.triu(np.ones((n, n)), 1 if unitriangular else 0) if upper else \
        np.tril(np.ones((n, n)), -1 if unitriangular else 0)
    triangle = ops.mul(A, constant_like(mask, A))
    if unitriangular:
        triangle = ops.add(triangle, constant_like(np.eye(n), A))
    return solve(triangle, B, left=left)


def cholesky_solve(B: Any, L: Any, upper: bool = False) -> Tensor:
    """X with (L L^T) X = B (``upper``: U^T U), for a Cholesky factor L, read from its
    triangle (the gradient reaches only that triangle; PyTorch's fills the other too)."""
    lower = transposed(as_tensor_input(L)) if upper else as_tensor_input(L)
    return solve_triangular(transposed(lower), solve_triangular(lower, B, upper=False),
                            upper=True)


def cholesky_inverse(L: Any, upper: bool = False) -> Tensor:
    """(L L^T)^-1 (``upper``: (U^T U)^-1) from a Cholesky factor."""
    L = as_tensor_input(L)
    eye = ops.broadcast_to(constant_like(np.eye(L.shape[-1]), L), L.shape)
    return cholesky_solve(eye, L, upper)


# ------------------------------------------------------------ PyTorch's top-level names
def inverse(input: Any) -> Tensor:  # noqa: A002
    """torch.inverse: linalg.inv."""
    return inv(input)


def logdet(input: Any) -> Tensor:  # noqa: A002
    """log det A: NaN where det A < 0, -inf where A is singular (torch.logdet)."""
    sign, logabs = slogdet(input)
    return ops.add(logabs, ops.log(sign))


def pinverse(input: Any, rcond: float = 1e-15) -> Tensor:  # noqa: A002
    """torch.pinverse: singular values <= rcond * the largest dropped."""
    return pinv(input, rtol=rcond)


def _cholesky(input: Any, upper: bool = False) -> Tensor:  # noqa: A002
    """torch.cholesky (deprecated in PyTorch for linalg.cholesky): L, or U with ``upper``."""
    return cholesky(input, upper=upper)


# mg.<name> (PyTorch's top-level functions) and Tensor.<name>
METHODS = {"inverse": inverse, "det": det, "logdet": logdet, "pinverse": pinverse,
           "matrix_power": matrix_power, "cholesky": _cholesky,
           "cholesky_solve": cholesky_solve, "cholesky_inverse": cholesky_inverse}
TOP_LEVEL = {**METHODS, "slogdet": slogdet}


def _slogdet_method(self: Tensor) -> SlogdetResult:
    """x.slogdet(): (sign, logabsdet)."""
    return slogdet(self)


def install() -> None:
    """The Tensor methods (``x.inverse()``, ``x.det()``, ...), forwarding to the above."""
    for name, function in METHODS.items():
        setattr(Tensor, name, function)
    Tensor.slogdet = _slogdet_method
