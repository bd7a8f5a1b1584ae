"""Every graph the library builds draws, in every view and as steps, and shows what it holds.

Driven by the library itself: every row of the op table (through ``minigrad.testing.op_samples``),
every Module exported by ``minigrad.nn`` and every loss (functions with a ``reduction``
and the loss modules), in train and eval mode, a second-order graph, and the final graph
of every example script (through ``minigrad draw``'s machinery). A new op, module or loss
is drawn here without a new test; a missing sample fails. Content is checked against the
graph walked independently (``tests/viz_content.py``); a few figures are rendered to SVG.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops
from minigrad.nn import functional as F
from minigrad.testing.op_samples import NON_DIFFERENTIABLE, SAMPLES
from minigrad.viz.cli import DrawError, resolve_target
from minigrad.viz.model import NODE_KINDS, build_model, kind_note, node_kind
from tests.viz_content import (
    boxes,
    check_all_views,
    check_forward,
    check_step_files,
    shown_numbers,
    walk,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
needs_dot = pytest.mark.skipif(not mg.viz.system_dot(), reason="system Graphviz not installed")


# ------------------------------------------------------------------------- op table
def _op_cases() -> list[tuple[str, int]]:
    missing = sorted(set(ops.OPS) - set(SAMPLES) - set(NON_DIFFERENTIABLE))
    assert not missing, f"op rows without a sample in minigrad/testing/op_samples.py: {missing}"
    table = {**SAMPLES, **NON_DIFFERENTIABLE}
    return [(name, k) for name in sorted(table) for k in range(len(table[name]))]


@pytest.mark.parametrize(("name", "case"), _op_cases())
def test_every_op_row_draws(name: str, case: int) -> None:
    fn, arrays = {**SAMPLES, **NON_DIFFERENTIABLE}[name][case]
    inputs = [mg.tensor(a, requires_grad=name in SAMPLES, name=f"a{k}")
              for k, a in enumerate(arrays)]
    out = fn(*inputs)
    sources = check_all_views(out)
    assert f"{name} · " in sources["forward"]


# ---------------------------------------------------------------------- modules
nn = mg.nn
MODULES: dict[str, Callable[[], tuple[nn.Module, tuple[int, ...]]]] = {
    "Linear": lambda: (nn.Linear(3, 4), (5, 3)),
    "BatchNorm1d": lambda: (nn.BatchNorm1d(3), (6, 3)),
    "BatchNorm1d-fused": lambda: (nn.BatchNorm1d(3, impl="fused"), (6, 3)),
    "BatchNorm2d": lambda: (nn.BatchNorm2d(2), (3, 2, 2, 2)),
    "BatchNorm2d-fused": lambda: (nn.BatchNorm2d(2, impl="fused"), (3, 2, 2, 2)),
    "LayerNorm": lambda: (nn.LayerNorm(4), (3, 4)),
    "Dropout": lambda: (nn.Dropout(0.5), (4, 3)),
    "Flatten": lambda: (nn.Flatten(), (2, 3, 2)),
    "Identity": lambda: (nn.Identity(), (2, 3)),
    "ReLU": lambda: (nn.ReLU(), (2, 3)),
    "Sigmoid": lambda: (nn.Sigmoid(), (2, 3)),
    "Tanh": lambda: (nn.Tanh(), (2, 3)),
    "Softmax": lambda: (nn.Softmax(1), (2, 3)),
    "LogSoftmax": lambda: (nn.LogSoftmax(1), (2, 3)),
    "Sequential": lambda: (nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)), (5, 3)),
    "Conv1d": lambda: (nn.Conv1d(2, 3, 3, padding=1), (2, 2, 5)),
    "Conv2d": lambda: (nn.Conv2d(2, 3, 3, padding=1), (2, 2, 4, 4)),
    "Conv3d": lambda: (nn.Conv3d(2, 3, 2, padding=1), (1, 2, 2, 3, 2)),
    "ConvTranspose1d": lambda: (nn.ConvTranspose1d(2, 3, 3, stride=2), (2, 2, 3)),
    "ConvTranspose2d": lambda: (nn.ConvTranspose2d(2, 3, 2, stride=2), (1, 2, 2, 3)),
    "ConvTranspose3d": lambda: (nn.ConvTranspose3d(2, 2, 2, padding=1), (1, 2, 2, 2, 3)),
    "MaxPool2d": lambda: (nn.MaxPool2d(2), (2, 2, 4, 4)),
    "AvgPool2d": lambda: (nn.AvgPool2d(2), (2, 2, 4, 4)),
    "AdaptiveAvgPool2d": lambda: (nn.AdaptiveAvgPool2d(1), (2, 2, 3, 3)),
    "MaxPool1d": lambda: (nn.MaxPool1d(2), (2, 2, 4)),
    "MaxPool3d": lambda: (nn.MaxPool3d(2), (1, 2, 2, 2, 4)),
    "AvgPool1d": lambda: (nn.AvgPool1d(2), (2, 2, 4)),
    "AvgPool3d": lambda: (nn.AvgPool3d(2), (1, 2, 2, 2, 4)),
    "Upsample": lambda: (nn.Upsample(scale_factor=2, mode="bilinear"), (1, 2, 2, 3)),
    "UpsamplingNearest2d": lambda: (nn.UpsamplingNearest2d(scale_factor=2), (1, 2, 2, 3)),
    "UpsamplingBilinear2d": lambda: (nn.UpsamplingBilinear2d((3, 4)), (1, 2, 2, 3)),
    "AdaptiveAvgPool1d": lambda: (nn.AdaptiveAvgPool1d(2), (2, 2, 5)),
    "LPPool1d": lambda: (nn.LPPool1d(2, 2), (2, 2, 5)),
    "LPPool2d": lambda: (nn.LPPool2d(2, 2), (1, 2, 4, 4)),
    "LPPool3d": lambda: (nn.LPPool3d(2, 2), (1, 2, 2, 2, 4)),
    "AdaptiveMaxPool1d": lambda: (nn.AdaptiveMaxPool1d(2), (2, 2, 5)),
    "AdaptiveMaxPool2d": lambda: (nn.AdaptiveMaxPool2d((2, None)), (1, 2, 3, 4)),
    "AdaptiveMaxPool3d": lambda: (nn.AdaptiveMaxPool3d(1), (1, 2, 2, 3, 2)),
    "PixelShuffle": lambda: (nn.PixelShuffle(2), (1, 4, 2, 3)),
    "Unfold": lambda: (nn.Unfold(2, padding=1), (1, 2, 3, 3)),
    "Fold": lambda: (nn.Fold((3, 3), 2), (1, 8, 4)),
    "PixelUnshuffle": lambda: (nn.PixelUnshuffle(2), (1, 1, 4, 2)),
    "AdaptiveAvgPool3d": lambda: (nn.AdaptiveAvgPool3d((1, 2, None)), (1, 2, 3, 3, 2)),
}
MODULES.update({name: lambda name=name: (getattr(nn, name)(), (2, 3)) for name in (
    "SiLU", "LeakyReLU", "ELU", "Softplus", "Hardtanh", "ReLU6", "SELU", "CELU", "Mish",
    "Softsign", "Hardsigmoid", "Hardswish", "LogSigmoid")})
MODULES["BatchNorm3d"] = lambda: (nn.BatchNorm3d(2), (3, 2, 2, 1, 2))
for _impl in ("composed", "fused"):
    MODULES[f"GroupNorm-{_impl}"] = lambda i=_impl: (nn.GroupNorm(2, 4, impl=i), (3, 4, 2))
    MODULES[f"InstanceNorm1d-{_impl}"] = lambda i=_impl: (
        nn.InstanceNorm1d(2, affine=True, track_running_stats=True, impl=i), (3, 2, 4))
    MODULES[f"InstanceNorm2d-{_impl}"] = lambda i=_impl: (nn.InstanceNorm2d(2, impl=i),
                                                          (2, 2, 2, 3))
MODULES["LayerNorm-fused"] = lambda: (nn.LayerNorm(4, impl="fused"), (3, 4))
MODULES["GELU-tanh"] = lambda: (nn.GELU("tanh"), (2, 3))
MODULES["Unflatten"] = lambda: (nn.Unflatten(1, (2, 3)), (2, 6))
# (module, None, input) when the input is not a float tensor of a shape
MODULES["Embedding"] = lambda: (nn.Embedding(5, 3), None, mg.tensor(np.array([[0, 2], [4, 2]])))


def _exported_modules() -> list[type]:
    return [cls for name in nn.__all__ if isinstance(cls := getattr(nn, name), type)
            and issubclass(cls, nn.Module) and cls.forward is not nn.Module.forward
            and cls.__module__ != "minigrad.nn.loss"]  # containers have no forward to draw


def _loss_functions() -> dict[str, Callable[..., mg.Tensor]]:
    return {name: fn for name, fn in vars(F).items() if inspect.isfunction(fn)
            and not name.startswith("_") and "reduction" in inspect.signature(fn).parameters}


def _loss_modules() -> list[type]:
    return [cls for name in nn.__all__ if isinstance(cls := getattr(nn, name), type)
            and issubclass(cls, nn.Module) and cls.__module__ == "minigrad.nn.loss"]


def test_every_module_and_loss_has_a_sample() -> None:
    names = {cls.__name__ for cls in _exported_modules()}
    assert names <= {key.split("-")[0] for key in MODULES}, names - set(MODULES)
    losses = set(_loss_functions())
    assert losses == set(TARGETS), f"losses without a target maker: {losses ^ set(TARGETS)}"
    assert {cls.__name__ for cls in _loss_modules()} == set(LOSS_MODULES)


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("key", sorted(MODULES))
def test_every_module_draws(key: str, mode: str) -> None:
    mg.manual_seed(3)
    module, shape, *given = MODULES[key]()
    getattr(module, mode)()
    x = given[0] if given else mg.tensor(np.random.default_rng(0).standard_normal(shape),
                                         dtype="float32", requires_grad=True, name="x")
    out = module(x)
    weights = mg.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape), dtype="float32",
                        name="c")
    loss = (out * weights).sum()
    sources = check_all_views(loss)
    made_inside = [n for n in walk([loss]) if module in n.meta.get("modules", ())]
    if made_inside:  # the module's cluster and, folded, its box carry its type name
        assert type(module).__name__ in sources["forward"]
        folded = mg.viz.draw(loss, collapse=True).source
        assert type(module).__name__ in folded
        assert len(boxes(folded)) < len(boxes(sources["forward"]))


# -------------------------------------------------------------------------- losses
TARGETS: dict[str, Callable[[tuple[int, int]], object]] = {
    "cross_entropy": lambda shape: np.arange(shape[0]) % shape[1],
    "mse_loss": lambda shape: np.linspace(-1, 1, shape[0] * shape[1]).reshape(shape),
    "binary_cross_entropy_with_logits":
        lambda shape: (np.arange(shape[0] * shape[1]).reshape(shape) % 2).astype(np.float32),
}
TARGETS["nll_loss"] = TARGETS["cross_entropy"]
TARGETS["binary_cross_entropy"] = TARGETS["binary_cross_entropy_with_logits"]
TARGETS.update(dict.fromkeys(("huber_loss", "smooth_l1_loss", "l1_loss"), TARGETS["mse_loss"]))
TARGETS["kl_div"] = lambda shape: np.full(shape, 1 / shape[1], dtype=np.float32)
TARGETS["soft_margin_loss"] = lambda shape: np.where(TARGETS["mse_loss"](shape) > 0, 1.0, -1.0)
# What a loss takes that a network's logits are not: probabilities, log-probabilities.
LOSS_INPUTS = {"binary_cross_entropy": F.sigmoid,
               "nll_loss": lambda z: F.log_softmax(z, 1), "kl_div": lambda z: F.log_softmax(z, 1)}
LOSS_MODULES = {"CrossEntropyLoss": "cross_entropy", "MSELoss": "mse_loss",
                "BCEWithLogitsLoss": "binary_cross_entropy_with_logits",
                "NLLLoss": "nll_loss", "BCELoss": "binary_cross_entropy",
                "HuberLoss": "huber_loss", "SmoothL1Loss": "smooth_l1_loss", "L1Loss": "l1_loss",
                "KLDivLoss": "kl_div", "SoftMarginLoss": "soft_margin_loss"}


def _classifier(mode: str) -> nn.Module:
    mg.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Dropout(0.25),
                        nn.Linear(4, 3))
    return getattr(net, mode)()


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("loss", sorted(TARGETS))
def test_every_loss_function_draws(loss: str, reduction: str, mode: str) -> None:
    net = _classifier(mode)
    x = mg.tensor(np.random.default_rng(1).standard_normal((4, 3)), dtype="float32", name="x")
    logits = LOSS_INPUTS.get(loss, lambda z: z)(net(x))
    target = TARGETS[loss](logits.shape)
    out = _loss_functions()[loss](logits, target, reduction=reduction)
    sources = check_all_views(out)
    titles = {b.title for b in boxes(sources["backward"])}
    assert {"dW", "db"} <= titles  # the Linear layers' parameter gradients
    if loss == "cross_entropy":  # the integer targets: an untracked reshape, shown as such
        assert "reshape(…, (4, 1))" in sources["forward"]
        assert "int64" in sources["forward"]


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("cls", sorted(LOSS_MODULES))
def test_every_loss_module_draws(cls: str, mode: str) -> None:
    net = _classifier(mode)
    x = mg.tensor(np.random.default_rng(2).standard_normal((4, 3)), dtype="float32", name="x")
    logits = LOSS_INPUTS.get(LOSS_MODULES[cls], lambda z: z)(net(x))
    criterion = getattr(nn, cls)()
    out = criterion(logits, TARGETS[LOSS_MODULES[cls]](logits.shape))
    sources = check_all_views(out)
    assert cls in sources["forward"]  # the loss module's cluster


# --------------------------------------------------------------------- node kinds
def test_every_node_kind_has_a_name_and_a_note() -> None:
    mg.manual_seed(0)
    x = mg.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], requires_grad=True, name="x")
    targets = mg.tensor([2, 0])
    picked = ops.gather(F.log_softmax(x, 1), ops.reshape(targets, (-1, 1)), 1)
    mask = F.dropout(x, 0.5)
    noise = F.rand_uniform((2, 3))
    flags = ops.cast(ops.greater(mg.tensor([[1.0, -1.0, 1.0]] * 2), 0.0), "float32")
    data = mg.tensor(np.ones((2, 3)), name="data")
    loss = (picked.sum() + (mask * noise * flags * data).sum()) * 2.0
    model = build_model(loss)
    kinds = {node_kind(n) for n in model.forward}
    assert kinds == set(NODE_KINDS), kinds
    by_kind: dict[str, list[str]] = {}
    for node in model.forward:
        by_kind.setdefault(node_kind(node), []).append(model.forward_name(node))
    assert by_kind["parameter"] == ["x"]
    assert by_kind["input"] == ["data"]
    assert "2" in by_kind["constant"]
    assert set(by_kind["random"]) == {"mask", "u"}
    assert "reshape(…, (2, 1))" in by_kind["untracked"]
    for node in model.forward:
        note = kind_note(node)
        assert (note is None) == (node_kind(node) == "op")
        assert "{" not in model.forward_name(node)  # no template left unfilled
    check_all_views(loss)


def test_expression_names_keep_their_precedence() -> None:
    from minigrad._state import recording

    x = mg.tensor([0.5, -0.5], requires_grad=True, name="x")
    with recording():
        u = mg.tensor([0.2, 0.9], name="u")
        out = x * (ops.greater_equal(u, 0.5) * 2.0)
    names = [build_model(out, grads=False).forward_name(n) for n in walk([out])]
    assert "(u >= 0.5) * 2" in names
    assert "x * ((u >= 0.5) * 2)" in names


def test_a_name_holding_a_placeholder_stays_as_given() -> None:
    a = mg.tensor([1.0, 2.0], requires_grad=True, name="{1}")
    b = mg.tensor([3.0, 4.0], requires_grad=True, name="b")
    model = build_model(a + b, grads=False)
    assert model.forward_name(model.forward[-1]) == "({1}) + b"


def test_second_order_graph_draws() -> None:
    x = mg.tensor([0.3, -0.2, 0.7], dtype="float64", requires_grad=True, name="x")
    w = mg.tensor([1.5, 2.0, -1.0], dtype="float64", name="w")
    y = (mg.tanh(x) * w).sum()
    (g,) = mg.grad(y, [x], create_graph=True)
    z = (g * g).sum()
    sources = check_all_views(z)
    # the first pass's nodes say what they are the gradient of
    assert "gradient of tanh(x) (earlier backward pass)" in sources["forward"]
    t = np.tanh(x.numpy())
    first = (1 - t**2) * w.numpy()  # dy/dx, drawn as a forward node of z
    assert any(np.allclose(shown_numbers(b)[:3], first, rtol=1e-4)
               for b in boxes(sources["forward"]) if b.title == "dx")
    # d(sum(g^2))/dx = 2 g * dg/dx = 2 g * (-2 t (1 - t^2) w)
    want = 2 * first * (-2 * t * (1 - t**2) * w.numpy())
    assert any(np.allclose(shown_numbers(b), want, rtol=1e-4) for b in boxes(sources["backward"])
               if b.title == "dx")


# --------------------------------------------------------------------- SVG subset
@needs_dot
def test_classifier_graph_renders_every_box(tmp_path: Path) -> None:
    net = _classifier("train")
    x = mg.tensor(np.random.default_rng(4).standard_normal((4, 3)), dtype="float32", name="x")
    loss = F.cross_entropy(net(x), np.array([0, 1, 2, 1]))
    drawing = mg.viz.draw(loss, view="both")
    svg = drawing.svg
    drawn = [b for b in boxes(drawing.source) if b.uid[0] in "fg"]
    assert svg.count('class="node"') >= len(drawn)
    assert "reshape(…, (4, 1))" in svg and "gather" in svg
    check_step_files(loss, tmp_path / "steps")


@needs_dot
def test_second_order_and_module_steps_render(tmp_path: Path) -> None:
    x = mg.tensor([0.3, -0.2], dtype="float64", requires_grad=True, name="x")
    (g,) = mg.grad((mg.tanh(x) * x).sum(), [x], create_graph=True)
    check_step_files((g * g).sum(), tmp_path / "second")
    module, shape = MODULES["BatchNorm1d"]()
    x = mg.tensor(np.arange(18.0).reshape(shape) ** 0.5, dtype="float32", requires_grad=True)
    check_step_files(module(x).sum() * 2.0, tmp_path / "bn")


# ------------------------------------------------------------------------ examples
EXAMPLE_ARGS = {"mnist.py": ["--digits", "--steps", "2"]}
NO_GRAPH = {"data_sets.py"}  # plots the data sets: no tensor to draw (a clear message)


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_every_example_final_graph_draws(script: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    if script == "mnist.py":
        pytest.importorskip("sklearn")
    monkeypatch.chdir(tmp_path)  # examples write their figures to the current folder
    target = str(EXAMPLES / script)
    if script in NO_GRAPH:
        with pytest.raises(DrawError, match="no backward pass and leaves no tensor"):
            resolve_target(target, EXAMPLE_ARGS.get(script), stop_after=1)
        return
    root = resolve_target(target, EXAMPLE_ARGS.get(script), stop_after=1)
    sources = check_all_views(root, collapse=False)
    outputs = mg.viz.root_outputs(root)
    if any(n.op is not None and n.op.name == "gather" for n in walk(outputs)):
        assert "reshape(…, (" in sources["forward"]  # the classifier's integer targets


def test_last_pass_is_drawn_with_the_values_it_used(tmp_path: Path) -> None:
    """After the script's optimizer step the weights change; the drawing shows the ones
    the drawn pass multiplied with (its matmul values agree with them)."""
    script = tmp_path / "train.py"
    script.write_text(
        "import numpy as np, minigrad as mg\n"
        "net = mg.nn.Linear(3, 2)\n"
        "opt = mg.optim.SGD(net.parameters(), lr=0.5)\n"
        "x = mg.tensor(np.ones((4, 3), dtype='float32'))\n"
        "for _ in range(3):\n"
        "    opt.zero_grad()\n"
        "    mg.nn.functional.cross_entropy(net(x), [0, 1, 1, 0]).backward()\n"
        "    opt.step()\n")
    root = resolve_target(str(script))
    products = [n for n in walk(mg.viz.root_outputs(root)) if n.op is not None
                and n.op.name == "matmul"]
    assert products
    for node in products:
        a, b = (t.data for t in node.inputs)
        np.testing.assert_allclose(node.data, a @ b, rtol=1e-5)
    check_forward(mg.viz.draw(root).source, mg.viz.root_outputs(root))


# ---------------------------------------------------------------------- the command
def _main(args: list[str]) -> int:
    from minigrad.cli import main

    return main(args)


@pytest.mark.parametrize("script", ["toy_network.py", "mnist.py"])
def test_draw_command_on_the_classifier_examples(script: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture) -> None:
    if script == "mnist.py":
        pytest.importorskip("sklearn")
    monkeypatch.chdir(tmp_path)
    extra = ["--args", "--digits --steps 2"] if script == "mnist.py" else ["--stop-after", "2"]
    assert _main(["draw", str(EXAMPLES / script), "--out", "g.dot", *extra]) == 0
    source = (tmp_path / "g.dot").read_text()
    assert "gather · " in source and "reshape(…, (" in source
    assert "wrote g.dot" in capsys.readouterr().out
    if script == "toy_network.py" and mg.viz.system_dot():  # the step page of that pass
        assert _main(["draw", str(EXAMPLES / script), "--out", "g.svg", "--stop-after", "1",
                      "--steps", "frames"]) == 0
        assert (tmp_path / "frames" / "steps.html").exists()
        assert "<svg" in (tmp_path / "g.svg").read_text()


@pytest.mark.parametrize(("body", "message"), [
    ("import minigrad as mg\nx = mg.tensor([1.0])\nraise ValueError('boom')\n",
     "failed at line 3: ValueError: boom"),
    ("import numpy as np\nx = np.ones(3)\n", "leaves no tensor"),
    ("import minigrad as mg\nif __name__ == '__main__':\n    loss = mg.tensor([1.0]).sum()\n",
     "code under `if __name__ == \"__main__\"` does not run"),
    ("import sys\nsys.exit(3)\n", "exited with status 3"),
    ("def broken(:\n", "failed at line 1: SyntaxError"),
])
def test_draw_command_says_what_is_wrong(body: str, message: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture) -> None:
    script = tmp_path / "mine.py"
    script.write_text(body)
    assert _main(["draw", str(script), "--out", str(tmp_path / "g.svg")]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "g.svg").exists()


@pytest.mark.parametrize(("suffix", "message"), [
    (":nothing", "defines no 'nothing'"),
    (":values", "'values' is a ndarray, not a tensor"),
    (":explode", "failed at line 4: RuntimeError: no"),
])
def test_draw_command_on_a_bad_name(suffix: str, message: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture) -> None:
    script = tmp_path / "mine.py"
    script.write_text("import numpy as np\nvalues = np.ones(2)\ndef explode():\n"
                      "    raise RuntimeError('no')\n")
    assert _main(["draw", f"{script}{suffix}", "--out", str(tmp_path / "g.svg")]) == 1
    assert message in capsys.readouterr().err


def test_draw_command_from_the_shell_exits_nonzero_without_a_traceback(tmp_path: Path
                                                                       ) -> None:
    missing = subprocess.run([sys.executable, "-m", "minigrad", "draw", "nothere.py"],
                             capture_output=True, text=True, cwd=tmp_path, timeout=120,
                             check=False)
    assert missing.returncode == 1
    assert "minigrad draw: no such script: nothere.py" in missing.stderr
    assert "Traceback" not in missing.stderr
