"""``mg.autograd``: PyTorch's ``torch.autograd`` names: ``grad``, ``backward`` and
``functional`` (``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``hvp``, ``vhp``)."""

from ..autodiff import backward, grad
from . import functional

__all__ = ["backward", "functional", "grad"]
