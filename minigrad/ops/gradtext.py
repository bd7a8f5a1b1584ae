"""The drawn gradient text of a row, evaluated with numpy (so tests check it against the
row's VJP).

A row's ``grads`` holds, per input, the local rule the renderer shows. The syntax:

* ``{g}`` the incoming gradient, ``{out}`` the op's output, ``{0}``, ``{1}`` ... its inputs,
  ``{name}`` an attribute of the node (``{exponent}``);
* numbers, ``+ - * /``, parentheses, ``a^b`` for a ** b;
* ``[cond]`` is 1 where ``cond`` holds, else 0 (Iverson's bracket), with the comparisons
  ``< <= > >= == !=`` (and ``(c) & (d)`` for both);
* ``cond ? a : b`` (once per rule, at the top) is a where b elsewhere;
* a function name from ``FUNCTIONS`` (numpy's: ``cos``, ``exp``, ``sqrt``, ``sign``, ...),
  and the constants ``pi``, ``ln2``, ``ln10``;
* ``0`` when no gradient flows (piecewise constant ops: floor, sign, ...).

The text is for display first: ``evaluate`` turns it into a numpy expression (``^`` ->
``**``, ``[c]`` -> ``(c)``, ``c ? a : b`` -> ``where(c, a, b)``) evaluated with no builtins.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

FUNCTIONS: dict[str, Any] = {
    name: getattr(np, name)
    for name in ("abs", "cos", "sin", "tan", "cosh", "sinh", "tanh", "exp", "exp2", "log",
                 "sqrt", "sign", "floor", "trunc", "isfinite", "where")
}
CONSTANTS = {"pi": math.pi, "ln2": math.log(2.0), "ln10": math.log(10.0)}


def to_numpy(text: str) -> str:
    """The numpy expression of a rule whose ``{...}`` placeholders are substituted."""
    if "?" in text:
        cond, rest = text.split("?", 1)
        yes, no = rest.split(":", 1)
        return f"where({to_numpy(cond)}, {to_numpy(yes)}, {to_numpy(no)})"
    return text.replace("^", "**").replace("[", "(").replace("]", ")")


def evaluate(text: str, g: np.ndarray, out: np.ndarray, inputs: Sequence[np.ndarray],
             attrs: Mapping[str, Any]) -> np.ndarray:
    """The value of the rule ``text`` at ``g``, ``out``, ``inputs`` (numpy arrays), before
    any unbroadcasting (the shape of ``out``)."""
    names = {"g": g, "out": out, **{f"x{k}": x for k, x in enumerate(inputs)}}
    filled = text.replace("{g}", "g").replace("{out}", "out")
    for k in range(len(inputs)):
        filled = filled.replace("{" + str(k) + "}", f"x{k}")
    for key, value in attrs.items():
        filled = filled.replace("{" + key + "}", repr(value))
    expression = to_numpy(filled)
    with np.errstate(all="ignore"):
        value = eval(expression, {"__builtins__": {}}, {**FUNCTIONS, **CONSTANTS, **names})
    return np.broadcast_to(np.asarray(value, dtype=np.result_type(g, out)), out.shape)
