"""Text for the figures: escaping for Graphviz HTML-like labels and value formatting.

Every piece of text that reaches a label goes through ``escape``: names may hold quotes,
braces, angle brackets, pipes, backslashes or newlines, and must show as text without
being able to add DOT attributes or nodes.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

SMALL_SIZE = 12          # values with at most this many elements are shown in full
HISTOGRAM_BINS = 8
BARS = "▁▂▃▄▅▆▇█"
BACKSLASH = "&#92;&#92;"  # one backslash shown in a Graphviz label (see ``escape``)


def escape(text: object) -> str:
    """``text`` as safe content of a Graphviz HTML-like label (shows exactly as written).

    ``& < > " '`` become entities; a backslash and control characters (newline, tab, ...)
    are shown as visible escapes (``\\``, ``\\n``) instead of acting on the layout.
    Graphviz reads ``\\N``, ``\\G``, ``\\E``, ``\\T``, ``\\H``, ``\\L`` in label text (also after
    entities are decoded) as the node, graph, ... name, and ``\\\\`` as one backslash: so
    every shown backslash is written as two (``BACKSLASH``).
    """
    out: list[str] = []
    for char in str(text):
        code = ord(char)
        if char == "\\":
            out.append(BACKSLASH)
        elif char == "\n":
            out.append(BACKSLASH + "n")
        elif char == "\t":
            out.append(BACKSLASH + "t")
        elif code < 32 or code == 127 or 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
            out.append(f"{BACKSLASH}x{code:02x}")
        else:
            out.append(html.escape(char, quote=True))
    return "".join(out)


def number(value: float, digits: int = 5) -> str:
    """One value in ``digits`` significant digits; exact zeros (also -0.0) print as 0."""
    value = float(value)
    if value == 0:
        return "0"
    if np.isnan(value):
        return "nan"
    if np.isinf(value):
        return "inf" if value > 0 else "-inf"
    return format(value, f".{digits}g")


def _row(values: np.ndarray, digits: int) -> str:
    return "[" + ", ".join(number(v, digits) for v in values.reshape(-1)) + "]"


def full_value(array: np.ndarray, digits: int = 5) -> list[str]:
    """Lines showing every element of a small array (one line per row of a 2-D array)."""
    array = np.asarray(array)
    if array.dtype.kind == "b":
        return [str(array.astype(int).tolist())]
    if array.ndim == 0:
        return [number(array, digits)]
    if array.ndim == 1:
        return [_row(array, digits)]
    if array.ndim == 2 and array.shape[1] == 1:
        return [_row(array, digits) + "ᵀ"]
    rows = array.reshape(-1, array.shape[-1])
    return [_row(row, digits) for row in rows]


def histogram_counts(array: np.ndarray, bins: int = HISTOGRAM_BINS) -> np.ndarray:
    """Counts of the finite values in ``bins`` equal-width bins (empty if none)."""
    finite = np.asarray(array, dtype=np.float64).reshape(-1)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.histogram(finite, bins=bins)[0]


def histogram(array: np.ndarray, bins: int = HISTOGRAM_BINS) -> str:
    """A tiny histogram of the finite values as bar characters (``▁▃█▅``)."""
    counts = histogram_counts(array, bins)
    if counts.size == 0:
        return ""
    top = counts.max()
    return "".join(BARS[min(len(BARS) - 1, int(c * (len(BARS) - 1) / top + 0.999))]
                   if c else " " for c in counts)


def histogram_table(array: np.ndarray, color: str = "#555555", height: int = 14,
                    bins: int = HISTOGRAM_BINS) -> str:
    """The histogram as a Graphviz HTML table of bars (renders the same in every format)."""
    counts = histogram_counts(array, bins)
    if counts.size == 0:
        return ""
    top = counts.max()
    columns = []
    for count in counts:
        bar = round(height * count / top) if count else 0
        cells = []
        if bar < height:
            cells.append(f'<TR><TD HEIGHT="{height - bar}" WIDTH="7" FIXEDSIZE="TRUE"></TD></TR>')
        if bar:
            cells.append(f'<TR><TD HEIGHT="{bar}" WIDTH="7" FIXEDSIZE="TRUE" '
                         f'BGCOLOR="{color}"></TD></TR>')
        columns.append('<TD><TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">'
                       + "".join(cells) + "</TABLE></TD>")
    return ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="0"><TR>'
            + "".join(columns) + "</TR></TABLE>")


def summary_value(array: np.ndarray, digits: int = 4, bars: bool = True) -> list[str]:
    """min / mean / max of a large array, its histogram (``bars``), non-finite counts."""
    data = np.asarray(array, dtype=np.float64)
    finite = data[np.isfinite(data)]
    lines = []
    if finite.size:
        lines.append(f"min {number(finite.min(), digits)}  mean {number(finite.mean(), digits)}"
                     f"  max {number(finite.max(), digits)}")
        if bars:
            lines.append(histogram(finite))
    bad = data.size - finite.size
    if bad:
        lines.append(f"{int(np.isnan(data).sum())} nan, {int(np.isinf(data).sum())} inf")
    if finite.size and not np.any(finite):
        lines.append("all zero")
    return lines


def value_lines(array: np.ndarray, small: int = SMALL_SIZE, bars: bool = True,
                digits: int = 5) -> list[str]:
    """The value in full when it has at most ``small`` elements, else a summary."""
    array = np.asarray(array)
    if array.size <= small:
        return full_value(array, digits)
    return summary_value(array, bars=bars)


def is_small(array: np.ndarray, small: int = SMALL_SIZE) -> bool:
    """Whether ``array`` is shown in full."""
    return np.asarray(array).size <= small


def shape_text(shape: Sequence[int], dtype: np.dtype | None = None) -> str:
    """``(2, 1) float32``."""
    dims = "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"
    return f"{dims} {dtype}" if dtype is not None else dims
