"""Benchmark 3: compile latency of mg.jit for BN forward + backward.

Each measurement is a fresh Python process (``python -m benchmarks.compile_latency --child``)
that imports minigrad, builds the inputs, then times from calling ``mg.jit(fn)`` to holding
the first result as numpy arrays, then the second and third calls (mg.jit may run the
first call eagerly while it traces and compile for the second).
"cold" runs with an empty ``MINIGRAD_CACHE_DIR`` (and an empty ``NUMBA_CACHE_DIR``, so no
Numba cache of minigrad's own kernels helps either); "disk cache" runs in a new process on
the directories the cold run filled.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from . import env, fresh

SIZE = (1024, 1024)
DTYPE = "float32"
TARGETS = {"cold": 3.0, "disk cache": 0.7}


def child(impl: str, n: int, d: int, dtype: str) -> dict[str, Any]:
    """Runs in the fresh process: the timings of the first and second jitted calls."""
    start = time.perf_counter()
    import numpy as np

    import minigrad as mg
    from minigrad.timing import _bn_step, _leaves, bn_inputs

    imported = time.perf_counter()
    leaves = _leaves(bn_inputs(n, d, dtype))
    errors = []
    for via_loss in (False, True):
        t0 = time.perf_counter()
        try:
            compiled = mg.jit(_bn_step(impl, 1e-5, via_loss), background=False)
            first = [np.asarray(getattr(v, "data", v)) for v in compiled(*leaves)]
        except Exception as error:  # the other spelling of the gradient
            errors.append(f"{type(error).__name__}: {error}"[:200])
            continue
        ends = [time.perf_counter()]
        for _ in range(2):
            [np.asarray(getattr(v, "data", v)) for v in compiled(*leaves)]
            ends.append(time.perf_counter())
        return {"import_s": imported - start, "first_call_s": ends[0] - t0,
                "second_call_s": ends[1] - ends[0], "third_call_s": ends[2] - ends[1],
                "to_compiled_s": ends[1] - t0, "outputs": len(first),
                "grad": "grad(sum(out*dout))" if via_loss else "grad(out, grad_outputs=dout)"}
    return {"error": "; ".join(errors)}


def _spawn(impl: str, cache: Path, quick: bool) -> dict[str, Any]:
    n, d = (64, 256) if quick else SIZE
    result = fresh.spawn("compile_latency", [impl, str(n), str(d), DTYPE],
                         fresh.cache_env(cache))
    if result.get("timeout"):
        result["error"] = f"killed after the {result['limit_s']:.0f} s limit"
    return {**result, "n": n, "d": d}


def rows(quick: bool = False) -> list[dict[str, Any]]:
    """cold and disk-cache rows for the composed and the fused BN (or why there are none)."""
    from minigrad.timing import NOT_AVAILABLE_YET, jit_available

    out = []
    for impl in ("composed", "fused"):
        if not jit_available():
            for kind in TARGETS:
                out.append({"name": f"{kind} ({impl})", "status": NOT_AVAILABLE_YET,
                            "note": "mg.jit does not exist yet"})
            continue
        with tempfile.TemporaryDirectory(prefix="mg-compile-") as tmp:
            for kind, target in TARGETS.items():
                result = _spawn(impl, Path(tmp), quick)
                status = "error" if "error" in result else "ok"
                out.append({"name": f"{kind} ({impl})", "status": status,
                            "target_s": target, **result})
    return out


def format_table(found: list[dict[str, Any]]) -> str:
    """Seconds: import, first result, second call, whole process; the target."""
    header = (f"{'mg.jit BN fwd+bwd, fresh process':<34} {'import s':>9} {'1st call s':>11} "
              f"{'2nd call s':>11} {'3rd call s':>11} {'1st+2nd s':>10} {'process s':>10} "
              f"{'target':>8}")
    lines = [header, "-" * len(header)]
    for row in found:
        if row["status"] != "ok":
            lines.append(f"{row['name']:<34} {row['status']}: "
                         f"{row.get('note') or row.get('error', '')}")
            continue
        lines.append(f"{row['name']:<34} {row['import_s']:>9.3f} {row['first_call_s']:>11.3f} "
                     f"{row['second_call_s']:>11.3f} {row['third_call_s']:>11.4f} "
                     f"{row['to_compiled_s']:>10.3f} {row['process_s']:>10.2f} "
                     f"{'<= ' + str(row['target_s']):>8}")
    lines.append("('1st call' = time from mg.jit(fn)(...) to the first result; mg.jit may "
                 "compile in the 1st or the 2nd\n call, so '1st+2nd' bounds the time to the "
                 "first compiled result; 'process' includes interpreter start and import.)")
    return "\n".join(lines)


def run(quick: bool = False, out_dir: Path = env.RESULTS) -> dict[str, Any]:
    """Run benchmark 3, print its table, write compile_latency.json; return the payload."""
    info = env.machine_info(peers=False)
    n, d = (64, 256) if quick else SIZE
    print(env.format_header(
        f"mg.jit compile latency: BN forward + backward, {n}x{d} {DTYPE}, "
        "time from mg.jit(fn)(...) to the first result", info))
    found = rows(quick)
    print(format_table(found))
    payload = {"benchmark": "compile_latency", "quick": quick, "info": info, "rows": found}
    print(f"wrote {env.write_json('compile_latency', payload, out_dir)}")
    return payload


def main() -> None:
    """``--child impl n d dtype``: print the child's JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=4, metavar=("IMPL", "N", "D", "DTYPE"), required=True)
    args = parser.parse_args()
    impl, n, d, dtype = args.child
    print(json.dumps(child(impl, int(n), int(d), dtype)))


if __name__ == "__main__":
    main()
