"""mg.jit against eager minigrad (and PyTorch where it matters): every primitive from the
op table, random graphs, both BatchNorm implementations in both dtypes, recompilation,
training trajectories, guards, errors and the disk cache.

Compiled kernels go to the disk cache (MINIGRAD_CACHE_DIR or the user cache dir), so a
second run of this file mostly loads machine code instead of compiling it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn, ops, optim
from minigrad.jit import NotCompilableError, jit
from minigrad.testing.op_samples import NON_DIFFERENTIABLE, SAMPLES

UNSUPPORTED: set[tuple[str, int]] = set()  # every sample compiles (batched matmul too)


def _close(a: np.ndarray, b: np.ndarray, dtype: np.dtype) -> None:
    tol = 2e-5 if np.dtype(dtype) == np.float32 else 1e-11
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                               rtol=tol, atol=tol)


def _sample_cases() -> list[tuple[str, int, object, list]]:
    cases = []
    for table in (SAMPLES, NON_DIFFERENTIABLE):
        for name, samples in table.items():
            for k, (fn, inputs) in enumerate(samples):
                if (name, k) not in UNSUPPORTED:
                    cases.append((name, k, fn, inputs))
    return cases


def _run_all(cases: list, dtype: np.dtype, use_jit: bool, grads: bool = True
             ) -> tuple[list, list]:
    """Forward values and input gradients of every sample, computed in ONE function (so
    the whole op table compiles as one kernel)."""
    differentiable = [grads and name not in NON_DIFFERENTIABLE for name, *_ in cases]
    leaves = [[mg.tensor(np.asarray(a, dtype), requires_grad=flag) for a in inputs]
              for (*_, inputs), flag in zip(cases, differentiable, strict=True)]
    weights = [np.random.default_rng(k).standard_normal(1)[0] for k in range(len(cases))]

    def everything(groups: list) -> list:
        outs, total = [], None
        for (_, _, fn, _), group, w, flag in zip(cases, groups, weights, differentiable,
                                                 strict=True):
            out = fn(*group)
            outs.append(out)
            if flag:
                term = ops.sum(ops.mul(ops.mul(out, out), float(w)))
                total = term if total is None else ops.add(total, term)
        if total is not None:
            total.backward()
        return outs

    outs = (jit(everything) if use_jit else everything)(leaves)
    grads = [[leaf.grad.data if leaf.grad is not None else None for leaf in group]
             for group in leaves]
    return [o.data for o in outs], grads


# The samples run as PARITY_CHUNKS compiled functions (every PARITY_CHUNKS-th case each):
# one kernel of all ~150 cases took 461 s to compile (compile time grows faster than the
# graph, issue 17); the chunks together take a fraction of that and spread over workers.
PARITY_CHUNKS = 8


def test_every_primitive_has_a_jit_parity_case() -> None:
    covered = {name for name, *_ in _sample_cases()}
    assert covered == set(mg.OPS), f"ops without a jit parity case: {set(mg.OPS) - covered}"


@pytest.mark.parametrize("chunk", range(PARITY_CHUNKS))
@pytest.mark.parametrize(("dtype", "grads"), [(np.float64, True), (np.float32, False)])
def test_every_primitive_matches_eager(dtype, grads, chunk) -> None:
    """Values (and, in float64, gradients) of every op-table sample: jit == eager.
    float32 gradients are covered by the BatchNorm and training tests below."""
    cases = _sample_cases()[chunk::PARITY_CHUNKS]
    eager_out, eager_grads = _run_all(cases, dtype, use_jit=False, grads=grads)
    jit_out, jit_grads = _run_all(cases, dtype, use_jit=True, grads=grads)
    for (name, k, *_), a, b in zip(cases, eager_out, jit_out, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype, f"{name}-{k}"
        _close(a, b, dtype)
    for (name, k, *_), ga, gb in zip(cases, eager_grads, jit_grads, strict=True):
        for x, y in zip(ga, gb, strict=True):
            assert (x is None) == (y is None), f"{name}-{k}"
            if x is not None:
                _close(x, y, dtype)


def test_each_float_row_compiles_for_float32_and_float64_in_one_kernel() -> None:
    """Every elementwise and comparison row applied to float32 and to float64 values in the
    same compiled function: Numba types some numpy scalar functions once per kernel (np.exp2
    and np.log2 failed: "Type of #1 arg mismatch: float != double", fuzz seed 5652250)."""
    cases = []
    for name in sorted(n for n, op in mg.OPS.items() if op.kind in ("elementwise", "compare")):
        fn, inputs = (SAMPLES.get(name) or NON_DIFFERENTIABLE.get(name))[0]
        arrays = [np.asarray(x) for x in inputs]
        if all(a.dtype.kind == "f" for a in arrays):
            cases.append((name, fn, arrays))
    assert len(cases) > 50

    def everything(*tensors: mg.Tensor) -> list:
        outs, at = [], 0
        for _, fn, arrays in cases:
            for _ in ("float32", "float64"):
                outs.append(fn(*tensors[at:at + len(arrays)]))
                at += len(arrays)
        return outs

    leaves = [mg.tensor(a.astype(dtype)) for _, _, arrays in cases
              for dtype in (np.float32, np.float64) for a in arrays]
    eager = everything(*leaves)
    compiled = jit(everything)
    compiled(*leaves)
    for (name, *_), want, got in zip([c for c in cases for _ in (0, 1)], eager,
                                     compiled(*leaves), strict=True):
        assert got.dtype == want.dtype, name
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=2e-6, atol=1e-6,
                                   err_msg=name)


def test_integer_matmul_is_a_clear_error() -> None:
    a, b = mg.tensor(np.arange(6).reshape(2, 3)), mg.tensor(np.arange(12).reshape(3, 4))
    with pytest.raises(NotCompilableError, match="matmul of float operands only"):
        jit(ops.matmul)(a, b)


def test_second_call_runs_compiled_code_and_matches() -> None:
    """The first call is the traced eager run; the second runs the kernel."""
    x = mg.tensor(np.linspace(-2, 2, 12).reshape(3, 4), requires_grad=True)

    def f(x):
        y = ops.tanh(x) * ops.exp(-x * x)
        loss = ops.sum(y * y)
        loss.backward()
        return y, loss

    compiled = jit(f)
    first = compiled(x)
    g1 = x.grad.data.copy()
    x.grad = None
    second = compiled(x)
    assert compiled.trace_count == 1
    assert second[0].op is None  # a compiled result, not an eager node
    _close(first[0].data, second[0].data, np.float32)
    _close(first[1].data, second[1].data, np.float32)
    _close(g1, x.grad.data, np.float32)


# ---------------------------------------------------------------------- random graphs
_UNARY = ["neg", "tanh", "exp_small", "relu", "sigmoid", "square", "sqrt_abs"]
_BINARY = ["add", "sub", "mul", "div_safe", "maximum"]
_REDUCE = ["sum0", "mean1", "max1", "sumall"]


def _apply(op: str, a: mg.Tensor, b: mg.Tensor | None = None) -> mg.Tensor:
    table = {
        "neg": lambda: -a, "tanh": lambda: ops.tanh(a), "exp_small": lambda: ops.exp(a * 0.1),
        "relu": lambda: ops.relu(a), "sigmoid": lambda: ops.sigmoid(a),
        "square": lambda: a * a, "sqrt_abs": lambda: ops.sqrt(a * a + 1.0),
        "add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
        "div_safe": lambda: a / (b * b + 1.0), "maximum": lambda: ops.maximum(a, b),
        "sum0": lambda: ops.sum(a, 0, keepdims=True), "mean1": lambda: ops.mean(a, 1, True),
        "max1": lambda: ops.max(a, 1, keepdims=True), "sumall": lambda: ops.sum(a),
    }
    return table[op]()


_program = st.lists(
    st.tuples(st.sampled_from(_UNARY + _BINARY + _REDUCE), st.integers(0, 99),
              st.integers(0, 99)),
    min_size=1, max_size=8,
)


def _evaluate(program: list, x: mg.Tensor, w: mg.Tensor) -> mg.Tensor:
    values = [x, w]
    for op, i, j in program:
        a, b = values[i % len(values)], values[j % len(values)]
        if op in _REDUCE and a.ndim < 2:
            op = "tanh"  # reductions below take 2-D operands
        values.append(_apply(op, a, b if op in _BINARY else None))
    total = ops.sum(values[-1] * values[-1]) + ops.sum(w) * 0.25
    for extra in values[2:-1]:
        total = total + ops.mean(extra) * 0.5
    return total


@settings(max_examples=4, deadline=None, derandomize=True, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_program, min_size=3, max_size=3))
def test_random_graphs_match_eager(programs) -> None:
    """Random DAGs of elementwise ops, broadcasts and reductions: values and gradients
    (three random programs per compiled function, to keep compilations few)."""
    rng = np.random.default_rng(len(programs[0]))
    xv, wv = rng.standard_normal((3, 4)), rng.standard_normal((1, 4))

    def f(x, w):
        loss = _evaluate(programs[0], x, w)
        for program in programs[1:]:
            loss = loss + _evaluate(program, x, w)
        loss.backward()
        return loss

    results = []
    for use_jit in (False, True):
        x, w = mg.tensor(xv, requires_grad=True), mg.tensor(wv, requires_grad=True)
        fn = jit(f) if use_jit else f
        fn(x, w)  # traced call (eager) ...
        x.grad = w.grad = None
        loss = fn(x, w)  # ... and the compiled one
        results.append((loss.data, x.grad.data, w.grad.data))
    for a, b in zip(*results, strict=True):
        _close(a, b, np.float64)


# ------------------------------------------------------------------------ BatchNorm
def _bn_step(layer: nn.Module, x: mg.Tensor, g: mg.Tensor):
    out = layer(x)
    out.backward(g)
    return out


@pytest.mark.parametrize("impl", ["composed", "fused"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(16, 5), (4, 3, 2, 2), (512, 160)])  # last: parallel
def test_batch_norm_train_matches_eager(impl, dtype, shape) -> None:
    """Output, dx, dgamma, dbeta and running statistics, over three steps."""
    rng = np.random.default_rng(3)
    layer_cls = nn.BatchNorm1d if len(shape) == 2 else nn.BatchNorm2d
    layers = [layer_cls(shape[1], impl=impl, dtype=dtype) for _ in range(2)]
    for layer in layers:
        layer.weight.assign_(np.linspace(0.5, 1.5, shape[1]))
        layer.bias.assign_(np.linspace(-1, 1, shape[1]))
    compiled = jit(lambda x, g: _bn_step(layers[1], x, g))
    for step in range(3):
        xv = rng.standard_normal(shape).astype(dtype) * 3 + 2
        gv = rng.standard_normal(shape).astype(dtype)
        outs = []
        for layer, fn in ((layers[0], lambda x, g: _bn_step(layers[0], x, g)),
                          (layers[1], compiled)):
            x = mg.tensor(xv, requires_grad=True)
            layer.zero_grad()
            outs.append((fn(x, mg.tensor(gv)).data, x.grad.data, layer.weight.grad.data,
                         layer.bias.grad.data, layer.running_mean.data.copy(),
                         layer.running_var.data.copy(), layer.num_batches_tracked.data))
        for a, b in zip(*outs, strict=True):
            _close(a, b, dtype)
        assert step < 1 or compiled.trace_count <= 2
    if impl == "fused" and len(shape) == 2:  # the hand-written kernels (jit/bn_kernels.py)
        assert "bn_kernels.apply_dx" in compiled.source  # g is an argument: out and dx in one
        assert compiled.source.count("bn_kernels.stats") == 1  # one statistics pass, shared
        assert compiled.source.count("grad_sums") == 1


@pytest.mark.parametrize("impl", ["composed", "fused"])
def test_batch_norm_eval_mode_recompiles(impl) -> None:
    """Switching the module to eval is a new signature: running statistics are used."""
    layer = nn.BatchNorm1d(3, impl=impl, dtype=np.float64)
    xv = np.random.default_rng(0).standard_normal((6, 3))
    compiled = jit(layer)
    compiled(mg.tensor(xv))
    compiled(mg.tensor(xv))
    layer.eval()
    expected = (xv - layer.running_mean.data) / np.sqrt(layer.running_var.data + 1e-5)
    compiled(mg.tensor(xv))  # traced in eval mode
    got = compiled(mg.tensor(xv)).data
    _close(got, expected, np.float64)
    assert compiled.trace_count == 2


@pytest.mark.parametrize("impl", ["composed", "fused"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_seed_relu_example_gives_zero_gradient(impl, dtype) -> None:
    """The seed: BatchNorm1d(1, momentum=0, eps=0, affine=False), ReLU, sum -> x.grad == 0."""
    net = nn.BatchNorm1d(1, momentum=0.0, eps=0.0, affine=False, impl=impl, dtype=dtype)

    def f(x):
        y = ops.sum(ops.relu(net(ops.reshape(x, (-1, 1)))))
        y.backward()
        return y

    compiled = jit(f)
    for _ in range(3):
        x = mg.tensor(np.array([-1.0, 1.0], dtype), requires_grad=True)
        compiled(x)
        np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])
    # the fused layer runs on the hand-written kernels (tests/test_jit_bn_kernels.py)
    assert ("bn_kernels.dx" in compiled.source) == (impl == "fused")


def test_batch_norm_matches_pytorch() -> None:
    """jit composed BN forward/backward against live PyTorch (float64)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    xv, gv = rng.standard_normal((32, 6)), rng.standard_normal((32, 6))
    layer = nn.BatchNorm1d(6, dtype=np.float64)
    compiled = jit(lambda x, g: _bn_step(layer, x, g))
    compiled(mg.tensor(xv, requires_grad=True), mg.tensor(gv))
    layer.zero_grad()
    x = mg.tensor(xv, requires_grad=True)
    out = compiled(x, mg.tensor(gv))
    ref = torch.nn.BatchNorm1d(6).double()
    xt = torch.tensor(xv, requires_grad=True)
    yt = ref(xt)
    yt.backward(torch.tensor(gv))
    _close(out.data, yt.detach().numpy(), np.float64)
    _close(x.grad.data, xt.grad.numpy(), np.float64)


# ------------------------------------------------------------------- recompilation
def test_new_shape_recompiles_and_old_shape_is_reused() -> None:
    compiled = jit(lambda x: ops.sum(x * x, 0))
    for rows in (3, 5, 3, 5):
        xv = np.arange(rows * 2, dtype=np.float32).reshape(rows, 2)
        compiled(mg.tensor(xv))
        out = compiled(mg.tensor(xv))
        _close(out.data, (xv * xv).sum(0), np.float32)
    assert compiled.trace_count == 2
    compiled(mg.tensor(np.ones((3, 2), np.float64)))  # new dtype
    assert compiled.trace_count == 3


def test_parameters_are_read_at_call_time() -> None:
    """A parameter changed between calls (eagerly) is seen by the compiled code."""
    layer = nn.Linear(3, 2, dtype=np.float64)
    compiled = jit(layer)
    xv = np.ones((4, 3))
    compiled(mg.tensor(xv))
    layer.weight.assign_(layer.weight.data * 2)
    expected = xv @ layer.weight.data.T + layer.bias.data
    _close(compiled(mg.tensor(xv)).data, expected, np.float64)


# ------------------------------------------------------------------------- training
def _mlp(impl: str | None, dtype) -> nn.Module:
    mg.manual_seed(7)
    if impl is None:  # no BatchNorm: Adam would blow rounding noise in the (exactly zero)
        return nn.Sequential(  # gradients of biases before a BatchNorm up to full steps
            nn.Linear(2, 16, dtype=dtype), nn.Tanh(), nn.Linear(16, 2, dtype=dtype))
    return nn.Sequential(
        nn.Linear(2, 16, dtype=dtype), nn.BatchNorm1d(16, impl=impl, dtype=dtype), nn.ReLU(),
        nn.Linear(16, 2, dtype=dtype),
    )


@pytest.mark.parametrize(("impl", "dtype", "make_opt"), [
    ("composed", np.float64, lambda p: optim.SGD(p, lr=0.1, momentum=0.9)),
    ("fused", np.float32, lambda p: optim.SGD(p, lr=0.05, momentum=0.5)),
    (None, np.float64, lambda p: optim.Adam(p, lr=0.01)),
])
def test_training_trajectory_equals_eager(impl, dtype, make_opt) -> None:
    """A whole training step (forward, backward, optimizer, running stats) over 25 steps."""
    rng = np.random.default_rng(0)
    xv = rng.standard_normal((32, 2)).astype(dtype)
    yv = (xv[:, 0] * xv[:, 1] > 0).astype(np.int64)
    runs = []
    for use_jit in (False, True):
        model = _mlp(impl, dtype)
        opt = make_opt(model.parameters())
        loss_fn = nn.CrossEntropyLoss()

        def step(x, y, model=model, opt=opt, loss_fn=loss_fn):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss

        fn = jit(step) if use_jit else step
        losses = [float(fn(mg.tensor(xv), mg.tensor(yv)).data) for _ in range(25)]
        runs.append((losses, [p.data for p in model.parameters()],
                     [b.data for b in model.buffers()]))
        if use_jit:
            assert fn.trace_count <= 2
    tol = 1e-9 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=tol, atol=tol)
    for a, b in zip(runs[0][1] + runs[0][2], runs[1][1] + runs[1][2], strict=True):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    assert runs[1][0][-1] < runs[1][0][0]


def test_gradient_accumulates_without_zero_grad() -> None:
    """Without zero_grad the compiled step adds to .grad, as eager does."""
    w = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    compiled = jit(lambda: ops.sum(w * w).backward())
    for _ in range(4):
        compiled()
    _close(w.grad.data, 4 * 2 * w.data, np.float64)


# ---------------------------------------------------------------------------- errors
def test_value_read_into_python_is_refused() -> None:
    compiled = jit(lambda x: x * float(ops.sum(x)))
    with pytest.raises(NotCompilableError, match="read into Python"):
        compiled(mg.tensor([1.0, 2.0]))


def test_returning_a_python_number_is_refused() -> None:
    compiled = jit(lambda x: (ops.sum(x), 2.5))
    with pytest.raises(NotCompilableError, match="returned a float"):
        compiled(mg.tensor([1.0, 2.0]))
    compiled = jit(lambda x: ops.sum(x).data.item())  # refused at the read already
    with pytest.raises(NotCompilableError, match="read into Python"):
        compiled(mg.tensor([1.0, 2.0]))


def test_returned_structure_mirrors_fn() -> None:
    compiled = jit(lambda x: {"a": x * 2, "pair": (x + 1, None), "same": x})
    x = mg.tensor([1.0, 2.0])
    compiled(x)
    out = compiled(x)
    assert set(out) == {"a", "pair", "same"} and out["pair"][1] is None and out["same"] is x
    _close(out["pair"][0].data, [2.0, 3.0], np.float32)


# --------------------------------------------------------------- inspection, caching
def test_source_and_plan_are_exposed_and_printed(monkeypatch, capsys) -> None:
    monkeypatch.setenv("MINIGRAD_DEBUG", "1")
    compiled = jit(lambda x: ops.sum(ops.relu(x) * 2.0, 0))
    compiled(mg.tensor(np.ones((3, 2), np.float32)))
    assert "@numba.njit(cache=True" in compiled.source and "fastmath=False" in compiled.source
    assert "reduce_sum" in compiled.plan and "fused" in compiled.plan
    printed = capsys.readouterr().err
    assert "kernel plan" in printed and "def kernel" in printed


def test_names_never_reach_the_source() -> None:
    evil = 'x"""; import os; os.system("echo pwned") #\n'
    x = mg.tensor([1.0, 2.0], name=evil)
    compiled = jit(lambda x: (x * 2).named(evil))
    compiled(x)
    assert "pwned" not in compiled.source


_CHILD = textwrap.dedent("""
    import time, numpy as np, minigrad as mg
    from minigrad import nn
    layer = nn.BatchNorm1d(4)
    def step(x, g):
        out = layer(x)
        out.backward(g)
        return out
    f = mg.jit(step)
    x = mg.tensor(np.arange(24, dtype=np.float32).reshape(6, 4), requires_grad=True)
    f(x, mg.tensor(np.ones((6, 4), np.float32)))
    start = time.perf_counter()
    f(x, mg.tensor(np.ones((6, 4), np.float32)))
    print(sum(f.last.kernel.stats.cache_hits.values()), time.perf_counter() - start)
""")


def test_disk_cache_is_reused_by_a_fresh_process(tmp_path) -> None:
    env = {**os.environ, "MINIGRAD_CACHE_DIR": str(tmp_path)}
    env.pop("MINIGRAD_DEBUG", None)
    runs = [subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True,
                           text=True, check=True, timeout=120).stdout.split()
            for _ in range(2)]
    assert runs[0][0] == "0" and runs[1][0] == "1", runs
    assert list(tmp_path.glob("mg_*.py")) and list(tmp_path.glob("__pycache__/*.nbi"))


def test_large_results_are_never_overwritten_while_held() -> None:
    """Large results are written into reused buffers only when nobody holds them."""
    compiled = jit(lambda x: ops.tanh(x) * 2.0)
    xs = [np.full((256, 256), float(k), np.float32) for k in range(4)]
    compiled(mg.tensor(xs[0]))
    held = [compiled(mg.tensor(x)) for x in xs]
    views = [compiled(mg.tensor(x)).data[:2] for x in xs]  # a view keeps its buffer too
    for k in range(4):
        np.testing.assert_allclose(held[k].data, np.tanh(xs[k]) * 2, rtol=1e-6)
        np.testing.assert_allclose(views[k], np.tanh(xs[k][:2]) * 2, rtol=1e-6)
    for _ in range(3):  # dropped results: their buffers are lent again, values stay right
        out = compiled(mg.tensor(xs[1])).data
    np.testing.assert_allclose(out, np.tanh(xs[1]) * 2, rtol=1e-6)
    assert len(compiled.last.pools[0]) <= 2


def test_step_only_reads_gradients_computed_outside() -> None:
    """A compiled optimizer step reads each call's fresh .grad, not the traced one."""
    w = mg.tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = optim.SGD([w], lr=0.5)
    compiled = jit(opt.step)
    expected = w.data.copy()
    for k in range(3):
        w.grad = None
        ops.sum(w * w * float(k + 1)).backward()  # eager gradient: 2 (k + 1) w
        expected = expected - 0.5 * 2 * (k + 1) * expected
        compiled()
        _close(w.data, expected, np.float64)


def test_dropout_mode_switch_is_guarded() -> None:
    """A module that makes no node in eval mode still guards its mode (found via fn)."""
    model = nn.Sequential(nn.Linear(4, 4, dtype=np.float64), nn.Dropout(0.5))
    model.eval()
    compiled = jit(model)
    x = mg.tensor(np.ones((8, 4)))
    compiled(x)
    compiled(x)
    model.train()
    first, second = compiled(x).numpy().copy(), compiled(x).numpy().copy()
    assert compiled.trace_count == 2  # the guard caught the mode: a new trace, with dropout
    assert (first == 0).any() and not np.array_equal(first == 0, second == 0)


def test_nan_and_inf_propagate_as_in_eager() -> None:
    """maximum/relu keep NaN (numpy's rule, not Python's max); x/0 gives inf, not an error."""
    xv = np.array([np.nan, -1.0, 2.0, 0.0])
    yv = np.array([1.0, np.nan, 0.5, 0.0])

    def f(x, y):
        return ops.maximum(x, y), ops.maximum(y, x), ops.relu(x), x / y, ops.max(x, 0)

    compiled = jit(f)
    compiled(mg.tensor(xv), mg.tensor(yv))
    for got, want in zip(compiled(mg.tensor(xv), mg.tensor(yv)), f(mg.tensor(xv), mg.tensor(yv)),
                         strict=True):
        np.testing.assert_array_equal(got.data, want.data)


def test_second_order_gradients_compile() -> None:
    """mg.grad(create_graph=True) inside fn, then backward: d/dx sum(d/dx sum x^3) = 6x."""
    def f(x):
        (g,) = mg.grad(ops.sum(x * x * x), x, create_graph=True)
        ops.sum(g).backward()
        return g

    compiled = jit(f)
    for _ in range(3):
        xv = np.array([1.0, 2.0, -3.0])
        x = mg.tensor(xv, requires_grad=True)
        g = compiled(x)
        _close(g.data, 3 * xv**2, np.float64)
        _close(x.grad.data, 6 * xv, np.float64)
    assert compiled.trace_count == 1


@pytest.mark.parametrize("name", ["max", "sort", "topk", "kthvalue"])
def test_a_values_indices_result_is_rebuilt_by_field(name) -> None:
    """A function returning mg.max(x, 0), sort, topk or kthvalue (a (values, indices)
    namedtuple) raised TypeError at every compiled call: the result was rebuilt as
    ValuesIndices(generator), one argument where the namedtuple takes two."""
    fns = {"max": lambda x: mg.max(x, 0), "sort": mg.sort, "topk": lambda x: mg.topk(x, 2),
           "kthvalue": lambda x: mg.kthvalue(x, 2)}
    fn = fns[name]
    compiled = jit(fn, background=False)
    for xv in ([3.0, 1.0, 2.0], [5.0, 1.0, 0.0], [0.5, 4.0, 2.5]):
        x = mg.tensor(np.array(xv))
        got, want = compiled(x), fn(x)
        assert type(got) is type(want)
        np.testing.assert_array_equal(got.values.data, want.values.data)
        np.testing.assert_array_equal(got.indices.data, want.indices.data)
    assert compiled.stats()["compiles"] == 1
