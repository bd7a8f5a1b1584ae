"""Utilities PyTorch users look for under ``torch.utils``: ``minigrad.utils.data``."""

from . import data

__all__ = ["data"]
