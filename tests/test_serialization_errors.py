"""mg.load answers every file that is not an intact state-dict archive with a ValueError
naming the file (never a bare numpy/zipfile error, never unpickling)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def test_round_trip(tmp_path) -> None:
    path = tmp_path / "state.npz"
    mg.save({"w": mg.tensor([1.0, 2.0]), "n": mg.tensor(3)}, path)
    loaded = mg.load(path)
    assert loaded["w"].tolist() == [1.0, 2.0] and loaded["w"].dtype == np.float32
    assert int(loaded["n"]) == 3


def test_single_array_file_is_refused(tmp_path) -> None:
    path = tmp_path / "single.npy"
    np.save(path, np.ones(3))
    with pytest.raises(ValueError, match=r"single\.npy.*single array"):
        mg.load(path)


@pytest.mark.parametrize("content", [b"", b"not an archive at all", None])
def test_damaged_files_are_refused(tmp_path, content) -> None:
    good = tmp_path / "good.npz"
    mg.save({"w": mg.tensor(np.arange(100.0))}, good)
    path = tmp_path / "bad.npz"
    path.write_bytes(good.read_bytes()[:120] if content is None else content)
    with pytest.raises(ValueError, match=r"bad\.npz"):
        mg.load(path)
