"""Hessian-vector products of a tanh MLP (issue 17: "HVP >= 1x PyTorch at every size").

The loss is mean((mlp(x) - y)^2) of a 32-W-W-1 MLP with tanh, batch 128, float32, for
widths W = 64, 256, 1024. The product H v with v a fixed random direction in parameter
space is taken the way each library does it best:

- minigrad eager and ``mg.jit``: reverse over reverse, ``mg.grad`` with ``create_graph``,
  then ``mg.grad`` of sum(g * v) (the jit compiles both passes into one kernel);
- PyTorch eager: the same with ``torch.autograd.grad``;
- JAX jit: forward over reverse, ``jax.jvp(jax.grad(loss), (params,), (v,))``.

All start from the same parameters and data; ``value@call1`` is sum(H v) of the first call,
a check that they agree.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from minigrad.timing import NOT_INSTALLED, Row, format_rows, jit_available

from . import env

BATCH, INPUTS = 128, 32
WIDTHS = (64, 256, 1024)
ORDER = ("minigrad eager", "minigrad jit", "PyTorch eager", "JAX jit")
Step = Callable[[], Any]


def problem(width: int, seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray],
                                                 np.ndarray, np.ndarray]:
    """Parameters [W1, b1, W2, b2, W3, b3] (PyTorch's init bounds), the direction v, x, y."""
    rng = np.random.default_rng(seed)
    sizes = [(INPUTS, width), (width, width), (width, 1)]
    params: list[np.ndarray] = []
    for fan_in, fan_out in sizes:
        bound = 1 / np.sqrt(fan_in)
        params += [rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32),
                   rng.uniform(-bound, bound, fan_out).astype(np.float32)]
    direction = [rng.standard_normal(p.shape).astype(np.float32) for p in params]
    x = rng.standard_normal((BATCH, INPUTS)).astype(np.float32)
    y = rng.standard_normal((BATCH, 1)).astype(np.float32)
    return params, direction, x, y


def _mlp_loss(lib_tanh: Callable[[Any], Any], params: list[Any], x: Any, y: Any) -> Any:
    """mean((tanh(tanh(x W1 + b1) W2 + b2) W3 + b3 - y)^2), written once for every library
    whose arrays take ``@`` and ``**``."""
    w1, b1, w2, b2, w3, b3 = params
    hidden = lib_tanh(lib_tanh(x @ w1 + b1) @ w2 + b2)
    return ((hidden @ w3 + b3 - y) ** 2).mean()


def minigrad_hvp(width: int, jit: bool) -> Step | Row:
    import minigrad as mg

    if jit and not jit_available():
        return Row("minigrad jit", NOT_INSTALLED, "mg.jit not importable")
    arrays, direction, x_np, y_np = problem(width)
    params = [mg.tensor(a, requires_grad=True) for a in arrays]
    v = [mg.tensor(a) for a in direction]
    x, y = mg.tensor(x_np), mg.tensor(y_np)

    def hvp(*ps: Any) -> Any:
        grads = mg.grad(_mlp_loss(mg.tanh, list(ps), x, y), list(ps), create_graph=True)
        along = sum(((g * d).sum() for g, d in zip(grads, v, strict=True)), mg.tensor(0.0))
        return mg.grad(along, list(ps))

    step = mg.jit(hvp) if jit else hvp
    return lambda: sum(float(h.sum()) for h in step(*params))


def torch_hvp(width: int) -> Step | Row:
    torch = env.load_torch()
    if torch is None:
        return Row("PyTorch eager", NOT_INSTALLED, "import torch failed")
    arrays, direction, x_np, y_np = problem(width)
    params = [torch.tensor(a, requires_grad=True) for a in arrays]
    v = [torch.tensor(a) for a in direction]
    x, y = torch.tensor(x_np), torch.tensor(y_np)

    def step() -> Any:
        grads = torch.autograd.grad(_mlp_loss(torch.tanh, params, x, y), params,
                                    create_graph=True)
        along = sum((g * d).sum() for g, d in zip(grads, v, strict=True))
        return sum(float(h.sum()) for h in torch.autograd.grad(along, params))

    return step


def jax_hvp(width: int) -> Step | Row:
    jax = env.load_jax()
    if jax is None:
        return Row("JAX jit", NOT_INSTALLED, "import jax failed")
    import jax.numpy as jnp

    arrays, direction, x_np, y_np = problem(width)
    params = [jax.device_put(a) for a in arrays]
    v = [jax.device_put(a) for a in direction]
    x, y = jax.device_put(x_np), jax.device_put(y_np)

    def loss(ps: list[Any]) -> Any:
        return _mlp_loss(jnp.tanh, ps, x, y)

    hvp = jax.jit(lambda ps, vs: jax.jvp(jax.grad(loss), (ps,), (vs,))[1])

    def step() -> Any:
        return sum(float(h.sum()) for h in hvp(params, v))

    return step


def run(quick: bool = False, out_dir: Path = env.RESULTS) -> dict[str, Any]:
    """One table per width; print them, write hvp.json; return the payload."""
    info = env.machine_info()
    settings = ({"warmup": 1, "min_rounds": 1, "max_rounds": 3, "budget": 0.3,
                 "min_sample": 1e-3}
                if quick else {"warmup": 3, "min_rounds": 7, "max_rounds": 25, "budget": 5.0,
                               "min_sample": 2e-2})
    print(env.format_header(f"Hessian-vector product of a 32-W-W-1 tanh MLP, batch {BATCH}, "
                            "float32, mean squared error, H v for all parameters", info))
    tables: dict[str, list[dict[str, Any]]] = {}
    for width in WIDTHS[:1] if quick else WIDTHS:
        makers = {"minigrad eager": lambda w=width: minigrad_hvp(w, False),
                  "minigrad jit": lambda w=width: minigrad_hvp(w, True),
                  "PyTorch eager": lambda w=width: torch_hvp(w),
                  "JAX jit": lambda w=width: jax_hvp(w)}
        rows = env.side_by_side_rows(makers.items(), settings, ORDER, "value@call1")
        print(f"-- width {width} --")
        print(format_rows(rows, ("value@call1",)))
        print(_ratios(rows))
        tables[str(width)] = [row.as_dict() for row in rows]
    info["load_average_end"] = list(os.getloadavg())
    payload = {"benchmark": "hvp", "quick": quick, "info": info, "settings": settings,
               "widths": tables}
    print(f"wrote {env.write_json('hvp', payload, out_dir)}")
    return payload


def _ratios(rows: list[Row]) -> str:
    """PyTorch eager / minigrad (> 1: minigrad faster), from the medians."""
    medians = {row.name: row.timing.median for row in rows if row.timing is not None}
    torch_median = medians.get("PyTorch eager")
    parts = [f"PyTorch eager / {name}: {torch_median / medians[name]:.3g}"
             for name in ("minigrad eager", "minigrad jit") if torch_median and name in medians]
    return "  ".join(parts) + "  (target >= 1)"


def main() -> None:
    """``python -m benchmarks.hvp [--quick]``: the tables alone (``benchmarks.run --only
    hvp`` runs it with the others)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="width 64 only, few rounds")
    run(quick=parser.parse_args().quick)


if __name__ == "__main__":
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    main()
