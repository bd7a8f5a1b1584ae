"""Scale and memory: a 100,000-node chain runs forward, backward and draws without
RecursionError; a 10,000-step training loop keeps flat memory; a 5,000-node graph draws
collapsed in seconds.

The measured figures are printed (run with ``-s`` to see them).
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
import tracemalloc
import weakref
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

CHAIN = 100_000
FACTOR = 1.00001


@pytest.fixture(scope="module")
def chain() -> tuple[mg.Tensor, mg.Tensor]:
    """x -> x * FACTOR -> ... (CHAIN times) -> sum: 200,002 forward nodes, depth 100,002."""
    x = mg.tensor(np.array([1.0, -2.0]), requires_grad=True, name="x")
    y = x
    for _ in range(CHAIN):
        y = y * FACTOR
    return x, y.sum()


def test_chain_forward_value(chain) -> None:
    _, loss = chain
    expected = -1.0 * FACTOR ** CHAIN  # (1 - 2) * FACTOR**CHAIN
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-9)


def test_chain_topological_order_is_iterative(chain) -> None:
    _, loss = chain
    limit = sys.getrecursionlimit()
    order = mg.topological_order([loss])
    assert len(order) == 2 * CHAIN + 2  # x, CHAIN constants, CHAIN muls, the sum
    assert order[0].name == "x" and order[-1] is loss
    assert sys.getrecursionlimit() == limit  # nothing raised the limit to get there


def test_chain_backward(chain) -> None:
    x, loss = chain
    start = time.perf_counter()
    graph = mg.backward(loss)
    seconds = time.perf_counter() - start
    np.testing.assert_allclose(x.grad.numpy(), [FACTOR ** CHAIN] * 2, rtol=1e-9)
    assert len(graph.forward) == 2 * CHAIN + 2
    created = len(graph.created)
    # The backward pass is itself a graph: one gradient node per link (the constant
    # factors get none, their partials are never built).
    assert CHAIN <= created <= CHAIN + 10
    print(f"\n100,000-node chain: {len(graph.forward):,} forward nodes, {created:,} "
          f"backward nodes, backward {seconds:.1f} s")


def test_chain_draws_collapsed(chain) -> None:
    viz = pytest.importorskip("minigrad.viz")
    _, loss = chain
    start = time.perf_counter()
    drawing = viz.draw(loss, grads=False)
    seconds = time.perf_counter() - start
    assert "more nodes not drawn" in drawing.source
    assert "whole graph: 200,002 nodes, depth 100,002" in drawing.source
    assert drawing.source.count("\n") < 2_000  # a drawable summary, not 200,000 boxes
    assert seconds < 60
    if viz.system_dot():
        assert drawing.svg.lstrip().startswith("<?xml")
    print(f"\ndrawing the 100,000-node chain: {seconds:.1f} s")


def test_deep_chain_is_released_without_recursion() -> None:
    """Dropping the last reference to a 100,000-deep graph frees it (CPython's deallocation
    of nested objects must not overflow the C stack)."""
    x = mg.tensor(np.array([1.0]), requires_grad=True)
    y = x
    for _ in range(CHAIN):
        y = mg.tanh(y)
    first = weakref.ref(mg.topological_order([y])[2])  # the first tanh node
    del y
    assert first() is None


def test_wide_graph() -> None:
    """10,000 leaves summed pairwise into one output: order and backward stay correct."""
    leaves = [mg.tensor(np.array(float(i)), dtype="float64", requires_grad=True)
              for i in range(10_000)]
    level = [leaf * leaf for leaf in leaves]
    while len(level) > 1:
        level = [level[i] + level[i + 1] if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
    level[0].backward()
    np.testing.assert_array_equal([leaf.grad.item() for leaf in leaves[:5]], [0, 2, 4, 6, 8])
    assert leaves[-1].grad.item() == 2 * 9_999


# ------------------------------------------------------------------ the training loop
def _mlp_problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    inputs = rng.standard_normal((32, 4))
    targets = (inputs[:, :1] * inputs[:, 1:2] > 0).astype(np.float64)
    params = [
        mg.tensor(rng.standard_normal((4, 16)) * 0.5, requires_grad=True, name="w1"),
        mg.tensor(np.zeros(16), requires_grad=True, name="b1"),
        mg.tensor(rng.standard_normal((16, 1)) * 0.5, requires_grad=True, name="w2"),
        mg.tensor(np.zeros(1), requires_grad=True, name="b2"),
    ]
    return mg.tensor(inputs), mg.tensor(targets), params


def _loss(x: mg.Tensor, y: mg.Tensor, params: list[mg.Tensor]) -> mg.Tensor:
    """The mean squared error of a 4-16-1 MLP (matmul, relu, mean)."""
    w1, b1, w2, b2 = params
    hidden = mg.relu(x @ w1 + b1)
    diff = hidden @ w2 + b2 - y
    return (diff * diff).mean()


def _step(x: mg.Tensor, y: mg.Tensor, params: list[mg.Tensor], lr: float = 0.05) -> mg.Tensor:
    """One SGD step of the MLP of ``_loss`` with manual updates via assign_."""
    loss = _loss(x, y, params)
    loss.backward()
    for p in params:
        p.assign_(p.numpy() - lr * p.grad.numpy())
        p.zero_grad_()
    return loss


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * 4096
    except OSError:  # not Linux: the peak is the best we have
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _memory_run() -> dict[str, float]:
    """10,000 eager MLP training steps after a warm-up: RSS, gc objects and (over 1,000
    more steps) tracemalloc's count before and after, and the first and last losses."""
    x, y, params = _mlp_problem()
    first = _step(x, y, params).item()
    for _ in range(200):  # warm-up: numpy's caches, first allocations
        _step(x, y, params)
    gc.collect()
    rss_before, objects_before = _rss_bytes(), len(gc.get_objects())
    start = time.perf_counter()
    for _ in range(10_000):
        last = _step(x, y, params).item()
    seconds = time.perf_counter() - start
    gc.collect()
    rss_after, objects_after = _rss_bytes(), len(gc.get_objects())
    # and 1,000 more steps under tracemalloc, which sees every Python allocation
    tracemalloc.start()
    try:
        traced_before = tracemalloc.get_traced_memory()[0]
        for _ in range(1_000):
            _step(x, y, params)
        gc.collect()
        traced_after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return {"first": first, "last": last, "seconds": seconds, "rss_before": rss_before,
            "rss_after": rss_after, "objects_before": objects_before,
            "objects_after": objects_after, "traced_before": traced_before,
            "traced_after": traced_after}


def test_training_loop_memory_is_flat() -> None:
    """Run in a fresh process: a test worker that ran hundreds of tests first has a large,
    fragmented heap (1.2 GB RSS seen) whose few MiB of growth say nothing about this loop."""
    script = (f"import json, runpy; run = runpy.run_path({str(Path(__file__))!r})"
              "['_memory_run']; print(json.dumps(run()))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    r = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\n10,000 steps in {r['seconds']:.1f} s; RSS {r['rss_before'] / 2**20:.1f} MiB -> "
          f"{r['rss_after'] / 2**20:.1f} MiB; gc objects {r['objects_before']} -> "
          f"{r['objects_after']}; tracemalloc over 1,000 more steps {r['traced_before']} -> "
          f"{r['traced_after']} bytes")
    assert r["last"] < r["first"] / 5  # it trains
    assert r["rss_after"] - r["rss_before"] < 4 * 2**20
    assert r["objects_after"] - r["objects_before"] < 100
    assert r["traced_after"] - r["traced_before"] < 64 * 1024


def test_graphs_are_freed_by_reference_counting() -> None:
    """No reference cycles: a step's forward and backward graphs die with their last
    reference, without waiting for the cycle collector."""
    x, y, params = _mlp_problem()
    gc.disable()
    try:
        loss = _loss(x, y, params)
        loss.backward()
        graph = mg.gradient_graph(loss)  # the backward graph, kept only by `graph`
        probes = [weakref.ref(loss), weakref.ref(loss.inputs[0]),
                  weakref.ref(graph.created[-1]), weakref.ref(graph.grads[id(loss)])]
        del loss, graph
        assert [probe() for probe in probes] == [None] * len(probes)
    finally:
        gc.enable()


def test_retained_losses_keep_their_graphs() -> None:
    """The control for the flat-memory test: graphs are kept while something refers to
    them (minigrad never frees a graph behind your back; backward twice works)."""
    x, y, params = _mlp_problem()
    gc.collect()
    objects_before = len(gc.get_objects())
    kept = [_step(x, y, params) for _ in range(200)]
    gc.collect()
    assert len(gc.get_objects()) - objects_before > 200 * 10
    loss = kept[0]
    assert loss.inputs and loss.inputs[0].inputs  # the graph is still there, but ...
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()  # ... the steps changed its parameters since: not differentiable
    fresh = _loss(x, y, params)
    fresh.backward()
    fresh.backward()  # a graph whose inputs are unchanged: backward twice accumulates
    assert params[0].grad is not None


# ---------------------------------------------------------------- drawing 5,000 nodes
def test_five_thousand_node_network_draws_collapsed_in_seconds() -> None:
    viz = pytest.importorskip("minigrad.viz")
    if not hasattr(mg.nn, "Linear"):
        pytest.skip("nn.Linear not available")
    mg.manual_seed(0)
    layers = []
    for _ in range(270):
        layers += [mg.nn.Linear(8, 8, dtype="float64"),
                   mg.nn.BatchNorm1d(8, dtype="float64"), mg.nn.ReLU()]
    net = mg.nn.Sequential(*layers)
    x = mg.tensor(np.random.default_rng(0).standard_normal((16, 8)))
    out = net(x).sum()
    nodes = len(mg.topological_order([out]))
    assert nodes >= 5_000
    start = time.perf_counter()
    drawing = viz.draw(out, view="forward", grads=False, collapse=True)
    seconds = time.perf_counter() - start
    assert drawing.source.count("\n") < 5_000
    if viz.system_dot():
        render_start = time.perf_counter()
        assert "<svg" in drawing.svg
        seconds += time.perf_counter() - render_start
    print(f"\ndrawing a {nodes:,}-node network collapsed: {seconds:.1f} s")
    assert seconds < 30
