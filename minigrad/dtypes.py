"""Dtype rules: what a tensor may hold and what a Python value becomes."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ArgumentTypeError

# The default float dtype, process-wide as in PyTorch (one cell so readers see changes):
# Python floats, float constructors and integer inputs of float-valued ops use it.
DEFAULT_DTYPE = [np.dtype(np.float32)]
DEFAULT_DTYPES_ALLOWED = ("float16", "float32", "float64")
SUPPORTED_KINDS = "fiub"  # float, signed int, unsigned int, bool


def is_float_dtype(dtype: Any) -> bool:
    """True for the floating-point dtypes (the ones that can carry gradients)."""
    return np.dtype(dtype).kind == "f"


def resolve_dtype(dtype: Any) -> np.dtype:
    """A numpy dtype from a numpy dtype, a type or a name such as ``"float64"``."""
    try:
        resolved = np.dtype(dtype)
    except TypeError as error:
        raise ArgumentTypeError(f"unknown dtype {dtype!r}") from error
    if resolved.kind not in SUPPORTED_KINDS:
        raise ArgumentTypeError(
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
            array = array.astype(default_float())
        elif array.dtype.kind in "iu" and not isinstance(data, np.ndarray | np.generic):
            array = array.astype(np.int64)
    if array.dtype.kind not in SUPPORTED_KINDS:
        raise ArgumentTypeError(
            f"unsupported data of dtype {array.dtype}: minigrad holds float, integer and "
            "bool tensors (complex, object and string data are refused)"
        )
    return array


def result_float_dtype(*dtypes: np.dtype) -> np.dtype:
    """The float dtype an op on these dtypes computes in (float32 unless float64 is there)."""
    floats = [d for d in dtypes if d.kind == "f"]
    return np.result_type(*floats) if floats else default_float()


# PyTorch's dtype objects (``mg.float32`` ...; minigrad/__init__.py adds PyTorch's aliases
# mg.half, float, double, short, int, long): numpy dtypes, so ``t.dtype == mg.float32``
# holds and every function taking a dtype takes them.
float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)


def get_default_dtype() -> np.dtype:
    """The default float dtype (float32 unless ``set_default_dtype`` changed it), as
    ``torch.get_default_dtype()``; read at call time by constructors and ops."""
    return DEFAULT_DTYPE[0]


default_float = get_default_dtype  # the name minigrad's own modules use


def set_default_dtype(dtype: Any) -> None:
    """Make ``dtype`` (float16, float32 or float64) the default float dtype, as
    ``torch.set_default_dtype``: Python floats, ``mg.tensor([1.5])``, ``mg.zeros(3)`` and the
    float results of integer inputs (``int_tensor.exp()``, ``int / int``) take it. Tensors
    made before keep their dtype. ``mg.jit`` functions retrace under a new default."""
    resolved = resolve_dtype(dtype)
    if resolved.name not in DEFAULT_DTYPES_ALLOWED:
        raise ArgumentTypeError(f"set_default_dtype: only floating-point dtypes ("
                                f"{', '.join(DEFAULT_DTYPES_ALLOWED)}) can be the default, not "
                                f"{resolved}")
    DEFAULT_DTYPE[0] = resolved
