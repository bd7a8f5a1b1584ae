"""Peak memory of eager BatchNorm forward + backward (issue 17).

Train-mode BN with affine parameters on 16384x512 float32 and a random ``dout``: minigrad
eager composed (and fused), and PyTorch's fused ``F.batch_norm`` + ``autograd.grad``, each
in a fresh process. Two measures, as multiples of the input x's size:

- **RSS**: the resident-set high-water mark (``VmHWM``, reset through
  ``/proc/self/clear_refs`` just before the call) minus the resident set before it, with
  glibc told to give every block over 1 MiB its own mapping (``MALLOC_MMAP_THRESHOLD_``),
  so a freed array leaves the resident set at once. Counts every library's allocations.
- **tracemalloc**: the peak of Python's allocation tracker above its level before the call;
  numpy reports its array buffers to it, PyTorch does not (n/a there).

Inputs (x, dout, gamma, beta) exist before the call, so neither measure counts them; the
outputs (out, dx, dgamma, dbeta) are held when the peak is read. One call of the same size
runs first (libraries' one-time allocations), then the measured one.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import tracemalloc
from pathlib import Path
from typing import Any

from . import env, fresh

SIZE = (16384, 512)
QUICK_SIZE = (2048, 512)
DTYPE = "float32"
EPS = 1e-5
IMPLS = {"minigrad eager composed": "composed", "minigrad eager fused": "fused",
         "PyTorch F.batch_norm": "torch"}
TARGET = 2.0  # minigrad composed / PyTorch (RSS multiples)


def _status_kib(field: str) -> int:
    """A ``/proc/self/status`` field in KiB (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _runner(impl: str, inputs: dict[str, Any]) -> Any:
    """A function running one forward + backward and returning its four results."""
    if impl == "torch":
        from .bn import torch_runner

        made = torch_runner(inputs, EPS)
        if not callable(made):
            raise RuntimeError(f"{made.status}: {made.note}")
        return made
    from minigrad.timing import minigrad_eager_runner

    return minigrad_eager_runner(inputs, EPS, impl)


def child(impl: str, n: int, d: int) -> dict[str, Any]:
    """In the fresh process: RSS and tracemalloc peaks of one call above the state before."""
    from minigrad.timing import bn_inputs

    inputs = bn_inputs(n, d, DTYPE)
    run = _runner(impl, inputs)
    results = run()  # one-time allocations (thread pools, caches) happen here
    del results
    gc.collect()
    reset = True
    try:
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    except OSError:
        reset = False
    before = _status_kib("VmRSS")
    results = run()
    rss_peak = _status_kib("VmHWM") - before
    del results
    gc.collect()
    tracemalloc.start()
    traced_before = tracemalloc.get_traced_memory()[0]
    results = run()
    traced_peak = tracemalloc.get_traced_memory()[1] - traced_before
    tracemalloc.stop()
    nbytes = inputs["x"].nbytes
    return {"input_MiB": nbytes / 2**20, "rss_peak_MiB": rss_peak / 1024,
            "rss_multiple": rss_peak * 1024 / nbytes, "hwm_reset": reset,
            "tracemalloc_multiple": traced_peak / nbytes if impl != "torch" else None,
            "outputs_multiple": sum(getattr(r, "nbytes", 0) for r in map(env.to_numpy, results))
            / nbytes}


def rows(n: int, d: int, limit_s: float = fresh.LIMIT_S) -> dict[str, dict[str, Any]]:
    """Each implementation's child result."""
    malloc = {"MALLOC_MMAP_THRESHOLD_": str(2**20), "MALLOC_TRIM_THRESHOLD_": str(2**20)}
    return {name: fresh.spawn("memory", [impl, str(n), str(d)], malloc, limit_s)
            for name, impl in IMPLS.items()}


def format_table(found: dict[str, dict[str, Any]]) -> str:
    """Multiples of the input's size per implementation, then the ratio and its target."""
    header = (f"{'BN fwd+bwd, peak above inputs':<32} {'RSS x input':>12} {'RSS MiB':>9} "
              f"{'tracemalloc x':>14} {'outputs x':>10}")
    lines = [header, "-" * len(header)]
    for name, result in found.items():
        if "rss_multiple" not in result:
            lines.append(f"{name:<32} {fresh.seconds(result, 'rss_multiple')}")
            continue
        traced = result["tracemalloc_multiple"]
        lines.append(f"{name:<32} {result['rss_multiple']:>12.2f} "
                     f"{result['rss_peak_MiB']:>9.1f} "
                     f"{'n/a' if traced is None else f'{traced:.2f}':>14} "
                     f"{result['outputs_multiple']:>10.2f}")
    lines += fresh.errors(list(found.items()))
    ours, theirs = (found[name].get("rss_multiple") for name in
                    ("minigrad eager composed", "PyTorch F.batch_norm"))
    ratio = f"{ours / theirs:.3g}" if ours and theirs else "n/a"
    lines.append(f"minigrad composed / PyTorch (RSS): {ratio}  (target <= {TARGET:g})")
    if any(r.get("hwm_reset") is False for r in found.values()):
        lines.append("(VmHWM could not be reset here: peaks are since process start)")
    lines.append("('outputs x' = out, dx, dgamma, dbeta held at the peak, included in both "
                 "peaks; tracemalloc sees numpy's buffers, not PyTorch's)")
    return "\n".join(lines)


def run(quick: bool = False, out_dir: Path = env.RESULTS,
        limit_s: float = fresh.LIMIT_S) -> dict[str, Any]:
    """Run the memory benchmark, print its table, write memory.json."""
    info = env.machine_info(peers=False)
    n, d = QUICK_SIZE if quick else SIZE
    print(env.format_header(
        f"peak memory of eager BN forward + backward, {n}x{d} {DTYPE}, fresh processes "
        "(RSS high-water mark and tracemalloc), multiples of the input x", info))
    found = rows(n, d, limit_s)
    print(format_table(found))
    payload = {"benchmark": "memory", "quick": quick, "info": info, "size": [n, d],
               "rows": found}
    print(f"wrote {env.write_json('memory', payload, out_dir)}")
    return payload


def main() -> None:
    """``--child composed|fused|torch N D``: print the child's JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=3, metavar=("IMPL", "N", "D"), required=True)
    impl, n, d = parser.parse_args().child
    print(json.dumps(child(impl, int(n), int(d))))


if __name__ == "__main__":
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    main()
