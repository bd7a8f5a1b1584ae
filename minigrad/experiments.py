"""The BatchNorm paper's claims, made runnable on toy data (Ioffe & Szegedy 2015, Fig. 1).

``compare_bn`` trains one MLP twice from the same initial weights on the same batches —
once with BatchNorm before every hidden nonlinearity, once without — and reports per-step
loss, test accuracy along training, and the 15th/50th/85th percentiles of one unit's input
to its nonlinearity in the last hidden layer (the paper's Figure 1 b, c).
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from . import data as datasets
from . import nn, optim
from ._state import manual_seed, no_grad
from .errors import ArgumentError
from .nn import functional as F
from .tensor import Tensor

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
NORMS = ("bn", "ln", "plain")
PERCENTILES = (15, 50, 85)


class Probe(nn.Module):
    """Identity that remembers the last value it saw (the pre-activation we watch)."""

    def __init__(self) -> None:
        super().__init__()
        self.last: np.ndarray | None = None

    def forward(self, x: Tensor) -> Tensor:
        """Record x and return it unchanged."""
        self.last = x.data
        return x


def mlp(sizes: list[int], activation: str = "relu", norm: str = "plain",
        impl: str = "composed", dtype: Any = None) -> nn.Sequential:
    """Linear -> [BatchNorm1d | LayerNorm] -> activation for each hidden size, then Linear.

    A ``Probe`` sits in front of the last hidden nonlinearity (``model.probe``).
    """
    if len(sizes) < 2:
        raise ArgumentError(f"mlp: need at least input and output sizes, got {sizes}")
    if activation not in ACTIVATIONS:
        raise ArgumentError(f"mlp: activation must be one of {sorted(ACTIVATIONS)}, got "
                            f"{activation!r}")
    if norm not in NORMS:
        raise ArgumentError(f"mlp: norm must be one of {NORMS}, got {norm!r}")
    layers: list[nn.Module] = []
    probe = Probe()
    for position, (width_in, width_out) in enumerate(itertools.pairwise(sizes[:-1])):
        layers.append(nn.Linear(width_in, width_out, dtype=dtype))
        if norm == "bn":
            layers.append(nn.BatchNorm1d(width_out, impl=impl, dtype=dtype))
        elif norm == "ln":
            layers.append(nn.LayerNorm(width_out, dtype=dtype))
        if position == len(sizes) - 3:
            layers.append(probe)
        layers.append(ACTIVATIONS[activation]())
    layers.append(nn.Linear(sizes[-2], sizes[-1], dtype=dtype))
    model = nn.Sequential(*layers)
    object.__setattr__(model, "probe", probe)
    return model


def accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    """Share of rows whose largest logit is the label (model in eval mode, no graph)."""
    was_training = model.training
    model.eval()
    with no_grad():
        logits = model(Tensor(X)).data
    model.train(was_training)
    return float(np.mean(np.argmax(logits, axis=1) == y))


def load_dataset(name: str, n: int = 1000, noise: float | None = None,
                 seed: int = 0) -> tuple[np.ndarray, ...]:
    """(X_train, X_test, y_train, y_test) of a toy data set (or "digits"), 25% held out."""
    if name == "digits":
        X, y = datasets.digits()
    elif name in datasets.TOY_DATASETS:
        kwargs = {} if noise is None else {"noise": noise}
        X, y = datasets.TOY_DATASETS[name](n, seed=seed, **kwargs)
    else:
        raise ArgumentError(
            f"unknown dataset {name!r}; choose from {[*datasets.TOY_DATASETS, 'digits']}"
        )
    return datasets.train_test_split(X, y, 0.25, seed=seed)


def train_classifier(model: nn.Sequential, split: tuple[np.ndarray, ...], lr: float,
                     steps: int, batch_size: int, seed: int = 0, optimizer: str = "sgd",
                     eval_every: int = 10, progress: Any = None,
                     jit: Any = None, jit_min_seconds: float | None = None
                     ) -> dict[str, Any]:
    """Train with cross-entropy; return loss per step and accuracy/percentiles per eval.

    ``progress(step, loss)`` is called after every step; ``jit`` (the ``mg.jit`` module or
    a decorator) compiles the training step when given: from the first step, or, with
    ``jit_min_seconds``, only if the steps left after ``PROBE_STEPS`` eager ones would take
    at least that long eagerly (``Tiered``).
    """
    X_train, y_train = split[0], split[2]
    opt = _optimizer(optimizer, model, lr)
    batches = datasets.endless_batches(X_train, y_train, batch_size, seed)
    record: dict[str, Any] = {"loss": [], "steps": [], "test_accuracy_curve": [],
                              "train_accuracy_curve": [], "percentiles": []}
    eager_step = make_train_step(model, opt)
    if jit is not None and jit_min_seconds is not None:
        train_step = Tiered(eager_step, lambda: _compiled(eager_step, jit, model, opt),
                            steps, jit_min_seconds)
    else:
        train_step = _compiled(eager_step, jit, model, opt)
    model.train()
    for step in range(1, steps + 1):
        xb, yb = next(batches)
        loss = train_step(Tensor(xb), Tensor(yb))
        record["loss"].append(float(np.asarray(loss.data if isinstance(loss, Tensor) else loss)))
        if step % eval_every == 0 or step == steps:
            _evaluate(model, split, step, record)
        if progress is not None:
            progress(step, float(loss.data))
    record["percentiles"] = np.array(record["percentiles"]).reshape(-1, len(PERCENTILES))
    record["test_accuracy"] = record["test_accuracy_curve"][-1]
    record["train_accuracy"] = record["train_accuracy_curve"][-1]
    record["model"] = model
    return record


def make_train_step(model: nn.Module, opt: optim.Optimizer,
                    loss_fn: Callable[[Tensor, Tensor], Tensor] = F.cross_entropy) -> Any:
    """step(x, y) -> loss: zero_grad, forward, ``loss_fn(model(x), y)`` (cross-entropy by
    default), backward, optimizer step."""

    def train_step(x: Tensor, y: Tensor) -> Tensor:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return train_step


PROBE_STEPS = 5  # eager steps timed before a tiered run decides whether to compile


class Tiered:
    """A training step that runs eagerly first and is compiled only when the rest of the
    run is long enough to pay for it (``minigrad train --jit``).

    Compiling costs seconds before the first compiled step: importing Numba (~0.4 s), the
    trace, and a compile (15 s for a 2-64-64-2 BatchNorm MLP step, cold) or a load from the
    disk cache (~1.5 s). A 300-step run of that MLP takes ~2 s eagerly, so compiling it
    only made the run slower. After ``PROBE_STEPS`` eager steps the median step time times
    the steps left is compared with ``min_seconds``: below it the run stays eager (a line
    on stderr says so), else ``make_compiled()`` makes the compiled step for the rest.
    """

    def __init__(self, step: Callable[[Tensor, Tensor], Tensor],
                 make_compiled: Callable[[], Callable[[Tensor, Tensor], Tensor]], steps: int,
                 min_seconds: float) -> None:
        self.step, self.make_compiled = step, make_compiled
        self.steps, self.min_seconds = steps, min_seconds
        self.times: list[float] = []
        self.chosen: Callable[[Tensor, Tensor], Tensor] | None = None

    def __call__(self, x: Tensor, y: Tensor) -> Tensor:
        if self.chosen is not None:
            return self.chosen(x, y)
        start = time.perf_counter()
        loss = self.step(x, y)
        self.times.append(time.perf_counter() - start)
        if len(self.times) == PROBE_STEPS:
            self.chosen = self._decide()
        return loss

    def _decide(self) -> Callable[[Tensor, Tensor], Tensor]:
        left = self.steps - PROBE_STEPS
        eager_left = float(np.median(self.times)) * left
        if eager_left >= self.min_seconds:
            return self.make_compiled()
        print(f"--jit: not compiling: the {left} steps left take about {eager_left:.1f} s "
              f"eagerly, less than compiling is worth ({self.min_seconds:g} s; --jit always "
              "compiles anyway)", file=sys.stderr)
        return self.step


def _compiled(step: Any, jit: Any, model: nn.Module, opt: optim.Optimizer) -> Any:
    """``step`` compiled by ``jit`` (a module with ``.jit`` or a decorator); eager if None.

    If the first compiled call fails, the model and optimizer state are put back as they
    were and training continues eagerly (with a message saying why).
    """
    if jit is None:
        return step
    compiled = getattr(jit, "jit", jit)(step)
    chosen: list[Any] = []

    def first_call(x: Tensor, y: Tensor) -> Tensor:
        if chosen and chosen[0] is compiled:
            from .jit.ir import NotCompilableError  # loaded already: compiled is a jit

            try:
                return compiled(x, y)
            except NotCompilableError as error:  # a background compile failed (raised
                print(f"--jit: compiling the training step failed ({error}); training "
                      "eagerly")  # before this call changed anything)
                chosen[0] = step
        if chosen:
            return chosen[0](x, y)
        saved = {name: value.data for name, value in model.state_dict().items()}
        try:
            loss = compiled(x, y)
            chosen.append(compiled)
            return loss
        except Exception as error:  # the JIT may refuse a graph: train eagerly instead
            print(f"--jit: compiling the training step failed ({type(error).__name__}: "
                  f"{error}); training eagerly")
            model.load_state_dict(saved)
            opt.state.clear()
            chosen.append(step)
            return step(x, y)

    return first_call


def _optimizer(name: str, model: nn.Module, lr: float) -> optim.Optimizer:
    if name == "sgd":
        return optim.SGD(model.parameters(), lr=lr)
    if name == "momentum":
        return optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    if name == "adam":
        return optim.Adam(model.parameters(), lr=lr)
    raise ArgumentError(f"optimizer must be 'sgd', 'momentum' or 'adam', got {name!r}")


def _evaluate(model: nn.Sequential, split: tuple[np.ndarray, ...], step: int,
              record: dict[str, Any]) -> None:
    """Test/train accuracy and the probed unit's input percentiles over the test set."""
    X_train, X_test, y_train, y_test = split
    record["steps"].append(step)
    record["train_accuracy_curve"].append(accuracy(model, X_train, y_train))
    record["test_accuracy_curve"].append(accuracy(model, X_test, y_test))
    record["percentiles"].append(np.percentile(probe_inputs(model, X_test), PERCENTILES))


def probe_inputs(model: nn.Sequential, X: np.ndarray, unit: int = 0) -> np.ndarray:
    """The probed unit's input to its nonlinearity for every row of X.

    Computed in training mode (BatchNorm normalises with the statistics of X itself, as it
    does while learning, rather than with running averages that lag behind early on); the
    buffers are restored afterwards, so the running statistics are untouched.
    """
    saved = [(buffer, buffer.data) for buffer in model.buffers()]
    was_training = model.training
    model.train()
    with no_grad():
        model(Tensor(X))
    for buffer, value in saved:
        buffer.assign_(value)
    model.train(was_training)
    return model.probe.last[:, unit]


def compare_norms(dataset: str = "moons", activation: str = "sigmoid",
                  hidden: tuple[int, ...] = (100, 100, 100), lr: float = 2.0,
                  steps: int = 300, batch_size: int = 60, seed: int = 0,
                  impl: str = "composed", norms: tuple[str, ...] = ("bn", "plain"),
                  n: int = 1000, noise: float | None = None, optimizer: str = "sgd",
                  eval_every: int = 10) -> dict[str, dict[str, Any]]:
    """Train the same MLP once per entry of ``norms`` ("bn", "ln", "plain").

    Every run starts from the same Linear weights (re-seeded) and sees the same batches.
    """
    split = load_dataset(dataset, n, noise, seed)
    classes = int(max(split[2].max(), split[3].max())) + 1
    sizes = [split[0].shape[1], *hidden, classes]
    results = {}
    for norm in norms:
        manual_seed(seed)
        model = mlp(sizes, activation, norm, impl)
        results[norm] = train_classifier(model, split, lr, steps, batch_size, seed,
                                         optimizer, eval_every)
    return results


def compare_bn(dataset: str = "moons", activation: str = "sigmoid",
               hidden: tuple[int, ...] = (100, 100, 100), lr: float = 2.0, steps: int = 300,
               batch_size: int = 60, seed: int = 0, impl: str = "composed",
               **options: Any) -> dict[str, dict[str, Any]]:
    """The same network with BatchNorm and without: ``{"bn": {...}, "plain": {...}}``.

    Each result holds ``loss`` (per step), ``steps`` with ``test_accuracy_curve`` and
    ``percentiles`` (rows of the 15th/50th/85th percentile of the last hidden layer's
    first unit's input to its nonlinearity, over the test set), and the final
    ``test_accuracy``.
    """
    return compare_norms(dataset, activation, tuple(hidden), lr, steps, batch_size, seed,
                         impl, ("bn", "plain"), **options)


def steps_to_accuracy(result: dict[str, Any], target: float) -> int | None:
    """The first evaluated step whose test accuracy reaches ``target`` (None if never)."""
    for step, value in zip(result["steps"], result["test_accuracy_curve"], strict=True):
        if value >= target:
            return int(step)
    return None
