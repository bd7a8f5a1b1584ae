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
def torch_step(sizes: tuple[int, ...] = (2, WIDTH, WIDTH, 2), batch: int = BATCH,
               optimizer: str = "SGD", compile_options: dict[str, Any] | None = None,
               name: str = "PyTorch eager") -> Step | Row:
    """PyTorch: nn.Sequential (a BatchNorm1d and a ReLU after every hidden Linear),
    F.cross_entropy, torch.optim.SGD (lr 0.1) or Adam (lr 1e-3). With ``compile_options``
    the model's forward and the optimizer's step are each wrapped in
    ``torch.compile(**compile_options)`` (backward runs through the compiled graph's
    AOT-autograd backward)."""
    torch = env.load_torch()
    if torch is None:
        return Row(name, NOT_INSTALLED, "import torch failed")
    nn = torch.nn
    layers: list[Any] = []
    for w, b in _pairs(initial_weights(sizes=sizes)):
        linear = nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, nn.BatchNorm1d(w.shape[0]), nn.ReLU()]
    model = nn.Sequential(*layers[:-2])
    model.train()
    made = getattr(torch.optim, optimizer)(model.parameters(),
                                           lr=LR if optimizer == "SGD" else 1e-3)
    x_np, y_np = make_batch(sizes=sizes, batch=batch)
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    cross_entropy = torch.nn.functional.cross_entropy
    forward, update = model, made.step
    if compile_options is not None:
        forward = torch.compile(model, **compile_options)
        update = torch.compile(made.step, **compile_options)

    def step() -> Any:
        made.zero_grad()
        loss = cross_entropy(forward(x), y)
        loss.backward()
        update()
        return loss.detach()

    return step


# -------------------------------------------------------------------------------- JAX
ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8


def jax_step(sizes: tuple[int, ...] = (2, WIDTH, WIDTH, 2), batch: int = BATCH,
             optimizer: str = "SGD") -> Step | Row:
    """JAX: one jitted function (value_and_grad, the update, running statistics). The
    update is SGD (lr 0.1) or Adam (lr 1e-3) written in jax.numpy (``adam_update``)."""
    jax = env.load_jax()
    if jax is None:
        return Row("JAX jit", NOT_INSTALLED, "import jax failed")
    loss_fn = _jax_loss(jax, len(sizes) - 1)
    lr = LR if optimizer == "SGD" else 1e-3

    @jax.jit
    def train_step(state: dict, x: Any, y: Any) -> tuple:
        (loss, new_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            state["params"], state["stats"], x, y)
        new_state = {"stats": new_stats}
        if optimizer == "SGD":
            new_state["params"] = jax.tree_util.tree_map(lambda p, g: p - lr * g,
                                                         state["params"], grads)
        else:
            new_state.update(adam_update(jax, state, grads, lr))
        return new_state, loss

    state = jax.device_put(_jax_state(sizes, optimizer))
    x_np, y_np = make_batch(sizes=sizes, batch=batch)
    x, y = jax.device_put(x_np), jax.device_put(y_np)

    def step() -> Any:
        new_state, loss = train_step(state, x, y)
        state.update(new_state)
        return loss

    return step


def _jax_loss(jax: Any, n_linear: int) -> Callable[..., tuple]:
    """loss(params, stats, x, y) -> (mean cross-entropy, new running statistics): Linear
    ``k`` is x @ W_k^T + b_k, followed by BatchNorm (training mode) and ReLU except the last.
    BN: out = gamma (h - mu) / sqrt(var_b + eps) + beta with the biased batch variance
    var_b; running mean/var move by momentum 0.1 towards mu and the unbiased variance."""
    jnp = jax.numpy
    eps, momentum = 1e-5, 0.1

    def batch_norm(h: Any, gamma: Any, beta: Any, mean: Any, var: Any) -> tuple:
        mu = jnp.mean(h, axis=0)
        hmu = h - mu
        batch_var = jnp.mean(hmu * hmu, axis=0)
        out = gamma * hmu * jax.lax.rsqrt(batch_var + eps) + beta
        unbiased = batch_var * (h.shape[0] / (h.shape[0] - 1))
        return out, ((1 - momentum) * mean + momentum * jax.lax.stop_gradient(mu),
                     (1 - momentum) * var + momentum * jax.lax.stop_gradient(unbiased))

    def loss_fn(params: dict, stats: dict, x: Any, y: Any) -> tuple:
        h, new_stats = x, {}
        for k in range(1, n_linear + 1):
            h = h @ params[f"W{k}"].T + params[f"b{k}"]
            if k < n_linear:
                h, (new_stats[f"m{k}"], new_stats[f"v{k}"]) = batch_norm(
                    h, params[f"g{k}"], params[f"be{k}"], stats[f"m{k}"], stats[f"v{k}"])
                h = jax.nn.relu(h)
        logp = jax.nn.log_softmax(h, axis=1)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1)), new_stats

    return loss_fn


def _jax_state(sizes: tuple[int, ...], optimizer: str) -> dict[str, Any]:
    """Parameters (``initial_weights``, BN gamma 1 and beta 0), running statistics (mean 0,
    var 1) and, for Adam, its moments (0) and step count t (a float32 0-d array)."""
    params: dict[str, np.ndarray] = {}
    stats: dict[str, np.ndarray] = {}
    pairs = _pairs(initial_weights(sizes=sizes))
    for k, (w, b) in enumerate(pairs, start=1):
        params[f"W{k}"], params[f"b{k}"] = w, b
        if k < len(pairs):
            ones, zeros = np.ones(w.shape[0], np.float32), np.zeros(w.shape[0], np.float32)
            params[f"g{k}"], params[f"be{k}"] = ones, zeros
            stats[f"m{k}"], stats[f"v{k}"] = zeros, ones
    state: dict[str, Any] = {"params": params, "stats": stats}
    if optimizer == "Adam":
        state["m"] = {k: np.zeros_like(p) for k, p in params.items()}
        state["v"] = {k: np.zeros_like(p) for k, p in params.items()}
        state["t"] = np.zeros((), np.float32)
    return state


def adam_update(jax: Any, state: dict[str, Any], grads: dict[str, Any],
                lr: float) -> dict[str, Any]:
    """PyTorch's Adam (no weight decay), elementwise, for use inside ``jax.jit``:
    t += 1;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
    p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
    Returns the new params, m, v and t (t is float32, so nothing is promoted to float64)."""
    jnp, tree_map = jax.numpy, jax.tree_util.tree_map
    (b1, b2), t = ADAM_BETAS, state["t"] + 1
    m = tree_map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
    v = tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, state["v"], grads)
    step_size = lr / (1 - b1 ** t)
    root = jnp.sqrt(1 - b2 ** t)
    params = tree_map(lambda p, m, v: p - step_size * m / (jnp.sqrt(v) / root + ADAM_EPS),
                      state["params"], m, v)
    return {"params": params, "m": m, "v": v, "t": t}


# ---------------------------------------------------------------------------- running
def mlp_rows(settings: dict[str, Any]) -> list[Row]:
    """Every implementation's row, in ``ORDER``."""
    makers: list[tuple[str, Callable[[], Step | Row]]] = [
        (f"minigrad {mode} (BN {impl})", lambda impl=impl, jit=(mode == "jit"):
            minigrad_step(impl, jit))
        for mode in ("eager", "jit") for impl in ("composed", "fused")
    ] + [("PyTorch eager", torch_step), ("JAX jit", jax_step)]
    return env.side_by_side_rows(makers, settings, ORDER, "loss@step1")


def ratios(rows: list[Row],
           pairs: tuple[tuple[str, str, str, str], ...] = RATIOS) -> list[dict[str, Any]]:
    """top / bottom of each (label, top, bottom, target) in ``pairs``, of the medians and of
    the minima; None where a row has no timing."""
    by_name = {row.name: row for row in rows}
    out = []
    for label, top, bottom, target in pairs:
        a, b = by_name.get(top), by_name.get(bottom)
        ok = a is not None and b is not None and a.timing and b.timing
        out.append({"ratio": label, "target": target,
                    "value": a.timing.median / b.timing.median if ok else None,
                    "value_of_minima": a.timing.min / b.timing.min if ok else None})
    return out


def format_ratios(found: list[dict[str, Any]]) -> str:
    """The ratio lines: label, ratio of medians, ratio of minima, target."""
    width = max([34, *(len(ratio["ratio"]) for ratio in found)])
    lines = [f"{'ratio':<{width}} {'medians':>8} {'minima':>8}"]
    for ratio in found:
        values = [f"{ratio[k]:.3g}" if ratio[k] is not None else "n/a"
                  for k in ("value", "value_of_minima")]
        target = f"  (target {ratio['target']})" if ratio["target"] else ""
        lines.append(f"{ratio['ratio']:<{width}} {values[0]:>8} {values[1]:>8}{target}")
    return "\n".join(lines)


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
    print(format_ratios(found))
    info["load_average_end"] = list(os.getloadavg())
    payload = {"benchmark": "mlp_training_step", "quick": quick, "info": info,
               "settings": settings, "rows": [row.as_dict() for row in rows], "ratios": found}
    print(f"wrote {env.write_json('mlp', payload, out_dir)}")
    return payload
