"""Embedding: a lookup table of rows, learned (PyTorch's ``nn.Embedding``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _state, ops
from ..dtypes import default_float, resolve_dtype
from ..errors import ArgumentError, ArgumentTypeError, OutOfRangeError
from ..tensor import Tensor, read_values
from .module import Module, Parameter


def _padding_index(padding_idx: int | None, rows: int) -> int | None:
    """padding_idx as a row in [0, rows) (negative counts from the end), or None."""
    if padding_idx is None:
        return None
    if not -rows <= padding_idx < rows:
        raise ArgumentError(f"Embedding: padding_idx {padding_idx} must be within "
                            f"[-{rows}, {rows}) for num_embeddings {rows}")
    return padding_idx % rows


def embedding(indices: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """weight[indices]: one row per index (output shape indices.shape + (dim,)).

    An index outside [0, rows) raises OutOfRangeError, eagerly and (through the
    ``require_range`` row) in every mg.jit call. The gradient adds each output row's
    gradient into the row it came from (the index op's VJP); rows at ``padding_idx`` are
    read from a detached weight, so that row gets no gradient (PyTorch's rule).
    """
    array = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if array.dtype.kind not in "iu":
        raise ArgumentTypeError(f"embedding: indices must be integers, got dtype {array.dtype}")
    rows = weight.shape[0]
    bad = np.flatnonzero((array < 0) | (array >= rows))
    if bad.size:
        raise OutOfRangeError(f"embedding: index {int(array.reshape(-1)[bad[0]])} is out of "
                              f"range for {rows} embeddings (valid: 0..{rows - 1})")
    key = indices if isinstance(indices, Tensor) else Tensor(array)
    # checked above with the index's value; the check row makes mg.jit repeat it at every
    # call (the compiled index would take -1 as the last row)
    key = ops.require_range(key, 0, rows - 1, f"embedding: an index is out of range for "
                            f"{rows} embeddings (valid: 0..{rows - 1})", index=True)
    out = ops.index(weight, key)
    if padding_idx is None:
        return out
    pad = _padding_index(padding_idx, rows)
    is_pad = ops.reshape(ops.equal(key, pad), (*array.shape, 1))
    return ops.where(is_pad, ops.index(weight.detach(), key), out)


class Embedding(Module):
    """A table of ``num_embeddings`` rows of size ``embedding_dim``, initialised N(0, 1)
    (the ``padding_idx`` row zero, and never updated by gradients)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 _weight: Any = None, _freeze: bool = False, dtype: Any = None) -> None:
        super().__init__()
        if int(num_embeddings) < 1 or int(embedding_dim) < 1:
            raise ArgumentError(f"Embedding: num_embeddings and embedding_dim must be >= 1, got "
                                f"{num_embeddings} and {embedding_dim}")
        self.num_embeddings = int(num_embeddings)
        self.embedding_dim = int(embedding_dim)
        self.padding_idx = _padding_index(padding_idx, self.num_embeddings)
        dtype = resolve_dtype(dtype) if dtype is not None else default_float()
        if _weight is None:
            values = np.zeros((self.num_embeddings, self.embedding_dim), dtype)
            self.weight = Parameter(values, requires_grad=not _freeze, name="E")
            self.reset_parameters()
        else:
            values = np.asarray(read_values(_weight) if isinstance(_weight, Tensor) else _weight)
            if values.shape != (self.num_embeddings, self.embedding_dim):
                raise ArgumentError(f"Embedding: _weight has shape {values.shape}, expected "
                                    f"{(self.num_embeddings, self.embedding_dim)}")
            self.weight = Parameter(values, requires_grad=not _freeze, name="E")

    def reset_parameters(self) -> None:
        """weight ~ N(0, 1); the padding row zero."""
        values = _state.rng().standard_normal(self.weight.shape).astype(self.weight.dtype)
        if self.padding_idx is not None:
            values[self.padding_idx] = 0
        self.weight.assign_(values)

    def forward(self, indices: Any) -> Tensor:
        """The rows of ``weight`` at ``indices``."""
        return embedding(indices, self.weight, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True,
                        padding_idx: int | None = None) -> Embedding:
        """An Embedding holding ``embeddings`` (2-D); frozen unless ``freeze=False``."""
        shape = np.shape(embeddings.data if isinstance(embeddings, Tensor) else embeddings)
        if len(shape) != 2:
            raise ArgumentError(f"Embedding.from_pretrained: embeddings must be 2-D, got {shape}")
        return cls(shape[0], shape[1], padding_idx, _weight=embeddings, _freeze=freeze)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text if self.padding_idx is None else f"{text}, padding_idx={self.padding_idx}"
