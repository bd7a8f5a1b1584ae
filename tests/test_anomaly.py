"""mg.detect_anomaly() and MINIGRAD_ANOMALY=1: stop at the first forward or backward node
producing NaN or inf, and say which node, whose gradient, and which rule made it."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad._state import STATE
from minigrad.anomaly import check_node

HERE = Path(__file__).name


def _leaf(values, name: str = "x", dtype: str = "float64") -> mg.Tensor:
    return mg.tensor(np.array(values), dtype=dtype, requires_grad=True, name=name)


@pytest.fixture(autouse=True)
def _clean_state():
    """Every test starts and must end with detection off and no recording."""
    assert check_node not in STATE.node_hooks
    before = (list(STATE.node_hooks), STATE.recording, STATE.current_vjp)
    yield
    assert (list(STATE.node_hooks), STATE.recording, STATE.current_vjp) == before


def test_hostile_and_long_names_are_quoted_and_shortened() -> None:
    name = "evil\nname" + "x" * 5000
    x = _leaf([-1.0], name=name)
    with pytest.raises(mg.AnomalyError) as caught, mg.detect_anomaly():
        mg.sqrt(x)
    message = str(caught.value)
    assert "sqrt('evil\\nnamexxx" in message  # repr: the newline stays escaped
    assert "xxx...'" in message and len(message) < 1500


def test_error_is_a_runtime_error_subclass() -> None:
    assert issubclass(mg.AnomalyError, RuntimeError)


def test_forward_nan_names_op_inputs_and_line() -> None:
    x = _leaf([4.0, -1.0])
    with pytest.raises(mg.AnomalyError) as caught, mg.detect_anomaly():
        mg.sqrt(x)
    message = str(caught.value)
    assert "forward node sqrt (unnamed, shape (2,), dtype float64) produced NaN in 1 of 2" \
        in message
    assert "computed as sqrt('x')" in message
    assert f"{HERE}:" in message and "mg.sqrt(x)" in message
    assert caught.value.kind == "NaN" and caught.value.node.op.name == "sqrt"


def test_forward_inf_is_reported_as_inf() -> None:
    x = _leaf([0.0, 1.0])
    with pytest.raises(mg.AnomalyError, match=r"forward node log .*produced inf in 1 of 2"), \
            mg.detect_anomaly():
        mg.log(x)


def test_stops_at_the_first_bad_node() -> None:
    x = _leaf([-1.0, 2.0])
    made: list[str] = []
    with pytest.raises(mg.AnomalyError) as caught, mg.detect_anomaly(), \
            mg._state.node_hook(lambda node: made.append(node.op.name)):
        y = mg.log(x) * 2.0
        mg.exp(y)
    assert caught.value.node.op.name == "log"
    assert made == []  # the anomaly hook ran first; nothing after log was built


def test_named_input_and_module_are_named() -> None:
    layer = mg.nn.BatchNorm1d(2, eps=0.0, dtype="float64")
    x = mg.tensor(np.array([[1.0, 2.0], [1.0, 3.0]]))  # channel 0 has zero variance
    with pytest.raises(mg.AnomalyError) as caught, mg.detect_anomaly():
        layer(x)
    message = str(caught.value)
    assert "forward node reciprocal" in message and "produced inf in 1 of 2" in message
    assert "computed as reciprocal('sqrtvar')" in message
    assert "inside module BatchNorm1d" in message


def test_fused_batch_norm_zero_variance_is_caught_at_the_fused_node() -> None:
    layer = mg.nn.BatchNorm1d(2, eps=0.0, dtype="float64", impl="fused")
    x = mg.tensor(np.array([[1.0, 2.0], [1.0, 3.0]]))
    with pytest.raises(mg.AnomalyError, match=r"forward node batch_norm .*produced NaN"), \
            mg.detect_anomaly():
        layer(x)


def test_backward_node_names_whose_gradient_and_which_rule() -> None:
    x = _leaf([0.0, 1.0])
    y = mg.sqrt(x).named("y")  # finite forward: sqrt(0) = 0
    with pytest.raises(mg.AnomalyError) as caught, mg.detect_anomaly():
        y.sum().backward()
    message = str(caught.value)
    assert "backward node div (unnamed, shape (2,), dtype float64) produced inf" in message
    assert "computed as div(0.5, 'y')" in message
    assert ("produced by the VJP rule of sqrt (node 'y'), computing the gradient of its "
            "inputs ['x']") in message
    assert "the gradient of 'x' through sqrt" in message
    assert caught.value.node.vjp_of is y
    assert x.grad is None  # nothing was accumulated


def test_backward_zero_times_inf_inside_a_rule() -> None:
    """x * sqrt(x) at 0: the true gradient 1.5 sqrt(x) is 0, but sqrt's rule computes
    0.5 / sqrt(0) = inf on the way: detection stops there, inside the sqrt rule."""
    x = _leaf([0.0])
    root = mg.sqrt(x).named("root")
    with pytest.raises(mg.AnomalyError, match=r"VJP rule of sqrt \(node 'root'\)"), \
            mg.detect_anomaly():
        (x * root).sum().backward()


def test_backward_through_unnamed_forward_node() -> None:
    x = _leaf([1.0, 2.0])
    z = mg.tensor(np.array([0.0, 1.0]), name="z")
    y = x / z  # inf in the forward pass, but detection is off here
    assert np.isinf(y.numpy()).any()
    loss = y.sum()
    with pytest.raises(mg.AnomalyError) as caught, mg.detect_anomaly():
        loss.backward()
    message = str(caught.value)
    assert "backward node" in message
    assert "VJP rule of div (node unnamed), computing the gradient of its inputs ['x']" \
        in message
    assert "computed as div(" in message and ", 'z')" in message  # g / z with z = 0


def test_summing_partials_overflow_names_the_target() -> None:
    x = _leaf([1e-10], dtype="float32")
    loss = (x * 3e38 + x * 3e38).sum()  # forward 6e28: finite
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's own overflow warning
        with pytest.raises(mg.AnomalyError) as caught, mg.detect_anomaly():
            loss.backward()
    message = str(caught.value)
    assert "backward node add" in message and "produced inf" in message
    assert "summing the gradient contributions to 'x' from its consumers [mul, mul]" in message


def test_nan_seed_gradient_is_blamed_on_its_input() -> None:
    x = _leaf([1.0, 2.0])
    y = (x * 3.0).named("y")
    with pytest.raises(mg.AnomalyError) as caught, mg.detect_anomaly():
        y.backward(np.array([np.nan, 1.0]))
    message = str(caught.value)
    assert "its input 0 ('dy') already held NaN (a leaf, a gradient passed to backward" \
        in message
    assert "the gradient of 'x' through mul" in message


def test_nan_leaf_is_reported_as_already_bad() -> None:
    x = _leaf([np.nan, 1.0], name="data")
    with pytest.raises(mg.AnomalyError,
                       match=r"its input 0 \('data'\) already held NaN"), mg.detect_anomaly():
        x * 2.0


def test_second_order_gradients_are_checked() -> None:
    x = _leaf([0.0, 4.0])
    y = (x ** 1.5).sum()  # d/dx = 1.5 x^0.5 (finite at 0), d2/dx2 = 0.75 x^-0.5 (inf at 0)
    (first,) = mg.grad(y, [x], create_graph=True)
    assert np.isfinite(first.numpy()).all()
    with pytest.raises(mg.AnomalyError, match=r"produced inf") as caught, mg.detect_anomaly():
        mg.grad(first.sum(), [x])
    assert caught.value.node.vjp_of is not None


def test_finite_runs_are_unchanged() -> None:
    rng = np.random.default_rng(0)
    data = rng.standard_normal((6, 3))

    def run() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        layer = mg.nn.BatchNorm1d(3, dtype="float64")
        x = mg.tensor(data, requires_grad=True)
        out = mg.tanh(layer(x))
        (out * out).sum().backward()
        return out.numpy(), x.grad.numpy(), layer.running_var.numpy()

    plain = run()
    with mg.detect_anomaly():
        assert mg.is_anomaly_enabled()
        checked = run()
    for a, b in zip(plain, checked, strict=True):
        np.testing.assert_array_equal(a, b)


def test_off_means_no_hook_and_silent_nan() -> None:
    assert not mg.is_anomaly_enabled()
    assert check_node not in STATE.node_hooks and STATE.recording == 0
    y = mg.sqrt(_leaf([-1.0]))
    assert np.isnan(y.item())  # numpy/PyTorch behaviour when detection is off
    with mg.detect_anomaly(enabled=False):
        assert not mg.is_anomaly_enabled()
        assert np.isnan(mg.sqrt(_leaf([-1.0])).item())


def test_state_restored_after_error_in_backward() -> None:
    x = _leaf([0.0])
    y = mg.sqrt(x)
    with pytest.raises(mg.AnomalyError), mg.detect_anomaly():
        y.sum().backward()
    # the fixture checks hooks / recording / current_vjp; and detection is off again
    assert not mg.is_anomaly_enabled()
    assert np.isnan(mg.log(_leaf([-1.0])).item())


def test_nested_contexts() -> None:
    with mg.detect_anomaly():
        with mg.detect_anomaly():
            assert STATE.node_hooks.count(check_node) == 2
        assert mg.is_anomaly_enabled()
        with pytest.raises(mg.AnomalyError):
            mg.log(_leaf([-1.0]))
    assert not mg.is_anomaly_enabled()


def test_as_a_decorator() -> None:
    @mg.detect_anomaly()
    def step(x: mg.Tensor) -> mg.Tensor:
        return mg.log(x)

    assert np.isfinite(step(_leaf([1.0])).item())
    with pytest.raises(mg.AnomalyError, match=r"forward node log"):
        step(_leaf([-1.0]))


def test_non_float_nodes_are_not_checked() -> None:
    with mg.detect_anomaly():
        mask = _leaf([np.inf, 1.0]).detach() > 0  # bool node
        assert mask.dtype == np.bool_
        counts = mg.tensor(np.array([1, 2])) + 1
        assert counts.dtype.kind == "i"


def _run_script(code: str, env_value: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("MINIGRAD_ANOMALY", None)
    if env_value is not None:
        env["MINIGRAD_ANOMALY"] = env_value
    root = Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120, cwd=root, check=False)


SCRIPT = """
import threading
import numpy as np, minigrad as mg
def in_a_thread():
    try:
        print("thread", mg.log(mg.tensor(np.array([-1.0]))).item())
    except mg.AnomalyError:
        print("thread AnomalyError")
worker = threading.Thread(target=in_a_thread)
worker.start()
worker.join()
x = mg.tensor(np.array([0.0, 1.0]), requires_grad=True, name="x")
y = mg.sqrt(x).named("root")
print("forward ok", mg.is_anomaly_enabled())
y.sum().backward()
print("backward ok", x.grad.numpy())
"""


def test_environment_switch_on() -> None:
    result = _run_script(SCRIPT, "1")
    assert result.returncode != 0
    assert "forward ok True" in result.stdout
    assert "thread AnomalyError" in result.stdout  # threads started later are checked too
    assert "minigrad.anomaly.AnomalyError" in result.stderr
    assert "the gradient of 'x' through sqrt" in result.stderr
    assert "backward ok" not in result.stdout


@pytest.mark.parametrize("value", [None, "0", ""])
def test_environment_switch_off(value) -> None:
    result = _run_script(SCRIPT, value)
    assert result.returncode == 0, result.stderr
    assert "forward ok False" in result.stdout and "backward ok [inf" in result.stdout
    assert "thread nan" in result.stdout


def test_jit_compiled_functions_are_checked_too(tmp_path, monkeypatch) -> None:
    if not hasattr(mg, "jit"):
        pytest.skip("mg.jit not available")
    monkeypatch.setenv("MINIGRAD_CACHE_DIR", str(tmp_path))

    def total_root(x):
        return mg.sqrt(x).sum()

    compiled = mg.jit(total_root)
    good = mg.tensor(np.array([1.0, 4.0]))
    compiled(good)
    assert compiled(good).item() == 3.0  # compiled now
    with pytest.raises(mg.AnomalyError, match=r"forward node sqrt"), mg.detect_anomaly():
        compiled(mg.tensor(np.array([-1.0, 4.0])))


def test_environment_switch_in_process(monkeypatch) -> None:
    """The switch itself, run in this process (the subprocess tests above cover import)."""
    import threading

    from minigrad import anomaly

    monkeypatch.setenv("MINIGRAD_ANOMALY", "1")
    state_class = type(STATE)
    monkeypatch.setattr(state_class, "__init__", state_class.__init__)  # restored after
    try:
        anomaly._enable_from_environment()
        assert mg.is_anomaly_enabled()
        seen: list[bool] = []
        worker = threading.Thread(target=lambda: seen.append(mg.is_anomaly_enabled()))
        worker.start()
        worker.join()
        assert seen == [True]
    finally:
        while check_node in STATE.node_hooks:
            STATE.node_hooks.remove(check_node)
            STATE.recording -= 1
