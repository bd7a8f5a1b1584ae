"""The differential fuzzer itself (minigrad/testing): it covers every op row, its
comparison can fail, and a deliberately wrong lowering is caught and shrunk."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from minigrad import ops
from minigrad.testing import fuzz, programs, shrink, training, workers
from minigrad.testing.programs import Arg, Node, Program


@pytest.fixture(scope="module")
def templates():
    return programs.sample_templates()


def test_every_op_row_is_generated(templates) -> None:
    """Each row of the op table (and detach) appears in generated programs: a new row is
    fuzzed as soon as it has a sample call."""
    missing = []
    for name in [*ops.OPS, programs.DETACH]:
        made = [programs.random_program(np.random.default_rng(k), templates, 4, only=[name])
                for k in range(12)]
        if not any(node.op == name for p in made for node in p.nodes):
            missing.append(name)
    assert not missing, f"op rows the fuzzer never generates: {missing}"


def test_every_sampled_attribute_is_written_back_as_source(templates) -> None:
    """A program's source (what the fuzzer runs and prints as a reproducer) spells every
    attribute the op samples use; evaluated, each gives the value back. Found by make fuzz
    N=40 SEED=5670653: an index node with Ellipsis in its key (svd_u's sample) crashed the
    run with 'no literal for ellipsis'."""
    for uses in templates.values():
        for template in uses:
            for key, value in template.attrs:
                text = programs.literal(value)
                back = eval(text, {"np": np})  # source programs.literal wrote
                assert _same(back, value), (template.op, key, value, text)


def _same(a, b) -> bool:
    if isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(b, tuple):
        return isinstance(a, tuple) and len(a) == len(b) and all(
            _same(x, y) for x, y in zip(a, b, strict=True))
    return a is b or (type(a) is type(b) and a == b)


def test_programs_cover_shapes_and_dtypes(templates) -> None:
    """Size-0 and size-1 axes, 0-d values, broadcasting, every dtype, orders 0-2."""
    made = [programs.random_program(np.random.default_rng(k), templates, 30) for k in range(40)]
    shapes = [a.shape for p in made for a in p.args] + [n.shape for p in made for n in p.nodes]
    dtypes = {n.dtype for p in made for n in p.nodes} | {a.dtype for p in made for a in p.args}
    assert any(0 in s for s in shapes) and any(1 in s for s in shapes) and () in shapes
    assert {"float32", "float64", "int64", "bool"} <= dtypes
    assert {p.order for p in made} == {0, 1, 2}
    assert any(a.bound for p in made for a in p.args)  # runtime index arguments


def test_compare_arrays_can_fail() -> None:
    f = np.array([1.0, np.nan, np.inf])
    assert fuzz.compare_arrays(f, f.copy()) == ""
    assert "NaN" in fuzz.compare_arrays(f, np.array([1.0, 2.0, np.inf]))
    assert "inf" in fuzz.compare_arrays(f, np.array([1.0, np.nan, -np.inf]))
    assert "values off" in fuzz.compare_arrays(f, np.array([1.001, np.nan, np.inf]))
    assert "dtype" in fuzz.compare_arrays(f, f.astype(np.float32))
    assert "shape" in fuzz.compare_arrays(f, f[:2])
    assert "differ" in fuzz.compare_arrays(np.array([True]), np.array([False]))
    assert fuzz.compare_arrays(np.float32([1.0]), np.float32([1.00001])) == ""


def test_float64_results_of_float32_values_get_float32_tolerance() -> None:
    """Found at seed 99445385: sigmoid of a float32 argument added to a float64 one; the
    kernel's float32 sigmoid is an ulp from numpy's (6e-8 at 1), so the float64 sum was
    'off' at float64's tolerance. A result is compared at the tolerance of the least precise
    float it is computed from: its ancestors for an output, the whole program for a
    derivative; a float64-only output keeps float64's."""
    program = Program(
        [Arg((), "float32", True), Arg((), "float64", True), Arg((3,), "float64", True)],
        [Node("sigmoid", (0,), (), (), "float32"), Node("add", (1, 3), (), (), "float64"),
         Node("exp", (2,), (), (3,), "float64")],
        [4, 5], order=2)
    assert program.result_floors() == ["float32", "float64"] + ["float32"] * 6
    ulp_apart = (np.float64([0.25]), np.float64([0.25 + 6e-8]))  # float32 ulp at 0.25: 3e-8
    assert "values off" in fuzz.compare_arrays(*ulp_apart)
    assert "values off" in fuzz.compare_arrays(*ulp_apart, floor="float64")
    assert fuzz.compare_arrays(*ulp_apart, floor="float32") == ""
    assert "values off" in fuzz.compare_arrays(np.float64([1.0]), np.float64([1.01]),
                                               floor="float32")
    assert fuzz.compare_results([ulp_apart[0]] * 2, [ulp_apart[1]] * 2,
                                ["float32", "float64"]).startswith("result 1:")


def test_shrink_prunes_and_cuts() -> None:
    """Dead nodes go; a node cut becomes an argument of its shape and dtype."""
    program = Program(
        [Arg((2, 3), "float64", True)],
        [Node("tanh", (0,), (), (2, 3), "float64"), Node("exp", (1,), (), (2, 3), "float64"),
         Node("neg", (0,), (), (2, 3), "float64")],
        [2], order=1)
    pruned = shrink.prune(program)
    assert [n.op for n in pruned.nodes] == ["tanh", "exp"] and pruned.outputs == [2]
    cut = shrink.cut_node(pruned, 0)
    assert [n.op for n in cut.nodes] == ["exp"] and len(cut.args) == 1
    assert cut.args[0].shape == (2, 3) and cut.nodes[0].inputs == (0,)


@pytest.mark.parametrize("background", ["0", "unset"])
def test_fuzzer_catches_and_shrinks_a_wrong_lowering(monkeypatch, background) -> None:
    """With sub lowered as b - a (the Numba template of its op row swapped), the fuzzer
    reports a mismatch and shrinks it to a script around a single sub that shows the
    mismatch when run; also where mg.jit compiles in the background by default (unset
    MINIGRAD_JIT_BACKGROUND, as `make fuzz` runs): the fuzzer and its reproducers compile
    before comparing, never eager against eager."""
    if background == "unset":
        monkeypatch.delenv("MINIGRAD_JIT_BACKGROUND", raising=False)
    monkeypatch.setitem(ops.OPS, "sub", replace(ops.OPS["sub"], numba="({1} - {0})"))
    summary = fuzz.fuzz(12, seed=11, train_every=0, max_nodes=6,
                        only=["sub", "exp", "mul", "sum"], max_failures=1)
    assert summary.counts[fuzz.MISMATCH] >= 1, summary.text()
    _, outcome, script = summary.failures[0]
    assert outcome.kind == fuzz.MISMATCH
    body = script.split("def f(")[1].split("CALLS")[0]
    assert body.count("ops.apply(") == 1 and "'sub'" in body, script
    namespace: dict = {"__name__": "reproducer"}
    printed = []
    monkeypatch.setattr("builtins.print", lambda *a, **k: printed.append(" ".join(map(str, a))))
    exec(compile(script, "<reproducer>", "exec"), namespace)
    assert any("MISMATCH" in line for line in printed), printed


def test_batched_fuzzer_catches_a_wrong_lowering_per_program(monkeypatch) -> None:
    """Batching (several programs in one jitted function) still catches the wrong sub
    lowering; the failure is attributed to a program of its own (the batch is split down
    to single programs) and shrunk to a single sub; every program is counted once."""
    monkeypatch.setitem(ops.OPS, "sub", replace(ops.OPS["sub"], numba="({1} - {0})"))
    summary = fuzz.fuzz(8, seed=11, train_every=0, max_nodes=6,
                        only=["sub", "exp", "mul", "sum"], batch=4, max_failures=1)
    assert summary.programs in (4, 8), summary.text()  # whole blocks
    assert sum(summary.counts.values()) == summary.programs, summary.text()
    assert summary.counts[fuzz.MISMATCH] >= 1, summary.text()
    for _, outcome, script in summary.failures:
        assert outcome.kind == fuzz.MISMATCH and "batched with" not in outcome.detail
        body = script.split("def f(")[1].split("CALLS")[0]
        assert body.count("ops.apply(") == 1 and "'sub'" in body, script


def test_batched_verdicts_equal_single_ones() -> None:
    """With a correct jit, batches of 4 and one program per function give the same
    per-program counts (nodes, ok, refusals) at one seed, and blocks do not depend on
    where the run starts."""
    one = fuzz.fuzz(4, seed=3, train_every=0, max_nodes=8, shrink=False)
    four = fuzz.fuzz(4, seed=3, train_every=0, max_nodes=8, shrink=False, batch=4)
    assert (one.programs, one.nodes, one.counts) == (four.programs, four.nodes, four.counts)
    assert workers.blocks(2, 8, 4) == [[2, 3], [4, 5, 6, 7], [8, 9]]


def test_reproducer_of_a_correct_program_shows_no_mismatch() -> None:
    """The printed script runs as is (a fresh interpreter) and reports ok when jit is right."""
    program = Program([Arg((3,), "float64", True)],
                      [Node("tanh", (0,), (), (3,), "float64")], [1], order=1)
    script = shrink.to_script(program, seed=5, detail="none")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=600, check=True)
    assert "MISMATCH" not in run.stdout and run.stdout.count("ok") == 6, run.stdout


def test_training_reproducer_shows_no_mismatch() -> None:
    """A training reproducer (its source plus the check at the end) runs as is and reports
    ok for every step's loss and every state entry when jit is right."""
    config = training.TrainConfig(seed=3, dtype="float32", widths=(3, 2), steps=3,
                                  optimizer="adam")
    script = training.source(config) + training._CHECK
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=600, check=True)
    lines = run.stdout.splitlines()
    # 3 losses, 2 parameters, Adam's step, exp_avg, exp_avg_sq for each (PyTorch's state)
    assert len(lines) == 11 and all(line.endswith(" ok") for line in lines), run.stdout


def test_bounded_fuzz_run_finds_nothing() -> None:
    """A bounded run at a fixed seed (part of `make test`; long runs: `make fuzz`): small
    programs over every op row with derivatives, one training step, no mismatch, no crash,
    no disagreement with PyTorch. Kernels come from MINIGRAD_CACHE_DIR on reruns."""
    summary = fuzz.fuzz(16, seed=2026, max_nodes=16, train_every=8, max_failures=1,
                        shrink_seconds=120)
    failed = sum(summary.counts[k] for k in (fuzz.MISMATCH, fuzz.CRASH, fuzz.TORCH))
    assert failed == 0, summary.text()


def test_training_configs_keep_noise_gradients_away_from_adam() -> None:
    """BatchNorm in training mode over 2 rows (seed 99445385, program 189) or after a layer
    of fan-in 1 (seed 20261207, program 149) passes back only rounding noise, which Adam
    scales to full steps (eager and jit each further from float64 than from each other):
    not a JIT bug, so such configs are not generated under Adam."""
    configs = [training.random_config(np.random.default_rng(k)) for k in range(400)]
    assert not [c for c in configs if c.optimizer == "adam" and c.norm != "none"
                and not c.norm_eval and (c.batch == 2 or min(c.widths[:-1]) == 1)]
    assert any(c.batch == 2 for c in configs) and any(c.optimizer == "adam" for c in configs)
    assert any(c.widths[0] == 1 for c in configs)


def test_float32_disagreements_are_judged_against_float64() -> None:
    """Seed 20261207, program 53: d/da sigmoid(1 / a) at a = 0.0895 in float32 is
    y (1 - y) with y = 0.99999: eager's float32 is 0.4 % off, the kernel (float64 inside,
    rounded once) 0.03 %. The same program in float64 decides; a value farther from it than
    eager's (and beyond float32's tolerance), or any NaN moved, is still a mismatch."""
    import minigrad as mg

    def fn(a):
        (g,) = mg.grad(ops.sum(ops.mul(ops.sigmoid(ops.reciprocal(a)), 4.0)), [a])
        return (g,)

    def tensors_of(arrays):
        return [mg.tensor(arrays[0], requires_grad=True)]

    arrays = [np.array([0.08948074, 0.5], dtype=np.float32)]  # 0.5: a well-kept value
    (eager,) = fuzz.run_eager(fn, tensors_of(arrays))[0]
    (exact,) = fuzz.run_eager(fn, tensors_of([arrays[0].astype(np.float64)]))[0]
    better = exact.astype(np.float32)
    assert fuzz.compare_arrays(eager, better) != ""  # eager is the imprecise one
    assert fuzz.jit_closer_to_float64(fn, tensors_of, arrays, [eager], [better])
    worse = better.copy()
    worse[0] = eager[0] + (eager[0] - exact[0])  # as far again on the other side
    assert not fuzz.jit_closer_to_float64(fn, tensors_of, arrays, [eager], [worse])
    moved = better.copy()
    moved[1] = np.nan
    assert fuzz.compare_arrays(eager, moved)
    assert not fuzz.jit_closer_to_float64(fn, tensors_of, arrays, [eager], [moved])


def test_ill_conditioned_programs_are_told_apart_from_mismatches() -> None:
    """Seed 741852963, program 503: rsqrt(inv(cholesky(a a^T))). inv of the triangular
    factor leaves +-1e-17 above the diagonal eagerly (numpy's LAPACK route) and 0 in the
    kernel, and rsqrt makes that NaN or inf: eager itself moves so when its arguments move
    by a few ulps, so the run counts the program as ill-conditioned, not as a mismatch. A
    jit result that is off where eager is stable is still a mismatch."""
    import minigrad as mg

    def fn(a):
        gram = ops.matmul(a, ops.apply(ops.OPS["transpose"], a, perm=(1, 0)))
        factor = ops.apply(ops.OPS["cholesky"], gram)
        return (ops.rsqrt(ops.apply(ops.OPS["inv"], factor)),)

    def tensors_of(arrays):
        return [mg.tensor(arrays[0].copy())]

    a = np.array([[-0.4299196949915376, -0.8624302760501639, -0.8888312277905694],
                  [0.7417710058073026, 0.15853443607304255, -2.3372720376344143],
                  [0.1107030705478046, -1.340433787192182, -1.1311554858830752]])
    (eager,) = fuzz.run_eager(fn, tensors_of([a]))[0]
    assert fuzz.eager_moves(fn, tensors_of, [a], [eager], None)  # eager is not a reference
    exact = np.linalg.inv(np.linalg.cholesky(a @ a.T))  # what the kernel's route gives
    exact[np.triu_indices(3, 1)] = 0.0
    with np.errstate(divide="ignore"):
        kernel_like = 1 / np.sqrt(exact)
    assert fuzz.compare_arrays(eager, kernel_like)  # the two routes do differ

    def stable(x):
        return (ops.tanh(ops.mul(x, 3.0)),)

    x = np.linspace(-2, 2, 7)
    (calm,) = fuzz.run_eager(stable, tensors_of([x]))[0]
    assert fuzz.eager_moves(stable, tensors_of, [x], [calm], None) == ""
    assert fuzz.compare_arrays(calm, calm * (1 + 1e-6))  # an O(1e-6) error is caught


def test_a_fuzz_run_lists_ill_conditioned_programs_without_failing() -> None:
    """Program 503's three calls through check_calls (eager vs the kernel): never a
    mismatch (ill-conditioned where the routes differ); the summary counts and lists an
    ill-conditioned program and the run does not fail on it."""
    import minigrad as mg

    def fn(a):
        gram = ops.matmul(a, ops.apply(ops.OPS["transpose"], a, perm=(0, 2, 1)))
        factor = ops.apply(ops.OPS["cholesky"], gram)
        return (ops.rsqrt(ops.apply(ops.OPS["inv"], factor)),)

    rng = np.random.default_rng(503)
    calls = [[rng.normal(size=(2, 3, 3))] for _ in range(3)]
    outcome = fuzz.check_calls(fn, lambda arrays: [mg.tensor(arrays[0].copy())], calls)
    assert outcome.kind in (fuzz.OK, fuzz.UNSTABLE), outcome
    summary = fuzz.Summary(seed=1)
    fuzz._count(summary, fuzz.Checked(503, 5, fuzz.Outcome(fuzz.UNSTABLE, "call 2: ...")))
    assert summary.counts[fuzz.UNSTABLE] == 1 and not summary.failures
    assert "1 ill-conditioned" in summary.text() and "program 503" in summary.text()
