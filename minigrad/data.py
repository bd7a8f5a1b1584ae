"""Toy data sets, MNIST/digits loaders and a shuffling batch iterator.

Every generator returns ``(X, y)``: X a float array of shape (n, features) (float32 unless
``dtype`` says otherwise), y an int64 array of class labels 0..k-1. Same seed, same data.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ArgumentError

Dataset = tuple[np.ndarray, np.ndarray]


def _finish(X: np.ndarray, y: np.ndarray, noise: float, rng: np.random.Generator,
            dtype: Any) -> Dataset:
    """Add N(0, noise^2) to X, shuffle the rows, cast."""
    if noise < 0:
        raise ArgumentError(f"noise must be >= 0, got {noise}")
    X = X + rng.normal(0.0, noise, X.shape) if noise else X
    order = rng.permutation(len(y))
    return X[order].astype(dtype), y[order].astype(np.int64)


def _check_n(n: int, classes: int) -> int:
    if int(n) < classes:
        raise ArgumentError(f"n must be at least {classes} (one sample per class), got {n}")
    return int(n)


def moons(n: int = 200, noise: float = 0.1, seed: int | None = 0,
          dtype: Any = np.float32) -> Dataset:
    """Two interleaving half circles (like sklearn's make_moons)."""
    n = _check_n(n, 2)
    rng = np.random.default_rng(seed)
    outer, inner = n // 2, n - n // 2
    t_out, t_in = np.linspace(0, np.pi, outer), np.linspace(0, np.pi, inner)
    X = np.concatenate([np.c_[np.cos(t_out), np.sin(t_out)],
                        np.c_[1 - np.cos(t_in), 0.5 - np.sin(t_in)]])
    y = np.r_[np.zeros(outer), np.ones(inner)]
    return _finish(X, y, noise, rng, dtype)


def circles(n: int = 200, noise: float = 0.05, seed: int | None = 0, factor: float = 0.5,
            dtype: Any = np.float32) -> Dataset:
    """A small circle (class 1, radius ``factor``) inside a unit circle (class 0)."""
    n = _check_n(n, 2)
    if not 0 < factor < 1:
        raise ArgumentError(f"factor must lie in (0, 1), got {factor}")
    rng = np.random.default_rng(seed)
    outer, inner = n // 2, n - n // 2
    t_out = np.linspace(0, 2 * np.pi, outer, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, inner, endpoint=False)
    X = np.concatenate([np.c_[np.cos(t_out), np.sin(t_out)],
                        factor * np.c_[np.cos(t_in), np.sin(t_in)]])
    y = np.r_[np.zeros(outer), np.ones(inner)]
    return _finish(X, y, noise, rng, dtype)


def spirals(n: int = 300, noise: float = 0.1, seed: int | None = 0, classes: int = 2,
            turns: float = 1.0, dtype: Any = np.float32) -> Dataset:
    """``classes`` interleaved arms r = t, angle = 2 pi turns t + 2 pi k / classes, t in (0, 1]."""
    n = _check_n(n, classes)
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % classes
    t = np.linspace(0.05, 1.0, n // classes + 1)[np.arange(n) // classes]
    angle = 2 * np.pi * turns * t + 2 * np.pi * labels / classes
    X = np.c_[t * np.cos(angle), t * np.sin(angle)]
    return _finish(X, labels, noise, rng, dtype)


def blobs(n: int = 200, noise: float = 1.0, seed: int | None = 0, centers: int = 3,
          features: int = 2, spread: float = 10.0, dtype: Any = np.float32) -> Dataset:
    """Gaussian clusters (std ``noise``) around ``centers`` points drawn in [-spread, spread]."""
    n = _check_n(n, centers)
    rng = np.random.default_rng(seed)
    middles = rng.uniform(-spread, spread, (centers, features))
    labels = np.arange(n) % centers
    return _finish(middles[labels], labels, noise, rng, dtype)


def xor(n: int = 200, noise: float = 0.1, seed: int | None = 0,
        dtype: Any = np.float32) -> Dataset:
    """Points near the four corners (+-1, +-1); the label is 1 where the signs differ."""
    n = _check_n(n, 4)
    rng = np.random.default_rng(seed)
    corners = np.array([[-1, -1], [1, 1], [-1, 1], [1, -1]], float)
    which = np.arange(n) % 4
    return _finish(corners[which], (which >= 2).astype(np.int64), noise, rng, dtype)


TOY_DATASETS = {"moons": moons, "circles": circles, "spirals": spirals, "blobs": blobs,
                "xor": xor}


def digits(dtype: Any = np.float32) -> Dataset:
    """The 8x8 handwritten digits shipped with scikit-learn: X (1797, 64) scaled to [0, 1]."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ImportError(
            "mg.data.digits() needs scikit-learn: pip install 'minigrad[digits]'"
        ) from error
    bunch = load_digits()
    return (bunch.data / 16.0).astype(dtype), bunch.target.astype(np.int64)


# ---------------------------------------------------------------------------- IDX / MNIST
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
              0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (MNIST's format), gzip-compressed when the name ends in .gz.

    Header: two zero bytes, a type code, the number of dimensions d, then d big-endian
    uint32 sizes; the data follows in C order.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ArgumentError(f"{path}: not an IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    shape = tuple(int(s) for s in np.frombuffer(raw, ">u4", ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    body = raw[4 + 4 * ndim:]
    if len(body) != expected:
        raise ArgumentError(
            f"{path}: header says shape {shape} ({expected} bytes) but {len(body)} bytes follow"
        )
    return np.frombuffer(body, dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _find(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"),
                 stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).exists():
            return folder / name
    raise FileNotFoundError(f"mnist: no {stem}[.gz] in {folder}")


def mnist(path: str | os.PathLike, split: str = "train", dtype: Any = np.float32) -> Dataset:
    """MNIST from the IDX files in folder ``path``: X (n, 784) scaled to [0, 1], y int64.

    ``split`` is "train" (train-images-idx3-ubyte, train-labels-idx1-ubyte) or "test"
    (t10k-...); each file may be gzip-compressed (.gz).
    """
    prefix = {"train": "train", "test": "t10k"}.get(split)
    if prefix is None:
        raise ArgumentError(f"mnist: split must be 'train' or 'test', got {split!r}")
    folder = Path(path)
    images = read_idx(_find(folder, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(_find(folder, f"{prefix}-labels-idx1-ubyte"))
    if len(images) != len(labels):
        raise ArgumentError(f"mnist: {len(images)} images but {len(labels)} labels in {folder}")
    X = images.reshape(len(images), -1).astype(dtype) / 255.0
    return X.astype(dtype), labels.astype(np.int64)


# ------------------------------------------------------------------------------ batching
def train_test_split(X: np.ndarray, y: np.ndarray, test_fraction: float = 0.25,
                     seed: int | None = 0) -> tuple[np.ndarray, ...]:
    """Shuffle and split into (X_train, X_test, y_train, y_test)."""
    if not 0 < test_fraction < 1:
        raise ArgumentError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    order = np.random.default_rng(seed).permutation(len(y))
    cut = len(y) - max(1, round(len(y) * test_fraction))
    train, test = order[:cut], order[cut:]
    return X[train], X[test], y[train], y[test]


def batches(X: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = True,
            seed: int | None = None, drop_last: bool = False) -> Iterator[Dataset]:
    """One pass over (X, y) in batches of ``batch_size`` rows (shuffled each call)."""
    if len(X) != len(y):
        raise ArgumentError(f"batches: X has {len(X)} rows but y has {len(y)}")
    if int(batch_size) < 1:
        raise ArgumentError(f"batches: batch_size must be >= 1, got {batch_size}")
    order = np.random.default_rng(seed).permutation(len(y)) if shuffle else np.arange(len(y))
    for start in range(0, len(y), batch_size):
        rows = order[start:start + batch_size]
        if drop_last and len(rows) < batch_size:
            return
        yield X[rows], y[rows]


def endless_batches(X: np.ndarray, y: np.ndarray, batch_size: int,
                    seed: int | None = 0) -> Iterator[Dataset]:
    """Full batches forever, reshuffled every epoch (for step-counted training loops)."""
    rng = np.random.default_rng(seed)
    if batch_size > len(y):
        raise ArgumentError(f"batch_size {batch_size} exceeds the {len(y)} samples")
    while True:
        yield from batches(X, y, batch_size, True, int(rng.integers(2**31)), drop_last=True)
