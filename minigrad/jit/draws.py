"""Random numbers fn draws outside minigrad while it is traced: refused.

The compiled code cannot repeat a draw from Python's ``random``, numpy's global generator
(``np.random.rand``) or a generator object fn reaches (``rng = np.random.default_rng()`` in
a global, a closure, an attribute of ``self``): it would bake the traced call's numbers in
and return them at every later call. The generators are found before the trace (the
function's globals, closure cells, defaults, bound ``self`` and fixed arguments, and their
attributes and items, ``NEAR`` levels down) and their states compared after it; a state that moved
is refused with a ``NotCompilableError``. While the trace runs (and no profiler is
installed), a profile hook also refuses calls from outside minigrad to the clock functions
(``time.time``, ``time.perf_counter``, ``datetime.now``...), ``os.urandom`` (``uuid4``,
``secrets``) and any method of a generator object: their values would be frozen too. Whose
call it is: the nearest frame up the stack that is neither Numba's compiler nor the
standard library decides (an eager op compiling its Numba helper on first use reads the
clock through Numba's compile events: minigrad's call, not fn's).
Draws through ``mg.manual_seed``'s generator are handled by the tracer (dropout's numbers
are redrawn at every call; other draws refused).
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import os
import pickle
import random
import sys
import sysconfig
import threading
import time
import types
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..tensor import Tensor
from .guards import NEAR, roots
from .ir import NotCompilableError

GENERATORS = (np.random.Generator, np.random.RandomState, random.Random)
# C functions whose result changes from call to call without an argument saying so
CLOCKS = {
    time.time: "time.time", time.time_ns: "time.time_ns",
    time.perf_counter: "time.perf_counter", time.perf_counter_ns: "time.perf_counter_ns",
    time.monotonic: "time.monotonic", time.monotonic_ns: "time.monotonic_ns",
    time.process_time: "time.process_time", time.thread_time: "time.thread_time",
    datetime.datetime.now: "datetime.now", datetime.datetime.utcnow: "datetime.utcnow",
    datetime.datetime.today: "datetime.today", datetime.date.today: "date.today",
    os.urandom: "os.urandom (uuid4, secrets)",
}


def generators(fn: Any, fixed: list[Any]) -> list[tuple[str, Any]]:
    """(what it is, generator) for each random generator fn may draw from."""
    found: dict[int, tuple[str, Any]] = {
        id(random._inst): ("Python's random module", random._inst),  # type: ignore[attr-defined]
        id(np.random.mtrand._rand): ("numpy's global generator (np.random.*)",
                                     np.random.mtrand._rand),
    }
    near = {id(obj): obj for _, obj in roots(fn, fixed)}
    layer = list(near.values())
    for _ in range(NEAR):  # attributes and items of what fn names, NEAR levels down
        layer = [child for obj in layer for child in _held(obj) if id(child) not in near]
        near.update((id(child), child) for child in layer)
    for obj in near.values():
        if isinstance(obj, GENERATORS) and id(obj) not in found:
            found[id(obj)] = (f"a {type(obj).__name__} object fn reaches", obj)
    return list(found.values())


def _held(obj: Any) -> list[Any]:
    """What ``obj`` holds one level down (attributes, dict values, list and tuple items;
    not inside tensors, arrays, modules of Python or classes)."""
    if isinstance(obj, Tensor | np.ndarray | types.ModuleType | type):
        return []
    if isinstance(obj, dict):
        return list(obj.values())
    if isinstance(obj, list | tuple):
        return list(obj)
    attrs = getattr(obj, "__dict__", None)
    return list(attrs.values()) if isinstance(attrs, dict) else []


def states(found: list[tuple[str, Any]]) -> list[bytes]:
    """Each generator's state, as bytes to compare."""
    return [pickle.dumps(_state(gen)) for _, gen in found]


def _state(gen: Any) -> Any:
    if isinstance(gen, np.random.Generator):
        return gen.bit_generator.state
    if isinstance(gen, np.random.RandomState):
        return gen.get_state(legacy=False)
    return gen.getstate()


def refuse_draws(found: list[tuple[str, Any]], before: list[bytes]) -> None:
    """Raise when a generator's state moved since ``before`` (``states``)."""
    for (what, _), then, now in zip(found, before, states(found), strict=True):
        if then != now:
            raise NotCompilableError(
                f"fn drew random numbers from {what} while tracing for mg.jit; the compiled "
                "function would return the same numbers at every call. Draw them outside fn "
                "and pass them as arguments, or use minigrad's dropout (redrawn at every "
                "call from mg.manual_seed's generator)")


@contextlib.contextmanager
def refusing_impure_calls() -> Iterator[None]:
    """While the block runs in this thread, a call from code outside minigrad to a clock,
    ``os.urandom`` or a generator's method raises ``NotCompilableError`` (skipped when a
    profiler is installed: its hook stays). Calls from garbage-collection callbacks that
    run meanwhile (``gc.callbacks``: hypothesis times collections) are not fn's: two
    callbacks of ours, first and last in the list, mark when a collection runs."""
    if sys.getprofile() is not None:
        yield
        return
    gc.callbacks.insert(0, _gc_starts)  # first at a collection's start, last at its stop
    gc.callbacks.append(_gc_stops)
    sys.setprofile(_on_call)
    try:
        yield
    finally:
        sys.setprofile(None)
        for callback in (_gc_starts, _gc_stops):
            if callback in gc.callbacks:
                gc.callbacks.remove(callback)


_collecting = threading.local()  # .now: a garbage collection runs in this thread


def _gc_starts(phase: str, info: dict) -> None:
    if phase == "start":
        _collecting.now = True


def _gc_stops(phase: str, info: dict) -> None:
    if phase == "stop":
        _collecting.now = False


def _on_call(frame: Any, event: str, arg: Any) -> None:
    if event != "c_call":
        return
    what = CLOCKS.get(arg) if type(arg).__hash__ is not None else None
    owner = getattr(arg, "__self__", None)
    if what is None and isinstance(owner, GENERATORS):
        what = f"{type(owner).__name__}.{getattr(arg, '__name__', '?')} (a random draw)"
    if what is None:
        return
    if getattr(_collecting, "now", False) or _called_for_minigrad(frame):
        return  # not fn: minigrad, or a gc callback (hypothesis times collections)
    sys.setprofile(None)  # the error unwinds through the trace: no more events
    raise NotCompilableError(
        f"fn called {what} while tracing for mg.jit; the compiled function would reuse "
        "the value it returned then at every call. Compute it outside fn and pass it as an "
        "argument (random numbers: or use minigrad's dropout, redrawn at every call)")


# Code between a call and the frame whose call it is: Numba compiling (its compile events
# read time.perf_counter) and the standard library (contextlib, random.py, ...).
_IN_BETWEEN_PACKAGES = frozenset({"numba", "llvmlite"})
_STDLIB = sysconfig.get_paths()["stdlib"]


def _called_for_minigrad(frame: Any) -> bool:
    """Whether the nearest frame from ``frame`` up that is neither Numba's nor the standard
    library's is minigrad's: the clock or generator call is then minigrad's own (an eager
    op's Numba helper compiled on its first use, dropout's draws), not fn's."""
    while frame is not None:
        package = frame.f_globals.get("__name__", "").partition(".")[0]
        if package == "minigrad":
            return True
        if package not in _IN_BETWEEN_PACKAGES and not frame.f_code.co_filename.startswith(
                (_STDLIB, "<frozen ")):  # <frozen importlib._bootstrap>: imports
            return False
        frame = frame.f_back
    return False
