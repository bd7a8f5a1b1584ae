"""Fusion planning and Numba source generation for a lowered JIT graph.

Plan
----
* An elementwise value is *inlined* (recomputed inside the loop of each consumer, as a
  local scalar) when every consumer is an elementwise op of the same shape or a reduction;
  otherwise - or when it is a result - it is *materialised* into an array.
* Every materialised elementwise value and every reduction is a *loop item* with a loop
  shape (its own shape; a reduction's input shape). Items are packed, in topological order,
  into the earliest loop nest of the same shape that runs after everything they read, so a
  reduction consumes its elementwise producers in the same loop, and independent
  reductions over the same data share one pass.
* A 2-D matmul with a dimension of at most SMALL_MATMUL_DIM is a loop item too (see
  MatmulLoop): with a small inner dimension an elementwise expression (inlined like one),
  ``X.T @ B`` with a small M or N a sum over the batch axis in the loop computing B.
* Other matmuls (``np.dot``, BLAS; ``(A @ B).T`` read alone becomes ``B.T @ A.T``;
  batched operands loop over the broadcast batch axes around ``np.dot`` of 2-D slices,
  or around the K products per element when K <= SMALL_MATMUL_DIM),
  transposes (``.T`` views when only matmuls read them, also through other views),
  gather/scatter, indexing and reshape (a view) are *calls*, each its own step; so are
  the fused BatchNorm kernel ops (``bn_stats``, ``bn_apply``, ``bn_normalize``,
  ``bn_grad_sums``, ``bn_dx``, ``bn_row``), which call the hand-written functions of
  ``minigrad.jit.bn_kernels`` (imported by module path).

Code
----
One ``@njit(cache=True, error_model="numpy")`` function per graph (``fastmath`` off). Loops
over large data use ``prange``; a reduction over the outer axis then accumulates into
per-thread private rows (``acc[t, ...]``) combined after the loop. Float sums accumulate in
float64. Every value is a generated identifier (``v12``); no user text reaches the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..ops import OPS
from .ir import Graph, NotCompilableError, Value, consumers

PARALLEL_MIN_ELEMENTS = 1 << 16
# Rows per sweep of a loop that reduces over axis 0 (see _Generator._emit_unrolled).
UNROLL_ROWS = 4
# Results this large are written into arrays the caller lends (reused across calls when
# nobody holds the previous result): fresh large allocations page-fault on every call.
BUFFER_MIN_ELEMENTS = 1 << 16
# Only the explicit prange loops run in parallel (the other parfor passes cost compile time).
PRANGE_ONLY = ("{'prange': True, 'comprehension': False, 'reduction': False, 'setitem': False, "
               "'numpy': False, 'stencil': False, 'fusion': False, 'inplace_binop': False}")
REDUCE_OPS = ("reduce_sum", "reduce_max")
BN_CALL_OPS = ("bn_stats", "bn_apply", "bn_normalize", "bn_grad_sums", "bn_dx", "bn_row")
CALL_OPS = ("reshape", "transpose", "matmul", "gather", "scatter_add", "index", "index_add",
            *BN_CALL_OPS)


def ishape(value: Value) -> tuple[int, ...]:
    """The stored shape: 0-d values are kept as shape (1,)."""
    return value.shape or (1,)


def is_elementwise(value: Value) -> bool:
    """Elementwise and comparison rows, and broadcast_to (a broadcasting read)."""
    if value.op == "broadcast_to":
        return True
    row = OPS.get(value.op)
    return row is not None and row.kind in ("elementwise", "compare")


def np_dtype(dtype: np.dtype) -> str:
    """The numpy constructor naming ``dtype`` in generated code."""
    return "np.bool_" if dtype.kind == "b" else f"np.{dtype.name}"


# A matmul with a dimension this small is generated as loops fused with its neighbours
# instead of a BLAS call (whose call overhead dominates at such sizes).
SMALL_MATMUL_DIM = 8


@dataclass(frozen=True)
class MatmulLoop:
    """A 2-D matmul C = A @ B computed in a loop nest instead of calling BLAS.

    * ``kind == "inner"`` (K <= SMALL_MATMUL_DIM): an elementwise value over C's shape,
      C[i, j] = sum_k A[i, k] * B[k, j], the K products summed in order in the dtype.
    * ``kind == "batch"`` (A = X^T with X (K, M), B (K, N), min(M, N) <= SMALL_MATMUL_DIM):
      a reduction over axis 0 of the larger of X and B (the *big* operand, shape (K, P)),
      C[m, n] = sum_k X[k, m] * B[k, n], the small operand (K, S) read at [k, s] and a
      float64 accumulator per output (as reduce_sum).

    Operands are read through chains of transposes (``a_base``/``b_base``, ``*_swapped``
    when an odd number of transposes lies between).
    """

    kind: str
    a_base: int
    a_swapped: bool
    b_base: int
    b_swapped: bool
    big: int = -1      # batch: the big operand's id; -1 for inner
    small: int = -1    # batch: the small operand's id
    big_is_b: bool = False


@dataclass
class Step:
    """One step of the kernel plan: a loop nest (items share it) or a call."""

    kind: str                      # "loop" or "call"
    shape: tuple[int, ...]
    items: list[int] = field(default_factory=list)

    def describe(self, graph: Graph, inlined: dict[int, list[int]]) -> str:
        """How the plan prints this step."""
        if self.kind == "call":
            value = graph[self.items[0]]
            return f"call  {value.op} -> v{value.vid} {value.shape}"
        parts = []
        for vid in self.items:
            fused = inlined.get(vid, [])
            tail = f" <- fused [{', '.join(f'v{i} {graph[i].op}' for i in fused)}]" if fused else ""
            parts.append(f"v{vid} {graph[vid].op}{tail}")
        return f"loop  over {self.shape}: " + "; ".join(parts)


@dataclass
class Plan:
    """Which values are arrays, which are inlined, and the ordered steps."""

    materialised: set[int]
    steps: list[Step]
    inlined: dict[int, list[int]]   # loop item -> inlined elementwise values it computes
    views: set[int] = field(default_factory=set)  # 2-D transposes read only by matmul
    matmul_loops: dict[int, MatmulLoop] = field(default_factory=dict)
    # transpose id -> the BLAS matmul it is the only reader of: emitted as B^T @ A^T
    transposed_products: dict[int, int] = field(default_factory=dict)

    def describe(self, graph: Graph) -> str:
        """The kernel plan as text (printed with MINIGRAD_DEBUG=1)."""
        lines = [f"step {k}: {s.describe(graph, self.inlined)}" for k, s in enumerate(self.steps)]
        return "\n".join(lines)


# -------------------------------------------------------------------------- planning
def plan(graph: Graph) -> Plan:
    """Decide materialisation and pack loop items into loop nests (see module docstring)."""
    users = consumers(graph)
    roots = set(graph.roots)
    views = _transpose_views(graph, users, roots)
    loops = _matmul_loops(graph, views)
    fusion = _Fusion(graph, loops)
    materialised = set()
    for value in graph.values:
        if value.op == "literal":
            continue
        if not fusion.elementwise(value) or value.vid in roots or any(
                not fusion.can_inline(value, graph[u]) for u in users[value.vid]):
            materialised.add(value.vid)
    steps: list[Step] = []
    step_of: dict[int, int] = {}
    inlined: dict[int, list[int]] = {}
    all_reads: dict[int, set[int]] = {}
    for value in graph.values:
        if value.vid not in materialised or value.op == "input":
            continue
        if value.op in CALL_OPS and value.vid not in loops:
            steps.append(Step("call", ishape(value), [value.vid]))
            step_of[value.vid] = len(steps) - 1
            continue
        tree, reads = fusion.inline_tree(value, materialised)
        inlined[value.vid] = tree
        all_reads[value.vid] = reads
        shape = fusion.loop_shape(value)
        first = max((fusion.earliest_step(graph[r], shape, step_of) for r in reads), default=0)
        target = next((k for k in range(first, len(steps))
                       if steps[k].kind == "loop" and steps[k].shape == shape), None)
        if target is None:
            steps.append(Step("loop", shape))
            target = len(steps) - 1
        steps[target].items.append(value.vid)
        step_of[value.vid] = target
    _defer_reductions(graph, steps, all_reads)
    steps = [step for step in steps if step.items]
    products = {v.vid: v.inputs[0] for v in graph.values
                if v.op == "transpose" and len(v.shape) == 2 and v.vid not in views
                and graph[v.inputs[0]].op == "matmul" and v.inputs[0] not in loops
                and v.inputs[0] not in roots and users[v.inputs[0]] == [v.vid]
                and all(len(graph[i].shape) == 2 for i in graph[v.inputs[0]].inputs)}
    return Plan(materialised, steps, inlined, views, loops, products)


def _transpose_views(graph: Graph, users: dict[int, list[int]], roots: set[int]) -> set[int]:
    """2-D transposes read only by matmuls or by other such transposes: ``.T`` views (and
    index swaps where a loop reads them), never copied. Transposes of more axes that swap
    the last two only and are read only by (batched) matmuls are views too: the matmul
    reads their input with its last two axes swapped."""
    views: set[int] = set()
    for value in reversed(graph.values):  # readers are decided before what they read
        if value.op != "transpose" or value.vid in roots or not users[value.vid]:
            continue
        readers = [graph[u] for u in users[value.vid]]
        if len(value.shape) == 2 and all(r.op == "matmul" or r.vid in views for r in readers):
            views.add(value.vid)
        elif swaps_last_axes(value) and all(r.op == "matmul" for r in readers):
            views.add(value.vid)
    return views


def swaps_last_axes(value: Value) -> bool:
    """A transpose of more than two axes that swaps the last two and keeps the others."""
    perm, n = tuple(value.attrs["perm"]), len(value.shape)
    return n > 2 and perm == (*range(n - 2), n - 1, n - 2)


def through_views(graph: Graph, vid: int, views: set[int]) -> tuple[int, bool]:
    """(the array a chain of transpose views reads, whether an odd number of them lies
    between: then element [r, c] of ``vid`` is element [c, r] of that array)."""
    swapped = False
    while vid in views:
        vid = graph[vid].inputs[0]
        swapped = not swapped
    return vid, swapped


def _matmul_loops(graph: Graph, views: set[int]) -> dict[int, MatmulLoop]:
    """The matmuls generated as loops (see MatmulLoop): 2-D float operands of the result's
    dtype with a dimension of at most SMALL_MATMUL_DIM, small enough for a serial loop."""
    loops: dict[int, MatmulLoop] = {}
    for value in graph.values:
        if value.op != "matmul" or value.dtype.kind != "f":
            continue
        a, b = (graph[i] for i in value.inputs)
        if len(a.shape) != 2 or len(b.shape) != 2 or a.dtype != value.dtype != b.dtype:
            continue
        (m, k), n = a.shape, b.shape[1]
        a_base, a_swapped = through_views(graph, a.vid, views)
        b_base, b_swapped = through_views(graph, b.vid, views)
        if k <= SMALL_MATMUL_DIM:
            loops[value.vid] = MatmulLoop("inner", a_base, a_swapped, b_base, b_swapped)
        elif (a_swapped and not b_swapped and min(m, n) <= SMALL_MATMUL_DIM
              and k * max(m, n) < PARALLEL_MIN_ELEMENTS):
            big_is_b = n > m
            loops[value.vid] = MatmulLoop(
                "batch", a_base, a_swapped, b_base, b_swapped,
                big=b_base if big_is_b else a_base, small=a_base if big_is_b else b_base,
                big_is_b=big_is_b)
    return loops


class _Fusion:
    """The fusion rules of the plan, knowing which matmuls are loops."""

    def __init__(self, graph: Graph, loops: dict[int, MatmulLoop]) -> None:
        self.graph = graph
        self.loops = loops

    def elementwise(self, value: Value) -> bool:
        """Elementwise ops, and matmuls computed as an expression per output element."""
        loop = self.loops.get(value.vid)
        return is_elementwise(value) or (loop is not None and loop.kind == "inner")

    def reduces(self, value: Value) -> bool:
        """Reductions, and matmuls computed as a sum over the loop's outer axis."""
        loop = self.loops.get(value.vid)
        return value.op in REDUCE_OPS or (loop is not None and loop.kind == "batch")

    def can_inline(self, value: Value, user: Value) -> bool:
        """Whether ``value`` may be recomputed inside the loop of ``user``."""
        loop = self.loops.get(user.vid)
        if loop is not None:  # operands of loop matmuls are read at other indices
            return loop.kind == "batch" and loop.big == value.vid and (
                value.vid != loop.small)
        return _can_inline(value, user)

    def loop_shape(self, value: Value) -> tuple[int, ...]:
        """The loop a value's item runs in."""
        loop = self.loops.get(value.vid)
        if loop is not None and loop.kind == "batch":
            return ishape(self.graph[loop.big])
        return _loop_shape(self.graph, value)

    def earliest_step(self, read: Value, shape: tuple[int, ...], step_of: dict[int, int]
                      ) -> int:
        """The first step an item may join after reading ``read``: an elementwise result of
        the same loop shape can be used in the very loop that computes it."""
        if read.vid not in step_of:
            return 0
        same_loop = self.elementwise(read) and ishape(read) == shape
        return step_of[read.vid] + (0 if same_loop else 1)

    def inline_tree(self, item: Value, materialised: set[int]) -> tuple[list[int], set]:
        """(inlined elementwise ids the item computes, materialised ids it reads)."""
        loop = self.loops.get(item.vid)
        if loop is None:
            return _inline_tree(self.graph, item, materialised)
        if loop.kind == "inner":
            return [item.vid], {loop.a_base, loop.b_base}
        tree, reads = _inline_tree(self.graph, item, materialised, start=[loop.big])
        return tree, reads | {loop.small}


def _defer_reductions(graph: Graph, steps: list[Step], reads: dict[int, set[int]]) -> None:
    """Save passes: when only reductions of a loop read some full-size array, and a later
    loop of the same shape reads everything they read anyway (before any of their users),
    move them there. E.g. sum(g) joins the loop computing sum(g * xhat)."""
    def reads_of(item: int) -> set[int]:
        return reads.get(item, set(graph[item].inputs))

    def read_by(step: Step) -> set[int]:
        return set().union(*(reads_of(item) for item in step.items))

    for k, step in enumerate(steps):
        if step.kind != "loop":
            continue
        for array in sorted(read_by(step)):
            if ishape(graph[array]) != step.shape:
                continue
            readers = [item for item in step.items if array in reads_of(item)]
            if not readers or any(graph[r].op not in REDUCE_OPS for r in readers):
                continue
            users = [j for j, later in enumerate(steps) if j > k and any(
                r in reads_of(item) for item in later.items for r in readers)]
            needed = set().union(*(reads_of(r) for r in readers))
            target = next((j for j in range(k + 1, min(users, default=len(steps)))
                           if steps[j].kind == "loop" and steps[j].shape == step.shape
                           and needed <= read_by(steps[j])), None)
            if target is not None:
                for reader in readers:
                    step.items.remove(reader)
                    steps[target].items.append(reader)


def _can_inline(value: Value, user: Value) -> bool:
    if user.op in REDUCE_OPS:
        return True
    return is_elementwise(user) and ishape(user) == ishape(value)


def _loop_shape(graph: Graph, value: Value) -> tuple[int, ...]:
    return ishape(graph[value.inputs[0]]) if value.op in REDUCE_OPS else ishape(value)


def _inline_tree(graph: Graph, item: Value, materialised: set[int],
                 start: list[int] | None = None) -> tuple[list[int], set]:
    """(inlined elementwise ids the item computes, materialised ids it reads); the walk
    starts at ``start`` (default: a reduction's input, else the item itself)."""
    tree: set[int] = set()
    reads: set[int] = set()
    if start is None:
        start = list(item.inputs) if item.op in REDUCE_OPS else [item.vid]
    stack = start
    first = True
    while stack:
        vid = stack.pop()
        value = graph[vid]
        if value.op == "literal":
            continue
        if vid in materialised and not (first and vid == item.vid):
            reads.add(vid)
            continue
        first = False
        if vid in tree:
            continue
        tree.add(vid)
        stack.extend(value.inputs)
    return sorted(tree), reads


# -------------------------------------------------------------------------- emitting
class Source:
    """Lines of Python with indentation."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 1

    def add(self, text: str) -> None:
        """Append one line at the current depth."""
        self.lines.append("    " * self.depth + text)


@dataclass
class Kernel:
    """The generated module source and how to call its function."""

    source: str
    plan_text: str
    inputs: list[int]              # graph ids of the kernel's array arguments, in order
    constants: list[np.ndarray]    # extra arrays (flat index maps) appended to the arguments
    parallel: bool
    buffers: list[int] = field(default_factory=list)  # results written into lent arrays


def generate(graph: Graph, parallel: bool = True) -> Kernel:
    """The Numba module for ``graph`` (one function, ``kernel``)."""
    the_plan = plan(graph)
    inputs = [v.vid for v in graph.values if v.op == "input"]
    gen = _Generator(graph, the_plan, parallel)
    users = consumers(graph)
    for value in graph.values:  # literals some step needs as an array
        if value.op == "literal" and (value.vid in graph.roots or any(
                graph[u].op in CALL_OPS for u in users[value.vid])):
            gen.src.add(f"v{value.vid} = np.full({ishape(value)}, {literal(value)}, "
                        f"{np_dtype(value.dtype)})")
    for step in the_plan.steps:
        if step.kind == "call":
            gen.emit_call(graph[step.items[0]])
        else:
            gen.emit_loop(step)
    returned = ", ".join(f"v{r}" for r in graph.roots)
    gen.src.add(f"return ({returned}{',' if len(graph.roots) == 1 else ''})")
    args = [f"v{i}" for i in inputs] + [f"c{k}" for k in range(len(gen.constants))]
    args += [f"o{v}" for v in gen.buffers] + ["T"]
    uses_prange = gen.uses_prange
    header = [
        '"""Generated by minigrad.jit - do not edit (cache key in the file name)."""',
        "import numba",
        "import numpy as np",
        "from numba import prange",
        *(["", "from minigrad.jit import bn_kernels"] if gen.uses_bn_kernels else []),
        "",
        "",
        f"@numba.njit(cache=True, error_model='numpy', fastmath=False, nogil=True, "
        f"parallel={PRANGE_ONLY if uses_prange else False})",
        f"def kernel({', '.join(args)}):",
        *(f"    # v{i}: uniform [0, 1) numbers, drawn anew at every call" for i in inputs
          if graph[i].attrs.get("draw") == "uniform"),
    ]
    source = "\n".join(header + gen.src.lines) + "\n"
    return Kernel(source, the_plan.describe(graph), inputs, gen.constants,
                  uses_prange or gen.uses_bn_kernels, gen.buffers)


class _Generator:
    """Emits the body of ``kernel`` step by step."""

    def __init__(self, graph: Graph, the_plan: Plan, parallel: bool) -> None:
        self.graph = graph
        self.plan = the_plan
        self.parallel = parallel
        self.src = Source()
        self.constants: list[np.ndarray] = []
        self.buffers: list[int] = []
        self.uses_prange = False
        self.uses_bn_kernels = False  # they take the thread count T
        self.emitted: set[int] = set()  # calls already made by an earlier combined call
        self.tag = ""  # suffix of scalar names in the current copy of an unrolled body
        self.copied: set[int] = set()  # arrays with a transposed copy w<id> (_inner_product)

    # ------------------------------------------------------------------------ loops
    def emit_loop(self, step: Step) -> None:
        """One loop nest computing every item of ``step``."""
        g, src, shape = self.graph, self.src, step.shape
        loops = self.plan.matmul_loops
        reduces = [g[v] for v in step.items if g[v].op in REDUCE_OPS]
        batches = [g[v] for v in step.items if v in loops and loops[v].kind == "batch"]
        stores = [g[v] for v in step.items if g[v].op not in REDUCE_OPS
                  and g[v] not in batches]
        big = self.parallel and int(np.prod(shape)) >= PARALLEL_MIN_ELEMENTS and shape[0] > 1
        chunked = big and any(0 in r.attrs["axes"] for r in reduces)
        src.add(f"# loop over {shape}: " + ", ".join(f"v{v}" for v in step.items))
        for value in stores:
            if value.vid in self.graph.roots and value.size >= BUFFER_MIN_ELEMENTS:
                self.buffers.append(value.vid)  # a large result: the caller lends a buffer
                src.add(f"v{value.vid} = o{value.vid}")
            else:
                src.add(f"v{value.vid} = np.empty({ishape(value)}, {np_dtype(value.dtype)})")
        self._init_accumulators(reduces, shape, chunked)
        for value in batches:
            src.add(f"acc{value.vid} = np.zeros({value.size}, np.float64)")
        self._copy_swapped_operands(step)
        depth = src.depth
        if _unrolls(shape, reduces):
            self._emit_unrolled(step, shape, chunked, stores, reduces)
            src.depth = depth
            self._finish_reduces(reduces, shape, chunked)
            self._finish_batches(batches)
            return
        if chunked:
            self.uses_prange = True
            src.add("for t in prange(T):")
            src.depth += 1
            src.add(f"for i0 in range(t * {shape[0]} // T, (t + 1) * {shape[0]} // T):")
        elif big:
            self.uses_prange = True
            src.add(f"for i0 in prange({shape[0]}):")
        elif shape[0] != 1:  # 0 rows: a loop that never runs (never "i0 = 0")
            src.add(f"for i0 in range({shape[0]}):")
        else:
            src.add("i0 = 0")
            src.depth -= 1
        self._emit_rows(step, shape, chunked, stores, reduces)
        src.depth = depth
        self._finish_reduces(reduces, shape, chunked)
        self._finish_batches(batches)

    def _emit_rows(self, step: Step, shape: tuple[int, ...], chunked: bool,
                   stores: list[Value], reduces: list[Value], rows: int = 1) -> None:
        """Inside the loop over axis 0: the inner loops, then ``rows`` copies of the body
        (rows > 1: row ``i0 = b0 + u`` in copy u, names suffixed ``_u``), their stores, and one
        update of each accumulator with the copies' terms."""
        self._open_inner_loops(shape)
        copies = []
        for u in range(rows):
            if rows > 1:
                self.src.add(f"i0 = b0 + {u}")
                self.tag = f"_{u}"
            copies.append(self._emit_body(step, shape))
            self._store(stores, shape, copies[-1])
        self.tag = ""
        for value in reduces:
            self._accumulate(value, shape, chunked, copies)
        self._accumulate_batches(step, copies)

    def _open_inner_loops(self, shape: tuple[int, ...]) -> None:
        """Loops over axes 1.. (a size-1 axis gets ``i<k> = 0``, a size-0 axis a loop that
        never runs); leaves depth in the body."""
        src = self.src
        for k in range(1, len(shape)):
            src.depth += 1
            if shape[k] != 1:
                src.add(f"for i{k} in range({shape[k]}):")
            else:  # a size-1 axis needs no loop
                src.add(f"i{k} = 0")
                src.depth -= 1
        src.depth += 1

    def _store(self, stores: list[Value], shape: tuple[int, ...], names: dict[int, str]) -> None:
        full = ", ".join(f"i{k}" for k in range(len(shape)))
        for value in stores:
            self.src.add(f"v{value.vid}[{full}] = {names[value.vid]}")

    def _emit_unrolled(self, step: Step, shape: tuple[int, ...], chunked: bool,
                       stores: list[Value], reduces: list[Value]) -> None:
        """A loop reducing over axis 0, UNROLL_ROWS rows per sweep of the inner axes: the
        rows' terms are added together before one update of the accumulator row (a quarter
        of its loads and stores). Thread chunks start at multiples of UNROLL_ROWS; the
        N mod UNROLL_ROWS last rows (if any) follow one at a time, after the parallel loop."""
        src, rows = self.src, UNROLL_ROWS
        blocks, leftover = divmod(shape[0], rows)
        depth = src.depth
        if chunked:
            self.uses_prange = True
            src.add("for t in prange(T):")
            src.depth += 1
            src.add(f"for b0 in range(t * {blocks} // T * {rows}, "
                    f"(t + 1) * {blocks} // T * {rows}, {rows}):")
        else:
            src.add(f"for b0 in range(0, {blocks * rows}, {rows}):")
        self._emit_rows(step, shape, chunked, stores, reduces, rows)
        src.depth = depth
        if not leftover:
            return
        if chunked:
            src.add("t = 0")
        src.add(f"for i0 in range({blocks * rows}, {shape[0]}):")
        self._emit_rows(step, shape, chunked, stores, reduces)
        src.depth = depth

    def _emit_body(self, step: Step, shape: tuple[int, ...]) -> dict[int, str]:
        """Loads and scalar expressions, each once; returns the name holding each value."""
        g = self.graph
        here = set(step.items)
        needed: set[int] = set()
        for vid in step.items:
            needed.update(self.plan.inlined.get(vid, []))
            if g[vid].op in REDUCE_OPS:
                needed.add(g[vid].inputs[0])
            elif vid in self.plan.matmul_loops and self.plan.matmul_loops[vid].kind == "batch":
                needed.add(self.plan.matmul_loops[vid].big)
        names: dict[int, str] = {}
        for vid in sorted(needed):
            value = g[vid]
            if value.op == "literal":
                continue
            if vid in self.plan.materialised and vid not in here:
                self._operand(vid, names, shape)
            else:
                self._emit_scalar(value, names, shape)
        self._batch_products(step, names)
        return names

    def _operand(self, vid: int, names: dict[int, str], shape: tuple[int, ...]) -> str:
        value = self.graph[vid]
        if value.op == "literal":
            return literal(value)
        if vid not in names:
            names[vid] = f"a{vid}{self.tag}"
            self.src.add(f"{names[vid]} = v{vid}[{broadcast_index(ishape(value), shape)}]")
        return names[vid]

    def _emit_scalar(self, value: Value, names: dict[int, str], shape: tuple[int, ...]) -> None:
        if value.vid in self.plan.matmul_loops:
            expr = self._inner_product(value)
        else:
            expr = scalar_expr(value, [self._operand(i, names, shape) for i in value.inputs],
                               self.graph)
        names[value.vid] = f"e{value.vid}{self.tag}"
        self.src.add(f"{names[value.vid]} = {expr}")

    def _inner_product(self, value: Value) -> str:
        """C[i0, i1] = A[i0, 0] * B[0, i1] + A[i0, 1] * B[1, i1] + ... (K terms, in order),
        reading A through its transpose views and B as a (K, N) C-contiguous array."""
        loop = self.plan.matmul_loops[value.vid]
        b = f"w{loop.b_base}" if loop.b_swapped else f"v{loop.b_base}"
        terms = []
        for k in range(self.graph[value.inputs[0]].shape[1]):
            a = f"v{loop.a_base}[{k}, i0]" if loop.a_swapped else f"v{loop.a_base}[i0, {k}]"
            terms.append(f"{a} * {b}[{k}, i1]")
        return "(" + " + ".join(terms) + ")"

    def _copy_swapped_operands(self, step: Step) -> None:
        """``w<id> = (K, N) contiguous copy`` of each B an inner-product matmul of the step
        reads transposed (K <= 8, so small), once per kernel: read along the inner loop at
        a stride the compiler does not know, B would not vectorise."""
        for vid in step.items:
            for inner in (vid, *self.plan.inlined.get(vid, [])):
                loop = self.plan.matmul_loops.get(inner)
                if loop is None or not loop.b_swapped or loop.b_base in self.copied:
                    continue
                self.copied.add(loop.b_base)
                self.src.add(f"w{loop.b_base} = np.ascontiguousarray(v{loop.b_base}.T)")

    def _batch_products(self, step: Step, names: dict) -> None:
        """X[k, m] * B[k, n] for each batch matmul of the step (see MatmulLoop) and each of
        the small operand's S columns, at the element (i0, i1) of the big operand (K, P)
        just computed; named in ``names`` under (matmul id, column)."""
        for vid in step.items:
            loop = self.plan.matmul_loops.get(vid)
            if loop is None or loop.kind != "batch":
                continue
            for s in range(self.graph[loop.small].shape[1]):
                names[(vid, s)] = f"p{vid}_{s}{self.tag}"
                self.src.add(f"{names[(vid, s)]} = v{loop.small}[i0, {s}] * {names[loop.big]}")

    def _accumulate_batches(self, step: Step, copies: list[dict]) -> None:
        """C[m, n] += the products of each copy of the body (one per unrolled row), added
        pairwise first: acc[s, i1], contiguous in i1."""
        for vid in step.items:
            loop = self.plan.matmul_loops.get(vid)
            if loop is None or loop.kind != "batch":
                continue
            size = self.graph[loop.big].shape[1]
            for s in range(self.graph[loop.small].shape[1]):
                terms = [names[(vid, s)] for names in copies]
                self.src.add(f"acc{vid}[{s * size} + i1] += {_pairwise(terms)}")

    def _finish_batches(self, batches: list[Value]) -> None:
        """C from the float64 accumulators acc[s, p]: C = acc when the big operand is B,
        C = acc^T when it is X."""
        for value in batches:
            vid, (m, n) = value.vid, value.shape
            if self.plan.matmul_loops[vid].big_is_b:
                self.src.add(f"v{vid} = acc{vid}.astype({np_dtype(value.dtype)})"
                             f".reshape({value.shape})")
                continue
            self.src.add(f"v{vid} = np.empty({value.shape}, {np_dtype(value.dtype)})")
            self.src.add(f"for j in range({m}):")
            for s in range(n):
                self.src.add(f"    v{vid}[j, {s}] = acc{vid}[{s * m} + j]")

    def _init_accumulators(self, reduces: list[Value], shape: tuple[int, ...],
                           chunked: bool) -> None:
        """The accumulators of a loop's reductions: sums of one size and dtype share one
        zeroed array (``accs<id> = np.zeros((n, size))``, a row each: one allocation)."""
        shared: dict[tuple[int, str], list[Value]] = {}
        for value in reduces:
            if value.op == "reduce_sum" and not (chunked and 0 in value.attrs["axes"]):
                key = (_kept_size(value, shape),
                       accumulator_dtype(value.op, self.graph[value.inputs[0]].dtype))
                shared.setdefault(key, []).append(value)
            else:
                self._init_accumulator(value, shape, chunked)
        for (size, dtype), values in shared.items():
            if len(values) == 1:
                self._init_accumulator(values[0], shape, chunked)
                continue
            group = f"accs{values[0].vid}"
            self.src.add(f"{group} = np.zeros(({len(values)}, {size}), {dtype})")
            for row, value in enumerate(values):
                self.src.add(f"acc{value.vid} = {group}[{row}]")

    def _init_accumulator(self, value: Value, shape: tuple[int, ...], chunked: bool) -> None:
        """A flat accumulator over the kept axes (per-thread rows when chunked over axis 0)."""
        src = self.graph[value.inputs[0]]
        size = _kept_size(value, shape)
        dims = f"(T, {size})" if chunked and 0 in value.attrs["axes"] else f"{size}"
        acc_dtype = accumulator_dtype(value.op, src.dtype)
        if value.op == "reduce_sum":
            self.src.add(f"acc{value.vid} = np.zeros({dims}, {acc_dtype})")
        else:
            self.src.add(f"acc{value.vid} = np.full({dims}, {max_identity(src.dtype)}, "
                         f"{acc_dtype})")

    def _acc_index(self, value: Value, shape: tuple[int, ...], chunked: bool) -> str:
        axes = value.attrs["axes"]
        kept = [k for k in range(len(shape)) if k not in axes and shape[k] > 1]
        terms = []
        for pos, k in enumerate(kept):
            stride = int(np.prod([shape[m] for m in kept[pos + 1:]], dtype=np.int64))
            terms.append(f"i{k} * {stride}" if stride != 1 else f"i{k}")
        flat = " + ".join(terms) or "0"
        return f"t, {flat}" if chunked and 0 in axes else flat

    def _accumulate(self, value: Value, shape: tuple[int, ...], chunked: bool,
                    copies: list[dict[int, str]]) -> None:
        """Add the term of each copy of the body (one per unrolled row) to the accumulator:
        a sum adds them pairwise first, a maximum compares them one by one."""
        terms = [self._operand(value.inputs[0], names, shape) for names in copies]
        slot = f"acc{value.vid}[{self._acc_index(value, shape, chunked)}]"
        if value.op == "reduce_sum":
            self.src.add(f"{slot} += {_pairwise(terms)}")
            return
        for term in terms:
            self.src.add(f"if {term} > {slot} or {term} != {term}:")
            self.src.add(f"    {slot} = {term}")

    def _finish_reduces(self, reduces: list[Value], shape: tuple[int, ...],
                        chunked: bool) -> None:
        """Combine private rows, scale and cast: one flat loop per accumulator size."""
        by_size: dict[tuple[int, bool], list[Value]] = {}
        for value in reduces:
            private = chunked and 0 in value.attrs["axes"]
            by_size.setdefault((_kept_size(value, shape), private), []).append(value)
        src = self.src
        for (size, private), values in by_size.items():
            self._result_rows(values, size)
            src.add(f"for j in range({size}):")
            for value in values:
                self._finish_one(value, private)
            for value in values:
                if ishape(value) == (size,):
                    src.add(f"v{value.vid} = k{value.vid}")
                else:
                    src.add(f"v{value.vid} = k{value.vid}.reshape({ishape(value)})")

    def _result_rows(self, values: list[Value], size: int) -> None:
        """``k<id>``, the flat result array of each reduction: values of one dtype share
        one array (``ks<id> = np.empty((n, size))``, a row each: one allocation)."""
        by_dtype: dict[str, list[Value]] = {}
        for value in values:
            by_dtype.setdefault(np_dtype(value.dtype), []).append(value)
        for dtype, group in by_dtype.items():
            if len(group) == 1:
                self.src.add(f"k{group[0].vid} = np.empty({size}, {dtype})")
                continue
            self.src.add(f"ks{group[0].vid} = np.empty(({len(group)}, {size}), {dtype})")
            for row, value in enumerate(group):
                self.src.add(f"k{value.vid} = ks{group[0].vid}[{row}]")

    def _finish_one(self, value: Value, private: bool) -> None:
        src, vid = self.src, value.vid
        scale = value.attrs.get("scale", 1.0)
        scaled = "s" if scale == 1.0 or value.op == "reduce_max" else f"s * {scale!r}"
        if private:
            src.add(f"    s = acc{vid}[0, j]")
            src.add("    for t in range(1, T):")
            if value.op == "reduce_sum":
                src.add(f"        s += acc{vid}[t, j]")
            else:
                src.add(f"        if acc{vid}[t, j] > s or acc{vid}[t, j] != acc{vid}[t, j]:")
                src.add(f"            s = acc{vid}[t, j]")
        else:
            src.add(f"    s = acc{vid}[j]")
        src.add(f"    k{vid}[j] = {np_dtype(value.dtype)}({scaled})")

    # ------------------------------------------------------------------------ calls
    def emit_call(self, value: Value) -> None:
        """A non-fusible step: reshape, transpose, matmul, gather, scatter, indexing."""
        if value.vid not in self.emitted:
            getattr(self, f"_call_{value.op}")(value)

    def _call_reshape(self, value: Value) -> None:
        self.src.add(f"v{value.vid} = v{value.inputs[0]}.reshape({ishape(value)})")

    def _call_transpose(self, value: Value) -> None:
        if value.vid in self.plan.views:
            if len(value.shape) == 2:
                self.src.add(f"v{value.vid} = v{value.inputs[0]}.T")
            return  # more axes: the batched matmuls reading it read its input swapped
        product = self.plan.transposed_products.get(value.vid)
        if product is not None:  # (A @ B)^T = B^T @ A^T: no copy of the product
            a, b = self.graph[product].inputs
            self._matmul(value, self.graph[b], self.graph[a], ".T")
            return
        perm = value.attrs["perm"]
        shape = ishape(value)
        source_index = [""] * len(perm)
        for k, axis in enumerate(perm):
            source_index[axis] = f"i{k}"
        self._copy_loop(value, shape, f"v{value.inputs[0]}[{', '.join(source_index)}]")

    def _copy_loop(self, value: Value, shape: tuple[int, ...], expr: str) -> None:
        src = self.src
        src.add(f"v{value.vid} = np.empty({shape}, {np_dtype(value.dtype)})")
        depth = src.depth
        for k, n in enumerate(shape):
            src.add(f"for i{k} in range({n}):")
            src.depth += 1
        src.add(f"v{value.vid}[{', '.join(f'i{k}' for k in range(len(shape)))}] = {expr}")
        src.depth = depth

    def _call_matmul(self, value: Value) -> None:
        if value.vid in self.plan.transposed_products.values():
            return  # computed transposed by its only reader
        self._matmul(value, *(self.graph[i] for i in value.inputs))

    def _matmul(self, value: Value, a: Value, b: Value, suffix: str = "") -> None:
        """``v = np.dot(a, b)`` (BLAS), with ``suffix`` (".T") applied to both operands;
        operands with batch axes go to ``_batched_matmul``."""
        if value.dtype.kind != "f":
            raise NotCompilableError(
                f"mg.jit compiles matmul of float operands only, got {a.shape} {a.dtype} @ "
                f"{b.shape} {b.dtype} (result {value.dtype}); integer matmul runs eagerly only"
            )
        if len(a.shape) > 2 or len(b.shape) > 2:
            self._batched_matmul(value, a, b)
            return
        left, right = (f"v{v.vid}{suffix}" if v.dtype == value.dtype else
                       f"v{v.vid}{suffix}.astype({np_dtype(value.dtype)})" for v in (a, b))
        if len(a.shape) == 1 and len(b.shape) == 1:
            self.src.add(f"v{value.vid} = np.empty(1, {np_dtype(value.dtype)})")
            self.src.add(f"v{value.vid}[0] = np.dot({left}, {right})")
        else:
            self.src.add(f"v{value.vid} = np.dot({left}, {right})")

    def _batched_matmul(self, value: Value, a: Value, b: Value) -> None:
        """C[..., m, n] = sum_k A[..., m, k] * B[..., k, n] over numpy's broadcast batch axes
        (a 1-D operand has no m or n axis, as in np.matmul): a loop nest over the batch
        axes around ``np.dot`` of the 2-D slices into C's slice (BLAS), or, when
        K <= SMALL_MATMUL_DIM, the K products of each element summed in order. A B without
        batch axes makes one ``np.dot`` of A seen as (batch * M, K)."""
        src, vid, inner = self.src, value.vid, a.shape[-1]
        empty = inner == 0 or value.size == 0
        src.add(f"v{vid} = np.{'zeros' if empty else 'empty'}({ishape(value)}, "
                f"{np_dtype(value.dtype)})")
        if empty:
            return
        (a, a_swapped), (b, b_swapped) = (self._batched_operand(v) for v in (a, b))
        left, right = (self._in_dtype(v, value.dtype) for v in (a, b))
        if inner > SMALL_MATMUL_DIM and len(b.shape) <= 2 and not a_swapped:
            # B has no batch axes: (batch * M, K) @ B in one call (A is C-contiguous)
            out = "-1, " + str(b.shape[-1]) if len(b.shape) == 2 else "-1"
            src.add(f"np.dot({left}.reshape((-1, {inner})), {right}, v{vid}.reshape(({out})))")
            return
        batch = value.shape[:len(value.shape) - (len(a.shape) > 1) - (len(b.shape) > 1)]
        depth = src.depth
        for axis, n in enumerate(batch):
            src.add(f"for i{axis} in range({n}):")
            src.depth += 1
        at = [f"i{axis}" for axis in range(len(batch))]
        ia, ib = (_batch_index(v.shape, batch) for v in (a, b))
        if inner <= SMALL_MATMUL_DIM:
            self._small_batched_product(value, (left, ia, a_swapped, a.shape),
                                        (right, ib, b_swapped, b.shape), at)
        else:
            a_part, b_part = (f"{name}[{index}]{'.T' if swapped else ''}" if index else name
                              for name, index, swapped in ((left, ia, a_swapped),
                                                           (right, ib, b_swapped)))
            src.add(f"np.dot({a_part}, {b_part}, v{vid}[{', '.join(at)}])")
        src.depth = depth

    def _batched_operand(self, operand: Value) -> tuple[Value, bool]:
        """(the array a batched matmul reads, whether its last two axes are swapped): the
        input of a transpose view of more than two axes, else the operand itself."""
        if operand.vid in self.plan.views and len(operand.shape) > 2:
            return self.graph[operand.inputs[0]], True
        return operand, False

    def _in_dtype(self, operand: Value, dtype: np.dtype) -> str:
        """The name of ``operand`` converted to ``dtype`` (once, before the loops)."""
        if operand.dtype == dtype:
            return f"v{operand.vid}"
        self.src.add(f"x{operand.vid} = v{operand.vid}.astype({np_dtype(dtype)})")
        return f"x{operand.vid}"

    def _small_batched_product(self, value: Value, a: tuple[str, str, bool, tuple],
                               b: tuple[str, str, bool, tuple], at: list[str]) -> None:
        """Inside the batch loops: loops over m and n (when the operands have them) and
        C[..., m, n] = A[..., m, 0] * B[..., 0, n] + ... (K terms, in order). Each operand
        is (name, batch index, last two axes swapped?, shape of the array read)."""
        (a_name, ia, a_swapped, a_shape), (b_name, ib, b_swapped, b_shape) = a, b
        rows, cols = len(a_shape) > 1, len(b_shape) > 1
        m, n = f"i{len(at)}", f"i{len(at) + 1}"
        if rows:
            self.src.add(f"for {m} in range({a_shape[-1 if a_swapped else -2]}):")
            self.src.depth += 1
        if cols:
            self.src.add(f"for {n} in range({b_shape[-2 if b_swapped else -1]}):")
            self.src.depth += 1
        terms = []
        for k in range(a_shape[-2] if a_swapped else a_shape[-1]):  # K
            a_axes = (str(k), m) if a_swapped else (m if rows else "", str(k))
            b_axes = (n, str(k)) if b_swapped else (str(k), n if cols else "")
            a_at = ", ".join(p for p in (ia, *a_axes) if p)
            b_at = ", ".join(p for p in (ib, *b_axes) if p)
            terms.append(f"{a_name}[{a_at}] * {b_name}[{b_at}]")
        out = ", ".join([*at, *([m] if rows else []), *([n] if cols else [])])
        self.src.add(f"v{value.vid}[{out}] = {' + '.join(terms)}")

    def _index_loops(self, shape: tuple, idx: Value, extent: int) -> str:
        """Open a loop nest over ``shape`` and read the index ``j`` (negatives wrapped by
        ``extent``); returns the full index ``i0, i1, ...``."""
        for k, n in enumerate(shape):
            self.src.add(f"for i{k} in range({n}):")
            self.src.depth += 1
        full = ", ".join(f"i{k}" for k in range(len(shape)))
        self.src.add(f"j = v{idx.vid}[{full}]")
        self.src.add(f"if j < 0: j += {extent}")
        return full

    def _call_gather(self, value: Value) -> None:
        x, idx = (self.graph[i] for i in value.inputs)
        axis, shape = value.attrs["axis"], ishape(value)
        src = self.src
        src.add(f"v{value.vid} = np.empty({shape}, {np_dtype(value.dtype)})")
        depth = src.depth
        full = self._index_loops(shape, idx, x.shape[axis])
        index = [("j" if k == axis else ("0" if x.shape[k] == 1 else f"i{k}"))
                 for k in range(len(shape))]
        src.add(f"v{value.vid}[{full}] = v{x.vid}[{', '.join(index)}]")
        src.depth = depth

    def _call_scatter_add(self, value: Value) -> None:
        g, idx = (self.graph[i] for i in value.inputs)
        axis, shape = value.attrs["axis"], ishape(idx)
        src = self.src
        src.add(f"v{value.vid} = np.zeros({ishape(value)}, {np_dtype(value.dtype)})")
        depth = src.depth
        self._index_loops(shape, idx, value.shape[axis])
        index = ", ".join("j" if k == axis else f"i{k}" for k in range(len(shape)))
        src.add(f"v{value.vid}[{index}] += v{g.vid}[{broadcast_index(ishape(g), shape)}]")
        src.depth = depth

    # ------------------------------------------------ hand-written BatchNorm kernels
    def _bn_call(self, value: Value, call: str, writes: bool) -> None:
        """``v = bn_kernels.<call>(<inputs>[, out], T)``; ``out`` is a lent buffer for a large
        result, else a fresh array."""
        self.uses_bn_kernels = True
        args = [f"v{i}" for i in value.inputs]
        if value.op == "bn_stats":
            args.append(repr(float(value.attrs["eps"])))
        if writes:
            args.append(self._bn_out(value))
        self.src.add(f"v{value.vid} = bn_kernels.{self._bn_name(value, call)}"
                     f"({', '.join(args)}, T)")

    def _bn_name(self, value: Value, call: str) -> str:
        """The parallel driver for large arrays, else its ``_serial`` twin (no prange)."""
        size = max(self.graph[i].size for i in value.inputs)
        return call if self.parallel and size >= PARALLEL_MIN_ELEMENTS else f"{call}_serial"

    def _bn_out(self, value: Value) -> str:
        """The array a kernel writes ``value`` into: a lent buffer for a large result."""
        if value.vid in self.graph.roots and value.size >= BUFFER_MIN_ELEMENTS:
            self.buffers.append(value.vid)
            return f"o{value.vid}"
        return f"np.empty({ishape(value)}, {np_dtype(value.dtype)})"

    def _call_bn_stats(self, value: Value) -> None:
        """The statistics; with the ``bn_grad_sums`` of the same x when its g is a kernel
        argument (known now): one pass over x and g for both."""
        sums = self._known_g_sums(value.inputs[0], value.vid)
        if sums is None:
            self._bn_call(value, "stats", writes=False)
            return
        self.uses_bn_kernels = True
        x, g = value.inputs[0], sums.inputs[0]
        self.src.add(f"v{value.vid} = np.empty({ishape(value)}, {np_dtype(value.dtype)})")
        name = self._bn_name(value, "stats_grad_sums")
        self.src.add(f"v{sums.vid} = bn_kernels.{name}(v{x}, v{g}, "
                     f"{float(value.attrs['eps'])!r}, v{value.vid}, T)")
        self.emitted.add(sums.vid)

    def _known_g_sums(self, x: int, stats: int) -> Value | None:
        """The ``bn_grad_sums`` of x and ``stats`` whose g is a kernel argument, if any."""
        return next((v for v in self.graph.values if v.op == "bn_grad_sums"
                     and v.inputs[1:] == (x, stats) and self.graph[v.inputs[0]].op == "input"),
                    None)

    def _call_bn_apply(self, value: Value) -> None:
        """The forward apply; with the ``bn_dx`` of the same x when the statistics pass took
        its gradient sums and its weight is a kernel argument: one pass writing out and dx."""
        x, stats = value.inputs[:2]
        sums = self._known_g_sums(x, stats)
        dx = None if sums is None else next(
            (v for v in self.graph.values if v.op == "bn_dx"
             and v.inputs[:4] == (sums.inputs[0], x, stats, sums.vid)
             and self.graph[v.inputs[4]].op == "input"), None)
        if dx is None:
            self._bn_call(value, "apply", writes=True)
            return
        self.uses_bn_kernels = True
        self.src.add(f"v{value.vid} = {self._bn_out(value)}")
        args = ", ".join(f"v{i}" for i in (*value.inputs, sums.inputs[0], sums.vid,
                                            dx.inputs[4], value.vid))
        name = self._bn_name(value, "apply_dx")
        self.src.add(f"v{dx.vid} = bn_kernels.{name}({args}, {self._bn_out(dx)}, T)")
        self.emitted.add(dx.vid)

    def _call_bn_normalize(self, value: Value) -> None:
        self._bn_call(value, "normalize", writes=True)

    def _call_bn_grad_sums(self, value: Value) -> None:
        self._bn_call(value, "grad_sums", writes=False)

    def _call_bn_dx(self, value: Value) -> None:
        self._bn_call(value, "dx", writes=True)

    def _call_bn_row(self, value: Value) -> None:
        """One per-channel row of a kernel result, scaled, cast and shaped."""
        row = f"v{value.inputs[0]}[{value.attrs['row']}]"
        scale = value.attrs["scale"]
        if scale != 1.0:
            row = f"({row} * {scale!r})"
        self.src.add(f"v{value.vid} = {row}.astype({np_dtype(value.dtype)})"
                     f".reshape({ishape(value)})")

    def _flat_map(self, shape: tuple[int, ...], key: tuple) -> str:
        size = int(np.prod(shape, dtype=np.int64))
        flat = np.arange(size, dtype=np.int64).reshape(shape)[key]
        self.constants.append(np.ascontiguousarray(flat.reshape(-1)))
        return f"c{len(self.constants) - 1}"

    def _call_index(self, value: Value) -> None:
        x = self.graph[value.inputs[0]]
        flat = self._flat_map(x.shape, value.attrs["key"])
        src, vid = self.src, value.vid
        src.add(f"f{vid} = np.empty({flat}.shape[0], {np_dtype(value.dtype)})")
        src.add(f"r{vid} = v{x.vid}.reshape(-1)")
        src.add(f"for k in range({flat}.shape[0]):")
        src.add(f"    f{vid}[k] = r{vid}[{flat}[k]]")
        src.add(f"v{vid} = f{vid}.reshape({ishape(value)})")

    def _call_index_add(self, value: Value) -> None:
        g = self.graph[value.inputs[0]]
        flat = self._flat_map(value.shape, value.attrs["key"])
        src, vid = self.src, value.vid
        size = int(np.prod(ishape(value)))
        src.add(f"f{vid} = np.zeros({size}, {np_dtype(value.dtype)})")
        src.add(f"r{vid} = v{g.vid}.reshape(-1)")
        src.add(f"for k in range({flat}.shape[0]):")
        src.add(f"    f{vid}[{flat}[k]] += r{vid}[k]")
        src.add(f"v{vid} = f{vid}.reshape({ishape(value)})")


def _unrolls(shape: tuple[int, ...], reduces: list[Value]) -> bool:
    """Whether a loop reducing over axis 0 gets UNROLL_ROWS rows per sweep (>= 2 axes,
    enough rows)."""
    return (len(shape) >= 2 and shape[0] >= 2 * UNROLL_ROWS
            and any(0 in value.attrs["axes"] for value in reduces))


def _batch_index(shape: tuple[int, ...], batch: tuple[int, ...]) -> str:
    """The index of a matmul operand's batch axes (all but its last two; none for 1-D or
    2-D operands) inside the loops over the result's ``batch`` axes (broadcasting)."""
    return broadcast_index(shape[:-2], batch) if len(shape) > 2 else ""


def _pairwise(terms: list[str]) -> str:
    """``(t0 + t1) + (t2 + t3)``: terms added pairwise (one term stays as it is)."""
    while len(terms) > 1:
        terms = [f"({terms[k]} + {terms[k + 1]})" if k + 1 < len(terms) else terms[k]
                 for k in range(0, len(terms), 2)]
    return terms[0]


def _kept_size(value: Value, shape: tuple[int, ...]) -> int:
    """How many results a reduction over ``value.attrs['axes']`` of ``shape`` has."""
    axes = value.attrs["axes"]
    return int(np.prod([n for k, n in enumerate(shape) if k not in axes], dtype=np.int64))


# ------------------------------------------------------------------ scalar pieces
def broadcast_index(shape: tuple[int, ...], loop: tuple[int, ...]) -> str:
    """The index reading an array of ``shape`` inside a loop over ``loop`` (numpy rules)."""
    offset = len(loop) - len(shape)
    if offset < 0:
        raise NotCompilableError(f"internal: shape {shape} read inside a loop over {loop}")
    parts = ["0" if n == 1 and loop[offset + k] != 1 else f"i{offset + k}"
             for k, n in enumerate(shape)]
    return ", ".join(parts)


def literal(value: Value) -> str:
    """A scalar constant in the value's dtype (never user text: a float's repr)."""
    number = value.attrs["value"]
    if value.dtype.kind == "b":
        return "True" if number else "False"
    if value.dtype.kind in "iu":
        return f"{np_dtype(value.dtype)}({int(number)})"
    if np.isnan(number):
        text = "np.nan"
    elif np.isinf(number):
        text = "np.inf" if number > 0 else "-np.inf"
    else:
        text = repr(float(number))
    return f"{np_dtype(value.dtype)}({text})"


def scalar_expr(value: Value, args: list[str], graph: Graph) -> str:
    """The scalar expression of an elementwise value from its op row's Numba template."""
    if value.op == "broadcast_to":
        body = args[0]
    elif value.op == "cast" and value.dtype.kind == "b":
        body = f"({args[0]} != 0)"
    elif value.op == "pow" and value.attrs["exponent"] == 2.0:
        body = f"({args[0]} * {args[0]})"
    else:
        row = OPS[value.op]
        template = row.extra.get("numba", row.expr)
        if template is None:
            raise NotCompilableError(f"mg.jit: op {value.op!r} has no Numba template in its row")
        attrs = {k: repr(v) for k, v in value.attrs.items() if isinstance(v, int | float)}
        body = template.format(*args, **attrs)
    if value.dtype.kind == "b" or _keeps_dtype(value, graph):
        return body
    return f"{np_dtype(value.dtype)}({body})"


SAME_TYPE_OPS = ("add", "sub", "mul", "div", "neg", "broadcast_to", "pow", "cast", "sqrt",
                 "exp", "log", "tanh")


def _keeps_dtype(value: Value, graph: Graph) -> bool:
    """Whether Numba's scalar arithmetic already yields the value's dtype (no cast needed):
    + - * / and negation of floats of that very dtype."""
    if value.op not in SAME_TYPE_OPS or value.dtype.kind != "f":
        return False
    if value.op == "pow" and value.attrs["exponent"] != 2.0:
        return False
    return all(graph[i].dtype == value.dtype for i in value.inputs)


def accumulator_dtype(op: str, dtype: np.dtype) -> str:
    """float64 for float sums (accuracy), int64 for integer/bool sums, the dtype for max."""
    if op == "reduce_max":
        return np_dtype(dtype)
    return "np.float64" if dtype.kind == "f" else "np.int64"


def max_identity(dtype: np.dtype) -> str:
    """The starting value of a running maximum."""
    if dtype.kind == "f":
        return "-np.inf"
    if dtype.kind == "b":
        return "False"
    return str(int(np.iinfo(dtype).min))
