"""Benchmark 2: one training step of a 2-64-64-2 MLP with two BatchNorm1d layers.

Linear(2, 64) -> BatchNorm1d(64) -> ReLU -> Linear(64, 64) -> BatchNorm1d(64) -> ReLU ->
Linear(64, 2); batch 128, float32, cross-entropy, SGD(lr=0.1). A step is zero_grad,
forward, loss, backward, update (and the BN running statistics). Every implementation
starts from the same weights (PyTorch's initialisation, copied) and the same batch; the
loss of the first step is printed beside the timings as a check that they compute the same.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from minigrad.timing import (
    NOT_AVAILABLE_YET,
    NOT_INSTALLED,
    Row,
    format_rows,
    jit_available,
)

from . import env

BATCH = 128
WIDTH = 64
LR = 0.1
ORDER = ("minigrad eager (BN composed)", "minigrad eager (BN fused)",
         "minigrad jit (BN composed)", "minigrad jit (BN fused)", "PyTorch eager", "JAX jit")
RATIOS = (
    ("PyTorch eager / minigrad jit", "PyTorch eager", "minigrad jit (BN composed)", ">= 3"),
    ("JAX jit / minigrad jit", "JAX jit", "minigrad jit (BN composed)", ">= 1.5"),
    ("PyTorch eager / minigrad eager", "PyTorch eager", "minigrad eager (BN composed)",
     ">= 0.8"),
)

Step = Callable[[], Any]


def make_batch(seed: int = 0, sizes: tuple[int, ...] = (2, WIDTH, WIDTH, 2),
               batch: int = BATCH) -> tuple[np.ndarray, np.ndarray]:
    """``batch`` points and labels: in the plane XOR-style (class = sign of x0 * x1),
    otherwise standard normal inputs and uniform random classes."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    if sizes[0] == 2 and sizes[-1] == 2:
        return x, (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    return x, rng.integers(0, sizes[-1], batch).astype(np.int64)


def initial_weights(seed: int = 0,
                    sizes: tuple[int, ...] = (2, WIDTH, WIDTH, 2)) -> list[np.ndarray]:
    """[W1, b1, W2, b2, ...] with PyTorch's Linear initialisation (W: out x in)."""
    rng = np.random.default_rng(seed)
    weights = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        bound = 1.0 / np.sqrt(fan_in)
        weights.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        weights.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    return weights


# -------------------------------------------------------------------------- minigrad
def minigrad_step(impl: str, jit: bool, sizes: tuple[int, ...] = (2, WIDTH, WIDTH, 2),
                  batch: int = BATCH, optimizer: str = "SGD") -> Step | Row:
    """A minigrad training step (mg.jit of it when ``jit``: the step's ``compiled``), or a
    row saying what is missing. A BatchNorm1d and a ReLU follow every hidden Linear;
    ``optimizer`` is "SGD" (lr 0.1) or "Adam" (lr 1e-3)."""
    import minigrad as mg

    name = f"minigrad {'jit' if jit else 'eager'} (BN {impl})"
    missing = [what for what, ok in (
        ("mg.nn.Linear", hasattr(mg.nn, "Linear")),
        ("mg.nn.functional.cross_entropy", hasattr(mg.nn.functional, "cross_entropy")),
        (f"mg.optim.{optimizer}", hasattr(getattr(mg, "optim", None), optimizer)),
        ("mg.jit", not jit or jit_available()),
    ) if not ok]
    if missing:
        return Row(name, NOT_AVAILABLE_YET, f"{', '.join(missing)} not there yet")
    nn, F = mg.nn, mg.nn.functional
    layers: list[Any] = []
    for w, b in _pairs(initial_weights(sizes=sizes)):
        linear = nn.Linear(w.shape[1], w.shape[0])
        linear.weight.assign_(w)
        linear.bias.assign_(b)
        layers += [linear, nn.BatchNorm1d(w.shape[0], impl=impl), nn.ReLU()]
    model = nn.Sequential(*layers[:-2])  # no BN and ReLU after the last Linear
    model.train()
    lr = LR if optimizer == "SGD" else 1e-3
    optimizer_made = getattr(mg.optim, optimizer)(model.parameters(), lr=lr)
    x_np, y_np = make_batch(sizes=sizes, batch=batch)
    x, y = mg.Tensor(x_np), mg.Tensor(y_np)

    def train_step(x: Any, y: Any) -> Any:
        optimizer_made.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer_made.step()
        return loss

    compiled = mg.jit(train_step) if jit else train_step

    def step() -> Any:
        return compiled(x, y)

    step.compiled = compiled  # type: ignore[attr-defined]  # for fn.stats()
    return step


def _pairs(weights: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    return list(zip(weights[0::2], weights[1::2], strict=True))


# ---------------------------------------------------------------------------- PyTorch
def torch_step() -> Step | Row:
    """PyTorch eager: nn.Sequential, F.cross_entropy, torch.optim.SGD."""
    torch = env.load_torch()
    if torch is None:
        return Row("PyTorch eager", NOT_INSTALLED, "import torch failed")
    nn = torch.nn
    linears = [nn.Linear(2, WIDTH), nn.Linear(WIDTH, WIDTH), nn.Linear(WIDTH, 2)]
    with torch.no_grad():
        for layer, (w, b) in zip(linears, _pairs(initial_weights()), strict=True):
            layer.weight.copy_(torch.from_numpy(w))
            layer.bias.copy_(torch.from_numpy(b))
    model = nn.Sequential(linears[0], nn.BatchNorm1d(WIDTH), nn.ReLU(),
                          linears[1], nn.BatchNorm1d(WIDTH), nn.ReLU(), linears[2])
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    x_np, y_np = make_batch()
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    cross_entropy = torch.nn.functional.cross_entropy

    def step() -> Any:
        optimizer.zero_grad()
        loss = cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


# -------------------------------------------------------------------------------- JAX
def jax_step() -> Step | Row:
    """JAX: one jitted function (value_and_grad, SGD update, running statistics)."""
    jax = env.load_jax()
    if jax is None:
        return Row("JAX jit", NOT_INSTALLED, "import jax failed")
    jnp = jax.numpy
    eps, momentum = 1e-5, 0.1

    def batch_norm(h: Any, gamma: Any, beta: Any, mean: Any, var: Any) -> tuple:
        mu = jnp.mean(h, axis=0)
        hmu = h - mu
        batch_var = jnp.mean(hmu * hmu, axis=0)
        out = gamma * hmu * jax.lax.rsqrt(batch_var + eps) + beta
        unbiased = batch_var * (h.shape[0] / (h.shape[0] - 1))
        new_stats = ((1 - momentum) * mean + momentum * jax.lax.stop_gradient(mu),
                     (1 - momentum) * var + momentum * jax.lax.stop_gradient(unbiased))
        return out, new_stats

    def loss_fn(params: dict, stats: dict, x: Any, y: Any) -> tuple:
        h = x @ params["W1"].T + params["b1"]
        h, s1 = batch_norm(h, params["g1"], params["be1"], stats["m1"], stats["v1"])
        h = jax.nn.relu(h) @ params["W2"].T + params["b2"]
        h, s2 = batch_norm(h, params["g2"], params["be2"], stats["m2"], stats["v2"])
        logits = jax.nn.relu(h) @ params["W3"].T + params["b3"]
        logp = jax.nn.log_softmax(logits, axis=1)
        loss = -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))
        return loss, {"m1": s1[0], "v1": s1[1], "m2": s2[0], "v2": s2[1]}

    @jax.jit
    def train_step(params: dict, stats: dict, x: Any, y: Any) -> tuple:
        (loss, new_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            params, stats, x, y)
        new_params = jax.tree_util.tree_map(lambda p, g: p - LR * g, params, grads)
        return new_params, new_stats, loss

    w = initial_weights()
    ones, zeros = np.ones(WIDTH, np.float32), np.zeros(WIDTH, np.float32)
    state = {
        "params": {"W1": w[0], "b1": w[1], "W2": w[2], "b2": w[3], "W3": w[4], "b3": w[5],
                   "g1": ones, "be1": zeros, "g2": ones, "be2": zeros},
        "stats": {"m1": zeros, "v1": ones, "m2": zeros, "v2": ones},
    }
    state = jax.device_put(state)
    x_np, y_np = make_batch()
    x, y = jax.device_put(x_np), jax.device_put(y_np)

    def step() -> Any:
        state["params"], state["stats"], loss = train_step(state["params"], state["stats"],
                                                           x, y)
        return loss

    return step


# ---------------------------------------------------------------------------- running
def mlp_rows(settings: dict[str, Any]) -> list[Row]:
    """Every implementation's row, in ``ORDER``."""
    makers: list[tuple[str, Callable[[], Step | Row]]] = [
        (f"minigrad {mode} (BN {impl})", lambda impl=impl, jit=(mode == "jit"):
            minigrad_step(impl, jit))
        for mode in ("eager", "jit") for impl in ("composed", "fused")
    ] + [("PyTorch eager", torch_step), ("JAX jit", jax_step)]
    return env.side_by_side_rows(makers, settings, ORDER, "loss@step1")


def ratios(rows: list[Row]) -> list[dict[str, Any]]:
    """The ratios of ``RATIOS`` (medians), None where a row has no timing."""
    by_name = {row.name: row for row in rows}
    out = []
    for label, top, bottom, target in RATIOS:
        a, b = by_name.get(top), by_name.get(bottom)
        ok = a is not None and b is not None and a.timing and b.timing
        out.append({"ratio": label, "target": target,
                    "value": a.timing.median / b.timing.median if ok else None,
                    "value_of_minima": a.timing.min / b.timing.min if ok else None})
    return out


def run(quick: bool = False, out_dir: Path = env.RESULTS) -> dict[str, Any]:
    """Run benchmark 2, print its table, write mlp.json; return the payload."""
    info = env.machine_info()
    print(env.format_header(
        f"MLP 2-{WIDTH}-{WIDTH}-2 with two BatchNorm1d, batch {BATCH}, float32, "
        f"cross-entropy, SGD(lr={LR}): one training step", info))
    settings = ({"warmup": 1, "min_rounds": 1, "max_rounds": 3, "budget": 0.3,
                 "min_sample": 1e-3}
                if quick else {"warmup": 3, "min_rounds": 7, "max_rounds": 25, "budget": 6.0,
                               "min_sample": 2e-2})
    rows = mlp_rows(settings)
    print(format_rows(rows, ("loss@step1",)))
    found = ratios(rows)
    print(f"{'ratio':<34} {'medians':>8} {'minima':>8}")
    for ratio in found:
        values = [f"{ratio[k]:.3g}" if ratio[k] is not None else "n/a"
                  for k in ("value", "value_of_minima")]
        target = f"  (target {ratio['target']})" if ratio["target"] else ""
        print(f"{ratio['ratio']:<34} {values[0]:>8} {values[1]:>8}{target}")
    info["load_average_end"] = list(os.getloadavg())
    payload = {"benchmark": "mlp_training_step", "quick": quick, "info": info,
               "settings": settings, "rows": [row.as_dict() for row in rows], "ratios": found}
    print(f"wrote {env.write_json('mlp', payload, out_dir)}")
    return payload
