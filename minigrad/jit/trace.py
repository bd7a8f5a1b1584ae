"""Tracing: run ``fn`` eagerly once and record every node, ``.grad`` store and ``assign_``.

The tracer listens on ``STATE.node_hooks`` (every new node, forward and backward),
``STATE.assign_hooks`` (optimizer steps, running statistics), ``STATE.grad_hooks``
(``backward()`` storing ``.grad``) and ``STATE.read_hooks`` (a value read into Python, which
the compiled code could not repeat: refused). Recording is switched on so every node keeps
its inputs even under ``no_grad``.

Leaves the trace meets are classified:

* an argument of ``fn``                          -> input, by argument position;
* any other leaf (parameter, buffer, optimizer   -> input read from that tensor object at
  state, constants made during the trace)           call time (so it may change between calls);
* the ``.grad`` of a leaf that existed before    -> input read from ``leaf.grad`` at call time
  the trace and is accumulated into                 (guarded: ``.grad`` must not be None);
* a draw of ``nn.functional.rand_uniform``       -> input drawn anew at every call, in trace
  (dropout's uniform numbers)                       order, from ``mg.manual_seed``'s generator.

Any other use of the random generator while tracing (``_state.rng()``: parameter
initialisation, a hand-made mask) is refused: the compiled code would repeat that draw.

Reads of a leaf after it was ``assign_``-ed (or after its ``.grad`` was stored) see the new
value, so several updates in one step chain correctly.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _state
from .._state import STATE, recording
from ..tensor import Tensor
from .index import runtime_index
from .ir import Graph, NotCompilableError


@dataclass
class Trace:
    """What one traced call did, in terms of graph value ids."""

    graph: Graph
    # Where each input value comes from, by its ``slot`` attribute: ("arg", position),
    # ("state", tensor) read from tensor.data, ("grad", leaf) read from leaf.grad.data, or
    # ("random", (shape, dtype)) drawn with generator.random(shape, dtype) at every call.
    sources: list[tuple[str, Any]] = field(default_factory=list)
    assigns: list[tuple[Tensor, int]] = field(default_factory=list)     # final value per target
    grad_stores: list[tuple[Tensor, int]] = field(default_factory=list)
    grad_clears: list[Tensor] = field(default_factory=list)
    grad_none_guards: list[Tensor] = field(default_factory=list)         # .grad must be None
    value_of: dict[int, int] = field(default_factory=dict)              # id(tensor) -> vid
    # (tensor, extent, axis, indexed shape): a runtime index tensor, the axis size it indexes
    index_checks: list[tuple[Tensor, int, int, tuple]] = field(default_factory=list)
    input_dtypes: dict[int, np.dtype] = field(default_factory=dict)     # slot -> non-native
    tensors: dict[int, Tensor] = field(default_factory=dict)            # keeps ids valid


class Tracer:
    """Collects a ``Trace`` while ``fn`` runs eagerly inside ``tracing()``."""

    def __init__(self, args: list[Tensor]) -> None:
        self.trace = Trace(Graph())
        self.arg_index = {id(t): k for k, t in enumerate(args)}
        self.assigned: dict[int, tuple[Tensor, int]] = {}
        self.grad_touched: dict[int, Tensor] = {}
        self.cleared: dict[int, Tensor] = {}  # .grad set to None by fn before any store
        self.existing, self.grads_at_start = _tensors_now()
        self.grad_owner = {id(t.grad): t for t in self.grads_at_start.values()}
        # Hold the pre-trace tensors and gradients until the trace ends, so no tensor made
        # during the trace can reuse one of their ids (which classify leaves).
        self.held = [*self.existing.values(), *(t.grad for t in self.grads_at_start.values())]
        # id(array) -> the argument or pre-trace tensor holding it: a leaf made during the
        # trace around one of these arrays (``x.detach()``) or an index key holding one
        # (``w[i]`` with a tensor ``i``) reads that tensor at call time, never a constant.
        self.owner_of_data = {id(t.data): t for t in self.existing.values()}
        self.owner_of_data.update((id(t.data), t) for t in args)
        self.first_input: dict[int, int] = {}  # id(owner) -> its pre-trace value's vid
        self.data_value: dict[int, int] = {}  # id(array) -> the value of the tensor holding it
        self.unsettled: list[tuple[Tensor, np.ndarray, int]] = []  # assigns not yet mapped
        self.modules_called: dict[int, Any] = {}  # every module whose forward ran
        self.read_constants: dict[int, Tensor] = {}  # leaves made in fn, read into Python
        # The autodiff tags of every tensor that existed before (a seed such as
        # ``grad_outputs=dout`` is tagged with the pass, which would keep the whole traced
        # graph alive with it): restored when the trace ends, as no compiled call tags.
        self.tags = {id(t): (t, t.grad_of, len(t.grad_of), t.partial_of, len(t.partial_of),
                             t.meta.get("aliases")) for t in [*self.existing.values(), *args]}

    # ------------------------------------------------------------------------ hooks
    def on_node(self, node: Tensor) -> None:
        """Record a new node (its inputs resolved to their current versions)."""
        if node.op is None:
            return
        vid = None
        if node.op.name in ("index", "index_add"):
            vid = runtime_index(self, node)
        if vid is None:
            inputs = tuple(self.ref(t) for t in node.inputs)
            vid = self.trace.graph.add(node.op.name, node.shape, native(node.dtype), inputs,
                                       **node.attrs)
        self._bind(node, vid)

    def on_assign(self, target: Tensor, value: Any) -> None:
        """Record ``target.assign_(value)``: later reads of ``target`` see ``value``."""
        if not isinstance(value, Tensor):
            raise NotCompilableError(
                "assign_ with a numpy array inside a jit-compiled function: its value was "
                "computed outside the graph; assign a Tensor computed with minigrad ops"
            )
        vid = self.ref(value)
        if self.trace.graph[vid].dtype != native(target.dtype):
            vid = self.trace.graph.add("cast", value.shape, native(target.dtype), (vid,),
                                       dtype=target.dtype.name)
        self.ref(target)  # a target read before is an input; keep its identity known
        self._settle_assigns()
        self.trace.value_of[id(target)] = vid  # its array is replaced after this hook
        self.assigned[id(target)] = (target, vid)
        self.unsettled.append((target, target.data, vid))

    def restore_tags(self) -> None:
        """Put back the autodiff tags the traced passes changed on pre-trace tensors."""
        for tensor, grad_of, n_grad_of, partial_of, n_partial_of, aliases in self.tags.values():
            if (tensor.grad_of is not grad_of or tensor.partial_of is not partial_of
                    or len(grad_of) != n_grad_of or len(partial_of) != n_partial_of):
                del grad_of[n_grad_of:], partial_of[n_partial_of:]
                tensor.grad_of, tensor.partial_of = grad_of, partial_of
                tensor.meta.pop("aliases", None)
                if aliases is not None:
                    tensor.meta["aliases"] = aliases
        self.tags.clear()

    def _settle_assigns(self) -> None:
        """Map the arrays ``assign_`` stored since the last call to their values (the hook
        runs before the array is replaced)."""
        for target, before, vid in self.unsettled:
            if target.data is not before:
                self.data_value[id(target.data)] = vid
                self.held.append(target.data)
        self.unsettled.clear()

    def on_grad(self, leaf: Tensor, total: Tensor, previous: Any) -> None:
        """Record ``backward()`` storing ``leaf.grad`` (= previous + total, or total)."""
        graph = self.trace.graph
        vid = self.ref(total)
        if previous is not None:
            if id(previous) not in self.trace.value_of:
                self._bind(previous, self._input(previous, ("grad", leaf)))
            vid = graph.ew("add", self.ref(previous), vid)
        if graph[vid].dtype != native(leaf.dtype):
            vid = graph.add("cast", leaf.shape, native(leaf.dtype), (vid,),
                            dtype=leaf.dtype.name)
        if previous is None and id(leaf) not in self.grad_touched and (
                id(leaf) not in self.grads_at_start) and id(leaf) not in self.cleared and (
                id(leaf) in self.existing):  # a leaf fn makes anew has no .grad at each call
            self.trace.grad_none_guards.append(leaf)  # it had no .grad: must have none then
        self._bind(leaf.grad, vid)
        self.grad_touched[id(leaf)] = leaf

    def on_grad_clear(self, leaf: Tensor) -> None:
        """``zero_grad`` set ``leaf.grad`` to None: what it held when fn was called is never
        read, so a later store needs no guard that it was None (one trace, not two)."""
        if id(leaf) not in self.grad_touched and id(leaf) not in self.grads_at_start:
            self.cleared[id(leaf)] = leaf

    def on_read(self, tensor: Tensor) -> None:
        """Refuse a value read into Python (the compiled code would freeze it), unless it is
        a constant: a leaf made during the trace around an array of its own, not yet used
        by any op (``mg.tensor([[1, -2]])`` read by ``take``), the same at every call."""
        if (tensor.op is None and id(tensor) not in self.existing
                and id(tensor) not in self.arg_index and id(tensor) not in self.assigned
                and id(tensor) not in self.trace.value_of and self._alias_of(tensor) is None):
            self.read_constants[id(tensor)] = tensor  # refused in finish if fn keeps it
            return
        raise NotCompilableError(
            f"a tensor of shape {tensor.shape} was read into Python (item/float/int/bool, "
            ".data, .numpy(), .tolist(), np.asarray) while tracing for mg.jit; the compiled "
            "function would reuse that value on every call. Keep the computation in tensors "
            "(or call fn without jit)."
        )

    # ---------------------------------------------------------------------- helpers
    def ref(self, tensor: Tensor) -> int:
        """The graph value currently holding ``tensor`` (a new input for an unseen leaf)."""
        vid = self.trace.value_of.get(id(tensor))
        if vid is not None:
            return vid
        position = self.arg_index.get(id(tensor))
        owner = self.grad_owner.get(id(tensor))
        if position is not None:
            source: tuple[str, Any] = ("arg", position)
        elif owner is not None:  # the .grad of a leaf, set before the trace: read it anew
            source = ("grad", owner)
        else:
            alias = self._alias_of(tensor)
            if alias is not None:
                self._bind(tensor, alias)
                return alias
            source = ("state", tensor)
        vid = self._input(tensor, source)
        self._bind(tensor, vid)
        self.first_input[id(tensor)] = vid
        return vid

    def _alias_of(self, tensor: Tensor) -> int | None:
        """The value whose array ``tensor`` (a leaf made during the trace, e.g. ``x.detach()``
        of an argument, a parameter or a traced value) shares: read at call time or computed,
        never a constant. None for a leaf with an array of its own. A leaf viewing part of
        such an array (``Tensor._leaf_like(x.data[0])``) is refused: it would be frozen."""
        if id(tensor) in self.existing:
            return None
        data = tensor.data
        vid = self.data_value.get(id(data))
        if vid is not None:
            return vid
        self._settle_assigns()
        vid = self.data_value.get(id(data))
        if vid is not None:
            return vid
        owner = self.owner_of_data.get(id(data))
        if owner is not None and owner is not tensor:
            if owner.data is data:
                return self.ref(owner)
            return self._first_value(owner)  # the owner's value before an assign_
        base = data.base
        while base is not None:
            if id(base) in self.data_value or id(base) in self.owner_of_data:
                raise NotCompilableError(
                    f"a tensor of shape {tensor.shape} made while tracing for mg.jit views "
                    "the array of an argument, a parameter or a traced value (e.g. "
                    "Tensor(x.data[0])); the compiled function would freeze it. Use minigrad "
                    "ops instead (x[0], x.detach())"
                )
            base = base.base
        return None

    def _first_value(self, owner: Tensor) -> int:
        """The value ``owner`` (an argument or pre-trace tensor) had when the call began."""
        vid = self.first_input.get(id(owner))
        if vid is None:
            position = self.arg_index.get(id(owner))
            source = ("arg", position) if position is not None else ("state", owner)
            vid = self._input(owner, source)
            self.first_input[id(owner)] = vid
        return vid

    def recorded_uniform(self, shape: tuple[int, ...], dtype: np.dtype) -> Tensor:
        """U[0, 1) numbers of ``shape`` (``Generator.random(shape, dtype)``) drawn from the
        real generator, as eager does, and recorded as an input drawn anew at every call."""
        tensor = Tensor._constant(_state._rng.random(shape, dtype=dtype))
        self.on_draw(tensor, dtype)
        return tensor

    def on_draw(self, tensor: Tensor, dtype: np.dtype) -> None:
        """Record ``tensor`` (uniform numbers just drawn) as an input drawn at every call."""
        source = ("random", (tensor.shape, np.dtype(dtype)))
        self._bind(tensor, self._input(tensor, source, draw="uniform"))

    def _input(self, tensor: Tensor, source: tuple[str, Any], **attrs: Any) -> int:
        slot = len(self.trace.sources)
        self.trace.sources.append(source)
        if not tensor.dtype.isnative:  # the kernel reads a native copy (call.py)
            self.trace.input_dtypes[slot] = tensor.dtype
        return self.trace.graph.add("input", tensor.shape, native(tensor.dtype), slot=slot,
                                    **attrs)

    def _bind(self, tensor: Tensor, vid: int) -> None:
        self.trace.value_of[id(tensor)] = vid
        self.trace.tensors[id(tensor)] = tensor
        self.data_value[id(tensor.data)] = vid
        self.held.append(tensor.data)  # keeps the id valid until the trace ends

    def _inline_scalar_constants(self, kept: set[int]) -> None:
        """One-element tensors made during the trace (Python numbers turned into tensors,
        gradient seeds) and never assigned become literals in the generated source, unless
        fn keeps them where it can reach them again (``kept``: their ids), where they may
        change between calls."""
        graph = self.trace.graph
        for value in graph.values:
            if value.op != "input":
                continue
            kind, tensor = self.trace.sources[value.attrs["slot"]]
            if (kind == "state" and id(tensor) not in kept
                    and _is_scalar_constant(tensor, self.existing, self.assigned)):
                value.op = "literal"
                value.attrs = {"value": tensor.data.reshape(-1)[0].item()}

    def finish(self, touched: list[Tensor], kept: set[int] = frozenset()) -> Trace:
        """Collect the final state changes: assigned values and ``.grad`` stores/clears
        (``kept``: ids of the tensors fn can reach, see ``_inline_scalar_constants``)."""
        trace = self.trace
        for key, tensor in self.read_constants.items():
            if key in kept:
                raise NotCompilableError(
                    f"a tensor of shape {tensor.shape} made while tracing for mg.jit was "
                    "read into Python (item/float/int/bool, .tolist(), .numpy()) and kept "
                    "where fn reaches it again: a change to it between calls would not "
                    "reach the compiled function, which keeps the value read. Make it "
                    "outside fn, or read it with minigrad ops")
        trace.assigns = list(self.assigned.values())
        self._inline_scalar_constants(kept)
        leaves = {id(t): t for t in touched}
        leaves.update(self.grad_touched)
        leaves.update(self.cleared)
        for leaf in leaves.values():
            final = leaf.grad
            if final is None:
                if (id(leaf) in self.grad_touched or id(leaf) in self.grads_at_start
                        or id(leaf) in self.cleared):
                    trace.grad_clears.append(leaf)
            elif id(final) in trace.value_of and trace.graph[trace.value_of[id(final)]].op != (
                    "input"):
                trace.grad_stores.append((leaf, trace.value_of[id(final)]))
        return trace


def native(dtype: np.dtype) -> np.dtype:
    """``dtype`` in native byte order (the kernels' dtypes)."""
    return dtype if dtype.isnative else dtype.newbyteorder("=")


def _is_scalar_constant(tensor: Tensor, existing: dict[int, Tensor], assigned: dict) -> bool:
    return (id(tensor) not in existing and id(tensor) not in assigned and tensor.numel() == 1
            and tensor.dtype.kind in "fiub")


def _tensors_now() -> tuple[dict[int, Tensor], dict[int, Tensor]]:
    """(id -> every live tensor, id -> tensor for those whose .grad is set)."""
    tensors = [obj for obj in gc.get_objects() if issubclass(type(obj), Tensor)]
    with_grad = {id(t): t for t in tensors if t.grad is not None}
    return {id(t): t for t in tensors}, with_grad


@contextlib.contextmanager
def tracing(tracer: Tracer) -> Iterator[None]:
    """Install the tracer's hooks in this thread and record every node's inputs.

    Everything is per thread (``STATE``) and restored on every exit, exceptions included:
    the hooks, the recording depth, the random-draw stand-ins, the module stack and the
    grad mode. Other threads draw and run as if no trace were running.
    """
    hooks: list[tuple[list, Callable]] = [
        (STATE.node_hooks, tracer.on_node),
        (STATE.assign_hooks, tracer.on_assign),
        (STATE.grad_hooks, tracer.on_grad),
        (STATE.read_hooks, tracer.on_read),
        (STATE.grad_clear_hooks, tracer.on_grad_clear),
    ]
    saved = (STATE.rng_guard, STATE.uniform_recorder, STATE.module_stack,
             STATE.grad_enabled, STATE.recording)
    for table, hook in hooks:
        table.append(hook)
    STATE.rng_guard = _refuse_random  # raw draws would be frozen: refused
    STATE.uniform_recorder = tracer.recorded_uniform
    STATE.module_stack = ModuleRecorder(tracer.modules_called, saved[2])
    try:
        with recording(), watching_data_reads():
            yield
    finally:
        tracer.restore_tags()
        (STATE.rng_guard, STATE.uniform_recorder, STATE.module_stack,
         STATE.grad_enabled, STATE.recording) = saved
        for table, hook in hooks:
            if hook in table:
                table.remove(hook)


_DATA_SLOT = Tensor.__dict__["data"]  # the slot's own descriptor
_watchers = [0]  # traces running in any thread: Tensor.data is the watching property
_watch_lock = threading.Lock()


def _read_data(tensor: Tensor) -> Any:
    """``tensor.data`` while some thread traces: a read from code outside minigrad (the
    traced function's own ``t.data``) in a thread that traces goes to its read hooks (the
    tracer refuses it, as ``item()``: the value would be frozen into the compiled code).
    minigrad's own modules read ``.data`` to compute every op and pass; those of them that
    turn values into Python numbers call the hooks themselves (``read_values``)."""
    if STATE.read_hooks:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller != "minigrad" and not caller.startswith("minigrad."):
            for hook in STATE.read_hooks:
                hook(tensor)
    return _DATA_SLOT.__get__(tensor, Tensor)


@contextlib.contextmanager
def watching_data_reads() -> Iterator[None]:
    """``Tensor.data`` as ``_read_data``'s property while this trace runs (the slot again
    when no thread traces: eager mode never pays for the check)."""
    with _watch_lock:
        _watchers[0] += 1
        if _watchers[0] == 1:
            Tensor.data = property(_read_data, _DATA_SLOT.__set__)  # type: ignore[assignment]
    try:
        yield
    finally:
        with _watch_lock:
            _watchers[0] -= 1
            if _watchers[0] == 0:
                Tensor.data = _DATA_SLOT  # type: ignore[assignment]


class ModuleRecorder(list):
    """``STATE.module_stack`` while tracing: a list that also remembers every module pushed
    (every module whose forward ran, even one that made no node, e.g. Dropout in eval)."""

    def __init__(self, seen: dict[int, Any], items: list) -> None:
        super().__init__(items)
        self.seen = seen

    def append(self, module: Any) -> None:
        self.seen[id(module)] = module
        super().append(module)


def _refuse_random() -> Any:
    raise NotCompilableError(
        "random numbers were drawn from minigrad's generator (rng()) while tracing for "
        "mg.jit: the compiled function would reuse the same draw on every call. Draw them "
        "with nn.functional.rand_uniform (dropout does), which mg.jit repeats at every "
        "call, or run this code without jit"
    )
