import numpy.linalg as _la

from . import _wrap


def __getattr__(name):
    obj = getattr(_la, name)
    return _wrap("linalg." + name, obj) if callable(obj) and not isinstance(obj, type) else obj
