"""minigrad: a small, readable autodiff framework on numpy whose backward pass is a graph."""

from . import array_functions as _array_functions
from . import autograd, data, errors, experiments, func, nn, optim, utils
from . import conv as _conv  # noqa: F401  (registers the convolution rows)
from . import fused_bn as _fused_bn  # noqa: F401  (registers the fused BatchNorm rows)
from . import linalg_extras as _linalg_extras
from . import pool as _pool  # noqa: F401  (registers the max-pool index row)
from . import scattering as _scatter
from . import tensor_extras as _tensor_extras
from . import tensor_math as _tensor_math
from ._state import enable_grad, is_grad_enabled, manual_seed, no_grad
from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled
from .autodiff import GradGraph, backward, grad, gradient_graph, topological_order
from .creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    zeros,
    zeros_like,
)
from .dtypes import bool_ as bool
from .dtypes import (
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from .dtypes import float16 as half
from .dtypes import float32 as float
from .dtypes import float64 as double
from .dtypes import int16 as short
from .dtypes import int32 as int
from .dtypes import int64 as long
from .errors import (
    ArgumentError,
    ArgumentTypeError,
    InvalidIndexError,
    MinigradError,
    OutOfRangeError,
)
from .gradcheck import gradcheck
from .linalg import dot, einsum, inner, outer, tensordot
from .ops import (
    OPS,
    Op,
    broadcast_to,
    cast,
    exp,
    gather,
    log,
    matmul,
    maximum,
    power,
    reciprocal,
    relu,
    reshape,
    sigmoid,
    sqrt,
    tanh,
    transpose,
    where,
)
from .ops.aggregates import all_ as all
from .ops.aggregates import any_ as any
from .ops.aggregates import count_nonzero, logsumexp, nanmean, nansum, norm, prod
from .ops.extrema import amax, amin, aminmax, argmax, argmin
from .ops.extrema import max as max
from .ops.extrema import min as min
from .ops.order_stats import kthvalue, median, nanmedian, nanquantile, quantile
from .ops.scans import cummax, cummin, cumprod, cumsum, logcumsumexp
from .ops.sorting import argsort, sort, topk
from .serialization import load, save
from .shape_ops import (
    cat,
    chunk,
    diag,
    diagonal,
    expand,
    flatten,
    flip,
    matrix_transpose,
    movedim,
    pad,
    permute,
    repeat,
    roll,
    split,
    squeeze,
    stack,
    swapdims,
    t,
    take_along_dim,
    trace,
    tril,
    triu,
    unbind,
    unflatten,
    unsqueeze,
)
from .tensor import Tensor, tensor
from .tensor_api import mean, std, var
from .tensor_api import sum as sum

__version__ = "0.1.0"

__all__ = [
    "OPS", "GradGraph", "Op", "Tensor", "backward", "broadcast_to", "cast", "data",
    "enable_grad", "exp", "experiments", "gather", "grad", "gradcheck", "gradient_graph",
    "is_grad_enabled", "load", "log", "manual_seed", "matmul", "max", "maximum", "mean", "nn",
    "no_grad", "optim", "power", "reciprocal", "relu", "reshape", "save", "sigmoid", "sqrt",
    "sum", "tanh", "tensor", "topological_order", "transpose", "var", "where",
]
__all__ += ["ArgumentError", "ArgumentTypeError", "InvalidIndexError", "MinigradError",
            "OutOfRangeError", "errors", "func"]
__all__ += [
    "arange",
    "as_tensor",
    "bool",
    "double",
    "empty",
    "empty_like",
    "eye",
    "float",
    "float16",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "full_like",
    "half",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "linspace",
    "long",
    "normal",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "randperm",
    "short",
    "uint8",
    "zeros",
    "zeros_like",
]
__all__ += [
    "cat", "chunk", "diag", "diagonal", "dot", "einsum", "expand", "flatten", "flip", "inner",
    "matrix_transpose", "movedim", "outer", "pad", "permute", "repeat", "roll", "split",
    "squeeze", "stack", "std", "swapdims", "t", "take_along_dim", "tensordot", "trace", "tril",
    "triu", "unbind", "unflatten", "unsqueeze",
]
__all__ += ["all", "amax", "amin", "aminmax", "any", "argmax", "argmin", "count_nonzero",
            "cumprod", "cumsum", "logsumexp", "min", "norm", "prod"]
__all__ += ["argsort", "cummax", "cummin", "kthvalue", "logcumsumexp", "median", "nanmean",
            "nanmedian", "nanquantile", "nansum", "quantile", "sort", "topk"]
__all__ += ["AnomalyError", "detect_anomaly", "is_anomaly_enabled"]
__all__ += ["autograd", "utils"]
# the math functions (mg.pow, mg.sin, mg.clamp, ...), listed in tensor_math.__all__
globals().update({name: getattr(_tensor_math, name) for name in _tensor_math.__all__})
__all__.extend(_tensor_math.__all__)
# mm, bmm, narrow, tile, vstack, meshgrid, repeat_interleave, ... (tensor_extras.__all__)
globals().update({name: getattr(_tensor_extras, name) for name in _tensor_extras.__all__})
__all__.extend(_tensor_extras.__all__)
# atleast_1d, tensor_split, rot90, kron, cross, gradient, ... (array_functions.__all__)
globals().update({name: getattr(_array_functions, name) for name in _array_functions.__all__})
__all__.extend(_array_functions.__all__)
# scatter, scatter_add, scatter_reduce, index_add/copy/fill, masked_select/scatter (scattering.py)
globals().update({name: getattr(_scatter, name) for name in _scatter.__all__})
__all__.extend(_scatter.__all__)
__all__ += ["get_default_dtype", "set_default_dtype"]
# inverse, det, logdet, slogdet, pinverse, matrix_power, cholesky(_solve/_inverse) and their
# Tensor methods (linalg_extras.py; mg.linalg holds torch.linalg's names)
_linalg_extras.install()
globals().update(_linalg_extras.TOP_LEVEL)
__all__.extend(_linalg_extras.TOP_LEVEL)

from . import viz  # noqa: E402  (draw graphs and derivations: mg.viz.draw, mg.viz.steps)

__all__ += ["viz"]


def __getattr__(name: str) -> object:
    """``mg.jit`` is imported on first use (Numba takes a while to import)."""
    if name == "jit":
        import importlib

        return importlib.import_module(".jit", __name__)
    raise AttributeError(f"module 'minigrad' has no attribute {name!r}")


__all__ += ["jit"]
