"""Process-wide switches: gradient mode, graph recording, random seed, hooks.

Kept in one small module so every other module reads the same flags.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np


class _State(threading.local):
    """Per-thread flags read by ``ops.apply`` on every primitive call."""

    def __init__(self) -> None:
        # Outputs require grad only when this is on and an input requires grad.
        self.grad_enabled: bool = True
        # > 0: record inputs on every new node even when nothing requires grad
        # (the backward pass uses it so its graph can be drawn; the JIT tracer too).
        self.recording: int = 0
        # The forward node whose VJP rule is running (tags the nodes it creates), and
        # which of its inputs the running backward pass wants a gradient for (None: all).
        self.current_vjp: Any = None
        self.vjp_needs: tuple[bool, ...] | None = None
        # Called with every new node (JIT tracing, anomaly checks, step logs).
        self.node_hooks: list[Callable[[Any], None]] = []
        # Called as hook(target, value) whenever Tensor.assign_ replaces state in place.
        self.assign_hooks: list[Callable[[Any, Any], None]] = []
        # Called as hook(leaf, total, previous) after backward() stores a leaf's .grad
        # (total: the gradient node; previous: the .grad it replaced or added to).
        self.grad_hooks: list[Callable[[Any, Any, Any], None]] = []
        # Called as hook(tensor) when a value is read into Python (item/float/int/bool):
        # the JIT tracer refuses such reads, which would freeze a value into compiled code.
        self.read_hooks: list[Callable[[Any], None]] = []
        # Called as hook(leaf) when zero_grad sets a leaf's .grad to None (even one that
        # was None): the JIT tracer learns that the function clears it itself.
        self.grad_clear_hooks: list[Callable[[Any], None]] = []
        # Called with the GradGraph of every backward pass (backward, grad) once it is done
        # (``minigrad draw`` keeps a script's last one).
        self.pass_hooks: list[Callable[[Any], None]] = []
        # Modules whose forward is running, outermost first (nodes are tagged with them).
        self.module_stack: list[Any] = []
        # Set by mg.jit while this thread traces a function (never seen by other threads):
        # ``rng()`` returns ``rng_guard()`` (which refuses the raw draw), and
        # ``nn.functional.rand_uniform`` draws through ``uniform_recorder(shape, dtype)``.
        self.rng_guard: Callable[[], Any] | None = None
        self.uniform_recorder: Callable[[tuple[int, ...], Any], Any] | None = None


STATE = _State()

_rng = np.random.default_rng()


def clear_grad(leaf: Any) -> None:
    """``leaf.grad = None`` (``zero_grad``'s default), told to ``STATE.grad_clear_hooks``: a
    jitted step that clears its gradients itself then needs no ``.grad is None`` guard."""
    leaf.grad = None
    for hook in STATE.grad_clear_hooks:
        hook(leaf)


def rng() -> np.random.Generator:
    """The generator behind minigrad's random initialisation and dropout (while mg.jit
    traces in this thread, ``STATE.rng_guard()`` instead: it refuses raw draws)."""
    guard = STATE.rng_guard
    if guard is not None:
        return guard()
    return _rng


def manual_seed(seed: int) -> None:
    """Seed minigrad's random generator (like ``torch.manual_seed``)."""
    global _rng
    _rng = np.random.default_rng(seed)


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Context in which no new node requires grad (like ``torch.no_grad``)."""
    previous = STATE.grad_enabled
    STATE.grad_enabled = False
    try:
        yield
    finally:
        STATE.grad_enabled = previous


@contextlib.contextmanager
def enable_grad() -> Iterator[None]:
    """Context that turns gradient tracking back on inside ``no_grad``."""
    previous = STATE.grad_enabled
    STATE.grad_enabled = True
    try:
        yield
    finally:
        STATE.grad_enabled = previous


def is_grad_enabled() -> bool:
    """Whether new nodes can require grad."""
    return STATE.grad_enabled


@contextlib.contextmanager
def recording() -> Iterator[None]:
    """Context in which every new node keeps its inputs, whether or not it requires grad."""
    STATE.recording += 1
    try:
        yield
    finally:
        STATE.recording -= 1


@contextlib.contextmanager
def node_hook(hook: Callable[[Any], None]) -> Iterator[None]:
    """Context in which ``hook(tensor)`` is called for every node created."""
    STATE.node_hooks.append(hook)
    try:
        yield
    finally:
        STATE.node_hooks.remove(hook)


# The cyclic GC is paused while backward passes run (``pause_gc``/``resume_gc``): a pass
# makes several nodes per forward node and keeps them all until it ends, so the GC's full
# collections, which rescan every tracked object, fired again and again on the growing
# graph and made the per-node cost grow with the graph (77 us at 1e5 nodes, 19 at 1e3).
# No pass makes reference cycles, so nothing is lost while it runs; the collector sees the
# survivors when it next runs. Paused passes are counted process-wide under a lock, so with
# several threads the GC is back on (if it was on) once the last pass ends.
_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


def pause_gc() -> None:
    """Turn Python's cyclic GC off until the matching ``resume_gc`` (nestable, threads)."""
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1


def resume_gc() -> None:
    """End one ``pause_gc``; the last one turns the GC back on if it was on before."""
    global _gc_pauses
    with _gc_lock:
        _gc_pauses -= 1
        if _gc_pauses == 0 and _gc_was_enabled:
            gc.enable()
