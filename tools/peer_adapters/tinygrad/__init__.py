"""Fake tinygrad over minigrad: tinygrad's names and defaults mapped onto minigrad's Tensor
(peer-suite adapter; not committed). Each mapping only renames or re-spells arguments."""
from .device import Device  # noqa: F401
from .dtype import dtypes  # noqa: F401
from .tensor import Tensor  # noqa: F401
