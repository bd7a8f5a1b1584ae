"""One layout, every step: marking an SVG so each frame of the step-through is a restyle.

The step page renders the graph once, with every value known. ``mark_values`` then tags,
in each gradient node, what only appears once its step is computed (the rows under the
name, rule and shape: values, "zero gradient", callouts; in forward nodes the gradient
rows) with ``class="v"``, and adds a grey ``?`` (``class="q"``) shown instead. The page
toggles a ``pending`` class per node (CSS hides ``.v`` and shows ``.q``); ``Frames.frame``
writes the same frame as a standalone SVG by dropping the elements that are not shown.
Works on the SVG of the system Graphviz (HTML-like labels) and of the WebAssembly one
(plain labels): rows are told apart by their baseline.
"""

from __future__ import annotations

import html
import re

NODE = re.compile(r'<g id="([^"]+)" class="node[^"]*">.*?</g>', re.S)
_ELEMENT = re.compile(r"<(text|polygon|path|polyline|ellipse)\b[^>]*?(?:/>|>.*?</\1>)", re.S)
_Y = re.compile(r'\by="(-?[\d.]+)"')
_X = re.compile(r'\bx="(-?[\d.]+)"')
_POINTS = re.compile(r'(?:points|d)="([^"]*)"')
_PAIR = re.compile(r"(-?[\d.]+),(-?[\d.]+)")
_ROW_GAP = 2.0              # baselines closer than this (points) are one row
_HEAD_ROWS = 3              # name, rule, shape: always shown
_FONT = re.compile(r'font-family="[^"]*"(?: font-size="[^"]*")?')
_MONO = 'font-family="Courier,monospace" font-size="10.00"'
_AUTO_ID = re.compile(r'\bid="((?:graph|node|edge|clust|a_)[^"]*)"')
CURRENT = {"fill": "#ffe0b2", "stroke": "#e66100"}
PENDING = {"fill": "#f7f7f7", "stroke": "#bbbbbb"}
CURRENT_WIDTH = 3           # outline of the current step and of the boxes holding it


def _top(element: str) -> float | None:
    """The top of an element: the baseline of a text, the smallest y of a shape."""
    if element.startswith("<text"):
        found = _Y.search(element)
        return float(found[1]) if found else None
    points = _POINTS.search(element)
    ys = [float(y) for _, y in _PAIR.findall(points[1])] if points else []
    return min(ys) if ys else None


def _rows(elements: list[str]) -> list[float]:
    """The distinct text baselines of a node, top to bottom."""
    rows: list[float] = []
    for y in sorted(_top(e) for e in elements if e.startswith("<text") and _top(e) is not None):
        if not rows or y - rows[-1] > _ROW_GAP:
            rows.append(y)
    return rows


def _x_range(outline: str) -> tuple[float, float]:
    points = _POINTS.search(outline)
    xs = [float(x) for x, _ in _PAIR.findall(points[1])] if points else [0.0]
    return min(xs), max(xs)


def _text(element: str) -> str:
    inner = element[element.index(">") + 1: element.rindex("<")]
    return html.unescape(inner).replace("\xa0", " ").strip()


def _cut(elements: list[str], step_node: bool, grad_name: str | None) -> float | None:
    """Elements whose top is below this y appear only once the step is known."""
    if step_node:
        rows = _rows(elements)
        return rows[_HEAD_ROWS - 1] + _ROW_GAP if len(rows) > _HEAD_ROWS else None
    for element in elements:
        if element.startswith("<text") and _text(element) == f"{grad_name}:":
            return (_top(element) or 0.0) - _ROW_GAP
    return None


def _mark_node(block: str, step_node: bool, grad_name: str | None) -> str:
    """One node group with its later-known elements tagged (and a ``?`` for steps)."""
    elements = [m[0] for m in _ELEMENT.finditer(block)]
    if len(elements) < 2:
        return block
    outline, body = elements[0], elements[1:]
    cut = _cut(body, step_node, grad_name)
    if cut is None:
        return block
    rows = _rows(body)
    later = [e for e in body if (_top(e) or -1e30) > cut]
    for element in later:
        tag = element[1:element.index(" ")]
        block = block.replace(element, f'<{tag} class="v"{element[len(tag) + 1:]}', 1)
    if step_node:
        first = next((y for y in rows if y > cut), rows[-1])
        left, right = _x_range(outline)
        shown = next((e for e in later if e.startswith("<text")), "")
        font = _FONT.search(shown)
        mark = (f'<text class="q" text-anchor="middle" x="{(left + right) / 2:.2f}" '
                f'y="{first}" {font[0] if font else _MONO} fill="#999999">?</text>\n')
        block = block[: block.rindex("</g>")] + mark + "</g>"
    return block


def mark_values(svg: str, grad_rows: dict[str, tuple[int, str]]) -> str:
    """``svg`` with the later-known parts of gradient nodes (ids ``s<k>``) and of forward
    nodes showing a gradient (``grad_rows``: svg id -> (step index, d-name)) tagged."""
    def mark(match: re.Match) -> str:
        ident = match[1]
        if re.fullmatch(r"s\d+", ident):
            return _mark_node(match[0], True, None)
        if ident in grad_rows:
            return _mark_node(match[0], False, grad_rows[ident][1])
        return match[0]
    return NODE.sub(mark, svg)


def prefix_auto_ids(svg: str, prefix: str) -> str:
    """Graphviz's own ids (graph0, node3, edge7, clust2) made unique within one page."""
    return _AUTO_ID.sub(lambda m: f'id="{prefix}{m[1]}"', svg)


def _restyle(block: str, colors: dict[str, str], width: float | None = None) -> str:
    """The node's outline (its first shape) in other colors."""
    found = re.search(r"<(path|polygon)\b[^>]*>", block)
    if not found:
        return block
    shape = found[0]
    wanted = dict(colors, **({"stroke-width": str(width)} if width is not None else {}))
    for key, value in wanted.items():
        if re.search(rf'\s{key}="', shape):
            shape = re.sub(rf'(\s){key}="[^"]*"', rf'\g<1>{key}="{value}"', shape, count=1)
        else:
            shape = shape.replace(f"<{found[1]} ", f'<{found[1]} {key}="{value}" ', 1)
    return block.replace(found[0], shape, 1)


_LATER = re.compile(r'<(text|polygon|path)\s+class="v"[^>]*?(?:/>|>.*?</\1>)\n?', re.S)
_QUESTION = re.compile(r'<text class="q"[^>]*>\?</text>\n?')


class Frames:
    """The frames of one marked SVG: each node's looks (known, pending) worked out once, a
    frame joins them (linear in the SVG's size, however many frames)."""

    def __init__(self, marked: str, step_of: dict[str, int]) -> None:
        self.pieces: list[str | tuple[str, int | None, str]] = []
        self.known: dict[str, str] = {}
        self.pending: dict[str, str] = {}
        position = 0
        for match in NODE.finditer(marked):
            block, ident = match[0], match[1]
            index = step_of.get(ident)
            self.pieces += [marked[position:match.start()], (ident, index, block)]
            position = match.end()
            if index is not None:
                self.known[ident] = _QUESTION.sub("", block)
                later = _LATER.sub("", block)
                self.pending[ident] = _restyle(later, PENDING) if ident.startswith("s") \
                    else later
        self.pieces.append(marked[position:])

    def frame(self, current: int, current_ids: set[str]) -> str:
        """The standalone SVG of frame ``current`` (a step index): steps after it show ``?``
        (greyed), the current one is highlighted (its node id becomes ``current<k>``), and
        so is every box holding it (``current_ids``)."""
        out = []
        mine = f"s{current + 1}"
        for piece in self.pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            ident, index, block = piece
            if index is not None:
                block = (self.pending if index > current else self.known)[ident]
            if ident == mine:
                block = _restyle(block.replace(f'id="{ident}"', f'id="current{current + 1}"', 1),
                                 CURRENT, CURRENT_WIDTH)
            elif ident in current_ids:
                block = _restyle(block, {"stroke": CURRENT["stroke"]}, CURRENT_WIDTH)
            out.append(block)
        return "".join(out)
