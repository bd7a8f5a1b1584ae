"""Samplers: the order in which a ``DataLoader`` reads a map-style data set."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized
from typing import Any

import numpy as np

from ..._state import rng
from ...errors import ArgumentError, ArgumentTypeError

GeneratorLike = int | np.random.Generator | None


def as_generator(generator: GeneratorLike) -> np.random.Generator:
    """A numpy generator: the given one, a new one from a seed, or (None) one seeded from
    minigrad's global generator (reproducible after ``mg.manual_seed``)."""
    if isinstance(generator, np.random.Generator):
        return generator
    if generator is None:
        return np.random.default_rng(int(rng().integers(2**63)))
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise ArgumentTypeError(f"generator must be None, an int seed or a numpy.random.Generator, "
                            f"got {type(generator).__name__}")


class Sampler:
    """Yields indices (or lists of indices) into a data set."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError

    def __len__(self) -> int:
        raise ArgumentTypeError(f"{type(self).__name__} has no length")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A new random permutation every epoch (or ``num_samples`` draws with replacement).
    A seed or generator makes the epochs reproducible; each epoch advances it."""

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator: GeneratorLike = None) -> None:
        if not isinstance(replacement, bool):
            raise ArgumentTypeError(f"replacement should be a boolean value, got {replacement!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = None if generator is None else as_generator(generator)
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ArgumentError(f"num_samples should be a positive integer value, got "
                                f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n, generator = len(self.data_source), self._generator()
        if self.replacement:
            return iter(generator.integers(n, size=self.num_samples).tolist())
        rounds, rest = divmod(self.num_samples, n)
        order = [generator.permutation(n) for _ in range(rounds)]
        order.append(generator.permutation(n)[:rest])
        return iter(np.concatenate(order).tolist())

    def _generator(self) -> np.random.Generator:
        return self.generator if self.generator is not None else as_generator(None)

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a new random order every epoch."""

    def __init__(self, indices: Iterable[int], generator: GeneratorLike = None) -> None:
        self.indices = list(indices)
        self.generator = None if generator is None else as_generator(generator)

    def __iter__(self) -> Iterator[int]:
        generator = self.generator if self.generator is not None else as_generator(None)
        return iter([self.indices[k] for k in generator.permutation(len(self.indices))])

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of ``batch_size`` (the last one shorter
    unless ``drop_last``)."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ArgumentError(f"batch_size should be a positive integer value, got "
                                f"batch_size={batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ArgumentError(f"drop_last should be a boolean value, got {drop_last!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        count = len(self.sampler)  # type: ignore[arg-type]
        return count // self.batch_size if self.drop_last else -(-count // self.batch_size)
