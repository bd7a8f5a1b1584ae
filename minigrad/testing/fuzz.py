"""Differential fuzzer: random programs, eager vs ``mg.jit`` (vs PyTorch when importable).

    python -m minigrad.testing.fuzz --n 2000 --seed 7      (or: make fuzz N=2000 SEED=7)

Each program (``programs.py``: every op-table row, random shapes and dtypes, 1-60 nodes,
values plus first and second derivatives; ``training.py``: training steps with modules,
losses and optimizers) runs eagerly and through one ``mg.jit`` function called three times
with fresh random arguments of the same signature: the first call is the eager trace, the
later ones run the compiled kernel. Every call must match eager on the same arguments:

* the same structure, shapes and dtypes; booleans and integers equal; floats within a
  tolerance by dtype, with NaN and infinity at the same positions;
* when eager raises, jit raises the same error type;
* ``NotCompilableError`` is a *refusal* (counted, not a failure); any other exception from
  jit is a *crash*, a wrong number a *mismatch*.

Failures are shrunk (``shrink.py``) and printed as runnable scripts using minigrad only.
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import signal
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import minigrad as mg
from minigrad.jit import NotCompilableError

from . import torch_ref
from .programs import (
    Program,
    call_arrays,
    least_precise,
    make_tensors,
    program_function,
    random_program,
)

CALLS = 3  # the trace, then the compiled kernel twice
BATCH = 1  # programs per jitted function: batching measured no faster (docs/jit.md §8)
# A NotCompilableError with this text is generated source Numba could not compile: a bug of
# the code generator dressed as a refusal, so it counts as a crash.
COMPILER_FAILED = "Numba could not compile the generated kernel"
# (rtol, atol relative to the array's largest magnitude): float64 keeps 7 digits and float32
# 3, because jit sums in another order and cancellation in long chains (second derivatives)
# magnifies the rounding; a wrong lowering is off by O(1).
TOLERANCE = {"float32": (1e-3, 1e-5), "float64": (1e-7, 1e-9), "float16": (1e-2, 1e-3)}

OK, MISMATCH, CRASH, REFUSED, TORCH = "ok", "mismatch", "crash", "refused", "torch"
# eager itself moves beyond the tolerance when its float arguments move by a few ulps: the
# program is ill-conditioned at these arguments, so eager is no reference (counted, listed)
UNSTABLE = "ill-conditioned"
NUDGES, NUDGE_ULPS = 3, 8  # eager reruns, each float argument moved by up to 8 ulps


@dataclass
class Outcome:
    """The verdict on one program: ``kind`` and a one-line ``detail``."""

    kind: str
    detail: str = ""


@dataclass
class Checked:
    """One program's verdict, ready to count: index, nodes, outcome and the shrunk script
    of a failure (or the case's repr when not shrinking)."""

    index: int
    nodes: int
    outcome: Outcome
    script: str = ""


# ---------------------------------------------------------------------- comparison
def flatten(result: Any) -> list[np.ndarray | None]:
    """The arrays of a program's result (a tuple of tensors and ``None``)."""
    return [None if t is None else np.asarray(t.data) for t in result]


def compare_arrays(expected: np.ndarray | None, got: np.ndarray | None,
                   rtol: float | None = None, floor: str = "") -> str:
    """'' when ``got`` matches ``expected`` (dtype, shape, values), else what differs.

    Floats: NaN and ±inf at the same places; finite values within
    ``|got - expected| <= rtol·|expected| + atol·max(1, max|expected|)``, by dtype
    (``TOLERANCE``; ``rtol`` given: atol = rtol/100). ``floor``: the least precise float
    dtype the result was computed from (``Program.result_floors``), whose tolerance
    applies when it is looser than the result's own.
    """
    if expected is None or got is None:
        return "" if expected is None and got is None else f"{expected!r:.40} vs {got!r:.40}"
    if expected.dtype != got.dtype:
        return f"dtype {got.dtype}, eager {expected.dtype}"
    if expected.shape != got.shape:
        return f"shape {got.shape}, eager {expected.shape}"
    if expected.dtype.kind != "f":
        bad = expected != got
        return f"{int(bad.sum())} of {bad.size} values differ" if bad.any() else ""
    e64, g64 = expected.astype(np.float64), got.astype(np.float64)
    if not np.array_equal(np.isnan(e64), np.isnan(g64)):
        return "NaN at other positions"
    finite = np.isfinite(e64)
    if not np.array_equal(e64[~finite & ~np.isnan(e64)], g64[~finite & ~np.isnan(e64)]) \
            or not np.array_equal(finite, np.isfinite(g64)):
        return "inf at other positions"
    if not finite.any():
        return ""
    rel, atol = TOLERANCE.get(least_precise([expected.dtype.name, floor]), (1e-6, 1e-8))
    if rtol is not None:
        rel, atol = rtol, rtol * 1e-2
    scale = max(1.0, float(np.abs(e64[finite]).max()))
    err = np.abs(g64[finite] - e64[finite])
    bad = err > rel * np.abs(e64[finite]) + atol * scale
    if bad.any():
        return (f"{int(bad.sum())} of {bad.size} values off, max error "
                f"{float(err.max()):.3g} (values up to {scale:.3g})")
    return ""


def compare_results(expected: list, got: list, floors: list[str] | None = None) -> str:
    """'' when every array matches, else 'result k: what differs' (``floors``: see
    ``compare_arrays``, one per result)."""
    if len(expected) != len(got):
        return f"{len(got)} results, eager {len(expected)}"
    floors = floors or [""] * len(expected)
    for k, (e, g, floor) in enumerate(zip(expected, got, floors, strict=True)):
        problem = compare_arrays(e, g, floor=floor)
        if problem:
            return f"result {k}: {problem}"
    return ""


# ------------------------------------------------------------------------- running
def run_quietly(fn: Callable[..., Any], tensors: list[mg.Tensor]) -> list[np.ndarray | None]:
    """``fn(*tensors)`` flattened, numpy's warnings silenced (eager or jitted)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return flatten(fn(*tensors))


def run_eager(fn: Callable[..., Any], tensors: list[mg.Tensor]) -> tuple[Any, BaseException | None]:
    """``fn(*tensors)`` flattened, or the exception it raised."""
    try:
        return run_quietly(fn, tensors), None
    except Exception as error:
        return None, error


def jit_error(k: int, error: Exception, eager_error: BaseException | None = None) -> Outcome:
    """The verdict on an exception from call ``k`` of a jitted function: a refusal, or a
    crash (any other exception, or Numba rejecting the generated source)."""
    if isinstance(error, NotCompilableError):
        if COMPILER_FAILED in str(error):  # not a refusal: generated code Numba rejects
            return Outcome(CRASH, f"call {k}: NotCompilableError: {_one_line(error)}")
        return Outcome(REFUSED, f"call {k}: {_one_line(error)}")
    return Outcome(CRASH, f"call {k}: {type(error).__name__}: {_one_line(error)}"
                   + (f" (eager: {type(eager_error).__name__})" if eager_error else ""))


def check_program(program: Program, seed: int) -> Outcome:
    """Eager vs ``mg.jit`` over ``CALLS`` calls with fresh arguments (same signature)."""
    rng = np.random.default_rng(seed)
    calls = [call_arrays(program, rng) for _ in range(CALLS)]
    fn = program_function(program)
    outcome = check_calls(fn, lambda arrays: make_tensors(program, arrays), calls,
                          program.result_floors())
    return check_torch(program, fn, calls[0]) if outcome.kind == OK else outcome


def check_torch(program: Program, fn: Callable[..., Any], arrays: list) -> Outcome:
    """Eager minigrad vs PyTorch on one call's arguments (ok when torch is not installed
    or the program has no PyTorch counterpart: ``torch_ref.applicable``)."""
    if not (torch_ref.torch_module() and torch_ref.applicable(program)):
        return Outcome(OK)
    expected, error = run_eager(fn, make_tensors(program, arrays))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = torch_ref.run_torch(program, arrays)
    except Exception:  # no PyTorch counterpart (bool arithmetic, ...): not compared
        return Outcome(OK)
    if error is not None:
        return Outcome(TORCH, f"eager raised {type(error).__name__}, PyTorch did not")
    problem = torch_ref.compare_with_torch(expected, got)
    if not problem:
        return Outcome(OK)
    moved = eager_moves(fn, lambda a: make_tensors(program, a), arrays, expected,
                        program.result_floors())
    return Outcome(UNSTABLE, f"PyTorch {problem}; eager nudged: {moved}") if moved \
        else Outcome(TORCH, problem)


def check_calls(fn: Callable[..., Any], tensors_of: Callable[[list], list[mg.Tensor]],
                calls: list[list[np.ndarray]], floors: list[str] | None = None) -> Outcome:
    """Run ``fn`` eagerly and jitted on each call's arguments and compare (``floors``:
    see ``compare_results``)."""
    jitted = mg.jit(fn, background=False)
    for k, arrays in enumerate(calls):
        expected, eager_error = run_eager(fn, tensors_of(arrays))
        try:
            got = run_quietly(jitted, tensors_of(arrays))
        except Exception as error:
            if eager_error is not None and type(error) is type(eager_error) \
                    and not isinstance(error, NotCompilableError):
                continue  # the same error type as eager: right
            return jit_error(k, error, eager_error)
        if jitted.stats()["kernel_errors_eager_passed"]:  # eager's result came back
            return Outcome(CRASH, f"call {k}: the compiled call raised where eager did not")
        if eager_error is not None:
            return Outcome(MISMATCH, f"call {k}: eager raised {type(eager_error).__name__}:"
                           f" {_one_line(eager_error)}; jit returned")
        problem = compare_results(expected, got, floors)
        if problem and not jit_closer_to_float64(fn, tensors_of, arrays, expected, got):
            moved = eager_moves(fn, tensors_of, arrays, expected, floors)
            if moved:
                return Outcome(UNSTABLE, f"call {k}: jit {problem}; eager nudged: {moved}")
            return Outcome(MISMATCH, f"call {k}: {problem}")
    return Outcome(OK)


def nudge(array: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A float array with each value moved by up to ``NUDGE_ULPS`` ulps of its dtype (zeros
    stay zero); any other array as it is."""
    if array.dtype.kind != "f":
        return array
    eps = np.finfo(array.dtype).eps * NUDGE_ULPS
    return (array * (1 + eps * rng.uniform(-1.0, 1.0, array.shape))).astype(array.dtype)


def eager_moves(fn: Callable[..., Any], tensors_of: Callable[[list], list[mg.Tensor]],
                arrays: list[np.ndarray], expected: list, floors: list[str] | None) -> str:
    """'' when eager is stable at ``arrays``: ``NUDGES`` reruns with every float argument
    moved by a few ulps (``nudge``) all match ``expected`` by the fuzzer's own rule. Else
    how eager moved: the program is ill-conditioned there (a rounding-sized change of its
    inputs changes its result beyond the tolerance), so a jit that rounds differently
    inside may differ as much without a bug. Seed 741852963 program 503: inv(cholesky(a
    a^T)) is triangular, eager's LAPACK route leaves +-1e-17 where the kernel's leaves 0,
    and rsqrt turns that into NaN or inf; program 468: second derivatives of svdvals at
    repeated singular values depend on which singular basis LAPACK returns."""
    rng = np.random.default_rng(NUDGE_ULPS)
    for _ in range(NUDGES):
        other, error = run_eager(fn, tensors_of([nudge(a, rng) for a in arrays]))
        if error is not None:
            return f"eager raised {type(error).__name__}: {_one_line(error)}"
        problem = compare_results(expected, other, floors)
        if problem:
            return problem
    return ""


def jit_closer_to_float64(fn: Callable[..., Any], tensors_of: Callable[[list], list[mg.Tensor]],
                          arrays: list[np.ndarray], expected: list, got: list) -> bool:
    """Whether eager and jit differ only where eager's float32 rounding is the worse one:
    the same program run eagerly with its float32 arguments in float64 is the arbiter, and
    every value of every float result must be within float32's tolerance of it or no
    farther from it than eager's. E.g. sigmoid'(y) = y (1 - y) at y = 0.99999 in float32
    (seed 20261207): eager 0.4 % off, the kernel (float64 inside, rounded once) 0.03 %.
    Structure, dtypes, integers and NaN / inf positions must still agree exactly."""
    if not any(a.dtype == np.float32 for a in arrays):
        return False
    wider = [a.astype(np.float64) if a.dtype == np.float32 else a for a in arrays]
    reference, error = run_eager(fn, tensors_of(wider))
    if error is not None or len(reference) != len(expected):
        return False
    for e, g, r in zip(expected, got, reference, strict=True):
        if compare_arrays(e, g, floor="float16"):  # beyond any rounding, or not values
            return False
        if e is None or e.dtype.kind != "f" or compare_arrays(e, g) == "":
            continue
        e64, g64, r64 = (np.asarray(v, np.float64) for v in (e, g, r))
        if e64.shape != r64.shape or not np.array_equal(np.isfinite(e64), np.isfinite(r64)):
            return False
        finite = np.isfinite(e64)
        rel, atol = TOLERANCE["float32"]
        scale = max(1.0, float(np.abs(r64[finite]).max(initial=0.0)))
        off_jit = np.abs(g64[finite] - r64[finite])
        near = off_jit <= rel * np.abs(r64[finite]) + atol * scale
        if not np.all(near | (off_jit <= np.abs(e64[finite] - r64[finite]))):
            return False
    return True


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 160 else text[:157] + "..."


# ------------------------------------------------------------------------- a block
def make_case(seed: int, index: int, templates: dict, options: dict) -> tuple[Any, int, bool]:
    """Program ``index`` of the run: (case, its seed, whether it is a training program)."""
    from . import training

    pseed = program_seed(seed, index)
    rng = np.random.default_rng(pseed)
    every = options["train_every"]
    if every and index % every == every - 1:
        return training.random_config(rng), pseed, True
    return random_program(rng, templates, options["max_nodes"], options["only"]), pseed, False


def check_block(seed: int, indices: list[int], templates: dict, options: dict
                ) -> list[Checked]:
    """Every program of ``indices`` (one block) checked, failures shrunk; in index order.
    With ``options["batch"]`` > 1 the random programs that can share a jitted function
    are checked together (``batching.py``)."""
    from . import batching, training

    cases: dict[int, tuple[Any, int]] = {}
    outcomes: dict[int, Outcome] = {}
    members: list[batching.Member] = []
    for index in indices:
        case, pseed, is_training = make_case(seed, index, templates, options)
        cases[index] = (case, pseed)
        batched = not is_training and options.get("batch", BATCH) > 1
        member = batching.member_of(index, pseed, case) if batched else None
        if member is not None:
            members.append(member)
        elif is_training:
            outcomes[index] = training.check_training(case)
        else:
            outcomes[index] = check_program(case, pseed)
    if members:
        outcomes.update(batching.check_group(members))
    return [_finish(index, *cases[index], outcomes[index], options) for index in indices]


def _finish(index: int, case: Any, pseed: int, outcome: Outcome, options: dict) -> Checked:
    """Count the nodes; shrink a failure to its reproducer."""
    from . import shrink as shrinking
    from . import training

    nodes = (training.layer_count(case) if isinstance(case, training.TrainConfig)
             else len(case.nodes))
    if outcome.kind in (OK, REFUSED, UNSTABLE):
        return Checked(index, nodes, outcome)
    log = options.get("log")
    if log:
        log(f"program {index}: {outcome.kind}: {outcome.detail} (shrinking)")
    if not options["shrink"]:
        return Checked(index, nodes, outcome, repr(case))
    if outcome.detail.startswith("batched with programs"):  # not a single program's bug
        size = options.get("batch", BATCH)
        return Checked(index, nodes, outcome, "# fails only batched with the programs named"
                       f" above: --first {index} --n {size} --batch {size}\n" + repr(case))
    script = shrinking.reproduce(case, outcome, pseed, log, options["shrink_seconds"])
    return Checked(index, nodes, outcome, script)


# ---------------------------------------------------------------------------- driver
@dataclass
class Summary:
    """Counts of a fuzzing run and its shrunk reproducers."""

    seed: int
    programs: int = 0
    nodes: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {
        OK: 0, MISMATCH: 0, CRASH: 0, REFUSED: 0, TORCH: 0, UNSTABLE: 0})
    unstable: list[tuple[int, str]] = field(default_factory=list)
    refusals: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[int, Outcome, str]] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    def text(self) -> str:
        """The printed summary."""
        lines = [f"fuzz seed {self.seed}: {self.programs} programs, {self.nodes} nodes, "
                 f"{self.counts[MISMATCH]} mismatches, {self.counts[CRASH]} crashes, "
                 f"{self.counts[REFUSED]} refusals, {self.counts[TORCH]} disagreements with "
                 f"PyTorch, {self.counts[UNSTABLE]} ill-conditioned, {self.seconds:.1f} s"
                 + (" (interrupted)" if self.interrupted else "")]
        for reason, n in sorted(self.refusals.items(), key=lambda kv: -kv[1])[:8]:
            lines.append(f"  refused x{n}: {reason}")
        for index, detail in self.unstable:
            lines.append(f"  ill-conditioned: program {index}: {detail}")
        for index, outcome, script in self.failures:
            lines += [f"--- program {index}: {outcome.kind}: {outcome.detail}", script]
        return "\n".join(lines)


def program_seed(seed: int, index: int) -> int:
    """The seed of program ``index`` of a run (each program reproducible alone)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def fuzz(n: int, seed: int, shrink: bool = True, train_every: int = 10,
         max_nodes: int = 60, only: list[str] | None = None,
         log: Callable[[str], None] | None = None, max_failures: int = 0,
         first: int = 0, shrink_seconds: float = 600.0, batch: int = 1,
         jobs: int = 1) -> Summary:
    """Check ``n`` programs (every ``train_every``-th a training step) from ``seed``;
    ``only`` limits the op rows used; stop after ``max_failures`` failures (0: never);
    ``first`` skips to that program index (each program depends only on seed and index);
    ``batch`` programs share one jitted function (``batching.py``), in ``jobs`` processes
    (``workers.py``)."""
    from .programs import sample_templates
    from .workers import blocks, run_blocks

    templates = sample_templates()
    summary = Summary(seed)
    options = {"train_every": train_every, "max_nodes": max_nodes, "only": only,
               "shrink": shrink, "shrink_seconds": shrink_seconds, "log": log,
               "batch": batch}
    start = time.perf_counter()

    def collect(checked: list) -> bool:
        for one in checked:
            _count(summary, one)
            if log and summary.programs % 10 == 0:
                log(f"... {summary.programs} programs, {time.perf_counter() - start:.0f} s")
        return not (max_failures and len(summary.failures) >= max_failures)

    try:
        run_blocks(seed, blocks(first, n, batch), jobs, options, templates, collect)
    except KeyboardInterrupt:  # Ctrl-C / SIGINT: report what ran so far
        summary.interrupted = True
    summary.failures.sort(key=lambda failure: failure[0])
    summary.unstable.sort()
    summary.seconds = time.perf_counter() - start
    return summary


def _count(summary: Summary, checked: Checked) -> None:
    """Add one program's verdict to the summary."""
    outcome = checked.outcome
    summary.programs += 1
    summary.nodes += checked.nodes
    summary.counts[outcome.kind] += 1
    if outcome.kind == REFUSED:
        reason = outcome.detail.split(": ", 1)[-1][:100]
        summary.refusals[reason] = summary.refusals.get(reason, 0) + 1
    elif outcome.kind == UNSTABLE:
        summary.unstable.append((checked.index, outcome.detail[:200]))
    elif outcome.kind != OK:
        summary.failures.append((checked.index, outcome, checked.script))


def _rows(only: str, skip: str) -> list[str] | None:
    """The op rows of ``--ops`` (default all, and detach) minus those of ``--skip``."""
    from minigrad import ops

    from .programs import DETACH

    rows = [o for o in only.split(",") if o] or [*ops.OPS, DETACH]
    left_out = {o for o in skip.split(",") if o}
    return None if not only and not left_out else [o for o in rows if o not in left_out]


def _interrupt(signum: int, frame: Any) -> None:
    """Stop the run and print the summary so far: raised here, or (while the main process
    waits for its worker pool) flagged for the pool loop to raise (workers.STOP)."""
    from . import workers

    if workers.WAITING[0]:
        workers.STOP.set()
        return
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--n``, ``--seed`` (random when omitted, printed), ``--no-shrink``."""
    parser = argparse.ArgumentParser(prog="python -m minigrad.testing.fuzz",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="programs to check")
    parser.add_argument("--seed", default="random", help="run seed (default: random)")
    parser.add_argument("--max-nodes", type=int, default=60)
    parser.add_argument("--train-every", type=int, default=10,
                        help="every k-th program is a training step (0: none)")
    parser.add_argument("--ops", default="", help="comma-separated op rows (default: all)")
    parser.add_argument("--skip", default="", help="comma-separated op rows to leave out")
    parser.add_argument("--shrink-seconds", type=float, default=600.0)
    parser.add_argument("--first", type=int, default=0, help="index of the first program")
    parser.add_argument("--no-shrink", action="store_true")
    parser.add_argument("--max-failures", type=int, default=0, help="stop after k (0: never)")
    parser.add_argument("--batch", type=int, default=BATCH,
                        help="programs per jitted function (1: each alone)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="worker processes (default: the number of cores)")
    args = parser.parse_args(argv)
    seed = (int.from_bytes(os.urandom(4), "little") if args.seed in ("random", "")
            else int(args.seed))
    faulthandler.enable()
    signal.signal(signal.SIGTERM, _interrupt)  # kill PID: print the summary so far
    signal.signal(signal.SIGINT, _interrupt)  # Ctrl-C: the same
    # no "mg.jit: compiling" lines: with several worker processes they interleave (one
    # process's start beside another's end) and bury the run's own progress lines
    os.environ.setdefault("MINIGRAD_QUIET", "1")
    print(f"fuzz: seed {seed}, {args.n} programs, batches of {args.batch}, "
          f"{args.jobs} jobs", flush=True)
    summary = fuzz(args.n, seed, shrink=not args.no_shrink, train_every=args.train_every,
                   max_nodes=args.max_nodes, only=_rows(args.ops, args.skip),
                   shrink_seconds=args.shrink_seconds,
                   max_failures=args.max_failures, first=args.first,
                   batch=args.batch, jobs=args.jobs,
                   log=lambda line: print(line, file=sys.stderr, flush=True))
    print(summary.text(), flush=True)
    return 1 if summary.counts[MISMATCH] or summary.counts[CRASH] or summary.counts[TORCH] else 0


if __name__ == "__main__":
    sys.exit(main())
