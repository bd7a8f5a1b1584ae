"""The ``minigrad`` command (also ``python -m minigrad``).

Each subcommand is a function ``(args) -> int`` registered in ``COMMANDS`` with the
function that adds its arguments; other modules add theirs through ``command``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import numpy as np

Handler = Callable[[argparse.Namespace], int]
Configure = Callable[[argparse.ArgumentParser], None]
COMMANDS: dict[str, tuple[str, Configure, Handler]] = {}


def command(name: str, help_text: str, configure: Configure) -> Callable[[Handler], Handler]:
    """Register ``handler`` as subcommand ``name``."""

    def register(handler: Handler) -> Handler:
        COMMANDS[name] = (help_text, configure, handler)
        return handler

    return register


def seed_relu_example(impl: str = "composed", eps: float = 0.0,
                      values: Sequence[float] = (-1.0, 1.0)) -> np.ndarray:
    """The seed's snippet, as written: BN(eps=0) -> ReLU -> sum -> backward; returns x.grad."""
    import minigrad as mg

    net = mg.nn.BatchNorm1d(1, momentum=0, eps=eps, affine=False, impl=impl)
    x = mg.tensor(list(values), dtype="float32", requires_grad=True, name="x")
    y = mg.nn.ReLU()(net(x.view(-1, 1))).sum()
    y.backward()
    return x.grad.numpy()


def _print_seed_example() -> None:
    print("The seed's example: BatchNorm1d(1, momentum=0, eps=0, affine=False) -> ReLU -> sum")
    print("  net = mg.nn.BatchNorm1d(1, momentum=0, eps=0, affine=False)")
    print('  x = mg.tensor([-1, 1], dtype="float32", requires_grad=True)')
    print("  y = mg.nn.ReLU()(net(x.view(-1, 1))).sum()")
    print("  y.backward()")
    for impl in ("composed", "fused"):
        print(f"  print(x.grad)   # impl={impl!r}: {seed_relu_example(impl)}")
    grad_eps = seed_relu_example("composed", eps=1e-5)
    print(f"  with eps=1e-5 instead: x.grad = {grad_eps}  (no longer an exact cancellation)")


def _configure_compare(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--shape", default="8x4", help="N x D of the batch (default 8x4)")
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    parser.add_argument("--eps", type=float, default=1e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--norm", default="batch",
                        choices=["batch", "layer", "group", "instance", "all"],
                        help="which normalisation (default batch; group and instance take "
                             "N x D x 3 inputs)")
    parser.add_argument("--time", action="store_true",
                        help="also time forward + backward of each implementation")
    parser.add_argument("--time-shape", default="1024x1024",
                        help="N x D for --time (default 1024x1024)")


@command("compare", "composed vs fused BatchNorm (and --norm layer/group/instance/all): "
         "values and gradients of order 0-3",
         _configure_compare)
def run_compare(args: argparse.Namespace) -> int:
    """Print the composed-vs-fused difference table."""
    from .compare import NORM_KINDS, compare_bn, compare_norm, format_table

    n, d = (int(v) for v in args.shape.lower().split("x"))
    kinds = list(NORM_KINDS) if args.norm == "all" else [args.norm]
    for kind in kinds:
        shape = NORM_KINDS[kind](n, d)
        title = {"batch": "BatchNorm", "layer": "LayerNorm", "group": "GroupNorm",
                 "instance": "InstanceNorm"}[kind]
        print(f"Composed vs fused {title}, shape {shape}, {args.dtype}, eps={args.eps}")
        rows = (compare_bn((n, d), args.dtype, args.eps, args.seed) if kind == "batch"
                else compare_norm(kind, (n, d), args.dtype, args.eps, args.seed))
        print(format_table(rows))
    if args.time:
        from .compare import time_norm
        from .timing import timing_report

        tn, td = (int(v) for v in args.time_shape.lower().split("x"))
        for kind in kinds:
            print()
            print(timing_report(tn, td, args.dtype, args.eps) if kind == "batch"
                  else time_norm(kind, (tn, td), args.dtype, args.eps))
    return 0


def _configure_demo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="demo_out", help="folder for the figures")


@command("demo", "the seed's ReLU example, its figures, and the composed-vs-fused table",
         _configure_demo)
def run_demo(args: argparse.Namespace) -> int:
    """The project's main job: the seed's example, the derivation figures (forward,
    backward, both, step-through pages, composed vs fused) and the comparison table."""
    from .compare import compare_bn, format_table
    from .viz.figures import write_demo_figures

    _print_seed_example()
    print()
    print(f"Figures (open the .html pages in a browser to step through the derivation), "
          f"in {args.out}:")
    for what, path in write_demo_figures(args.out):
        print(f"  {what:<45} {path}")
    print()
    print("Composed vs fused BatchNorm, shape (8, 4), float64, eps=1e-5")
    print(format_table(compare_bn()))
    return 0


# Modules that register further subcommands with ``@command`` (one import each).
COMMAND_MODULES: list[str] = ["minigrad.train", "minigrad.viz.cli"]


def _load_commands() -> None:
    import importlib

    for module in COMMAND_MODULES:
        importlib.import_module(module)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand."""
    _load_commands()
    parser = argparse.ArgumentParser(prog="minigrad", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, configure, _) in COMMANDS.items():
        configure(commands.add_parser(name, help=help_text))
    args = parser.parse_args(argv)
    return COMMANDS[args.command][2](args)


if __name__ == "__main__":
    sys.exit(main())
