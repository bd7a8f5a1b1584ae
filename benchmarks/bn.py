"""Benchmark 1: BatchNorm forward + backward (train mode, affine, random dout).

At each size and dtype, every implementation gets the same numpy inputs and returns
(out, dx, dgamma, dbeta); they are timed side by side in rounds (``minigrad.timing``).
The memory-bandwidth floor is the time of 8 passes over the N x D array at the copy
bandwidth measured in the same run (bytes read + written by a large copy).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import numpy as np

from minigrad.timing import (
    NOT_INSTALLED,
    Row,
    Runner,
    Timing,
    bn_inputs,
    closed_form_runner,
    format_rows,
    max_rel_error,
    minigrad_bn_rows,
    time_side_by_side,
)

from . import env

EPS = 1e-5
FULL_SIZES = ((64, 256), (1024, 1024), (16384, 512))
QUICK_SIZES = ((64, 256), (512, 256))
DTYPES = ("float32", "float64")
FLOOR = "bandwidth floor (8 passes)"
ORDER = (
    "minigrad eager composed", "minigrad eager fused", "minigrad jit composed",
    "minigrad jit fused", "seed numpy (staged)", "numpy closed form", "PyTorch (CPU)",
    "JAX jit", FLOOR,
)
# (label, numerator row, denominator row, target text)
RATIOS = (
    ("PyTorch / jit composed", "PyTorch (CPU)", "minigrad jit composed", ">= 2 (f32)"),
    ("PyTorch / jit fused", "PyTorch (CPU)", "minigrad jit fused", ">= 2 (f32)"),
    ("jit composed / jit fused", "minigrad jit composed", "minigrad jit fused", "<= 1.25"),
    ("jit composed / floor", "minigrad jit composed", FLOOR, "<= 2 @16384x512"),
    ("jit fused / floor", "minigrad jit fused", FLOOR, "<= 2 @16384x512"),
    ("eager composed / seed numpy", "minigrad eager composed", "seed numpy (staged)", "<= 1.5"),
    ("eager fused / seed numpy", "minigrad eager fused", "seed numpy (staged)", ""),
    ("PyTorch / JAX jit", "PyTorch (CPU)", "JAX jit", ""),
)


# ----------------------------------------------------------------------- the peers
def torch_runner(inputs: dict[str, np.ndarray], eps: float) -> Runner | Row:
    """PyTorch: F.batch_norm(training=True) then torch.autograd.grad wrt x, weight, bias."""
    torch = env.load_torch()
    if torch is None:
        return Row("PyTorch (CPU)", NOT_INSTALLED, "import torch failed")
    x = torch.from_numpy(inputs["x"]).requires_grad_()
    gamma = torch.from_numpy(inputs["gamma"]).requires_grad_()
    beta = torch.from_numpy(inputs["beta"]).requires_grad_()
    dout = torch.from_numpy(inputs["dout"])
    batch_norm = torch.nn.functional.batch_norm
    autograd_grad = torch.autograd.grad

    def run() -> tuple:
        out = batch_norm(x, None, None, gamma, beta, training=True, eps=eps)
        return (out, *autograd_grad(out, (x, gamma, beta), dout))

    return run


def jax_runner(inputs: dict[str, np.ndarray], eps: float) -> Runner | Row:
    """JAX: jit of (out, vjp(dout)) for a jnp BatchNorm (two-pass biased variance)."""
    jax = env.load_jax()
    if jax is None:
        return Row("JAX jit", NOT_INSTALLED, "import jax failed")
    jnp = jax.numpy

    def batch_norm(x: Any, gamma: Any, beta: Any) -> Any:
        xmu = x - jnp.mean(x, axis=0)
        ivar = jax.lax.rsqrt(jnp.mean(xmu * xmu, axis=0) + eps)
        return gamma * (xmu * ivar) + beta

    @jax.jit
    def forward_backward(x: Any, gamma: Any, beta: Any, dout: Any) -> tuple:
        out, vjp = jax.vjp(batch_norm, x, gamma, beta)
        return (out, *vjp(dout))

    args = [jax.device_put(inputs[k]) for k in ("x", "gamma", "beta", "dout")]

    def run() -> tuple:
        return forward_backward(*args)

    return run


# ------------------------------------------------------------------ bandwidth floor
def measure_bandwidth(nbytes: int, settings: dict[str, Any]) -> dict[str, Any]:
    """Copy bandwidth in bytes/s (read + written) of np.copyto and a Numba prange copy."""
    src = np.random.default_rng(1).standard_normal(nbytes // 8)
    dst = np.empty_like(src)
    fns = {"np.copyto": lambda: np.copyto(dst, src)}
    try:
        fns["numba prange copy"] = _numba_copy(dst, src)
    except Exception:  # numba missing or failing: numpy's copy alone
        pass
    timings = time_side_by_side(fns, **settings)
    moved = 2 * src.nbytes
    result: dict[str, Any] = {"buffer_bytes": src.nbytes, "methods": {}}
    for name, timing in timings.items():
        if isinstance(timing, Timing):
            result["methods"][name] = {
                "GB_per_s_median": moved / timing.median / 1e9,
                "GB_per_s_q1": moved / timing.q3 / 1e9,
                "GB_per_s_q3": moved / timing.q1 / 1e9,
                "GB_per_s_max": moved / timing.min / 1e9,
            }
    best = max(result["methods"], key=lambda k: result["methods"][k]["GB_per_s_median"])
    result["used"] = best
    result["GB_per_s"] = result["methods"][best]["GB_per_s_median"]
    return result


@functools.cache
def _numba_copy_kernel() -> Any:
    import numba

    @numba.njit(parallel=True, cache=False)
    def copy(out: np.ndarray, values: np.ndarray) -> None:
        for i in numba.prange(values.size):
            out[i] = values[i]

    return copy


def _numba_copy(dst: np.ndarray, src: np.ndarray) -> Any:
    copy = _numba_copy_kernel()
    return lambda: copy(dst, src)


def floor_row(n: int, d: int, dtype: str, bandwidth: dict[str, Any]) -> Row:
    """8 passes over N x D at the measured bandwidth (median; min from the best sample)."""
    nbytes = 8 * n * d * np.dtype(dtype).itemsize
    method = bandwidth["methods"][bandwidth["used"]]
    timing = Timing(nbytes / (method["GB_per_s_median"] * 1e9),
                    nbytes / (method["GB_per_s_q3"] * 1e9),
                    nbytes / (method["GB_per_s_q1"] * 1e9),
                    nbytes / (method["GB_per_s_max"] * 1e9), 0, 0)
    return Row(FLOOR, timing=timing,
               note=f"{bandwidth['GB_per_s']:.1f} GB/s ({bandwidth['used']})")


# ------------------------------------------------------------------------- running
def bn_rows(n: int, d: int, dtype: str, settings: dict[str, Any],
            bandwidth: dict[str, Any]) -> list[Row]:
    """Every implementation's row at one size and dtype, in ``ORDER``."""
    inputs = bn_inputs(n, d, dtype)
    runners, rows = minigrad_bn_rows(inputs, EPS)
    for make in (torch_runner, jax_runner):
        made = make(inputs, EPS)
        if isinstance(made, Row):
            rows.append(made)
        else:
            runners["PyTorch (CPU)" if make is torch_runner else "JAX jit"] = made
    inputs64 = {k: v.astype(np.float64) for k, v in inputs.items()}
    reference = closed_form_runner(inputs64, EPS)()
    for name, timing in time_side_by_side(runners, **settings).items():
        if isinstance(timing, Exception):
            rows.append(Row(name, "error", f"{type(timing).__name__}: {timing}"[:200]))
            continue
        result = tuple(env.to_numpy(v) for v in runners[name]())
        extra = {"max rel err": max_rel_error(result, reference)}
        if getattr(runners[name], "plan", None):  # mg.jit's kernel plan, for the JSON
            extra["jit_plan"] = runners[name].plan
        rows.append(Row(name, timing=timing, extra=extra))
    rows.append(floor_row(n, d, dtype, bandwidth))
    by_name = {row.name: row for row in rows}
    return [by_name[name] for name in ORDER if name in by_name]


def ratios(rows: list[Row]) -> list[dict[str, Any]]:
    """The ratios of ``RATIOS`` (of medians, and of minima), or why one is missing."""
    by_name = {row.name: row for row in rows}
    out = []
    for label, top, bottom, target in RATIOS:
        a, b = by_name.get(top), by_name.get(bottom)
        if a is None or b is None or a.timing is None or b.timing is None:
            missing = [r.name for r in (a, b) if r is not None and r.timing is None]
            out.append({"ratio": label, "value": None, "value_of_minima": None,
                        "target": target, "note": f"n/a ({', '.join(missing) or 'missing'})"})
        else:
            out.append({"ratio": label, "value": a.timing.median / b.timing.median,
                        "value_of_minima": a.timing.min / b.timing.min,
                        "target": target, "note": ""})
    return out


def format_ratios(results: list[dict[str, Any]], key: str = "value") -> str:
    """Ratios as a table: one line per ratio, one column per size and dtype."""
    columns = [f"{r['n']}x{r['d']} {r['dtype'][-2:]}" for r in results]
    title = "ratio (medians)" if key == "value" else "ratio (minima)"
    header = f"{title:<30} {'target':>16}" + "".join(f" {c:>13}" for c in columns)
    lines = [header, "-" * len(header)]
    for i, (label, _, _, target) in enumerate(RATIOS):
        cells = []
        for result in results:
            value = result["ratios"][i][key]
            cells.append(f" {value:>13.3g}" if value is not None else f" {'n/a':>13}")
        lines.append(f"{label:<30} {target:>16}" + "".join(cells))
    return "\n".join(lines)


def run(quick: bool = False, sizes: tuple[tuple[int, int], ...] | None = None,
        dtypes: tuple[str, ...] = DTYPES, out_dir: Path = env.RESULTS,
        plot: bool = True) -> dict[str, Any]:
    """Run benchmark 1, print its tables, write bn.json (and bn.png); return the payload."""
    sizes = sizes or (QUICK_SIZES if quick else FULL_SIZES)
    info = env.machine_info()
    print(env.format_header("BatchNorm forward + backward (train mode, affine)", info))
    bw_settings = ({"warmup": 1, "min_rounds": 3, "max_rounds": 3, "budget": 0.5}
                   if quick else {"warmup": 1, "min_rounds": 5, "max_rounds": 15, "budget": 4.0})
    bandwidth = measure_bandwidth((16 if quick else 256) << 20, bw_settings)
    print("copy bandwidth (read + written): " + ", ".join(
        f"{k} {v['GB_per_s_median']:.1f} GB/s" for k, v in bandwidth["methods"].items())
        + f" -> floor uses {bandwidth['used']}")
    settings = ({"warmup": 1, "min_rounds": 1, "max_rounds": 3, "budget": 0.3,
                 "min_sample": 1e-3}
                if quick else {"warmup": 1, "min_rounds": 5, "max_rounds": 21, "budget": 5.0,
                               "min_sample": 5e-3})
    results = []
    for dtype in dtypes:
        for n, d in sizes:
            rows = bn_rows(n, d, dtype, settings, bandwidth)
            print(f"\nN x D = {n} x {d}, {dtype}")
            print(format_rows(rows, ("max rel err",)))
            results.append({"n": n, "d": d, "dtype": dtype,
                            "rows": [row.as_dict() for row in rows], "ratios": ratios(rows)})
    print()
    print(format_ratios(results))
    print()
    print(format_ratios(results, "value_of_minima"))
    print("(minima: each implementation's fastest sample; less sensitive to other processes "
          "on a shared machine)")
    info["load_average_end"] = list(os.getloadavg())
    payload = {"benchmark": "bn_forward_backward", "quick": quick, "eps": EPS, "info": info,
               "settings": settings, "bandwidth": bandwidth, "results": results}
    print(f"wrote {env.write_json('bn', payload, out_dir)}")
    if plot:
        path = plot_bn(payload, out_dir / "bn.png")
        if path is not None:
            print(f"wrote {path}")
    return payload


# --------------------------------------------------------------------------- plot
STYLES = {
    "minigrad eager composed": ("tab:blue", "o", ":"),
    "minigrad eager fused": ("tab:cyan", "s", ":"),
    "minigrad jit composed": ("tab:blue", "o", "-"),
    "minigrad jit fused": ("tab:cyan", "s", "-"),
    "seed numpy (staged)": ("tab:gray", "^", "--"),
    "numpy closed form": ("tab:olive", "v", "--"),
    "PyTorch (CPU)": ("tab:red", "D", "-"),
    "JAX jit": ("tab:green", "P", "-"),
}


def plot_bn(payload: dict[str, Any], path: Path) -> Path | None:
    """Time per implementation per size (log-log), one panel per dtype, with the floor."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot")
        return None
    dtypes = list(dict.fromkeys(r["dtype"] for r in payload["results"]))
    fig, axes = plt.subplots(1, len(dtypes), figsize=(6.2 * len(dtypes), 5.2), squeeze=False,
                             sharey=True)
    for ax, dtype in zip(axes[0], dtypes, strict=True):
        results = [r for r in payload["results"] if r["dtype"] == dtype]
        sizes = [r["n"] * r["d"] for r in results]
        for name in ORDER:
            points = [(s, row) for s, r in zip(sizes, results, strict=True)
                      for row in r["rows"] if row["name"] == name and "median_ms" in row]
            if not points:
                continue
            xs = [s for s, _ in points]
            ys = [row["median_ms"] for _, row in points]
            if name == FLOOR:
                ax.plot(xs, ys, color="black", linestyle="--", linewidth=2,
                        label=f"bandwidth floor (8 passes, {payload['bandwidth']['GB_per_s']:.0f}"
                              " GB/s)")
                continue
            lo = [row["median_ms"] - row["q1_ms"] for _, row in points]
            hi = [row["q3_ms"] - row["median_ms"] for _, row in points]
            color, marker, style = STYLES[name]
            ax.errorbar(xs, ys, yerr=[lo, hi], color=color, marker=marker, linestyle=style,
                        linewidth=2.4 if name.startswith("minigrad jit") else 1.4, capsize=3,
                        label=name)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(sizes, [f"{r['n']}×{r['d']}" for r in results])
        ax.minorticks_off()
        ax.set_xlabel("N × D")
        ax.set_title(f"{dtype}")
        ax.grid(True, which="major", alpha=0.3)
    axes[0][0].set_ylabel("forward + backward, median ms (bars: IQR)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: labels[i].startswith("bandwidth floor"))
    handles, labels = [handles[i] for i in order], [labels[i] for i in order]
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=9, frameon=False)
    info = payload["info"]
    fig.suptitle(f"BatchNorm forward + backward (train, affine), {info['time_utc']} UTC\n"
                 f"{info['cpu']}, threads: {info['threads_numba']}", fontsize=11)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
