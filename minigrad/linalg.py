"""Products with PyTorch's names, composed from mul, sum, reshape, transpose and matmul (so
their gradients, drawings and mg.jit lowering come from those rows): outer, dot, inner,
tensordot, einsum. Also the namespace ``mg.linalg`` (torch.linalg): the matrix functions of
linalg_functions.py, the norms of linalg_norms.py, the rest of linalg_extras.py."""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from typing import Any

from .errors import ArgumentError
from .linalg_extras import (  # noqa: F401  (mg.linalg.*)
    cond,
    matrix_power,
    matrix_rank,
    multi_dot,
    solve_triangular,
    vecdot,
)
from .linalg_functions import *  # noqa: F403  (mg.linalg.inv, det, svd, ...)
from .linalg_norms import matrix_norm, norm, vector_norm  # noqa: F401  (mg.linalg.*)
from .ops import matmul, mul, reshape, sum, transpose
from .shape_ops import as_tensor_input, diagonal, dim_index, permute
from .tensor import Tensor


def outer(a: Any, b: Any) -> Tensor:
    """out[i, j] = a[i] * b[j] for 1-D a and b."""
    a, b = as_tensor_input(a), as_tensor_input(b)
    if a.ndim != 1 or b.ndim != 1:
        raise ArgumentError(f"outer: needs two 1-D tensors, got shapes {a.shape} and {b.shape}")
    return mul(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def dot(a: Any, b: Any) -> Tensor:
    """sum_i a[i] * b[i] for 1-D a and b of one length (a 0-d tensor)."""
    a, b = as_tensor_input(a), as_tensor_input(b)
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ArgumentError(f"dot: needs two 1-D tensors of one length, got shapes {a.shape} "
                            f"and {b.shape}")
    return matmul(a, b)


def inner(a: Any, b: Any) -> Tensor:
    """The products summed over the last dims of a and b: out[i.., j..] = sum_k a[i.., k] *
    b[j.., k] (a 0-d operand multiplies)."""
    a, b = as_tensor_input(a), as_tensor_input(b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    return tensordot(a, b, ([-1], [-1]))


def tensordot(a: Any, b: Any, dims: int | Sequence[Sequence[int]] = 2) -> Tensor:
    """The products of a and b summed over paired dims: ``dims`` = n pairs a's last n dims
    with b's first n; ``dims`` = (dims_a, dims_b) pairs them one by one. The result's dims are
    a's remaining dims then b's. Computed as one matmul of (free_a, K) by (K, free_b)."""
    a, b = as_tensor_input(a), as_tensor_input(b)
    if isinstance(dims, int):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise ArgumentError(f"tensordot: dims={dims} does not fit shapes {a.shape} and "
                                f"{b.shape}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = (list(d) if isinstance(d, Sequence) else [d] for d in dims)
    dims_a = [dim_index(d, a.ndim, "tensordot") for d in dims_a]
    dims_b = [dim_index(d, b.ndim, "tensordot") for d in dims_b]
    if len(dims_a) != len(dims_b) or any(a.shape[i] != b.shape[j]
                                         for i, j in zip(dims_a, dims_b, strict=False)):
        raise ArgumentError(f"tensordot: dims {dims_a} of shape {a.shape} and {dims_b} of shape "
                            f"{b.shape} do not pair up with equal sizes")
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    size = math.prod(a.shape[d] for d in dims_a)
    left = reshape(permute(a, (*free_a, *dims_a)), (-1, size))
    right = reshape(permute(b, (*dims_b, *free_b)), (size, -1))
    return reshape(matmul(left, right),
                   tuple(a.shape[d] for d in free_a) + tuple(b.shape[d] for d in free_b))


# ------------------------------------------------------------------------------ einsum
def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation (``torch.einsum``): ``"ij,jk->ik"``; without ``->`` the output is
    the ellipsis dims then the letters that occur once, in alphabetical order. A letter
    repeated in one operand takes its diagonal; letters not in the output are summed.
    ``...`` stands for the dims not named, in any position, broadcast across operands (as
    right-aligned dims); a dim of size 1 broadcasts against any size, as in PyTorch.
    Operands are contracted two at a time, left to right, each pair as one (batched)
    matmul."""
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    tensors = [as_tensor_input(x) for x in operands]
    inputs, output = _parse_equation(equation, tensors)
    tensors, inputs = _broadcast_ones(equation, tensors, inputs)
    terms = [_single(t, letters, set(output) | _letters_elsewhere(inputs, k))
             for k, (t, letters) in enumerate(zip(tensors, inputs, strict=True))]
    result, letters = terms[0]
    for k, (other, other_letters) in enumerate(terms[1:], start=1):
        keep = set(output) | _letters_elsewhere(inputs, k, after=True)
        result, letters = _pair(result, letters, other, other_letters, keep)
    result, letters = _single(result, letters, set(output))
    return permute(result, [letters.index(c) for c in output]) if output else result


def _letters_elsewhere(inputs: list[str], k: int, after: bool = False) -> set[str]:
    """The letters of the operands other than k (only those after k when ``after``)."""
    others = inputs[k + 1:] if after else inputs[:k] + inputs[k + 1:]
    return set("".join(others))


def _expand_ellipsis(equation: str, text: str, tensors: list[Tensor]) -> tuple[list[str], str]:
    """The operands' subscripts and the output (None when implicit) with each ``...``
    written as letters unused elsewhere: the last of them for an operand with fewer
    unnamed dims (dims broadcast right-aligned)."""
    lhs, arrow, rhs = text.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(tensors):
        raise ArgumentError(f"einsum: {equation!r} names {len(inputs)} operands, "
                           f"{len(tensors)} given")
    counts = [t.ndim - (len(s) - 3) if "..." in s else 0 for s, t in zip(inputs, tensors,
                                                                       strict=True)]
    if any(n < 0 for n in counts):
        k = next(k for k, n in enumerate(counts) if n < 0)
        raise ArgumentError(f"einsum: subscripts {inputs[k]!r} do not fit an operand of shape "
                           f"{tensors[k].shape} in {equation!r}")
    unused = [c for c in string.ascii_letters if c not in text]
    spare = unused[:max(counts, default=0)]
    for k, n in enumerate(counts):
        inputs[k] = inputs[k].replace("...", "".join(spare[len(spare) - n:]))
    if not arrow:
        joined = "".join(inputs)
        singles = sorted(c for c in set(joined) if joined.count(c) == 1 and c not in spare)
        return inputs, "".join(spare) + "".join(singles)
    return inputs, rhs.replace("...", "".join(spare))


def _parse_equation(equation: str, tensors: list[Tensor]) -> tuple[list[str], str]:
    text = equation.replace(" ", "")
    if "." in text.replace("...", ""):
        raise ArgumentError(f"einsum: a '.' outside an ellipsis ('...') in {equation!r}")
    inputs, output = _expand_ellipsis(equation, text, tensors)
    sizes: dict[str, int] = {}
    for letters, t in zip(inputs, tensors, strict=True):
        if (letters and not letters.isalpha()) or len(letters) != t.ndim:
            raise ArgumentError(f"einsum: subscripts {letters!r} do not fit an operand of "
                               f"shape {t.shape} in {equation!r}")
        for c, n in zip(letters, t.shape, strict=True):
            if n != 1 and sizes.setdefault(c, n) != n:
                raise ArgumentError(f"einsum: letter {c!r} has sizes {sizes[c]} and {n} in "
                                   f"{equation!r} (only a size 1 broadcasts)")
    lhs = "".join(inputs)
    if (output and not output.isalpha()) or len(set(output)) != len(output) or (
            set(output) - set(lhs)):
        raise ArgumentError(f"einsum: output {output!r} must name distinct letters of the "
                           f"inputs in {equation!r}")
    return inputs, output


def _broadcast_ones(equation: str, tensors: list[Tensor], inputs: list[str]
                    ) -> tuple[list[Tensor], list[str]]:
    """Each operand without its dims of size 1 whose letter is larger elsewhere (the value
    broadcasts along that letter there)."""
    size: dict[str, int] = {}
    for letters, t in zip(inputs, tensors, strict=True):
        for c, n in zip(letters, t.shape, strict=True):
            size[c] = max(size.get(c, n), n)
    out_tensors, out_inputs = [], []
    for letters, t in zip(inputs, tensors, strict=True):
        kept = [k for k, c in enumerate(letters) if not (t.shape[k] == 1 and size[c] > 1)]
        if len(kept) != len(letters):
            t = reshape(t, tuple(t.shape[k] for k in kept))
            letters = "".join(letters[k] for k in kept)
        out_tensors.append(t)
        out_inputs.append(letters)
    return out_tensors, out_inputs


def _single(x: Tensor, letters: str, keep: set[str]) -> tuple[Tensor, str]:
    """x with repeated letters reduced to their diagonal and letters not in ``keep``
    summed out."""
    while len(set(letters)) != len(letters):
        c = next(c for c in letters if letters.count(c) > 1)
        first, second = letters.index(c), letters.index(c, letters.index(c) + 1)
        x = diagonal(x, 0, first, second)  # the diagonal becomes the last dim
        letters = "".join(kept for i, kept in enumerate(letters) if i not in (first, second)) + c
    gone = tuple(i for i, c in enumerate(letters) if c not in keep)
    if gone:
        x = sum(x, gone)
        letters = "".join(c for c in letters if c in keep)
    return x, letters


def _pair(a: Tensor, la: str, b: Tensor, lb: str, keep: set[str]) -> tuple[Tensor, str]:
    """a and b contracted as (batch, free_a, K) @ (batch, K, free_b): batch letters are in
    both and kept, K in both and not kept; letters only in one operand are kept (summed
    before when not needed, by ``_single``)."""
    a, la = _single(a, la, keep | set(lb))
    b, lb = _single(b, lb, keep | set(la))
    batch = [c for c in la if c in lb and c in keep]
    summed = [c for c in la if c in lb and c not in keep]
    free_a = [c for c in la if c not in lb]
    free_b = [c for c in lb if c not in la]
    size = {c: n for letters, t in ((la, a), (lb, b)) for c, n in zip(letters, t.shape,
                                                                     strict=True)}
    count = [math.prod(size[c] for c in group) for group in (batch, free_a, summed, free_b)]
    left = reshape(_order(a, la, batch + free_a + summed), (count[0], count[1], count[2]))
    right = reshape(_order(b, lb, batch + summed + free_b), (count[0], count[2], count[3]))
    product = matmul(left, right)
    letters = batch + free_a + free_b
    return reshape(product, tuple(size[c] for c in letters)), "".join(letters)


def _order(x: Tensor, letters: str, wanted: list[str]) -> Tensor:
    perm = [letters.index(c) for c in wanted]
    return transpose(x, tuple(perm)) if perm != list(range(len(perm))) else x
