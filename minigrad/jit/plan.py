"""Fusion planning for a lowered JIT graph: which values are arrays, and in which order
the loop nests and calls compute them (``plan``, checked by ``check_plan``).

* An elementwise value is *inlined* (recomputed inside the loop of each consumer, as a
  local scalar) when every consumer is an elementwise op of the same shape or a reduction;
  otherwise - or when it is a result - it is *materialised* into an array.
* Every materialised elementwise value and every reduction is a *loop item* with a loop
  shape (its own shape; a reduction's input shape). Items are packed, in topological order,
  into the earliest loop nest of the same shape that runs after everything they read (a
  new nest goes right after the steps the item reads), so a reduction consumes its
  elementwise producers in the same loop, and independent reductions over the same data
  share one pass.
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
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ops import OPS
from .ir import Graph, Value, consumers

PARALLEL_MIN_ELEMENTS = 1 << 16
REDUCE_OPS = ("reduce_sum", "reduce_max")
BN_CALL_OPS = ("bn_stats", "bn_apply", "bn_normalize", "bn_grad_sums", "bn_dx", "bn_row")
# The convolution rows and the max-pool index row call minigrad.jit.conv_kernels.
CONV_CALL_OPS = ("conv2d", "conv2d_input_grad", "conv2d_weight_grad", "max_pool2d_index")
# The linear-algebra rows call their numpy forwards through minigrad.jit.linalg_calls.
LINALG_CALL_OPS = ("inv", "det", "logabsdet", "det_sign", "solve", "cholesky", "eigvalsh",
                   "eigh_vectors", "svdvals", "svd_u", "svd_vh", "pinv", "pinv_residual",
                   "eig_values", "eig_vectors")
CALL_OPS = ("reshape", "transpose", "matmul", "gather", "scatter_add", "index", "index_add",
            "count_nonfinite", "cumsum", "argsort", "scatter_max", *BN_CALL_OPS,
            *CONV_CALL_OPS, *LINALG_CALL_OPS)


def ishape(value: Value) -> tuple[int, ...]:
    """The stored shape: 0-d values are kept as shape (1,)."""
    return value.shape or (1,)


def is_elementwise(value: Value) -> bool:
    """Elementwise and comparison rows, and broadcast_to (a broadcasting read)."""
    if value.op == "broadcast_to":
        return True
    row = OPS.get(value.op)
    return row is not None and row.kind in ("elementwise", "compare")



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
    # literals a call reads or the kernel returns: filled arrays (loops inline literals)
    literal_arrays: list[int] = field(default_factory=list)

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
        shape = fusion.loop_shape(value)
        tree, reads = fusion.inline_tree(value, materialised, shape)
        inlined[value.vid] = tree
        all_reads[value.vid] = set(reads)
        first = max((fusion.earliest_step(graph[r], same_index, shape, step_of)
                     for r, same_index in reads.items()), default=0)
        target = next((k for k in range(first, len(steps))
                       if steps[k].kind == "loop" and steps[k].shape == shape), None)
        if target is None:
            target = _insert_step(steps, step_of, first, Step("loop", shape))
        steps[target].items.append(value.vid)
        step_of[value.vid] = target
    _defer_reductions(graph, steps, all_reads)
    steps = [step for step in steps if step.items]
    products = {v.vid: v.inputs[0] for v in graph.values
                if v.op == "transpose" and len(v.shape) == 2 and v.vid not in views
                and graph[v.inputs[0]].op == "matmul" and v.inputs[0] not in loops
                and v.inputs[0] not in roots and users[v.inputs[0]] == [v.vid]
                and all(len(graph[i].shape) == 2 for i in graph[v.inputs[0]].inputs)}
    literal_arrays = [v.vid for v in graph.values if v.op == "literal" and (
        v.vid in roots or any(graph[u].op in CALL_OPS for u in users[v.vid]))]
    return Plan(materialised, steps, inlined, views, loops, products, literal_arrays)


def _insert_step(steps: list[Step], step_of: dict[int, int], position: int, step: Step
                 ) -> int:
    """Put a new loop at ``position``, the earliest its item may run (right after the
    steps producing what it reads), not at the end: a later item reading it may then join
    a loop that runs before the steps placed since (in LayerNorm's backward, the sums over
    each row that read the weight join the statistics pass). Steps from ``position`` on
    move one place; nothing placed there reads the new item (topological order)."""
    steps.insert(position, step)
    for vid, k in step_of.items():
        if k >= position:
            step_of[vid] = k + 1
    return position


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

    def earliest_step(self, read: Value, same_index: bool, shape: tuple[int, ...],
                      step_of: dict[int, int]) -> int:
        """The first step an item may join after reading ``read``. An elementwise result
        (stored at the loop index) may be used in the very loop that computes it only when
        every read of it is at that same index (the generator then uses the scalar it has
        just computed); any other read waits for the loop that produces it to finish."""
        if read.vid not in step_of:
            return 0
        same_loop = same_index and self.elementwise(read) and ishape(read) == shape
        return step_of[read.vid] + (0 if same_loop else 1)

    def inline_tree(self, item: Value, materialised: set[int], shape: tuple[int, ...]
                    ) -> tuple[list[int], dict[int, bool]]:
        """(inlined ids the item computes, {materialised id it reads: whether every read
        is at the loop's own index}); see _inline_tree."""
        loop = self.loops.get(item.vid)
        start = [loop.big] if loop is not None and loop.kind == "batch" else None
        tree, reads = _inline_tree(self.graph, item, materialised, shape, self.loops, start)
        if start is not None:  # the small operand is read at [k, s] for every s
            reads[loop.small] = False
        return tree, reads


def _defer_reductions(graph: Graph, steps: list[Step], reads: dict[int, set[int]]) -> None:
    """Save passes: when only reductions of a loop read some full-size array, and a later
    loop of the same shape reads everything they read anyway (before any of their users),
    move them there. E.g. sum(g) joins the loop computing sum(g * xhat)."""
    reads_of = {item: reads.get(item, set(graph[item].inputs))  # a call reads its inputs
                for step in steps for item in step.items}

    def read_by(step: Step) -> set[int]:
        return set().union(*(reads_of[item] for item in step.items))

    for k, step in enumerate(steps):
        if step.kind != "loop":
            continue
        for array in sorted(read_by(step)):
            if ishape(graph[array]) != step.shape:
                continue
            readers = [item for item in step.items if array in reads_of[item]]
            if not readers or any(graph[r].op not in REDUCE_OPS for r in readers):
                continue
            first_user = next((j for j in range(k + 1, len(steps)) if any(
                not reads_of[item].isdisjoint(readers) for item in steps[j].items)), len(steps))
            needed = set().union(*(reads_of[r] for r in readers))
            target = next((j for j in range(k + 1, first_user)
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


def _inline_tree(graph: Graph, item: Value, materialised: set[int], shape: tuple[int, ...],
                 loops: dict[int, MatmulLoop], start: list[int] | None = None
                 ) -> tuple[list[int], dict[int, bool]]:
    """(inlined ids the item computes, {materialised id it reads: read only at the loop
    index?}); the walk starts at ``start`` (default: a reduction's input, else the item
    itself). A read is at the loop index when the array has the loop's shape and its reader
    is elementwise or a reduction; a matmul computed in the loop reads its operands' rows
    and columns, never only the element at the loop index."""
    tree: set[int] = set()
    reads: dict[int, bool] = {}
    if start is None:
        start = list(item.inputs) if item.op in REDUCE_OPS else [item.vid]
    stack = [(vid, True) for vid in start]
    first = True
    while stack:
        vid, elementwise_reader = stack.pop()
        value = graph[vid]
        if value.op == "literal":
            continue
        if vid in materialised and not (first and vid == item.vid):
            same_index = elementwise_reader and ishape(value) == shape
            reads[vid] = reads.get(vid, True) and same_index
            continue
        first = False
        if vid in tree:
            continue
        tree.add(vid)
        in_loop_matmul = vid in loops
        stack.extend((i, not in_loop_matmul) for i in value.inputs)
    return sorted(tree), reads
