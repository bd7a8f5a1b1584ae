"""minigrad's exception classes: each is the builtin a numpy user catches *and* the
RuntimeError a PyTorch user catches.

PyTorch raises RuntimeError for most bad calls (shapes that do not match, a dtype an op does
not take, ``clamp()`` with neither bound), IndexError for a dim or index out of range, and
ValueError/TypeError from its Python layer. numpy raises ValueError/TypeError/IndexError.
So every error minigrad raises for a bad call is one of these, and both ``except
RuntimeError`` (PyTorch habits) and ``except ValueError`` (numpy habits) catch it:

| raised as | is also |
|---|---|
| ArgumentError (a value, shape or keyword that cannot work) | ValueError, RuntimeError |
| ArgumentTypeError (an argument or dtype of the wrong kind) | TypeError, RuntimeError |
| OutOfRangeError (a dim, axis or index outside its range) | IndexError, ValueError, RuntimeError |
| InvalidIndexError (an index key of the wrong kind: x[1.5]) | IndexError, TypeError, RuntimeError|

``tests/test_errors.py`` checks that minigrad's source raises no bare ValueError, TypeError
or IndexError.
"""

from __future__ import annotations


class MinigradError(RuntimeError):
    """The base of minigrad's errors (a RuntimeError, as PyTorch raises)."""


class ArgumentError(MinigradError, ValueError):
    """A value, shape or keyword that cannot work (ValueError and RuntimeError)."""


class ArgumentTypeError(MinigradError, TypeError):
    """An argument or dtype of the wrong kind (TypeError and RuntimeError)."""


class OutOfRangeError(MinigradError, IndexError, ValueError):
    """A dim, axis or index outside its range (IndexError, as PyTorch raises; ValueError,
    as numpy raises for an axis; RuntimeError)."""


class InvalidIndexError(MinigradError, IndexError, TypeError):
    """An index key of the wrong kind, e.g. ``x[1.5]`` (IndexError, as PyTorch raises;
    TypeError, as numpy raises; RuntimeError)."""


__all__ = ["ArgumentError", "ArgumentTypeError", "InvalidIndexError", "MinigradError",
           "OutOfRangeError"]
