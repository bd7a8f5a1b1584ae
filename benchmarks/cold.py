"""The first calls of a training step in a fresh process (issue 17).

The step is benchmarks/mlp.py's: the 2-64-64-2 MLP with two BatchNorm1d (composed), batch
128, cross-entropy, SGD. Each row is a fresh process that imports its library, builds the
step, then times the first, second and third calls: mg.jit (cold: empty
``MINIGRAD_CACHE_DIR`` and ``NUMBA_CACHE_DIR``; "disk cache": a second process on the
folders the cold run filled), ``jax.jit`` of the same step (cold, and from JAX's persistent
compilation cache, filled the same way) and PyTorch eager. Medians over the repeats; the
trace and compile counts are mg.jit's ``fn.stats()`` after three calls.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from . import env, fresh

TIMED = ("import_s", "first_s", "first_two_s", "third_s", "compiled_s", "process_s")
TARGET_DISK_S = 0.7
# (row, library, what it is); the disk-cache rows reuse the folders of the cold row above
ROWS = (
    ("minigrad jit, cold", "minigrad", "empty caches, compiled in the background"),
    ("minigrad jit, cold, sync", "minigrad-sync", "empty caches, compiled before call 1 ends"),
    ("minigrad jit, disk cache", "minigrad", "second process"),
    ("JAX jit, cold", "jax", "empty caches"),
    ("JAX jit, disk cache", "jax", "persistent compilation cache"),
    ("PyTorch eager", "torch", "no compilation"),
)
ROW_NAMES = tuple(name for name, _, _ in ROWS)


def child(library: str) -> dict[str, Any]:
    """In the fresh process: the first three calls of ``library``'s step."""
    start = time.perf_counter()
    from minigrad.timing import _block

    from . import mlp

    minigrad = lambda: mlp.minigrad_step("composed", jit=True)  # noqa: E731
    make = {"minigrad": minigrad, "minigrad-sync": minigrad,
            "jax": mlp.jax_step, "torch": mlp.torch_step}[library]
    if library == "jax":
        env.load_jax()
    elif library == "torch":
        env.load_torch()
    imported = time.perf_counter()
    step = make()
    if not callable(step):  # a "not installed" / "not available yet" row
        return {"error": f"{step.status}: {step.note}"}
    ends = [time.perf_counter()]
    losses = []
    for _ in range(3):
        losses.append(float(env.to_numpy(_block(step()))))
        ends.append(time.perf_counter())
    result = {"import_s": imported - start, "first_s": ends[1] - ends[0],
              "first_two_s": ends[2] - ends[0], "third_s": ends[3] - ends[2],
              "loss@step1": losses[0]}
    compiled = getattr(step, "compiled", None)
    if hasattr(compiled, "wait"):  # the time until the compiled step runs
        compiled.wait()
        result["compiled_s"] = time.perf_counter() - ends[0]
    if hasattr(compiled, "stats"):
        result["stats"] = compiled.stats()
    return result


def _jax_cache_env(folder: Path) -> dict[str, str | None]:
    """JAX's persistent compilation cache in ``folder``, every compile kept."""
    return {"JAX_COMPILATION_CACHE_DIR": str(folder / "jax"),
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
            "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}


def rows(repeats: int, limit_s: float = fresh.LIMIT_S) -> dict[str, dict[str, Any]]:
    """Each row's median result over ``repeats`` fresh processes (one disk-cache run each)."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in ROW_NAMES}
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="mg-cold-") as tmp:
            caches = {**fresh.cache_env(Path(tmp)), **_jax_cache_env(Path(tmp))}
            for name, library, _ in ROWS:  # cold before disk cache, per library
                extra = caches
                if library == "minigrad-sync":  # its own empty caches, no background
                    extra = {**fresh.cache_env(Path(tmp) / "sync"),
                             "MINIGRAD_JIT_BACKGROUND": "0"}
                elif library == "minigrad":  # run.py's steady-state setting removed
                    extra = {**caches, "MINIGRAD_JIT_BACKGROUND": None}
                runs[name].append(fresh.spawn("cold", [library], extra, limit_s))
    return {name: fresh.median_of(found, TIMED) for name, found in runs.items()}


def format_table(found: dict[str, dict[str, Any]]) -> str:
    """Seconds per row, then the ratios the issue sets goals for."""
    header = (f"{'fresh process':<28} {'import s':>9} {'1st call s':>11} {'1st+2nd s':>10} "
              f"{'3rd call ms':>12} {'compiled s':>11} {'traces':>7} {'compiles':>9} "
              f"{'loss@step1':>11} "
              f"{'process s':>10} {'runs':>5}")
    lines = [header, "-" * len(header)]
    for name in ROW_NAMES:
        result = found[name]
        stats = result.get("stats", {})
        third = f"{result['third_s'] * 1e3:.3g}" if "third_s" in result else ""
        loss = f"{result['loss@step1']:.6g}" if "loss@step1" in result else ""
        lines.append(
            f"{name:<28} {fresh.seconds(result, 'import_s'):>9} "
            f"{fresh.seconds(result, 'first_s'):>11} {fresh.seconds(result, 'first_two_s'):>10}"
            f" {third:>12} {fresh.seconds(result, 'compiled_s'):>11} "
            f"{stats.get('traces', ''):>7} {stats.get('compiles', ''):>9} "
            f"{loss:>11} {fresh.seconds(result, 'process_s'):>10} {result.get('runs', ''):>5}")
    lines += fresh.errors(list(found.items()))
    lines += [f"{label:<44} {value}" for label, value in ratios(found)]
    return "\n".join(lines)


def ratios(found: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """(label, value with its target) of the cold-start goals."""

    def ratio(top: str, bottom: str, key: str) -> str:
        a, b = found[top].get(key), found[bottom].get(key)
        return f"{a / b:.3g}" if a is not None and b else "n/a"

    disk = fresh.seconds(found["minigrad jit, disk cache"], "first_s")
    return [
        ("JAX / minigrad cold, first two calls", ratio("JAX jit, cold", "minigrad jit, cold",
                                                      "first_two_s") + "  (target >= 1)"),
        ("JAX / minigrad cold sync, first two calls", ratio(
            "JAX jit, cold", "minigrad jit, cold, sync", "first_two_s")),
        ("PyTorch eager / minigrad cold, first two", ratio(
            "PyTorch eager", "minigrad jit, cold", "first_two_s")),
        ("minigrad disk cache, first result s", f"{disk}  (target <= {TARGET_DISK_S})"),
    ]


def run(quick: bool = False, out_dir: Path = env.RESULTS,
        limit_s: float = fresh.LIMIT_S) -> dict[str, Any]:
    """Run the cold-start benchmark, print its table, write cold.json."""
    info = env.machine_info()
    repeats = 1 if quick else 3
    print(env.format_header(
        "cold start: the 2-64-64-2 BN MLP SGD step (benchmarks/mlp.py), first calls in a "
        f"fresh process, {repeats} run(s) each", info))
    found = rows(repeats, limit_s)
    print(format_table(found))
    payload = {"benchmark": "cold", "quick": quick, "info": info, "rows": found,
               "ratios": dict(ratios(found))}
    print(f"wrote {env.write_json('cold', payload, out_dir)}")
    return payload


def main() -> None:
    """``--child minigrad|jax|torch``: print the child's JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=("minigrad", "minigrad-sync", "jax", "torch"),
                        required=True)
    print(json.dumps(child(parser.parse_args().child)))


if __name__ == "__main__":
    main()
