"""Reference values from PyTorch for tests/test_optim_torch.py and test_optim_schedulers.py.

Run with the project's torch (2.13) to regenerate ``optim_torch.npz``:

    .venv/bin/python tests/reference/gen_optim.py

Inputs come from numpy with a fixed seed and are stored beside the outputs, so the tests
need no torch to compare against them; with torch installed they compare against live
PyTorch too (``compute()``). Everything is float64.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent
OUTPUT = HERE / "optim_torch.npz"
STEPS = 7

# name -> (optimizer class name, options); each runs STEPS steps on one tanh regression.
OPTIMIZERS: dict[str, tuple[str, dict[str, Any]]] = {
    "sgd": ("SGD", {"lr": 0.1}),
    "sgd_momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}),
    "sgd_dampening_wd": ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3,
                                 "weight_decay": 0.01}),
    "sgd_nesterov_max": ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True,
                                 "maximize": True, "weight_decay": 0.1}),
    "adam": ("Adam", {"lr": 0.05}),
    "adam_amsgrad_wd": ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1,
                                 "betas": (0.8, 0.95), "eps": 1e-6}),
    "adam_max_low_betas": ("Adam", {"lr": 0.02, "maximize": True, "betas": (0.3, 0.5)}),
    "adamw": ("AdamW", {"lr": 0.05}),
    "adamw_amsgrad": ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
    "rmsprop": ("RMSprop", {}),
    "rmsprop_momentum": ("RMSprop", {"lr": 0.02, "momentum": 0.9, "alpha": 0.9}),
    "rmsprop_centered_all": ("RMSprop", {"lr": 0.02, "momentum": 0.5, "centered": True,
                                         "weight_decay": 0.1, "maximize": True,
                                         "eps": 1e-6}),
    "adagrad": ("Adagrad", {"lr": 0.1}),
    "adagrad_all": ("Adagrad", {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.05,
                                "initial_accumulator_value": 0.1, "eps": 1e-8}),
}

# Two parameter groups with their own options (the second overrides the defaults).
GROUPS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "groups_sgd": ("SGD", {"lr": 0.1, "momentum": 0.9}, {"lr": 0.02, "nesterov": True}),
    "groups_adam": ("Adam", {"lr": 0.05}, {"lr": 0.01, "betas": (0.5, 0.9),
                                           "amsgrad": True}),
    "groups_rmsprop": ("RMSprop", {"lr": 0.01}, {"momentum": 0.5, "centered": True}),
}

# name -> (optimizer, its options, scheduler class name, scheduler options, steps)
SCHEDULERS: dict[str, tuple[str, dict[str, Any], str, dict[str, Any], int]] = {
    "step": ("SGD", {"lr": 0.3}, "StepLR", {"step_size": 3, "gamma": 0.5}, 20),
    "multistep": ("SGD", {"lr": 0.3}, "MultiStepLR",
                  {"milestones": [2, 5, 5, 11], "gamma": 0.3}, 20),
    "exponential": ("SGD", {"lr": 0.3}, "ExponentialLR", {"gamma": 0.9}, 40),
    "cosine": ("SGD", {"lr": 0.3}, "CosineAnnealingLR", {"T_max": 7, "eta_min": 0.01}, 40),
    "linear": ("SGD", {"lr": 0.3}, "LinearLR",
               {"start_factor": 0.25, "end_factor": 0.9, "total_iters": 9}, 20),
    "linear_default": ("SGD", {"lr": 0.3}, "LinearLR", {}, 10),
    "onecycle_sgd": ("SGD", {"lr": 0.1, "momentum": 0.9}, "OneCycleLR",
                     {"max_lr": 1.0, "total_steps": 30}, 30),
    "onecycle_adam": ("Adam", {"lr": 0.1}, "OneCycleLR", {"max_lr": 0.5, "total_steps": 25},
                      25),
    "onecycle_three_linear": ("SGD", {"lr": 0.1, "momentum": 0.9}, "OneCycleLR",
                              {"max_lr": [1.0, 0.4], "epochs": 4, "steps_per_epoch": 5,
                               "pct_start": 0.4, "anneal_strategy": "linear",
                               "three_phase": True, "div_factor": 10.0,
                               "final_div_factor": 100.0}, 20),
    "onecycle_no_momentum": ("RMSprop", {"lr": 0.1}, "OneCycleLR",
                             {"max_lr": 0.2, "total_steps": 12, "cycle_momentum": False}, 12),
    "lambda": ("SGD", {"lr": 0.3}, "LambdaLR", {"lr_lambda": lambda e: 1 / (1 + 0.3 * e)}, 20),
    "lambda_per_group": ("SGD", {"lr": 0.3}, "LambdaLR",
                         {"lr_lambda": [lambda e: 0.9 ** e, lambda e: (e % 3 + 1) / 3]}, 20),
    "multiplicative": ("SGD", {"lr": 0.3}, "MultiplicativeLR",
                       {"lr_lambda": lambda e: 0.95 if e % 2 else 0.8}, 20),
    "constant": ("SGD", {"lr": 0.3}, "ConstantLR", {"factor": 0.4, "total_iters": 4}, 10),
    "polynomial": ("SGD", {"lr": 0.3}, "PolynomialLR", {"total_iters": 8, "power": 2.5}, 12),
    "warm_restarts": ("SGD", {"lr": 0.3}, "CosineAnnealingWarmRestarts",
                      {"T_0": 3, "T_mult": 2, "eta_min": 0.01}, 40),
    "warm_restarts_flat": ("SGD", {"lr": 0.3}, "CosineAnnealingWarmRestarts", {"T_0": 4}, 20),
    "sequential": ("SGD", {"lr": 0.3}, "SequentialLR",
                   {"schedulers": [("LinearLR", {"start_factor": 0.1, "total_iters": 4}),
                                   ("ExponentialLR", {"gamma": 0.9}),
                                   ("CosineAnnealingLR", {"T_max": 5})],
                    "milestones": [4, 9]}, 20),
    "chained": ("SGD", {"lr": 0.3}, "ChainedScheduler",
                {"schedulers": [("ConstantLR", {"factor": 0.5, "total_iters": 3}),
                                ("ExponentialLR", {"gamma": 0.9})]}, 15),
}
PLATEAU: dict[str, dict[str, Any]] = {
    "plateau_min_rel": {"patience": 2, "factor": 0.5, "min_lr": 0.01},
    "plateau_max_abs_cooldown": {"mode": "max", "threshold_mode": "abs", "threshold": 0.1,
                                 "patience": 1, "cooldown": 2, "factor": 0.3},
    "plateau_min_lrs": {"patience": 0, "factor": 0.2, "min_lr": [0.05, 0.001]},
}
PLATEAU_STEPS = 30


def inputs() -> dict[str, np.ndarray]:
    """Fixed float64 inputs (numpy, seed 16)."""
    rng = np.random.default_rng(16)
    return {
        "w0": rng.normal(size=(2, 3)),
        "b0": rng.normal(size=2),
        "x": rng.normal(size=(8, 3)),
        "y": rng.normal(size=(8, 2)),
        # a metric that improves, stalls and wobbles (for ReduceLROnPlateau)
        "metric": np.round(np.r_[np.linspace(1.0, 0.5, 6), np.full(8, 0.5),
                                 0.5 + 0.02 * np.sin(np.arange(16))], 12),
    }


def _loss(torch, x, w, b, y):
    """mean((tanh(x w^T + b) - y)^2): the gradient changes every step."""
    r = torch.tanh(torch.tensor(x) @ w.T + b) - torch.tensor(y)
    return (r * r).mean()


def _params(torch, x: dict[str, np.ndarray]) -> list:
    return [torch.tensor(x["w0"], requires_grad=True), torch.tensor(x["b0"], requires_grad=True)]


def _run(torch, x: dict[str, np.ndarray], opt, params, steps: int) -> np.ndarray:
    rows = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(torch, x["x"], *params, x["y"]).backward()
        opt.step()
        rows.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    return np.array(rows)


def _state(prefix: str, opt) -> dict[str, np.ndarray]:
    """opt.state_dict()['state'] flattened: '{prefix}:{position}:{name}' -> array."""
    return {f"{prefix}:{k}:{name}": np.asarray(value, np.float64)
            for k, slot in opt.state_dict()["state"].items()
            for name, value in slot.items() if value is not None}


def _optimizers(torch, x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, (kind, options) in OPTIMIZERS.items():
        params = _params(torch, x)
        opt = getattr(torch.optim, kind)(params, **options)
        out[f"traj:{name}"] = _run(torch, x, opt, params, STEPS)
        out.update(_state(f"state:{name}", opt))
    for name, (kind, defaults, second) in GROUPS.items():
        params = _params(torch, x)
        opt = getattr(torch.optim, kind)([{"params": [params[0]]},
                                          {"params": [params[1]], **second}], **defaults)
        out[f"traj:{name}"] = _run(torch, x, opt, params, STEPS)
    return out


def _scheduled(torch, x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per step: each group's lr after scheduler.step(), and its momentum or beta1."""
    out: dict[str, np.ndarray] = {}
    for name, (kind, options, sched, sched_options, steps) in SCHEDULERS.items():
        params = _params(torch, x)
        opt = getattr(torch.optim, kind)([{"params": [params[0]]}, {"params": [params[1]]}],
                                         **options)
        scheduler = build_scheduler(torch.optim.lr_scheduler, opt, sched, sched_options)
        lrs, momenta = [scheduler.get_last_lr()], [_momenta(opt)]
        for _ in range(steps):
            opt.step()
            scheduler.step()
            lrs.append(scheduler.get_last_lr())
            momenta.append(_momenta(opt))
        out[f"lrs:{name}"] = np.array(lrs, np.float64)
        out[f"momenta:{name}"] = np.array(momenta, np.float64)
    for name, options in PLATEAU.items():
        params = _params(torch, x)
        opt = torch.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.2}],
                              lr=0.5)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **options)
        lrs = []
        for value in x["metric"][:PLATEAU_STEPS]:
            scheduler.step(float(value))
            lrs.append(scheduler.get_last_lr())
        out[f"lrs:{name}"] = np.array(lrs, np.float64)
    return out


def build_scheduler(module, opt, name: str, options: dict[str, Any]):
    """``module.<name>(opt, **options)``; a 'schedulers' option holds (name, options)
    pairs built the same way first (SequentialLR, ChainedScheduler)."""
    options = dict(options)
    if "schedulers" in options:
        options["schedulers"] = [build_scheduler(module, opt, n, o)
                                 for n, o in options["schedulers"]]
        if name == "ChainedScheduler":
            return module.ChainedScheduler(options["schedulers"], opt)
    return getattr(module, name)(opt, **options)


def _momenta(opt) -> list[float]:
    return [g["betas"][0] if "betas" in g else g.get("momentum", 0.0)
            for g in opt.param_groups]


def compute() -> dict[str, np.ndarray]:
    """Inputs and PyTorch's outputs, all as numpy arrays."""
    return _compute_cached().copy()


@functools.cache
def _compute_cached() -> dict[str, np.ndarray]:
    import torch

    x = inputs()
    return {**x, **_optimizers(torch, x), **_scheduled(torch, x)}


@functools.cache
def _committed_cached() -> dict[str, np.ndarray]:
    return dict(np.load(OUTPUT, allow_pickle=False))


def committed() -> dict[str, np.ndarray]:
    """The values written by ``main`` (read once per test session)."""
    return _committed_cached().copy()


def main() -> None:
    import torch

    print(f"torch {torch.__version__}")
    np.savez_compressed(OUTPUT, **compute())
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
