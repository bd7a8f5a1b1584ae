"""Data sets, samplers and the ``DataLoader``, as in ``torch.utils.data``.

The toy data sets and MNIST/digits readers are in ``minigrad.data`` (numpy arrays);
wrap them with ``TensorDataset`` to batch them here."""

from .dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .loader import DataLoader, default_collate, default_convert
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
)

__all__ = ["BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset",
           "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler",
           "TensorDataset", "default_collate", "default_convert", "random_split"]
