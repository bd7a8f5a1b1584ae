"""Where each text of a Graphviz SVG ends up when drawn in DejaVu Sans - the widest of the
common sans-serif fonts a viewer falls back to - and whether it stays inside its box.

Widths are measured here, independently of both renderers, from the DejaVu TTFs that
matplotlib ships (read with fontTools): the advance widths of the characters, no kerning
(kerning only narrows a line). A character DejaVu lacks counts as one em, wider than any
fallback glyph the viewer would draw for it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

import pytest

SVG = "{http://www.w3.org/2000/svg}"
POINTS = re.compile(r"-?\d+(?:\.\d+)?")


@cache
def _font(file: str) -> tuple[dict[int, int], float]:
    """(code point -> advance width in font units, units per em) of one DejaVu TTF."""
    matplotlib = pytest.importorskip("matplotlib")
    ttlib = pytest.importorskip("fontTools.ttLib")
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / file
    font = ttlib.TTFont(str(path))
    metrics = font["hmtx"].metrics
    widths = {code: metrics[glyph][0] for code, glyph in font.getBestCmap().items()}
    return widths, float(font["head"].unitsPerEm)


def _font_file(family: str, bold: bool) -> str:
    mono = any(name in family.lower() for name in ("courier", "mono"))
    base = "DejaVuSansMono" if mono else "DejaVuSans"
    return f"{base}-Bold.ttf" if bold else f"{base}.ttf"


def text_width(text: str, size: float, family: str = "DejaVu Sans", bold: bool = False) -> float:
    """Width in points of ``text`` at ``size`` points in DejaVu Sans (Mono for a monospace
    ``family``), bold or not."""
    widths, per_em = _font(_font_file(family, bold))
    return sum(widths.get(ord(char), per_em) for char in text) * size / per_em


@dataclass
class Span:
    """One <text> element: its content, horizontal extent in DejaVu metrics, and where its
    first visible character starts (after leading spaces)."""

    text: str
    left: float
    right: float
    ink_left: float


XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


def span(element: ET.Element) -> Span:
    """The extent of a <text> element as a DejaVu viewer draws it (text-anchor aware).
    Without ``xml:space="preserve"`` on the text itself (Chromium does not inherit it from
    the root) a viewer drops leading and trailing spaces and collapses runs of them (not
    no-break spaces)."""
    content = "".join(element.itertext())
    if element.get(XML_SPACE) != "preserve":
        content = re.sub(" +", " ", content.replace("\n", "").replace("\t", " ")).strip(" ")
    font = (float(element.get("font-size", "14")), element.get("font-family", ""),
            element.get("font-weight") == "bold")
    width = text_width(content, *font)
    x = float(element.get("x", "0"))
    anchor = element.get("text-anchor", "start")
    left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    blank = content[:len(content) - len(content.lstrip())]
    return Span(content, left, left + width, left + text_width(blank, *font))


def _shape_extent(group: ET.Element) -> tuple[float, float] | None:
    """Left and right x of the inside of the first path / polygon of a node or cluster
    group (its outline's half stroke width taken off)."""
    for element in group:
        tag = element.tag.removeprefix(SVG)
        if tag in ("path", "polygon"):
            numbers = [float(n) for n in POINTS.findall(element.get("d") or
                                                         element.get("points") or "")]
            xs = numbers[0::2]
            if xs:
                half = float(element.get("stroke-width", "1")) / 2
                return min(xs) + half, max(xs) - half
    return None


@dataclass
class Overflow:
    """A text that does not fit its box (or the picture)."""

    where: str
    text: str
    by: float


def _row_overlaps(where: str, spans: list[tuple[float, Span]]) -> list[Overflow]:
    """Texts of one row (same baseline) whose letters run into the next text of that row."""
    found = []
    ordered = sorted(spans, key=lambda item: (item[0], item[1].left))
    for (y, one), (next_y, other) in pairwise(ordered):
        by = one.right - other.ink_left
        if y == next_y and by > 0:
            found.append(Overflow(where, one.text + " | " + other.text, by))
    return found


def overflows(svg: str, clearance: float = 2.0) -> tuple[list[Overflow], int]:
    """Every text of a Graphviz SVG that reaches closer than ``clearance`` points to the
    sides of its node box or cluster box, leaves the picture, or runs into the next text
    on its line; and how many texts were checked."""
    root = ET.fromstring(svg[svg.index("<svg"):].encode())
    view = [float(v) for v in root.get("viewBox", "0 0 0 0").split()]
    graph = next(root.iter(f"{SVG}g"))
    transform = POINTS.findall(graph.get("transform", ""))
    shift = float(transform[-2]) if len(transform) >= 2 else 0.0  # translate(x y)
    found: list[Overflow] = []
    checked = 0
    for group in root.iter(f"{SVG}g"):
        kind = group.get("class")
        if kind not in ("node", "cluster", "graph"):
            continue
        if kind == "graph":
            box = (view[0] - shift, view[0] + view[2] - shift)
            limit = 0.0
        else:
            box = _shape_extent(group)
            limit = clearance
        if box is None:
            continue
        where = group.findtext(f"{SVG}title") or kind
        spans = [(float(element.get("y", "0")), span(element)) for element in group
                 if element.tag == f"{SVG}text"]
        checked += len(spans)
        for _, extent in spans:
            by = max(box[0] + limit - extent.left, extent.right - (box[1] - limit))
            if by > 0:
                found.append(Overflow(where, extent.text, by))
        found += _row_overlaps(where, spans)
    return found, checked
