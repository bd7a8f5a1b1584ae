"""Dtype rules: what a tensor may hold and what a Python value becomes."""

from __future__ import annotations

from typing import Any

import numpy as np

DEFAULT_FLOAT = np.dtype(np.float32)
SUPPORTED_KINDS = "fiub"  # float, signed int, unsigned int, bool


def is_float_dtype(dtype: Any) -> bool:
    """True for the floating-point dtypes (the ones that can carry gradients)."""
    return np.dtype(dtype).kind == "f"


def resolve_dtype(dtype: Any) -> np.dtype:
    """A numpy dtype from a numpy dtype, a type or a name such as ``"float64"``."""
    try:
        resolved = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"unknown dtype {dtype!r}") from error
    if resolved.kind not in SUPPORTED_KINDS:
        raise TypeError(
            f"unsupported dtype {resolved}: minigrad holds float, integer and bool tensors"
        )
    return resolved


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """A fresh, contiguous numpy array holding ``data``.

    Python floats (and lists of them) become float32, as in PyTorch; numpy arrays keep
    their dtype unless ``dtype`` is given. Complex, object and string data are refused.
    """
    if dtype is not None:
        target = resolve_dtype(dtype)
        array = np.array(data, dtype=target, copy=True, order="C")
    else:
        array = np.array(data, copy=True, order="C")
        if array.dtype.kind == "f" and not isinstance(data, np.ndarray | np.generic):
            array = array.astype(DEFAULT_FLOAT)
        elif array.dtype.kind in "iu" and not isinstance(data, np.ndarray | np.generic):
            array = array.astype(np.int64)
    if array.dtype.kind not in SUPPORTED_KINDS:
        raise TypeError(
            f"unsupported data of dtype {array.dtype}: minigrad holds float, integer and "
            "bool tensors (complex, object and string data are refused)"
        )
    return array


def result_float_dtype(*dtypes: np.dtype) -> np.dtype:
    """The float dtype an op on these dtypes computes in (float32 unless float64 is there)."""
    floats = [d for d in dtypes if d.kind == "f"]
    return np.result_type(*floats) if floats else DEFAULT_FLOAT
