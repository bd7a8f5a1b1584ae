"""``minigrad draw SCRIPT.py[:NAME]``: draw a graph built by your own script or function.

The script runs (not as ``__main__``); ``NAME`` names a tensor in its globals or a function
taking no arguments that returns one. Without ``NAME``: ``loss``, ``y`` or ``out`` if
defined, else the last tensor assigned at the top level.
"""

from __future__ import annotations

import argparse
import runpy
from pathlib import Path
from typing import Any

from ..cli import command
from ..tensor import Tensor
from .dot import VIEWS

DEFAULT_NAMES = ("loss", "y", "out")


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help="SCRIPT.py or SCRIPT.py:NAME (a tensor or a function)")
    parser.add_argument("--view", default="both", choices=VIEWS)
    parser.add_argument("--out", default="graph.svg",
                        help="output file: .svg, .png, .pdf or .dot (default graph.svg)")
    parser.add_argument("--steps", metavar="DIR",
                        help="also write one frame per backward step and an HTML page here")
    parser.add_argument("--collapse", action="store_true", help="fold every module into a box")
    parser.add_argument("--no-values", action="store_true", help="leave values out")


def resolve_target(target: str) -> Any:
    """Run the script named by ``target`` and return the graph root it names."""
    path, _, name = target.partition(":")
    if not Path(path).is_file():
        raise SystemExit(f"minigrad draw: no such script: {path}")
    scope = runpy.run_path(path, run_name="__minigrad_draw__")
    if name:
        if name not in scope:
            raise SystemExit(f"minigrad draw: {path} defines no {name!r}")
        found = scope[name]
        return found() if callable(found) and not isinstance(found, Tensor) else found
    for default in DEFAULT_NAMES:
        if isinstance(scope.get(default), Tensor):
            return scope[default]
    tensors = [value for value in scope.values() if isinstance(value, Tensor)]
    if not tensors:
        raise SystemExit(f"minigrad draw: {path} leaves no tensor at the top level; "
                         "name one with SCRIPT.py:NAME")
    return tensors[-1]


@command("draw", "draw the graph (and gradient graph) built by a script", _configure)
def run_draw(args: argparse.Namespace) -> int:
    """Write the figure of the target's graph (and optionally its step-through page)."""
    from .draw import draw
    from .steps import steps

    root = resolve_target(args.target)
    drawing = draw(root, view=args.view, values=not args.no_values,
                   collapse=True if args.collapse else None)
    print(f"wrote {drawing.save(args.out)}")
    if args.steps:
        pages = steps(root, args.steps)
        print(f"wrote {len(pages) - 1} frames and {pages[-1]}")
    return 0
