"""Functional forms of the layers (``mg.nn.functional``, like ``torch.nn.functional``)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import _state, ops
from .._state import no_grad
from ..errors import ArgumentError, ArgumentTypeError
from ..fused_bn import batch_norm_fused, channel_shape, reduced_axes
from ..tensor import Tensor
from .activation_functions import (  # noqa: F401  (F.gelu, F.silu, ... live there)
    GELU_APPROXIMATIONS,
    celu,
    elu,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    logsigmoid,
    mish,
    relu6,
    selu,
    silu,
    softplus,
    softsign,
)
from .losses_functional import (  # noqa: F401  (re-exported as F.*)
    cross_entropy,
    log_softmax,
    nll_loss,
    one_hot,
    softmax,
)
from .losses_pointwise import (  # noqa: F401  (re-exported as F.*)
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cosine_similarity,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    normalize,
    smooth_l1_loss,
    soft_margin_loss,
)
from .norms_functional import (  # noqa: F401  (F.layer_norm, ... live there)
    group_norm,
    instance_norm,
    layer_norm,
)
from .sparse import embedding  # noqa: F401  (F.embedding)

IMPLS = ("composed", "fused")

# The seed's step numbers: forward steps 1..6 by node name, backward steps 9..0 by
# gradient name (the seed's own names; dx1 is the sum dxmu1 + dxmu2).
SEED_FORWARD_STEPS = {
    "mu": 1, "xmu": 2, "sq": 3, "var": 3, "sqrtvar": 4, "ivar": 4, "xhat": 5,
    "gammax": 6, "out": 6,
}
SEED_BACKWARD_STEPS = {
    "dbeta": 9, "dgammax": 9, "dout": 9, "dgamma": 8, "dxhat": 8, "divar": 7, "dxmu1": 7,
    "dsqrtvar": 6, "dvar": 5, "dsq": 4, "dxmu2": 3, "dx1": 2, "dxmu": 2, "dmu": 2, "dx2": 1,
    "dx": 0,
}


def relu(x: Tensor) -> Tensor:
    """max(x, 0); gradient 0 at exactly 0 (PyTorch's convention)."""
    return ops.relu(x)


def _named(node: Tensor, name: str) -> Tensor:
    node.name = name
    node.meta["seed_step"] = SEED_FORWARD_STEPS[name]
    return node


def _check_batch_norm_args(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
                           weight: Tensor | None, bias: Tensor | None, training: bool,
                           momentum: float, eps: float, impl: str) -> None:
    if impl not in IMPLS:
        raise ArgumentError(f"batch_norm: impl must be one of {IMPLS}, got {impl!r}")
    if x.ndim < 2:
        raise ArgumentError(f"batch_norm: input needs shape (N, C, ...), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise ArgumentTypeError(f"batch_norm: input must be floating point, got dtype {x.dtype}")
    if eps < 0 or not np.isfinite(eps):
        raise ArgumentError(f"batch_norm: eps must be >= 0 (0 is allowed), got {eps}")
    if not isinstance(momentum, int | float | np.floating | np.integer):
        raise ArgumentTypeError(
            f"batch_norm: momentum must be a number in [0, 1], got {momentum!r} "
            "(momentum=None, the cumulative average, is an option of the BatchNorm modules)"
        )
    if not 0.0 <= momentum <= 1.0:
        raise ArgumentError(f"batch_norm: momentum must lie in [0, 1], got {momentum}")
    channels = x.shape[1]
    for label, vector in (("running_mean", running_mean), ("running_var", running_var),
                          ("weight", weight), ("bias", bias)):
        if vector is not None and vector.shape != (channels,):
            raise ArgumentError(
                f"batch_norm: {label} should contain {channels} elements not "
                f"{vector.numel()} (input shape {x.shape})"
            )
    if training and 0 < x.numel() == channels:  # one value per channel (an empty batch is fine)
        raise ArgumentError(
            "Expected more than 1 value per channel when training, got input size "
            f"{x.shape}"
        )


def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
    impl: str = "composed",
) -> Tensor:
    """Batch Normalization over every axis but the channel axis 1 (PyTorch's semantics).

    Training: ``y = (x - mean) / sqrt(var + eps) * weight + bias`` with the batch mean and
    the biased batch variance; the running statistics (when given) are updated in place as
    ``running = (1 - momentum) * running + momentum * batch_stat``, the variance unbiased
    (times n / (n - 1)). Eval: the running statistics replace the batch ones.

    ``impl="composed"`` builds the seed's steps as named nodes
    (mu, xmu, sq, var, sqrtvar, ivar, xhat, gammax, out), so autodiff derives the seed's
    backward; ``impl="fused"`` builds one ``batch_norm`` node with the closed-form VJP.
    ``eps = 0`` is allowed (the seed's ReLU example needs it).
    """
    _check_batch_norm_args(x, running_mean, running_var, weight, bias, training,
                           momentum, eps, impl)
    if not training and (running_mean is None or running_var is None):
        raise ArgumentError("batch_norm: eval mode needs running_mean and running_var")
    if x.numel() == 0:  # PyTorch: an empty output, statistics untouched, zero gradients
        return _batch_norm_affine(x, weight, bias)
    if not training:
        return _batch_norm_eval(x, running_mean, running_var, weight, bias, eps)
    update = running_mean is not None and running_var is not None
    if impl == "fused":
        out = _batch_norm_fused(x, weight, bias, eps)
        if not update and eps != 0:
            return out  # the batch statistics would be computed for nothing
        with no_grad():
            batch_mean = ops.mean(x, reduced_axes(x.ndim))
            batch_var = ops.var(x, reduced_axes(x.ndim))
    else:
        out, batch_mean, batch_var = _batch_norm_composed(x, weight, bias, eps)
    _warn_zero_variance(batch_var, eps)
    if update:
        _update_running_stats(running_mean, running_var, batch_mean, batch_var,
                              x.numel() // x.shape[1], momentum)
    return out


def _batch_norm_composed(x: Tensor, weight: Tensor | None, bias: Tensor | None,
                         eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """The seed's forward, one named node per step. Returns (out, mu, var)."""
    if x.ndim == 2:
        axes, keep = (0,), False
    else:
        axes, keep = reduced_axes(x.ndim), True
    mu = _named(ops.mean(x, axes, keepdims=keep), "mu")
    xmu = _named(ops.sub(x, mu), "xmu")
    sq = _named(ops.power(xmu, 2), "sq")
    var = _named(ops.mean(sq, axes, keepdims=keep), "var")
    sqrtvar = _named(ops.sqrt(ops.add(var, eps)), "sqrtvar")
    ivar = _named(ops.reciprocal(sqrtvar), "ivar")
    out = _named(ops.mul(xmu, ivar), "xhat")
    if weight is not None:
        out = _named(ops.mul(_per_channel(weight, x), out), "gammax")
    if bias is not None:
        out = _named(ops.add(out, _per_channel(bias, x)), "out")
    return out, mu, var


def _per_channel(vector: Tensor, x: Tensor) -> Tensor:
    if x.ndim == 2:
        return vector
    return ops.reshape(vector, channel_shape(x.ndim, x.shape[1]))


def _batch_norm_fused(x: Tensor, weight: Tensor | None, bias: Tensor | None,
                      eps: float) -> Tensor:
    channels = x.shape[1]
    if weight is None:
        weight = Tensor(np.ones(channels, dtype=x.dtype))
    if bias is None:
        bias = Tensor(np.zeros(channels, dtype=x.dtype))
    return batch_norm_fused(x, weight, bias, eps=eps)


def _batch_norm_affine(x: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    """weight * x + bias per channel (the output of an empty batch, tied to both)."""
    out = x if weight is None else ops.mul(_per_channel(weight, x), x)
    return out if bias is None else ops.add(out, _per_channel(bias, x))


def _batch_norm_eval(x: Tensor, running_mean: Tensor, running_var: Tensor,
                     weight: Tensor | None, bias: Tensor | None, eps: float) -> Tensor:
    """y = (x - running_mean) / sqrt(running_var + eps) * weight + bias."""
    centred = ops.sub(x, _per_channel(running_mean, x))
    inv_std = ops.reciprocal(ops.sqrt(ops.add(_per_channel(running_var, x), eps)))
    out = ops.mul(centred, inv_std)
    if weight is not None:
        out = ops.mul(_per_channel(weight, x), out)
    if bias is not None:
        out = ops.add(out, _per_channel(bias, x))
    return out


def _update_running_stats(running_mean: Tensor, running_var: Tensor, batch_mean: Tensor,
                          batch_var: Tensor, count: int, momentum: float) -> None:
    """running = (1 - momentum) * running + momentum * batch (variance made unbiased)."""
    channels = running_mean.shape
    with no_grad():
        mean_c = ops.reshape(batch_mean, channels)
        var_c = ops.mul(ops.reshape(batch_var, channels), count / (count - 1))
        running_mean.assign_(
            ops.add(ops.mul(running_mean, 1.0 - momentum), ops.mul(mean_c, momentum))
        )
        running_var.assign_(
            ops.add(ops.mul(running_var, 1.0 - momentum), ops.mul(var_c, momentum))
        )


def _warn_zero_variance(batch_var: Tensor, eps: float) -> None:
    if eps == 0:
        flat = np.asarray(batch_var.data).reshape(-1)
        zero = np.flatnonzero(flat == 0)
        if zero.size:
            warnings.warn(
                f"batch_norm: channel(s) {zero.tolist()} have zero variance with eps=0; "
                "their output is NaN (0/0)",
                RuntimeWarning,
                stacklevel=3,
            )


# ==================================================================== activations
# The losses, softmax, log_softmax and one_hot live in losses_functional.py and
# losses_pointwise.py (imported above).
def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + exp(-x))."""
    return ops.sigmoid(x)


def tanh(x: Tensor) -> Tensor:
    """(exp(x) - exp(-x)) / (exp(x) + exp(-x))."""
    return ops.tanh(x)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x @ weight.T + bias (weight has shape (out_features, in_features))."""
    out = ops.matmul(x, ops.transpose(weight, None))
    return out if bias is None else ops.add(out, bias)


def rand_uniform(shape: tuple[int, ...], dtype: Any = np.float64) -> Tensor:
    """Uniform numbers in [0, 1) of ``shape``: ``rng().random(shape, dtype)`` from the
    generator ``mg.manual_seed`` sets, as a leaf tensor (float32 or float64).

    Under ``mg.jit`` the draw is recorded as an input of the compiled function, drawn anew
    (with the same numpy call, in trace order) at every call; other draws from ``rng()``
    while tracing are refused.
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ArgumentTypeError(f"rand_uniform: dtype must be float32 or float64, got {dtype}")
    shape = tuple(int(n) for n in shape)
    if any(n < 0 for n in shape):
        raise ArgumentError(f"rand_uniform: shape must not hold negative sizes, got {shape}")
    recorded = _state.STATE.uniform_recorder
    if recorded is not None:  # mg.jit is tracing in this thread (jit/trace.py)
        return recorded(shape, dtype)
    draw = Tensor._constant(_state.rng().random(shape, dtype=dtype))
    draw.meta["random"] = ("u", "random draw u ~ U[0, 1)")  # its name and note in drawings
    return draw


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (training only).

    out = x * [u >= p] / (1 - p), u ~ U[0, 1) drawn per element by ``rand_uniform`` (float64,
    from ``mg.manual_seed``'s generator). The mask is built with ordinary ops, so under
    ``mg.jit`` the draw is an input drawn anew at every call and the mask arithmetic is
    compiled with the rest: the same seed gives the same masks as eager.
    """
    if not 0.0 <= p <= 1.0:
        raise ArgumentError(f"dropout: p must lie in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if x.dtype.kind != "f":
        raise ArgumentTypeError(f"dropout: input must be floating point, got dtype {x.dtype}")
    if p == 1.0:
        return ops.mul(x, 0.0)
    scale = np.divide(x.dtype.type(1.0), x.dtype.type(1.0 - p))  # 1 / (1 - p) in x's dtype
    keep = ops.cast(ops.greater_equal(rand_uniform(x.shape), p), x.dtype)
    mask = ops.mul(keep, scale)
    if not mask.inputs:  # a draw, not a recorded op: drawn as the random mask it is
        mask.meta["random"] = ("mask", f"random dropout mask [u >= {p}] / (1 - {p})")
    return ops.mul(x, mask)


# Convolution and pooling (minigrad/conv.py, minigrad/pool.py), under PyTorch's names.
from ..blocks import fold, pixel_shuffle, pixel_unshuffle, unfold  # noqa: E402, F401
from ..conv import conv1d, conv2d  # noqa: E402, F401
from ..conv_nd import (  # noqa: E402, F401
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
)
from ..grid_sample import affine_grid, grid_sample  # noqa: E402, F401
from ..interpolate import (  # noqa: E402, F401
    interpolate,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)
from ..pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d  # noqa: E402, F401
from ..pool_nd import (  # noqa: E402, F401
    adaptive_avg_pool1d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
    avg_pool1d,
    avg_pool3d,
    lp_pool1d,
    lp_pool2d,
    lp_pool3d,
    max_pool1d,
    max_pool3d,
    max_unpool1d,
    max_unpool2d,
    max_unpool3d,
)
from ..shape_ops import pad  # noqa: E402, F401  (F.pad: constant, reflect, replicate, circular)
from .attention import scaled_dot_product_attention  # noqa: E402, F401
