"""Property-based tests (hypothesis).

1. Random small graphs of the primitives on random shapes with broadcasting: gradients
   against central finite differences in float64 (``mg.gradcheck``), and values and
   gradients against PyTorch, run live on the same program, when torch is importable.
2. JIT against eager on random graphs, when ``mg.jit`` exists.
Composed against fused BatchNorm (random N >= 2, D, spatial size, eps, dtype, affine and
momentum) is in test_property_bn.py.

A program is a list of steps; each step applies one op to earlier values (the inputs
first). The same program is interpreted with minigrad and with torch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import ops

try:
    import torch
except ImportError:  # the finite-difference checks still run
    torch = None

GRAPH_EXAMPLES = 300
SEEDED_GRAPHS = 200
BN_EXAMPLES = 60
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=True)


# ------------------------------------------------------------- the two interpreters
class MG:
    """minigrad's primitives under neutral names."""

    add, sub, mul, div, neg = ops.add, ops.sub, ops.mul, ops.div, ops.neg
    tanh, sigmoid, exp, log, sqrt = ops.tanh, ops.sigmoid, ops.exp, ops.log, ops.sqrt
    reciprocal, relu, maximum, greater = ops.reciprocal, ops.relu, ops.maximum, ops.greater

    @staticmethod
    def where(c, a, b):
        return ops.where(c, a, b)

    @staticmethod
    def pow(x, p):
        return ops.power(x, p)

    @staticmethod
    def reduce(kind, x, axes, keepdims):
        return getattr(ops, kind)(x, axes, keepdims)

    @staticmethod
    def transpose(x, perm):
        return ops.transpose(x, perm)

    @staticmethod
    def reshape(x, shape):
        return ops.reshape(x, shape)

    @staticmethod
    def broadcast_to(x, shape):
        return ops.broadcast_to(x, shape)

    @staticmethod
    def matmul(a, b):
        return ops.matmul(a, b)

    @staticmethod
    def flip0(x):
        return x[::-1]

    @staticmethod
    def gather(x, idx, axis):
        return ops.gather(x, mg.tensor(idx), axis)


class TorchL:
    """The same names on torch (float64); Python numbers become float64 tensors."""

    @staticmethod
    def add(a, b):
        return torch.add(_tt(a), _tt(b))

    @staticmethod
    def sub(a, b):
        return torch.sub(_tt(a), _tt(b))

    @staticmethod
    def mul(a, b):
        return torch.mul(_tt(a), _tt(b))

    @staticmethod
    def div(a, b):
        return torch.div(_tt(a), _tt(b))

    @staticmethod
    def maximum(a, b):
        return torch.maximum(_tt(a), _tt(b))

    @staticmethod
    def greater(a, b):
        return torch.gt(_tt(a), _tt(b))

    @staticmethod
    def where(c, a, b):
        return torch.where(c, _tt(a), _tt(b))

    @staticmethod
    def neg(x):
        return torch.neg(x)

    @staticmethod
    def tanh(x):
        return torch.tanh(x)

    @staticmethod
    def sigmoid(x):
        return torch.sigmoid(x)

    @staticmethod
    def exp(x):
        return torch.exp(x)

    @staticmethod
    def log(x):
        return torch.log(x)

    @staticmethod
    def sqrt(x):
        return torch.sqrt(x)

    @staticmethod
    def reciprocal(x):
        return torch.reciprocal(x)

    @staticmethod
    def relu(x):
        return torch.relu(x)

    @staticmethod
    def pow(x, p):
        return torch.pow(x, p)

    @staticmethod
    def reduce(kind, x, axes, keepdims):
        if x.ndim == 0:
            return x
        dims = tuple(range(x.ndim)) if axes is None else axes
        fn = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax}[kind]
        return fn(x, dim=dims, keepdim=keepdims)

    @staticmethod
    def transpose(x, perm):
        return x.permute(*perm)

    @staticmethod
    def reshape(x, shape):
        return x.reshape(shape)

    @staticmethod
    def broadcast_to(x, shape):
        return x.expand(*shape)

    @staticmethod
    def matmul(a, b):
        return torch.matmul(a, b)

    @staticmethod
    def flip0(x):
        return torch.flip(x, (0,))

    @staticmethod
    def gather(x, idx, axis):
        return torch.gather(x, axis, torch.as_tensor(idx))


def _tt(value):
    return value if isinstance(value, torch.Tensor) else torch.tensor(
        value, dtype=torch.float64)


UNARY = {
    "neg": lambda L, a: L.neg(a),
    "tanh": lambda L, a: L.tanh(a),
    "sigmoid": lambda L, a: L.sigmoid(a),
    "exp": lambda L, a: L.exp(L.tanh(a)),                       # bounded argument
    "log": lambda L, a: L.log(L.add(L.mul(a, a), 0.5)),         # positive argument
    "sqrt": lambda L, a: L.sqrt(L.add(L.mul(a, a), 0.5)),
    "reciprocal": lambda L, a: L.reciprocal(L.add(L.mul(a, a), 0.5)),
    "relu": lambda L, a: L.relu(a),
    "square": lambda L, a: L.pow(a, 2.0),
    "cube": lambda L, a: L.pow(a, 3.0),
    "pow": lambda L, a: L.pow(L.add(L.mul(a, a), 1.0), -1.5),
}
BINARY = {
    "add": lambda L, a, b: L.add(a, b),
    "sub": lambda L, a, b: L.sub(a, b),
    "mul": lambda L, a, b: L.mul(a, b),
    "div": lambda L, a, b: L.div(a, L.add(L.mul(b, b), 0.5)),
    "maximum": lambda L, a, b: L.maximum(a, b),
    "where": lambda L, a, b: L.where(L.greater(a, b), a, L.mul(b, 2.0)),
}


@dataclass
class Program:
    """Input shapes and values, and steps (kind, operand indices, parameters)."""

    shapes: list[tuple[int, ...]]
    values: list[np.ndarray]
    steps: list[tuple[str, tuple[int, ...], tuple]]

    def run(self, L, leaves: list) -> object:
        pool = list(leaves)
        for kind, args, params in self.steps:
            operands = [pool[i] for i in args]
            if kind in UNARY:
                pool.append(UNARY[kind](L, *operands))
            elif kind in BINARY:
                pool.append(BINARY[kind](L, *operands))
            elif kind in ("sum", "mean", "max"):
                pool.append(L.reduce(kind, operands[0], *params))
            elif kind == "matmul":
                pool.append(L.matmul(operands[0], operands[1]))
            elif kind == "gather":
                pool.append(L.gather(operands[0], *params))
            else:
                pool.append(getattr(L, kind)(operands[0], *params))
        return pool[-1]

    def describe(self) -> str:
        return f"inputs {self.shapes}; " + "; ".join(
            f"v{len(self.shapes) + k} = {kind}{tuple(f'v{i}' for i in args)} {params}"
            for k, (kind, args, params) in enumerate(self.steps))


@st.composite
def programs(draw) -> Program:
    """A random program over 1-3 broadcast-compatible inputs, 1-6 steps.

    Hypothesis draws the sizes (which shrink); the op choices come from a drawn seed
    (left to itself hypothesis keeps picking the first ops of each list).
    """
    base = draw(st.lists(st.integers(1, 3), min_size=0, max_size=3))
    return build_program(np.random.default_rng(draw(st.integers(0, 2**32 - 1))), base,
                         draw(st.integers(1, 3)), draw(st.integers(1, 6)))


def build_program(rng: np.random.Generator, base: list[int], n_inputs: int,
                  n_steps: int) -> Program:
    """Inputs whose shapes broadcast against ``base``, then ``n_steps`` random steps."""
    shapes: list[tuple[int, ...]] = []
    for _ in range(n_inputs):
        keep = int(rng.integers(0, len(base) + 1))  # drop leading axes
        shape = [n if rng.random() < 0.6 else 1 for n in base[len(base) - keep:]]
        shapes.append(tuple(shape))
    all_shapes = list(shapes)
    steps: list[tuple[str, tuple[int, ...], tuple]] = []
    extra: list[tuple[int, ...]] = []  # matmul weights join the inputs

    def current(i: int) -> tuple[int, ...]:
        return all_shapes[i]

    for _ in range(n_steps):
        last = len(all_shapes) - 1
        pick = int(rng.integers(0, last + 1))
        a = last if rng.random() < 0.5 else pick
        shape = current(a)
        kinds = ["unary", "binary", "reduce", "move"] + (["matmul"] if shape else [])
        family = str(rng.choice(kinds))
        if family == "unary":
            kind = str(rng.choice(sorted(UNARY)))
            steps.append((kind, (a,), ()))
            all_shapes.append(shape)
        elif family == "binary":
            b = int(rng.integers(0, last + 1))
            try:
                out = tuple(np.broadcast_shapes(shape, current(b)))
            except ValueError:
                steps.append(("tanh", (a,), ()))
                all_shapes.append(shape)
                continue
            kind = str(rng.choice(sorted(BINARY)))
            steps.append((kind, (a, b), ()))
            all_shapes.append(out)
        elif family == "reduce":
            kind = str(rng.choice(["sum", "mean", "max"]))
            keepdims = bool(rng.random() < 0.5)
            if shape and rng.random() < 0.6:
                count = int(rng.integers(1, len(shape) + 1))
                axes = tuple(sorted(int(i) for i in rng.choice(len(shape), count, False)))
            else:
                axes = None
            steps.append((kind, (a,), (axes, keepdims)))
            reduced = range(len(shape)) if axes is None else axes
            out = tuple(1 if i in reduced else n for i, n in enumerate(shape)) if keepdims \
                else tuple(n for i, n in enumerate(shape) if i not in reduced)
            all_shapes.append(out)
        elif family == "move":
            choices = ["reshape", "broadcast_to"] + (
                ["transpose", "flip0", "gather"] if shape else [])
            kind = str(rng.choice(choices))
            if kind == "reshape":
                out = (int(np.prod(shape)),)
                params = (out,)
            elif kind == "broadcast_to":
                out = (2, *shape)
                params = (out,)
            elif kind == "transpose":
                perm = tuple(int(i) for i in rng.permutation(len(shape)))
                out = tuple(shape[p] for p in perm)
                params = (perm,)
            elif kind == "flip0":
                out, params = shape, ()
            else:
                axis = int(rng.integers(0, len(shape)))
                picks = int(rng.integers(1, 4))
                idx_shape = tuple(picks if i == axis else n for i, n in enumerate(shape))
                idx = rng.integers(0, shape[axis], idx_shape)
                out, params = idx_shape, (idx, axis)
            steps.append((kind, (a,), params))
            all_shapes.append(out)
        else:  # matmul with a new weight input of shape (k, m)
            m = int(rng.integers(1, 4))
            weight_shape = (shape[-1], m)
            extra.append(weight_shape)
            steps.append(("matmul", (a, -len(extra)), ()))
            all_shapes.append((*shape[:-1], m))
    # weights are appended after the inputs: renumber their negative indices
    n_total = len(shapes) + len(extra)
    offset = len(extra)
    fixed = []
    for kind, args, params in steps:
        new_args = tuple(
            len(shapes) + (-i - 1) if i < 0 else (i if i < len(shapes) else i + offset)
            for i in args
        )
        fixed.append((kind, new_args, params))
    shapes_all = shapes + extra
    values = [rng.uniform(-2.0, 2.0, s) for s in shapes_all]
    program = Program(shapes_all, values, fixed)
    assert len(program.values) == n_total
    return program


CHECKED: dict[str, set[str]] = {"graphs": set(), "torch": set(), "jit": set()}


def _far_from_kinks(program: Program) -> bool:
    """relu and max/maximum/where are not differentiable at their switch points: skip
    draws where a switch point lies within the finite-difference step."""
    leaves = [mg.tensor(v) for v in program.values]
    with mg._state.recording():
        out = program.run(MG, leaves)
        nodes = mg.topological_order([out])
    for node in nodes:
        name = node.op.name if node.op is not None else ""
        if name == "relu" and np.min(np.abs(node.inputs[0].data), initial=1.0) < 1e-3:
            return False
        if name in ("maximum", "greater"):
            gap = np.abs(node.inputs[0].data - node.inputs[1].data)
            if np.min(np.where(gap == 0, 1.0, gap), initial=1.0) < 1e-3:
                return False  # exact ties (the same value twice) are fine, near ties not
        if name == "max":
            x = node.inputs[0].data
            peak = np.max(x, axis=node.attrs["axes"], keepdims=True)
            gap = np.abs(x - peak)
            if np.min(np.where(gap == 0, 1.0, gap), initial=1.0) < 1e-3:
                return False
    return True


@settings(SETTINGS, max_examples=GRAPH_EXAMPLES)
@given(programs())
def test_random_graph_gradients_match_finite_differences(program: Program) -> None:
    if not _far_from_kinks(program):
        return

    def fn(*leaves):
        return program.run(MG, list(leaves))

    try:
        mg.gradcheck(fn, program.values, order=1, atol=1e-6, rtol=1e-5)
    except AssertionError as error:
        raise AssertionError(f"{program.describe()}\n{error}") from None
    CHECKED["graphs"].add(program.describe())


@pytest.mark.skipif(torch is None, reason="torch not installed")
@settings(SETTINGS, max_examples=GRAPH_EXAMPLES)
@given(programs())
def test_random_graph_matches_torch(program: Program) -> None:
    leaves = [mg.tensor(v, requires_grad=True) for v in program.values]
    out = program.run(MG, leaves)
    weights = np.random.default_rng(7).standard_normal(out.shape)
    (out * weights).sum().backward()
    tleaves = [torch.tensor(v, requires_grad=True) for v in program.values]
    tout = program.run(TorchL, tleaves)
    (tout * torch.tensor(weights)).sum().backward()
    where = program.describe()
    assert out.shape == tuple(tout.shape), where
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-12,
                               err_msg=where)
    for leaf, tleaf in zip(leaves, tleaves, strict=True):
        expected = np.zeros(leaf.shape) if tleaf.grad is None else tleaf.grad.numpy()
        got = np.zeros(leaf.shape) if leaf.grad is None else leaf.grad.numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12, err_msg=where)
    CHECKED["torch"].add(program.describe())


def _seeded_program(seed: int) -> Program:
    rng = np.random.default_rng(10_000 + seed)
    base = [int(n) for n in rng.integers(1, 4, int(rng.integers(0, 4)))]
    return build_program(rng, base, int(rng.integers(1, 4)), int(rng.integers(2, 8)))


@pytest.mark.parametrize("seed", range(SEEDED_GRAPHS))
def test_seeded_random_graphs(seed: int) -> None:
    """A fixed sweep of larger random programs (2-7 steps), beside the hypothesis search:
    finite differences always, torch when importable."""
    program = _seeded_program(seed)
    test_random_graph_gradients_match_finite_differences.hypothesis.inner_test(program)
    if torch is not None:
        test_random_graph_matches_torch.hypothesis.inner_test(program)


@settings(SETTINGS, max_examples=40)
@given(programs())
def test_random_graph_second_order(program: Program) -> None:
    if not _far_from_kinks(program):
        return

    def fn(*leaves):
        return program.run(MG, list(leaves))

    try:
        mg.gradcheck(fn, program.values, order=2, atol=1e-4, rtol=1e-3)
    except AssertionError as error:
        raise AssertionError(f"{program.describe()}\n{error}") from None


def test_program_generator_covers_every_family() -> None:
    """The strategy reaches every op the programs know (guards against a silent narrowing)."""
    seen: set[str] = set()

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(programs())
    def collect(program: Program) -> None:
        seen.update(kind for kind, _, _ in program.steps)

    collect()
    wanted = set(UNARY) | set(BINARY) | {"sum", "mean", "max", "reshape", "broadcast_to",
                                         "transpose", "flip0", "gather", "matmul"}
    assert wanted <= seen, wanted - seen


# ------------------------------------------------------------------- jit vs eager
JIT_EXAMPLES = 8  # each distinct graph is a cold Numba compile (~1 s)


@pytest.fixture(scope="module")
def jit_cache(tmp_path_factory):
    """A private, empty JIT cache directory for this module."""
    if not hasattr(mg, "jit"):
        pytest.skip("mg.jit not available")
    previous = os.environ.get("MINIGRAD_CACHE_DIR")
    os.environ["MINIGRAD_CACHE_DIR"] = str(tmp_path_factory.mktemp("jit_cache"))
    yield mg.jit
    if previous is None:
        os.environ.pop("MINIGRAD_CACHE_DIR", None)
    else:
        os.environ["MINIGRAD_CACHE_DIR"] = previous


def _check_jit_against_eager(jit, program: Program) -> None:
    def step(*xs):
        out = program.run(MG, list(xs))
        return out, mg.grad((out * out).sum(), list(xs), allow_unused=True)

    compiled = jit(step)
    leaves = [mg.tensor(v, requires_grad=True) for v in program.values]
    compiled(*leaves)  # traces and compiles
    out, grads = compiled(*leaves)  # runs the compiled kernel
    assert compiled.source is not None and "def kernel(" in compiled.source
    eager_out, eager_grads = step(*leaves)
    where = program.describe()
    np.testing.assert_allclose(out.numpy(), eager_out.numpy(), rtol=1e-10, atol=1e-12,
                               err_msg=where)
    for got, want in zip(grads, eager_grads, strict=True):
        if want is None:
            assert got is None, where
            continue
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=where)
    CHECKED["jit"].add(where)


@settings(SETTINGS, max_examples=JIT_EXAMPLES)
@given(programs())
def test_jit_matches_eager_on_random_graphs(jit_cache, program: Program) -> None:
    _check_jit_against_eager(jit_cache, program)


@pytest.mark.parametrize("seed", range(4))
def test_jit_matches_eager_on_seeded_graphs(jit_cache, seed: int) -> None:
    _check_jit_against_eager(jit_cache, _seeded_program(seed))


def test_counts_are_reported() -> None:
    """Runs last in this file: print how many random graphs were checked."""
    graphs, torch_graphs = len(CHECKED["graphs"]), len(CHECKED["torch"])
    print(f"\ndistinct random graphs checked: {graphs} against finite differences, "
          f"{torch_graphs} against torch, {len(CHECKED['jit'])} jit against eager")
    assert graphs > GRAPH_EXAMPLES // 4 or graphs == 0  # 0: run alone (-k)
