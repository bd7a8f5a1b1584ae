"""Benchmark 5: convolution forward + backward, and a training step of the toy CNN.

1. ``conv2d`` of x (64, 16, 8, 8) with w (32, 16, 3, 3), padding 1, plus a bias; the value
   and the gradients of sum(y * g) in x, w and b (g fixed), float32.
2. One SGD step (lr 0.1, cross-entropy) of ``minigrad.cnn.cnn()`` on a batch of 64 digits
   (8x8): [Conv2d 3x3 -> BatchNorm2d -> ReLU -> MaxPool2d 2] x 2 (16, 32 channels) ->
   Linear(128, 10), float32, training mode (BN running statistics updated).

minigrad eager and ``mg.jit``, PyTorch eager and JAX jit start from the same weights and
data; the first call's value is printed beside the timings as a check that they agree.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from minigrad.timing import NOT_INSTALLED, Row, format_rows, jit_available

from . import env

BATCH, C_IN, C_OUT, SIDE = 64, 16, 32, 8
LR = 0.1
ORDER = ("minigrad eager", "minigrad jit", "PyTorch eager", "JAX jit")
Step = Callable[[], Any]


def conv_data(seed: int = 0) -> list[np.ndarray]:
    """x, w, b (PyTorch's init bounds) and the upstream gradient g, float32."""
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(C_IN * 9)
    return [rng.standard_normal((BATCH, C_IN, SIDE, SIDE)).astype(np.float32),
            rng.uniform(-bound, bound, (C_OUT, C_IN, 3, 3)).astype(np.float32),
            rng.uniform(-bound, bound, C_OUT).astype(np.float32),
            rng.standard_normal((BATCH, C_OUT, SIDE, SIDE)).astype(np.float32)]


# ------------------------------------------------------------------ 1. conv2d alone
def minigrad_conv(jit: bool) -> Step | Row:
    """sum(conv2d(x, w, b) * g) and its gradients in x, w, b (mg.grad)."""
    import minigrad as mg

    if jit and not jit_available():
        return Row("minigrad jit", NOT_INSTALLED, "mg.jit not importable")
    x, w, b, g = (mg.tensor(a, requires_grad=k < 3) for k, a in enumerate(conv_data()))

    def forward_backward(x: Any, w: Any, b: Any) -> Any:
        loss = mg.sum(mg.nn.functional.conv2d(x, w, b, padding=1) * g)
        return (loss, *mg.grad(loss, [x, w, b]))

    step = mg.jit(forward_backward) if jit else forward_backward
    return lambda: step(x, w, b)[0]


def torch_conv() -> Step | Row:
    torch = env.load_torch()
    if torch is None:
        return Row("PyTorch eager", NOT_INSTALLED, "import torch failed")
    x, w, b = (torch.tensor(a, requires_grad=True) for a in conv_data()[:3])
    g = torch.tensor(conv_data()[3])

    def step() -> Any:
        loss = (torch.nn.functional.conv2d(x, w, b, padding=1) * g).sum()
        torch.autograd.grad(loss, [x, w, b])
        return loss.detach()

    return step


def jax_conv() -> Step | Row:
    jax = env.load_jax()
    if jax is None:
        return Row("JAX jit", NOT_INSTALLED, "import jax failed")
    x, w, b, g = (jax.device_put(a) for a in conv_data())

    def loss_fn(x: Any, w: Any, b: Any) -> Any:
        y = jax.lax.conv_general_dilated(x, w, (1, 1), ((1, 1), (1, 1)))
        return ((y + b[None, :, None, None]) * g).sum()

    value_and_grads = jax.jit(jax.value_and_grad(loss_fn, argnums=(0, 1, 2)))
    return lambda: value_and_grads(x, w, b)[0]


# ------------------------------------------------------------------- 2. the toy CNN
def digits_batch() -> tuple[np.ndarray, np.ndarray]:
    """The first 64 digits (rows of 64 values in [0, 1]) and their labels."""
    from minigrad import data

    X, y = data.digits()
    return X[:BATCH].astype(np.float32), y[:BATCH]


def minigrad_cnn(jit: bool) -> tuple[Step | Row, list[np.ndarray]]:
    """The minigrad CNN step, and its initial parameters (to copy into the others)."""
    import minigrad as mg
    from minigrad.cnn import cnn

    if jit and not jit_available():
        return Row("minigrad jit", NOT_INSTALLED, "mg.jit not importable"), []
    mg.manual_seed(0)
    model = cnn()
    params = [p.data.copy() for p in model.parameters()]
    opt = mg.optim.SGD(model.parameters(), lr=LR)
    X, y = (mg.tensor(a) for a in digits_batch())

    def train_step(x: Any, y: Any) -> Any:
        opt.zero_grad()
        loss = mg.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    step = mg.jit(train_step) if jit else train_step
    return (lambda: step(X, y)), params


def torch_cnn(params: list[np.ndarray]) -> Step | Row:
    torch = env.load_torch()
    if torch is None:
        return Row("PyTorch eager", NOT_INSTALLED, "import torch failed")
    nn = torch.nn
    model = nn.Sequential(
        nn.Unflatten(1, (1, SIDE, SIDE)),
        nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.MaxPool2d(2, ceil_mode=True),
        nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2, ceil_mode=True), nn.Flatten(), nn.Linear(128, 10))
    with torch.no_grad():
        for param, value in zip(model.parameters(), params, strict=True):
            param.copy_(torch.from_numpy(value))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    X, y = (torch.from_numpy(a) for a in digits_batch())

    def step() -> Any:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(X), y)
        loss.backward()
        opt.step()
        return loss.detach()

    return step


def jax_cnn(params: list[np.ndarray]) -> Step | Row:
    jax = env.load_jax()
    if jax is None:
        return Row("JAX jit", NOT_INSTALLED, "import jax failed")
    jnp = jax.numpy

    def block(h: Any, w: Any, gamma: Any, beta: Any, mean: Any, var: Any) -> tuple:
        h = jax.lax.conv_general_dilated(h, w, (1, 1), ((1, 1), (1, 1)))
        mu = h.mean(axis=(0, 2, 3), keepdims=True)
        batch_var = ((h - mu) ** 2).mean(axis=(0, 2, 3), keepdims=True)
        h = (h - mu) * jax.lax.rsqrt(batch_var + 1e-5) * gamma[None, :, None, None]
        count = h.shape[0] * h.shape[2] * h.shape[3]  # values per channel
        unbiased = batch_var.reshape(-1) * count / (count - 1)
        h = jax.nn.relu(h + beta[None, :, None, None])
        h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
        stats = (0.9 * mean + 0.1 * jax.lax.stop_gradient(mu.reshape(-1)),
                 0.9 * var + 0.1 * jax.lax.stop_gradient(unbiased))
        return h, stats

    def loss_fn(p: list, stats: list, x: Any, y: Any) -> tuple:
        h = x.reshape(-1, 1, SIDE, SIDE)
        h, s1 = block(h, p[0], p[1], p[2], *stats[0])
        h, s2 = block(h, p[3], p[4], p[5], *stats[1])
        logits = h.reshape(h.shape[0], -1) @ p[6].T + p[7]
        logp = jax.nn.log_softmax(logits, axis=1)
        return -jnp.take_along_axis(logp, y[:, None], axis=1).mean(), [s1, s2]

    @jax.jit
    def train_step(p: list, stats: list, x: Any, y: Any) -> tuple:
        (loss, new_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(p, stats, x, y)
        return [a - LR * g for a, g in zip(p, grads, strict=True)], new_stats, loss

    state = {"p": [jax.device_put(a) for a in params],
             "stats": [(jnp.zeros(16), jnp.ones(16)), (jnp.zeros(32), jnp.ones(32))]}
    X, y = (jax.device_put(a) for a in digits_batch())

    def step() -> Any:
        state["p"], state["stats"], loss = train_step(state["p"], state["stats"], X, y)
        return loss

    return step


# ---------------------------------------------------------------------------- running
def _rows(makers: dict[str, Callable[[], Step | Row]], settings: dict[str, Any]) -> list[Row]:
    return env.side_by_side_rows(makers.items(), settings, ORDER, "value@call1")


def run(quick: bool = False, out_dir: Path = env.RESULTS) -> dict[str, Any]:
    """Run both tables, print them, write conv.json; return the payload."""
    info = env.machine_info()
    settings = ({"warmup": 1, "min_rounds": 1, "max_rounds": 3, "budget": 0.3,
                 "min_sample": 1e-3}
                if quick else {"warmup": 3, "min_rounds": 7, "max_rounds": 25, "budget": 6.0,
                               "min_sample": 2e-2})
    print(env.format_header(
        f"conv2d x ({BATCH}, {C_IN}, {SIDE}, {SIDE}) w ({C_OUT}, {C_IN}, 3, 3) padding 1 + "
        "bias, float32: value and gradients in x, w, b", info))
    conv_rows = _rows({"minigrad eager": lambda: minigrad_conv(False),
                       "minigrad jit": lambda: minigrad_conv(True),
                       "PyTorch eager": torch_conv, "JAX jit": jax_conv}, settings)
    print(format_rows(conv_rows, ("value@call1",)))
    print()
    eager_step, params = minigrad_cnn(False)
    print(f"toy CNN on digits, batch {BATCH}, float32, SGD(lr={LR}): one training step")
    cnn_rows = _rows({"minigrad eager": lambda: eager_step,
                      "minigrad jit": lambda: minigrad_cnn(True)[0],
                      "PyTorch eager": lambda: torch_cnn(params),
                      "JAX jit": lambda: jax_cnn(params)}, settings)
    print(format_rows(cnn_rows, ("value@call1",)))
    info["load_average_end"] = list(os.getloadavg())
    payload = {"benchmark": "conv", "quick": quick, "info": info, "settings": settings,
               "conv": [row.as_dict() for row in conv_rows],
               "cnn_step": [row.as_dict() for row in cnn_rows]}
    print(f"wrote {env.write_json('conv', payload, out_dir)}")
    return payload
