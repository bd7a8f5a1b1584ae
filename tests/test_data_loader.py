"""minigrad.utils.data against torch.utils.data: batch composition without shuffling,
collation of tuples/dicts/namedtuples/numbers, random_split sizes, sampler lengths; and
shuffling reproducible by seed (the permutations themselves come from numpy, not torch)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import minigrad as mg
from minigrad.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)

Pair = namedtuple("Pair", ["x", "label"])


def _arrays(n: int = 10):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 3)), np.arange(n, dtype=np.int64) % 4


def _as_numpy(batch):
    """A batch (minigrad or torch) as nested lists/dicts of numpy arrays, types kept."""
    if hasattr(batch, "detach"):
        return batch.detach().numpy()
    if isinstance(batch, mg.Tensor):
        return batch.numpy()
    if isinstance(batch, dict):
        return {k: _as_numpy(v) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return ("namedtuple", type(batch).__name__, [_as_numpy(v) for v in batch])
    if isinstance(batch, (list, tuple)):
        return [type(batch).__name__, [_as_numpy(v) for v in batch]]
    return batch


def _assert_same(ours, theirs):
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray) and ours.dtype == theirs.dtype, (ours, theirs)
        np.testing.assert_array_equal(ours, theirs)
    elif isinstance(theirs, dict):
        assert list(ours) == list(theirs)
        for key in theirs:
            _assert_same(ours[key], theirs[key])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), (ours, theirs)
        for a, b in zip(ours, theirs, strict=True):
            _assert_same(a, b)
    else:
        assert ours == theirs


class _Samples(Dataset):
    """Samples of several kinds (the same list serves torch's Dataset protocol)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __len__(self) -> int:
        return 5

    def __getitem__(self, i: int):
        x = np.arange(3.0) + i
        return {
            "dict": {"x": x, "y": i, "name": f"s{i}", "w": 0.5 * i},
            "tuple": (x, i, np.float32(i / 2), True),
            "named": Pair(x, i),
            "nested": {"pair": (x, {"k": i}), "flag": i % 2 == 0},
        }[self.kind]


@pytest.mark.parametrize(("batch_size", "drop_last"), [(4, False), (4, True), (1, False),
                                                       (10, False), (3, True)])
def test_batches_without_shuffle_equal_torchs(batch_size, drop_last):
    torch = pytest.importorskip("torch")
    X, y = _arrays()
    ours = DataLoader(TensorDataset(mg.tensor(X), mg.tensor(y)), batch_size=batch_size,
                      drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(X), torch.tensor(y)),
        batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    ours_batches, their_batches = list(ours), list(theirs)
    assert len(ours_batches) == len(their_batches) == len(theirs)
    for a, b in zip(ours_batches, their_batches, strict=True):
        _assert_same(_as_numpy(a), _as_numpy(b))


@pytest.mark.parametrize("kind", ["dict", "tuple", "named", "nested"])
def test_default_collate_of_structured_samples_equals_torchs(kind):
    torch = pytest.importorskip("torch")
    data = _Samples(kind)
    ours = list(DataLoader(data, batch_size=2))
    theirs = list(torch.utils.data.DataLoader(data, batch_size=2))
    assert len(ours) == 3
    for a, b in zip(ours, theirs, strict=True):
        _assert_same(_as_numpy(a), _as_numpy(b))


def test_batch_size_none_yields_single_converted_samples():
    torch = pytest.importorskip("torch")
    data = _Samples("tuple")
    ours = list(DataLoader(data, batch_size=None))
    theirs = list(torch.utils.data.DataLoader(data, batch_size=None))
    for a, b in zip(ours, theirs, strict=True):
        _assert_same(_as_numpy(a), _as_numpy(b))


def test_collate_refuses_ragged_and_unknown_samples_naming_them():
    with pytest.raises(RuntimeError, match=r"equal size, got shapes \[\(2,\), \(3,\)\]"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match=r"equal size, got sizes \[2, 1\]"):
        default_collate([(1, 2), (3,)])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])


def _epoch_indices(loader) -> list[int]:
    return [int(i) for batch in loader for i in batch[1].numpy()]


def test_shuffle_is_reproducible_by_seed_and_covers_every_sample_once():
    X = np.zeros((23, 2))
    data = TensorDataset(mg.tensor(X), mg.tensor(np.arange(23)))

    def epochs(generator, count=3):
        loader = DataLoader(data, batch_size=5, shuffle=True, generator=generator)
        return [_epoch_indices(loader) for _ in range(count)]

    first, again = epochs(7), epochs(np.random.default_rng(7))
    assert first == again  # an int seed and a generator from that seed agree
    assert all(sorted(epoch) == list(range(23)) for epoch in first)
    assert first[0] != first[1]  # a new order every epoch
    assert epochs(8)[0] != first[0]
    mg.manual_seed(3)
    unseeded = epochs(None, 2)
    mg.manual_seed(3)
    assert epochs(None, 2) == unseeded  # no generator: minigrad's seed decides
    dropped = [len(b[0]) for b in DataLoader(data, batch_size=5, shuffle=True,
                                             drop_last=True, generator=1)]
    assert dropped == [5, 5, 5, 5]


def test_random_split_sizes_equal_torchs_and_the_split_is_a_seeded_partition():
    torch = pytest.importorskip("torch")
    for n, lengths in [(10, [3, 7]), (10, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]),
                       (7, [0.2, 0.2, 0.2, 0.2, 0.2]), (5, [1.0]), (10, [0.25, 0.75])]:
        data = list(range(n))
        ours = random_split(data, lengths, generator=0)
        theirs = torch.utils.data.random_split(data, lengths,
                                               generator=torch.Generator().manual_seed(0))
        assert [len(s) for s in ours] == [len(s) for s in theirs], (n, lengths)
        assert sorted(i for s in ours for i in s) == data  # disjoint, covering
        assert [list(s) for s in random_split(data, lengths, generator=0)] == \
            [list(s) for s in ours]
    with pytest.raises(ValueError, match=r"sum of input lengths \(9\) does not equal the "
                                         r"length of the input dataset \(10\)"):
        random_split(list(range(10)), [4, 5])
    with pytest.raises(ValueError, match="non-negative integers or fractions"):
        random_split(list(range(10)), [0.5, 9.5])


def test_subset_concat_and_sampler_lengths_equal_torchs():
    torch = pytest.importorskip("torch")
    data = list(range(10, 20))
    ours, theirs = Subset(data, [3, 1, 4]), torch.utils.data.Subset(data, [3, 1, 4])
    assert [ours[i] for i in range(len(ours))] == [theirs[i] for i in range(len(theirs))]
    both = ConcatDataset([Subset(data, [0, 1]), Subset(data, [5, 6, 7])])
    assert [both[i] for i in range(-5, 5)] == [10, 11, 15, 16, 17] * 2
    with pytest.raises(IndexError, match="out of range"):
        both[-6]
    for size, drop in [(3, False), (3, True), (5, True), (11, False)]:
        ours_len = len(BatchSampler(SequentialSampler(data), size, drop))
        their_len = len(torch.utils.data.BatchSampler(
            torch.utils.data.SequentialSampler(data), size, drop))
        assert ours_len == their_len
        assert list(BatchSampler(range(10), size, drop)) == \
            list(torch.utils.data.BatchSampler(range(10), size, drop))
    drawn = list(RandomSampler(data, replacement=True, num_samples=25, generator=0))
    assert len(drawn) == 25 and set(drawn) <= set(range(10))


def test_bad_loader_options_are_errors_naming_them():
    data = TensorDataset(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(data, sampler=SequentialSampler(data), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(data, batch_size=2, batch_sampler=BatchSampler(range(4), 2, False))
    with pytest.raises(ValueError, match=r"size mismatch.*\[\(4, 2\), \(3,\)\]"):
        TensorDataset(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(data, batch_size=0)
    with pytest.raises(TypeError, match="generator must be None, an int seed"):
        DataLoader(data, shuffle=True, generator="seed")
    with pytest.raises(ValueError, match="IterableDataset: expected unspecified shuffle"):
        DataLoader(_Stream(), shuffle=True)


class _Stream(IterableDataset):
    def __iter__(self):
        return iter(range(7))


def test_iterable_dataset_batches_and_a_batch_sampler():
    assert [b.numpy().tolist() for b in DataLoader(_Stream(), batch_size=3)] == \
        [[0, 1, 2], [3, 4, 5], [6]]
    assert len(list(DataLoader(_Stream(), batch_size=3, drop_last=True))) == 2
    data = TensorDataset(mg.tensor(np.arange(6.0)))
    loader = DataLoader(data, batch_sampler=[[5, 0], [2]])
    assert [b[0].numpy().tolist() for b in loader] == [[5.0, 0.0], [2.0]]


def test_a_loader_feeds_a_training_loop():
    """The pieces together: digits-like arrays, a split, a shuffled loader, SGD."""
    X, y = mg.data.blobs(120, seed=0, dtype=np.float64)
    train, test = random_split(TensorDataset(X, y), [0.75, 0.25], generator=0)
    model = mg.nn.Sequential(mg.nn.Linear(2, 16), mg.nn.ReLU(), mg.nn.Linear(16, 3))
    opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = mg.nn.CrossEntropyLoss()
    for _ in range(10):
        for xb, yb in DataLoader(train, batch_size=16, shuffle=True, generator=1):
            opt.zero_grad()
            loss_fn(model(xb.astype(np.float32)), yb).backward()
            opt.step()
    xt, yt = next(iter(DataLoader(test, batch_size=len(test))))
    accuracy = (model(xt.astype(np.float32)).numpy().argmax(1) == yt.numpy()).mean()
    assert accuracy > 0.9
