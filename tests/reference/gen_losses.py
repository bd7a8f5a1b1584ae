"""Reference values from PyTorch for tests/test_losses.py: every loss of
``nn.functional`` with its options, in every reduction, values and gradients.

Run with the project's torch (2.13) to regenerate ``losses_torch.npz``:

    .venv/bin/python tests/reference/gen_losses.py

The inputs are made with numpy from a fixed seed and stored beside the outputs. A case
is a function name of ``nn.functional``, the names of its positional inputs and its
keyword arguments (``In("name")`` names an input); ``run`` evaluates it with either
library (``torch`` or ``minigrad``: the same calls work on both), so the tests compare
minigrad with the committed file always and with live PyTorch when it is importable.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

HERE = Path(__file__).parent
OUTPUT = HERE / "losses_torch.npz"
REDUCTIONS = ("none", "mean", "sum")


class In(str):
    """A keyword argument that is one of the inputs, by name."""


class Case(NamedTuple):
    """fn(*inputs[args], **kwargs); gradients of sum(out * probe) by the inputs at ``diff``."""

    fn: str
    args: tuple[str, ...]
    kwargs: dict[str, Any]
    diff: tuple[int, ...] = (0,)
    reductions: tuple[str, ...] = REDUCTIONS


W = In("class_weight")
BASE_CASES: dict[str, Case] = {
    "ce": Case("cross_entropy", ("logits", "targets"), {}),
    "ce_weight": Case("cross_entropy", ("logits", "targets"), {"weight": W}),
    "ce_smooth": Case("cross_entropy", ("logits", "targets"), {"label_smoothing": 0.2}),
    "ce_weight_smooth_ignore1": Case(
        "cross_entropy", ("logits", "targets_with_1"),
        {"weight": W, "ignore_index": 1, "label_smoothing": 0.1}),
    "ce_nd": Case("cross_entropy", ("logits_nd", "targets_nd"),
                  {"weight": W, "label_smoothing": 0.15}),
    "ce_unbatched": Case("cross_entropy", ("logits_1d", "target_0d"),
                         {"weight": W, "label_smoothing": 0.15}),
    "ce_prob": Case("cross_entropy", ("logits", "probs"),
                    {"weight": W, "label_smoothing": 0.15}, diff=(0, 1)),
    "ce_prob_nd": Case("cross_entropy", ("logits_nd", "probs_nd"), {"weight": W},
                       diff=(0, 1)),
    "ce_prob_unbatched": Case("cross_entropy", ("logits_1d", "probs_1d"), {}, diff=(0, 1)),
    "nll": Case("nll_loss", ("log_probs", "targets"), {}),
    "nll_weight_ignore1": Case("nll_loss", ("log_probs", "targets_with_1"),
                               {"weight": W, "ignore_index": 1}),
    "nll_nd": Case("nll_loss", ("logits_nd", "targets_nd"), {"weight": W}),
    "nll_unbatched": Case("nll_loss", ("logits_1d", "target_0d"), {}),
    "bce": Case("binary_cross_entropy", ("p", "y"), {}, diff=(0, 1)),
    "bce_weight": Case("binary_cross_entropy", ("p", "y"), {"weight": W}, diff=(0, 1)),
    "bce_edges": Case("binary_cross_entropy", ("p_edges", "y_edges"), {}, diff=()),
    "bce_logits": Case("binary_cross_entropy_with_logits", ("z", "y"), {}, diff=(0, 1)),
    "bce_logits_weights": Case("binary_cross_entropy_with_logits", ("z", "y"),
                               {"weight": In("row_weight"), "pos_weight": W}, diff=(0, 1)),
    "huber": Case("huber_loss", ("pred", "target"), {}, diff=(0, 1)),
    "huber_delta": Case("huber_loss", ("pred", "target"), {"delta": 0.7}, diff=(0, 1)),
    "smooth_l1": Case("smooth_l1_loss", ("pred", "target"), {}, diff=(0, 1)),
    "smooth_l1_beta": Case("smooth_l1_loss", ("pred", "target"), {"beta": 0.7}, diff=(0, 1)),
    "smooth_l1_beta0": Case("smooth_l1_loss", ("pred", "target"), {"beta": 0.0},
                            diff=(0, 1)),
    "l1": Case("l1_loss", ("pred", "target_tied"), {}, diff=(0, 1)),
    "mse": Case("mse_loss", ("pred", "target"), {}, diff=(0, 1)),
    "kl": Case("kl_div", ("log_probs", "probs_with_0"), {},
               reductions=(*REDUCTIONS, "batchmean")),
    "kl_log_target": Case("kl_div", ("log_probs", "log_probs_b"), {"log_target": True},
                          diff=(0, 1), reductions=(*REDUCTIONS, "batchmean")),
    "soft_margin": Case("soft_margin_loss", ("pred", "signs"), {}),
    **{f"softmax_dim{d}": Case("softmax", ("logits_nd",), {"dim": d}, reductions=())
       for d in (0, 1, 2, 3, -1)},
    **{f"log_softmax_dim{d}": Case("log_softmax", ("logits_nd",), {"dim": d}, reductions=())
       for d in (0, 1, 2, 3, -1)},
    **{f"normalize_p{p}_dim{d}": Case("normalize", ("with_zero_column",), {"p": p, "dim": d},
                                      reductions=())
       for p, d in ((2.0, 1), (1.0, 0), (3.0, -1), (float("inf"), 1))},
    "cosine_similarity": Case("cosine_similarity", ("pred", "target"), {}, diff=(0, 1),
                              reductions=()),
    "cosine_similarity_dim0_broadcast": Case(
        "cosine_similarity", ("with_zero_column", "column"), {"dim": 0, "eps": 1e-6},
        diff=(0, 1), reductions=()),
    "softmax_0d": Case("softmax", ("scalar",), {"dim": 0}, reductions=()),
    "log_softmax_0d": Case("log_softmax", ("scalar",), {"dim": -1}, reductions=()),
}


def cases() -> Iterator[tuple[str, Case]]:
    """Every case once per reduction: ``name_reduction`` (or ``name`` without one)."""
    for name, case in BASE_CASES.items():
        if not case.reductions:
            yield name, case
        for reduction in case.reductions:
            yield f"{name}_{reduction}", case._replace(
                kwargs={**case.kwargs, "reduction": reduction})


def inputs() -> dict[str, np.ndarray]:
    """Fixed float64 and int64 inputs (numpy, seed 16)."""
    rng = np.random.default_rng(16)
    logits = rng.normal(size=(5, 4)) * 2
    logits_nd = rng.normal(size=(3, 4, 2, 3))
    targets_nd = rng.integers(0, 4, (3, 2, 3))
    targets_nd[0, 1, 2] = targets_nd[2, 0, 0] = -100
    pred = rng.normal(size=(3, 4)) * 2
    target = pred + rng.normal(size=(3, 4)) * 1.2
    target_tied = target.copy()
    target_tied[0, 0] = pred[0, 0]
    probs = rng.dirichlet(np.ones(4), size=5)
    probs_with_0 = rng.dirichlet(np.ones(4), size=5)
    probs_with_0[1, 2] = 0.0
    probs_with_0[1] /= probs_with_0[1].sum()
    return {
        "logits": logits,
        "targets": np.array([0, 3, 1, -100, 2], np.int64),
        "targets_with_1": np.array([0, 3, 1, 1, 2], np.int64),
        "class_weight": rng.uniform(0.2, 2.0, 4),
        "logits_nd": logits_nd,
        "targets_nd": targets_nd.astype(np.int64),
        "logits_1d": rng.normal(size=4),
        "target_0d": np.array(2, np.int64),
        "probs": probs,
        "probs_nd": np.moveaxis(rng.dirichlet(np.ones(4), size=(3, 2, 3)), -1, 1).copy(),
        "probs_1d": rng.dirichlet(np.ones(4)),
        "log_probs": np.log(rng.dirichlet(np.ones(4), size=5)),
        "log_probs_b": np.log(rng.dirichlet(np.ones(4), size=5)),
        "probs_with_0": probs_with_0,
        "p": rng.uniform(0.05, 0.95, (3, 4)),
        "y": rng.uniform(0.0, 1.0, (3, 4)),
        "p_edges": np.array([0.0, 1.0, 0.0, 1.0, 1e-50, 1 - 1e-16, 0.5]),
        "y_edges": np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.25]),
        "z": np.array([[-1e4, -30.0, -2.0, 0.0], [0.5, 3.0, 40.0, 1e4], [-0.3, 0.2, 1.0, -5.0]]),
        "row_weight": rng.uniform(0.5, 1.5, (3, 1)),
        "pred": pred,
        "target": target,
        "target_tied": target_tied,
        "signs": np.sign(rng.normal(size=(3, 4))),
        "scalar": np.array(3.0),
        **_similarity_inputs(),
    }


def _similarity_inputs() -> dict[str, np.ndarray]:
    """Inputs of normalize and cosine_similarity (their own seed: the others stay put)."""
    rng = np.random.default_rng(17)
    with_zero_column = rng.normal(size=(3, 4))
    with_zero_column[:, 2] = 0.0
    return {"with_zero_column": with_zero_column, "column": rng.normal(size=(3, 1))}


def probe(shape: tuple[int, ...]) -> np.ndarray:
    """The fixed weights w of sum(out * w), whose gradient the tests compare."""
    size = int(np.prod(shape))
    return np.linspace(-1.0, 1.5, max(size, 1))[:size].reshape(shape)


def run(lib: Any, functional: Any, case: Case, x: dict[str, np.ndarray]
        ) -> dict[str, np.ndarray]:
    """``case`` in ``lib`` (torch or minigrad): {'value': ..., 'grad0': ..., ...}."""
    args = [lib.tensor(x[name], requires_grad=i in case.diff)
            for i, name in enumerate(case.args)]
    kwargs = {key: lib.tensor(x[value]) if isinstance(value, In) else value
              for key, value in case.kwargs.items()}
    out = getattr(functional, case.fn)(*args, **kwargs)
    result = {"value": np.asarray(out.detach().numpy())}
    if case.diff:
        (out * lib.tensor(probe(tuple(out.shape)))).sum().backward()
        for i in case.diff:
            result[f"grad{i}"] = np.asarray(args[i].grad.numpy())
    return result


@functools.cache
def committed() -> dict[str, np.ndarray]:
    """The values written by ``main`` (read once per test session)."""
    return dict(np.load(OUTPUT, allow_pickle=False))


@functools.cache
def compute() -> dict[str, np.ndarray]:
    """Inputs and PyTorch's outputs (``case/value``, ``case/grad0``, ...), as numpy arrays."""
    import warnings

    import torch

    x = inputs()
    out = dict(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kl_div's 'mean' warning
        for name, case in cases():
            for key, value in run(torch, torch.nn.functional, case, x).items():
                out[f"{name}/{key}"] = value
    return out


if __name__ == "__main__":
    import torch

    values = compute()
    np.savez_compressed(OUTPUT, torch_version=np.array(torch.__version__), **values)
    print(f"wrote {OUTPUT} ({len(values)} arrays, torch {torch.__version__})")
