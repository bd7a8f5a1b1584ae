"""``check_plan``: the fusion plan's soundness invariant, checked on every plan.

The invariant (docs/jit.md §3). Steps run in order; a loop step is one loop nest whose
body computes, at each loop index, every item of the step and the inlined values each
item's tree holds; a call step runs once.

1. **One producer.** Every materialised value (not an input or a literal) is produced by
   exactly one step, and every item of a step is materialised.
2. **Inlined values are complete.** Every value a loop body computes (an item's tree) has
   the loop's shape (a reduction's input, a matmul-as-loop's big operand included), and
   every operand of it is a literal, computed in the same tree, or a materialised array.
3. **No read before the write is finished.** A loop item reads a materialised array r
   produced by step p from step k only if p < k, or p == k and every read of r in the
   item is at the loop's own index (same shape, read by an elementwise op or a reduction)
   and r is a stored elementwise item (the generator then uses the scalar it has just
   computed, never the array). A matmul computed in a loop reads rows and columns, so
   its operands (through transpose views) always come from earlier steps. A call reads
   only values produced by earlier steps.
4. **Accumulators belong to their nest.** Every reduction and every matmul summed over a
   loop axis is an item of exactly one loop step whose shape is its loop shape; the
   generator initialises the accumulators of exactly those items right before that
   nest, and rule 3 keeps every reader of the result in a later step.

The check walks each tree once: linear in the size of the plan.
"""

from __future__ import annotations

from .ir import Graph, Value
from .plan import REDUCE_OPS, Plan, Step, ishape, through_views


class PlanInvariantError(RuntimeError):
    """The fusion plan would read a value before it is computed: a bug of the planner, not a
    refusal (so not a NotCompilableError: the fuzzer counts it as a crash)."""


def check_plan(graph: Graph, plan: Plan) -> None:
    """Raise PlanInvariantError naming the first violated rule (module docstring)."""
    produced = _producers(graph, plan)
    trees = {vid: set(tree) for vid, tree in plan.inlined.items()}
    for k, step in enumerate(plan.steps):
        if step.kind == "call":
            _check_call(graph, plan, step, k, produced)
            continue
        for item in step.items:
            _check_item(graph, plan, trees, step, k, graph[item], produced)


def _fail(text: str) -> None:
    raise PlanInvariantError(
        f"mg.jit internal error, the fusion plan is unsound: {text}; please report it, and "
        "call the function without mg.jit meanwhile")


def _producers(graph: Graph, plan: Plan) -> dict[int, int]:
    """Rule 1: value id -> the index of the one step producing it."""
    produced: dict[int, int] = {}
    for k, step in enumerate(plan.steps):
        for vid in step.items:
            if vid in produced:
                _fail(f"v{vid} is produced by steps {produced[vid]} and {k}")
            if vid not in plan.materialised:
                _fail(f"step {k} produces v{vid}, which is not materialised")
            produced[vid] = k
    for vid in plan.materialised:
        if vid not in produced and graph[vid].op not in ("input", "literal"):
            _fail(f"v{vid} ({graph[vid].op}) is materialised but no step produces it")
    return produced


def _is_accumulator(plan: Plan, value: Value) -> bool:
    loop = plan.matmul_loops.get(value.vid)
    return value.op in REDUCE_OPS or (loop is not None and loop.kind == "batch")


def _loop_shape(graph: Graph, plan: Plan, value: Value) -> tuple[int, ...]:
    loop = plan.matmul_loops.get(value.vid)
    if loop is not None and loop.kind == "batch":
        return ishape(graph[loop.big])
    return ishape(graph[value.inputs[0]]) if value.op in REDUCE_OPS else ishape(value)


def _check_item(graph: Graph, plan: Plan, trees: dict[int, set[int]], step: Step, k: int,
                item: Value, produced: dict[int, int]) -> None:
    """Rules 2-4 for one loop item of step ``k`` (``trees``: each item's inlined ids)."""
    shape = step.shape
    if _loop_shape(graph, plan, item) != shape:
        _fail(f"v{item.vid} ({item.op}) needs a loop over {_loop_shape(graph, plan, item)}, "
              f"not {shape}")
    tree = trees.get(item.vid, set())
    computed = tree | {item.vid}
    reads: dict[int, bool] = {}  # array -> read only at the loop index?

    def read(vid: int, same_index: bool) -> None:
        if graph[vid].op == "literal" or vid in tree:
            return
        if vid not in plan.materialised:
            _fail(f"v{vid} is read in the loop of v{item.vid} but neither computed there "
                  "nor an array")
        reads[vid] = reads.get(vid, True) and same_index and ishape(graph[vid]) == shape

    if item.vid not in tree and not _is_accumulator(plan, item):
        _fail(f"the loop item v{item.vid} ({item.op}) is not computed in its loop")
    for vid in sorted(computed):
        value = graph[vid]
        if vid != item.vid and ishape(value) != shape:
            _fail(f"v{vid} of shape {value.shape} is inlined into a loop over {shape}")
        loop = plan.matmul_loops.get(vid)
        if loop is not None and loop.kind == "inner":  # rows of A, columns of B
            read(loop.a_base, False)
            read(loop.b_base, False)
        elif loop is not None:  # batch: B at the loop index, the small operand's rows
            read(loop.big, True)
            read(loop.small, False)
        elif vid in tree or value.op in REDUCE_OPS:
            for operand in value.inputs:
                read(operand, True)
    for vid, same_index in reads.items():
        _check_read(graph, plan, trees, k, item.vid, vid, same_index, produced)


def _check_read(graph: Graph, plan: Plan, trees: dict[int, set[int]], k: int, reader: int,
                vid: int, same_index: bool, produced: dict[int, int]) -> None:
    """Rule 3 for one array read by a loop item of step ``k``."""
    if graph[vid].op in ("input", "literal"):
        return
    where = produced.get(vid)
    if where is None:
        _fail(f"v{reader} reads v{vid}, which no step produces")
    if where > k:
        _fail(f"v{reader} (step {k}) reads v{vid} before step {where} computes it")
    if where < k:
        return
    value = graph[vid]
    if _is_accumulator(plan, value):
        _fail(f"v{reader} reads the accumulator v{vid} inside the loop that sums it (step {k})")
    if not same_index or vid not in trees.get(vid, ()):
        _fail(f"v{reader} reads v{vid} at other indices inside the loop that writes it "
              f"(step {k})")


def _check_call(graph: Graph, plan: Plan, step: Step, k: int,
                produced: dict[int, int]) -> None:
    """Rule 3 for a call: it reads only values that earlier steps produced."""
    value = graph[step.items[0]]
    operands = list(value.inputs)
    product = plan.transposed_products.get(value.vid)
    if product is not None:  # (A @ B)^T computed as B^T @ A^T from A and B
        operands = list(graph[product].inputs)
    for operand in operands:
        for vid in (operand, through_views(graph, operand, plan.views)[0]):
            if graph[vid].op in ("input", "literal") or vid == product:
                continue
            where = produced.get(vid)
            if where is None or where >= k:
                _fail(f"the call {value.op} v{value.vid} (step {k}) reads v{vid} before "
                      "it is computed")
