"""``mg.jit``: trace once per signature, compile to one Numba function, run that after.

The signature of a call (the cache key) is the structure of its arguments, every tensor
argument's shape, dtype and ``requires_grad``, the non-tensor arguments' values, and
whether gradients are enabled. Each compiled entry also has *guards*, checked on every
call by its generated call (call.py): the identity of every object on the way to the
tensors and modules the trace used outside the arguments, their ``requires_grad``, shapes
and dtypes, every reached module's ``training`` flag (guards.py), argument aliasing, and
the ``.grad`` state the trace assumed. A call whose guards fail traces and compiles anew
(``MINIGRAD_DEBUG=1`` says which guard failed; ``fn.stats()`` counts them); a kernel is
never run on anything it was not traced for.

Random draws the trace recorded (``nn.functional.rand_uniform``, dropout's mask) are made
at every call, after the guards hold and right before the kernel runs, in trace order and
with the numpy call eager makes, so a seeded run draws the same numbers as eager.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import os
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from .._state import STATE
from ..dtypes import DEFAULT_DTYPE
from ..nn.module import Module
from ..tensor import Tensor
from ..tensor_hooks import HOOKED
from . import blas, draws
from .call import MISS, Failed, make_call
from .codegen import Kernel, generate
from .entry import Compiled, Fallback, Target, compile_kernel
from .guards import build_guards, reachable_tensors
from .ir import Graph, NotCompilableError
from .lower import lower
from .progress import announce_slow
from .trace import Trace, Tracer, tracing
from .worker import compile_in_child

RETRACE_LIMIT = 8  # traces of one function before a warning; entries kept per signature


# ------------------------------------------------------------------- argument structure
def flatten_args(args: tuple, kwargs: dict) -> tuple[Any, list[Tensor], tuple, dict]:
    """(hashable spec, tensor leaves, args, kwargs): numpy arrays become Tensor leaves."""
    if not kwargs:  # the common case, Tensor arguments only: fast
        fast_spec = []
        for a in args:
            if type(a) is not Tensor:
                break
            data = a.data
            fast_spec.append((data.shape, data.dtype, a.requires_grad))
        else:
            return tuple(fast_spec), list(args), args, kwargs
    tensors: list[Tensor] = []

    def walk(obj: Any) -> tuple[Any, Any]:
        if isinstance(obj, np.ndarray):
            obj = Tensor(obj)
        if isinstance(obj, Tensor):
            tensors.append(obj)
            return ("T", obj.shape, obj.dtype.str, obj.requires_grad), obj
        if isinstance(obj, list | tuple):
            parts = [walk(item) for item in obj]
            rebuilt = type(obj)(p[1] for p in parts) if isinstance(obj, tuple) else [
                p[1] for p in parts]
            return (type(obj).__name__, tuple(p[0] for p in parts)), rebuilt
        if isinstance(obj, dict):
            keys = sorted(obj, key=repr)
            parts = {k: walk(obj[k]) for k in keys}
            return ("dict", tuple((repr(k), parts[k][0]) for k in keys)), {
                k: parts[k][1] for k in obj}
        if isinstance(obj, Module):
            return ("M", id(obj)), obj
        try:
            hash(obj)
        except TypeError:
            raise NotCompilableError(
                f"mg.jit: argument of type {type(obj).__name__} is neither a Tensor nor a "
                "hashable constant"
            ) from None
        return ("C", type(obj).__name__, obj), obj

    spec, (new_args, new_kwargs) = walk((tuple(args), dict(kwargs)))
    return spec, tensors, new_args, new_kwargs


def flatten_output(result: Any) -> tuple[Any, list[Tensor]]:
    """(structure with placeholders, the Tensors in it) for fn's return value."""
    tensors: list[Tensor] = []

    def walk(obj: Any) -> Any:
        if isinstance(obj, Tensor):
            tensors.append(obj)
            return ("T", len(tensors) - 1)
        if isinstance(obj, list | tuple):
            return (type(obj), [walk(item) for item in obj])
        if isinstance(obj, dict):
            return (dict, [(k, walk(v)) for k, v in obj.items()])
        if obj is None or isinstance(obj, str | bool):
            return ("C", obj)
        raise NotCompilableError(
            f"mg.jit: the function returned a {type(obj).__name__}; return Tensors (a Python "
            "number computed from tensors would be frozen at its traced value)"
        )

    return walk(result), tensors


# --------------------------------------------------------------------------- jit proper
class JitFunction:
    """A function compiled per signature; call it like the original."""

    def __init__(self, fn: Callable[..., Any], parallel: bool = True,
                 background: bool | None = None) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.parallel = parallel
        self.background = background
        self.pending: dict[Any, threading.Thread] = {}  # key -> its compile in the background
        self.failed: dict[Any, BaseException] = {}  # key -> its background compile's error
        self.entries: dict[Any, list[Compiled]] = {}
        self.trace_count = 0
        self.compile_count = 0
        self.calls = 0
        self.kernel_errors = 0  # compiled calls that raised (then fn ran eagerly)
        self.kernel_errors_eager_passed = 0  # ... and eager did not raise
        self.guard_failures: collections.Counter[str] = collections.Counter()
        self.last: Compiled | None = None
        self._warned_hooks = False
        self._lock = threading.RLock()  # one trace + compile at a time per function
        self._warned = False

    @property
    def source(self) -> str | None:
        """The generated Numba source of the most recently compiled signature."""
        return self.last.source if self.last else None

    @property
    def plan(self) -> str | None:
        """The kernel plan (which nodes fused into which loop) of the latest signature."""
        return self.last.plan if self.last else None

    def stats(self) -> dict[str, Any]:
        """Calls, traces, compiles, guard failures by reason, cached entries, compiled calls
        that raised (eager then ran) and those of them where eager did not raise, and the
        thread setting of the last compiled kernel (its median call time per setting)."""
        return {"calls": self.calls, "traces": self.trace_count,
                "compiles": self.compile_count,
                "guard_failures": dict(self.guard_failures),
                "cache_entries": sum(len(v) for v in self.entries.values()),
                "kernel_errors": self.kernel_errors,
                "kernel_errors_eager_passed": self.kernel_errors_eager_passed,
                "threads": self.last.threads.tuner.summary() if self.last else None}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if STATE.node_hooks:  # a trace or anomaly detection listens: run eagerly for it
            return self.fn(*args, **kwargs)
        if HOOKED[0]:  # a tensor hook could be added or removed unseen by a trace
            return self._eager_while_hooked(args, kwargs)
        self.calls += 1
        spec, tensors, args, kwargs = flatten_args(args, kwargs)
        key = (spec, STATE.grad_enabled, DEFAULT_DTYPE[0])  # both change what a trace does
        entries = self.entries.get(key)
        if entries:
            result = entries[0].fast(tensors)  # type: ignore[misc]
            if result is not MISS:
                if type(result) is Failed:
                    return self._eager_after(result.error, args, kwargs)
                return result
            for entry in entries[1:]:  # a copy: another thread may change the list
                result = entry.fast(tensors)  # type: ignore[misc]
                if result is not MISS:
                    self._to_front(entries, entry)
                    if type(result) is Failed:
                        return self._eager_after(result.error, args, kwargs)
                    return result
        if key in self.pending:  # compiling in the background: eager meanwhile
            return self.fn(*args, **kwargs)
        return self._miss(key, tensors, args, kwargs)

    def _eager_after(self, error: BaseException, args: tuple, kwargs: dict) -> Any:
        """The compiled call raised ``error`` before changing anything: fn runs eagerly, so
        the caller gets eager's own error (type and words). Should eager not raise, its
        result is returned with a RuntimeWarning: the kernel was wrong to raise (counted
        in ``stats()['kernel_errors_eager_passed']``; the fuzzer fails on it)."""
        self.kernel_errors += 1
        try:
            result = self.fn(*args, **kwargs)
        except Exception as eager_error:
            raise eager_error from None  # eager's error alone, not chained to the kernel's
        self.kernel_errors_eager_passed += 1
        warnings.warn(f"mg.jit: the compiled {self._name()} raised {type(error).__name__}: "
                      f"{error} where eager did not; eager's result is returned",
                      RuntimeWarning, stacklevel=3)
        return result

    def wait(self) -> None:
        """Block until every compile running in the background is done."""
        for thread in list(self.pending.values()):
            thread.join()

    def _eager_while_hooked(self, args: tuple, kwargs: dict) -> Any:
        """Run ``fn`` eagerly (a tensor has a gradient hook or retains its gradient: the
        compiled code would not see one registered or removed after tracing)."""
        if not self._warned_hooks:
            self._warned_hooks = True
            name = getattr(self.fn, "__name__", "fn")
            warnings.warn(f"mg.jit: {name} runs eagerly while tensors have gradient "
                          "hooks (register_hook) or retain_grad(); remove them (handle.remove()"
                          ", or let the tensors go) to use the compiled code", stacklevel=3)
        return self.fn(*args, **kwargs)

    def _to_front(self, entries: list[Compiled], entry: Compiled) -> None:
        """Most recently used first: the next call tries ``entry`` first. Skipped while
        another thread holds the lock (compiling): the order only saves time."""
        if self._lock.acquire(blocking=False):
            try:
                at = next((k for k, e in enumerate(entries) if e is entry), None)
                if at is not None:  # by identity (entries are dataclasses holding arrays)
                    entries.insert(0, entries.pop(at))
            finally:
                self._lock.release()

    def _miss(self, key: Any, tensors: list[Tensor], args: tuple, kwargs: dict) -> Any:
        """No entry's guards hold: retry under the lock (another thread may have compiled
        this signature meanwhile), count why, then trace and compile."""
        with self._lock:
            entries = list(self.entries.get(key, ()))  # most recently used first
            result = MISS
            for entry in entries:
                result = entry.fast(tensors)  # type: ignore[misc]
                if result is not MISS:
                    break
            compiling = key in self.pending
        if result is not MISS:
            if type(result) is Failed:
                return self._eager_after(result.error, args, kwargs)
            return result
        if compiling:  # another call's trace compiles in the background: eager meanwhile
            return self.fn(*args, **kwargs)
        with self._lock:
            if key in self.failed:  # the background compile of this signature failed
                raise self.failed.pop(key)
            reasons = [entry.reasons[entry.failed] for entry in entries if entry.failed >= 0]
            for counter, _ in reasons[:1]:
                self.guard_failures[counter] += 1
            why = (f"guard failed: {reasons[0][1]}" if reasons else "new signature")
            if os.environ.get("MINIGRAD_DEBUG"):
                print(f"=== mg.jit {self._name()}: tracing ({why})", file=sys.stderr)
            if self.trace_count >= RETRACE_LIMIT and reasons and not self._warned:
                self._warned = True
                warnings.warn(
                    f"mg.jit: {self._name()} was traced {self.trace_count + 1} times (last "
                    f"{why}); every trace compiles anew. See {self._name()}.stats() and "
                    "MINIGRAD_DEBUG=1", RuntimeWarning, stacklevel=3)
            return self._trace_and_compile(key, tensors, args, kwargs)

    def _name(self) -> str:
        return getattr(self.fn, "__qualname__", type(self.fn).__name__)

    def _trace_and_compile(self, key: Any, tensors: list[Tensor], args: tuple,
                           kwargs: dict) -> Any:
        """Run fn eagerly under the tracer (that call's result is returned), then compile."""
        tracer = Tracer(tensors)
        self.trace_count += 1
        rngs = draws.generators(self.fn, _objects_in((*args, *kwargs.values())))
        rng_states = draws.states(rngs)
        with tracing(tracer), draws.refusing_impure_calls():
            result = self.fn(*args, **kwargs)
            out_spec, out_tensors = flatten_output(result)
            out_refs = [tracer.ref(t) for t in out_tensors]
        draws.refuse_draws(rngs, rng_states)
        touched = [t for kind, t in tracer.trace.sources if kind == "state"] + tensors
        kept = reachable_tensors(self.fn, _objects_in((*args, *kwargs.values())))
        trace = tracer.finish(touched, kept)
        entry = self._compile(trace, tracer, out_spec, out_tensors, out_refs, tensors,
                              (*args, *kwargs.values()))
        if not self._in_background():
            self._finish(key, entry)
            return result
        thread = threading.Thread(target=self._finish_in_background, args=(key, entry),
                                  name=f"mg.jit compile {self._name()}", daemon=True)
        self.pending[key] = thread
        thread.start()
        return result

    def _in_background(self) -> bool:
        """Whether Numba compiles while later calls run eagerly (``background=``, else
        ``MINIGRAD_JIT_BACKGROUND``: on unless it is 0)."""
        if self.background is not None:
            return self.background
        return os.environ.get("MINIGRAD_JIT_BACKGROUND", "1") != "0"

    def _finish(self, key: Any, entry: Compiled, announce: bool = True) -> None:
        """Compile the entry's kernel (or load it from the disk cache) and install it."""
        with announce_slow(entry.what) if announce else contextlib.nullcontext():
            module, entry.path = compile_kernel(entry.source, entry.signature)
        entry.kernel = module.kernel
        if os.environ.get("MINIGRAD_DEBUG"):
            print(f"=== mg.jit {self._name()}: compiled {entry.path}", file=sys.stderr)
        entry.fast, entry.check = make_call(entry)
        with self._lock:
            self.compile_count += 1
            entries = self.entries.setdefault(key, [])
            entries.insert(0, entry)
            if len(entries) > RETRACE_LIMIT:  # the least recently used of a signature that
                entries.pop()  # keeps retracing
            self.last = entry

    def _finish_in_background(self, key: Any, entry: Compiled) -> None:
        """``_finish`` on a thread of its own, after a child process compiled the kernel
        into the disk cache (``worker.py``: the calls running eagerly meanwhile keep the
        GIL); an error is raised by the next call."""
        try:
            with announce_slow(entry.what):
                in_child = compile_in_child(entry.source, entry.signature)
            entry.compiled_in_child = in_child
            self._finish(key, entry, announce=not in_child)
        except BaseException as error:
            self.failed[key] = error
        finally:
            self.pending.pop(key, None)

    def _compile(self, trace: Trace, tracer: Tracer, out_spec: Any, out_tensors: list[Tensor],
                 out_refs: list[int], tensors: list[Tensor], module_args: tuple) -> Compiled:
        graph = trace.graph
        arg_ids = {id(t): k for k, t in enumerate(tensors)}
        state_ids = {id(t) for kind, t in trace.sources if kind == "state"}
        outputs: list[tuple[str, Any, tuple | None]] = []
        roots: list[int] = []
        for tensor, vid in zip(out_tensors, out_refs, strict=True):
            is_input = graph[vid].op == "input"
            if is_input and id(tensor) in arg_ids:
                outputs.append(("arg", arg_ids[id(tensor)], ()))
            elif id(tensor) in state_ids or (
                    is_input and trace.sources[graph[vid].attrs["slot"]][0] == "state"):
                outputs.append(("object", tensor, ()))
            else:
                outputs.append(("value", len(roots), _reshape_to(tensor.shape)))
                roots.append(vid)

        def target(tensor: Tensor) -> Target:
            return arg_ids.get(id(tensor), tensor)

        effects = [(target(t), vid) for t, vid in trace.assigns + trace.grad_stores]
        first_effect = len(roots)
        roots.extend(vid for _, vid in effects)
        graph.roots = roots
        lowered = lower(graph)
        kernel = generate(lowered, self.parallel)
        fallback = None
        if len(lowered.roots) > len(roots):  # shifted sums, and their check last
            fallback = _fallback(graph, lowered, kernel, self.parallel)
            if fallback is None:  # the check could not be acted on: no shifted sums
                lowered = lower(graph, shift=False)
                kernel = generate(lowered, self.parallel)
        if os.environ.get("MINIGRAD_DEBUG"):
            _print_debug(self, lowered, kernel)
        draws = [ref for kind, ref in trace.sources if kind == "random"]
        fetch = _fetch_plan(lowered, kernel, trace, arg_ids)
        places = _effect_places(lowered, roots, first_effect, effects)
        n_assign = len(trace.assigns)
        blas_one, numba_one = blas.prepare(lowered, kernel.parallel)
        entry = Compiled(
            kernel=None, source=kernel.source, plan=kernel.plan_text, path=None,
            fetch=fetch, constants=_own_constants(kernel.constants), out_spec=out_spec,
            outputs=outputs, assigns=places[:n_assign], grad_stores=places[n_assign:],
            grad_clears=[target(t) for t in trace.grad_clears],
            guards_grad_none=[target(t) for t in trace.grad_none_guards],
            index_checks=[(target(t), *rest) for t, *rest in trace.index_checks],
            parallel=kernel.parallel, one_blas_thread=blas_one, numba_one_thread=numba_one,
            adapt_threads=kernel.parallel or blas.largest_product(lowered) > 0,
            buffers=[(_stored_shape(lowered[v]), lowered[v].dtype) for v in kernel.buffers],
            draws=draws, fallback=fallback, check_pos=len(roots),
        )
        entry.signature = _signature(lowered, kernel)
        entry.what = (f"{self._name()} ({len(graph.values)} values, "
                      f"{kernel.source.count(chr(10))} generated lines)")
        entry.graph = _structure_only(lowered)
        entry.checks = build_guards(self.fn, _objects_in(module_args),
                                    _used_outside(trace, arg_ids),
                                    tracer.modules_called.values(), set(tracer.existing),
                                    tensors)
        _argument_guards(entry, tensors)
        return entry


def _fallback(graph: Graph, lowered: Graph, kernel: Kernel, parallel: bool
              ) -> Fallback | None:
    """The kernel of ``graph`` without shifted sums, reading the entry's inputs (None in
    the unlikely case it reads an input the entry's kernel does not: then the check
    cannot be acted on, and the entry is compiled without the shift instead)."""
    plain = lower(graph, shift=False)
    slow = generate(plain, parallel)
    position = {lowered[vid].attrs["slot"]: k for k, vid in enumerate(kernel.inputs)}
    slots = [plain[vid].attrs["slot"] for vid in slow.inputs]
    if any(slot not in position for slot in slots):
        return None
    return Fallback(slow.source, _signature(plain, slow), _own_constants(slow.constants),
                    [position[slot] for slot in slots],
                    [(_stored_shape(plain[v]), plain[v].dtype) for v in slow.buffers])


def _used_outside(trace: Trace, arg_ids: dict[int, int]) -> list[Tensor]:
    """The tensors the trace read or wrote that are not arguments."""
    found: dict[int, Tensor] = {}
    candidates = [t for kind, t in trace.sources if kind in ("state", "grad")]
    candidates += [t for t, _ in trace.assigns + trace.grad_stores]
    candidates += trace.grad_clears + trace.grad_none_guards
    candidates += [check[0] for check in trace.index_checks]
    for tensor in candidates:
        if id(tensor) not in arg_ids:
            found[id(tensor)] = tensor
    return list(found.values())


def _argument_guards(entry: Compiled, tensors: list[Tensor]) -> None:
    """Arguments that were one tensor stay one; when the entry writes to or reads the
    ``.grad`` of an argument, distinct arguments stay distinct (the kernel would not add
    the two contributions to one ``.grad``)."""
    first: dict[int, int] = {}
    for k, tensor in enumerate(tensors):
        if id(tensor) in first:
            entry.same_args.append((first[id(tensor)], k))
        else:
            first[id(tensor)] = k
    touches_args = any(type(ref) is int for ref, *_ in entry.assigns + entry.grad_stores) or any(
        type(ref) is int for ref in entry.grad_clears + entry.guards_grad_none) or any(
        kind == 2 and type(ref) is int for kind, ref, *_ in entry.fetch)
    if not entry.same_args and touches_args and len(tensors) > 1:
        entry.distinct_args = len(tensors)


def _objects_in(args: tuple) -> list[Any]:
    """The non-tensor objects in the argument tree (fixed by the cache key): guard roots."""
    found, stack = [], list(args)
    while stack:
        obj = stack.pop()
        if isinstance(obj, list | tuple):
            stack.extend(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif not isinstance(obj, Tensor | np.ndarray | str | int | float | bool | type(None)):
            found.append(obj)
    return found


def _structure_only(graph: Graph) -> Graph:
    """A copy of the lowered graph without data-sized attributes (index keys holding
    arrays become their shapes): what ``fn.last.graph`` shows, kept for drawing."""
    light = Graph()
    for value in graph.values:
        attrs = {k: (("array", v.shape) if isinstance(v, np.ndarray) else v)
                 for k, v in value.attrs.items() if k != "key"}
        if "key" in value.attrs:
            attrs["key"] = tuple(("array", part.shape) if isinstance(part, np.ndarray)
                                 else part for part in value.attrs["key"])
        light.add(value.op, value.shape, value.dtype, value.inputs, **attrs)
    light.roots = list(graph.roots)
    return light


def _fetch_plan(lowered: Graph, kernel: Kernel, trace: Trace, arg_ids: dict[int, int]
                ) -> list[tuple[int, Any, tuple, np.dtype, np.dtype]]:
    fetch = []
    draw_index = {}  # slot -> position among the draws, in trace order
    for slot, (kind, _) in enumerate(trace.sources):
        if kind == "random":
            draw_index[slot] = len(draw_index)
    for vid in kernel.inputs:
        value = lowered[vid]
        slot = value.attrs["slot"]
        kind, ref = trace.sources[slot]
        code = {"arg": 0, "state": 1, "grad": 2, "random": 3}[kind]
        if kind == "grad":
            ref = arg_ids.get(id(ref), ref)
        elif kind == "random":
            ref = draw_index[slot]
        traced = trace.input_dtypes.get(slot, value.dtype)
        fetch.append((code, ref, value.shape, value.dtype, traced))
    return fetch


def _effect_places(lowered: Graph, roots: list[int], first: int,
                   effects: list[tuple[Target, int]]) -> list[tuple[Target, int, Any, bool]]:
    """(target, result position, shape, copy?) - copies where results would alias."""
    seen = set(lowered.roots[:first])  # a result also returned is copied, as assign_ does
    places = []
    for k, (target, _) in enumerate(effects):
        pos = first + k
        vid = lowered.roots[pos]
        aliased = vid in seen or lowered[vid].op in ("input", "reshape")
        seen.add(vid)
        places.append((target, pos, _reshape_to(lowered[vid].shape), aliased))
    return places


def _reshape_to(shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """The shape a kernel result needs reshaping to: only 0-d values (stored as (1,))."""
    return shape if not shape else None


def _stored_shape(value: Any) -> tuple[int, ...]:
    return value.shape or (1,)


def _signature(lowered: Graph, kernel: Kernel) -> tuple:
    """The Numba argument types: C-contiguous arrays, the index maps, the thread count."""
    types = [numba.types.Array(numba.from_dtype(lowered[vid].dtype),
                               max(len(lowered[vid].shape), 1), "C") for vid in kernel.inputs]
    types += [numba.typeof(c) for c in kernel.constants]
    types += [numba.types.Array(numba.from_dtype(lowered[v].dtype),
                                max(len(lowered[v].shape), 1), "C") for v in kernel.buffers]
    return (*types, numba.types.intp)


def _print_debug(jit_fn: JitFunction, graph: Graph, kernel: Kernel) -> None:
    out = sys.stderr
    print(f"=== mg.jit {jit_fn._name()}: graph ({len(graph.values)} values)", file=out)
    print(graph.describe(), file=out)
    print("=== kernel plan", file=out)
    print(kernel.plan_text, file=out)
    print("=== source", file=out)
    print(kernel.source, file=out)


def jit(fn: Callable[..., Any] | None = None, *, parallel: bool = True,
        background: bool | None = None) -> Any:
    """Compile ``fn`` with Numba, per call signature (usable as ``@jit`` or ``@jit(...)``).

    The first call with a new signature runs ``fn`` eagerly while tracing it (forward,
    backward, ``.grad`` stores and ``assign_`` updates) and compiles the trace into one
    Numba function; later calls run only that, while its guards hold. With ``background``
    (the default unless ``MINIGRAD_JIT_BACKGROUND=0``) Numba compiles on another thread
    and calls made meanwhile run ``fn`` eagerly; ``fn.wait()`` blocks until it is done.
    ``parallel=False`` keeps every loop on one thread. See docs/jit.md.
    """
    if fn is None:
        return lambda f: JitFunction(f, parallel=parallel, background=background)
    return JitFunction(fn, parallel=parallel, background=background)


def _own_constants(constants: list[np.ndarray]) -> list[np.ndarray]:
    """The kernel's constant arrays, each owning its memory: a view (an index map cut from
    an arange the size of the data) would keep its whole base alive with the entry."""
    return [c.copy() if isinstance(c, np.ndarray) and c.base is not None else c
            for c in constants]
