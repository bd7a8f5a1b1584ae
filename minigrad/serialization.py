"""mg.save / mg.load: state dicts as .npz files, never pickle."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import ArgumentError, ArgumentTypeError
from .tensor import Tensor


def _as_plain_array(name: str, value: Any) -> np.ndarray:
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    if array.dtype.kind not in "fiub":
        raise ArgumentTypeError(
            f"save: entry {name!r} has dtype {array.dtype}; only float, integer and bool "
            "arrays can be saved (object arrays would need pickle)"
        )
    return array


def save(state: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write ``state`` (name -> Tensor or array) to ``path`` as an uncompressed .npz file.

    The file is written at exactly ``path`` (no ".npz" is appended).
    """
    if not isinstance(state, Mapping):
        raise ArgumentTypeError(f"save: expected a mapping of names to tensors, got {type(state)}")
    arrays = {}
    for name, value in state.items():
        if not isinstance(name, str):
            raise ArgumentTypeError(f"save: keys must be strings, got {name!r}")
        arrays[name] = _as_plain_array(name, value)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def load(path: str | os.PathLike) -> dict[str, Tensor]:
    """Read a file written by ``save`` into a dict of name -> Tensor (allow_pickle=False).

    Anything but an intact .npz archive of plain arrays is a ValueError naming the file.
    """
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise ArgumentError(
            f"load: {os.fspath(path)!r} is not an intact .npz archive of plain arrays "
            f"(numpy: {type(error).__name__}: {error})"
        ) from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise ArgumentError(
            f"load: {os.fspath(path)!r} holds a single array, not a state dict (.npz archive)"
        )
    with loaded as archive:
        try:
            return {name: Tensor(archive[name]) for name in archive.files}
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
            raise ArgumentError(
                f"load: {os.fspath(path)!r} is damaged or holds refused data "
                f"({type(error).__name__}: {error})"
            ) from None
