"""Random programs over the op table, as plain data that can be run, shrunk and printed.

A ``Program`` is a straight-line list of ``Node`` s over its ``Arg`` s (value ids: the
arguments first, then one per node), a list of output ids and a derivative order:

* order 0 returns the outputs;
* order 1 also returns d(loss)/d(args) with ``loss = Σ_k sum(out_k · w_k)`` (``w_k`` are
  extra random arguments, so a transposed or mis-broadcast gradient cannot hide behind a
  seed of ones), taken with ``mg.grad(create_graph=True)``;
* order 2 also returns the Hessian-vector products d(Σ_i sum(g_i · v_i))/d(args).

Nodes are made **from the op table**: every row of ``ops.OPS`` is generated, by its kind
(elementwise, compare, reduce, movement, matmul) with random shapes (0 and 1 sizes,
broadcasting) and dtypes, or else from the attributes and input shapes its sample calls in
``op_samples`` record (so a new row is fuzzed as soon as it has a sample). Each proposed node
is checked by running it eagerly on dummy values: what eager refuses is never generated.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

import minigrad as mg
from minigrad import ops

from ..errors import ArgumentTypeError

DTYPES = ("float64", "float32", "int64", "bool")
_DTYPE_WEIGHTS = (0.45, 0.3, 0.15, 0.1)
DETACH = "detach"  # Tensor.detach(): not a row, but a trace assumption worth fuzzing


@dataclass(frozen=True)
class Arg:
    """A program argument: fresh random values of this shape and dtype at every call.

    ``bound`` > 0 marks an index argument (integers in [0, bound))."""

    shape: tuple[int, ...]
    dtype: str
    grad: bool = False
    bound: int = 0


@dataclass(frozen=True)
class Node:
    """``ops.apply(ops.OPS[op], *values[inputs], **attrs)`` (or ``detach``)."""

    op: str
    inputs: tuple[int, ...]
    attrs: tuple[tuple[str, Any], ...]
    shape: tuple[int, ...]
    dtype: str


@dataclass
class Program:
    """Arguments, nodes, outputs (value ids) and the derivative order (0, 1 or 2)."""

    args: list[Arg]
    nodes: list[Node]
    outputs: list[int]
    order: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    def value_info(self, vid: int) -> tuple[tuple[int, ...], str]:
        """(shape, dtype) of value ``vid``."""
        item = self.args[vid] if vid < len(self.args) else self.nodes[vid - len(self.args)]
        return item.shape, item.dtype

    def grad_outputs(self) -> list[int]:
        """The outputs a loss is formed from: float values that depend on a grad argument."""
        tracked = [a.grad for a in self.args]
        for node in self.nodes:
            row = ops.OPS.get(node.op)
            differentiable = row is not None and row.differentiable
            tracked.append(differentiable and node.dtype.startswith("float")
                           and any(tracked[i] for i in node.inputs))
        return [o for o in self.outputs if tracked[o]]

    def result_floors(self) -> list[str]:
        """For each result of ``program_function`` (outputs, first, second derivatives),
        the least precise float dtype among the values it is computed from ('' if none):
        an output's ancestors; a derivative, every value of the program. A float32 value
        feeding a float64 one carries float32 rounding into it, so the results are
        compared at the floor's tolerance (eager and Numba round float32 functions
        differently by an ulp; the fuzzer must not call that a mismatch)."""
        floors = [_float_dtype(a.dtype) for a in self.args]
        for node in self.nodes:
            floors.append(least_precise([_float_dtype(node.dtype),
                                         *(floors[i] for i in node.inputs)]))
        overall = least_precise(floors)
        n_grads = sum(a.grad for a in self.args) if self.weight_args() else 0
        return ([floors[o] for o in self.outputs]
                + [overall] * n_grads * (2 if self.order == 2 else 1))

    def weight_args(self) -> list[Arg]:
        """The random weights w_k of the loss and v_i of the second derivative."""
        if self.order == 0 or not self.grad_outputs():
            return []
        weights = [Arg(*self.value_info(o)) for o in self.grad_outputs()]
        if self.order == 2:
            weights += [Arg(a.shape, a.dtype) for a in self.args if a.grad]
        return weights


def _float_dtype(dtype: str) -> str:
    return dtype if dtype.startswith("float") else ""


def least_precise(dtypes: list[str]) -> str:
    """The float dtype with the largest machine epsilon among ``dtypes`` ('' for none)."""
    floats = [d for d in dtypes if d]
    return max(floats, key=lambda d: np.finfo(d).eps, default="")


# ----------------------------------------------------------------------------- running
def apply_node(node: Node, inputs: list[mg.Tensor]) -> mg.Tensor:
    """Run one node eagerly (or traced): the op row through ``ops.apply``."""
    if node.op == DETACH:
        return inputs[0].detach()
    return ops.apply(ops.OPS[node.op], *inputs, **dict(node.attrs))


def program_function(program: Program) -> Callable[..., tuple]:
    """The Python function of ``program``: arguments then weights in, a flat tuple out
    (outputs, then the first derivatives, then the second; ``None`` where unused):
    order 1 adds ``mg.grad(Σ_k sum(out_k · w_k), grad args, create_graph=order == 2)``,
    order 2 ``mg.grad(Σ_i sum(g_i · v_i), grad args)`` over the first derivatives g_i that
    require grad. Made by running ``function_source``, so a printed reproducer is the
    function that ran."""
    namespace: dict[str, Any] = {"np": np, "mg": mg, "ops": ops}
    exec(compile(function_source(program), "<fuzz program>", "exec"), namespace)
    return namespace["f"]


def random_array(arg: Arg, rng: np.random.Generator) -> np.ndarray:
    """Fresh values for ``arg``: normal floats, small integers, coin-flip booleans."""
    if arg.bound:
        return rng.integers(0, arg.bound, arg.shape).astype(arg.dtype)
    if arg.dtype == "bool":
        return rng.random(arg.shape) < 0.5
    if arg.dtype.startswith("int"):
        return rng.integers(-3, 4, arg.shape).astype(arg.dtype)
    return (rng.standard_normal(arg.shape) * 1.5).astype(arg.dtype)


def call_arrays(program: Program, rng: np.random.Generator) -> list[np.ndarray]:
    """One call's argument arrays (arguments, then weights)."""
    return [random_array(a, rng) for a in program.args + program.weight_args()]


def make_tensors(program: Program, arrays: list[np.ndarray]) -> list[mg.Tensor]:
    """Fresh tensors for one call (grad arguments require grad)."""
    grads = [a.grad for a in program.args] + [False] * len(program.weight_args())
    return [mg.tensor(a.copy(), requires_grad=g) for a, g in zip(arrays, grads, strict=True)]


# ------------------------------------------------------------------------ as source
def literal(value: Any) -> str:
    """Python source for an attribute value (numbers, strings, tuples, slices, Ellipsis,
    arrays)."""
    if isinstance(value, np.ndarray):
        return (f"np.array({value.tolist()!r}, dtype={value.dtype.name!r})"
                + (f".reshape({value.shape!r})" if value.size == 0 else ""))
    if isinstance(value, tuple):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if value is Ellipsis:
        return "Ellipsis"
    if isinstance(value, slice):
        return f"slice({value.start!r}, {value.stop!r}, {value.step!r})"
    if isinstance(value, np.generic):
        return repr(value.item())
    if isinstance(value, bool | int | float | str | type(None)):
        return repr(value)
    raise ArgumentTypeError(f"no literal for {type(value).__name__}")


def _node_line(program: Program, k: int) -> str:
    node = program.nodes[k]
    names = [_name(program, i) for i in node.inputs]
    if node.op == DETACH:
        return f"    {_name(program, len(program.args) + k)} = {names[0]}.detach()"
    attrs = "".join(f", {key}={literal(v)}" for key, v in node.attrs)
    return (f"    {_name(program, len(program.args) + k)} = "
            f"ops.apply(ops.OPS[{node.op!r}], {', '.join(names)}{attrs})")


def _name(program: Program, vid: int) -> str:
    return f"a{vid}" if vid < len(program.args) else f"v{vid}"


def function_source(program: Program) -> str:
    """The program as the Python source of ``def f(args..., weights...)``: its nodes as
    ``ops.apply`` lines, then (order ≥ 1) the loss and ``mg.grad`` lines of
    ``program_function``'s formula. What the fuzzer runs and what a reproducer prints."""
    return "\n".join(_function_lines(program)) + "\n"


def _function_lines(program: Program) -> list[str]:
    args = [_name(program, k) for k in range(len(program.args))]
    weights = [f"w{k}" for k in range(len(program.weight_args()))]
    lines = [f"def f({', '.join(args + weights)}):"]
    lines += [_node_line(program, k) for k in range(len(program.nodes))]
    outs = [_name(program, o) for o in program.outputs]
    lines.append(f"    outs = ({', '.join(outs)},)")
    if not weights:
        return [*lines, "    return outs"]
    grads = [_name(program, k) for k, a in enumerate(program.args) if a.grad]
    terms = [f"ops.sum(ops.mul({_name(program, o)}, w{k}))"
             for k, o in enumerate(program.grad_outputs())]
    lines.append(f"    loss = {terms[0]}")
    lines += [f"    loss = ops.add(loss, ops.cast({t}, loss.dtype))" for t in terms[1:]]
    second = program.order == 2
    lines.append(f"    firsts = mg.grad(loss, [{', '.join(grads)}], create_graph={second}, "
                 "allow_unused=True)")
    if not second:
        return [*lines, "    return outs + tuple(firsts)"]
    vs = weights[len(terms):]
    lines += [
        "    total = None",
        f"    for g, v in zip(firsts, [{', '.join(vs)}]):",
        "        if g is not None and g.requires_grad:",
        "            term = ops.sum(ops.mul(g, v))",
        "            total = (term if total is None",
        "                     else ops.add(total, ops.cast(term, total.dtype)))",
        f"    seconds = (None,) * {len(grads)} if total is None else "
        f"mg.grad(total, [{', '.join(grads)}], allow_unused=True)",
        "    return outs + tuple(firsts) + tuple(seconds)",
    ]
    return lines


# ------------------------------------------------------------------ sample templates
@dataclass(frozen=True)
class Template:
    """One recorded use of an op row in ``op_samples``: attrs and input (shape, dtype)."""

    op: str
    attrs: tuple[tuple[str, Any], ...]
    inputs: tuple[tuple[tuple[int, ...], str, int], ...]  # shape, dtype, index bound


def _record(fn: Callable[..., mg.Tensor], arrays: list[np.ndarray]) -> list[mg.Tensor]:
    seen: list[mg.Tensor] = []
    hooks = mg._state.STATE.node_hooks
    hooks.append(seen.append)
    try:
        fn(*[mg.tensor(a) for a in arrays])
    finally:
        hooks.remove(seen.append)
    return seen


def sample_templates() -> dict[str, list[Template]]:
    """Every op row's uses in the sample calls (recorded with a node hook)."""
    from .op_samples import NON_DIFFERENTIABLE, SAMPLES

    found: dict[str, list[Template]] = {}
    with mg._state.recording():
        for samples in (*SAMPLES.values(), *NON_DIFFERENTIABLE.values()):
            for fn, arrays in samples:
                for node in _record(fn, arrays):
                    inputs = tuple(
                        (t.shape, t.dtype.name,
                         int(t.data.max()) + 1 if t.dtype.kind in "iu" and t.numel() else 0)
                        for t in node.inputs)
                    found.setdefault(node.op.name, []).append(
                        Template(node.op.name, tuple(node.attrs.items()), inputs))
    return found


# -------------------------------------------------------------------------- generation
class Builder:
    """Grows one program node by node; each proposal is checked by eager evaluation."""

    def __init__(self, rng: np.random.Generator, templates: dict[str, list[Template]],
                 dtypes: tuple[str, ...] = DTYPES):
        self.rng = rng
        self.dtypes = dtypes
        self.templates = templates
        self.items: list[Arg | Node] = []
        self.dummies: list[mg.Tensor] = []
        self.n_nodes = 0

    # values
    def info(self, vid: int) -> tuple[tuple[int, ...], str]:
        return self.dummies[vid].shape, self.dummies[vid].dtype.name

    def pick(self, want: Callable[[tuple, str], bool] = lambda s, d: True) -> int | None:
        """A value (recent ones more likely, so chains grow deep) that ``want`` accepts."""
        ids = [v for v in range(len(self.dummies)) if want(*self.info(v))]
        if not ids:
            return None
        weights = np.arange(1, len(ids) + 1, dtype=float) ** 2
        return int(self.rng.choice(ids, p=weights / weights.sum()))

    def shape(self, rank: int | None = None, big: bool = False) -> tuple[int, ...]:
        rank = int(self.rng.choice([0, 1, 2, 2, 3, 3, 4])) if rank is None else rank
        sizes = [0, 1, 1, 2, 3, 4, 5] + ([9, 12] if big else [])
        weights = np.array([0.04, 0.2, 0.0, 0.2, 0.25, 0.16, 0.15] + ([0.1, 0.1] if big else []))
        return tuple(int(self.rng.choice(sizes, p=weights / weights.sum())) for _ in range(rank))

    def dtype(self) -> str:
        weights = np.array([w for d, w in zip(DTYPES, _DTYPE_WEIGHTS, strict=True)
                            if d in self.dtypes])
        return str(self.rng.choice(self.dtypes, p=weights / weights.sum()))

    def float_dtype(self) -> str:
        return str(self.rng.choice([d for d in self.dtypes if d.startswith("float")]))

    def new_arg(self, shape: tuple[int, ...], dtype: str, bound: int = 0) -> int:
        """A new argument (floats mostly require grad). Builder ids follow creation order;
        ``finish`` puts the arguments first."""
        grad = dtype.startswith("float") and not bound and self.rng.random() < 0.8
        arg = Arg(tuple(shape), dtype, grad, bound)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.dummies.append(mg.tensor(random_array(arg, self.rng)))
        self.items.append(arg)
        return len(self.items) - 1

    def finish(self, order: int) -> Program:
        """The program: arguments first, then the nodes; the outputs are the unused nodes."""
        args = [k for k, it in enumerate(self.items) if isinstance(it, Arg)]
        nodes = [k for k, it in enumerate(self.items) if isinstance(it, Node)]
        new_id = {old: new for new, old in enumerate(args + nodes)}
        used = {i for k in nodes for i in self.items[k].inputs}
        return Program(
            [self.items[k] for k in args],
            [replace(self.items[k], inputs=tuple(new_id[i] for i in self.items[k].inputs))
             for k in nodes],
            [new_id[k] for k in nodes if k not in used], order)

    def value(self, dtype: str | None = None, shape: tuple | None = None) -> int:
        """An existing value or a new argument."""
        if self.dummies and self.rng.random() < 0.7:
            vid = self.pick(lambda s, d: (shape is None or s == shape)
                            and (dtype is None or d == dtype))
            if vid is not None:
                return vid
        return self.new_arg(self.shape() if shape is None else shape, dtype or self.dtype())

    def broadcast_partner(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """A shape that broadcasts with ``shape``: dims dropped, set to 1, or prepended."""
        out = list(shape[int(self.rng.integers(0, len(shape) + 1)):] if self.rng.random() < 0.3
                   else shape)
        out = [1 if self.rng.random() < 0.3 else n for n in out]
        if self.rng.random() < 0.15:
            out.insert(0, int(self.rng.choice([1, 2, 3])))
        return tuple(out)

    # nodes
    def add(self, op: str, inputs: list[int], attrs: dict[str, Any]) -> bool:
        """Append the node if eager accepts it on the dummy values."""
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                out = apply_node(Node(op, (), tuple(attrs.items()), (), ""),
                                 [self.dummies[i] for i in inputs])
        except Exception:
            return False
        if out.numel() > 4096:
            return False
        self.items.append(Node(op, tuple(inputs), tuple(attrs.items()), out.shape,
                               out.dtype.name))
        self.n_nodes += 1
        self.dummies.append(out.detach())
        return True


def _sample_attrs(b: Builder, op: str) -> dict[str, Any]:
    uses = b.templates.get(op, [])
    return dict(uses[int(b.rng.integers(len(uses)))].attrs) if uses else {}


def gen_elementwise(b: Builder, op: str) -> bool:
    """Elementwise and compare rows: broadcasting operands, attrs from the samples."""
    row = ops.OPS[op]
    attrs = _sample_attrs(b, op)
    if op == "pow":
        attrs = {"exponent": float(b.rng.choice([2.0, 3.0, 0.5, -1.0, 1.0, 0.0, -1.5]))}
    elif op == "cast":
        attrs = {"dtype": str(b.rng.choice(b.dtypes))}
    first = b.value()
    inputs = [first]
    for _ in range(1, row.arity - (op == "where")):
        if b.rng.random() < 0.5:
            inputs.append(b.value(shape=b.info(first)[0]))
        else:
            inputs.append(b.new_arg(b.broadcast_partner(b.info(first)[0]), b.dtype()))
    b.rng.shuffle(inputs)
    if op == "where":  # the condition first, mostly boolean
        inputs.insert(0, b.value(dtype="bool") if b.rng.random() < 0.8 else b.value())
    return b.add(op, inputs, attrs)


def gen_reduce(b: Builder, op: str) -> bool:
    """Reductions over a random subset of axes (all of them, some, or none)."""
    x = b.value()
    ndim = len(b.info(x)[0])
    axes = tuple(a for a in range(ndim) if b.rng.random() < 0.5)
    if b.rng.random() < 0.3:
        axes = tuple(range(ndim))
    return b.add(op, [x], {"axes": axes, "keepdims": bool(b.rng.random() < 0.4)})


def _reshape_target(b: Builder, shape: tuple[int, ...]) -> tuple[int, ...]:
    dims = [n for n in shape if n != 1]
    b.rng.shuffle(dims)
    if len(dims) >= 2 and b.rng.random() < 0.5:
        dims = [dims[0] * dims[1], *dims[2:]]
    for _ in range(int(b.rng.integers(0, 2))):
        dims.insert(int(b.rng.integers(0, len(dims) + 1)), 1)
    return tuple(dims) if math.prod(dims) == math.prod(shape) else (math.prod(shape),)


def gen_movement(b: Builder, op: str) -> bool:
    """reshape, transpose, broadcast_to with random targets; other rows from samples."""
    x = b.value()
    shape = b.info(x)[0]
    if op == "reshape":
        return b.add(op, [x], {"shape_to": _reshape_target(b, shape)})
    if op == "transpose":
        return b.add(op, [x], {"perm": tuple(int(p) for p in b.rng.permutation(len(shape)))})
    if op == "broadcast_to":
        target = tuple(int(b.rng.choice([2, 3])) if n == 1 else n for n in shape)
        if b.rng.random() < 0.4:
            target = (int(b.rng.choice([1, 2, 3])), *target)
        return b.add(op, [x], {"shape_to": target})
    return gen_template(b, op)


def gen_matmul(b: Builder, op: str) -> bool:
    """Matrix products: 1-D, 2-D and batched operands; inner sizes 0..12 (loops and BLAS)."""
    float_dtype = b.float_dtype()
    if b.rng.random() < 0.6:  # integer matmul is refused by mg.jit: mostly floats
        a = b.value(dtype=float_dtype if b.rng.random() < 0.9 else None)
    else:
        a = b.new_arg(b.shape(int(b.rng.integers(1, 4)), big=True), float_dtype)
    shape_a = b.info(a)[0]
    if not shape_a:
        return False
    k = shape_a[-1]
    n = int(b.rng.choice([1, 2, 3, 4, 9]))
    forms = [(k,), (k, n), (int(b.rng.choice([1, 2])), k, n)]
    dtype = b.info(a)[1] if b.rng.random() < 0.7 else b.dtype()
    other = b.value(dtype=dtype, shape=forms[int(b.rng.integers(3))])
    inputs = [a, other]
    if b.rng.random() < 0.3:  # the value as right operand: swap roles via a transpose
        return b.add(op, [other, a], {}) or b.add(op, inputs, {})
    return b.add(op, inputs, {})


def gen_index(b: Builder, op: str) -> bool:
    """``x[key]``: per axis a slice (with step), an int, or an integer array."""
    if op != "index" or b.rng.random() < 0.3:
        return gen_template(b, op)
    x = b.value()
    key: list[Any] = []
    for n in b.info(x)[0]:
        r = b.rng.random()
        if r < 0.45:
            lo = int(b.rng.integers(0, n + 1))
            key.append(slice(lo, int(b.rng.integers(lo, n + 1)), int(b.rng.choice([1, 1, 2]))))
        elif r < 0.7 and n:
            key.append(int(b.rng.integers(-n, n)))
        elif n:
            key.append(b.rng.integers(0, n, int(b.rng.integers(1, 4))))
    return b.add(op, [x], {"key": tuple(key)})


def gen_gather(b: Builder, op: str) -> bool:
    """gather with a runtime index argument (fresh indices at every call)."""
    if op != "gather" or b.rng.random() < 0.3:
        return gen_template(b, op)
    x = b.value(dtype=b.float_dtype())
    shape = b.info(x)[0]
    if not shape:
        return False
    axis = int(b.rng.integers(len(shape)))
    if shape[axis] == 0:
        return False
    smaller = b.rng.random() < 0.3  # PyTorch's gather reads the leading part of other axes
    idx_shape = tuple(int(b.rng.integers(1, 4)) if a == axis
                      else int(b.rng.integers(1, n + 1)) if smaller and n > 0 else n
                      for a, n in enumerate(shape))
    idx = b.new_arg(idx_shape, "int64", bound=shape[axis])
    return b.add(op, [x, idx], {"axis": axis})


def gen_template(b: Builder, op: str) -> bool:
    """Any row: a recorded sample use, inputs reused where shape and dtype match."""
    uses = b.templates.get(op)
    if not uses:
        return False
    use = uses[int(b.rng.integers(len(uses)))]
    inputs = []
    for shape, dtype, bound in use.inputs:
        if bound:
            inputs.append(b.new_arg(shape, dtype, bound))
        else:
            inputs.append(b.value(dtype=dtype, shape=shape))
    return b.add(op, inputs, dict(use.attrs))


def gen_cholesky(b: Builder, op: str) -> bool:
    """``cholesky(x @ x^T)``: random values are not positive-definite, x x^T almost
    surely is (the recorded sample's shape and dtype for x)."""
    use = b.templates[op][int(b.rng.integers(len(b.templates[op])))]
    shape, dtype, _ = use.inputs[0]
    x = b.value(dtype=dtype, shape=shape)
    perm = (*range(len(shape) - 2), len(shape) - 1, len(shape) - 2)
    if not (b.add("transpose", [x], {"perm": perm})
            and b.add("matmul", [x, len(b.dummies) - 1], {})):
        return False
    return b.add(op, [len(b.dummies) - 1], dict(use.attrs))


def gen_detach(b: Builder, op: str) -> bool:
    """``x.detach()``: a constant for gradients, but never for values."""
    return b.add(DETACH, [b.value()], {})


GENERATORS: dict[str, Callable[[Builder, str], bool]] = {
    ops.ELEMENTWISE: gen_elementwise, ops.COMPARE: gen_elementwise, ops.REDUCE: gen_reduce,
    ops.MOVEMENT: gen_movement, ops.MATMUL: gen_matmul, ops.INDEX: gen_index,
}
_BY_NAME = {"gather": gen_gather, "cholesky": gen_cholesky, DETACH: gen_detach}


def generator_for(op: str) -> Callable[[Builder, str], bool]:
    """How a row is generated: by name, by kind, else from its samples."""
    if op in _BY_NAME:
        return _BY_NAME[op]
    return GENERATORS.get(ops.OPS[op].kind, gen_template)


def random_program(rng: np.random.Generator, templates: dict[str, list[Template]],
                   max_nodes: int = 60, only: list[str] | None = None) -> Program:
    """A program of 1..max_nodes nodes over every op row (uniformly; or the rows in
    ``only``), random derivative order 0-2. A third of the programs hold float64 and bool
    values only (comparable with PyTorch without dtype promotion differences)."""
    b = Builder(rng, templates, ("float64", "bool") if rng.random() < 0.35 else DTYPES)
    names = list(only) if only else [*ops.OPS, DETACH]
    target = 1 + int((max_nodes - 1) * rng.random() ** 2)  # small ones more often (mean ~20)
    for _ in range(target * 4):
        if b.n_nodes >= target:
            break
        op = names[int(rng.integers(len(names)))]
        generator_for(op)(b, op)
    if not b.n_nodes:
        b.add("neg", [b.new_arg(b.shape(), "float64")], {})
    second = 0.3 if target <= 30 else 0.1  # second derivatives of large graphs compile slowly
    return b.finish(int(rng.choice([0, 1, 2], p=[0.3, 0.7 - second, second])))
