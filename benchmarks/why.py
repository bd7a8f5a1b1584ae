"""The profiles behind issue 17's goals that `make bench` shows unmet (its done-when: "each
met or, where not, with the profile that shows why"). ``python -m benchmarks.why``.

1. **The numpy floor of an eager step.** Every op-table forward a step calls is recorded
   (the same numpy function on the same arrays, outermost calls only), then the recorded
   calls alone are replayed and timed: numpy work minigrad's eager mode does whatever its
   Python overhead, beside each peer's whole step. For the scalar 2-16-16-1 MLP and the
   2-64-64-2 BatchNorm MLP training step. (A floor: numpy work outside the op table, such as
   adding into ``.grad`` or the optimizer's update, is not in it.)
2. **The cyclic GC in a long eager chain** (the per-node table's chain): collections per
   generation and the milliseconds spent in them per step (``gc.callbacks``), at 1e3 / 1e4 /
   1e5 nodes.
3. **What the composed BatchNorm graph holds** after its forward pass, node by node in
   multiples of x, beside what PyTorch's ``F.batch_norm`` saves for its backward
   (``torch.autograd.graph.saved_tensors_hooks``).
4. **The GEMM floor of the Hessian-vector product** at width 1024: the matrix products the
   HVP computes, recorded from minigrad's eager run and timed alone with numpy's BLAS and
   with PyTorch's, beside each library's whole HVP.

Each section runs in its own fresh process; times are the minimum over repeats (floors and
whole steps alike), in milliseconds.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import env, fresh

Call = tuple[Callable[..., Any], tuple, dict]
CHAIN_NODES = (1_000, 10_000, 100_000)
QUICK_CHAIN_NODES = (1_000, 5_000)
BN_SIZE, QUICK_BN_SIZE = (16384, 512), (512, 64)
HVP_WIDTH, QUICK_HVP_WIDTH = 1024, 64


# ------------------------------------------------------------------------ measuring
def best_ms(fn: Callable[[], Any], repeats: int) -> float:
    """The fastest of ``repeats`` calls of ``fn`` (one untimed call first), in ms."""
    fn()
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def recorded_forwards(step: Callable[[], Any], only: str | None = None) -> list[Call]:
    """The op-table forwards ``step`` calls, in order (outermost calls only: a forward
    calling another row's forward is one call), with their arguments; ``only``: one row."""
    from minigrad.ops import OPS

    calls: list[Call] = []
    depth = [0]
    saved = {name: op.forward for name, op in OPS.items()}

    def recorder(name: str, forward: Callable[..., Any]) -> Callable[..., Any]:
        def recording(*args: Any, **kwargs: Any) -> Any:
            if depth[0] == 0 and only in (None, name):
                calls.append((forward, args, kwargs))
            depth[0] += 1
            try:
                return forward(*args, **kwargs)
            finally:
                depth[0] -= 1
        return recording

    for name, op in OPS.items():
        object.__setattr__(op, "forward", recorder(name, op.forward))  # a frozen dataclass
    try:
        step()
    finally:
        for name, op in OPS.items():
            object.__setattr__(op, "forward", saved[name])
    return calls


def replay(calls: list[Call]) -> Callable[[], None]:
    """A function making the recorded calls again (numpy's warnings silenced)."""
    def run() -> None:
        with np.errstate(all="ignore"):
            for forward, args, kwargs in calls:
                forward(*args, **kwargs)
    return run


# ------------------------------------------------------------ 1. the numpy floor
def _scalar_mlp_steps() -> dict[str, Callable[[], Any]]:
    from .scalar import _mlp_makers

    return {name: make() for name, make in _mlp_makers((0.5, -1.5))}


def _bn_mlp_steps() -> dict[str, Callable[[], Any]]:
    from . import mlp

    return {"minigrad eager": mlp.minigrad_step("composed", jit=False),
            "PyTorch eager": mlp.torch_step()}


def floor_child(quick: bool) -> dict[str, Any]:
    """Both steps: minigrad's recorded numpy calls timed alone, and every peer's step."""
    repeats = 3 if quick else 30
    found: dict[str, Any] = {}
    for label, steps in (("scalar 2-16-16-1 MLP", _scalar_mlp_steps()),
                         ("2-64-64-2 BN MLP step", _bn_mlp_steps())):
        ours = steps["minigrad eager"]
        calls = recorded_forwards(ours)
        row = {"numpy calls": len(calls),
               "numpy floor of minigrad eager": best_ms(replay(calls), repeats)}
        for name, step in steps.items():
            if callable(step):
                row[name] = best_ms(step, repeats)
        found[label] = row
    return found


def format_floor(found: dict[str, Any]) -> str:
    lines = []
    for label, row in found.items():
        lines.append(f"{label}: {row.pop('numpy calls')} numpy calls per step")
        for name, ms in row.items():
            lines.append(f"  {name:<34} {ms:9.3f} ms")
    return "\n".join(lines)


# ---------------------------------------------------------------- 2. the cyclic GC
def timed_collections(step: Callable[[], Any], repeats: int) -> tuple[float, dict[int, list]]:
    """``best_ms(step, repeats)`` with the GC on, and per generation [collections, seconds]
    over all ``repeats + 1`` calls (``gc.callbacks``)."""
    spent: dict[int, list] = {0: [0, 0.0], 1: [0, 0.0], 2: [0, 0.0]}
    started = [0.0]

    def watch(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            entry = spent[info["generation"]]
            entry[0] += 1
            entry[1] += time.perf_counter() - started[0]

    gc.callbacks.append(watch)
    try:
        return best_ms(step, repeats), spent
    finally:
        gc.callbacks.remove(watch)


def gc_child(quick: bool) -> list[dict[str, Any]]:
    """Per chain length: µs per node with the GC on and off, and per step the collections
    of each generation and the ms spent in them."""
    import minigrad as mg

    from .compile_scaling import ELEMENTS, chain

    x = mg.tensor(np.linspace(-1.0, 1.0, ELEMENTS), requires_grad=True)
    found = []
    for nodes in QUICK_CHAIN_NODES if quick else CHAIN_NODES:
        def step(nodes: int = nodes) -> None:
            mg.grad(chain(x, nodes, mg.tanh).sum(), [x])

        repeats = 2 if quick or nodes >= 100_000 else 5
        step()
        on, spent = timed_collections(step, repeats)
        gc.disable()
        try:
            off = best_ms(step, repeats)
        finally:
            gc.enable()
        calls = repeats + 1  # best_ms's untimed call too
        found.append({"nodes": nodes, "us_per_node_gc_on": on * 1e3 / nodes,
                      "us_per_node_gc_off": off * 1e3 / nodes,
                      **{f"gen{g}_collections": spent[g][0] / calls for g in spent},
                      **{f"gen{g}_ms": spent[g][1] * 1e3 / calls for g in spent}})
    return found


def format_gc(found: list[dict[str, Any]]) -> str:
    header = (f"{'nodes':>8} {'µs/node GC on':>14} {'GC off':>8}   collections per step "
              "(ms in them): gen 0, gen 1, gen 2")
    lines = [header, "-" * len(header)]
    for row in found:
        parts = ", ".join(f"{row[f'gen{g}_collections']:.3g} ({row[f'gen{g}_ms']:.1f})"
                          for g in range(3))
        lines.append(f"{row['nodes']:>8,} {row['us_per_node_gc_on']:>14.2f} "
                     f"{row['us_per_node_gc_off']:>8.2f}   {parts}")
    return "\n".join(lines)


# --------------------------------------------------------- 3. what BN's graph holds
def memory_child(quick: bool) -> dict[str, Any]:
    """The arrays the composed BN graph holds after the forward pass besides its output (by
    op, in multiples of x; inputs and parameters left out) and the tensors PyTorch's
    F.batch_norm saves for its backward."""
    import minigrad as mg
    from minigrad.autodiff import topological_order
    from minigrad.timing import bn_inputs

    n, d = QUICK_BN_SIZE if quick else BN_SIZE
    inputs = bn_inputs(n, d, "float32")
    x = mg.tensor(inputs["x"], requires_grad=True)
    gamma = mg.tensor(inputs["gamma"], requires_grad=True)
    beta = mg.tensor(inputs["beta"], requires_grad=True)
    out = mg.nn.functional.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-5,
                                      impl="composed")
    held: dict[str, float] = {}
    for node in topological_order([out]):
        if node.op is not None and node is not out:
            held[node.op.name] = held.get(node.op.name, 0.0) + node.data.nbytes / x.data.nbytes
    return {"minigrad composed": held, "PyTorch F.batch_norm": _torch_saved(inputs)}


def _torch_saved(inputs: dict[str, np.ndarray]) -> dict[str, float] | str:
    torch = env.load_torch()
    if torch is None:
        return "torch not importable"
    x = torch.tensor(inputs["x"], requires_grad=True)
    gamma = torch.tensor(inputs["gamma"], requires_grad=True)
    beta = torch.tensor(inputs["beta"], requires_grad=True)
    saved: dict[str, float] = {}

    def pack(tensor: Any) -> Any:
        kind = "x itself (an input)" if tensor.data_ptr() == x.data_ptr() else \
            f"shape {tuple(tensor.shape)}"
        saved[kind] = saved.get(kind, 0.0) + tensor.numel() * tensor.element_size() \
            / x.numel() / x.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        torch.nn.functional.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-5)
    return saved


def format_memory(found: dict[str, Any]) -> str:
    lines = []
    for name, held in found.items():
        if isinstance(held, str):
            lines.append(f"{name}: {held}")
            continue
        total = sum(held.values())
        parts = ", ".join(f"{op} {size:.3g}" for op, size in held.items())
        lines.append(f"{name}: {total:.3g} x input held for backward besides the output "
                     f"({parts})")
    return "\n".join(lines)


# ------------------------------------------------------------------ 4. the GEMM floor
def gemm_child(quick: bool) -> dict[str, Any]:
    """The HVP's matrix products timed alone (numpy's BLAS, PyTorch's) and each library's
    whole HVP (minigrad jit, PyTorch eager)."""
    from . import hvp

    width = QUICK_HVP_WIDTH if quick else HVP_WIDTH
    repeats = 3 if quick else 20
    products = recorded_forwards(hvp.minigrad_hvp(width, False), only="matmul")
    found: dict[str, Any] = {"width": width, "products": len(products),
                             "GEMM floor, numpy": best_ms(replay(products), repeats)}
    torch = env.load_torch()
    if torch is not None:
        pairs = [tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in args)
                 for _, args, _ in products]

        def torch_products() -> None:
            for a, b in pairs:
                torch.matmul(a, b)

        found["GEMM floor, PyTorch"] = best_ms(torch_products, repeats)
        found["PyTorch eager HVP"] = best_ms(hvp.torch_hvp(width), repeats)
    jitted = hvp.minigrad_hvp(width, True)
    if callable(jitted):
        found["minigrad jit HVP"] = best_ms(jitted, repeats)
    return found


def format_gemm(found: dict[str, Any]) -> str:
    lines = [f"width {found.pop('width')}: {found.pop('products')} matrix products per HVP"]
    lines += [f"  {name:<24} {ms:9.3f} ms" for name, ms in found.items()]
    return "\n".join(lines)


# ----------------------------------------------------------------------- running
SECTIONS = {
    "floor": ("the numpy floor of an eager step (minimum ms per step)", floor_child,
              format_floor),
    "gc": ("the cyclic GC in the eager chain (64 float64 elements, value and gradient)",
           gc_child, format_gc),
    "memory": ("what composed BatchNorm holds for its backward, float32, multiples of x",
               memory_child, format_memory),
    "gemm": ("the GEMM floor of the 32-W-W-1 tanh MLP's Hessian-vector product",
             gemm_child, format_gemm),
}


def run(quick: bool = False, out_dir: Path = env.RESULTS,
        limit_s: float = fresh.LIMIT_S) -> dict[str, Any]:
    """Every section in a fresh process; print the tables, write why.json."""
    info = env.machine_info()
    print(env.format_header("why the unmet goals are unmet: profiles (fresh processes)", info))
    payload: dict[str, Any] = {"benchmark": "why", "quick": quick, "info": info}
    for name, (title, _, formatter) in SECTIONS.items():
        result = fresh.spawn("why", [name, "quick" if quick else "full"], None, limit_s)
        print(f"\n-- {title} --")
        body = result.get("found")
        print(formatter(json.loads(json.dumps(body))) if body is not None
              else f"error: {result.get('error', result)}")
        payload[name] = result
    print(f"wrote {env.write_json('why', payload, out_dir)}")
    return payload


def main() -> None:
    """``--child SECTION quick|full``: print that section's result as one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2, required=True, metavar=("SECTION", "MODE"))
    section, mode = parser.parse_args().child
    found = SECTIONS[section][1](mode == "quick")
    print(json.dumps({"found": found}, default=str))


if __name__ == "__main__":
    main()
