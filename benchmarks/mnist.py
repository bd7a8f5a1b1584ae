"""MNIST-size MLP training step with Adam, side by side (issue 17).

Linear(784, 256) -> BatchNorm1d(256) -> ReLU -> Linear(256, 256) -> BatchNorm1d(256) -> ReLU
-> Linear(256, 10); batch 256, float32, cross-entropy, Adam(lr=1e-3, betas (0.9, 0.999),
eps 1e-8). A step is zero_grad, forward, loss, backward, the Adam update and the BN running
statistics. The rows are benchmarks/mlp.py's steps at these sizes: minigrad eager and mg.jit
(BN composed and fused), PyTorch eager, torch.compile (the model's forward and the
optimizer's step each compiled; its first call is tried first in a fresh process with a
time limit, and the row says why when that fails), JAX jit (value_and_grad and Adam written
in jax.numpy, one jitted function). All start from the same weights and batch; the loss of
the first step and its distance to PyTorch's are printed as a check.

Two tables: the rows timed side by side in one process (interleaved rounds), then each row
alone in a fresh process (``--child alone <row>``), whose ratios are the ones the goals are
judged by. In one process PyTorch's OpenMP threads keep spinning after its calls (run.py
sets OMP_WAIT_POLICY=ACTIVE, without which a 0.04 ms 2-thread PyTorch call took ~70 ms)
and slow whichever step runs next: in the session-10 run the jitted composed step's median
was 32.7 ms beside PyTorch (its minimum 7.7 ms) and 3.9-4.1 ms in threads.py's fresh
processes. Under libgomp's ACTIVE default spin count they spin for seconds, also while
this process waits for its children: run.py now sets GOMP_SPINCOUNT (a millisecond), and
main() below the same (session 11: with it the jitted step took 4.6 ms alone, without it
the children's medians were 126-294 ms).

Issue 17's goal: PyTorch eager / minigrad jit >= 2, JAX jit / minigrad jit >= 1.5,
PyTorch eager / minigrad eager >= 0.8 (ratios of median times; > 1: minigrad faster).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from minigrad.timing import Row, Timing, format_rows

from . import env, fresh, mlp

SIZES = (784, 256, 256, 10)
BATCH = 256
OPTIMIZER = "Adam"
COMPILED = "torch.compile"
ORDER = ("minigrad eager (BN composed)", "minigrad eager (BN fused)",
         "minigrad jit (BN composed)", "minigrad jit (BN fused)", "PyTorch eager", COMPILED,
         "JAX jit")
RATIOS = (
    ("PyTorch eager / minigrad jit", "PyTorch eager", "minigrad jit (BN composed)", ">= 2"),
    ("JAX jit / minigrad jit", "JAX jit", "minigrad jit (BN composed)", ">= 1.5"),
    ("PyTorch eager / minigrad eager", "PyTorch eager", "minigrad eager (BN composed)",
     ">= 0.8"),
    ("torch.compile / minigrad jit", COMPILED, "minigrad jit (BN composed)", ""),
)
COMPILE_LIMIT_S = 300.0  # torch.compile's first call, in a fresh process
FULL = {"warmup": 3, "min_rounds": 7, "max_rounds": 25, "budget": 8.0, "min_sample": 2e-2}
QUICK = {"warmup": 1, "min_rounds": 1, "max_rounds": 3, "budget": 0.3, "min_sample": 1e-3}
LOSS, DELTA = "loss@step1", "|d| PyTorch"


def compiled_step() -> mlp.Step | Row:
    """benchmarks/mlp.py's PyTorch step at these sizes under ``torch.compile`` (defaults)."""
    return mlp.torch_step(SIZES, BATCH, OPTIMIZER, compile_options={}, name=COMPILED)


def compiled_maker(quick: bool, limit_s: float = COMPILE_LIMIT_S
                   ) -> tuple[Callable[[], mlp.Step | Row], dict[str, Any]]:
    """The torch.compile row's maker and the fresh-process probe's record. The probe (a
    child process making the step and calling it once, limit ``limit_s``) keeps a compile
    that hangs or fails out of this process; after it, the in-process compile finds
    Inductor's cache filled. ``quick`` skips it (tens of seconds of compiling)."""
    if quick:
        note = "not run with --quick (its first call compiles for tens of seconds)"
        return lambda: Row(COMPILED, "skipped", note), {"skipped": "quick"}
    probe = fresh.spawn("mnist", ["torch_compile"], limit_s=limit_s)
    if probe.get("timeout"):
        note = f"first call over {limit_s:.0f} s in a fresh process (killed)"
        return lambda: Row(COMPILED, "skipped", note), probe
    if "error" in probe:
        note = f"failed in a fresh process: {probe['error']}"
        return lambda: Row(COMPILED, "error", note[:200]), probe
    return compiled_step, probe


def child_torch_compile() -> dict[str, Any]:
    """In the fresh process: seconds to make the compiled step and run its first call."""
    start = time.perf_counter()
    step = compiled_step()
    if isinstance(step, Row):
        raise SystemExit(f"{step.status}: {step.note}")
    loss = float(env.to_numpy(step()))
    return {"first_s": time.perf_counter() - start, LOSS: loss}


def makers(compile_maker: Callable[[], mlp.Step | Row]
           ) -> list[tuple[str, Callable[[], mlp.Step | Row]]]:
    """(row name, the function making its step) for every row of ``ORDER``."""
    found: list[tuple[str, Callable[[], mlp.Step | Row]]] = [
        (f"minigrad {mode} (BN {impl})", lambda impl=impl, jit=(mode == "jit"):
            mlp.minigrad_step(impl, jit, SIZES, BATCH, OPTIMIZER))
        for mode in ("eager", "jit") for impl in ("composed", "fused")
    ]
    return [*found, ("PyTorch eager", lambda: mlp.torch_step(SIZES, BATCH, OPTIMIZER)),
            (COMPILED, compile_maker),
            ("JAX jit", lambda: mlp.jax_step(SIZES, BATCH, OPTIMIZER))]


def mnist_rows(settings: dict[str, Any], quick: bool = False,
               limit_s: float = COMPILE_LIMIT_S) -> tuple[list[Row], dict[str, Any]]:
    """Every row in ``ORDER``, timed side by side, each with its first loss and that loss's
    distance to PyTorch eager's; and the torch.compile probe's record."""
    compile_maker, probe = compiled_maker(quick, limit_s)
    rows = env.side_by_side_rows(makers(compile_maker), settings, ORDER, LOSS)
    _distances(rows)
    return rows, probe


def _distances(rows: list[Row]) -> None:
    """Each row's first loss's distance to PyTorch eager's (``DELTA``)."""
    reference = next((row.extra[LOSS] for row in rows
                      if row.name == "PyTorch eager" and LOSS in row.extra), None)
    for row in rows:
        if reference is not None and LOSS in row.extra:
            row.extra[DELTA] = abs(row.extra[LOSS] - reference)


def child_alone(name: str) -> dict[str, Any]:
    """In the fresh process: row ``name`` timed alone (FULL settings), as a dict."""
    os.environ.setdefault("MINIGRAD_JIT_BACKGROUND", "0")
    maker = dict(makers(compiled_step))[name]
    (row,) = env.side_by_side_rows([(name, maker)], FULL, (name,), LOSS)
    return row.as_dict()


def alone_rows(skip: set[str]) -> list[Row]:
    """Every row of ``ORDER`` but ``skip``, each timed alone in a fresh process."""
    rows = []
    for name in ORDER:
        if name in skip:
            continue
        found = fresh.spawn("mnist", ["alone", name], limit_s=COMPILE_LIMIT_S + 120)
        if "median_ms" in found:
            timing = Timing(*(found[k] / 1e3 for k in ("median_ms", "q1_ms", "q3_ms",
                                                       "min_ms")),
                            found["samples"], found["calls_per_sample"])
            rows.append(Row(name, timing=timing, extra={LOSS: found[LOSS]}))
        else:
            note = found.get("note") or found.get("error") or "timed out"
            rows.append(Row(name, found.get("status", "error"), str(note)[:200]))
    _distances(rows)
    return rows


def run(quick: bool = False, out_dir: Path = env.RESULTS,
        limit_s: float = COMPILE_LIMIT_S) -> dict[str, Any]:
    """Run the MNIST-size table, print it, write mnist.json; return the payload."""
    info = env.machine_info()
    print(env.format_header(
        f"MLP {'-'.join(map(str, SIZES))} with two BatchNorm1d, batch {BATCH}, float32, "
        "cross-entropy, Adam(lr=1e-3): one training step", info))
    settings = QUICK if quick else FULL
    rows, probe = mnist_rows(settings, quick, limit_s)
    print(format_rows(rows, (LOSS, DELTA)))
    if "first_s" in probe:
        print(f"torch.compile's first call in a fresh process: {probe['first_s']:.1f} s "
              f"(Inductor's cache as found)")
    found = mlp.ratios(rows, RATIOS)
    print(mlp.format_ratios(found))
    alone: list[Row] = []
    if not quick:
        print("each row alone in a fresh process (the same settings; OMP_WAIT_POLICY as "
              "above):")
        skipped = {row.name for row in rows if row.timing is None}
        alone = alone_rows(skipped)
        print(format_rows(alone, (LOSS, DELTA)))
        print(mlp.format_ratios(mlp.ratios(alone, RATIOS)))
    info["load_average_end"] = list(os.getloadavg())
    payload = {"benchmark": "mnist_mlp_adam_step", "quick": quick, "info": info,
               "settings": settings, "rows": [row.as_dict() for row in rows],
               "ratios": found, "torch_compile_probe": probe,
               "rows_alone": [row.as_dict() for row in alone],
               "ratios_alone": mlp.ratios(alone, RATIOS) if alone else []}
    print(f"wrote {env.write_json('mnist', payload, out_dir)}")
    return payload


def main() -> None:
    """``python -m benchmarks.mnist [--quick] [--out DIR]``: the table alone (without
    run.py's OMP_WAIT_POLICY=ACTIVE unless set); ``--child torch_compile`` prints the
    probe's JSON line, ``--child alone <row name>`` that row's timing alone."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="few rounds, no torch.compile")
    parser.add_argument("--child", nargs="+", metavar="WHAT",
                        help="torch_compile | alone <row name>: a fresh process's JSON line")
    parser.add_argument("--out", default=None, help="results folder (default benchmarks/results)")
    args = parser.parse_args()
    if args.child:
        what, *rest = args.child
        print(json.dumps(child_torch_compile() if what == "torch_compile"
                         else child_alone(" ".join(rest))))
        return
    os.environ.setdefault("MINIGRAD_JIT_BACKGROUND", "0")
    os.environ.setdefault("GOMP_SPINCOUNT", "1000000")  # as run.py: before torch loads
    run(quick=args.quick, out_dir=Path(args.out) if args.out else env.RESULTS)


if __name__ == "__main__":
    main()
