"""The bad-input matrix: every wrong input gets a specific exception whose message names
the offending shapes or values; a few odd-but-valid operands (numpy scalars and arrays,
integer indices) work. Empty, non-contiguous, read-only and byte-swapped arrays and a
second backward: tests/test_odd_inputs.py.

Each row of a table below is one bad input; ``BAD_INPUTS_TRIED`` counts them all.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import fused_bn, ops
from minigrad.nn import functional as F


def _t(*shape: int, dtype: str = "float64", requires_grad: bool = False) -> mg.Tensor:
    size = int(np.prod(shape)) if shape else 1
    data = np.linspace(-1.0, 1.0, size).reshape(shape)
    return mg.tensor(data, dtype=dtype, requires_grad=requires_grad)


def _shapes(*shapes: tuple[int, ...]) -> str:
    """A regex matching the shapes listed in order, anywhere in a message."""
    return ".*".join(re.escape(str(tuple(s))) for s in shapes)


# ----------------------------------------------------------------------- the matrix
# (id, callable, exception type, regex the message must match)
SHAPE_CASES = [
    # broadcasting: both shapes named
    ("add-broadcast", lambda: _t(2, 3) + _t(4, 3), ValueError,
     r"add: shapes \(2, 3\) and \(4, 3\) cannot be broadcast"),
    ("sub-broadcast", lambda: _t(2, 3) - _t(3, 2), ValueError,
     r"sub: shapes \(2, 3\) and \(3, 2\)"),
    ("mul-broadcast", lambda: _t(5) * _t(4), ValueError, r"mul: shapes \(5,\) and \(4,\)"),
    ("div-broadcast", lambda: _t(2, 1, 3) / _t(4, 2), ValueError,
     r"div: shapes \(2, 1, 3\) and \(4, 2\)"),
    ("maximum-broadcast", lambda: mg.maximum(_t(3), _t(2)), ValueError,
     r"maximum: shapes \(3,\) and \(2,\)"),
    ("where-broadcast", lambda: mg.where(_t(2) > 0, _t(2, 3), _t(4, 3)), ValueError,
     r"where: shapes \(2,\) and \(2, 3\) and \(4, 3\)"),
    ("compare-broadcast", lambda: _t(2, 3) < _t(2), ValueError,
     r"less: shapes \(2, 3\) and \(2,\)"),
    ("broadcast_to", lambda: _t(2, 3).broadcast_to((3, 3)), ValueError,
     r"broadcast_to: .*\(2, 3\) and \(3, 3\)"),
    ("broadcast_to-fewer-dims", lambda: _t(2, 3).broadcast_to((3,)), ValueError,
     r"broadcast_to: .*\(2, 3\).*\(3,\)"),
    ("rmul-numpy-broadcast", lambda: np.ones((4, 2)) * _t(3), ValueError,
     r"mul: shapes \(4, 2\) and \(3,\)"),
    # matmul: both shapes and the two inner sizes
    ("matmul-inner", lambda: _t(2, 3) @ _t(4, 3), ValueError,
     r"matmul: inner dimensions differ: \(2, 3\) @ \(4, 3\) \(3 != 4\)"),
    ("matmul-vector", lambda: _t(3) @ _t(4), ValueError,
     r"matmul: inner dimensions differ: \(3,\) @ \(4,\)"),
    ("matmul-matrix-vector", lambda: _t(2, 3) @ _t(2), ValueError,
     r"\(2, 3\) @ \(2,\) \(3 != 2\)"),
    ("matmul-0d", lambda: mg.matmul(_t(), _t(3)), ValueError,
     r"matmul: both operands need at least 1 dimension, got \(\) @ \(3,\)"),
    ("matmul-batch", lambda: _t(2, 3, 4) @ _t(5, 4, 2), ValueError,
     r"matmul \(batch axes\): shapes \(2,\) and \(5,\)"),
    # reductions: the axis and the rank
    ("sum-axis", lambda: _t(2, 3).sum(axis=2), ValueError,
     r"sum: axis 2 is out of range for a tensor with 2 dimensions"),
    ("sum-negative-axis", lambda: _t(2, 3).sum(axis=-3), ValueError,
     r"sum: axis -3 is out of range for a tensor with 2 dimensions"),
    ("mean-axis", lambda: _t(4).mean(axis=1), ValueError,
     r"mean: axis 1 is out of range for a tensor with 1 dimensions"),
    ("max-axis", lambda: _t(2, 3).amax(axis=(0, 5)), IndexError,
     r"amax: dim 5 is out of range for a tensor of shape \(2, 3\)"),
    ("var-axis", lambda: _t(2, 3).var(axis=3), ValueError, r"var: axis 3 is out of range"),
    ("sum-0d-axis", lambda: _t().sum(axis=1), ValueError,
     r"sum: axis 1 is out of range for a tensor with 0 dimensions"),
    ("sum-repeated-axis", lambda: _t(2, 3).sum(axis=(0, -2)), ValueError,
     r"sum: repeated axis in \(0, -2\)"),
    # movement
    ("reshape-size", lambda: _t(2, 3).reshape(4, 2), ValueError,
     r"reshape: cannot reshape a tensor of shape \(2, 3\) to \(4, 2\)"),
    ("reshape-two-unknown", lambda: _t(2, 3).reshape(-1, -1), ValueError,
     r"reshape: only one dimension can be -1, got \(-1, -1\)"),
    ("reshape-unknown-indivisible", lambda: _t(2, 3).view(-1, 4), ValueError,
     r"cannot reshape a tensor of shape \(2, 3\) to \(-1, 4\)"),
    ("transpose-not-permutation", lambda: mg.transpose(_t(2, 3), (0, 0)), ValueError,
     r"transpose: axes \(0, 0\) are not a permutation for shape \(2, 3\)"),
    ("transpose-axis-range", lambda: mg.transpose(_t(2, 3), (0, 5)), ValueError,
     r"transpose: axis 5 is out of range for shape \(2, 3\)"),
    ("transpose-swap-range", lambda: _t(2, 3, 4).transpose(0, 7), ValueError,
     r"transpose: axis 7 is out of range for shape \(2, 3, 4\)"),
    # indexing
    ("index-range", lambda: _t(2, 3)[5], IndexError,
     r"index 5 is out of bounds for axis 0 with size 2 \(tensor shape \(2, 3\)\)"),
    ("index-float", lambda: _t(2, 3)[1.5], TypeError, r"unsupported index 1\.5"),
    ("index-float-array", lambda: _t(4)[np.array([0.5])], TypeError,
     r"index arrays must hold integers or booleans, got float64"),
    ("gather-range", lambda: mg.gather(_t(2, 3), mg.tensor([[5], [0]]), 1), IndexError,
     r"gather: index 5 is out of range for axis 1 of size 3"),
    ("gather-negative-range", lambda: mg.gather(_t(2, 3), mg.tensor([[-4], [0]]), 1),
     IndexError, r"gather: index -4 is out of range for axis 1 of size 3"),
    ("gather-float-index", lambda: mg.gather(_t(2, 3), mg.tensor([[0.5], [1.0]]), 1),
     TypeError, r"gather: indices must be integers, got dtype float32"),
    ("gather-ndim", lambda: mg.gather(_t(2, 3), mg.tensor([0, 1]), 1), ValueError,
     r"gather: index of shape \(2,\) needs as many dimensions as the input \(2, 3\)"),
    # tensor methods
    ("item-many", lambda: _t(3).item(), ValueError,
     r"item\(\) needs a tensor with one element, got shape \(3,\)"),
    ("float-many", lambda: float(_t(2, 2)), ValueError, r"got shape \(2, 2\)"),
    ("len-0d", lambda: len(_t()), TypeError, r"len\(\) of a 0-d tensor"),
    ("assign-shape", lambda: _t(3).assign_(np.ones(4)), ValueError,
     r"assign_: value of shape \(4,\) does not fit tensor of shape \(3,\)"),
]

def _no_grad_sum() -> mg.Tensor:
    x = _t(3, requires_grad=True)
    with mg.no_grad():
        return (x * 2).sum()


def _unused_grad() -> tuple:
    a, b = _t(3, requires_grad=True), _t(3, requires_grad=True)
    return mg.grad((a * a).sum(), [a, b])


GRAD_CASES = [
    ("int-requires-grad", lambda: mg.tensor([1, 2], requires_grad=True), TypeError,
     r"only floating-point tensors can require grad, got dtype int64"),
    ("int32-requires-grad", lambda: mg.tensor([1, 2], dtype="int32", requires_grad=True),
     TypeError, r"got dtype int32"),
    ("bool-requires-grad", lambda: mg.tensor([True], requires_grad=True), TypeError,
     r"got dtype bool"),
    ("int-requires-grad_", lambda: mg.tensor([1, 2]).requires_grad_(), TypeError,
     r"only floating-point tensors can require grad, got dtype int64"),
    ("int-parameter", lambda: mg.nn.Parameter(np.arange(3)), TypeError,
     r"only floating-point tensors can require grad, got dtype int64"),
    ("requires_grad_-non-leaf", lambda: (_t(3, requires_grad=True) * 2).requires_grad_(False),
     RuntimeError, r"requires_grad_ can only be changed on leaf tensors"),
    ("backward-non-scalar", lambda: (_t(3, requires_grad=True) * 2).backward(),  # noqa: PLW0108
     RuntimeError,
     r"grad can be implicitly created only for scalar outputs: the output has shape \(3,\)"),
    ("backward-non-scalar-2d", lambda: (_t(2, 2, requires_grad=True) + 1).backward(),  # noqa: PLW0108
     RuntimeError, r"scalar outputs: the output has shape \(2, 2\)"),
    ("backward-grad-shape", lambda: (_t(3, requires_grad=True) * 2).backward(np.ones(2)),
     ValueError, r"gradient of shape \(2,\) does not match the output's shape \(3,\)"),
    ("backward-no-grad", lambda: _t(3).sum().backward(), RuntimeError,
     r"backward: the tensor does not require grad"),
    ("backward-under-no_grad", lambda: _no_grad_sum().backward(), RuntimeError,
     r"computed under no_grad"),
    ("grad-input-no-grad", lambda: mg.grad(_t(3, requires_grad=True).sum(), _t(3)),
     RuntimeError, r"grad: input 0 does not require grad"),
    ("grad-unused", _unused_grad, RuntimeError,
     r"grad: input 1 was not used to compute the outputs \(pass allow_unused=True"),
    ("grad-no-output", lambda: mg.grad(_t(3).sum(), [_t(3, requires_grad=True)]),
     RuntimeError, r"grad: no output requires grad"),
    ("gradcheck-order", lambda: mg.gradcheck(lambda a: a * a, [np.ones(2)], order=3),
     ValueError, r"gradcheck: order must be 1 or 2, got 3"),
]


def _bn1d(**kwargs) -> mg.nn.BatchNorm1d:
    return mg.nn.BatchNorm1d(3, dtype="float64", **kwargs)


def _running() -> tuple[mg.Tensor, mg.Tensor]:
    return mg.tensor(np.zeros(3)), mg.tensor(np.ones(3))


BN_CASES = [
    # wrong feature count: both numbers
    ("bn1d-features", lambda: _bn1d()(_t(4, 5)), ValueError,
     r"BatchNorm1d\(3\): input has 5 channels \(shape \(4, 5\)\), expected 3"),
    ("bn1d-features-3d", lambda: _bn1d()(_t(4, 2, 7)), ValueError,
     r"input has 2 channels \(shape \(4, 2, 7\)\), expected 3"),
    ("bn2d-features", lambda: mg.nn.BatchNorm2d(3, dtype="float64")(_t(2, 4, 2, 2)),
     ValueError, r"BatchNorm2d\(3\): input has 4 channels"),
    ("F-running-mean-size", lambda: F.batch_norm(_t(4, 3), mg.tensor(np.zeros(2)),
                                                 mg.tensor(np.ones(3)), training=True),
     ValueError, r"running_mean should contain 3 elements not 2 \(input shape \(4, 3\)\)"),
    ("F-running-var-size", lambda: F.batch_norm(_t(4, 3), mg.tensor(np.zeros(3)),
                                                mg.tensor(np.ones(5)), training=True),
     ValueError, r"running_var should contain 3 elements not 5"),
    ("F-weight-size", lambda: F.batch_norm(_t(4, 3), None, None, weight=_t(4),
                                           training=True),
     ValueError, r"weight should contain 3 elements not 4"),
    ("F-bias-size", lambda: F.batch_norm(_t(4, 3), None, None, bias=_t(2, 3), training=True),
     ValueError, r"bias should contain 3 elements not 6"),
    # momentum and eps
    ("bn-momentum-high", lambda: _bn1d(momentum=1.5), ValueError,
     r"momentum must lie in \[0, 1\] or be None, got 1\.5"),
    ("bn-momentum-negative", lambda: _bn1d(momentum=-0.1), ValueError,
     r"momentum must lie in \[0, 1\] or be None, got -0\.1"),
    ("bn-momentum-nan", lambda: _bn1d(momentum=float("nan")), ValueError,
     r"momentum must lie in \[0, 1\] or be None, got nan"),
    ("F-momentum-high", lambda: F.batch_norm(_t(4, 3), *_running(), training=True,
                                             momentum=2.0),
     ValueError, r"batch_norm: momentum must lie in \[0, 1\], got 2\.0"),
    ("bn-eps-negative", lambda: _bn1d(eps=-1e-5), ValueError,
     r"eps must be >= 0 \(0 is allowed\), got -1e-05"),
    ("bn-eps-nan", lambda: _bn1d(eps=float("nan")), ValueError,
     r"eps must be >= 0 \(0 is allowed\), got nan"),
    ("bn-eps-inf", lambda: _bn1d(eps=float("inf")), ValueError,
     r"eps must be >= 0 \(0 is allowed\), got inf"),
    ("F-eps-negative", lambda: F.batch_norm(_t(4, 3), None, None, training=True, eps=-0.1),
     ValueError, r"batch_norm: eps must be >= 0 \(0 is allowed\), got -0\.1"),
    ("F-eps-nan", lambda: F.batch_norm(_t(4, 3), None, None, training=True,
                                       eps=float("nan")),
     ValueError, r"batch_norm: eps must be >= 0 \(0 is allowed\), got nan"),
    ("F-eps-inf", lambda: F.batch_norm(_t(4, 3), None, None, training=True,
                                       eps=float("inf")),
     ValueError, r"eps must be >= 0 \(0 is allowed\), got inf"),
    ("bn-num-features", lambda: mg.nn.BatchNorm1d(0), ValueError,
     r"num_features must be >= 1, got 0"),
    ("bn-impl", lambda: _bn1d(impl="cudnn"), ValueError,
     r"impl must be one of \('composed', 'fused'\), got 'cudnn'"),
    ("F-impl", lambda: F.batch_norm(_t(4, 3), None, None, training=True, impl="x"),
     ValueError, r"batch_norm: impl must be one of"),
    # one value per channel in training: PyTorch's words
    ("bn1d-one-sample", lambda: _bn1d()(_t(1, 3)), ValueError,
     r"Expected more than 1 value per channel when training, got input size \(1, 3\)"),
    ("bn1d-one-sample-3d", lambda: _bn1d()(_t(1, 3, 1)), ValueError,
     r"Expected more than 1 value per channel when training, got input size \(1, 3, 1\)"),
    ("bn2d-one-pixel", lambda: mg.nn.BatchNorm2d(3, dtype="float64")(_t(1, 3, 1, 1)),
     ValueError, r"Expected more than 1 value per channel when training, got input size "
                 r"\(1, 3, 1, 1\)"),
    ("F-one-sample", lambda: F.batch_norm(_t(1, 3), None, None, training=True), ValueError,
     r"Expected more than 1 value per channel when training, got input size \(1, 3\)"),
    ("bn1d-one-sample-fused", lambda: _bn1d(impl="fused")(_t(1, 3)), ValueError,
     r"Expected more than 1 value per channel when training"),
    # wrong ndim
    ("bn1d-1d", lambda: _bn1d()(_t(3)), ValueError,
     r"BatchNorm1d: expected 2D or 3D input \(got 1D input\)"),
    ("bn1d-4d", lambda: _bn1d()(_t(2, 3, 2, 2)), ValueError,
     r"BatchNorm1d: expected 2D or 3D input \(got 4D input\)"),
    ("bn2d-3d", lambda: mg.nn.BatchNorm2d(3, dtype="float64")(_t(2, 3, 4)), ValueError,
     r"BatchNorm2d: expected 4D input \(got 3D input\)"),
    ("F-1d", lambda: F.batch_norm(_t(3), None, None, training=True), ValueError,
     r"batch_norm: input needs shape \(N, C, \.\.\.\), got shape \(3,\)"),
    # dtype, emptiness, eval without statistics
    ("bn-dtype", lambda: mg.nn.BatchNorm1d(3)(_t(4, 3)), TypeError,
     r"BatchNorm1d: input dtype float64 differs from the layer's float32"),
    ("F-int-input", lambda: F.batch_norm(mg.tensor(np.ones((4, 3), int)), None, None,
                                         training=True),
     TypeError, r"batch_norm: input must be floating point, got dtype int64"),
    ("F-eval-no-stats", lambda: F.batch_norm(_t(4, 3), None, None, training=False),
     ValueError, r"batch_norm: eval mode needs running_mean and running_var"),
    ("fused-param-shape", lambda: fused_bn.batch_norm_fused(_t(4, 3), _t(2), _t(3),
                                                              eps=1e-5),
     ValueError, r"batch_norm: per-channel parameter of shape \(2,\) does not fit 3 channels"),
]

DTYPE_CASES = [
    ("complex-data", lambda: mg.tensor([1 + 2j]), TypeError,
     r"unsupported data of dtype complex128.*complex, object and string data are refused"),
    ("complex-array", lambda: mg.tensor(np.ones(3, np.complex64)), TypeError,
     r"unsupported data of dtype complex64"),
    ("complex-dtype", lambda: mg.tensor(np.ones(3), dtype="complex64"), TypeError,
     r"unsupported dtype complex64: minigrad holds float, integer and bool tensors"),
    ("object-array", lambda: mg.tensor(np.array([object(), 1], dtype=object)), TypeError,
     r"unsupported data of dtype object"),
    ("object-ragged", lambda: mg.tensor(np.array([[1.0], [1.0, 2.0]], dtype=object)),
     TypeError, r"unsupported data of dtype object"),
    ("object-dtype", lambda: mg.tensor([1.0], dtype=object), TypeError,
     r"unsupported dtype object"),
    ("strings", lambda: mg.tensor(["a", "b"]), TypeError, r"unsupported data of dtype <U1"),
    ("bytes", lambda: mg.tensor(np.array([b"ab"])), TypeError, r"unsupported data of dtype \|S2"),
    ("datetime", lambda: mg.tensor(np.array(["2020-01-01"], dtype="datetime64[D]")),
     TypeError, r"unsupported data of dtype datetime64\[D\]"),
    ("unknown-dtype-name", lambda: mg.tensor([1.0], dtype="floaty"), TypeError,
     r"unknown dtype 'floaty'"),
    ("cast-complex", lambda: mg.cast(_t(3), "complex128"), TypeError,
     r"unsupported dtype complex128"),
    ("add-string", lambda: _t(2) + "a", TypeError, r"unsupported data of dtype <U1"),
    ("add-complex", lambda: _t(2) + 1j, TypeError, r"unsupported data of dtype complex128"),
    ("add-none", lambda: _t(2) + None, TypeError, r"unsupported data of dtype object"),
    ("bn-complex-dtype", lambda: mg.nn.BatchNorm1d(3, dtype="complex128"), TypeError,
     r"unsupported dtype complex128"),
]

EMPTY_CASES = [
    ("mean-empty", lambda: _t(0, 3).mean(), ValueError,
     r"mean: cannot average over empty axes \(0, 1\) of shape \(0, 3\)"),
    ("mean-empty-axis", lambda: _t(0, 3).mean(axis=0), ValueError,
     r"mean: cannot average over empty axes \(0,\) of shape \(0, 3\)"),
    ("max-empty", lambda: _t(0).max(), ValueError,
     r"max: cannot take the max over empty axes \(0,\) of shape \(0,\)"),
    ("var-empty", lambda: _t(3, 0).var(axis=1), ValueError,
     r"mean: cannot average over empty axes \(1,\) of shape \(3, 0\)"),
    ("item-empty", lambda: _t(0).item(), ValueError,
     r"item\(\) needs a tensor with one element, got shape \(0,\)"),
]

STATE_DICT_CASES = [
    # the missing keys in state_dict order, as PyTorch lists them
    ("state-dict-missing", lambda: _bn1d().load_state_dict({"weight": np.ones(3)}), KeyError,
     r"missing keys \['bias', 'running_mean', 'running_var', 'num_batches_tracked'\]"),
    ("state-dict-unexpected", lambda: _bn1d().load_state_dict(
        {**_bn1d().state_dict(), "gamma": np.ones(3)}), KeyError,
     r"unexpected keys \['gamma'\]"),
    ("state-dict-shape", lambda: _bn1d().load_state_dict(
        {**_bn1d().state_dict(), "running_var": np.ones(4)}), ValueError,
     r"load_state_dict: running_var has shape \(4,\) in the state dict but \(3,\) in the "
     r"module"),
]


def _logits() -> mg.Tensor:
    return _t(2, 3, requires_grad=True)


LOSS_CASES = [] if not hasattr(F, "cross_entropy") else [
    ("ce-target-high", lambda: F.cross_entropy(_logits(), np.array([0, 3])), IndexError,
     r"cross_entropy: target 3 at position 1 is out of range for 3 classes \(valid: 0\.\.2\)"),
    ("ce-target-negative", lambda: F.cross_entropy(_logits(), np.array([-1, 0])), IndexError,
     r"cross_entropy: target -1 at position 0 is out of range for 3 classes"),
    ("ce-target-huge", lambda: F.cross_entropy(_logits(), np.array([0, 2**40])), IndexError,
     r"target 1099511627776 at position 1 is out of range"),
    ("ce-target-float", lambda: F.cross_entropy(_logits(), np.array([0.0, 1.0])), TypeError,
     r"cross_entropy: targets must be integer class indices, got dtype float64"),
    ("ce-target-bool", lambda: F.cross_entropy(_logits(), np.array([True, False])), TypeError,
     r"targets must be integer class indices, got dtype bool"),
    ("ce-target-shape", lambda: F.cross_entropy(_logits(), np.array([0, 1, 2])), ValueError,
     r"cross_entropy: targets of shape \(3,\) do not match logits of shape \(2, 3\) "
     r"\(expected \(2,\)\)"),
    ("ce-target-column", lambda: mg.nn.CrossEntropyLoss()(_logits(), [[0], [1]]), ValueError,
     r"targets of shape \(2, 1\) do not match logits of shape \(2, 3\)"),
    ("ce-logits-1d", lambda: F.cross_entropy(_t(3), np.array([0])), ValueError,
     r"cross_entropy: logits must have shape \(N, C\), got \(3,\)"),
    ("ce-reduction", lambda: F.cross_entropy(_logits(), np.array([0, 1]), reduction="avg"),
     ValueError, r"reduction must be one of \('mean', 'sum', 'none'\), got 'avg'"),
    ("ce-empty-batch", lambda: F.cross_entropy(_t(0, 3), np.zeros(0, int)), ValueError,
     r"mean: cannot average over empty axes \(0,\) of shape \(0,\)"),
    ("mse-shape", lambda: F.mse_loss(_t(2, 3), np.zeros(3)), ValueError,
     r"mse_loss: prediction shape \(2, 3\) differs from target shape \(3,\)"),
    ("bce-shape", lambda: F.binary_cross_entropy_with_logits(_t(2, 3), np.zeros((3, 2))),
     ValueError, r"logits shape \(2, 3\) differs from target shape \(3, 2\)"),
]

LAYER_CASES = [] if not hasattr(mg.nn, "Linear") else [
    ("linear-features", lambda: mg.nn.Linear(3, 2)(_t(4, 5, dtype="float32")), ValueError,
     r"Linear\(3, 2\): input has 5 features \(shape \(4, 5\)\), expected 3"),
    ("linear-zero", lambda: mg.nn.Linear(0, 2), ValueError,
     r"Linear: in_features and out_features must be >= 1, got 0 and 2"),
    ("dropout-p", lambda: F.dropout(_t(2, 3), p=1.5), ValueError,
     r"dropout: p must lie in \[0, 1\], got 1\.5"),
    ("layer-norm-shape", lambda: F.layer_norm(_t(2, 3), (4,)), ValueError,
     r"layer_norm: input shape \(2, 3\) does not end with normalized_shape \(4,\)"),
]

SAVE_CASES = [] if not hasattr(mg, "save") else [
    ("save-object", lambda: mg.save({"w": np.array([object()])}, "/nonexistent/x.npz"),
     TypeError, r"save: entry 'w' has dtype object; only float, integer and bool arrays"),
    ("save-key", lambda: mg.save({1: np.ones(2)}, "/nonexistent/x.npz"), TypeError,
     r"save: keys must be strings, got 1"),
    ("save-not-mapping", lambda: mg.save([np.ones(2)], "/nonexistent/x.npz"), TypeError,
     r"save: expected a mapping of names to tensors, got <class 'list'>"),
]

MATRIX = (SHAPE_CASES + GRAD_CASES + BN_CASES + DTYPE_CASES + EMPTY_CASES
          + STATE_DICT_CASES + LOSS_CASES + LAYER_CASES + SAVE_CASES)
BAD_INPUTS_TRIED = len(MATRIX)


@pytest.mark.parametrize(("fn", "error", "pattern"),
                         [pytest.param(fn, err, pat, id=name) for name, fn, err, pat in MATRIX])
def test_bad_input_is_refused_clearly(fn, error, pattern) -> None:
    with pytest.raises(error, match=pattern):
        fn()


def test_matrix_ids_are_unique() -> None:
    ids = [case[0] for case in MATRIX]
    assert len(ids) == len(set(ids)) and BAD_INPUTS_TRIED >= 100


def test_failed_load_state_dict_changes_nothing() -> None:
    layer = _bn1d()
    before = {k: v.numpy().copy() for k, v in layer.state_dict().items()}
    bad = {k: np.full(v.shape, 7.0) for k, v in before.items()}
    bad["running_var"] = np.ones(4)
    with pytest.raises(ValueError, match=r"running_var has shape \(4,\)"):
        layer.load_state_dict(bad)
    for key, value in layer.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key], err_msg=key)


def test_module_without_super_init() -> None:
    class Broken(mg.nn.Module):
        def __init__(self) -> None:
            self.w = mg.nn.Parameter(np.ones(2))

    with pytest.raises(AttributeError, match=r"Broken: call super\(\).__init__\(\)"):
        Broken()


def test_module_without_forward() -> None:
    class Empty(mg.nn.Module):
        pass

    with pytest.raises(NotImplementedError, match=r"Empty does not define forward"):
        Empty()(_t(2))


def test_zero_variance_channel_with_eps_zero_warns_naming_it() -> None:
    x = np.random.default_rng(0).standard_normal((4, 3))
    x[:, 1] = 2.5  # channel 1 is constant
    for impl in ("composed", "fused"):
        layer = mg.nn.BatchNorm1d(3, eps=0.0, dtype="float64", impl=impl)
        with pytest.warns(RuntimeWarning, match=r"channel\(s\) \[1\] have zero variance"):
            out = layer(mg.tensor(x))
        # the other channels are normalised exactly; channel 1 is 0/0 = NaN, as warned
        assert np.isnan(out.numpy()[:, 1]).all()
        assert np.isfinite(out.numpy()[:, [0, 2]]).all()


def test_eps_zero_with_variance_does_not_warn() -> None:
    x = mg.tensor(np.random.default_rng(1).standard_normal((4, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = mg.nn.BatchNorm1d(3, eps=0.0, dtype="float64")(x)
    np.testing.assert_allclose(out.numpy().mean(axis=0), 0.0, atol=1e-12)


def test_functional_momentum_none_is_a_clear_type_error() -> None:
    # torch.nn.functional.batch_norm refuses momentum=None too (TypeError); the cumulative
    # average (momentum=None) belongs to the BatchNorm modules.
    pattern = r"batch_norm: momentum must be a number in \[0, 1\], got None"
    with pytest.raises(TypeError, match=pattern):
        F.batch_norm(_t(4, 3), *_running(), training=True, momentum=None)


def test_eval_accepts_a_single_sample() -> None:
    layer = _bn1d()
    layer.eval()
    out = layer(mg.tensor(np.array([[1.0, 2.0, 3.0]])))
    np.testing.assert_allclose(out.numpy(), [[1.0, 2.0, 3.0]] / np.sqrt(1 + 1e-5))


def test_numpy_scalar_and_array_operands_mix_with_tensors() -> None:
    x = _t(2, 3)
    np.testing.assert_allclose((x * np.float64(2)).numpy(), x.numpy() * 2)
    np.testing.assert_allclose((np.arange(3.0) + x).numpy(), np.arange(3.0) + x.numpy())
    assert isinstance(np.arange(3.0) + x, mg.Tensor)


def test_float_index_on_gather_names_dtype_and_integer_index_works() -> None:
    x = _t(2, 3, requires_grad=True)
    picked = mg.gather(x, mg.tensor([[2], [0]]), 1)
    np.testing.assert_array_equal(picked.numpy()[:, 0], x.numpy()[[0, 1], [2, 0]])


def test_op_table_shape_rules_reject_bad_shapes_directly() -> None:
    """The shape rules themselves (used by the JIT tracer too) raise the same errors."""
    with pytest.raises(ValueError, match=r"add: shapes \(2,\) and \(3,\)"):
        mg.OPS["add"].shape((2,), (3,))
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(2, 3\) \(3 != 2\)"):
        mg.OPS["matmul"].shape((2, 3), (2, 3))
    with pytest.raises(ValueError, match=r"sum: axis 4 is out of range for shape \(2, 3\)"):
        mg.OPS["sum"].shape((2, 3), axes=(4,), keepdims=False)
    with pytest.raises(ValueError, match=r"batch_norm_dx: gradient shape \(2, 3\) differs"):
        mg.OPS["batch_norm_dx"].shape((2, 3), (4, 3), (3,), axes=(0,), eps=1e-5)
    with pytest.raises(ValueError, match=r"op 'add' is already registered"):
        ops.register(mg.OPS["add"])
