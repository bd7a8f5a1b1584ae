"""Smoke tests of issue 17's benchmarks: what they count and print, no timing asserted.

The programs are checked against independent counts and numpy; the tables against made-up
results (a timeout must print as "> 600 s", never raise); the fresh-process helper's time
limit against a child that cannot finish in time.
"""

from __future__ import annotations

import importlib
import json

import numpy as np
import pytest

import minigrad
from benchmarks import (
    cold,
    compile_scaling,
    env,
    fresh,
    layernorm,
    memory,
    mlp,
    mnist,
    scalar,
    threads,
)
from benchmarks import run as bench_run
from minigrad.timing import NOT_INSTALLED


class Counting:
    """A number that counts every arithmetic op done on it (and on what it makes)."""

    ops = 0

    def __init__(self, value: float) -> None:
        self.value = value

    def _op(self, other: object, fn) -> Counting:
        Counting.ops += 1
        other_value = other.value if isinstance(other, Counting) else other
        return Counting(fn(self.value, other_value))

    def __add__(self, other):
        return self._op(other, lambda a, b: a + b)

    __radd__ = __add__

    def __mul__(self, other):
        return self._op(other, lambda a, b: a * b)

    __rmul__ = __mul__

    def __truediv__(self, other):
        return self._op(other, lambda a, b: a / b)


def _unary(fn):
    def apply(x: Counting) -> Counting:
        Counting.ops += 1
        return Counting(fn(x.value))

    return apply


@pytest.fixture
def counting():
    Counting.ops = 0
    return Counting


def test_chain_nodes_are_forward_ops(counting):
    y = compile_scaling.chain(counting(0.5), 100, _unary(np.tanh))
    assert counting.ops == 100
    expected = 0.5
    for link in range(50):
        expected = expected * 1.001 + 0.01 if link % 2 == 0 else np.tanh(expected * 0.999)
    assert y.value == pytest.approx(expected, rel=1e-15)


def test_faw_program_op_count_and_value(counting):
    values = np.random.default_rng(1).uniform(-1, 1, 7)
    softplus = lambda t: np.log1p(np.exp(t))  # noqa: E731
    out = scalar.faw_program([counting(v) for v in values], 3, _unary(softplus),
                             _unary(np.exp))
    assert counting.ops == scalar.faw_ops(7, 3) == 3 * (9 * 7 - 3) + 6
    v = values
    for _ in range(3):  # the same rounds in numpy
        a = softplus(v)
        w = np.exp(a) / np.exp(a).sum()
        v = w * a.sum() / np.prod(1 + w)
    assert out.value == pytest.approx(v.sum(), rel=1e-12)
    assert scalar.faw_ops(scalar.FAW_INPUTS, scalar.FAW_ROUNDS) == 9966


def test_scalar_mlp_program_is_the_mlp():
    weights = scalar.mlp_weights()
    layers = [([list(row) for row in W], list(b)) for W, b in weights]
    x = [0.5, -1.5]
    out = scalar.mlp_program(x, layers, lambda t: max(t, 0.0))
    h = np.asarray(x)
    for depth, (W, b) in enumerate(weights):
        h = W @ h + b
        h = np.maximum(h, 0) if depth < len(weights) - 1 else h
    assert out == pytest.approx(h[0], rel=1e-12)


def test_scalar_rows_quick(monkeypatch):
    monkeypatch.setattr(scalar, "QUICK_CHAIN_NODES", (40,))
    rows = scalar.per_node(quick=True)
    assert [r["name"] for r in rows] == [
        "minigrad eager", "minigrad eager, gc disabled", "PyTorch eager"]
    values = [r["value"] for r in rows if r["status"] == "ok"]
    assert len(values) >= 2 and max(values) - min(values) < 1e-9
    assert "µs per node" in scalar.format_per_node(rows)
    mlp_rows = scalar.scalar_mlp(quick=True)
    outputs = [row.extra["output"] for row in mlp_rows if row.timing]
    assert len(outputs) >= 1 and max(outputs) - min(outputs) < 1e-12


def test_spawn_time_limit_gives_a_record():
    result = fresh.spawn("compile_scaling", ["minigrad", "10"], limit_s=0.01)
    assert result["timeout"] and fresh.seconds(result, "first_s") == "> 0 s"
    assert fresh.seconds({"error": "x"}, "first_s") == "error"


def test_compile_scaling_table_with_a_timeout():
    ok = {"first_s": 1.0, "first_two_s": 1.2, "third_s": 1e-4, "value": 3.0, "runs": 3,
          "stats": {"traces": 1}}
    timeout = {"timeout": True, "limit_s": 600.0}
    found = [{"nodes": 500, "cold": ok, "disk": dict(ok, first_two_s=0.3),
              "jax": dict(ok, first_s=0.5)},
             {"nodes": 5000, "cold": timeout, "disk": None, "jax": dict(ok, first_s=2.0)}]
    table = compile_scaling.format_table(found)
    assert "> 600 s" in table and "0.417" in table  # JAX 0.5 s / minigrad 1.2 s
    assert compile_scaling.growth(found)["value"] == "> 500"


def test_cold_threads_memory_tables():
    done = {"import_s": 1.0, "first_s": 2.0, "first_two_s": 4.0, "third_s": 1e-3,
            "process_s": 5.0, "loss@step1": 0.7, "runs": 3}
    found = {name: dict(done) for name in cold.ROW_NAMES}
    found["JAX jit, cold"]["first_two_s"] = 1.0
    found["minigrad jit, disk cache"] = {"timeout": True, "limit_s": 600.0}
    table = cold.format_table(found)
    assert "0.25  (target >= 1)" in table and "> 600 s  (target <= 0.7)" in table
    rows = [{"net": "n", "threads": s, "load": load, "median_ms": m, "q1_ms": m, "q3_ms": m,
             "load1": 0.1, "numba_threads": 2, "loss@step1": 0.7}
            for s, m in zip(threads.SETTINGS, (1.0, 2.0, 4.0), strict=True)
            for load in threads.LOADS]
    rows[-1] = {"net": "n", "threads": threads.ACTIVE, "load": "loaded", "error": "boom"}
    assert "0.5  (target >= 1)" in threads.format_table(rows)
    mem = {name: {"rss_multiple": m, "rss_peak_MiB": 1.0, "tracemalloc_multiple": None,
                  "outputs_multiple": 2.0, "hwm_reset": True}
           for name, m in zip(memory.IMPLS, (6.0, 3.0, 2.0), strict=True)}
    assert "3  (target <= 2)" in memory.format_table(mem)


def test_memory_child_small():
    result = memory.child("composed", 64, 32)
    assert result["outputs_multiple"] == pytest.approx(2 + 2 / 64)
    assert result["rss_multiple"] >= 0 and result["tracemalloc_multiple"] >= 2


def test_every_issue17_benchmark_is_wired():
    for name in bench_run.ISSUE17:
        module = importlib.import_module(f"benchmarks.{name}")
        assert callable(module.run) and callable(module.main)
    assert set(bench_run.ISSUE17) <= set(bench_run.parse([]).only.split(","))


def test_mnist_quick_rows_agree_on_the_first_loss(tmp_path, monkeypatch):
    """The MNIST-size table in quick mode: every row in order, every computed row's first
    loss equal to PyTorch eager's to float32 rounding. mg.jit is the identity here (its
    compile of this step takes ~35 s per BN variant; tests/test_jit_mlp_step.py checks the
    compiled step against PyTorch)."""
    monkeypatch.setattr(minigrad, "jit", lambda fn, **options: fn, raising=False)
    payload = mnist.run(quick=True, out_dir=tmp_path)
    rows = {row["name"]: row for row in payload["rows"]}
    assert list(rows) == list(mnist.ORDER)
    assert rows[mnist.COMPILED]["status"] == "skipped"
    torch_loss = rows["PyTorch eager"][mnist.LOSS]
    for name in mnist.ORDER:
        if name == mnist.COMPILED or rows[name]["status"] == NOT_INSTALLED:
            continue
        assert rows[name]["status"] == "ok", rows[name]
        assert rows[name][mnist.LOSS] == pytest.approx(torch_loss, rel=1e-6), name
        assert rows[name][mnist.DELTA] < 1e-5
    assert rows["minigrad eager (BN composed)"][mnist.LOSS] > 2.0  # ~ln 10 at the start
    assert [r["ratio"] for r in payload["ratios"]] == [r[0] for r in mnist.RATIOS]
    assert json.loads((tmp_path / "mnist.json").read_text())["rows"]


def test_mnist_adam_steps_agree_with_pytorch():
    """Three Adam steps of the MNIST-size net: minigrad eager and JAX (Adam written in
    jax.numpy, ``mlp.adam_update``) give PyTorch's losses; steps 2 and 3 depend on the
    update (a missing bias correction moves them by more than 0.1)."""
    args = (mnist.SIZES, mnist.BATCH, mnist.OPTIMIZER)
    steps = {"minigrad": mlp.minigrad_step("composed", False, *args),
             "PyTorch": mlp.torch_step(*args), "JAX": mlp.jax_step(*args)}
    losses = {name: [float(env.to_numpy(step())) for _ in range(3)]
              for name, step in steps.items() if callable(step)}
    assert "minigrad" in losses and "PyTorch" in losses
    for name, found in losses.items():
        assert found == pytest.approx(losses["PyTorch"], abs=1e-4), name
    assert losses["PyTorch"][0] - losses["PyTorch"][2] > 0.5  # the steps do train


def test_mnist_torch_compile_over_its_limit_gives_a_row():
    make, probe = mnist.compiled_maker(quick=False, limit_s=0.01)
    row = make()
    assert probe["timeout"] and row.status == "skipped" and "over 0 s" in row.note


def test_why_records_the_forwards_a_step_calls_and_replays_them():
    import numpy as np

    import minigrad as mg
    from benchmarks import why

    a, b = mg.tensor(np.array([1.0, 2.0]), requires_grad=True), mg.tensor(np.array([3.0, 5.0]))
    results = []

    def step():
        out = (a * b + 1.0).tanh().sum()
        out.backward()
        results.append(out.data)

    calls = why.recorded_forwards(step)
    names = [forward.__name__ for forward, _, _ in calls]
    # forward: mul, add, tanh, sum; backward: sum's broadcast of g, tanh's g * (1 - out * out),
    # mul's g * b (a alone requires grad)
    assert names == ["multiply", "add", "tanh", "_sum_forward", "<lambda>", "multiply",
                     "subtract", "multiply", "multiply"]
    replayed = []
    for forward, args, kwargs in calls[:3]:
        replayed.append(forward(*args, **kwargs))
    assert np.allclose(replayed[2], np.tanh(np.array([1.0, 2.0]) * [3.0, 5.0] + 1.0))
    only = why.recorded_forwards(step, only="tanh")
    assert len(only) == 1 and np.allclose(only[0][0](*only[0][1]), replayed[2])
    from minigrad.ops import OPS
    assert all("recording" not in op.forward.__name__ for op in OPS.values())  # restored


def test_why_formatters_print_every_section():
    from benchmarks import why

    text = why.format_gc([{"nodes": 1000, "us_per_node_gc_on": 12.0, "us_per_node_gc_off": 10.0,
                           **{f"gen{g}_collections": g for g in range(3)},
                           **{f"gen{g}_ms": 0.5 * g for g in range(3)}}])
    assert "1,000" in text and "2 (1.0)" in text and "0 (0.0)" in text
    text = why.format_memory({"minigrad composed": {"sub": 1.0, "mul": 3.0},
                              "PyTorch F.batch_norm": "torch not importable"})
    assert "4 x input" in text and "torch not importable" in text


def test_layernorm_references_match_pytorch():
    """The benchmark's float64 closed forms (its error column) against torch.autograd."""
    torch = pytest.importorskip("torch")
    data = layernorm.inputs(5, 7, "float64")
    x, w, b = (torch.from_numpy(data[k]).requires_grad_() for k in "xwb")
    g = torch.from_numpy(data["g"])
    loss = (torch.nn.functional.layer_norm(x, (7,), w, b, layernorm.EPS) * g).sum()
    want = (loss, *torch.autograd.grad(loss, (x, w, b)))
    for got, ref in zip(layernorm.layer_norm_reference(data), want, strict=True):
        np.testing.assert_allclose(got, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    loss = (x * torch.rsqrt((x * x).mean(-1, keepdim=True) + layernorm.EPS) * w * g).sum()
    want = (loss, *torch.autograd.grad(loss, (x, w)))
    for got, ref in zip(layernorm.rms_norm_reference(data), want, strict=True):
        np.testing.assert_allclose(got, ref.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_layernorm_rows_quick(tmp_path, capsys):
    """Every row at a tiny size, each agreeing with the float64 closed form."""
    settings = {"warmup": 0, "min_rounds": 1, "max_rounds": 1, "budget": 0.0,
                "min_sample": 0.0}
    rows = layernorm.rows_at(6, 5, "float64", settings)
    assert [row.name for row in rows] == list(layernorm.ORDER)
    for row in rows:
        assert row.timing is not None, row.note
        assert row.extra["max rel err"] < 1e-12
    assert all(r["value"] is not None for r in layernorm.ratios(rows))
    payload = layernorm.run(quick=True, out_dir=tmp_path, sizes=((3, 4),),
                            dtypes=("float32",))
    assert (tmp_path / "layernorm.json").exists() and len(payload["results"]) == 1
    assert "(target >= 1.5)" in capsys.readouterr().out


def test_mnist_rows_alone_come_back_from_their_processes(monkeypatch):
    """The second MNIST table: each row timed alone (``--child alone <row>``, here run in
    this process with the quick settings), its JSON turned back into a row with the same
    median and first loss; a child that failed gives an error row naming why."""
    monkeypatch.setattr(mnist, "FULL", mnist.QUICK)
    found = mnist.child_alone("minigrad eager (BN fused)")
    assert found["status"] == "ok" and found["median_ms"] > 0 and found[mnist.LOSS] > 2.0

    def spawn(module, args, limit_s):
        assert module == "mnist" and args[0] == "alone"
        return found if args[1] == "minigrad eager (BN fused)" else {"error": "boom"}

    monkeypatch.setattr(mnist.fresh, "spawn", spawn)
    rows = {row.name: row for row in mnist.alone_rows({mnist.COMPILED})}
    assert mnist.COMPILED not in rows and len(rows) == len(mnist.ORDER) - 1
    fused = rows["minigrad eager (BN fused)"]
    assert fused.timing.median == pytest.approx(found["median_ms"] / 1e3)
    assert fused.extra[mnist.LOSS] == found[mnist.LOSS]
    assert rows["PyTorch eager"].status == "error" and rows["PyTorch eager"].note == "boom"
