"""Shrink a failing program to a minimal reproducer and print it as a runnable script.

Greedy passes, each candidate re-checked (eager vs jit) and kept when it still fails the
same way: fewer outputs (halves, then one by one), a lower derivative order, nodes replaced
by fresh arguments of their shape and dtype (cutting everything above them, nearest the
outputs first), arguments that no longer require grad, smaller shapes (a dimension to 1
or halved; node shapes re-derived by eager evaluation, candidates eager refuses dropped).
Dead nodes and arguments are pruned after every step.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

import minigrad as mg

from .programs import (
    DETACH,
    Arg,
    Node,
    Program,
    apply_node,
    call_arrays,
    function_source,
    random_array,
)

MAX_TRIALS = 120
MAX_SECONDS = 600.0


def prune(program: Program) -> Program:
    """Drop nodes and arguments the outputs do not need (value ids renumbered)."""
    n_args = len(program.args)
    live = set(program.outputs)
    for k in range(len(program.nodes) - 1, -1, -1):
        if n_args + k in live:
            live.update(program.nodes[k].inputs)
    keep = [v for v in range(n_args + len(program.nodes)) if v in live]
    new_id = {old: new for new, old in enumerate(keep)}
    args = [program.args[v] for v in keep if v < n_args]
    nodes = [replace(program.nodes[v - n_args],
                     inputs=tuple(new_id[i] for i in program.nodes[v - n_args].inputs))
             for v in keep if v >= n_args]
    outputs = list(dict.fromkeys(new_id[o] for o in program.outputs))
    return Program(args, nodes, outputs, program.order, dict(program.meta))


def retype(program: Program) -> Program | None:
    """Node shapes and dtypes re-derived by eager evaluation; None when eager refuses."""
    rng = np.random.default_rng(0)
    values = [mg.tensor(random_array(a, rng)) for a in program.args]
    nodes = []
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            for node in program.nodes:
                out = apply_node(node, [values[i] for i in node.inputs])
                values.append(out)
                nodes.append(replace(node, shape=out.shape, dtype=out.dtype.name))
    except Exception:
        return None
    return Program(program.args, nodes, program.outputs, program.order, dict(program.meta))


def cut_node(program: Program, k: int) -> Program:
    """Node ``k`` replaced by a new argument of its shape and dtype (appended last among
    the arguments, so the other value ids move up by one)."""
    node = program.nodes[k]
    n_args = len(program.args)
    grad = node.dtype.startswith("float")
    arg = Arg(node.shape, node.dtype, grad)

    def move(v: int) -> int:
        return n_args if v == n_args + k else v + (v >= n_args)

    nodes = [replace(nd, inputs=tuple(move(i) for i in nd.inputs)) for nd in program.nodes]
    nodes[k] = Node(DETACH, (0,), (), node.shape, node.dtype)  # dead after the move
    return prune(Program([*program.args, arg], nodes, [move(o) for o in program.outputs],
                         program.order, dict(program.meta)))


def _smaller_shapes(program: Program) -> list[Program]:
    out = []
    for a, arg in enumerate(program.args):
        for d, n in enumerate(arg.shape):
            for m in sorted({1, n // 2} - {n}) if n > 1 else []:
                shape = (*arg.shape[:d], m, *arg.shape[d + 1:])
                args = list(program.args)
                args[a] = replace(arg, shape=shape)
                out.append(replace(program, args=args))
    return out


def candidates(program: Program) -> list[Program]:
    """Smaller programs to try, most drastic first."""
    outs = program.outputs
    found = []
    if len(outs) > 1:
        half = len(outs) // 2
        found += [replace(program, outputs=outs[:half]), replace(program, outputs=outs[half:])]
        found += [replace(program, outputs=[o]) for o in outs]
    found += [replace(program, order=o) for o in range(program.order)]
    found += [cut_node(program, k) for k in range(len(program.nodes) - 1, -1, -1)]
    found += [replace(program, args=[replace(a, grad=False) if i == j else a
                                     for i, a in enumerate(program.args)])
              for j, a in enumerate(program.args) if a.grad]
    found += _smaller_shapes(program)
    return [prune(c) for c in found]


def shrink(program: Program, still_fails: Callable[[Program], bool],
           max_trials: int = MAX_TRIALS, max_seconds: float = MAX_SECONDS,
           log: Callable[[str], None] | None = None) -> Program:
    """The smallest program reached greedily that ``still_fails``."""
    best = prune(program)
    trials, start = 0, time.perf_counter()
    improved = True
    while improved and trials < max_trials and time.perf_counter() - start < max_seconds:
        improved = False
        for candidate in candidates(best):
            typed = retype(candidate) if candidate.nodes else None
            if typed is None or _size(typed) >= _size(best):
                continue
            trials += 1
            if still_fails(typed):
                best, improved = typed, True
                if log:
                    log(f"  shrink: trial {trials}: {len(best.nodes)} nodes, "
                        f"{len(best.outputs)} outputs, order {best.order}")
                break
            if trials >= max_trials or time.perf_counter() - start > max_seconds:
                break
    return best


def _size(program: Program) -> tuple:
    return (len(program.nodes), len(program.outputs), program.order,
            sum(a.grad for a in program.args),
            sum(int(np.prod(a.shape)) for a in program.args), len(program.args))


# ------------------------------------------------------------------------ reproducers
_CHECK = '''

def tensors(arrays):
    return [mg.tensor(a.copy(), requires_grad=g) for a, g in zip(arrays, GRAD)]


jitted = mg.jit(f, background=False)
for k, arrays in enumerate(CALLS):  # call 0 traces (eager); calls 1, 2 run the kernel
    eager = [None if t is None else np.asarray(t.data) for t in f(*tensors(arrays))]
    got = [None if t is None else np.asarray(t.data) for t in jitted(*tensors(arrays))]
    for i, (e, g) in enumerate(zip(eager, got)):
        problem = compare_arrays(e, g, floor=FLOORS[i])  # the fuzzer's rule and tolerances
        verdict = f"MISMATCH: {problem}\\n eager {e}\\n jit   {g}" if problem else "ok"
        print(f"call {k} result {i}:", verdict)
'''


def to_script(program: Program, seed: int, detail: str = "") -> str:
    """A runnable script (minigrad only) that shows the failure of ``program``: each
    result compared with ``fuzz.compare_arrays``, so it says MISMATCH exactly where the
    fuzzer did."""
    rng = np.random.default_rng(seed)
    calls = [call_arrays(program, rng) for _ in range(3)]
    grads = [a.grad for a in program.args] + [False] * len(program.weight_args())
    lines = [f'"""minigrad.testing.fuzz reproducer: {detail}"""'.replace("\n", " "),
             "import numpy as np", "", "import minigrad as mg", "from minigrad import ops",
             "from minigrad.testing.fuzz import compare_arrays",
             "", "", *function_source(program).splitlines(), "", ""]
    lines.append("CALLS = [")
    for arrays in calls:
        lines.append("    [" + ", ".join(
            f"np.array({a.tolist()!r}, dtype={a.dtype.name!r}).reshape({a.shape!r})"
            for a in arrays) + "],")
    lines += ["]", f"GRAD = {grads!r}", f"FLOORS = {program.result_floors()!r}"]
    return "\n".join(lines) + _CHECK


def signature(program: Program, outcome: Any) -> tuple[str, str]:
    """What must stay the same while shrinking: the outcome kind and, for a mismatch, the
    part of the results that is wrong (values, first or second derivatives); for a crash,
    the exception type. So the shrinker does not drift to another bug."""
    parts = outcome.detail.split(": ")
    if outcome.kind == "crash":
        return outcome.kind, parts[1] if len(parts) > 1 else ""
    if outcome.kind != "mismatch" or len(parts) < 2 or not parts[1].startswith("result "):
        return outcome.kind, ""
    index = int(parts[1].split()[1])
    n_out, n_grad = len(program.outputs), sum(a.grad for a in program.args)
    section = "value" if index < n_out else "first" if index < n_out + n_grad else "second"
    return outcome.kind, section


def reproduce(case: Any, outcome: Any, seed: int,
              log: Callable[[str], None] | None = None,
              max_seconds: float = MAX_SECONDS) -> str:
    """Shrink ``case`` (a program or a training config) keeping ``outcome.kind``."""
    from . import fuzz, training

    if isinstance(case, training.TrainConfig):
        return training.reproduce(case, outcome, max_seconds)

    want = signature(case, outcome)

    def still_fails(candidate: Program) -> bool:
        return signature(candidate, fuzz.check_program(candidate, seed)) == want

    small = shrink(case, still_fails, max_seconds=max_seconds, log=log)
    final = fuzz.check_program(small, seed)
    return to_script(small, seed, f"{final.kind}: {final.detail}")
