"""Run minigrad's benchmarks: ``python -m benchmarks.run [--quick] [--only bn,mlp,compile,draw]``.

1. ``bn``: BatchNorm forward + backward at 64x256, 1024x1024, 16384x512, float32/float64.
2. ``mlp``: one training step of a 2-64-64-2 MLP with two BatchNorm1d layers.
3. ``compile``: mg.jit compile latency, cold and from the disk cache, in fresh processes.
4. ``draw``: drawing forward + backward graphs of 100 / 1,000 / 5,000 nodes (SVG, step page,
   the page's load in headless Chromium).
5. ``conv``: conv2d forward + backward, and a training step of the toy CNN (benchmarks/conv.py).

Issue 17 (what a user waits for; each in ``benchmarks/<name>.py``):

6. ``compile_scaling``: mg.jit vs jax.jit cold compile time of a 10 ... 5000-node chain.
7. ``cold``: the MLP step's first calls in a fresh process (mg.jit, JAX, PyTorch eager).
8. ``threads``: jitted MLP steps at 1 thread vs the default, idle and under load.
9. ``scalar``: scalar graphs (10k-op softplus/sum/prod/softmax, 2-16-16-1 MLP on 0-d
   tensors vs micrograd) and the per-node cost of long eager chains.
10. ``memory``: peak memory of eager BN forward + backward vs PyTorch's fused op.
11. ``hvp``: Hessian-vector products of a 32-W-W-1 tanh MLP (W = 64, 256, 1024).
12. ``mnist``: one Adam training step of the 784-256-256-10 BN MLP, batch 256: minigrad eager
    and jit vs PyTorch eager, torch.compile and JAX jit.
13. ``layernorm``: LayerNorm and an RMSNorm composition over the last axis, forward +
    backward, at 64x256, 1024x1024, 16384x512, float32/float64 (mg.jit vs PyTorch).
14. ``why``: the profiles behind the goals the tables above leave unmet (the numpy floor of
    eager steps, the cyclic GC in long chains, what composed BN holds for backward, the
    HVP's GEMM floor).

Each prints a table with a machine header and writes ``benchmarks/results/<name>.json``
(the BN benchmark also ``bn.png``). ``--threads N`` runs every library with N threads
(Numba, PyTorch, XLA, OpenBLAS); the default is Numba's own count. OMP_WAIT_POLICY is
ACTIVE unless already set (PyTorch and Numba's omp layer share libgomp; see
``--omp-wait-policy`` and README.md), with GOMP_SPINCOUNT 1000000 unless set: an idle
OpenMP thread spins about a millisecond, not libgomp's ACTIVE default of 30 billion turns
(seconds of a busy core after each PyTorch call, charged to whatever runs next). Results
of a run with ``--threads`` other than the core count go to ``results/threads<N>/``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import time
from collections.abc import Sequence
from pathlib import Path

BENCHMARKS = ("bn", "mlp", "compile", "draw", "conv")
ISSUE17 = ("compile_scaling", "cold", "threads", "scalar", "memory", "hvp", "mnist",
           "layernorm", "why")
THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                    "MKL_NUM_THREADS")


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and few repeats (development, smoke test)")
    parser.add_argument("--only", default=",".join(BENCHMARKS + ISSUE17),
                        help=f"comma-separated subset of {','.join(BENCHMARKS + ISSUE17)}")
    parser.add_argument("--sizes", default=None,
                        help="BN sizes, e.g. 64x256,1024x1024 (default: the issue's three)")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--threads", type=int, default=None,
                        help="thread count for every library (default: Numba's)")
    parser.add_argument("--omp-wait-policy", default="ACTIVE",
                        help="OMP_WAIT_POLICY for this process unless already set (default "
                             "ACTIVE; 'unset' keeps libgomp's default, under which a 0.04 ms "
                             "2-thread PyTorch call was seen taking ~70 ms on this machine)")
    parser.add_argument("--gomp-spincount", default="1000000",
                        help="GOMP_SPINCOUNT unless already set (default 1000000, about a "
                             "millisecond: under ACTIVE libgomp's own default, 30 billion, "
                             "PyTorch's idle OpenMP threads spin for many seconds after its "
                             "calls and slow the next library timed, and the fresh processes "
                             "this one waits for; 'unset' keeps it)")
    parser.add_argument("--out", default=None, help="results folder (default benchmarks/results)")
    parser.add_argument("--no-plot", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen benchmarks; returns the exit code."""
    args = parse(argv)
    if args.threads is not None:  # before numpy / numba / torch / jax are imported
        for name in THREAD_VARIABLES:
            os.environ[name] = str(args.threads)
    if args.omp_wait_policy.lower() != "unset":
        os.environ.setdefault("OMP_WAIT_POLICY", args.omp_wait_policy)
    if args.gomp_spincount.lower() != "unset":
        os.environ.setdefault("GOMP_SPINCOUNT", args.gomp_spincount)
    # steady-state timings of mg.jit: compiled before the first call returns (the cold
    # benchmark's background row removes this for its child)
    os.environ.setdefault("MINIGRAD_JIT_BACKGROUND", "0")
    from . import bn, compile_latency, draw, env, mlp
    from . import conv as conv_bench

    out_dir = Path(args.out) if args.out else env.RESULTS
    if args.threads is not None and args.threads != os.cpu_count():
        out_dir = out_dir / f"threads{args.threads}"
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(BENCHMARKS + ISSUE17)
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {sorted(unknown)}; "
                         f"choose from {BENCHMARKS + ISSUE17}")
    sizes = None
    if args.sizes:
        sizes = tuple(tuple(int(v) for v in s.lower().split("x")) for s in args.sizes.split(","))
    start = time.perf_counter()
    if "bn" in chosen:
        bn.run(quick=args.quick, sizes=sizes, dtypes=tuple(args.dtypes.split(",")),
               out_dir=out_dir, plot=not args.no_plot)
        print()
    if "mlp" in chosen:
        mlp.run(quick=args.quick, out_dir=out_dir)
        print()
    if "conv" in chosen:
        conv_bench.run(quick=args.quick, out_dir=out_dir)
        print()
    if "compile" in chosen:
        compile_latency.run(quick=args.quick, out_dir=out_dir)
        print()
    if "draw" in chosen:
        draw.run(quick=args.quick, out_dir=out_dir)
        print()
    for name in ISSUE17:
        if name in chosen:
            importlib.import_module(f"benchmarks.{name}").run(quick=args.quick, out_dir=out_dir)
            print()
    print(f"\nbenchmarks done in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
