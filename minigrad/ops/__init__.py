# ruff: noqa: I001
"""The primitives: one row per op in ``OPS``, each defined in one place.

The table's parts, split along jobs:

* ``core``        - the ``Op`` row, ``OPS``, ``register``, ``apply``, shape and axis rules,
                    ``unbroadcast``;
* ``rows``        - the factories: an elementwise op is one ``unary``/``binary`` call (its
                    row, its wrapper function and its Tensor method);
* ``elementwise``, ``compare``, ``reductions``, ``movement``, ``linalg``, ``indexing``,
  ``logical``, ``unary_math``, ``binary_math`` - the rows and their wrapper functions;
* ``composite``   - functions of rows (clamp);
* ``extrema``     - PyTorch's max/min (values and indices), amax/amin, argmax/argmin;
* ``scans``       - the cumsum row, cumprod; ``aggregates`` - prod, logsumexp, norm, any/all;
* ``sorting``     - the argsort row, sort, topk; ``order_stats``: kthvalue, median,
                    nanmedian (``dims``: what these share);
* ``matrix_rows``, ``spectral_rows``, ``eig_rows`` - mg.linalg's rows (inv, det, solve,
                    cholesky; eigh, svd, pinv; numpy's eig of real eigenvalues);
* ``checks``      - ``require_range``: a value check the compiled code repeats;
* ``gradtext``    - the drawn gradient text evaluated with numpy (for the tests).

Every public name of these modules is re-exported here (``from minigrad.ops import exp``,
``ops.OPS``, ``ops.apply``); the fused BatchNorm rows live in minigrad/fused_bn.py.
"""

# Order matters: it is the order of the table (arithmetic, comparisons, reductions,
# movement, matmul, indexing, then the later rows), which the fuzzer draws from.
from .core import *  # noqa: F403
from .rows import *  # noqa: F403
from .elementwise import *  # noqa: F403
from .compare import *  # noqa: F403
from .reductions import *  # noqa: F403
from .movement import *  # noqa: F403
from .linalg import *  # noqa: F403
from .indexing import *  # noqa: F403
from .logical import *  # noqa: F403
from .unary_math import *  # noqa: F403
from .binary_math import *  # noqa: F403
from .composite import *  # noqa: F403
from .extrema import *  # noqa: F403  (not max/min: ops.max is the reduction row)
from .scans import *  # noqa: F403
from .aggregates import *  # noqa: F403
from .sorting import *  # noqa: F403
from .order_stats import *  # noqa: F403
from .matrix_rows import *  # noqa: F403
from .spectral_rows import *  # noqa: F403
from .eig_rows import *  # noqa: F403
from .checks import *  # noqa: F403

# Private helpers other modules of the project may use.
from .core import _as_input as _as_input
from .core import _as_inputs as _as_inputs
from .core import _const as _const
from .core import _elementwise_shape as _elementwise_shape
from .core import _float_dtype_of as _float_dtype_of
from .core import _normalize_axes as _normalize_axes
from .core import _reduced_shape as _reduced_shape
from .core import _same_shape as _same_shape
from .indexing import _freeze_key as _freeze_key
from .indexing import _gather_forward as _gather_forward
from .indexing import _mixes_ints_and_arrays as _mixes_ints_and_arrays
from .movement import _resolve_reshape as _resolve_reshape
from .reductions import _count as _count
from .reductions import _expand_reduced as _expand_reduced
from .rows import _reduction_shape as _reduction_shape
