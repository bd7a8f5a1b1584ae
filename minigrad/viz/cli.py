"""``minigrad draw SCRIPT.py[:NAME]``: draw a graph built by your own script or function.

The script runs (not as ``__main__``, with ``sys.argv`` = the script and ``--args``). What
is drawn: ``NAME`` - a tensor in its globals or a function taking no arguments that returns
one; without ``NAME``, the script's last backward pass (``backward()`` or ``mg.grad``: the
final loss of a training script, drawn with the values its leaves had in that pass), else
``loss``, ``y`` or ``out`` if defined, else the last tensor assigned at the top level.
``--stop-after N`` ends the script after its N-th backward pass (a training script then
draws in a moment). A script that fails, or names nothing to draw, gets a one-line message
and exit status 1, not a traceback.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import traceback
from pathlib import Path
from typing import Any

from ..cli import command
from ..tensor import Tensor
from .dot import VIEWS
from .model import root_outputs
from .render import RenderError

DEFAULT_NAMES = ("loss", "y", "out")


class DrawError(Exception):
    """Why ``minigrad draw`` cannot draw (shown as one line, exit status 1)."""


class _Enough(BaseException):
    """Ends the script after the wanted backward pass (a BaseException: a script's
    ``except Exception`` does not swallow it)."""


class PassRecorder:
    """A pass hook keeping the last backward pass and the arrays its leaves held then
    (``assign_`` replaces a leaf's array, never mutates it, so keeping them is free)."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.stop_after = stop_after
        self.count = 0
        self.graph: Any = None
        self.leaf_values: list[tuple[Tensor, Any]] = []

    def __call__(self, graph: Any) -> None:
        self.count += 1
        self.graph = graph
        self.leaf_values = [(node, node.data) for node in graph.forward if node.is_leaf]
        if self.stop_after is not None and self.count >= self.stop_after:
            raise _Enough

    def rewind(self) -> Any:
        """The last pass's graph, its leaves holding the values they had in that pass (an
        optimizer step after it would otherwise show other weights than the pass used)."""
        for node, data in self.leaf_values:
            node.data = data
        return self.graph


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help="SCRIPT.py or SCRIPT.py:NAME (a tensor or a function)")
    parser.add_argument("--view", default="both", choices=VIEWS)
    parser.add_argument("--out", default="graph.svg",
                        help="output file: .svg, .png, .pdf or .dot (default graph.svg)")
    parser.add_argument("--steps", metavar="DIR",
                        help="also write one frame per backward step and an HTML page here")
    parser.add_argument("--collapse", action="store_true", help="fold every module into a box")
    parser.add_argument("--no-values", action="store_true", help="leave values out")
    parser.add_argument("--args", default="", metavar="'ARGS'",
                        help="arguments for the script, in one string "
                             "(e.g. --args '--digits --steps 5'; one option alone: "
                             "--args=--digits)")
    parser.add_argument("--stop-after", type=int, metavar="N",
                        help="end the script after its N-th backward pass and draw that pass")


def _failure(path: str, error: BaseException) -> DrawError:
    """A one-line message naming the script's line that raised ``error``."""
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__)
             if Path(frame.filename).resolve() == Path(path).resolve()]
    if isinstance(error, SyntaxError) and error.lineno:
        lines.append(error.lineno)
    where = f" at line {lines[-1]}" if lines else ""
    detail = f"{type(error).__name__}: {error}".rstrip(": ")
    return DrawError(f"{path} failed{where}: {detail}")


def run_script(path: str, script_args: list[str], recorder: PassRecorder) -> dict[str, Any]:
    """Run the script with ``recorder`` seeing its backward passes; its globals."""
    from .._state import STATE

    if not Path(path).is_file():
        raise DrawError(f"no such script: {path}")
    try:
        code = compile(Path(path).read_bytes(), path, "exec")
    except (SyntaxError, ValueError) as error:
        raise _failure(path, error) from None
    scope: dict[str, Any] = {"__name__": "__minigrad_draw__", "__file__": path,
                             "__builtins__": __builtins__}
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [path, *script_args]
    sys.path.insert(0, str(Path(path).resolve().parent))  # as `python SCRIPT.py` does
    STATE.pass_hooks.append(recorder)
    try:
        exec(code, scope)
    except _Enough:
        pass
    except SystemExit as error:
        if error.code not in (None, 0):
            raise DrawError(f"{path} exited with status {error.code}") from None
    except Exception as error:
        raise _failure(path, error) from None
    finally:
        STATE.pass_hooks.remove(recorder)
        sys.argv = saved_argv
        sys.path[:] = saved_path
    return scope


def _named_root(path: str, name: str, scope: dict[str, Any]) -> Any:
    if name not in scope:
        raise DrawError(f"{path} defines no {name!r}")
    found = scope[name]
    if callable(found) and not isinstance(found, Tensor):
        try:
            found = found()
        except Exception as error:
            raise _failure(path, error) from None
    try:
        root_outputs(found)
    except TypeError:
        raise DrawError(f"{path}: {name!r} is a {type(found).__name__}, not a tensor "
                        "(or a function returning one)") from None
    return found


def resolve_target(target: str, script_args: list[str] | None = None,
                   stop_after: int | None = None) -> Any:
    """Run the script named by ``target`` and return the graph root to draw (see the
    module docstring for the choice); ``DrawError`` says why there is none."""
    path, _, name = target.partition(":")
    if stop_after is not None and stop_after < 1:
        raise DrawError(f"--stop-after must be at least 1, got {stop_after}")
    recorder = PassRecorder(stop_after)
    scope = run_script(path, list(script_args or []), recorder)
    if name:
        return _named_root(path, name, scope)
    if recorder.graph is not None:
        return recorder.rewind()
    for default in DEFAULT_NAMES:
        if isinstance(scope.get(default), Tensor):
            return scope[default]
    tensors = [value for value in scope.values() if isinstance(value, Tensor)]
    if not tensors:
        hint = (" (it runs as __minigrad_draw__: code under `if __name__ == \"__main__\"` "
                "does not run)" if "__main__" in Path(path).read_text(errors="replace") else "")
        raise DrawError(f"{path} runs no backward pass and leaves no tensor at the top "
                        f"level{hint}; name one with SCRIPT.py:NAME")
    return tensors[-1]


@command("draw", "draw the graph (and gradient graph) built by a script", _configure)
def run_draw(args: argparse.Namespace) -> int:
    """Write the figure of the target's graph (and optionally its step-through page)."""
    from .draw import draw
    from .steps import steps

    try:
        try:
            script_args = shlex.split(args.args)
        except ValueError as error:
            raise DrawError(f"--args {args.args!r}: {error}") from None
        root = resolve_target(args.target, script_args, args.stop_after)
        drawing = draw(root, view=args.view, values=not args.no_values,
                       collapse=True if args.collapse else None)
        print(f"wrote {drawing.save(args.out)}")
        if args.steps:
            if not drawing.model.steps:
                raise DrawError("--steps: the graph has no backward steps (nothing in it "
                                "requires grad)")
            pages = steps(drawing.model, args.steps)  # the model the figure was drawn from
            print(f"wrote {len(pages) - 1} frames and {pages[-1]}")
    except (DrawError, RenderError, OSError) as error:
        print(f"minigrad draw: {error}", file=sys.stderr)
        return 1
    return 0
