"""The ``train`` and ``experiment`` subcommands: toy networks with progress bars and plots."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np

from . import data as datasets
from .cli import command
from .errors import ArgumentError

LABELS = {"bn": "with BatchNorm", "ln": "with LayerNorm", "plain": "without normalisation"}
COLOURS = {"bn": "tab:blue", "ln": "tab:green", "plain": "tab:red"}
CLASS_COLOURS = ["tab:blue", "tab:red", "tab:green", "tab:orange", "tab:purple", "tab:brown",
                 "tab:pink", "tab:gray", "tab:olive", "tab:cyan"]


def parse_model(spec: str) -> list[int]:
    """'2-64-64-2' -> [2, 64, 64, 2] (input size, hidden sizes, number of classes)."""
    try:
        sizes = [int(part) for part in spec.split("-")]
    except ValueError:
        raise ArgumentError(f"--model must look like 2-64-64-2, got {spec!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise ArgumentError(f"--model needs at least two positive sizes, got {spec!r}")
    return sizes


# ------------------------------------------------------------------------------- train
def _configure_train(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="moons",
                        choices=[*datasets.TOY_DATASETS, "digits"])
    parser.add_argument("--n", type=int, default=1000, help="samples to generate (toy sets)")
    parser.add_argument("--noise", type=float, default=None, help="noise of the toy set")
    parser.add_argument("--model", default="2-64-64-2",
                        help="MLP layer sizes, e.g. 2-64-64-2, or cnn (the toy CNN, digits)")
    parser.add_argument("--activation", default="relu", choices=["relu", "sigmoid", "tanh"])
    norm = parser.add_mutually_exclusive_group()
    norm.add_argument("--bn", action="store_true", help="BatchNorm1d before each nonlinearity")
    norm.add_argument("--ln", action="store_true", help="LayerNorm before each nonlinearity")
    parser.add_argument("--impl", default="composed", choices=["composed", "fused"],
                        help="BatchNorm built from the seed's steps or as one fused node")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--optimizer", default="sgd", choices=["sgd", "momentum", "adam"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-every", type=int, default=10)
    parser.add_argument("--jit", nargs="?", const="auto", choices=["auto", "always"],
                        help="compile the training step (mg.jit): 'auto' (the default with "
                        "--jit) only if the steps left after 5 eager ones take at least "
                        f"{JIT_MIN_SECONDS:g} s eagerly; 'always' from the first step")
    parser.add_argument("--out", default="train_out", help="folder for plots and the model")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


# Eager seconds left in a run below which `train --jit` does not compile (Tiered): importing
# Numba (0.4 s), the trace and loading a cached kernel (~1.5 s) already take about 2 s.
JIT_MIN_SECONDS = 3.0


def _jit_available() -> bool:
    """Whether mg.jit can be imported (Numba installed), without importing it."""
    import importlib.util

    return importlib.util.find_spec("numba") is not None


def _lazy_jit(fn: Any) -> Any:
    """``mg.jit(fn)``, importing mg.jit only now (a run that never compiles never loads
    Numba)."""
    import minigrad as mg

    return mg.jit(fn)


@command("train", "train a toy MLP or CNN (progress bar, accuracy, loss/accuracy/boundary plots)",
         _configure_train)
def run_train(args: argparse.Namespace) -> int:
    """Train, print the final accuracy, save the model and the plots into --out."""
    import minigrad as mg

    from . import experiments as ex

    split = ex.load_dataset(args.dataset, args.n, args.noise, args.seed)
    classes = int(split[2].max()) + 1
    norm = "bn" if args.bn else "ln" if args.ln else "plain"
    mg.manual_seed(args.seed)
    if args.model == "cnn":
        norm = "bn"
        model = _cnn(args, split[0].shape[1], classes)
    else:
        model = ex.mlp(_fitting_sizes(args, split[0].shape[1], classes), args.activation, norm,
                       args.impl)
    if args.jit and not _jit_available():
        print("--jit: mg.jit is not available in this build; training eagerly")
    jit = _lazy_jit if args.jit and _jit_available() else None
    with _Progress(args.steps, args.no_progress) as bar:
        result = ex.train_classifier(
            model, split, args.lr, args.steps, args.batch_size, args.seed, args.optimizer,
            args.eval_every, progress=bar, jit=jit,
            jit_min_seconds=JIT_MIN_SECONDS if args.jit == "auto" else None)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    mg.save(model.state_dict(), out / "model.npz")
    written = [out / "model.npz", plot_training(result, out / "training.png", args)]
    if split[0].shape[1] == 2:
        written.append(plot_boundary(model, split, out / "boundary.png", args))
    print(f"test accuracy {result['test_accuracy']:.4f}  train accuracy "
          f"{result['train_accuracy']:.4f}  after {args.steps} steps "
          f"({norm}, {args.activation}, lr {args.lr})")
    for path in written:
        print(f"wrote {path}")
    return 0


def _fitting_sizes(args: argparse.Namespace, features: int, classes: int) -> list[int]:
    sizes = parse_model(args.model)
    if sizes[0] != features or sizes[-1] < classes:
        raise SystemExit(
            f"minigrad train: --model {args.model} does not fit {args.dataset}: it has "
            f"{features} features and {classes} classes (try {features}-64-64-{classes})"
        )
    return sizes


def _cnn(args: argparse.Namespace, features: int, classes: int) -> Any:
    """The toy CNN (minigrad/cnn.py): [Conv-BatchNorm2d-ReLU-MaxPool] x 2, Linear."""
    from .cnn import cnn

    if args.ln or args.activation != "relu" or math.isqrt(features) ** 2 != features:
        raise SystemExit(
            f"minigrad train: --model cnn takes square images (digits: 8x8) and uses "
            f"BatchNorm and ReLU; got {args.dataset} with {features} features"
            f"{', --ln' if args.ln else ''}, --activation {args.activation}")
    return cnn(features, classes)


class _Progress:
    """A tqdm bar used as ``progress(step, loss)``; silent when disabled."""

    def __init__(self, total: int, disabled: bool) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, disable=disabled, unit="step", desc="training")

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.bar.close()

    def __call__(self, step: int, loss: float) -> None:
        self.bar.update(1)
        if step % 10 == 0:
            self.bar.set_postfix(loss=f"{loss:.4f}")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _smooth(values: list[float], window: int = 10) -> np.ndarray:
    """Running mean over ``window`` steps (shorter at the start)."""
    values = np.asarray(values, float)
    sums = np.cumsum(np.r_[0.0, values])
    starts = np.maximum(np.arange(1, len(values) + 1) - window, 0)
    return (sums[1:] - sums[starts]) / (np.arange(1, len(values) + 1) - starts)


def plot_training(result: dict[str, Any], path: Path, args: argparse.Namespace) -> Path:
    """Loss per step (raw and smoothed) and train/test accuracy against steps."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    steps = np.arange(1, len(result["loss"]) + 1)
    left.plot(steps, result["loss"], color="0.75", lw=0.8, label="per step")
    left.plot(steps, _smooth(result["loss"]), color="tab:blue", lw=1.8,
              label="running mean (10 steps)")
    left.set(xlabel="training step", ylabel="cross-entropy loss", title="Training loss")
    left.set_ylim(bottom=0)
    left.legend()
    right.plot(result["steps"], result["train_accuracy_curve"], label="train", color="tab:orange")
    right.plot(result["steps"], result["test_accuracy_curve"], label="test", color="tab:blue")
    right.set(xlabel="training step", ylabel="accuracy", title="Accuracy", ylim=(0, 1.02))
    right.legend(loc="lower right")
    for axis in (left, right):
        axis.grid(alpha=0.3)
    kind = "CNN" if args.model == "cnn" else f"MLP {args.model}"
    fig.suptitle(f"{args.dataset}: {kind}, {args.activation}"
                 f"{', BatchNorm' if args.bn else ', LayerNorm' if args.ln else ''}, "
                 f"{args.optimizer} lr {args.lr}, batch {args.batch_size} — final test accuracy "
                 f"{result['test_accuracy']:.3f}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_boundary(model: Any, split: tuple[np.ndarray, ...], path: Path,
                  args: argparse.Namespace) -> Path:
    """The predicted class over the plane, with the train and test points on top."""
    import minigrad as mg

    plt = _pyplot()
    X = np.concatenate([split[0], split[1]])
    low, high = X.min(0) - 0.5, X.max(0) + 0.5
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], 250), np.linspace(low[1], high[1], 250))
    grid = np.c_[gx.ravel(), gy.ravel()].astype(split[0].dtype)
    model.eval()
    with mg.no_grad():
        predicted = np.argmax(model(mg.Tensor(grid)).data, axis=1).reshape(gx.shape)
    fig, axis = plt.subplots(figsize=(6.2, 5.4))
    classes = int(max(split[2].max(), split[3].max())) + 1
    from matplotlib.colors import ListedColormap

    palette = [CLASS_COLOURS[k % len(CLASS_COLOURS)] for k in range(classes)]
    cmap = ListedColormap(palette)  # class k gets palette[k] in the regions and the points
    axis.contourf(gx, gy, predicted, levels=np.arange(classes + 1) - 0.5, cmap=cmap, alpha=0.25)
    for rows, labels, marker in ((split[0], split[2], "o"), (split[1], split[3], "^")):
        axis.scatter(rows[:, 0], rows[:, 1], c=labels, cmap=cmap, vmin=-0.5,
                     vmax=classes - 0.5, s=14, marker=marker, edgecolors="k", linewidths=0.3)
    axis.legend(handles=_boundary_legend(palette), loc="best", fontsize=8)
    axis.set(xlabel="$x_1$", ylabel="$x_2$",
             title=f"Decision boundary ({args.dataset}, test accuracy "
                   f"{float(np.mean(_predict(model, split[1]) == split[3])):.3f})")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _boundary_legend(palette: list[str]) -> list[Any]:
    """Legend entries: marker shape = train/test, colour = class."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    shapes = [Line2D([], [], ls="", marker=m, color="0.5", markeredgecolor="k", label=name)
              for m, name in (("o", "train points"), ("^", "test points"))]
    colours = [Patch(color=colour, label=f"class {k}") for k, colour in enumerate(palette)]
    return shapes + colours


def _predict(model: Any, X: np.ndarray) -> np.ndarray:
    import minigrad as mg

    model.eval()
    with mg.no_grad():
        return np.argmax(model(mg.Tensor(X)).data, axis=1)


# -------------------------------------------------------------------------- experiment
EXPERIMENTS = {"bn-vs-plain": ("bn", "plain"), "bn-vs-ln": ("bn", "ln"),
               "all": ("bn", "ln", "plain"), "norms-vs-batch": ()}


def _configure_experiment(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", choices=list(EXPERIMENTS),
                        help="bn-vs-plain: the paper's Figure 1; bn-vs-ln: tiny batches; "
                        "norms-vs-batch: the CNN with each norm at batch sizes 2-128")
    parser.add_argument("--dataset", default="moons",
                        choices=[*datasets.TOY_DATASETS, "digits"])
    parser.add_argument("--noise", type=float, default=None)
    parser.add_argument("--activation", default="sigmoid", choices=["relu", "sigmoid", "tanh"])
    parser.add_argument("--hidden", default="100,100,100", help="hidden sizes, comma separated")
    parser.add_argument("--lr", type=float, default=None,
                        help="2.0; norms-vs-batch: 0.1 at batch 32, scaled with the batch size")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=60)
    parser.add_argument("--batch-sizes", default="2,4,8,32,128", help="norms-vs-batch only")
    parser.add_argument("--epochs", type=float, default=4.0, help="norms-vs-batch only")
    parser.add_argument("--seeds", default="0", help="norms-vs-batch: comma separated")
    parser.add_argument("--jit", action="store_true", help="compile the training steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--impl", default="composed", choices=["composed", "fused"])
    parser.add_argument("--eval-every", type=int, default=10)
    parser.add_argument("--out", default="experiment_out", help="folder for the figure")


@command("experiment", "BatchNorm experiments: Figure-1-style plot (PNG and SVG)",
         _configure_experiment)
def run_experiment(args: argparse.Namespace) -> int:
    """Run the comparison, print a summary and write the figure."""
    from . import experiments as ex

    if args.name == "norms-vs-batch":
        return run_norms_vs_batch(args)
    args.lr = 2.0 if args.lr is None else args.lr
    hidden = tuple(int(h) for h in args.hidden.split(","))
    results = ex.compare_norms(args.dataset, args.activation, hidden, args.lr, args.steps,
                               args.batch_size, args.seed, args.impl, EXPERIMENTS[args.name],
                               noise=args.noise, eval_every=args.eval_every)
    for norm, result in results.items():
        reached = ex.steps_to_accuracy(result, 0.9)
        print(f"{LABELS[norm]:>24}: test accuracy {result['test_accuracy']:.4f}, "
              f"90% reached at step {reached if reached else 'never'}, final loss "
              f"{np.mean(result['loss'][-10:]):.4f}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for path in plot_figure1(results, out / args.name, args):
        print(f"wrote {path}")
    return 0


def run_norms_vs_batch(args: argparse.Namespace) -> int:
    """Train the CNN with each norm at each batch size; print the table, write the figure."""
    from . import norms_experiment as nx

    batch_sizes = tuple(int(b) for b in args.batch_sizes.split(","))
    seeds = tuple(int(s) for s in args.seeds.split(","))
    base_lr = 0.1 if args.lr is None else args.lr
    import minigrad as mg

    jit = mg.jit if args.jit else None

    def report(norm: str, batch_size: int, seed: int, accuracy: float) -> None:
        print(f"  {nx.LABELS[norm]:<32} batch {batch_size:>4}  seed {seed}: {accuracy:.4f}",
              flush=True)

    table = nx.norms_vs_batch(batch_sizes, nx.NORMS, args.epochs, base_lr, seeds,
                              jit=jit, progress=report)
    print(nx.format_table(table, batch_sizes))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    title = (f"Toy CNN on 8x8 digits, {args.epochs:g} epochs of SGD, lr {base_lr:g} x "
             f"batch/{nx.REFERENCE_BATCH}, {len(seeds)} seed(s)")
    for path in nx.plot(table, batch_sizes, out / "norms-vs-batch", title):
        print(f"wrote {path}")
    return 0


def _band_limits(band: np.ndarray, least: float = 2.0) -> tuple[float, float]:
    """y-limits around the band, at least ``least`` wide so small jitter is not magnified."""
    low, high = float(band.min()), float(band.max())
    middle, width = (low + high) / 2, max(high - low, least)
    return middle - 0.6 * width, middle + 0.85 * width  # room for the legend on top


def plot_figure1(results: dict[str, dict[str, Any]], stem: Path,
                 args: argparse.Namespace) -> list[Path]:
    """(a) test accuracy against steps; then one panel per run with the 15/50/85th
    percentile band of the probed unit's input to its nonlinearity (the paper's Fig. 1)."""
    plt = _pyplot()
    panels = 1 + len(results)
    fig, axes = plt.subplots(1, panels, figsize=(4.6 * panels, 4.2))
    first = axes[0]
    for norm, result in results.items():
        first.plot(result["steps"], result["test_accuracy_curve"], color=COLOURS[norm],
                   label=LABELS[norm], lw=1.8)
    first.set(xlabel="training step", ylabel="test accuracy", ylim=(0, 1.02),
              title="(a) Test accuracy")
    first.legend(loc="lower right")
    for letter, axis, (norm, result) in zip("bcd", axes[1:], results.items(), strict=False):
        band = result["percentiles"]
        axis.fill_between(result["steps"], band[:, 0], band[:, 2], color=COLOURS[norm],
                          alpha=0.25, label="15th–85th percentile")
        axis.plot(result["steps"], band[:, 1], color=COLOURS[norm], lw=1.8, label="median")
        axis.set(xlabel="training step", ylabel="input to the nonlinearity",
                 title=f"({letter}) {LABELS[norm]}", ylim=_band_limits(band))
        axis.legend(loc="upper right", ncol=2, fontsize=8)
    for axis in axes:
        axis.grid(alpha=0.3)
    fig.suptitle(f"{args.dataset}, {len(args.hidden.split(','))} hidden layers "
                 f"({args.hidden}) of {args.activation} units, SGD lr {args.lr}, batch "
                 f"{args.batch_size}; one last-hidden-layer unit over the test set")
    return save_png_and_svg(plt, fig, stem)


def save_png_and_svg(plt: Any, fig: Any, stem: Path) -> list[Path]:
    """Lay out ``fig``, write it as ``stem``.png (120 dpi) and ``stem``.svg, close it."""
    fig.tight_layout()
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    fig.savefig(paths[0], dpi=120)
    fig.savefig(paths[1])
    plt.close(fig)
    return paths
