"""``mg.jit``: trace once per signature, compile to one Numba function, run that after.

The signature of a call is the structure of its arguments, every tensor argument's shape,
dtype and ``requires_grad``, the non-tensor arguments' values, and whether gradients are
enabled. Each compiled entry also has *guards* checked on every call: the training flag of
every module the trace touched, the shape and dtype of every tensor read from outside the
arguments (parameters, buffers, optimizer state), and the ``.grad`` state the trace
assumed. A call that fails every guard traces and compiles anew; a kernel is never reused
for a shape it was not generated for.

Random draws the trace recorded (``nn.functional.rand_uniform``, dropout's mask) are made
at every call, after the guards hold and right before the kernel runs, in trace order and
with the numpy call eager makes, so a seeded run draws the same numbers as eager.
"""

from __future__ import annotations

import functools
import os
import sys
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba
import numpy as np

from .. import _state
from .._state import STATE
from ..anomaly import is_anomaly_enabled
from ..nn.module import Module
from ..tensor import Tensor
from .cache import load_module, purge_compiled
from .codegen import Kernel, generate
from .ir import Graph, NotCompilableError
from .lower import lower
from .trace import Trace, Tracer, tracing


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


def rebuild_output(spec: Any, tensors: list[Tensor]) -> Any:
    """The return value: ``spec`` with its placeholders replaced by ``tensors``."""
    tag, body = spec
    if tag == "T":
        return tensors[body]
    if tag == "C":
        return body
    if tag is dict:
        return {k: rebuild_output(v, tensors) for k, v in body}
    return tag(rebuild_output(item, tensors) for item in body)


def _free_refcount() -> int:
    """sys.getrefcount of an array held only by a pool list, read as lend_buffers reads it
    (measured rather than assumed: the count differs between Python versions)."""
    pool = [np.empty(1)]
    for candidate in pool:
        return sys.getrefcount(candidate)
    return 0


_FREE_REFCOUNT = _free_refcount()


def _sole_grad_refcount() -> int:
    """sys.getrefcount of a gradient tensor held only by its leaf's ``.grad`` and by the
    entry's list of the gradients it stored, read as ``_store_effects`` reads it."""
    leaf = Tensor._node(np.empty(1), None, (), {}, False, None)
    stored = [Tensor._node(np.empty(1), None, (), {}, False, None)]
    leaf.grad = stored[0]
    for mine in stored:
        old = leaf.grad
        if old is mine:
            return sys.getrefcount(old)
    return 0


_SOLE_GRAD_REFCOUNT = _sole_grad_refcount()


def _sole_result_refcount() -> int:
    """sys.getrefcount of a returned tensor the caller dropped (held only by the entry's
    one-item list), read as the generated call reads it."""
    returned = [Tensor._node(np.empty(1), None, (), {}, False, None)]
    old = returned[0]
    return sys.getrefcount(old)


_SOLE_RESULT_REFCOUNT = _sole_result_refcount()


# ----------------------------------------------------------------------- compiled entry
Target = int | Tensor  # an argument position, or a tensor reached outside the arguments


def resolve(target: Target, tensors: list[Tensor]) -> Tensor:
    """The tensor a target names in the current call."""
    return tensors[target] if type(target) is int else target

@dataclass
class Compiled:
    """One traced and compiled signature of a jit function."""

    kernel: Callable[..., tuple]
    source: str
    plan: str
    path: Path
    graph: Graph
    # (kind, ref, shape, dtype); kind 0 argument, 1 state tensor, 2 .grad, 3 random draw
    # (ref: its position in ``draws``)
    fetch: list[tuple[int, Any, tuple, np.dtype]]
    constants: list[np.ndarray]
    out_spec: Any
    outputs: list[tuple[str, Any, tuple | None]]  # ("value", pos, 0-d shape) | ("arg", k) |...
    assigns: list[tuple[Target, int, tuple | None, bool]]
    grad_stores: list[tuple[Target, int, tuple | None, bool]]
    grad_clears: list[Target]
    guards_modules: list[tuple[Module, bool]] = field(default_factory=list)
    guards_grad_none: list[Target] = field(default_factory=list)
    parallel: bool = False
    buffers: list[tuple[tuple, np.dtype]] = field(default_factory=list)
    pools: list[list[np.ndarray]] = field(default_factory=list)
    plain_output: tuple[int, tuple | None] | None = None  # fn returns one computed tensor
    fast: Callable[[list[Tensor]], Any] | None = None  # the generated call (make_fast_call)
    stored_grads: list[Tensor | None] = field(default_factory=list)  # per grad_stores entry
    draws: list[tuple[tuple, np.dtype]] = field(default_factory=list)  # in trace order

    def lend_buffers(self) -> list[np.ndarray]:
        """An array per large result: a previous result nobody else holds, else a new one
        (kept, at most two per result, for the calls after)."""
        lent = []
        for (shape, dtype), pool in zip(self.buffers, self.pools, strict=True):
            free = None
            for candidate in pool:
                if sys.getrefcount(candidate) <= _FREE_REFCOUNT:  # the pool and this loop
                    free = candidate
                    break
            if free is None:
                free = np.empty(shape, dtype)
                if len(pool) >= 2:
                    pool.pop(0)
                pool.append(free)
            lent.append(free)
        return lent

    def prepare(self, tensors: list[Tensor]) -> list[np.ndarray] | None:
        """The kernel's input arrays for this call, or None when a guard fails (a module's
        mode, a ``.grad`` state, or the shape/dtype of a tensor read outside the arguments)."""
        for module, flag in self.guards_modules:
            if module.training != flag:
                return None
        for leaf in self.guards_grad_none:
            if resolve(leaf, tensors).grad is not None:
                return None
        arrays = []
        for kind, ref, shape, dtype in self.fetch:
            if kind == 3:  # a random draw: made by run(), once every guard held
                arrays.append(None)
                continue
            if kind == 0:  # an argument: its shape and dtype are in the cache key
                data = tensors[ref].data
                if not data.flags.c_contiguous:
                    data = np.ascontiguousarray(data)
            else:
                if kind == 1:
                    data = ref.data
                else:
                    grad = resolve(ref, tensors).grad
                    if grad is None:
                        return None
                    data = grad.data
                if data.shape != shape or (data.dtype is not dtype and data.dtype != dtype):
                    return None
            arrays.append(data if shape else data.reshape(1))
        return arrays

    def draw(self) -> list[np.ndarray]:
        """This call's random inputs: ``rng().random(shape, dtype)`` per recorded draw, in
        trace order (the numpy calls eager makes), 0-d ones stored as shape (1,)."""
        generator = _state.rng()
        drawn = [generator.random(shape, dtype=dtype) for shape, dtype in self.draws]
        return [d if d.ndim else d.reshape(1) for d in drawn]

    def guards_hold(self, tensors: list[Tensor]) -> bool:
        """Whether this entry may run now (module modes, .grad states, state shapes)."""
        return self.prepare(tensors) is not None

    def run(self, tensors: list[Tensor], arrays: list[np.ndarray] | None = None) -> Any:
        """Run the kernel on ``arrays`` (fetched by ``prepare`` when not given), apply the
        state changes, build the result."""
        if arrays is None:
            arrays = self.prepare(tensors)
            if arrays is None:
                raise RuntimeError("mg.jit: internal: run() called while a guard fails")
        if self.draws:
            drawn = self.draw()
            arrays = [drawn[ref] if kind == 3 else data
                      for (kind, ref, _, _), data in zip(self.fetch, arrays, strict=True)]
        threads = numba.get_num_threads() if self.parallel else 1
        if self.buffers:
            results = self.kernel(*arrays, *self.constants, *self.lend_buffers(), threads)
        else:
            results = self.kernel(*arrays, *self.constants, threads)
        self._store_effects(tensors, results)
        return self.build_output(tensors, results)

    def run_generic(self, tensors: list[Tensor]) -> Any:
        """The call through ``prepare`` and ``run``: the result, or MISS when a guard fails."""
        arrays = self.prepare(tensors)
        return MISS if arrays is None else self.run(tensors, arrays)

    def build_output(self, tensors: list[Tensor], results: tuple) -> Any:
        """fn's return value from the kernel's results."""
        if self.plain_output is not None:  # fn returned one computed tensor
            pos, shape = self.plain_output
            return _leaf(results[pos] if shape is None else results[pos].reshape(shape))
        outs = []
        for kind, ref, shape in self.outputs:
            if kind == "value":
                outs.append(_leaf(results[ref] if shape is None else results[ref].reshape(shape)))
            elif kind == "arg":
                outs.append(tensors[ref])
            else:
                outs.append(ref)
        return rebuild_output(self.out_spec, outs)

    def _store_effects(self, tensors: list[Tensor], results: tuple) -> None:
        """Assigned values into their tensors, gradients into ``.grad``, cleared ``.grad``."""
        hooked = bool(STATE.assign_hooks)
        for ref, pos, shape, copy in self.assigns:
            target = tensors[ref] if type(ref) is int else ref
            value = results[pos] if shape is None else results[pos].reshape(shape)
            if hooked:
                target.assign_(value)
            else:
                target.data = value.copy() if copy else value
        for k, (ref, pos, shape, copy) in enumerate(self.grad_stores):
            value = results[pos] if shape is None else results[pos].reshape(shape)
            if copy:
                value = value.copy()
            leaf = tensors[ref] if type(ref) is int else ref
            old, mine = leaf.grad, self.stored_grads[k]
            if (old is mine and old is not None and sys.getrefcount(old) <= _SOLE_GRAD_REFCOUNT
                    and not weakref.getweakrefcount(old)):
                old.data = value  # the tensor this entry stored last time, held by no one else
            else:
                self.stored_grads[k] = leaf.grad = _leaf(value)
        for ref in self.grad_clears:
            resolve(ref, tensors).grad = None


MISS = object()  # a compiled entry's guards do not hold for this call


def make_fast_call(entry: Compiled) -> Callable[[list[Tensor]], Any]:
    """``entry``'s call as one generated straight-line function: the guards, the fetches,
    the kernel call, the effects and the result spelled out for this entry (the same steps
    as ``prepare``, ``run`` and ``_store_effects``, without their per-item loops). Only
    generated names reach the source; every object is bound in its namespace. Falls back to
    ``run_generic`` while assign hooks listen."""
    env: dict[str, Any] = {
        "np": np, "STATE": STATE, "MISS": MISS, "leaf": _leaf, "kernel": entry.kernel,
        "entry": entry, "stored": entry.stored_grads, "getrefcount": sys.getrefcount,
        "weakrefs": weakref.getweakrefcount, "SOLE": _SOLE_GRAD_REFCOUNT,
        "get_threads": numba.get_num_threads,
    }

    def bind(prefix: str, obj: Any) -> str:
        name = f"{prefix}{len(env)}"
        env[name] = obj
        return name

    def tensor(ref: Target) -> str:
        return f"tensors[{ref}]" if type(ref) is int else bind("t", ref)

    lines = ["def fast_call(tensors):", "    if STATE.assign_hooks:",
             "        return entry.run_generic(tensors)"]
    for module, flag in entry.guards_modules:
        lines += [f"    if {bind('m', module)}.training != {bind('f', flag)}:",
                  "        return MISS"]
    for leaf in entry.guards_grad_none:
        lines += [f"    if {tensor(leaf)}.grad is not None:", "        return MISS"]
    args = []
    for k, (kind, ref, shape, dtype) in enumerate(entry.fetch):
        if kind == 3:
            args.append(f"u{ref}")
            continue
        lines += _fetch_lines(f"a{k}", kind, tensor(ref) if kind else f"tensors[{ref}]",
                              bind("s", shape), bind("d", dtype))
        if not shape:
            lines.append(f"    a{k} = a{k}.reshape(1)")
        args.append(f"a{k}")
    lines += _draw_lines(entry, bind)
    args += [bind("c", constant) for constant in entry.constants]
    if entry.buffers:
        args.append("*entry.lend_buffers()")
    args.append("get_threads()" if entry.parallel else "1")
    lines.append(f"    r = kernel({', '.join(args)})")
    for ref, pos, shape, copy in entry.assigns:
        lines.append(f"    {tensor(ref)}.data = {_value(pos, shape, copy, bind)}")
    for k, (ref, pos, shape, copy) in enumerate(entry.grad_stores):
        target, value = tensor(ref), _value(pos, shape, copy, bind)
        lines += [f"    old = {target}.grad", f"    mine = stored[{k}]",
                  "    if (old is mine and old is not None and getrefcount(old) <= SOLE",
                  "            and not weakrefs(old)):",
                  f"        old.data = {value}", "    else:",
                  f"        stored[{k}] = {target}.grad = leaf({value})"]
    for ref in entry.grad_clears:
        lines.append(f"    {tensor(ref)}.grad = None")
    if entry.plain_output is None:
        lines.append("    return entry.build_output(tensors, r)")
        return _exec_call(lines, env)
    pos, shape = entry.plain_output  # one computed tensor: the last one if the caller let go
    value = _value(pos, shape, False, bind)
    lines += ["    old = returned[0]",
              "    if old is not None and getrefcount(old) <= SOLE_RESULT and not weakrefs(old):",
              f"        old.data = {value}", "        return old",
              f"    returned[0] = leaf({value})", "    return returned[0]"]
    env.update(returned=[None], SOLE_RESULT=_SOLE_RESULT_REFCOUNT)
    return _exec_call(lines, env)


def _exec_call(lines: list[str], env: dict[str, Any]) -> Callable[[list[Tensor]], Any]:
    """The function ``fast_call`` the lines define, with ``env`` as its globals."""
    exec("\n".join(lines) + "\n", env)  # generated names and bound objects only
    return env["fast_call"]


def _draw_lines(entry: Compiled, bind: Callable[[str, Any], str]) -> list[str]:
    """Draw the entry's random inputs ``u0, u1, ...`` in trace order (after every guard, so
    a call that misses draws nothing); no lines for an entry without draws."""
    if not entry.draws:
        return []
    lines = [f"    gen = {bind('r', _state)}.rng()"]
    for j, (shape, dtype) in enumerate(entry.draws):
        reshape = "" if shape else ".reshape(1)"
        lines.append(f"    u{j} = gen.random({bind('s', shape)}, dtype={bind('d', dtype)})"
                     f"{reshape}")
    return lines


def _fetch_lines(name: str, kind: int, tensor: str, shape: str, dtype: str) -> list[str]:
    """Read one kernel input into ``name``: an argument's array (C-contiguous), or a state
    tensor's / a ``.grad``'s array after checking its shape and dtype."""
    if kind == 0:
        return [f"    {name} = {tensor}.data", f"    if not {name}.flags.c_contiguous:",
                f"        {name} = np.ascontiguousarray({name})"]
    if kind == 1:
        lines = [f"    {name} = {tensor}.data"]
    else:
        lines = [f"    g = {tensor}.grad", "    if g is None:", "        return MISS",
                 f"    {name} = g.data"]
    check = (f"    if {name}.shape != {shape} or ({name}.dtype is not {dtype} and "
             f"{name}.dtype != {dtype}):")
    return [*lines, check, "        return MISS"]


def _value(pos: int, shape: tuple | None, copy: bool, bind: Callable[[str, Any], str]) -> str:
    """The expression of kernel result ``pos`` (reshaped to a 0-d shape, copied)."""
    value = f"r[{pos}]" if shape is None else f"r[{pos}].reshape({bind('s', shape)})"
    return f"{value}.copy()" if copy else value


def _leaf(array: np.ndarray) -> Tensor:
    """A history-free result tensor around ``array`` (no copy)."""
    return Tensor._node(array, None, (), {}, False, None)  # type: ignore[arg-type]


def _compile_kernel(source: str, signature: Any) -> tuple[Any, Path]:
    """Import the generated module and compile its kernel now (or load Numba's cache).

    A failure is retried once after purging the cached machine code (damaged cache files
    are rebuilt); a second failure is a NotCompilableError saying Numba could not compile.
    """
    module, path = load_module(source)
    try:
        module.kernel.compile(signature)
    except Exception:
        purge_compiled(path)
        module, path = load_module(source, fresh=True)
        try:
            module.kernel.compile(signature)
        except Exception as error:
            raise NotCompilableError(
                f"mg.jit: Numba could not compile the generated kernel {path.name} "
                f"({type(error).__name__}: {error}); call the function without mg.jit"
            ) from error
    return module, path


# --------------------------------------------------------------------------- jit proper
class JitFunction:
    """A function compiled per signature; call it like the original."""

    def __init__(self, fn: Callable[..., Any], parallel: bool = True) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.parallel = parallel
        self.entries: dict[Any, list[Compiled]] = {}
        self.trace_count = 0
        self.last: Compiled | None = None

    @property
    def source(self) -> str | None:
        """The generated Numba source of the most recently compiled signature."""
        return self.last.source if self.last else None

    @property
    def plan(self) -> str | None:
        """The kernel plan (which nodes fused into which loop) of the latest signature."""
        return self.last.plan if self.last else None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if is_anomaly_enabled():  # compiled kernels check no node: run eagerly instead
            return self.fn(*args, **kwargs)
        spec, tensors, args, kwargs = flatten_args(args, kwargs)
        key = (spec, STATE.grad_enabled)
        for entry in self.entries.get(key, ()):
            result = entry.fast(tensors) if entry.fast else entry.run_generic(tensors)
            if result is not MISS:
                return result
        return self._trace_and_compile(key, tensors, args, kwargs)

    def _trace_and_compile(self, key: Any, tensors: list[Tensor], args: tuple,
                           kwargs: dict) -> Any:
        """Run fn eagerly under the tracer (that call's result is returned), then compile."""
        tracer = Tracer(tensors)
        with tracing(tracer):
            result = self.fn(*args, **kwargs)
            out_spec, out_tensors = flatten_output(result)
            out_refs = [tracer.ref(t) for t in out_tensors]
        touched = [t for kind, t in tracer.trace.sources if kind == "state"] + tensors
        trace = tracer.finish(touched)
        entry = self._compile(trace, out_spec, out_tensors, out_refs, tensors,
                              (*args, *kwargs.values()))
        entry.fast = make_fast_call(entry)
        self.trace_count += 1
        self.entries.setdefault(key, []).append(entry)
        self.last = entry
        return result

    def _compile(self, trace: Trace, out_spec: Any, out_tensors: list[Tensor],
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
        module, path = _compile_kernel(kernel.source, _signature(lowered, kernel))
        if os.environ.get("MINIGRAD_DEBUG"):
            _print_debug(self, lowered, kernel, path)
        draws = [ref for kind, ref in trace.sources if kind == "random"]
        fetch = self._fetch_plan(lowered, kernel, trace, arg_ids)
        places = self._effect_places(lowered, roots, first_effect, effects)
        n_assign = len(trace.assigns)
        return Compiled(
            kernel=module.kernel, source=kernel.source, plan=kernel.plan_text, path=path,
            graph=lowered, fetch=fetch, constants=kernel.constants, out_spec=out_spec,
            outputs=outputs, assigns=places[:n_assign], grad_stores=places[n_assign:],
            stored_grads=[None] * (len(places) - n_assign),
            grad_clears=[target(t) for t in trace.grad_clears],
            guards_modules=_module_guards(self.fn, trace, module_args),
            guards_grad_none=[target(t) for t in trace.grad_none_guards],
            parallel=kernel.parallel,
            plain_output=outputs[0][1:] if out_spec == ("T", 0) and outputs[0][0] == "value"
            else None,
            buffers=[(_stored_shape(lowered[v]), lowered[v].dtype) for v in kernel.buffers],
            pools=[[] for _ in kernel.buffers], draws=draws,
        )

    @staticmethod
    def _fetch_plan(lowered: Graph, kernel: Kernel, trace: Trace,
                    arg_ids: dict[int, int]) -> list[tuple[int, Any, tuple, np.dtype]]:
        fetch = []
        draw_index = {}  # slot -> position among the draws, in trace order
        for slot, (kind, _) in enumerate(trace.sources):
            if kind == "random":
                draw_index[slot] = len(draw_index)
        for vid in kernel.inputs:
            value = lowered[vid]
            kind, ref = trace.sources[value.attrs["slot"]]
            code = {"arg": 0, "state": 1, "grad": 2, "random": 3}[kind]
            if kind == "grad":
                ref = arg_ids.get(id(ref), ref)
            elif kind == "random":
                ref = draw_index[value.attrs["slot"]]
            fetch.append((code, ref, value.shape, value.dtype))
        return fetch

    @staticmethod
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


def _module_guards(fn: Callable[..., Any], trace: Trace, args: tuple
                   ) -> list[tuple[Module, bool]]:
    """Training flags of the modules the trace used, and of those fn reaches directly:
    bound to, closed over, default arguments, globals it names, module arguments."""
    found: dict[int, Module] = {}
    for tensor in trace.tensors.values():
        for module in tensor.meta.get("modules", ()) if hasattr(tensor, "meta") else ():
            found[id(module)] = module
    candidates: list[Any] = [getattr(fn, "__self__", None), fn, *args]
    candidates += list(getattr(fn, "__defaults__", None) or ())
    candidates += list((getattr(fn, "__kwdefaults__", None) or {}).values())
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            candidates.append(cell.cell_contents)
        except ValueError:
            continue
    names = getattr(getattr(fn, "__code__", None), "co_names", ())
    scope = getattr(fn, "__globals__", {})
    candidates += [scope[name] for name in names if name in scope]
    for item in candidates:
        if isinstance(item, Module):
            for module in item.modules():
                found[id(module)] = module
    return [(m, m.training) for m in found.values()]


def _print_debug(jit_fn: JitFunction, graph: Graph, kernel: Kernel, path: Path) -> None:
    name = getattr(jit_fn.fn, "__qualname__", "fn")
    out = sys.stderr
    print(f"=== mg.jit {name}: graph ({len(graph.values)} values)", file=out)
    print(graph.describe(), file=out)
    print("=== kernel plan", file=out)
    print(kernel.plan_text, file=out)
    print(f"=== source ({path})", file=out)
    print(kernel.source, file=out)


def jit(fn: Callable[..., Any] | None = None, *, parallel: bool = True) -> Any:
    """Compile ``fn`` with Numba, per call signature (usable as ``@jit`` or ``@jit(...)``).

    The first call with a new signature runs ``fn`` eagerly while tracing it (forward,
    backward, ``.grad`` stores and ``assign_`` updates) and compiles the trace into one
    Numba function; later calls run only that. ``parallel=False`` keeps every loop on one
    thread. See docs/jit.md.
    """
    if fn is None:
        return lambda f: JitFunction(f, parallel=parallel)
    return JitFunction(fn, parallel=parallel)
