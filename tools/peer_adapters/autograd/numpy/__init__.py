"""Fake autograd.numpy: each numpy function called through numpy's own dispatch
(__array_function__/__array_ufunc__ -> minigrad), its value checked against real numpy."""
import numpy as _np

import minigrad as mg

__version__ = _np.__version__


class WrongAnswer(AssertionError):
    pass


def _vals(v):
    if isinstance(v, mg.Tensor):
        return v.data
    if isinstance(v, (list, tuple)):
        return type(v)(_vals(u) for u in v)
    return v


def _has_tensor(v):
    if isinstance(v, mg.Tensor):
        return True
    if isinstance(v, (list, tuple)):
        return any(_has_tensor(u) for u in v)
    return False


def check_same(name, got, want):
    if isinstance(want, (tuple, list)) and isinstance(got, (tuple, list)):
        for g, w in zip(got, want):
            check_same(name, g, w)
        return
    g = _np.asarray(_vals(got))
    w = _np.asarray(want)
    if g.shape != w.shape:
        raise WrongAnswer(f"{name}: shape {g.shape} != numpy {w.shape}")
    if w.dtype.kind in "fc" or g.dtype.kind in "fc":
        if not _np.allclose(g, w, rtol=1e-6, atol=1e-9, equal_nan=True):
            raise WrongAnswer(f"{name}: {g} != numpy {w}")
    elif not _np.array_equal(g, w):
        raise WrongAnswer(f"{name}: {g} != numpy {w}")


def _wrap(name, fn):
    def wrapped(*args, **kwargs):
        if not _has_tensor(args) and not _has_tensor(list(kwargs.values())):
            return fn(*args, **kwargs)
        got = fn(*args, **kwargs)
        with _np.errstate(all="ignore"):
            want = fn(*_vals(args), **{k: _vals(v) for k, v in kwargs.items()})
        check_same(name, got, want)
        return got
    wrapped.__name__ = name
    return wrapped


def array(obj, *a, **k):
    if _has_tensor(obj):
        return _stack_nested(obj)
    return _np.array(obj, *a, **k)


def _stack_nested(obj):
    if isinstance(obj, (list, tuple)):
        return mg.stack([_stack_nested(o) for o in obj])
    return obj if isinstance(obj, mg.Tensor) else mg.tensor(_np.asarray(obj, dtype=float))


def __getattr__(name):
    obj = getattr(_np, name)
    if callable(obj) and not isinstance(obj, type):
        return _wrap(name, obj)
    return obj


# imported by name: ``from . import linalg`` would find numpy.linalg through __getattr__
import importlib as _importlib

linalg = _importlib.import_module(__name__ + ".linalg")
random = _importlib.import_module(__name__ + ".random")
