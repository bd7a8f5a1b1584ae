"""Reading a drawing back: the boxes of a DOT source and what they say, and the checks the
drawing tests make on them against the graph itself (walked here, independently of
``minigrad.viz``).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad.viz.expand import plan_page
from minigrad.viz.steps import step_caption

NODE_LINE = re.compile(r"^\s*([a-z]+\d+) \[label=<(<TABLE.*</TABLE>)>(?:, (.*))?\];$")
NUMBER_LIST = re.compile(r"\[([-+0-9.,e\sainf]*)\]")


@dataclass
class Box:
    """One drawn node: its DOT id, title (first bold text), whole text and raw label."""

    uid: str
    title: str
    text: str
    label: str
    attrs: str


def _text(label: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", label)).split())


def boxes(source: str) -> list[Box]:
    """Every node with an HTML-like label in a DOT source."""
    found = []
    for line in source.splitlines():
        match = NODE_LINE.match(line)
        if match:
            bold = re.search(r"<B>(.*?)</B>", match[2])
            title = html.unescape(bold[1]) if bold else ""
            found.append(Box(match[1], title, _text(match[2]), match[2], match[3] or ""))
    return found


def shown_numbers(box: Box) -> np.ndarray:
    """The numbers of the value lists ``[a, b, ...]`` shown in a box, in order."""
    values: list[float] = []
    for group in NUMBER_LIST.findall(box.text):
        values += [float(v) for v in group.split(",") if v.strip()]
    return np.array(values)


def walk(outputs: list[mg.Tensor]) -> list[mg.Tensor]:
    """Every node reachable from ``outputs`` through ``.inputs`` (breadth first)."""
    seen = {id(t): t for t in outputs}
    queue = list(outputs)
    while queue:
        node = queue.pop()
        for parent in node.inputs:
            if id(parent) not in seen:
                seen[id(parent)] = parent
                queue.append(parent)
    return list(seen.values())


def folded(node: mg.Tensor) -> bool:
    """A scalar without inputs that needs no gradient and is no random draw: shown inside
    its users' labels, not as a box of its own."""
    return (not node.inputs and not node.requires_grad and node.numel() == 1
            and "random" not in node.meta)


def reaches_differentiably(leaf: mg.Tensor, outputs: list[mg.Tensor]) -> bool:
    """Whether a gradient flows from ``outputs`` back to ``leaf``."""
    queue = [t for t in outputs if t.requires_grad]
    seen = {id(t) for t in queue}
    while queue:
        node = queue.pop()
        if node is leaf:
            return True
        if node.op is None or node.op.vjp is None:
            continue
        for parent in node.inputs:
            if parent.requires_grad and id(parent) not in seen:
                seen.add(id(parent))
                queue.append(parent)
    return False


def check_forward(source: str, outputs: list[mg.Tensor]) -> list[Box]:
    """One box per node (scalar constants folded), the given names as titles, each op's
    name and each node's shape in some box."""
    nodes = walk(outputs)
    drawn = [n for n in nodes if not folded(n)]
    forward = [b for b in boxes(source) if b.uid.startswith("f")]
    assert len(forward) == len(drawn), (len(forward), len(drawn))
    titles = {b.title for b in forward}
    for node in drawn:
        if node.name:
            assert node.name in titles, (node.name, sorted(titles))
    texts = " | ".join(b.text for b in forward)
    for op in {n.op.name for n in drawn if n.op is not None}:
        assert f"{op} · " in texts, op
    for node in drawn:
        if "random" in node.meta:
            assert "random" in texts
        if node.op is not None and not node.inputs and not folded(node) \
                and "random" not in node.meta:  # untracked: inputs shown as "…"
            assert "…" in texts and "not recorded" in texts
    return forward


def check_backward(source: str, outputs: list[mg.Tensor], grads: dict[int, np.ndarray]
                   ) -> list[Box]:
    """A box ``d<name>`` for each named leaf a gradient reaches, showing that gradient
    (``grads``: id(leaf) -> the gradient backward() stored) when small."""
    backward = [b for b in boxes(source) if b.uid.startswith("g")]
    leaves = [n for n in walk(outputs) if n.is_leaf and n.requires_grad
              and reaches_differentiably(n, outputs)]
    if not leaves:
        assert "no gradient" in source
        return backward
    assert backward, "no gradient boxes"
    for leaf in leaves:
        if not leaf.name:
            continue
        mine = [b for b in backward if b.title == "d" + leaf.name]
        assert mine, ("d" + leaf.name, sorted(b.title for b in backward))
        want = grads[id(leaf)]
        if want.size <= 12 and want.dtype.kind == "f":
            shown = [shown_numbers(b) for b in mine]
            assert any(s.size == want.size and np.allclose(s, want.reshape(-1), rtol=2e-4,
                                                           atol=1e-6) for s in shown), (
                leaf.name, shown, want)
    return backward


def reference_grads(outputs: list[mg.Tensor]) -> dict[int, np.ndarray]:
    """The leaves' gradients by ``mg.grad`` (ones as the seed of a non-scalar output)."""
    leaves = [n for n in walk(outputs) if n.is_leaf and n.requires_grad
              and reaches_differentiably(n, outputs)]
    wanted = [t for t in outputs if t.requires_grad]
    if not leaves or not wanted:
        return {}
    seeds = [np.ones(t.shape, t.dtype) for t in wanted]
    values = mg.grad(wanted, leaves, grad_outputs=seeds, allow_unused=True)
    return {id(leaf): (np.zeros(leaf.shape) if g is None else g.numpy())
            for leaf, g in zip(leaves, values, strict=True)}


def check_all_views(root: object, collapse: object = False) -> dict[str, str]:
    """Draw ``root`` in every view and as step frames; check each for content.
    Returns the DOT sources by view."""
    outputs = mg.viz.root_outputs(root)
    grads = reference_grads(outputs)
    sources = {}
    for view in ("forward", "backward", "both"):
        source = mg.viz.draw(root, view=view, collapse=collapse).source
        sources[view] = source
        if view in ("forward", "both") and collapse is False:
            check_forward(source, outputs)
        if view in ("backward", "both"):
            check_backward(source, outputs, grads)
    for prefix, view in (("f", "forward"), ("g", "backward")):
        alone = [b.title for b in boxes(sources[view]) if b.uid.startswith(prefix)]
        side = [b.title for b in boxes(sources["both"]) if b.uid.startswith(prefix)]
        assert side == alone, (view, side, alone)
    check_frames(root)
    return sources


def check_frames(root: object) -> None:
    """The step page's figure has a box ``s<k>`` per step, titled with the step's name (or the
    step sits in a folded box); the captions number the steps and give their formulas."""
    model = mg.viz.build_model(root)
    total = len(model.steps)
    if not total:
        return
    plan = plan_page(model, "backward", None, 400)
    drawn = {b.uid: b for b in boxes(plan.figures[0].source)}
    by_id = {m[1]: b for b in drawn.values() if (m := re.search(r'id="([^"]+)"', b.attrs))}
    for step in model.steps:
        path = plan.step_paths[step.index]
        if path[-1] == f"s{step.index + 1}" and len(path) == 1:
            assert by_id[path[-1]].title == step.name
        caption = step_caption(step, total)
        assert caption.startswith(f"Step {step.index + 1} of {total}: {step.name} = ")


def check_step_files(root: object, out_dir: Path) -> None:
    """``mg.viz.steps``' frames: frame k highlights step k only; later steps show "?"."""
    model = mg.viz.build_model(root)
    written = mg.viz.steps(root, out_dir)
    frames, page = written[:-1], written[-1].read_text()
    total = len(model.steps)
    assert len(frames) == total
    assert f"Step {total} of {total}: " in page
    for k, frame in enumerate(frames):
        svg = frame.read_text()
        assert svg.count('id="current') == 1 and f'id="current{k + 1}"' in svg
        assert svg.count('<text class="q"') == total - k - 1, (k, total)
