"""``DataLoader`` and ``default_collate``: batches of a data set, as torch.utils.data
makes them (samples read in the main process, in sampler order)."""

from __future__ import annotations

from collections import abc
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from ...errors import ArgumentError, ArgumentTypeError
from ...tensor import Tensor
from .dataset import IterableDataset
from .sampler import BatchSampler, GeneratorLike, RandomSampler, SequentialSampler


def _stack(arrays: list[np.ndarray]) -> Tensor:
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise RuntimeError(f"default_collate: stack expects each tensor to be equal size, "
                           f"got shapes {sorted(shapes)}")
    return Tensor(np.stack(arrays))


def default_collate(batch: list[Any]) -> Any:
    """Stack a list of samples into a batch, keeping their structure (PyTorch's rules):
    tensors and numpy arrays are stacked along a new first axis; Python floats become a
    float64 tensor, ints an int64 tensor, bools a bool tensor; strings stay a list; dicts
    collate per key; namedtuples per field; tuples and lists per position (a list back)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([t.data for t in batch])
    if isinstance(elem, np.ndarray) and elem.dtype.kind not in "SUO":
        return _stack([np.asarray(a) for a in batch])
    if isinstance(elem, np.generic) and elem.dtype.kind not in "SUO":
        return Tensor(np.array(batch))
    if isinstance(elem, bool):
        return Tensor(np.array(batch, dtype=bool))
    if isinstance(elem, float):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, abc.Mapping):
        return _same_type(elem, {key: default_collate([d[key] for d in batch])
                                 for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch, strict=True)))
    if isinstance(elem, abc.Sequence):
        if len({len(sample) for sample in batch}) != 1:
            raise RuntimeError("default_collate: each element in list of batch should be "
                               f"of equal size, got sizes {[len(s) for s in batch]}")
        return [default_collate(list(s)) for s in zip(*batch, strict=True)]
    raise ArgumentTypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                            f"dicts or lists; found {type(elem).__name__}")


def _same_type(elem: abc.Mapping, items: dict) -> Any:
    try:
        return type(elem)(items)
    except TypeError:  # a mapping type that cannot be built from a dict
        return items


def default_convert(sample: Any) -> Any:
    """A sample read without batching (``batch_size=None``): numpy arrays and numpy
    scalars become tensors, containers are converted item by item."""
    if isinstance(sample, np.ndarray | np.generic) and sample.dtype.kind not in "SUO":
        return Tensor(np.asarray(sample))
    if isinstance(sample, abc.Mapping):
        return _same_type(sample, {k: default_convert(v) for k, v in sample.items()})
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(v) for v in sample))
    if isinstance(sample, (list, tuple)):  # a tuple gives a list, as in PyTorch
        return [default_convert(v) for v in sample]
    return sample


def _check_exclusive(dataset: Any, batch_size: int | None, shuffle: bool | None,
                     sampler: Any, batch_sampler: Any, drop_last: bool) -> None:
    """PyTorch's refusals of option combinations that contradict each other."""
    if isinstance(dataset, IterableDataset):
        if shuffle or sampler is not None or batch_sampler is not None:
            raise ArgumentError("DataLoader with IterableDataset: expected unspecified shuffle, "
                                "sampler and batch_sampler options")
    elif batch_sampler is not None:
        if batch_size != 1 or shuffle or sampler is not None or drop_last:
            raise ArgumentError("batch_sampler option is mutually exclusive with batch_size, "
                                "shuffle, sampler, and drop_last")
    elif sampler is not None and shuffle:
        raise ArgumentError("sampler option is mutually exclusive with shuffle")


class DataLoader:
    """Iterate a data set in batches: ``batch_size``, ``shuffle`` (a new order each epoch,
    reproducible with ``generator``: a seed or ``numpy.random.Generator``), ``drop_last``,
    ``sampler`` / ``batch_sampler``, ``collate_fn`` (default: ``default_collate``).
    ``batch_size=None`` yields single samples. Loading runs in this process whatever
    ``num_workers`` says (the batches are the same)."""

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Iterable[Any] | None = None,
                 batch_sampler: Iterable[list[int]] | None = None, num_workers: int = 0,
                 collate_fn: Callable[[list[Any]], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False,
                 generator: GeneratorLike = None, **_ignored: Any) -> None:
        if num_workers < 0:
            raise ArgumentError(f"num_workers option should be non-negative, got {num_workers}")
        self.dataset, self.num_workers, self.pin_memory = dataset, num_workers, pin_memory
        self.batch_size, self.drop_last, self.generator = batch_size, drop_last, generator
        _check_exclusive(dataset, batch_size, shuffle, sampler, batch_sampler, drop_last)
        if batch_sampler is not None:
            self.batch_size, self.drop_last = None, False
        if sampler is None and not isinstance(dataset, IterableDataset):
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_sampler is None and batch_size is not None and sampler is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.sampler, self.batch_sampler = sampler, batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if self.batch_size is not None or \
                batch_sampler is not None else default_convert
        self.collate_fn = collate_fn

    def __iter__(self) -> Iterator[Any]:
        if isinstance(self.dataset, IterableDataset):
            return self._iterable_batches()
        if self.batch_sampler is not None:
            return (self.collate_fn(self._fetch(batch)) for batch in self.batch_sampler)
        return (self.collate_fn(self.dataset[k]) for k in self.sampler)  # type: ignore

    def _fetch(self, indices: list[int]) -> list[Any]:
        many = getattr(self.dataset, "__getitems__", None)
        return many(indices) if many is not None else [self.dataset[k] for k in indices]

    def _iterable_batches(self) -> Iterator[Any]:
        samples = iter(self.dataset)
        if self.batch_size is None:
            yield from (self.collate_fn(s) for s in samples)
            return
        while batch := [s for _, s in zip(range(self.batch_size), samples, strict=False)]:
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            count = len(self.dataset)  # type: ignore[arg-type]
            if self.batch_size is None:
                return count
            return count // self.batch_size if self.drop_last else -(-count // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)  # type: ignore[arg-type]
        return len(self.sampler)  # type: ignore[arg-type]
