"""Compile time against graph size (issue 17): mg.jit vs jax.jit on an elementwise chain.

The chain alternates ``y*1.001+0.01`` and ``tanh(y*0.999)`` on 64 float64 elements; its
"nodes" are the forward ops (two per link, as the issue counts them). The function timed
is value and gradient of ``chain(x).sum()``: ``mg.jit`` of ``(loss, mg.grad(loss, [x]))``
and ``jax.jit(jax.value_and_grad(...))``. Each measurement is a fresh process: "cold" with
empty ``MINIGRAD_CACHE_DIR`` and ``NUMBA_CACHE_DIR``, "disk cache" a second process on the
folders the cold run filled. A child over the time limit is killed and shown as "> 600 s"
(larger sizes are then not tried). Times are from the first call to its result, inside the
child, after the imports; medians over the repeats.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import env, fresh

FULL_SIZES = (10, 100, 500, 1000, 2000, 5000)
QUICK_SIZES = (10, 100)
ELEMENTS = 64
REPEAT_BELOW_S = 60.0  # a cold run shorter than this is repeated (3 runs in all)
RATIO_SIZES = (500, 5000)
TARGET_RATIO = 12.0


def chain(x: Any, nodes: int, tanh: Callable[[Any], Any]) -> Any:
    """``nodes`` forward ops: links alternating y*1.001+0.01 and tanh(y*0.999)."""
    y = x
    for link in range(nodes // 2):
        y = y * 1.001 + 0.01 if link % 2 == 0 else tanh(y * 0.999)
    return y


# ------------------------------------------------------------------ in the child
def child_minigrad(nodes: int) -> dict[str, Any]:
    """mg.jit of value and gradient: the first three calls timed, the trace counts."""
    start = time.perf_counter()
    import numpy as np

    import minigrad as mg

    imported = time.perf_counter()
    x = mg.tensor(np.linspace(-1.0, 1.0, ELEMENTS), requires_grad=True)

    def value_and_grad(x: Any) -> tuple:
        loss = chain(x, nodes, mg.tanh).sum()
        return loss, mg.grad(loss, [x])[0]

    compiled = mg.jit(value_and_grad, background=False)
    ends = [time.perf_counter()]
    for _ in range(3):
        value, grad = compiled(x)
        ends.append(time.perf_counter())
    return {"import_s": imported - start, "first_s": ends[1] - ends[0],
            "first_two_s": ends[2] - ends[0], "third_s": ends[3] - ends[2],
            "value": float(value.item()), "grad_sum": float(grad.data.sum()),
            "stats": compiled.stats()}


def child_jax(nodes: int) -> dict[str, Any]:
    """jax.jit(jax.value_and_grad) of the same chain: the first three calls timed."""
    start = time.perf_counter()
    import numpy as np

    jax = env.load_jax()
    if jax is None:
        return {"error": "import jax failed"}
    imported = time.perf_counter()
    x = jax.device_put(np.linspace(-1.0, 1.0, ELEMENTS))
    compiled = jax.jit(jax.value_and_grad(lambda x: chain(x, nodes, jax.numpy.tanh).sum()))
    ends = [time.perf_counter()]
    for _ in range(3):
        value, grad = compiled(x)
        grad.block_until_ready()
        ends.append(time.perf_counter())
    return {"import_s": imported - start, "first_s": ends[1] - ends[0],
            "first_two_s": ends[2] - ends[0], "third_s": ends[3] - ends[2],
            "value": float(value), "grad_sum": float(np.asarray(grad).sum())}


# ------------------------------------------------------------------ in the parent
TIMED = ("import_s", "first_s", "first_two_s", "third_s", "process_s")


def _measure(nodes: int, limit_s: float) -> dict[str, Any]:
    """Cold (repeated while short), disk cache and JAX, each in fresh processes."""
    cold: list[dict[str, Any]] = []
    jax_runs: list[dict[str, Any]] = []
    disk = None
    while len(cold) < 3:
        with tempfile.TemporaryDirectory(prefix="mg-scaling-") as tmp:
            caches = fresh.cache_env(Path(tmp))
            cold.append(fresh.spawn("compile_scaling", ["minigrad", str(nodes)], caches,
                                    limit_s))
            if disk is None and "first_s" in cold[-1]:
                disk = fresh.spawn("compile_scaling", ["minigrad", str(nodes)], caches,
                                   limit_s)
        jax_runs.append(fresh.spawn("compile_scaling", ["jax", str(nodes)], None, limit_s))
        if cold[-1].get("process_s", limit_s) > REPEAT_BELOW_S or "first_s" not in cold[-1]:
            break
    return {"nodes": nodes, "cold": fresh.median_of(cold, TIMED), "disk": disk,
            "jax": fresh.median_of(jax_runs, TIMED)}


def rows(sizes: tuple[int, ...], limit_s: float = fresh.LIMIT_S) -> list[dict[str, Any]]:
    """One row per size; after a cold timeout, larger sizes are recorded as not tried."""
    found = []
    for nodes in sizes:
        if found and found[-1]["cold"].get("timeout"):
            skipped = {"timeout": True, "limit_s": limit_s, "skipped": True}
            found.append({"nodes": nodes, "cold": skipped, "disk": None, "jax": None})
            continue
        found.append(_measure(nodes, limit_s))
    return found


def growth(found: list[dict[str, Any]]) -> dict[str, Any]:
    """time(5000) / time(500) of minigrad cold (1st+2nd call), when both were measured."""
    by_nodes = {row["nodes"]: row["cold"] for row in found}
    small, large = (by_nodes.get(n, {}) for n in RATIO_SIZES)
    value = None
    if "first_two_s" in small and "first_two_s" in large:
        value = large["first_two_s"] / small["first_two_s"]
    elif large.get("timeout") and "first_two_s" in small:
        value = f"> {large['limit_s'] / small['first_two_s']:.3g}"
    return {"ratio": f"time({RATIO_SIZES[1]}) / time({RATIO_SIZES[0]})", "value": value,
            "target": f"<= {TARGET_RATIO:g}"}


def format_table(found: list[dict[str, Any]]) -> str:
    """Seconds per size: minigrad cold, disk cache, JAX; ratio JAX / minigrad."""
    header = (f"{'nodes':>6} {'mg cold 1st':>12} {'mg cold 1st+2nd':>16} {'mg disk 1st+2nd':>16}"
              f" {'mg 3rd ms':>10} {'traces':>7} {'JAX 1st':>9} {'JAX 3rd ms':>11}"
              f" {'JAX/mg':>7} {'runs':>5} {'|value diff|':>13}")
    lines = [header, "-" * len(header)]
    for row in found:
        cold, disk, jax = row["cold"], row["disk"], row["jax"]
        ratio, diff = "n/a", ""
        if jax and "first_s" in jax and "first_two_s" in cold:
            ratio = f"{jax['first_s'] / cold['first_two_s']:.3g}"
            diff = f"{abs(jax['value'] - cold['value']):.1e}"
        third = f"{cold['third_s'] * 1e3:.3g}" if "third_s" in cold else ""
        jax_third = f"{jax['third_s'] * 1e3:.3g}" if jax and "third_s" in jax else ""
        traces = str(cold["stats"]["traces"]) if "stats" in cold else ""
        lines.append(
            f"{row['nodes']:>6} {fresh.seconds(cold, 'first_s'):>12} "
            f"{fresh.seconds(cold, 'first_two_s'):>16} {fresh.seconds(disk, 'first_two_s'):>16}"
            f" {third:>10} {traces:>7} {fresh.seconds(jax, 'first_s'):>9} {jax_third:>11}"
            f" {ratio:>7} {cold.get('runs', 1):>5} {diff:>13}")
    lines += fresh.errors([(f"{r['nodes']} {k}", r[k]) for r in found
                           for k in ("cold", "disk", "jax")])
    lines.append("(seconds from the first call to its result, in a fresh process after the "
                 "imports; JAX/mg = JAX 1st / mg cold 1st+2nd: > 1 means minigrad compiles "
                 "faster)")
    return "\n".join(lines)


def run(quick: bool = False, out_dir: Path = env.RESULTS,
        limit_s: float = fresh.LIMIT_S) -> dict[str, Any]:
    """Run the compile-scaling benchmark, print its table, write compile_scaling.json."""
    info = env.machine_info()
    sizes = QUICK_SIZES if quick else FULL_SIZES
    print(env.format_header(
        f"compile time vs graph size: value and gradient of a {ELEMENTS}-element float64 "
        f"chain, fresh processes, limit {limit_s:.0f} s", info))
    found = rows(sizes, limit_s)
    print(format_table(found))
    ratio = growth(found)
    value = ratio["value"]
    shown = f"{value:.3g}" if isinstance(value, float) else (value or "n/a")
    print(f"minigrad cold {ratio['ratio']}: {shown} (target {ratio['target']})")
    payload = {"benchmark": "compile_scaling", "quick": quick, "info": info, "rows": found,
               "growth": ratio}
    print(f"wrote {env.write_json('compile_scaling', payload, out_dir)}")
    return payload


def main() -> None:
    """``--child minigrad|jax NODES``: print the child's JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2, metavar=("LIBRARY", "NODES"), required=True)
    library, nodes = parser.parse_args().child
    measure = child_minigrad if library == "minigrad" else child_jax
    print(json.dumps(measure(int(nodes))))


if __name__ == "__main__":
    main()
