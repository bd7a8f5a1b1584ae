"""The fuzzer's blocks of programs in worker processes (``--jobs J``).

Blocks (``fuzz.check_block``: K consecutive indices, ``index // K``) go to J spawned
processes, at most 2·J at a time, each process with ``NUMBA_NUM_THREADS=1`` (the kernels
are tiny; J processes fill J cores). Every program depends only on (seed, index) and its
block only on the index, so the verdicts do not depend on J. ``J = 1`` runs in this
process (what the tests use: a monkeypatched op row is seen). A worker that dies (a
segfault in a kernel) breaks the pool: its blocks in flight are rerun one at a time, each
in a fresh process, and the block whose process dies again is a crash of its programs.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .fuzz import CRASH, Checked, Outcome, check_block

_templates: dict | None = None


# Ctrl-C / SIGTERM while the main process waits for the pool: fuzz's handler sets STOP
# instead of raising there (a KeyboardInterrupt inside the wait's Condition left its lock
# released and surfaced as "RuntimeError: release unlocked lock", losing the summary).
WAITING = [False]
STOP = threading.Event()


def blocks(first: int, n: int, size: int) -> list[list[int]]:
    """Indices ``first .. first + n - 1`` grouped by block."""
    found: dict[int, list[int]] = {}
    for index in range(first, first + n):
        found.setdefault(index // max(size, 1), []).append(index)  # whatever J or --first
    return list(found.values())


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def work(seed: int, indices: list[int], options: dict) -> list[Checked]:
    """One block in a worker process (the op templates made once per process)."""
    global _templates
    if _templates is None:
        from .programs import sample_templates
        _templates = sample_templates()
    return check_block(seed, indices, _templates, {**options, "log": _log})


def run_blocks(seed: int, todo: list[list[int]], jobs: int, options: dict,
               templates: dict, collect: Callable[[list[Checked]], bool]) -> None:
    """Check every block; ``collect`` gets each block's verdicts (any order) and returns
    False to stop early."""
    if jobs <= 1:
        for indices in todo:
            if not collect(check_block(seed, indices, templates, options)):
                return
        return
    shipped = {k: v for k, v in options.items() if k != "log"}  # a lambda does not pickle
    pending = list(reversed(todo))
    while pending:
        lost = _run_pool(seed, pending, jobs, shipped, collect)
        if lost is None:
            return
        for indices in lost:  # one at a time: which block kills its process?
            single = [indices]
            if _run_pool(seed, single, 1, shipped, collect) is not None:
                collect([Checked(i, 0, Outcome(CRASH, "the worker process died (a segfault?)"),
                                 f"# rerun alone: --first {i} --n 1 --jobs 1") for i in indices])


def _run_pool(seed: int, pending: list[list[int]], jobs: int, options: dict,
              collect: Callable[[list[Checked]], bool]) -> list[list[int]] | None:
    """Blocks from ``pending`` (popped) through a pool; the blocks in flight when a worker
    died, or None when all ran (or ``collect`` stopped the run)."""
    running: dict[Future, list[int]] = {}
    with _single_threaded_numba(), ProcessPoolExecutor(
            jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            while pending or running:
                while pending and len(running) < 2 * jobs:
                    indices = pending.pop()
                    running[pool.submit(work, seed, indices, options)] = indices
                WAITING[0] = True
                try:
                    done, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                finally:
                    WAITING[0] = False
                if STOP.is_set():
                    raise KeyboardInterrupt
                for future in done:
                    indices = running.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        return [indices, *running.values()]
                    if not collect(result):
                        _cancel(pool, running)
                        return None
        except BaseException:
            _cancel(pool, running)
            raise
    return None


def _cancel(pool: ProcessPoolExecutor, running: dict[Future, Any]) -> None:
    for future in running:
        future.cancel()
    for process in list(getattr(pool, "_processes", {}).values()):
        process.terminate()  # our own workers, by object: stop their current block


@contextlib.contextmanager
def _single_threaded_numba() -> Iterator[None]:
    """``NUMBA_NUM_THREADS=1`` in the environment the workers are spawned with."""
    before = os.environ.get("NUMBA_NUM_THREADS")
    os.environ["NUMBA_NUM_THREADS"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("NUMBA_NUM_THREADS", None)
        else:
            os.environ["NUMBA_NUM_THREADS"] = before
