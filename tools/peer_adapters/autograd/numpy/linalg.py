import numpy.linalg as _la

from . import __getattr__ as _np_attr
from . import _wrap


def __getattr__(name):
    obj = getattr(_la, name)
    return _wrap("linalg." + name, obj) if callable(obj) and not isinstance(obj, type) else obj


# helpers of autograd's own numpy.linalg module that its tests call
def T(x):
    return _np_attr("swapaxes")(x, -1, -2)


def _dot(a, b):  # autograd's einsum "...ij,...jk->...ik"
    return _np_attr("matmul")(a, b)
