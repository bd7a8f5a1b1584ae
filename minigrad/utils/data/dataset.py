"""Data sets: ``Dataset``, ``TensorDataset``, ``Subset``, ``ConcatDataset``,
``IterableDataset`` and ``random_split``, with torch.utils.data's semantics."""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from ...errors import ArgumentError, ArgumentTypeError, OutOfRangeError
from ...tensor import Tensor
from .sampler import GeneratorLike, as_generator


class Dataset:
    """A map-style data set: ``dataset[i]`` for 0 <= i < ``len(dataset)``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset:
    """A data set read as a stream: ``iter(dataset)`` yields the samples."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


def _row(value: Any, index: Any) -> Any:
    """Row ``index`` of a tensor (a new leaf: reading data builds no graph) or array."""
    if isinstance(value, Tensor):
        return Tensor(value.data[index])
    return value[index]


class TensorDataset(Dataset):
    """Sample i is ``tuple(t[i] for t in tensors)``; every tensor (minigrad tensor or
    numpy array) has the same first dimension."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ArgumentError("TensorDataset needs at least one tensor")
        sizes = [len(t) if not hasattr(t, "shape") else (t.shape[0] if t.shape else None)
                 for t in tensors]
        if None in sizes or len(set(sizes)) != 1:
            shapes = [tuple(getattr(t, "shape", (len(t),))) for t in tensors]
            raise ArgumentError(f"TensorDataset: size mismatch between tensors: every tensor "
                                f"needs the same first dimension, got shapes {shapes}")
        self.tensors = tensors

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        return tuple(_row(t, index) for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = list(indices)

    def __getitem__(self, index: int | list[int]) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several map-style data sets one after the other."""

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ArgumentError("ConcatDataset: datasets should not be an empty iterable")
        for dataset in self.datasets:
            if isinstance(dataset, IterableDataset):
                raise ArgumentTypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        if index < 0:
            if -index > len(self):
                raise OutOfRangeError(f"index {index} is out of range for a ConcatDataset of "
                                      f"length {len(self)}")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def _lengths(total: int, lengths: Sequence[float]) -> list[int]:
    """Integer lengths; fractions summing to 1 become floor(total * f), the remainder
    handed out one by one from the first split (PyTorch's rule)."""
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for k, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ArgumentError(f"random_split: fraction at index {k} is not between 0 "
                                    f"and 1: {fraction}")
        sizes = [math.floor(total * f) for f in lengths]
        for k in range(total - sum(sizes)):
            sizes[k % len(sizes)] += 1
        for k, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"random_split: length of split at index {k} is 0",
                              stacklevel=3)
        return sizes
    sizes = [int(n) for n in lengths]
    if sizes != list(lengths) or any(n < 0 for n in sizes):
        raise ArgumentError(f"random_split: lengths must be non-negative integers or fractions "
                            f"summing to 1, got {list(lengths)}")
    if sum(sizes) != total:
        raise ArgumentError(f"random_split: sum of input lengths ({sum(sizes)}) does not equal "
                            f"the length of the input dataset ({total})")
    return sizes


def random_split(dataset: Any, lengths: Sequence[float],
                 generator: GeneratorLike = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths (or
    fractions). ``generator``: a seed or a ``numpy.random.Generator`` (None: minigrad's
    global generator, so ``mg.manual_seed`` makes the split reproducible)."""
    sizes = _lengths(len(dataset), lengths)
    order = as_generator(generator).permutation(sum(sizes)).tolist()
    ends = list(itertools.accumulate(sizes))
    return [Subset(dataset, order[end - size:end]) for end, size in zip(ends, sizes,
                                                                       strict=True)]


__all__ = ["ConcatDataset", "Dataset", "IterableDataset", "Subset", "TensorDataset",
           "random_split"]
