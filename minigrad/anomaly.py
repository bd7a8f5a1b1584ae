"""Anomaly detection: stop at the first node whose value holds NaN or inf.

``with mg.detect_anomaly(): ...`` (or ``MINIGRAD_ANOMALY=1`` in the environment, read when
minigrad is imported) installs a node hook that checks every new floating-point node, in the
forward pass and in the backward pass alike, and raises ``AnomalyError`` at the first one
holding NaN or inf. The message names the node's op, its name, its inputs, the module it ran
in and the line of user code that created it; for a node of the backward pass it also says
whose gradient was being computed and which forward op's VJP rule produced it, e.g.
"produced by the VJP rule of sqrt (node 'sqrtvar'), computing the gradient of its inputs
[add(var, 0.0)]", i.e. the gradient of var + eps through sqrt.

When neither switch is on no hook is installed, so normal runs pay nothing. When one is,
every node keeps its inputs (as under ``recording``), so the message can show them.

``detect_anomaly()`` covers the thread that enters it; ``MINIGRAD_ANOMALY=1`` covers every
thread. Functions compiled by ``mg.jit`` run their kernel without per-node checks.

Names given to a node after it is created (``y = f(x); y.name = "y"``) are not known yet
when it is checked; such a node is described by its op and inputs instead.
"""

from __future__ import annotations

import contextlib
import os
import traceback
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ._state import STATE
from .tensor import Tensor

ENV_VAR = "MINIGRAD_ANOMALY"
_PACKAGE_DIR = str(Path(__file__).resolve().parent)


class AnomalyError(RuntimeError):
    """A node produced NaN or inf while anomaly detection was on.

    ``node`` is the offending tensor, ``kind`` is "NaN" or "inf".
    """

    def __init__(self, message: str, node: Tensor, kind: str) -> None:
        super().__init__(message)
        self.node = node
        self.kind = kind


def _bad_kind(data: np.ndarray) -> str | None:
    """ "NaN" or "inf" when ``data`` (floating point) holds one, else None."""
    if data.dtype.kind != "f" or data.size == 0:
        return None
    if np.isfinite(data).all():
        return None
    return "NaN" if np.isnan(data).any() else "inf"


def describe(node: Tensor, depth: int = 1) -> str:
    """A short human description: its name in quotes, else op(inputs), else a leaf."""
    if node.name:
        text = repr(node.name)
        return text if len(text) <= 60 else text[:56] + "...'"
    if node.op is None:
        if node.numel() == 1:
            return repr(node.data.reshape(-1)[0].item())
        return f"<leaf of shape {node.shape}>"
    if depth <= 0 or not node.inputs:
        return f"<{node.op.name} of shape {node.shape}>"
    inner = ", ".join(describe(parent, depth - 1) for parent in node.inputs)
    return f"{node.op.name}({inner})"


def _user_frame() -> str:
    """file:line of the innermost frame outside the minigrad package."""
    for frame in reversed(traceback.extract_stack()):
        if not str(Path(frame.filename).resolve()).startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno} ({frame.line})"
    return "<unknown>"


def _message(node: Tensor, kind: str) -> str:
    op_name = node.op.name if node.op is not None else "leaf"
    bad = int(np.size(node.data) - np.isfinite(node.data).sum())
    name = describe(node) if node.name else "unnamed"
    # the backward pass sums a node's partial gradients with add nodes made outside any
    # VJP rule; their inputs are the tagged partials (or the running sum)
    summed = [p for p in node.inputs if p.partial_of or p.grad_of] if (
        node.op is not None and node.op.name == "add") else []
    gradient = node.vjp_of is not None or bool(summed)
    stage = "backward" if gradient else "forward"
    lines = [
        f"detect_anomaly: {stage} node {op_name} ({name}, shape {node.shape}, "
        f"dtype {node.dtype}) produced {kind} in {bad} of {node.numel()} elements",
        f"  computed as {describe(node, depth=2)}",
    ]
    for position, parent in enumerate(node.inputs):
        parent_kind = _bad_kind(parent.data)
        if parent_kind:
            lines.append(
                f"  note: its input {position} ({describe(parent)}) already held {parent_kind}"
                " (a leaf, a gradient passed to backward, or a node made while detection was off)"
            )
    if node.vjp_of is None and summed:
        targets = {id(t): t for p in summed for t, _ in p.partial_of}
        targets.update({id(t): t for p in summed for t in p.grad_of})
        consumers = [c.op.name for p in summed for _, c in p.partial_of]
        names = ", ".join(describe(t) for t in targets.values())
        lines.append(
            f"  summing the gradient contributions to {names} from its consumers "
            f"[{', '.join(consumers)}]"
        )
    elif gradient:
        forward = node.vjp_of
        forward_name = describe(forward) if forward.name else "unnamed"
        differentiable = [p for p in forward.inputs if p.requires_grad] or forward.inputs
        wanted = ", ".join(describe(parent) for parent in differentiable)
        lines.append(
            f"  produced by the VJP rule of {forward.op.name} (node {forward_name}), "
            f"computing the gradient of its inputs [{wanted}]"
        )
        lines.append(f"  i.e. the gradient of {wanted} through {forward.op.name}")
    modules = node.meta.get("modules")
    if modules:
        lines.append(f"  inside module {type(modules[-1]).__name__}")
    lines.append(f"  created at {_user_frame()}")
    return "\n".join(lines)


def check_node(node: Tensor) -> None:
    """The node hook: raise ``AnomalyError`` if ``node`` holds NaN or inf."""
    kind = _bad_kind(node.data)
    if kind is not None:
        raise AnomalyError(_message(node, kind), node, kind)


@contextlib.contextmanager
def detect_anomaly(enabled: bool = True) -> Iterator[None]:
    """Context in which the first node producing NaN or inf raises ``AnomalyError``.

    Checks every new node of the forward and backward passes (like
    ``torch.autograd.detect_anomaly``, but stopping at the forward node too).
    ``enabled=False`` makes it a no-op, so it can be switched by a flag.
    """
    if not enabled:
        yield
        return
    STATE.node_hooks.append(check_node)
    STATE.recording += 1  # keep every node's inputs, so a message can show them
    try:
        yield
    finally:
        STATE.recording -= 1
        STATE.node_hooks.remove(check_node)


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on in this thread."""
    return check_node in STATE.node_hooks


def _enable_from_environment() -> None:
    """Turn detection on when MINIGRAD_ANOMALY is set (not 0): for the importing thread now,
    and for every thread started later (STATE is per thread, set up on first use)."""
    if os.environ.get(ENV_VAR, "").strip() in ("", "0"):
        return
    state_class = type(STATE)
    plain_init = state_class.__init__

    def init_with_detection(self: object) -> None:
        plain_init(self)
        self.node_hooks.append(check_node)
        self.recording += 1

    state_class.__init__ = init_with_detection
    if not is_anomaly_enabled():
        STATE.node_hooks.append(check_node)
        STATE.recording += 1


_enable_from_environment()
