"""mg.jit gives eager's numbers on compositions, small matmuls and odd shapes (issue 13).

Each case failed before the fusion planner was made sound: a small matmul (a dimension
<= 8, computed in a loop) fused into the loop that was still writing its operand, or
reading an array before the store of the same iteration (NaN, ~1e175, uninitialised
memory). ``check_plan`` now runs on every compiled plan; ``test_check_plan_*`` show that
it rejects such plans. References: eager mode (a separate code path: numpy), numpy, and
finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.experiments import make_train_step
from minigrad.jit import jit
from minigrad.jit.ir import Graph
from minigrad.jit.plan import Step, plan
from minigrad.jit.plan_check import PlanInvariantError, check_plan


def _t(rng: np.random.Generator, *shape: int, grad: bool = False,
       dtype: type = np.float64) -> mg.Tensor:
    return mg.Tensor(rng.standard_normal(shape).astype(dtype), requires_grad=grad)


def _flat(result: object) -> list:
    if isinstance(result, tuple | list):
        return [x for item in result for x in _flat(item)]
    return [result]


def _same_as_eager(fn, *args: mg.Tensor, calls: int = 3, tol: float = 1e-10) -> None:
    """The compiled fn gives eager's values on its first calls (the first is the trace)."""
    compiled = jit(fn)
    for _ in range(calls):
        got, want = _flat(compiled(*args)), _flat(fn(*args))
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            assert g.shape == w.shape and g.dtype == w.dtype
            np.testing.assert_allclose(g.data, w.data, rtol=tol, atol=tol)


# ---------------------------------------------------- the cases issue 13 lists
def test_tanh_then_small_matmul() -> None:
    rng = np.random.default_rng(0)
    x, w = _t(rng, 16, 3), _t(rng, 3, 3)
    compiled = jit(lambda x, w: x.tanh() @ w)
    for _ in range(3):
        np.testing.assert_allclose(compiled(x, w).data, np.tanh(x.data) @ w.data, rtol=1e-12)


def test_sum_of_tanh_then_small_matmul() -> None:
    rng = np.random.default_rng(1)
    x, w = _t(rng, 16, 3), _t(rng, 3, 3)
    compiled = jit(lambda x, w: (x.tanh() @ w).sum())
    for _ in range(3):
        np.testing.assert_allclose(compiled(x, w).data, (np.tanh(x.data) @ w.data).sum(),
                                   rtol=1e-12)


def test_weight_gradient_of_a_weighted_4x4_product() -> None:
    rng = np.random.default_rng(2)
    x, w, r = _t(rng, 4, 4), _t(rng, 4, 4, grad=True), _t(rng, 4, 4)
    compiled = jit(lambda x, w, r: mg.grad(((x @ w) * r).sum(), [w])[0])
    for _ in range(3):
        np.testing.assert_allclose(compiled(x, w, r).data, x.data.T @ r.data, rtol=1e-12)


def test_gradient_through_a_1x1_sigmoid_matmul() -> None:
    rng = np.random.default_rng(3)
    w, b = _t(rng, 1, 1, grad=True), _t(rng, 1, 12, grad=True)
    compiled = jit(lambda w, b: mg.grad((w.sigmoid() @ b).sum(), [b])[0])
    want = np.broadcast_to(1.0 / (1.0 + np.exp(-w.data)), (1, 12))
    for _ in range(3):
        np.testing.assert_allclose(compiled(w, b).data, want, rtol=1e-12)


@pytest.mark.parametrize("n", [1, 12])
def test_hessian_vector_product_through_a_1x1_matmul(n) -> None:
    """d/dw <grad_w f, v> with f = sum(tanh(x @ w)), w (1, 1), against central differences
    of the gradient (an independent reference)."""
    rng = np.random.default_rng(4)
    x, w, v = _t(rng, n, 1), _t(rng, 1, 1, grad=True), _t(rng, 1, 1)

    def hvp(x, w, v):
        (g,) = mg.grad((x @ w).tanh().sum(), [w], create_graph=True)
        return mg.grad((g * v).sum(), [w])[0]

    def gradient(wv: np.ndarray) -> np.ndarray:
        return x.data.T @ (1.0 - np.tanh(x.data @ wv) ** 2)

    h = 1e-6
    numeric = (gradient(w.data + h * v.data) - gradient(w.data - h * v.data)) / (2 * h)
    compiled = jit(hvp)
    for _ in range(3):
        got = compiled(x, w, v).data
        assert abs(got.item()) > 1e-3  # not the 0 of before
        np.testing.assert_allclose(got, numeric, rtol=1e-6)
        np.testing.assert_allclose(got, hvp(x, w, v).data, rtol=1e-12)


def _train(sizes: tuple[int, ...], batch: int, steps: int, use_jit: bool) -> list[float]:
    mg.manual_seed(0)
    layers: list[nn.Module] = []
    for k in range(len(sizes) - 1):
        layers += [nn.Linear(sizes[k], sizes[k + 1]), nn.Tanh()]
    model = nn.Sequential(*layers[:-1])
    opt = optim.SGD(model.parameters(), lr=0.2)
    rng = np.random.default_rng(0)
    x = mg.Tensor(rng.standard_normal((batch, sizes[0])))
    y = mg.Tensor(rng.standard_normal((batch, sizes[-1])))

    step = make_train_step(model, opt, nn.functional.mse_loss)
    run = jit(step) if use_jit else step
    return [float(run(x, y).data) for _ in range(steps)]


@pytest.mark.parametrize(("sizes", "batch"), [((2, 2), 2), ((2, 8, 2), 8)])
def test_small_training_runs_follow_eager(sizes, batch) -> None:
    """Linear(2, 2) at batch 2 diverged to inf under jit; a 2-8-2 MLP at batch 8 ended at
    loss 1.28 instead of 0.61."""
    eager = _train(sizes, batch, 30, use_jit=False)
    compiled = _train(sizes, batch, 30, use_jit=True)
    assert eager[-1] < eager[0]
    np.testing.assert_allclose(compiled, eager, rtol=1e-9)


# ------------------------------------------------------ shapes and compositions
SHAPES = [(16, 3, 3), (4, 4, 4), (1, 1, 12), (3, 9, 2), (8, 1, 9)]


@pytest.mark.parametrize(("m", "k", "n"), SHAPES)
def test_compositions_around_a_matmul_with_both_gradient_orders(m, k, n) -> None:
    """Elementwise before and after, transposes, a reduction, first and second order
    gradients: one compiled function per shape."""
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    a, b, r = _t(rng, m, k, grad=True), _t(rng, n, k, grad=True), _t(rng, m, n)

    def fn(a, b, r):
        p = a.tanh() @ (b * 2.0).T
        out = (p.sigmoid() * r).sum() + (p.T @ a).sum()
        ga, gb = mg.grad(out, [a, b], create_graph=True)
        second = mg.grad((ga * ga).sum() + gb.sum(), [a, b])
        return p, out, ga, gb, second

    _same_as_eager(fn, a, b, r)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("m", "k", "n"), [(3, 0, 4), (0, 3, 4), (2, 0, 0), (0, 9, 3)])
def test_matmuls_with_an_empty_axis_give_eager_zeros(m, k, n, dtype) -> None:
    rng = np.random.default_rng(5)
    a, b = _t(rng, m, k, grad=True, dtype=dtype), _t(rng, k, n, grad=True, dtype=dtype)

    def fn(a, b):
        p = (a * 2.0) @ b.sigmoid()
        return p, p.sum(), mg.grad((p * p).sum() + p.sum(), [a, b])

    _same_as_eager(fn, a, b, calls=2, tol=1e-6)


# ------------------------------------------------------- indices out of range
def _index_error(fn, *args: mg.Tensor) -> str:
    with pytest.raises(IndexError) as caught:
        fn(*args)
    return str(caught.value)


def test_out_of_range_indices_raise_eager_index_errors() -> None:
    """gather, its gradient (a scatter_add whose gather is not computed) and scatter_add:
    the compiled code checks min and max of the indices once per call and raises eager's
    message (never garbage or a crash)."""
    x = mg.Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    g = mg.Tensor(np.ones((3, 1)))
    functions = [
        (lambda x, i: mg.ops.gather(x, i, 1), x),
        (lambda x, i: mg.grad((mg.ops.gather(x, i, 1) * 2.0).sum(), [x])[0], x),
        (lambda g, i: mg.ops.scatter_add(g, i, 1, (3, 4)), g),
    ]
    good = mg.Tensor(np.array([[0], [3], [-4]]))
    for fn, first in functions:
        compiled = jit(fn)
        compiled(first, good)
        np.testing.assert_array_equal(compiled(first, good).data, fn(first, good).data)
        for bad in ([[0], [4], [1]], [[0], [-5], [1]], [[9], [-7], [1]]):
            index = mg.Tensor(np.array(bad))
            assert _index_error(compiled, first, index) == _index_error(fn, first, index)
        assert compiled.trace_count == 1


# ------------------------------------------------------------------ dtypes
def test_bool_arithmetic_gives_eager_dtypes_and_values() -> None:
    """numpy adds bools as a logical or and multiplies them as an and; Numba's scalar
    True + True is 2. Inlined into a consumer, that 2 reached the result."""
    rng = np.random.default_rng(6)
    a = mg.Tensor(rng.integers(0, 2, (5, 3)).astype(bool))
    b = mg.Tensor(np.array([True, True, False]))
    x, n = _t(rng, 5, 3), mg.Tensor(rng.integers(-3, 4, (5, 3)))

    def fn(a, b, x, n):
        return ((a + b) * 3, (a + b).sum(), (a + b).astype(np.float64) * x, (a * b) + (a + a),
                mg.ops.maximum(a, b) * 2, (a + b).sum(axis=0), (a + b).mean(), (a + b) + x,
                (a + True) * 2, (a * 2) + (b + b), (a + b) * n, n.mean(axis=0), (n > 0) + a)

    compiled = jit(fn)
    for _ in range(2):
        for got, want in zip(compiled(a, b, x, n), fn(a, b, x, n), strict=True):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got.data, want.data)


def test_float16_results_are_refused_by_name() -> None:
    """exp of a float16 tensor is float16 eagerly; Numba cannot compute it. (exp of a bool
    tensor was the way to get one: numpy's float16; it is float32 now, as in PyTorch.)"""
    compiled = jit(lambda a: a.exp())
    with pytest.raises(mg.jit.NotCompilableError, match="cannot compute float16 values"):
        compiled(mg.Tensor(np.array([1.0, 0.5], np.float16)))


# --------------------------------------------------------------- the checker
def _graph() -> Graph:
    """tanh(x) @ w with x (16, 3), w (3, 3): the first case above."""
    graph = Graph()
    x = graph.add("input", (16, 3), np.float64)
    w = graph.add("input", (3, 3), np.float64)
    t = graph.ew("tanh", x)
    graph.roots = [graph.add("matmul", (16, 3), np.float64, (t, w))]
    return graph


def test_check_plan_accepts_the_planned_steps() -> None:
    graph = _graph()
    the_plan = plan(graph)
    check_plan(graph, the_plan)
    assert [step.kind for step in the_plan.steps] == ["loop", "loop"]


def test_check_plan_rejects_a_small_matmul_fused_into_the_loop_writing_its_operand() -> None:
    """The plan main made: tanh and the matmul reading whole rows of it in one nest."""
    graph = _graph()
    the_plan = plan(graph)
    the_plan.steps = [Step("loop", (16, 3), [2, 3])]
    with pytest.raises(PlanInvariantError, match="reads v2 at other indices inside the loop"):
        check_plan(graph, the_plan)


def test_check_plan_rejects_a_read_before_the_producing_step() -> None:
    graph = _graph()
    the_plan = plan(graph)
    the_plan.steps.reverse()
    with pytest.raises(PlanInvariantError, match="before step 1 computes it"):
        check_plan(graph, the_plan)


def test_check_plan_rejects_an_accumulator_read_in_its_own_loop() -> None:
    graph = Graph()
    x = graph.add("input", (4, 3), np.float64)
    total = graph.reduce("reduce_sum", x, (0, 1), True)
    graph.roots = [total, graph.ew("mul", x, total)]
    the_plan = plan(graph)
    check_plan(graph, the_plan)
    the_plan.steps = [Step("loop", (4, 3), [s for step in the_plan.steps for s in step.items])]
    with pytest.raises(PlanInvariantError, match="accumulator"):
        check_plan(graph, the_plan)
