"""Training-step programs: random small networks, losses and optimizers, several steps.

A ``TrainConfig`` becomes Python source (``source``): a model (Linear layers, optional
BatchNorm1d composed or fused, in train or eval mode, ReLU/Tanh/Sigmoid, Dropout), a loss
(MSE or cross-entropy), an optimizer (SGD with momentum, or Adam) and a step function
``zero_grad; loss = loss_fn(model(x), y); backward; step``. The fuzzer runs that source
twice, once with the step eager and once through ``mg.jit``, from the same initial weights
and the same ``mg.manual_seed`` (dropout masks), and compares every step's loss and the
final parameters, buffers and optimizer state. The same source, with a comparison at the
end, is the printed reproducer, so what is printed is what ran.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

import minigrad as mg

from .fuzz import CRASH, MISMATCH, OK, REFUSED, Outcome, compare_arrays


@dataclass(frozen=True)
class TrainConfig:
    """One training program; every field is a literal of the generated source."""

    seed: int
    dtype: str = "float64"
    widths: tuple[int, ...] = (3, 4, 2)
    batch: int = 4
    norm: str = "none"  # "none", "composed", "fused"
    norm_eval: bool = False
    activation: str = "ReLU"
    dropout: float = 0.0
    loss: str = "mse"  # "mse" or "ce"
    optimizer: str = "sgd"  # "sgd" or "adam"
    momentum: float = 0.0
    lr: float = 0.1
    steps: int = 4


def random_config(rng: np.random.Generator) -> TrainConfig:
    """A random small network and training setup."""
    depth = int(rng.integers(1, 4))
    widths = tuple(int(rng.choice([1, 2, 3, 5, 8, 12])) for _ in range(depth + 1))
    optimizer = str(rng.choice(["sgd", "adam"]))
    config = TrainConfig(
        seed=int(rng.integers(2**31)), dtype=str(rng.choice(["float64", "float32"])),
        widths=widths, batch=int(rng.choice([2, 3, 8, 16])),
        norm=str(rng.choice(["none", "composed", "fused"])), norm_eval=bool(rng.random() < 0.3),
        activation=str(rng.choice(["ReLU", "Tanh", "Sigmoid"])),
        dropout=float(rng.choice([0.0, 0.0, 0.2, 0.5])), loss=str(rng.choice(["mse", "ce"])),
        optimizer=optimizer, momentum=float(rng.choice([0.0, 0.9])) if optimizer == "sgd" else 0,
        lr=float(rng.choice([0.01, 0.1, 0.5])), steps=int(rng.integers(3, 7)),
    )
    # Under Adam, no gradient that is rounding noise: Adam's m / sqrt(v) turns noise into
    # full steps of either sign, eager and jit alike. BatchNorm in training mode makes two:
    # over 2 rows it outputs +-sqrt(var / (var + eps)) whatever its input (seed 99445385,
    # program 189: float32 eager and jit 1.2e-4 apart, each 0.018 from float64), and it
    # does not see the scale of a single weight feeding a channel, a layer of fan-in 1
    # (seed 20261207, program 149: 0.weight of Linear(1, 2), eager 3.9e-3 and jit 3.2e-3
    # from float64, 6.6e-4 apart).
    if config.optimizer == "adam" and config.norm != "none" and not config.norm_eval:
        widths = tuple(max(2, w) for w in config.widths[:-1]) + config.widths[-1:]
        config = replace(config, batch=max(3, config.batch), widths=widths)
    return config


def layer_count(config: TrainConfig) -> int:
    """Modules in the network (reported as the program's nodes)."""
    hidden = len(config.widths) - 2
    return len(config.widths) - 1 + hidden * (1 + (config.norm != "none") + (config.dropout > 0))


def source(config: TrainConfig) -> str:
    """The program as Python: ``build()``, ``batches()`` and ``train(use_jit)``."""
    c = config
    layers = []
    for k, (fan_in, fan_out) in enumerate(zip(c.widths[:-1], c.widths[1:], strict=True)):
        hidden = k < len(c.widths) - 2
        # no bias before BatchNorm: its gradient is 0 up to rounding, which Adam's
        # m / sqrt(v) would blow up into full steps of either sign (eager and jit alike)
        bias = ", bias=False" if hidden and c.norm != "none" else ""
        layers.append(f"nn.Linear({fan_in}, {fan_out}{bias}, dtype=DTYPE)")
        if hidden:
            if c.norm != "none":
                layers.append(f"nn.BatchNorm1d({fan_out}, impl={c.norm!r}, dtype=DTYPE)")
            layers.append(f"nn.{c.activation}()")
            if c.dropout:
                layers.append(f"nn.Dropout({c.dropout!r})")
    optimizer = (f"optim.SGD(model.parameters(), lr={c.lr!r}, momentum={c.momentum!r})"
                 if c.optimizer == "sgd" else f"optim.Adam(model.parameters(), lr={c.lr!r})")
    loss = "nn.MSELoss()" if c.loss == "mse" else "nn.CrossEntropyLoss()"
    target = (f"rng.standard_normal((BATCH, {c.widths[-1]})).astype(DTYPE)" if c.loss == "mse"
              else f"rng.integers(0, {c.widths[-1]}, BATCH)")
    eval_line = ("\n    for m in model.modules():\n        if isinstance(m, nn.BatchNorm1d):\n"
                 "            m.training = False  # set on the submodule, not model.eval()"
                 if c.norm_eval and c.norm != "none" else "")
    return f'''import numpy as np

import minigrad as mg
from minigrad import nn, optim
from minigrad.experiments import make_train_step

DTYPE = {c.dtype!r}
BATCH = {c.batch}
STEPS = {c.steps}


def build():
    mg.manual_seed({c.seed})
    model = nn.Sequential({", ".join(layers)}){eval_line}
    return model, {optimizer}, {loss}


def batches():
    rng = np.random.default_rng({c.seed})
    return [(rng.standard_normal((BATCH, {c.widths[0]})).astype(DTYPE), {target})
            for _ in range(STEPS)]


def train(use_jit):
    model, opt, loss_fn = build()
    step = make_train_step(model, opt, loss_fn)  # zero_grad, loss, backward, step
    step = mg.jit(step, background=False) if use_jit else step
    mg.manual_seed({c.seed + 1})  # the dropout masks
    losses = [step(mg.tensor(x), mg.tensor(y)).data.copy() for x, y in batches()]
    state = {{k: v.data.copy() for k, v in model.state_dict().items()}}
    for k, slots in enumerate(opt.state.values()):
        for name, v in sorted(slots.items()):
            state[f"opt{{k}}.{{name}}"] = np.array(getattr(v, "data", v))
    return losses, state
'''


_CHECK = '''

from minigrad.testing.fuzz import compare_arrays  # the fuzzer's own rule and tolerances

eager_losses, eager_state = train(False)
jit_losses, jit_state = train(True)
for k, (e, g) in enumerate(zip(eager_losses, jit_losses)):
    problem = compare_arrays(e, g)
    print(f"step {k}: loss eager {e!r} jit {g!r}", f"MISMATCH: {problem}" if problem else "ok")
for name, e in eager_state.items():
    g = jit_state.get(name)
    problem = compare_arrays(e, g)
    print(name, f"MISMATCH: {problem}\\n eager {e}\\n jit   {g}" if problem else "ok")
'''


def run_source(config: TrainConfig) -> dict[str, Any]:
    """The namespace of the program's source."""
    namespace: dict[str, Any] = {"__name__": "minigrad_fuzz_training"}
    exec(compile(source(config), "<fuzz training program>", "exec"), namespace)
    return namespace


def check_training(config: TrainConfig) -> Outcome:
    """Losses per step and final state, eager vs jit."""
    namespace = run_source(config)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            expected = namespace["train"](False)
        except Exception as error:
            return Outcome(OK, f"eager raised {type(error).__name__}")
        try:
            got = namespace["train"](True)
        except mg.jit.NotCompilableError as error:
            return Outcome(REFUSED, " ".join(str(error).split())[:160])
        except Exception as error:
            return Outcome(CRASH, f"{type(error).__name__}: {' '.join(str(error).split())[:160]}")
    return _compare(expected, got)


def _compare(expected: tuple, got: tuple) -> Outcome:
    for k, (e, g) in enumerate(zip(expected[0], got[0], strict=True)):
        problem = compare_arrays(e, g)
        if problem:
            return Outcome(MISMATCH, f"step {k} loss: {problem}")
    for name, e in expected[1].items():
        problem = compare_arrays(e, got[1].get(name))
        if problem:
            return Outcome(MISMATCH, f"{name} after the last step: {problem}")
    return Outcome(OK)


def _smaller(config: TrainConfig) -> list[TrainConfig]:
    c = config
    found = [replace(c, steps=s) for s in range(3, c.steps)]
    found += [replace(c, dropout=0.0), replace(c, norm="none"), replace(c, norm_eval=False),
              replace(c, optimizer="sgd", momentum=0.0), replace(c, momentum=0.0),
              replace(c, loss="mse"), replace(c, activation="ReLU")]
    if len(c.widths) > 2:
        found += [replace(c, widths=c.widths[:k] + c.widths[k + 1:])
                  for k in range(1, len(c.widths) - 1)]
    found += [replace(c, widths=(*c.widths[:k], w, *c.widths[k + 1:]))
              for k, n in enumerate(c.widths) for w in sorted({1, 2, n // 2} - {n}) if w < n]
    found += [replace(c, batch=b) for b in (2, c.batch // 2) if 2 <= b < c.batch]
    return [f for f in dict.fromkeys(found) if f != c]


def shrink_config(config: TrainConfig, kind: str, max_trials: int = 40,
                  max_seconds: float = 600.0) -> TrainConfig:
    """Greedy: the first smaller configuration that still fails the same way, repeated."""
    best, trials, start = config, 0, time.perf_counter()
    improved = True
    while improved and trials < max_trials and time.perf_counter() - start < max_seconds:
        improved = False
        for candidate in _smaller(best):
            trials += 1
            if check_training(candidate).kind == kind:
                best, improved = candidate, True
                break
            if trials >= max_trials or time.perf_counter() - start > max_seconds:
                break
    return best


def reproduce(config: TrainConfig, outcome: Outcome, max_seconds: float = 600.0) -> str:
    """The shrunk configuration as a runnable script."""
    small = shrink_config(config, outcome.kind, max_seconds=max_seconds)
    final = check_training(small)
    header = f'"""minigrad.testing.fuzz training reproducer: {final.kind}: {final.detail}\n\n'
    header += f"config: {asdict(small)}\n" + '"""\n'
    return header + source(small) + _CHECK
