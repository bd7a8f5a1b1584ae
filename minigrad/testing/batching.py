"""Batching for the fuzzer: K random programs checked through ONE ``mg.jit`` function.

Each program alone costs one Numba compile (~1-3 s); compiling is most of a fuzzing run.
A *block* is K consecutive program indices (``index // K``: the same block whatever the
number of workers or ``--first``). Its random (non-training) programs whose eager calls all
succeed become one wrapper function

    def batch(*tensors):  # program 0's arguments, then program 1's, ...
        return (*program_0(*tensors[0:a0]), *program_1(*tensors[a0:a0 + a1]), ...)

jitted once and called ``CALLS`` times with every program's own fresh arrays of the same
signature (the first call traces, the later ones run the kernel); each program's slice of
the results is compared with that program alone run eagerly, exactly as ``check_calls``
does for a single program. A batch that is refused, crashes or mismatches is split in
halves, each checked again as a batch, down to single programs (``check_program``: the
verdict and the shrinking of a failure are those of the program alone). A group that
fails while its halves pass is a failure of the batch itself (kernels of independent
programs interfering) and is reported on its first program with the others named.
Training programs, programs whose eager call raises and programs with float16 values
(no Numba type: their compile fails) run alone. ``fuzz.check_block`` (the path of every
run) hands a block's batchable programs (``member_of``) to ``check_group`` when
``--batch`` > 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import minigrad as mg

from .fuzz import (
    CALLS,
    CRASH,
    MISMATCH,
    OK,
    UNSTABLE,
    Outcome,
    check_program,
    check_torch,
    compare_results,
    jit_error,
    run_eager,
    run_quietly,
)
from .programs import Program, call_arrays, make_tensors, program_function

ALONE_DTYPES = ("float16",)  # numpy's result of sqrt(bool) etc.; Numba has no float16


@dataclass
class Member:
    """A program of a batch with its three calls' arrays and eager results."""

    index: int
    pseed: int
    program: Program
    fn: Callable[..., tuple]
    calls: list[list[np.ndarray]]
    expected: list[list[np.ndarray | None]]


def batch_function(members: list[Member]) -> Callable[..., tuple]:
    """One function running every member's program on its own slice of the arguments and
    returning all their results in one flat tuple."""
    fns = [m.fn for m in members]
    arities = [len(m.calls[0]) for m in members]

    def batch(*tensors: mg.Tensor) -> tuple:
        results: list[Any] = []
        start = 0
        for fn, arity in zip(fns, arities, strict=True):
            results.extend(fn(*tensors[start:start + arity]))
            start += arity
        return tuple(results)

    return batch


def member_of(index: int, pseed: int, program: Program) -> Member | None:
    """The program ready to batch, or None when it runs alone: an eager call raises (jit
    must then raise the same error type, which only ``check_calls`` checks) or a value has
    a dtype Numba has no type for (``ALONE_DTYPES``: its compile fails, and would fail
    every batch it is in)."""
    if any(node.dtype in ALONE_DTYPES for node in program.nodes):
        return None
    rng = np.random.default_rng(pseed)  # the arrays check_program would draw
    calls = [call_arrays(program, rng) for _ in range(CALLS)]
    fn = program_function(program)
    expected = []
    for arrays in calls:
        result, error = run_eager(fn, make_tensors(program, arrays))
        if error is not None:
            return None
        expected.append(result)
    return Member(index, pseed, program, fn, calls, expected)


def run_batch(members: list[Member]) -> Outcome:
    """The members through one jitted function, ``CALLS`` calls, each member's slice of
    the results compared with its eager results."""
    jitted = mg.jit(batch_function(members), background=False)
    floors = [m.program.result_floors() for m in members]
    for k in range(CALLS):
        tensors = [t for m in members for t in make_tensors(m.program, m.calls[k])]
        try:
            got = run_quietly(jitted, tensors)
        except Exception as error:
            return jit_error(k, error)
        start = 0
        for m, floor in zip(members, floors, strict=True):
            part = got[start:start + len(m.expected[k])]
            start += len(m.expected[k])
            problem = compare_results(m.expected[k], part, floor)
            if problem:
                return Outcome(MISMATCH, f"call {k}: program {m.index}: {problem}")
        if start != len(got):
            return Outcome(MISMATCH, f"call {k}: {len(got)} results, eager {start}")
    return Outcome(OK)


def check_group(members: list[Member]) -> dict[int, Outcome]:
    """Each member's outcome: the group as one batch; when that fails, its halves (down
    to single programs, checked alone by ``check_program``)."""
    if len(members) == 1:
        return {members[0].index: check_program(members[0].program, members[0].pseed)}
    outcome = run_batch(members)
    if outcome.kind == OK:
        return {m.index: check_torch(m.program, m.fn, m.calls[0]) for m in members}
    half = len(members) // 2
    found = {**check_group(members[:half]), **check_group(members[half:])}
    if outcome.kind in (MISMATCH, CRASH) and not any(
            o.kind in (MISMATCH, CRASH, UNSTABLE) for o in found.values()):
        # every part passes alone: the failure needs the batch itself
        others = ", ".join(str(m.index) for m in members[1:])
        found[members[0].index] = Outcome(
            outcome.kind, f"batched with programs {others}: {outcome.detail}")
    return found


