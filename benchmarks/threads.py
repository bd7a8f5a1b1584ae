"""Thread settings of jitted training steps, idle and under load (issue 17).

Two mg.jit training steps from benchmarks/mlp.py: the 2-64-64-2 MLP with two BatchNorm1d
(batch 128, SGD) and the 784-256-256-10 MLP with two BatchNorm1d (batch 256, Adam). Each is
timed in its own fresh process at 1 thread (``NUMBA_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``,
``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``, ``MINIGRAD_NUM_THREADS`` = 1) and at the default
(those variables removed), once on the machine as it is ("idle": see the load average in
the header) and once with a busy-loop process per core running during the timing ("loaded").
``OMP_WAIT_POLICY`` is removed in both (run.py sets it to ACTIVE for the other benchmarks);
a third setting, the default with ``OMP_WAIT_POLICY=ACTIVE``, shows what that does. The
children share one disk cache, so only the first compiles. Medians of side-by-side rounds;
ratio 1 thread / default: > 1 means the default is faster (the goal: never below 1).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import env, fresh

NETS = {"2-64-64-2 SGD, batch 128": ((2, 64, 64, 2), 128, "SGD"),
        "784-256-256-10 Adam, batch 256": ((784, 256, 256, 10), 256, "Adam")}
QUICK_NETS = ("2-64-64-2 SGD, batch 128",)
ACTIVE = "default, OMP_WAIT_POLICY=ACTIVE"
SETTINGS = ("1 thread", "default", ACTIVE)
# each setting's variables (None: removed); run.py's own OMP_WAIT_POLICY=ACTIVE is not a
# user's default, so it is removed except in the last setting, which shows its effect
SETTING_ENV: dict[str, dict[str, str | None]] = {
    "1 thread": {**fresh.thread_env(1), "OMP_WAIT_POLICY": None},
    "default": {**fresh.thread_env(None), "OMP_WAIT_POLICY": None},
    ACTIVE: {**fresh.thread_env(None), "OMP_WAIT_POLICY": "ACTIVE"},
}
LOADS = ("idle", "loaded")
FULL = {"warmup": 2, "min_rounds": 5, "max_rounds": 20, "budget": 3.0, "min_sample": 2e-2}
QUICK = {"warmup": 1, "min_rounds": 2, "max_rounds": 3, "budget": 0.3, "min_sample": 5e-3}
# spins until its parent (the timed child) is gone, so a killed child leaves no loop behind
BUSY_LOOP = "import os\nparent = os.getppid()\nwhile os.getppid() == parent: pass"


def child(net: str, loaded: bool, quick: bool) -> dict[str, Any]:
    """In the fresh process: compile the step, then time it (with busy loops if loaded)."""
    import numba

    from minigrad.timing import time_side_by_side

    from . import mlp

    sizes, batch, optimizer = NETS[net]
    step = mlp.minigrad_step("composed", jit=True, sizes=sizes, batch=batch,
                             optimizer=optimizer)
    if not callable(step):
        return {"error": f"{step.status}: {step.note}"}
    start = time.perf_counter()
    loss = float(env.to_numpy(step()))
    for _ in range(2):  # mg.jit may trace again on call 2
        step()
    compiled_s = time.perf_counter() - start
    busy = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP])
            for _ in range(os.cpu_count() or 1)] if loaded else []
    try:
        if busy:
            time.sleep(0.5)
        load_average = os.getloadavg()[0]  # other processes' load (before ours in "loaded")
        timing = time_side_by_side({"step": step}, **(QUICK if quick else FULL))["step"]
    finally:
        for process in busy:
            process.kill()
            process.wait()
    if isinstance(timing, Exception):
        return {"error": f"{type(timing).__name__}: {timing}"[:200]}
    return {**timing.as_ms(), "loss@step1": loss, "first_three_calls_s": compiled_s,
            "numba_threads": numba.get_num_threads(), "load1": load_average,
            "stats": step.compiled.stats()}


def rows(nets: tuple[str, ...], quick: bool,
         limit_s: float = fresh.LIMIT_S) -> list[dict[str, Any]]:
    """One result per net, thread setting and load, each from a fresh process."""
    found = []
    with tempfile.TemporaryDirectory(prefix="mg-threads-") as tmp:
        caches = fresh.cache_env(Path(tmp))
        for net in nets:
            for setting in SETTINGS:
                for load in LOADS:
                    result = fresh.spawn("threads", [net, load, "quick" if quick else "full"],
                                         {**caches, **SETTING_ENV[setting]}, limit_s)
                    found.append({"net": net, "threads": setting, "load": load, **result})
    return found


def format_table(found: list[dict[str, Any]]) -> str:
    """Median ms per net and thread setting, idle and loaded; then 1 thread / default."""
    header = (f"{'mg.jit training step':<32} {'setting':<36} {'numba thr':>9} "
              + "".join(f" {load + ' ms':>11} {'q1-q3':>15} {'load1':>5}" for load in LOADS)
              + f" {'loss@step1':>11}")
    lines = [header, "-" * len(header)]
    cell = {(r["net"], r["threads"], r["load"]): r for r in found}
    nets = list(dict.fromkeys(r["net"] for r in found))
    for net in nets:
        for setting in SETTINGS:
            results = [cell[(net, setting, load)] for load in LOADS]
            threads = next((r["numba_threads"] for r in results if "numba_threads" in r), "")
            parts = []
            for r in results:
                if "median_ms" in r:
                    iqr = f"{r['q1_ms']:.3g}-{r['q3_ms']:.3g}"
                    parts.append(f" {r['median_ms']:>11.4g} {iqr:>15} {r['load1']:>5.2f}")
                else:
                    parts.append(f" {fresh.seconds(r, 'median_ms'):>11} {'':>15} {'':>5}")
            loss = next((f"{r['loss@step1']:.6g}" for r in results if "loss@step1" in r), "")
            lines.append(f"{net:<32} {setting:<36} {threads!s:>9}" + "".join(parts)
                         + f" {loss:>11}")
    lines += fresh.errors([(f"{r['net']} {r['threads']} {r['load']}", r) for r in found])
    lines += [f"{label:<52} {value}" for label, value in ratios(found)]
    lines.append("(load1: the 1-minute load average just before the timing, busy loops not "
                 "yet counted in it; other processes on the machine count)")
    return "\n".join(lines)


def ratios(found: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(label, '1 thread / default' median ratio, target >= 1) per net and load."""
    cell = {(r["net"], r["threads"], r["load"]): r for r in found}
    out = []
    for net in dict.fromkeys(r["net"] for r in found):
        for load in LOADS:
            one = cell[(net, "1 thread", load)].get("median_ms")
            default = cell[(net, "default", load)].get("median_ms")
            value = f"{one / default:.3g}" if one and default else "n/a"
            out.append((f"{net}, {load}: 1 thread / default", f"{value}  (target >= 1)"))
    return out


def run(quick: bool = False, out_dir: Path = env.RESULTS,
        limit_s: float = fresh.LIMIT_S) -> dict[str, Any]:
    """Run the threads benchmark, print its table, write threads.json."""
    info = env.machine_info(peers=False)
    nets = QUICK_NETS if quick else tuple(NETS)
    print(env.format_header(
        "thread settings: mg.jit training steps at 1 thread vs the default, idle and with a "
        f"busy-loop process per core ({os.cpu_count()}) during the timing; fresh processes",
        info))
    found = rows(nets, quick, limit_s)
    print(format_table(found))
    payload = {"benchmark": "threads", "quick": quick, "info": info, "rows": found,
               "ratios": dict(ratios(found))}
    print(f"wrote {env.write_json('threads', payload, out_dir)}")
    return payload


def main() -> None:
    """``--child NET idle|loaded quick|full``: print the child's JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=3, metavar=("NET", "LOAD", "MODE"), required=True)
    net, load, mode = parser.parse_args().child
    print(json.dumps(child(net, load == "loaded", mode == "quick")))


if __name__ == "__main__":
    main()
