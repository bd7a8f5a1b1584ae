"""The linear-algebra rows under mg.jit (inv, det, solve, cholesky, eigh, svd, pinv, ...):
the compiled kernel calls back into the row's own numpy forward through Numba's
``objmode``, so its values and its errors (a singular matrix's LinAlgError naming the batch
element) are eager's exactly: the same LAPACK routines on the same inputs, with the same
signs of eigen- and singular vectors. (Numba's own np.linalg compiles for seconds per
function and dtype, reads a fixed triangle in eigh and checks inputs otherwise.)

The kernel allocates the result and calls ``run1(spec, out, a)`` or ``run2(spec, out, a,
b)``; ``spec`` is the row's name and attributes as text (``spec_of``), so a kernel loaded
from the disk cache in another process carries everything it needs. The call costs about
15 us (the GIL, boxing the arrays).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from ..ops import OPS
from .ir import NotCompilableError


def _attribute(key: str, value: Any) -> str:
    """``key=value`` as text read back by ``_parse``: only the attribute types the rows
    have (bools, floats as exact hex, the UPLO letters, the residual's side)."""
    if isinstance(value, bool):
        return f"{key}=b{int(value)}"
    if isinstance(value, float):
        return f"{key}=f{value.hex()}"
    if (key, value) in (("UPLO", "L"), ("UPLO", "U"), ("side", "left"), ("side", "right")):
        return f"{key}=s{value}"
    raise NotCompilableError(f"mg.jit cannot pass the attribute {key}={value!r} of a linalg row")


def spec_of(op: str, attrs: dict[str, Any]) -> str:
    """The row and its attributes as one string: ``"pinv;atol=f0x0.0p+0;..."``."""
    return ";".join([op, *(_attribute(k, v) for k, v in sorted(attrs.items()))])


def _parse(spec: str) -> tuple[str, dict[str, Any]]:
    op, *parts = spec.split(";")
    attrs: dict[str, Any] = {}
    for part in parts:
        key, text = part.split("=", 1)
        kind, body = text[0], text[1:]
        attrs[key] = bool(int(body)) if kind == "b" else float.fromhex(body) if kind == "f" \
            else body
    return op, attrs


def fill(spec: str, out: np.ndarray, *inputs: np.ndarray) -> None:
    """``out[...] =`` the row's eager forward of ``inputs`` (0-d results stored as (1,))."""
    op, attrs = _parse(spec)
    out[...] = np.asarray(OPS[op].forward(*inputs, **attrs)).reshape(out.shape)


# Called from generated kernels only; without nogil (objmode takes the GIL anyway, and nogil
# with objmode draws a NumbaWarning).
@numba.njit(cache=True, no_cfunc_wrapper=True, no_cpython_wrapper=True)
def run1(spec, out, a):
    """``fill(spec, out, a)`` from jitted code."""
    with numba.objmode():
        fill(spec, out, a)
    return out


@numba.njit(cache=True, no_cfunc_wrapper=True, no_cpython_wrapper=True)
def run2(spec, out, a, b):
    """``fill(spec, out, a, b)`` from jitted code."""
    with numba.objmode():
        fill(spec, out, a, b)
    return out
