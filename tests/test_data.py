"""Toy data sets, IDX/MNIST reading, digits and the batch iterators."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

import minigrad as mg

GENERATORS = ["moons", "circles", "spirals", "blobs", "xor"]


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_shape_dtype_and_determinism(name):
    make = getattr(mg.data, name)
    X, y = make(101, noise=0.1, seed=3)
    assert X.shape == (101, 2) and X.dtype == np.float32
    assert y.shape == (101,) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(int(y.max()) + 1))
    X2, y2 = make(101, noise=0.1, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(101, noise=0.1, seed=4)
    assert not np.array_equal(X, X3)
    assert make(20, noise=0.0, seed=0, dtype=np.float64)[0].dtype == np.float64


def test_moons_geometry_without_noise():
    X, y = mg.data.moons(200, noise=0.0, seed=0)
    outer, inner = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*outer.T), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1.0, rtol=1e-6)
    assert outer[:, 1].min() >= -1e-6 and inner[:, 1].max() <= 0.5 + 1e-6


def test_circles_radii_and_xor_labels():
    X, y = mg.data.circles(100, noise=0.0, factor=0.3)
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.hypot(*X[y == 1].T), 0.3, rtol=1e-6)
    X, y = mg.data.xor(100, noise=0.0)
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(int))


def test_blobs_and_spirals_options():
    X, y = mg.data.blobs(90, noise=0.5, centers=3, features=4)
    assert X.shape == (90, 4) and np.bincount(y).tolist() == [30, 30, 30]
    X, y = mg.data.spirals(90, noise=0.0, classes=3)
    assert np.bincount(y).tolist() == [30, 30, 30]


def test_bad_arguments_are_errors():
    with pytest.raises(ValueError, match="noise"):
        mg.data.moons(10, noise=-1)
    with pytest.raises(ValueError, match="at least 2"):
        mg.data.moons(1)


def _idx_bytes(array: np.ndarray) -> bytes:
    code = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C}[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def _write_mnist(folder, prefix: str, count: int, compress: bool) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, count, dtype=np.uint8)
    for kind, array in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
        name = folder / f"{prefix}-{kind}"
        if compress:
            with gzip.open(f"{name}.gz", "wb") as handle:
                handle.write(_idx_bytes(array))
        else:
            name.write_bytes(_idx_bytes(array))
    return images, labels


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_reads_idx_files(tmp_path, compress):
    images, labels = _write_mnist(tmp_path, "train", 7, compress)
    test_images, _ = _write_mnist(tmp_path, "t10k", 3, compress)
    X, y = mg.data.mnist(tmp_path)
    assert X.shape == (7, 784) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(X, images.reshape(7, -1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)
    X_test, _ = mg.data.mnist(tmp_path, split="test")
    np.testing.assert_allclose(X_test[0], test_images[0].ravel() / 255.0, rtol=1e-6)


def test_read_idx_big_endian_ints_and_bad_files(tmp_path):
    values = np.arange(-3, 3, dtype=">i4").reshape(2, 3)
    (tmp_path / "ints.idx").write_bytes(_idx_bytes(values))
    read = mg.data.read_idx(tmp_path / "ints.idx")
    np.testing.assert_array_equal(read, values)
    (tmp_path / "bad.idx").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        mg.data.read_idx(tmp_path / "bad.idx")
    (tmp_path / "short.idx").write_bytes(_idx_bytes(values)[:-2])
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        mg.data.read_idx(tmp_path / "short.idx")
    with pytest.raises(FileNotFoundError, match="train-images"):
        mg.data.mnist(tmp_path)


def test_digits_when_sklearn_is_installed():
    pytest.importorskip("sklearn")
    X, y = mg.data.digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert 0.0 <= X.min() and X.max() <= 1.0 and set(np.unique(y)) == set(range(10))


def test_batches_cover_every_row_once_and_shuffle():
    X = np.arange(10)[:, None].astype(np.float32)
    y = np.arange(10)
    seen = [yb for _, yb in mg.data.batches(X, y, 3, seed=0)]
    assert [len(b) for b in seen] == [3, 3, 3, 1]
    assert sorted(np.concatenate(seen).tolist()) == list(range(10))
    assert np.concatenate(seen).tolist() != list(range(10))
    for xb, yb in mg.data.batches(X, y, 4, shuffle=False, drop_last=True):
        np.testing.assert_array_equal(xb[:, 0], yb)
    assert len(list(mg.data.batches(X, y, 4, drop_last=True))) == 2
    with pytest.raises(ValueError, match="rows"):
        next(mg.data.batches(X, y[:5], 2))


def test_endless_batches_and_split():
    X, y = mg.data.moons(40, seed=0)
    stream = mg.data.endless_batches(X, y, 16, seed=0)
    sizes = [len(next(stream)[1]) for _ in range(7)]
    assert sizes == [16] * 7
    X_train, X_test, y_train, y_test = mg.data.train_test_split(X, y, 0.25, seed=0)
    assert len(X_train) == 30 and len(X_test) == 10
    assert len(y_train) == 30 and len(y_test) == 10
