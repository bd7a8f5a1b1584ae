"""LayerNorm and an RMSNorm composition, forward + backward (issue 17: "Every normalisation
over trailing axes (LayerNorm, RMSNorm-like compositions) in two passes: >= 1.5x PyTorch").

x has shape (rows, features) and is normalised over its last axis. Each implementation
computes the scalar loss = sum(y * g) with a fixed random g, and its gradients:

- LayerNorm: y = (x - mean) / sqrt(var + eps) * w + b (biased variance); returns
  (loss, dx, dw, db). minigrad ``nn.functional.layer_norm`` (composed) under ``mg.jit``
  and eager, PyTorch eager ``F.layer_norm`` + ``torch.autograd.grad``.
- RMSNorm: y = x * rsqrt(mean(x * x, -1, keepdims) + eps) * w; returns (loss, dx, dw).
  minigrad's composition under ``mg.jit`` and eager; PyTorch's ``F.rms_norm``.

Every row shows the loss of its first call and its max relative error (over the returned
arrays) against the float64 closed form in numpy; all rows are timed side by side in rounds
(``minigrad.timing.time_side_by_side``) on the same inputs.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from minigrad.timing import (
    NOT_INSTALLED,
    Row,
    format_rows,
    jit_available,
    max_rel_error,
    time_side_by_side,
)

from . import env

EPS = 1e-5
FULL_SIZES = ((64, 256), (1024, 1024), (16384, 512))
QUICK_SIZES = ((64, 256), (512, 256))
DTYPES = ("float32", "float64")
LN_ORDER = ("minigrad jit", "minigrad eager", "PyTorch eager")
RMS_ORDER = ("minigrad jit rms", "minigrad eager rms", "PyTorch rms_norm")
ORDER = LN_ORDER + RMS_ORDER
# (label, numerator row, denominator row)
RATIOS = (("PyTorch / minigrad jit (LayerNorm)", "PyTorch eager", "minigrad jit"),
          ("PyTorch / minigrad jit (RMSNorm)", "PyTorch rms_norm", "minigrad jit rms"))
TARGET = "(target >= 1.5)"
Step = Callable[[], tuple]


def inputs(n: int, d: int, dtype: str, seed: int = 0) -> dict[str, np.ndarray]:
    """x (offset mean), w, b and the loss weights g, of shape (n, d) and (d,)."""
    rng = np.random.default_rng(seed)
    return {"x": (rng.standard_normal((n, d)) * 2.0 + 0.5).astype(dtype),
            "w": (rng.standard_normal(d) * 0.5 + 1.0).astype(dtype),
            "b": rng.standard_normal(d).astype(dtype),
            "g": rng.standard_normal((n, d)).astype(dtype)}


# ----------------------------------------------------------------- float64 references
def layer_norm_reference(data: dict[str, np.ndarray], eps: float = EPS) -> tuple:
    """(loss, dx, dw, db) in float64: xhat = (x - m) s, s = 1/sqrt(var + eps),
    dx = s (gw - mean(gw) - xhat mean(gw xhat)), dw = sum_rows g xhat, db = sum_rows g."""
    x, w, b, g = (data[k].astype(np.float64) for k in "xwbg")
    s = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    xhat = (x - x.mean(axis=-1, keepdims=True)) * s
    gw = g * w
    dx = s * (gw - gw.mean(-1, keepdims=True) - xhat * (gw * xhat).mean(-1, keepdims=True))
    return (np.sum((xhat * w + b) * g), dx, (g * xhat).sum(0), g.sum(0))


def rms_norm_reference(data: dict[str, np.ndarray], eps: float = EPS) -> tuple:
    """(loss, dx, dw) in float64: r = 1/sqrt(mean(x^2) + eps), y = x r w,
    dx = r (gw - x r^2 mean(gw x)), dw = sum_rows g x r."""
    x, w, g = (data[k].astype(np.float64) for k in "xwg")
    r = 1.0 / np.sqrt((x * x).mean(-1, keepdims=True) + eps)
    gw = g * w
    dx = r * (gw - x * r * r * (gw * x).mean(-1, keepdims=True))
    return (np.sum(x * r * w * g), dx, (g * x * r).sum(0))


# ---------------------------------------------------------------------------- minigrad
def minigrad_step(data: dict[str, np.ndarray], jit: bool, rms: bool, eps: float = EPS
                  ) -> Step:
    """minigrad's loss and gradients (mg.grad), under ``mg.jit`` or eager."""
    import minigrad as mg

    d = data["x"].shape[-1]
    x, w, b = (mg.tensor(data[k], requires_grad=True) for k in "xwb")
    g = mg.tensor(data["g"])

    def layer_norm(x: Any, w: Any, b: Any, g: Any) -> tuple:
        loss = (mg.nn.functional.layer_norm(x, (d,), w, b, eps) * g).sum()
        return (loss, *mg.grad(loss, [x, w, b]))

    def rms_norm(x: Any, w: Any, g: Any) -> tuple:
        loss = (x * mg.rsqrt((x * x).mean(-1, keepdims=True) + eps) * w * g).sum()
        return (loss, *mg.grad(loss, [x, w]))

    fn = mg.jit(rms_norm if rms else layer_norm, background=False) if jit else (
        rms_norm if rms else layer_norm)
    args = (x, w, g) if rms else (x, w, b, g)
    return lambda: fn(*args)


def torch_step(data: dict[str, np.ndarray], rms: bool, eps: float = EPS) -> Step | Row:
    """PyTorch eager: F.layer_norm (or F.rms_norm), then torch.autograd.grad."""
    torch = env.load_torch()
    name = "PyTorch rms_norm" if rms else "PyTorch eager"
    if torch is None:
        return Row(name, NOT_INSTALLED, "import torch failed")
    d = data["x"].shape[-1]
    x, w, b = (torch.from_numpy(data[k]).requires_grad_() for k in "xwb")
    g = torch.from_numpy(data["g"])
    functional, autograd_grad = torch.nn.functional, torch.autograd.grad

    def layer_norm() -> tuple:
        loss = (functional.layer_norm(x, (d,), w, b, eps) * g).sum()
        return (loss, *autograd_grad(loss, (x, w, b)))

    def rms_norm() -> tuple:
        loss = (functional.rms_norm(x, (d,), w, eps) * g).sum()
        return (loss, *autograd_grad(loss, (x, w)))

    return rms_norm if rms else layer_norm


# ----------------------------------------------------------------------------- running
def makers(data: dict[str, np.ndarray]) -> dict[str, Callable[[], Step | Row]]:
    """Each row's maker, by row name."""
    found: dict[str, Callable[[], Step | Row]] = {
        "minigrad eager": lambda: minigrad_step(data, False, False),
        "PyTorch eager": lambda: torch_step(data, False),
        "minigrad eager rms": lambda: minigrad_step(data, False, True),
        "PyTorch rms_norm": lambda: torch_step(data, True)}
    if jit_available():
        found["minigrad jit"] = lambda: minigrad_step(data, True, False)
        found["minigrad jit rms"] = lambda: minigrad_step(data, True, True)
    return found


def rows_at(n: int, d: int, dtype: str, settings: dict[str, Any]) -> list[Row]:
    """Every row at one size and dtype, in ``ORDER``: timing, loss@call1, max rel err."""
    data = inputs(n, d, dtype)
    references = {False: layer_norm_reference(data), True: rms_norm_reference(data)}
    steps: dict[str, Step] = {}
    rows: list[Row] = []
    checks: dict[str, dict[str, float]] = {}
    for name, make in makers(data).items():
        try:
            made = make()
            if isinstance(made, Row):
                rows.append(made)
                continue
            result = tuple(env.to_numpy(v) for v in made())  # call 1 (compiles under jit)
            checks[name] = {"loss@call1": float(result[0]),
                            "max rel err": max_rel_error(result, references[name in RMS_ORDER])}
            steps[name] = made
        except Exception as error:  # reported in the row
            rows.append(Row(name, "error", f"{type(error).__name__}: {error}"[:200]))
    for name, timing in time_side_by_side(steps, **settings).items():
        if isinstance(timing, Exception):
            rows.append(Row(name, "error", f"{type(timing).__name__}: {timing}"[:200]))
        else:
            rows.append(Row(name, timing=timing, extra=checks[name]))
    by_name = {row.name: row for row in rows}
    return [by_name[name] for name in ORDER if name in by_name]


def ratios(rows: list[Row]) -> list[dict[str, Any]]:
    """PyTorch / minigrad jit for LayerNorm and RMSNorm (medians and minima; None when a
    row has no timing)."""
    timings = {row.name: row.timing for row in rows if row.timing is not None}
    out = []
    for label, top, bottom in RATIOS:
        a, b = timings.get(top), timings.get(bottom)
        out.append({"ratio": label,
                    "value": a.median / b.median if a and b else None,
                    "value_of_minima": a.min / b.min if a and b else None})
    return out


def format_ratios(found: list[dict[str, Any]]) -> str:
    """One line per ratio: its value (of medians; of minima in brackets) per size and dtype."""
    columns = [f"{r['n']}x{r['d']} {r['dtype'][-2:]}" for r in found]
    width = max(len(label) for label, _, _ in RATIOS)
    lines = [f"{'ratio (medians; minima)':<{width}}" + "".join(f" {c:>20}" for c in columns)]
    for i, (label, _, _) in enumerate(RATIOS):
        cells = []
        for result in found:
            ratio = result["ratios"][i]
            cells.append(f" {'n/a':>20}" if ratio["value"] is None else
                         f" {ratio['value']:>9.3g} ({ratio['value_of_minima']:.3g})".rjust(21))
        lines.append(f"{label:<{width}}" + "".join(cells) + f"  {TARGET}")
    return "\n".join(lines)


def run(quick: bool = False, out_dir: Path = env.RESULTS,
        sizes: tuple[tuple[int, int], ...] | None = None,
        dtypes: tuple[str, ...] = DTYPES) -> dict[str, Any]:
    """Print one table per size and dtype and the ratios; write layernorm.json."""
    sizes = sizes or (QUICK_SIZES if quick else FULL_SIZES)
    info = env.machine_info()
    print(env.format_header("LayerNorm and RMSNorm over the last axis, forward + backward "
                            "(loss = sum(y * g); gradients wrt x, w[, b])", info))
    settings = ({"warmup": 1, "min_rounds": 1, "max_rounds": 3, "budget": 0.3,
                 "min_sample": 1e-3}
                if quick else {"warmup": 1, "min_rounds": 5, "max_rounds": 21, "budget": 5.0,
                               "min_sample": 5e-3})
    found = []
    for dtype in dtypes:
        for n, d in sizes:
            rows = rows_at(n, d, dtype, settings)
            print(f"\nrows x features = {n} x {d}, {dtype}")
            print(format_rows(rows, ("loss@call1", "max rel err")))
            found.append({"n": n, "d": d, "dtype": dtype, "ratios": ratios(rows),
                          "rows": [row.as_dict() for row in rows]})
    print()
    print(format_ratios(found))
    info["load_average_end"] = list(os.getloadavg())
    payload = {"benchmark": "layernorm", "quick": quick, "eps": EPS, "info": info,
               "settings": settings, "results": found}
    print(f"wrote {env.write_json('layernorm', payload, out_dir)}")
    return payload


def main() -> None:
    """``python -m benchmarks.layernorm [--quick]``: the tables alone (``benchmarks.run
    --only layernorm`` runs it with the others)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds")
    parser.add_argument("--sizes", default=None, help="e.g. 1024x1024,16384x512")
    parser.add_argument("--dtypes", default=",".join(DTYPES))
    args = parser.parse_args()
    sizes = None if not args.sizes else tuple(
        tuple(int(v) for v in s.lower().split("x")) for s in args.sizes.split(","))
    run(quick=args.quick, sizes=sizes, dtypes=tuple(args.dtypes.split(",")))


if __name__ == "__main__":
    os.environ.setdefault("OMP_WAIT_POLICY", "ACTIVE")
    os.environ.setdefault("MINIGRAD_JIT_BACKGROUND", "0")
    main()
