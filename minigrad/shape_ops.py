"""Shape ops with PyTorch's names and semantics, composed from the movement and indexing
primitives (reshape, transpose, broadcast_to, index, index_add, where), so each has its
gradient to any order, its drawing and its mg.jit lowering without a row of its own.

Dims are PyTorch's: negative dims count from the end; a dim out of range is an error that
names the dim, the op and the tensor's shape.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._state import STATE
from .errors import ArgumentError, ArgumentTypeError, OutOfRangeError
from .ops import add, broadcast_to, index, index_add, reshape, sum, transpose, where
from .tensor import Tensor

Dims = int | Sequence[int]


def as_tensor_input(x: Any) -> Tensor:
    """``x`` as a Tensor (numbers and arrays become leaves)."""
    return x if isinstance(x, Tensor) else Tensor(x)


def dim_index(dim: int, ndim: int, op: str, extra: int = 0) -> int:
    """``dim`` in [-ndim - extra, ndim + extra) as a non-negative dim (a 0-d tensor takes
    -1 and 0, as in PyTorch); ``extra`` = 1 for the new dim of unsqueeze/stack."""
    size = max(ndim + extra, 1)
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or not -size <= dim < size:
        raise OutOfRangeError(f"{op}: dim {dim!r} is out of range for a tensor with {ndim} "
                              f"dimensions (expected one in [{-size}, {size - 1}])")
    return int(dim) % size


def _dims(dims: Any) -> tuple[Any, ...]:
    """``f(x, 0, 1)`` and ``f(x, (0, 1))`` both give (0, 1)."""
    if len(dims) == 1 and isinstance(dims[0], Sequence):
        return tuple(dims[0])
    return tuple(dims)


def _distinct_dims(named: tuple[Any, ...], ndim: int, op: str) -> set[int]:
    """``named`` dims as non-negative dims, refused when one is named twice (1 and -1 of a
    2-D tensor too), as PyTorch does: flipping or squeezing a dim "twice" has no meaning."""
    chosen = [dim_index(d, ndim, op) for d in named]
    repeated = sorted({d for d in chosen if chosen.count(d) > 1})
    if repeated:
        raise ArgumentError(f"{op}: dim {repeated[0]} appears more than once in dims "
                            f"{tuple(named)} (tensor with {ndim} dimensions)")
    return set(chosen)


def _along(dim: int, part: Any) -> tuple[Any, ...]:
    """An index key selecting ``part`` along ``dim`` and everything along the dims before."""
    return (*([slice(None)] * dim), part)


# ------------------------------------------------------------------------ permutations
def permute(x: Any, *dims: int | Sequence[int]) -> Tensor:
    """The dims of ``x`` reordered: out.shape[i] = x.shape[dims[i]]."""
    x = as_tensor_input(x)
    order = _dims(dims)
    if len(order) != x.ndim:
        raise ArgumentError(f"permute: {len(order)} dims {order} given for a tensor of shape "
                            f"{x.shape}")
    perm = tuple(dim_index(d, x.ndim, "permute") for d in order)
    if len(set(perm)) != len(perm):
        raise ArgumentError(f"permute: repeated dim in {order}")
    return transpose(x, perm)


def swapdims(x: Any, dim0: int, dim1: int) -> Tensor:
    """``x`` with dims ``dim0`` and ``dim1`` exchanged (``torch.transpose(x, dim0, dim1)``)."""
    x = as_tensor_input(x)
    perm = list(range(x.ndim))
    a, b = dim_index(dim0, x.ndim, "transpose"), dim_index(dim1, x.ndim, "transpose")
    if not x.ndim:  # a 0-d tensor takes dims 0 and -1 and stays itself
        return x
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(x, tuple(perm))


def t(x: Any) -> Tensor:
    """The transpose of a matrix; 0-d and 1-D tensors are returned as they are."""
    x = as_tensor_input(x)
    if x.ndim > 2:
        raise ArgumentError(f"t() expects a tensor with <= 2 dimensions, got shape {x.shape} "
                            "(use mT or transpose(x, dim0, dim1))")
    return swapdims(x, 0, 1) if x.ndim == 2 else x


def matrix_transpose(x: Any) -> Tensor:
    """The last two dims exchanged (``x.mT``), for batches of matrices."""
    x = as_tensor_input(x)
    if x.ndim < 2:
        raise ArgumentError(f"mT: needs a tensor with at least 2 dimensions, got shape {x.shape}")
    return swapdims(x, -2, -1)


def movedim(x: Any, source: Dims, destination: Dims) -> Tensor:
    """``x`` with the dims ``source`` moved to positions ``destination``; the other dims keep
    their order."""
    x = as_tensor_input(x)
    src = (source,) if isinstance(source, int | np.integer) else tuple(source)
    dst = (destination,) if isinstance(destination, int | np.integer) else tuple(destination)
    if len(src) != len(dst):
        raise ArgumentError(f"movedim: source {src} and destination {dst} differ in length")
    src = tuple(dim_index(d, x.ndim, "movedim") for d in src)
    dst = tuple(dim_index(d, x.ndim, "movedim") for d in dst)
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ArgumentError(f"movedim: repeated dim in source {source} or destination "
                            f"{destination}")
    rest = iter(d for d in range(x.ndim) if d not in src)
    placed = dict(zip(dst, src, strict=True))
    return transpose(x, tuple(placed[i] if i in placed else next(rest) for i in range(x.ndim)))


# ---------------------------------------------------------------------- adding/removing
def unsqueeze(x: Any, dim: int) -> Tensor:
    """``x`` with a new dim of size 1 at ``dim`` (in [-ndim - 1, ndim])."""
    x = as_tensor_input(x)
    d = dim_index(dim, x.ndim, "unsqueeze", extra=1)
    return reshape(x, (*x.shape[:d], 1, *x.shape[d:]))


def squeeze(x: Any, dim: Dims | None = None) -> Tensor:
    """``x`` without its size-1 dims (only those among ``dim`` when given; a named dim of
    another size is kept, as in PyTorch)."""
    x = as_tensor_input(x)
    if dim is None:
        chosen = set(range(x.ndim))
    else:
        named = (dim,) if isinstance(dim, int | np.integer) else tuple(dim)
        chosen = _distinct_dims(named, x.ndim, "squeeze")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if not (i in chosen and n == 1)))


def expand(x: Any, *sizes: int | Sequence[int]) -> Tensor:
    """``x`` repeated along size-1 dims (and new leading dims) to ``sizes``; -1 keeps a
    dim's size."""
    x = as_tensor_input(x)
    target = _dims(sizes)
    lead = len(target) - x.ndim
    if lead < 0:
        raise ArgumentError(f"expand: {len(target)} sizes {target} are fewer than the dims of "
                            f"shape {x.shape}")
    shape = []
    for i, n in enumerate(target):
        if n == -1 and i < lead:
            raise ArgumentError(f"expand: -1 is not allowed for a new leading dim, got {target}")
        shape.append(x.shape[i - lead] if n == -1 else int(n))
    return broadcast_to(x, tuple(shape))


def repeat(x: Any, *repeats: int | Sequence[int]) -> Tensor:
    """``x`` tiled ``repeats[i]`` times along dim i (``torch.Tensor.repeat``, numpy's tile):
    each dim of size n becomes (r, n) by broadcasting, then r * n by a reshape."""
    x = as_tensor_input(x)
    counts = tuple(int(r) for r in _dims(repeats))
    if len(counts) < x.ndim or any(r < 0 for r in counts):
        raise ArgumentError(f"repeat: needs at least {x.ndim} non-negative repeats for shape "
                            f"{x.shape}, got {counts}")
    shape = (1,) * (len(counts) - x.ndim) + x.shape
    spread = reshape(x, tuple(s for n in shape for s in (1, n)))
    tiled = broadcast_to(spread, tuple(s for r, n in zip(counts, shape, strict=True)
                                       for s in (r, n)))
    return reshape(tiled, tuple(r * n for r, n in zip(counts, shape, strict=True)))


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """``x`` with dims start_dim .. end_dim merged into one (a 0-d tensor becomes 1-D)."""
    x = as_tensor_input(x)
    if x.ndim == 0:
        return reshape(x, (1,))
    start = dim_index(start_dim, x.ndim, "flatten")
    end = dim_index(end_dim, x.ndim, "flatten")
    if start > end:
        raise ArgumentError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                            f"for shape {x.shape}")
    merged = math.prod(x.shape[start:end + 1])
    return reshape(x, (*x.shape[:start], merged, *x.shape[end + 1:]))


def unflatten(x: Any, dim: int, sizes: Sequence[int]) -> Tensor:
    """``x`` with dim ``dim`` split into ``sizes`` (one may be -1)."""
    x = as_tensor_input(x)
    d = dim_index(dim, x.ndim, "unflatten")
    sizes = tuple(int(n) for n in sizes)
    known = math.prod(n for n in sizes if n != -1)
    if sizes.count(-1) > 1 or (-1 not in sizes and known != x.shape[d]) or (
            -1 in sizes and (known == 0 or x.shape[d] % known)):
        raise ArgumentError(f"unflatten: sizes {sizes} do not fit dim {dim} of size "
                            f"{x.shape[d]} (shape {x.shape})")
    return reshape(x, (*x.shape[:d], *sizes, *x.shape[d + 1:]))


# ----------------------------------------------------------------------- split and join
def split(x: Any, split_size_or_sections: int | Sequence[int], dim: int = 0
          ) -> tuple[Tensor, ...]:
    """Pieces of ``x`` along ``dim``: of ``split_size`` each (the last may be smaller), or of
    the given section sizes (which must add up to the dim's size)."""
    x = as_tensor_input(x)
    d = dim_index(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int | np.integer):
        size = int(split_size_or_sections)
        if size <= 0 and n > 0:
            raise ArgumentError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, n - start) for start in range(0, n, size)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum_of(sizes) != n or any(s < 0 for s in sizes):
            raise ArgumentError(f"split: sections {sizes} do not add up to {n}, the size of dim "
                                f"{dim} (shape {x.shape})")
    starts = np.cumsum([0, *sizes])
    return tuple(index(x, _along(d, slice(int(a), int(b))))
                 for a, b in itertools.pairwise(starts))


def sum_of(values: Sequence[int]) -> int:
    """The sum of Python integers (``sum`` here is minigrad's)."""
    return int(np.sum(values, dtype=np.int64)) if len(values) else 0


def chunk(x: Any, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """``x`` split along ``dim`` into pieces of ceil(size / chunks) (so maybe fewer than
    ``chunks`` pieces, as in PyTorch)."""
    x = as_tensor_input(x)
    if isinstance(chunks, bool) or not isinstance(chunks, int | np.integer) or chunks <= 0:
        raise ArgumentError(f"chunk: chunks must be a positive integer, got {chunks!r}")
    n = x.shape[dim_index(dim, x.ndim, "chunk")]
    return split(x, max(-(-n // int(chunks)), 1), dim)


def unbind(x: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices of ``x`` along ``dim``, that dim removed."""
    x = as_tensor_input(x)
    d = dim_index(dim, x.ndim, "unbind")
    return tuple(index(x, _along(d, i)) for i in range(x.shape[d]))


def _common_dtype(tensors: Sequence[Tensor]) -> np.dtype:
    """PyTorch's promotion among tensors: the widest of the highest kind present (float over
    integer over bool), so int64 with float32 gives float32 (numpy: float64)."""
    dtypes = [t.dtype for t in tensors]
    for kinds in ("f", "iu"):
        chosen = [d for d in dtypes if d.kind in kinds]
        if chosen:
            return np.result_type(*chosen)
    return dtypes[0]


def cat(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """The tensors joined along ``dim`` (all other sizes equal): pairs joined as the sum of
    each placed into zeros of their joint shape (index_add), so the gradient of each is its
    slice; pairs of pairs next (a balanced tree: log2(n) passes over the data, not n).
    Outside the graph (nothing requires grad, nothing records) numpy joins them at once."""
    parts = [as_tensor_input(v) for v in tensors]
    if not parts:
        raise ArgumentError("cat: expected a non-empty sequence of tensors")
    first = parts[0]
    d = dim_index(dim, first.ndim, "cat")
    for k, part in enumerate(parts):
        others = [(a, b) for i, (a, b) in enumerate(zip(part.shape, first.shape, strict=False))
                  if i != d]
        if part.ndim != first.ndim or any(a != b for a, b in others):
            raise ArgumentError(f"cat: tensor {k} has shape {part.shape}, tensor 0 has shape "
                                f"{first.shape}: sizes must match except in dim {dim}")
    dtype = _common_dtype(parts)
    parts = [part if part.dtype == dtype else part.astype(dtype) for part in parts]
    if not STATE.recording and not (STATE.grad_enabled and any(p.requires_grad
                                                               for p in parts)):
        return Tensor._leaf_like(np.concatenate([part.data for part in parts], axis=d))
    while len(parts) > 1:
        pairs = [parts[k:k + 2] for k in range(0, len(parts), 2)]
        parts = [_join(pair, d) if len(pair) == 2 else pair[0] for pair in pairs]
    return parts[0]


def _join(pair: list[Tensor], d: int) -> Tensor:
    """Two tensors joined along dim d: index_add(a) + index_add(b) into their joint shape."""
    a, b = pair
    n, m = a.shape[d], b.shape[d]
    shape = (*a.shape[:d], n + m, *a.shape[d + 1:])
    return add(index_add(a, _along(d, slice(0, n)), shape),
               index_add(b, _along(d, slice(n, n + m)), shape))


def stack(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """The tensors (all of one shape) joined along a new dim ``dim``."""
    parts = [as_tensor_input(v) for v in tensors]
    if not parts:
        raise ArgumentError("stack: expected a non-empty sequence of tensors")
    for k, part in enumerate(parts):
        if part.shape != parts[0].shape:
            raise ArgumentError(f"stack: tensor {k} has shape {part.shape}, tensor 0 has shape "
                                f"{parts[0].shape}: all must have one shape")
    d = dim_index(dim, parts[0].ndim, "stack", extra=1)
    return cat([unsqueeze(part, d) for part in parts], d)


# ------------------------------------------------------------------- reorder elements
def flip(x: Any, dims: Dims) -> Tensor:
    """``x`` with the order of elements reversed along ``dims``."""
    x = as_tensor_input(x)
    named = (dims,) if isinstance(dims, int | np.integer) else tuple(dims)
    chosen = _distinct_dims(named, x.ndim, "flip")
    if not chosen or x.ndim == 0:
        return x
    return index(x, tuple(slice(None, None, -1) if i in chosen else slice(None)
                          for i in range(x.ndim)))


def roll(x: Any, shifts: Dims, dims: Dims | None = None) -> Tensor:
    """``x`` shifted circularly by ``shifts`` along ``dims``: out[i] = x[(i - shift) mod n];
    without dims, over the flattened tensor (shape kept)."""
    x = as_tensor_input(x)
    if dims is None:
        if not isinstance(shifts, int | np.integer):
            if len(shifts) != 1:
                raise ArgumentError(f"roll: without dims, shifts must be one integer (or a "
                                    f"sequence of one), got {shifts}")
            shifts = shifts[0]
        return reshape(roll(reshape(x, (-1,)), shifts, 0), x.shape)
    shift_list = (shifts,) if isinstance(shifts, int | np.integer) else tuple(shifts)
    dim_list = (dims,) if isinstance(dims, int | np.integer) else tuple(dims)
    if len(shift_list) != len(dim_list):
        raise ArgumentError(f"roll: shifts {shifts} and dims {dims} differ in length")
    out = x
    for shift, dim in zip(shift_list, dim_list, strict=True):
        d = dim_index(dim, x.ndim, "roll")
        n = x.shape[d]
        if n and int(shift) % n:
            out = index(out, _along(d, (np.arange(n) - int(shift)) % n))
    return out


def take_along_dim(x: Any, indices: Any, dim: int | None = None) -> Tensor:
    """Values of ``x`` at ``indices`` along ``dim`` (x and indices broadcast in the other
    dims); without dim, over the flattened x."""
    from .ops import gather

    x, idx = as_tensor_input(x), as_tensor_input(indices)
    if idx.dtype.kind not in "iu":
        raise ArgumentTypeError(f"take_along_dim: indices must be integers, got dtype {idx.dtype}")
    if dim is None:
        return gather(reshape(x, (-1,)), reshape(idx, (-1,)), 0)
    if idx.ndim != x.ndim:
        raise ArgumentError(f"take_along_dim: indices of shape {idx.shape} need as many dims "
                            f"as the input of shape {x.shape}")
    d = dim_index(dim, x.ndim, "take_along_dim")
    try:
        others = np.broadcast_shapes(*((*s[:d], 1, *s[d + 1:]) for s in (x.shape, idx.shape)))
    except ValueError:
        raise ArgumentError(f"take_along_dim: input {x.shape} and indices {idx.shape} cannot "
                            f"be broadcast outside dim {dim}") from None
    x = broadcast_to(x, (*others[:d], x.shape[d], *others[d + 1:]))
    idx = broadcast_to(idx, (*others[:d], idx.shape[d], *others[d + 1:]))
    return gather(x, idx, d)


# ------------------------------------------------------------------- triangles, diagonals
def _triangle(x: Any, diagonal: int, lower: bool, op: str) -> Tensor:
    x = as_tensor_input(x)
    if x.ndim < 2:
        raise ArgumentError(f"{op}: needs a tensor with at least 2 dimensions, got shape {x.shape}")
    rows, cols = x.shape[-2:]
    keep = np.tri(rows, cols, int(diagonal), dtype=bool)
    keep = keep if lower else ~np.tri(rows, cols, int(diagonal) - 1, dtype=bool)
    return where(Tensor(keep), x, np.zeros((), x.dtype))


def tril(x: Any, diagonal: int = 0) -> Tensor:
    """The lower triangle of (each matrix of) ``x``: x[..., i, j] where j - i <= diagonal,
    else 0."""
    return _triangle(x, diagonal, True, "tril")


def triu(x: Any, diagonal: int = 0) -> Tensor:
    """The upper triangle: x[..., i, j] where j - i >= diagonal, else 0."""
    return _triangle(x, diagonal, False, "triu")


def _diagonal_positions(rows: int, cols: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the ``offset`` diagonal of a rows x cols matrix."""
    start_row, start_col = max(-offset, 0), max(offset, 0)
    length = max(min(rows - start_row, cols - start_col), 0)
    steps = np.arange(length)
    return start_row + steps, start_col + steps


def diagonal(x: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The ``offset`` diagonal of the matrices spanned by dims dim1 and dim2, as a new last
    dim (the other dims kept in order)."""
    return _diagonal(as_tensor_input(x), int(offset), dim1, dim2)


def _diagonal(x: Tensor, offset: int, dim1: int, dim2: int) -> Tensor:
    if x.ndim < 2:
        raise ArgumentError(f"diagonal: needs a tensor with at least 2 dimensions, got shape "
                            f"{x.shape}")
    a, b = dim_index(dim1, x.ndim, "diagonal"), dim_index(dim2, x.ndim, "diagonal")
    if a == b:
        raise ArgumentError(f"diagonal: dim1 and dim2 are the same dim {dim1} (shape {x.shape})")
    moved = movedim(x, (a, b), (-2, -1))
    rows, cols = _diagonal_positions(*moved.shape[-2:], offset)
    return index(moved, (*([slice(None)] * (x.ndim - 2)), rows, cols))


def diag(x: Any, diagonal: int = 0) -> Tensor:
    """A 1-D ``x`` placed on the ``diagonal`` of a square matrix (zeros elsewhere), or the
    ``diagonal`` of a 2-D ``x`` as a 1-D tensor."""
    x = as_tensor_input(x)
    if x.ndim == 2:
        return _diagonal(x, int(diagonal), 0, 1)
    if x.ndim != 1:
        raise ArgumentError(f"diag: needs a 1-D or 2-D tensor, got shape {x.shape}")
    n = x.shape[0] + abs(int(diagonal))
    rows, cols = _diagonal_positions(n, n, int(diagonal))
    return index_add(x, (rows, cols), (n, n))


def trace(x: Any) -> Tensor:
    """The sum of the main diagonal of a matrix."""
    x = as_tensor_input(x)
    if x.ndim != 2:
        raise ArgumentError(f"trace: needs a 2-D tensor, got shape {x.shape}")
    return sum(diagonal(x))


# ------------------------------------------------------------------------------ padding
PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(x: Any, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """``x`` padded as ``torch.nn.functional.pad``: ``pad`` = (left, right) of the last dim,
    then of the dim before it, and so on (negative amounts crop). ``constant`` fills with
    ``value``; ``reflect`` mirrors without repeating the edge (x[1], x[0] | x[0], x[1] ...),
    ``replicate`` repeats the edge, ``circular`` wraps around. The constant mode places x into
    zeros (index_add) and adds the border; the others gather along each dim (index)."""
    x = as_tensor_input(x)
    amounts = [int(p) for p in pad]
    if len(amounts) % 2 or len(amounts) // 2 > x.ndim:
        raise ArgumentError(f"pad: {len(amounts)} amounts {tuple(amounts)} must come in (left, "
                            f"right) pairs, at most one per dim of shape {x.shape}")
    if mode not in PAD_MODES:
        raise ArgumentError(f"pad: mode must be one of {PAD_MODES}, got {mode!r}")
    widths = {x.ndim - 1 - k: (amounts[2 * k], amounts[2 * k + 1])
              for k in range(len(amounts) // 2)}
    for d, (left, right) in widths.items():
        if x.shape[d] + left + right < 0:
            raise ArgumentError(f"pad: amounts ({left}, {right}) leave a negative size for dim "
                                f"{d} of shape {x.shape}")
    if mode == "constant":
        return _pad_constant(x, widths, value)
    out = x
    for d, (left, right) in widths.items():
        out = index(out, _along(d, _pad_sources(x.shape[d], left, right, mode, d)))
    return out


def _pad_sources(n: int, left: int, right: int, mode: str, dim: int) -> np.ndarray:
    """For each position of the padded dim, the position of x it copies."""
    if mode == "circular":
        return _circular_sources(n, left, right, dim)
    limit = n - 1 if mode == "reflect" else n
    if (mode != "replicate" and max(left, right) > limit) or n == 0:
        raise ArgumentError(f"pad: {mode} padding ({left}, {right}) of dim {dim} must be "
                            f"{'less than' if mode == 'reflect' else 'at most'} its size {n}")
    positions = np.arange(-left, n + right)
    if mode == "reflect":
        positions = np.abs(positions)
        return np.where(positions >= n, 2 * (n - 1) - positions, positions)
    if mode == "replicate":
        return np.clip(positions, 0, n - 1)
    return positions % n


def _circular_sources(n: int, left: int, right: int, dim: int) -> np.ndarray:
    """Circular padding as PyTorch's: a negative amount crops first, and the wrap-around
    copies from what is left (pad (1, -1) of [0 1 2 3 4] is [3 0 1 2 3], not [4 0 1 2 3]);
    on the right it wraps again past that size (up to the dim's size, PyTorch's limit). A
    left amount beyond what is left is refused: PyTorch reads memory it never wrote there."""
    start, kept = max(-left, 0), n - max(-left, 0) - max(-right, 0)
    if n + left + right == 0 and right >= -n:  # nothing left to show (PyTorch: empty)
        return np.arange(0)
    if kept <= 0 or left > kept or right > n:
        raise ArgumentError(f"pad: circular padding ({left}, {right}) of dim {dim} (size {n}, "
                            f"{max(kept, 0)} left after cropping) must leave at least one "
                            f"element, pad at most that many on the left and at most {n} "
                            f"on the right")
    return start + np.arange(-max(left, 0), kept + max(right, 0)) % kept


def _pad_constant(x: Tensor, widths: dict[int, tuple[int, int]], value: float) -> Tensor:
    crop = tuple(slice(max(-widths[d][0], 0), x.shape[d] - max(-widths[d][1], 0))
                 if d in widths else slice(None) for d in range(x.ndim))
    if any(max(-left, 0) or max(-right, 0) for left, right in widths.values()):
        x = index(x, crop)
    grow = {d: (max(left, 0), max(right, 0)) for d, (left, right) in widths.items()}
    shape = tuple(n + sum_of(grow.get(d, (0, 0))) for d, n in enumerate(x.shape))
    if shape == x.shape:
        return x
    inside = tuple(slice(grow[d][0], grow[d][0] + n) if d in grow else slice(None)
                   for d, n in enumerate(x.shape))
    placed = index_add(x, inside, shape)
    if value == 0:
        return placed
    border = np.full(shape, value, dtype=x.dtype)
    border[inside] = 0
    return add(placed, Tensor(border))
