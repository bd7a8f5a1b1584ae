"""Small scalar graphs in eager mode, where per-op overhead is everything (issue 17).

1. "Fastest Autograd in the West": 100 0-d float64 inputs, rounds of softplus, sum,
   softmax and prod (about 10k scalar ops, counted exactly), the graph rebuilt every
   iteration, then the gradient wrt every input. minigrad eager and mg.jit vs PyTorch eager,
   timed side by side in a fresh process (mg.jit's compile has a time limit there: over it,
   the rows are timed again without mg.jit).
2. The micrograd-style 2-16-16-1 MLP (ReLU hidden layers) on 0-d tensors, one sample,
   forward + backward (gradients cleared first): minigrad vs PyTorch eager vs micrograd.
3. The per-node cost of a long eager chain (benchmarks/compile_scaling.chain, 64 float64
   elements, value and gradient) at 1e3 / 1e4 / 1e5 nodes, with Python's cyclic GC on and
   off, and PyTorch's for comparison.
Each of the three runs in its own fresh process (the libraries imported as in a user's
script), not in the process that ran the other benchmarks first. There (session 9's run)
the MLP row read 16.65 ms for minigrad and 3.07 ms for micrograd; alone in a process they
take 4-7 ms and 1.3-1.4 ms. A process's long-lived objects make every full cyclic-GC
collection longer (importing torch and jax alone, 230k objects, took minigrad's MLP from
4.4 to 6.6 ms), and PyTorch's OpenMP threads spin on after its last parallel call under
run.py's OMP_WAIT_POLICY=ACTIVE: both are charged to whichever library runs Python code.
Ratios are PyTorch (or micrograd) time / minigrad time: > 1 means minigrad is faster.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from minigrad.timing import NOT_INSTALLED, Row, format_rows

from . import env, fresh
from .compile_scaling import ELEMENTS, chain

FAW_INPUTS, FAW_ROUNDS = 100, 11
QUICK_FAW = (10, 1)
MLP_SIZES = (2, 16, 16, 1)
CHAIN_NODES = (1_000, 10_000, 100_000)
QUICK_CHAIN_NODES = (1_000, 10_000)
FULL = {"warmup": 1, "min_rounds": 5, "max_rounds": 15, "budget": 4.0, "min_sample": 2e-2}
QUICK = {"warmup": 1, "min_rounds": 1, "max_rounds": 2, "budget": 0.2, "min_sample": 1e-3}


# ------------------------------------------------------------------ the programs
def _total(values: list[Any]) -> Any:
    """values[0] + values[1] + ... (n - 1 adds)."""
    out = values[0]
    for value in values[1:]:
        out = out + value
    return out


def _product(values: list[Any]) -> Any:
    """values[0] * values[1] * ... (n - 1 multiplies)."""
    out = values[0]
    for value in values[1:]:
        out = out * value
    return out


def faw_program(xs: list[Any], rounds: int, softplus: Callable, exp: Callable) -> Any:
    """Each round: a = softplus(v), s = sum(a), w = softmax(a), p = prod(1 + w),
    v = w * s / p (9n - 3 scalar ops for n inputs); then sum(v)."""
    v = list(xs)
    for _ in range(rounds):
        a = [softplus(t) for t in v]
        s = _total(a)
        e = [exp(t) for t in a]
        z = _total(e)
        w = [t / z for t in e]
        p = _product([1 + t for t in w])
        v = [t * s / p for t in w]
    return _total(v)


def faw_ops(inputs: int, rounds: int) -> int:
    """The number of scalar ops in ``faw_program``."""
    return rounds * (9 * inputs - 3) + inputs - 1


def mlp_weights(seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W: out x in, b) per layer, uniform in [-1, 1] as micrograd's Neuron draws them."""
    rng = np.random.default_rng(seed)
    return [(rng.uniform(-1, 1, (fan_out, fan_in)), rng.uniform(-1, 1, fan_out))
            for fan_in, fan_out in itertools.pairwise(MLP_SIZES)]


def mlp_program(x: list[Any], layers: list[tuple[list[list[Any]], list[Any]]],
                relu: Callable) -> Any:
    """micrograd's MLP: each neuron b + w0 x0 + w1 x1 + ..., ReLU except the last layer."""
    for depth, (rows, biases) in enumerate(layers):
        x = [_total([b] + [w * xi for w, xi in zip(row, x, strict=True)])
             for row, b in zip(rows, biases, strict=True)]
        if depth < len(layers) - 1:
            x = [relu(t) for t in x]
    return x[0]


# -------------------------------------------------------------- 1. FAW (fresh child)
def _faw_makers(inputs: int, rounds: int, jit: bool, compile_s: dict[str, float]) -> list:
    """Makers of the FAW steps: each step builds the graph and returns the output."""
    values = np.random.default_rng(0).uniform(-1, 1, inputs)

    def minigrad(use_jit: bool) -> Callable[[], Any]:
        import minigrad as mg

        xs = [mg.tensor(np.float64(v), requires_grad=True) for v in values]

        def value_and_grad(xs: list[Any]) -> tuple:
            out = faw_program(xs, rounds, mg.nn.functional.softplus, mg.exp)
            return out, *mg.grad(out, xs)

        fn = mg.jit(value_and_grad) if use_jit else value_and_grad
        if use_jit:
            start = time.perf_counter()
            fn(xs)
            compile_s["minigrad jit"] = time.perf_counter() - start
        return lambda: fn(xs)[0]

    def torch_step() -> Callable[[], Any] | Row:
        torch = env.load_torch()
        if torch is None:
            return Row("PyTorch eager", NOT_INSTALLED, "import torch failed")
        xs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]

        def step() -> Any:
            out = faw_program(xs, rounds, torch.nn.functional.softplus, torch.exp)
            torch.autograd.grad(out, xs)
            return out.detach()

        return step

    makers = [("minigrad eager", lambda: minigrad(False)), ("PyTorch eager", torch_step)]
    return makers + ([("minigrad jit", lambda: minigrad(True))] if jit else [])


def faw_child(inputs: int, rounds: int, jit: bool, quick: bool) -> dict[str, Any]:
    """In the fresh process: the FAW rows side by side (mg.jit compiled first)."""
    compile_s: dict[str, float] = {}
    order = ("minigrad eager", "minigrad jit", "PyTorch eager")
    found = env.side_by_side_rows(_faw_makers(inputs, rounds, jit, compile_s),
                                  QUICK if quick else FULL, order, "value")
    return {"rows": [row.as_dict() for row in found], "table": format_rows(found, ("value",)),
            "compile_s": compile_s}


def faw(quick: bool, limit_s: float) -> dict[str, Any]:
    """The FAW table from a fresh process; without mg.jit when its compile ran out of time."""
    inputs, rounds = QUICK_FAW if quick else (FAW_INPUTS, FAW_ROUNDS)
    args = [str(inputs), str(rounds), "quick" if quick else "full"]
    result = fresh.spawn("scalar", ["faw", "jit", *args], None, limit_s)
    if "rows" not in result:
        note = f"mg.jit: {fresh.seconds(result, 'x')} ({result.get('error', 'timed out')})"
        result = {**fresh.spawn("scalar", ["faw", "nojit", *args], None, limit_s),
                  "jit_note": note}
    return {"inputs": inputs, "rounds": rounds, "ops": faw_ops(inputs, rounds), **result}


# ----------------------------------------------------------------- 2. the scalar MLP
def _mlp_makers(x_values: tuple[float, float]) -> list:
    """minigrad, PyTorch and micrograd forward + backward of the 2-16-16-1 MLP."""
    weights = mlp_weights()

    def generic(leaf: Callable, relu: Callable, clear: Callable, backward: Callable) -> Any:
        layers = [([[leaf(w) for w in row] for row in W], [leaf(b) for b in bias])
                  for W, bias in weights]
        params = [p for rows, biases in layers for p in [*itertools.chain(*rows), *biases]]
        x = [leaf(v, grad=False) for v in x_values]

        def step() -> Any:
            for param in params:
                clear(param)
            out = mlp_program(x, layers, relu)
            backward(out)
            return out

        return step

    def minigrad() -> Any:
        import minigrad as mg

        return generic(lambda v, grad=True: mg.tensor(np.float64(v), requires_grad=grad),
                       lambda t: t.relu(), lambda p: setattr(p, "grad", None),
                       lambda out: out.backward())

    def torch_step() -> Any:
        torch = env.load_torch()
        if torch is None:
            return Row("PyTorch eager", NOT_INSTALLED, "import torch failed")
        return generic(lambda v, grad=True: torch.tensor(v, dtype=torch.float64,
                                                         requires_grad=grad),
                       torch.relu, lambda p: setattr(p, "grad", None),
                       lambda out: out.backward())

    def micrograd() -> Any:
        try:
            from micrograd.engine import Value
        except ImportError:
            return Row("micrograd", NOT_INSTALLED, "pip install micrograd (make install-bench)")
        step = generic(lambda v, grad=True: Value(float(v)), lambda t: t.relu(),
                       lambda p: setattr(p, "grad", 0.0), lambda out: out.backward())
        return lambda: step().data

    return [("minigrad eager", minigrad), ("PyTorch eager", torch_step),
            ("micrograd", micrograd)]


def scalar_mlp(quick: bool) -> list[Row]:
    """The three scalar-MLP rows, side by side."""
    return env.side_by_side_rows(_mlp_makers((0.5, -1.5)), QUICK if quick else FULL,
                                 ("minigrad eager", "PyTorch eager", "micrograd"), "output")


# ------------------------------------------------------------ 3. the per-node cost
def _chain_makers(nodes: int) -> list:
    """Eager value and gradient of the chain: minigrad (GC on, GC off), PyTorch."""
    values = np.linspace(-1.0, 1.0, ELEMENTS)

    def minigrad(gc_off: bool) -> Callable[[], Any]:
        import minigrad as mg

        x = mg.tensor(values, requires_grad=True)

        def step() -> Any:
            if gc_off:
                gc.disable()
            try:
                loss = chain(x, nodes, mg.tanh).sum()
                mg.grad(loss, [x])
            finally:
                gc.enable()
            return loss

        return step

    def torch_step() -> Any:
        torch = env.load_torch()
        if torch is None:
            return Row("PyTorch eager", NOT_INSTALLED, "import torch failed")
        x = torch.tensor(values, requires_grad=True)

        def step() -> Any:
            loss = chain(x, nodes, torch.tanh).sum()
            torch.autograd.grad(loss, [x])
            return loss.detach()

        return step

    return [("minigrad eager", lambda: minigrad(False)),
            ("minigrad eager, gc disabled", lambda: minigrad(True)),
            ("PyTorch eager", torch_step)]


def per_node(quick: bool) -> list[dict[str, Any]]:
    """µs per node of each chain row at each length."""
    settings = ({"warmup": 0, "min_rounds": 1, "max_rounds": 1, "budget": 0.0,
                 "min_sample": 0.0} if quick else
                {"warmup": 0, "min_rounds": 3, "max_rounds": 7, "budget": 10.0,
                 "min_sample": 0.0})
    found = []
    for nodes in QUICK_CHAIN_NODES if quick else CHAIN_NODES:
        order = [name for name, _ in _chain_makers(1)]
        for row in env.side_by_side_rows(_chain_makers(nodes), settings, order, "value"):
            found.append({"nodes": nodes, **row.as_dict(),
                          "us_per_node": (row.timing.median * 1e6 / nodes
                                          if row.timing else None)})
    return found


def format_per_node(found: list[dict[str, Any]]) -> str:
    """µs per node: one column per length, one line per implementation."""
    lengths = sorted({row["nodes"] for row in found})
    names = list(dict.fromkeys(row["name"] for row in found))
    header = f"{'µs per node (fwd + bwd)':<30}" + "".join(f" {n:>10,}" for n in lengths)
    lines = [header, "-" * len(header)]
    cell = {(row["name"], row["nodes"]): row for row in found}
    for name in names:
        values = [cell[(name, n)].get("us_per_node") for n in lengths]
        lines.append(f"{name:<30}" + "".join(
            f" {v:>10.3g}" if v is not None else f" {cell[(name, n)]['status']:>10}"
            for v, n in zip(values, lengths, strict=True)))
    return "\n".join(lines)


# ----------------------------------------------------------------------- running
def _ratio_line(rows: list[dict[str, Any]], top: str, bottom: str, target: str) -> str:
    by_name = {row["name"]: row for row in rows}
    a, b = by_name.get(top, {}).get("median_ms"), by_name.get(bottom, {}).get("median_ms")
    value = f"{a / b:.3g}" if a and b else "n/a"
    return f"{top} / {bottom}: {value}" + (f"  (target {target})" if target else "")


def run(quick: bool = False, out_dir: Path = env.RESULTS,
        limit_s: float = fresh.LIMIT_S) -> dict[str, Any]:
    """Run the three scalar benchmarks, print their tables, write scalar.json."""
    info = env.machine_info()
    found_faw = faw(quick, limit_s)
    print(env.format_header(
        f"scalar graph ('Fastest Autograd in the West'): {found_faw['inputs']} 0-d float64 "
        f"inputs, {found_faw['rounds']} rounds of softplus/sum/softmax/prod = "
        f"{found_faw['ops']:,} scalar ops, graph rebuilt each call, value + gradient "
        "(fresh process)", info))
    print(found_faw.get("table") or f"error: {found_faw.get('error', found_faw)}")
    if "jit_note" in found_faw:
        print(f"minigrad jit: not timed, {found_faw['jit_note']}")
    for name, seconds in found_faw.get("compile_s", {}).items():
        print(f"{name}: first call (trace + compile, or a load from the disk cache) "
              f"{seconds:.2f} s")
    faw_rows = found_faw.get("rows", [])
    for bottom in ("minigrad eager", "minigrad jit"):
        print(_ratio_line(faw_rows, "PyTorch eager", bottom, ""))
    mode = "quick" if quick else "full"
    print(f"\n-- micrograd-style {'-'.join(map(str, MLP_SIZES))} MLP on 0-d float64 tensors, "
          "one sample, forward + backward (fresh process) --")
    found_mlp = fresh.spawn("scalar", ["mlp", mode], None, limit_s)
    print(found_mlp.get("table") or f"error: {found_mlp.get('error', found_mlp)}")
    mlp_dicts = found_mlp.get("rows", [])
    print(_ratio_line(mlp_dicts, "PyTorch eager", "minigrad eager", ">= 1"))
    print(_ratio_line(mlp_dicts, "micrograd", "minigrad eager", ">= 0.5"))
    print(f"\n-- per-node cost of an eager chain ({ELEMENTS} float64 elements, value and "
          "gradient; target: flat within 20 % from 1e3 to 1e5; fresh process) --")
    found_chain = fresh.spawn("scalar", ["chain", mode], None, limit_s)
    chain_rows = found_chain.get("per_node", [])
    print(format_per_node(chain_rows) if chain_rows
          else f"error: {found_chain.get('error', found_chain)}")
    payload = {"benchmark": "scalar", "quick": quick, "info": info,
               "faw": {k: v for k, v in found_faw.items() if k != "table"},
               "mlp": mlp_dicts, "per_node": chain_rows}
    print(f"wrote {env.write_json('scalar', payload, out_dir)}")
    return payload


def main() -> None:
    """The child processes' tables as one JSON line: ``--child faw jit|nojit INPUTS ROUNDS
    quick|full``, ``--child mlp quick|full`` or ``--child chain quick|full``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs="+", required=True, metavar="ARG")
    kind, *rest = parser.parse_args().child
    quick = rest[-1] == "quick"
    if kind == "faw":
        jit, inputs, rounds, _ = rest
        found = faw_child(int(inputs), int(rounds), jit == "jit", quick)
    elif kind == "mlp":
        rows = scalar_mlp(quick)
        found = {"rows": [row.as_dict() for row in rows],
                 "table": format_rows(rows, ("output",))}
    else:
        found = {"per_node": per_node(quick)}
    print(json.dumps(found, default=str))


if __name__ == "__main__":
    main()
