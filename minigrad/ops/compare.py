"""Comparison rows: boolean masks, no gradient."""

from __future__ import annotations

import numpy as np

from .rows import compare

GREATER, greater = compare("greater", np.greater, ">")
GREATER_EQUAL, greater_equal = compare("greater_equal", np.greater_equal, ">=")
LESS, less = compare("less", np.less, "<")
LESS_EQUAL, less_equal = compare("less_equal", np.less_equal, "<=")
EQUAL, equal = compare("equal", np.equal, "==")
NOT_EQUAL, not_equal = compare("not_equal", np.not_equal, "!=")
