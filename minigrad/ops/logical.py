"""Boolean rows of any input: the logical functions (truth values: non-zero, NaN included,
is True) and the classification of floats (isnan, isinf, isfinite). No gradient."""

from __future__ import annotations

import numpy as np

from .rows import boolean

LOGICAL_AND, logical_and = boolean("logical_and", np.logical_and,
                                   "(({0} != 0) and ({1} != 0))", doc="a and b (truth values).")
LOGICAL_OR, logical_or = boolean("logical_or", np.logical_or,
                                 "(({0} != 0) or ({1} != 0))", doc="a or b (truth values).")
LOGICAL_XOR, logical_xor = boolean("logical_xor", np.logical_xor,
                                   "(({0} != 0) != ({1} != 0))",
                                   doc="a xor b (truth values).")
LOGICAL_NOT, logical_not = boolean("logical_not", np.logical_not, "({0} == 0)",
                                   doc="not x (truth values).", arity=1)
ISNAN, isnan = boolean("isnan", np.isnan, "({0} != {0})", doc="Whether x is NaN.", arity=1)
ISINF, isinf = boolean("isinf", np.isinf, "(abs({0}) == np.inf)",
                       doc="Whether x is +inf or -inf.", arity=1)
ISFINITE, isfinite = boolean("isfinite", np.isfinite, "(abs({0}) < np.inf)",
                             doc="Whether x is neither infinite nor NaN.", arity=1)
