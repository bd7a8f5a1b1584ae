"""PyTorch's math functions and Tensor methods over the op table's math rows (issue 15 §2):
``mg.pow``, ``mg.sin`` ... as functions; the methods the rows' factories do not make.

Everything here forwards to a row's wrapper or composes rows (no rows of its own), so
gradients, drawings and the JIT come from the rows. ``__all__`` is what ``minigrad``
re-exports.
"""

from __future__ import annotations

from typing import Any

from . import ops
from .tensor import Tensor

__all__ = ["pow"]


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001, A002 - PyTorch's names
    """input ** exponent (either may be a number or a tensor; PyTorch's dtypes and
    gradients, see ``ops.power``)."""
    return ops.power(input, exponent)
