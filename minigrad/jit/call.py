"""The generated per-entry call: guards, fetches, kernel call, effects, result.

``make_call`` writes one straight-line Python function per compiled entry (``fast_call``)
spelling out, for that entry only, what ``Compiled.prepare`` / ``run`` / ``_store_effects``
do with loops: every guard (guards.py checks, argument aliasing, ``.grad`` states, the
shape and dtype of tensors read outside the arguments, bounds of runtime index tensors),
the kernel inputs (arguments made C-contiguous and native-endian), the random draws, the
kernel call, the state changes and the result. Only generated names reach the source:
every object, key and shape is bound in the function's namespace.

A failed guard returns ``miss(k)``: it records the reason ``entry.reasons[k]`` and returns
``MISS``, so the caller counts it and traces anew.
"""

from __future__ import annotations

import functools
import sys
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _state
from .._state import STATE
from ..errors import OutOfRangeError
from ..tensor import Tensor
from .guards import check_lines, describe, reason_of

if TYPE_CHECKING:
    from .entry import Compiled, Target

MISS = object()  # a compiled entry's guards do not hold for this call


class Failed:
    """What ``fast_call`` returns when its index checks or its kernel raised (before any
    state changed): the caller runs fn eagerly, so the error is eager's own - the kernel
    runs fused loops in another order than eager's ops and may meet another bad value
    first (a zero divisor before a singular matrix)."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error
LOOKUP_ERRORS = (KeyError, IndexError, AttributeError, ValueError, TypeError)


def leaf(array: np.ndarray) -> Tensor:
    """A history-free result tensor around ``array`` (no copy)."""
    return Tensor._node(array, None, (), {}, False, None)  # type: ignore[arg-type]


def _sole_grad_refcount() -> int:
    """sys.getrefcount of a gradient tensor held only by its leaf's ``.grad`` and by the
    entry's list of the gradients it stored, read as the generated call reads it."""
    owner = leaf(np.empty(1))
    stored = [leaf(np.empty(1))]
    owner.grad = stored[0]
    for mine in stored:
        old = owner.grad
        if old is mine:
            return sys.getrefcount(old)
    return 0


def _sole_result_refcount() -> int:
    """sys.getrefcount of a returned tensor the caller dropped (held only by the entry's
    one-item list), read as the generated call reads it."""
    returned = [leaf(np.empty(1))]
    old = returned[0]
    return sys.getrefcount(old)


SOLE_GRAD_REFCOUNT = _sole_grad_refcount()
SOLE_RESULT_REFCOUNT = _sole_result_refcount()


def check_index(array: np.ndarray, extent: int, axis: int, shape: tuple) -> None:
    """Raise eager's IndexError (``ops.index``'s wording) when a runtime index tensor
    leaves [-extent, extent) on ``axis`` of a tensor of ``shape``."""
    if array.size and (array.min() < -extent or array.max() >= extent):
        bad = array.max() if array.max() >= extent else array.min()
        raise OutOfRangeError(f"index: index {int(bad)} is out of bounds for axis {axis} with "
                              f"size {extent} (tensor shape {shape})")


class Namespace:
    """The generated function's globals: ``bind`` gives an object a generated name."""

    def __init__(self, entry: Compiled) -> None:
        # The entry through a weak proxy: the entry holds this function, so a strong
        # reference would make a cycle and the entry would outlive its jit function until
        # the cyclic collector runs.
        proxy = weakref.proxy(entry)
        self.env: dict[str, Any] = {
            "np": np, "STATE": STATE, "MISS": MISS, "leaf": leaf, "kernel": entry.kernel,
            "entry": proxy, "stored": entry.stored_grads, "getrefcount": sys.getrefcount,
            "weakrefs": weakref.getweakrefcount, "SOLE": SOLE_GRAD_REFCOUNT,
            "threads_begin": entry.threads.begin, "threads_end": entry.threads.end,
            "clock": time.perf_counter,
            "miss": functools.partial(type(entry).record_miss, proxy),
            "LOOKUP_ERRORS": LOOKUP_ERRORS, "check_index": check_index, "rng": _state.rng,
            "Failed": Failed,
        }
        self.reasons = entry.reasons

    def bind(self, prefix: str, obj: Any) -> str:
        name = f"{prefix}{len(self.env)}"
        self.env[name] = obj
        return name

    def tensor(self, ref: Target) -> str:
        return f"tensors[{ref}]" if type(ref) is int else self.bind("t", ref)

    def reason(self, counter: str, text: str) -> int:
        self.reasons.append((counter, text))
        return len(self.reasons) - 1


def guard_lines(entry: Compiled, ns: Namespace) -> list[str]:
    """The guards, as lines of a function body (4 spaces): ``.grad`` states, object
    checks in a ``try``, argument aliasing."""
    lines: list[str] = []
    for target in entry.guards_grad_none:  # first: what tells a step's two entries apart
        k = ns.reason("grad", "a .grad the trace found None is set")
        lines += [f"    if {ns.tensor(target)}.grad is not None:", f"        return miss({k})"]
    if entry.checks:
        body = check_lines(entry.checks, ns.bind, len(ns.reasons))
        ns.reasons.extend((reason_of(c), describe(c)) for c in entry.checks)
        gone = ns.reason("identity", "an object the trace reached is gone")
        lines += ["    try:", *body, "    except LOOKUP_ERRORS:", f"        return miss({gone})"]
    for i, j in entry.same_args:
        k = ns.reason("arguments", f"arguments {i} and {j} were one tensor when traced")
        lines += [f"    if tensors[{i}] is not tensors[{j}]:", f"        return miss({k})"]
    if entry.distinct_args:
        k = ns.reason("arguments", "the same tensor was passed as two arguments")
        lines += [f"    if len(set(map(id, tensors))) != {entry.distinct_args}:",
                  f"        return miss({k})"]
    return lines


def fetch_lines(entry: Compiled, ns: Namespace) -> tuple[list[str], list[str]]:
    """(lines reading every kernel input into ``a<k>``, the kernel's input names)."""
    lines, args = [], []
    for k, (kind, ref, shape, dtype, traced) in enumerate(entry.fetch):
        if kind == 3:  # a random draw, made after every guard held
            args.append(f"u{ref}")
            continue
        name = f"a{k}"
        if kind == 0:
            lines += [f"    {name} = tensors[{ref}].data"]
        elif kind == 1:
            lines += [f"    {name} = {ns.tensor(ref)}.data"]
        else:
            gone = ns.reason("grad", "a .grad the trace read is None")
            lines += [f"    g = {ns.tensor(ref)}.grad", "    if g is None:",
                      f"        return miss({gone})", f"    {name} = g.data"]
        if kind != 0:  # an argument's shape and dtype are in the cache key
            k_shape = ns.reason("shape", "a tensor read outside the arguments changed shape "
                                "or dtype")
            want, was = ns.bind("s", shape), ns.bind("d", traced)
            lines += [f"    if {name}.shape != {want} or ({name}.dtype is not {was} and "
                      f"{name}.dtype != {was}):", f"        return miss({k_shape})"]
        if traced is not dtype:  # traced in non-native byte order: a native copy
            lines.append(f"    {name} = np.ascontiguousarray({name}, {ns.bind('d', dtype)})")
        elif kind == 0:
            lines += [f"    if not {name}.flags.c_contiguous:",
                      f"        {name} = np.ascontiguousarray({name})"]
        if not shape:
            lines.append(f"    {name} = {name}.reshape(1)")
        args.append(name)
    for ref, extent, axis, shape in entry.index_checks:
        lines.append(f"    check_index({ns.tensor(ref)}.data, {int(extent)}, {int(axis)}, "
                     f"{ns.bind('s', tuple(shape))})")
    return lines, args


def draw_lines(entry: Compiled, ns: Namespace) -> list[str]:
    """Draw the entry's random inputs ``u0, u1, ...`` in trace order (after every guard, so
    a call that misses draws nothing); no lines for an entry without draws."""
    if not entry.draws:
        return []
    lines = ["    gen = rng()"]
    for j, (shape, dtype) in enumerate(entry.draws):
        reshape = "" if shape else ".reshape(1)"
        lines.append(f"    u{j} = gen.random({ns.bind('s', shape)}, "
                     f"dtype={ns.bind('d', dtype)}){reshape}")
    return lines


def effect_lines(entry: Compiled, ns: Namespace) -> list[str]:
    """Assigned values into their tensors, gradients into ``.grad``, cleared ``.grad``."""
    lines = []
    for ref, pos, shape, copy in entry.assigns:
        lines.append(f"    {ns.tensor(ref)}.data = {_value(pos, shape, copy, ns)}")
    for k, (ref, pos, shape, copy) in enumerate(entry.grad_stores):
        target, value = ns.tensor(ref), _value(pos, shape, copy, ns)
        lines += [f"    old = {target}.grad", f"    mine = stored[{k}]",
                  "    if (old is mine and old is not None and getrefcount(old) <= SOLE",
                  "            and not weakrefs(old)):",
                  f"        old.data = {value}", "    else:",
                  f"        stored[{k}] = {target}.grad = leaf({value})"]
    for ref in entry.grad_clears:
        lines.append(f"    {ns.tensor(ref)}.grad = None")
    return lines


def make_call(entry: Compiled) -> tuple[Callable[[list[Tensor]], Any],
                                         Callable[[list[Tensor]], Any]]:
    """(``fast_call(tensors)``: the whole call, or MISS; ``check(tensors)``: the guards
    only, None when they hold, else MISS) for ``entry``."""
    ns = Namespace(entry)
    guards = guard_lines(entry, ns)
    fetches, args = fetch_lines(entry, ns)
    check = _define("check", [*guards, *fetches, "    return None"], ns.env)
    lines = ["    if STATE.assign_hooks:", "        return entry.run_generic(tensors)",
             *guards]
    inputs = list(args)
    args += [ns.bind("c", constant) for constant in entry.constants]
    if entry.buffers:
        args.append("*entry.lend_buffers()")
    # A kernel with threads of its own runs in the setting tune.CallThreads picks (tk[0]:
    # its thread count), timed; any other on one thread.
    threads = "tk[0]" if entry.adapt_threads else "1"
    args.append(threads)
    run = [f"    r = kernel({', '.join(args)})"]
    if entry.fallback is not None:  # shifted sums not finite: the kernel without them
        run += [f"    if r[{entry.check_pos}]:",
                f"        r = {ns.bind('f', entry.fallback.run)}([{', '.join(inputs)}], "
                f"{threads})"]
    if entry.adapt_threads:
        run = ["    tk = threads_begin()", "    took = None", "    try:",
               "        start = clock()", *("    " + line for line in run),
               "        took = clock() - start", "    finally:", "        threads_end(tk, took)"]
    body = [*fetches, *draw_lines(entry, ns), *run]
    lines += ["    try:", *("    " + line for line in body), "    except Exception as error:",
              "        return Failed(error)"]  # nothing changed yet: eager decides
    lines += effect_lines(entry, ns)
    if entry.plain_output is None:
        lines.append("    return entry.build_output(tensors, r)")
        return _define("fast_call", lines, ns.env), check
    pos, shape = entry.plain_output  # one computed tensor: the last one if the caller let go
    value = _value(pos, shape, False, ns)
    lines += ["    old = returned[0]",
              "    if old is not None and getrefcount(old) <= SOLE_RESULT and not weakrefs(old):",
              f"        old.data = {value}", "        return old",
              f"    returned[0] = leaf({value})", "    return returned[0]"]
    ns.env.update(returned=[None], SOLE_RESULT=SOLE_RESULT_REFCOUNT)
    return _define("fast_call", lines, ns.env), check


def _define(name: str, body: list[str], env: dict[str, Any]) -> Callable[..., Any]:
    """The function ``name(tensors)`` with ``body``, with ``env`` as its globals."""
    exec("\n".join([f"def {name}(tensors):", *body]) + "\n", env)  # generated names only
    return env[name]


def _value(pos: int, shape: tuple | None, copy: bool, ns: Namespace) -> str:
    """The expression of kernel result ``pos`` (reshaped to a 0-d shape, copied)."""
    value = f"r[{pos}]" if shape is None else f"r[{pos}].reshape({ns.bind('s', shape)})"
    return f"{value}.copy()" if copy else value
