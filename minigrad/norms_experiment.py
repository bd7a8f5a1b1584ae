"""The seed's small-batch claim as an experiment (``minigrad experiment norms-vs-batch``).

The seed document says BatchNorm suffers at small batch sizes: its mean and variance are
estimated from the batch, so with 2 or 4 samples they are noisy, and the running averages
used at test time do not match what training saw. GroupNorm and LayerNorm normalise each
sample on its own and should not care (Wu & He, 2018, Figure 1).

Setup, as in the GroupNorm paper: the toy CNN (``minigrad.cnn``) on the 8x8 digits, trained
with SGD for the same number of epochs at every batch size B, the learning rate scaled
linearly with the batch size (``lr = base_lr * B / 32``), and evaluated in eval mode
(BatchNorm then uses its running statistics). Every run of one seed starts from the same
weights where the architectures share them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import experiments as ex
from ._state import manual_seed
from .cnn import cnn

NORMS = ("bn", "gn", "ln", "plain")
BATCH_SIZES = (2, 4, 8, 32, 128)
REFERENCE_BATCH = 32
LABELS = {"bn": "BatchNorm", "gn": "GroupNorm (4 channels/group)",
          "ln": "LayerNorm (GroupNorm, 1 group)", "plain": "no normalisation"}
COLOURS = {"bn": "tab:blue", "gn": "tab:orange", "ln": "tab:green", "plain": "tab:red"}


def steps_for(epochs: float, samples: int, batch_size: int) -> int:
    """Steps that show the model ``epochs`` passes over ``samples`` at ``batch_size``."""
    return max(1, round(epochs * samples / batch_size))


def run_one(norm: str, batch_size: int, split: tuple[np.ndarray, ...], epochs: float,
            base_lr: float, seed: int, jit: Any = None) -> float:
    """Train one CNN and return its test accuracy (eval mode)."""
    manual_seed(seed)
    model = cnn(split[0].shape[1], int(split[2].max()) + 1, norm=norm)
    steps = steps_for(epochs, len(split[2]), batch_size)
    lr = base_lr * batch_size / REFERENCE_BATCH
    result = ex.train_classifier(model, split, lr, steps, batch_size, seed=seed,
                                 eval_every=steps, jit=jit)
    return float(result["test_accuracy"])


def norms_vs_batch(batch_sizes: tuple[int, ...] = BATCH_SIZES, norms: tuple[str, ...] = NORMS,
                   epochs: float = 4.0, base_lr: float = 0.1, seeds: tuple[int, ...] = (0,),
                   split: tuple[np.ndarray, ...] | None = None, jit: Any = None,
                   progress: Any = None) -> dict[str, np.ndarray]:
    """Test accuracy of each norm at each batch size: ``{norm: array (seeds, batches)}``.

    ``progress(norm, batch_size, seed, accuracy)`` is called after every run.
    """
    split = ex.load_dataset("digits") if split is None else split
    table = {norm: np.zeros((len(seeds), len(batch_sizes))) for norm in norms}
    for norm in norms:
        for column, batch_size in enumerate(batch_sizes):
            for row, seed in enumerate(seeds):
                accuracy = run_one(norm, batch_size, split, epochs, base_lr, seed, jit)
                table[norm][row, column] = accuracy
                if progress is not None:
                    progress(norm, batch_size, seed, accuracy)
    return table


def format_table(table: dict[str, np.ndarray], batch_sizes: tuple[int, ...]) -> str:
    """Mean test accuracy (min-max over seeds when there are several) per norm and batch."""
    several = any(len(accuracies) > 1 for accuracies in table.values())
    width = 24 if several else 10
    lines = [f"{'batch size':>32}" + "".join(f"{b:>{width}}" for b in batch_sizes)]
    for norm, accuracies in table.items():
        cells = []
        for column in accuracies.T:
            spread = (f" ({column.min():.3f}-{column.max():.3f})" if len(column) > 1 else "")
            cells.append(f"{column.mean():.4f}{spread}".rjust(width))
        lines.append(f"{LABELS[norm]:>32}" + "".join(cells))
    return "\n".join(lines)


def plot(table: dict[str, np.ndarray], batch_sizes: tuple[int, ...], stem: Path,
         title: str) -> list[Path]:
    """Final test accuracy against batch size (log scale), one line per norm; PNG and SVG."""
    from .train import _pyplot, save_png_and_svg

    plt = _pyplot()
    fig, axis = plt.subplots(figsize=(7.0, 4.6))
    for norm, accuracies in table.items():
        mean = accuracies.mean(axis=0)
        axis.plot(batch_sizes, mean, marker="o", lw=1.8, color=COLOURS[norm],
                  label=LABELS[norm])
        if len(accuracies) > 1:
            axis.fill_between(batch_sizes, accuracies.min(axis=0), accuracies.max(axis=0),
                              color=COLOURS[norm], alpha=0.15)
    axis.set_xscale("log", base=2)
    axis.set_xticks(batch_sizes, [str(b) for b in batch_sizes])
    axis.set(xlabel="batch size (per step)", ylabel="test accuracy (eval mode)", title=title)
    axis.grid(alpha=0.3)
    axis.legend(loc="lower right")
    return save_png_and_svg(plt, fig, stem)
