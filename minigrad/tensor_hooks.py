"""``Tensor.register_hook`` and ``Tensor.retain_grad``, as in PyTorch 2.13.

A hook ``fn(grad)`` runs when the backward pass (``backward``, ``mg.grad``) has summed the
gradient of its tensor; a tensor it returns replaces that gradient, for the tensor's
``.grad`` and for everything upstream. Hooks run in registration order; a retained
gradient (``retain_grad`` on a non-leaf) is taken after all of them, and accumulates over
backward passes like a leaf's.

``mg.jit`` cannot see a hook registered or removed after it traced, so while any tensor
holds a hook or retains its gradient, jit-compiled functions run eagerly (with a warning
once): ``HOOKED[0]`` counts such tensors that are alive.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import ArgumentTypeError

if TYPE_CHECKING:
    from .tensor import Tensor

HOOKED = [0]  # tensors alive with a hook or a retained gradient
_keys = itertools.count()


def _released() -> None:
    HOOKED[0] -= 1


def _mark(tensor: Tensor) -> None:
    """Count ``tensor`` as hooked (once), until it dies or loses its last hook."""
    if "hooked" not in tensor.meta:
        HOOKED[0] += 1
        tensor.meta["hooked"] = weakref.finalize(tensor, _released)


def _unmark_if_bare(tensor: Tensor) -> None:
    if tensor.meta.get("grad_hooks") or tensor.meta.get("retains_grad"):
        return
    finalizer = tensor.meta.pop("hooked", None)
    if finalizer is not None and finalizer.detach() is not None:
        _released()


class HookHandle:
    """What ``register_hook`` returns: ``remove()`` takes the hook away (also as a context
    manager, like torch.utils.hooks.RemovableHandle)."""

    def __init__(self, tensor: Tensor, key: int) -> None:
        self._tensor = weakref.ref(tensor)
        self.id = key

    def remove(self) -> None:
        """Remove the hook (nothing happens if it is gone already)."""
        tensor = self._tensor()
        if tensor is None:
            return
        hooks = tensor.meta.get("grad_hooks")
        if hooks is not None and hooks.pop(self.id, None) is not None:
            _unmark_if_bare(tensor)

    def __enter__(self) -> HookHandle:
        return self

    def __exit__(self, *_: Any) -> None:
        self.remove()


def register_hook(tensor: Tensor, hook: Callable[[Tensor], Tensor | None]) -> HookHandle:
    """Run ``hook(grad)`` whenever the gradient of ``tensor`` is computed."""
    if not tensor.requires_grad:
        raise RuntimeError("register_hook: cannot register a hook on a tensor that does not "
                           f"require grad (shape {tensor.shape}, dtype {tensor.dtype})")
    if not callable(hook):
        raise ArgumentTypeError("register_hook: the hook must be callable, got "
                                f"{type(hook).__name__}")
    key = next(_keys)
    tensor.meta.setdefault("grad_hooks", {})[key] = hook
    _mark(tensor)
    return HookHandle(tensor, key)


def retain_grad(tensor: Tensor) -> None:
    """Keep the gradient of a non-leaf tensor in ``.grad`` after backward (a leaf that
    requires grad keeps it anyway)."""
    if not tensor.requires_grad:
        raise RuntimeError("retain_grad: cannot retain the gradient of a tensor that does not "
                           f"require grad (shape {tensor.shape})")
    if tensor.op is None:
        return
    tensor.meta["retains_grad"] = True
    _mark(tensor)


def run_hooks(node: Tensor, total: Tensor) -> Tensor:
    """``total`` passed through ``node``'s hooks in order (each may replace it)."""
    from .tensor import Tensor

    for hook in list(node.meta["grad_hooks"].values()):
        replaced = hook(total)
        if replaced is None:
            continue
        if not isinstance(replaced, Tensor):
            raise ArgumentTypeError(f"a gradient hook returned {type(replaced).__name__}; it must "
                                    "return a Tensor or None")
        if replaced.shape != total.shape or replaced.dtype != total.dtype:
            raise RuntimeError(
                f"a gradient hook returned shape {replaced.shape} dtype {replaced.dtype} for "
                f"a gradient of shape {total.shape} dtype {total.dtype}")
        total = replaced
    return total
