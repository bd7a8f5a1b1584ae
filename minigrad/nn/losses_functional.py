"""The losses of ``mg.nn.functional`` (PyTorch 2.13's names, keywords and values),
with ``softmax``, ``log_softmax`` and ``one_hot``.

Every loss is composed from minigrad ops, so its gradients (to any order), drawings and
``mg.jit`` come from the op rows. Integer targets stay ordinary inputs: the ignore_index
mask and the picked class weights are ops on the targets (``not_equal``, ``where``,
``gather``), never values read in Python, so a compiled step follows the targets of each
call. A target out of range is refused eagerly with its value and position, and by the
``require_range`` check row in every compiled call.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import ops
from .._state import no_grad
from ..errors import ArgumentError, ArgumentTypeError, OutOfRangeError
from ..tensor import Tensor, read_values

REDUCTIONS = ("mean", "sum", "none")


# ============================================================== softmax, log_softmax
def _softmax_dim(name: str, x: Tensor, dim: int | None) -> int:
    """``dim`` checked against x's shape; None is PyTorch's implicit choice (0 for 0-, 1-
    and 3-d inputs, else 1) with PyTorch's warning."""
    if dim is None:
        dim = 0 if x.ndim in (0, 1, 3) else 1
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                      f"call to include dim={dim} as an argument.", UserWarning, stacklevel=3)
    span = max(x.ndim, 1)
    if not isinstance(dim, int | np.integer) or not -span <= dim < span:
        raise OutOfRangeError(f"{name}: dim {dim!r} is out of range for a tensor of shape "
                              f"{x.shape} (valid: {-span}..{span - 1})")
    return int(dim) % span


def _as_float(name: str, x: Tensor, dtype: Any) -> Tensor:
    if dtype is not None:
        x = ops.cast(x, dtype)
    if x.dtype.kind != "f":
        raise ArgumentTypeError(f"{name}: input must be floating point, got dtype {x.dtype} "
                                "(pass dtype= to convert it)")
    return x


def _shifted(x: Tensor, dim: int) -> Tensor:
    """x - max(x, dim): the max is a constant for the gradient (the shift cancels out)."""
    with no_grad():
        peak = ops.max(x, dim, keepdims=True)
    return ops.sub(x, peak)


def log_softmax(x: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """log softmax(x) = (x - m) - log(sum(exp(x - m), dim)) with m = max(x, dim); stable
    for any x. A 0-d input is one class (result 0)."""
    dim = _softmax_dim("log_softmax", x, dim)
    x = _as_float("log_softmax", x, dtype)
    if x.ndim == 0:
        return ops.reshape(log_softmax(ops.reshape(x, (1,)), 0), ())
    shifted = _shifted(x, dim)
    return ops.sub(shifted, ops.log(ops.sum(ops.exp(shifted), dim, keepdims=True)))


def softmax(x: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """exp(x - m) / sum(exp(x - m), dim) with m = max(x, dim); stable for any x."""
    dim = _softmax_dim("softmax", x, dim)
    x = _as_float("softmax", x, dtype)
    if x.ndim == 0:
        return ops.reshape(softmax(ops.reshape(x, (1,)), 0), ())
    powers = ops.exp(_shifted(x, dim))
    return ops.div(powers, ops.sum(powers, dim, keepdims=True))


# ========================================================================= helpers
def _reduce(losses: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return ops.mean(losses)
    if reduction == "sum":
        return ops.sum(losses)
    if reduction == "none":
        return losses
    raise ArgumentError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _check_reduction(reduction: str, allowed: tuple[str, ...] = REDUCTIONS) -> None:
    if reduction not in allowed:
        raise ArgumentError(f"reduction must be one of {allowed}, got {reduction!r}")


def _as_tensor(value: Tensor | np.ndarray | Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(np.asarray(value))


def _target_like(label: str, prediction: Tensor, target: Tensor | np.ndarray) -> Tensor:
    """``target`` as a tensor of the prediction's dtype; a shape mismatch is a ValueError
    naming both shapes (``label`` says which loss and which argument)."""
    if prediction.shape != np.shape(target):
        raise ArgumentError(
            f"{label} shape {prediction.shape} differs from target shape {np.shape(target)}"
        )
    if isinstance(target, Tensor):
        return target
    return Tensor(np.asarray(target, dtype=prediction.dtype))


def _float_pair(name: str, prediction: Tensor, target: Any, label: str = "input"
                ) -> Tensor:
    """The target of an elementwise loss: same shape as the float ``prediction``."""
    if prediction.dtype.kind != "f":
        raise ArgumentTypeError(f"{name}: {label} must be floating point, got dtype "
                                f"{prediction.dtype}")
    return _target_like(f"{name}: {label}", prediction, target)


def _per_class(name: str, label: str, vector: Any, classes: int, dtype: np.dtype
               ) -> Tensor | None:
    """A per-class weight as a (C,) tensor of ``dtype`` (None stays None)."""
    if vector is None:
        return None
    vector = _as_tensor(vector)
    if vector.shape != (classes,):
        raise ArgumentError(f"{name}: {label} must hold one value per class, shape ({classes},), "
                            f"got shape {vector.shape}")
    return vector if vector.dtype == dtype else ops.cast(vector, dtype)


def _along_axis_1(vector: Tensor, ndim: int) -> Tensor:
    """A (C,) vector shaped (1, C, 1, ...) to broadcast along axis 1 of an ndim tensor."""
    return ops.reshape(vector, (1, vector.shape[0]) + (1,) * (ndim - 2))


# ================================================================= class targets
def _position(flat_index: int, shape: tuple[int, ...]) -> Any:
    if len(shape) == 1:
        return flat_index
    return tuple(int(i) for i in np.unravel_index(flat_index, shape))


def _check_class_targets(name: str, scores: Tensor, targets: Tensor, ignore_index: int,
                         what: str = "logits") -> None:
    """Targets must be integers in [0, C) (or ignore_index), one per position of the
    (N, C, d1, ...) scores: shape (N, d1, ...)."""
    if scores.ndim < 2:
        raise ArgumentError(f"{name}: {what} must have shape (N, C), got {scores.shape} "
                            "(or (C,) with a 0-d target, or (N, C, d1, ...))")
    if scores.dtype.kind != "f":
        raise ArgumentTypeError(f"{name}: {what} must be floating point, got dtype {scores.dtype}")
    if targets.dtype.kind not in "iu":
        raise ArgumentTypeError(
            f"{name}: targets must be integer class indices, got dtype {targets.dtype}"
        )
    expected = (scores.shape[0], *scores.shape[2:])
    if targets.shape != expected:
        raise ArgumentError(f"{name}: targets of shape {targets.shape} do not match {what} of "
                            f"shape {scores.shape} (expected {expected})")
    classes = scores.shape[1]
    values = targets.data
    bad = np.flatnonzero(((values < 0) | (values >= classes)) & (values != ignore_index))
    if bad.size:
        position = _position(int(bad[0]), values.shape)
        raise OutOfRangeError(
            f"{name}: target {int(values.reshape(-1)[bad[0]])} at position {position} is "
            f"out of range for {classes} classes (valid: 0..{classes - 1}) and is not "
            f"ignore_index ({ignore_index})"
        )


def _batched(scores: Tensor, targets: Tensor) -> tuple[Tensor, Tensor, bool]:
    """An unbatched (C,) input with a 0-d target as a batch of one (PyTorch accepts it)."""
    if scores.ndim == 1 and targets.ndim == 0:
        return ops.reshape(scores, (1, scores.shape[0])), ops.reshape(targets, (1,)), True
    return scores, targets, False


def _pick_class(values: Tensor, targets: Tensor) -> Tensor:
    """values[n, t[n, d...], d...]: the target class's entry along axis 1."""
    index_shape = (targets.shape[0], 1, *targets.shape[1:])
    picked = ops.gather(values, ops.reshape(targets, index_shape), 1)
    return ops.reshape(picked, targets.shape)


class _Classes:
    """What the class-index losses share: the kept mask (targets != ignore_index), the
    targets with ignored entries sent to class 0 (a valid index), and each position's
    weight w[t] (0 where ignored) - all ops on the targets, so a compiled step recomputes
    them from each call's targets."""

    def __init__(self, targets: Tensor, weight: Tensor | None, dtype: np.dtype,
                 ignore_index: int, name: str, classes: int) -> None:
        self.kept = ops.not_equal(targets, ignore_index)
        # checked eagerly by _check_class_targets (with the target and its position); the
        # check row makes mg.jit repeat it at every call (gather would take -1 as C - 1)
        self.safe = ops.require_range(
            ops.where(self.kept, targets, 0), 0, classes - 1,
            f"{name}: a target is out of range for {classes} classes (valid: "
            f"0..{classes - 1}) and is not ignore_index ({ignore_index})", index=True)
        self.weighted = weight is not None
        if weight is None:
            self.weights = ops.cast(self.kept, dtype)
        else:
            picked = ops.gather(weight, ops.reshape(self.safe, (-1,)), 0)
            self.weights = ops.where(self.kept, ops.reshape(picked, targets.shape), 0.0)

    def pick(self, values: Tensor) -> Tensor:
        """values[n, t[n, d...], d...], 0 where the target is ignored (its row is never
        read into the loss, so an ignored row of -inf log-probabilities makes no NaN)."""
        return ops.where(self.kept, _pick_class(values, self.safe), 0.0)

    def nll(self, values: Tensor) -> Tensor:
        """-w[t] * values[n, t, ...] (0 where ignored; no product with a 0/1 mask)."""
        picked = self.pick(values)
        return ops.neg(ops.mul(picked, self.weights) if self.weighted else picked)

    def reduce(self, losses: Tensor, reduction: str) -> Tensor:
        """'mean' is PyTorch's weighted mean sum(losses) / sum(w[t_i] over kept i), taken
        as a ratio of means so an empty batch is refused by ``mean``; with nothing ignored
        and no weights the denominator is exactly 1."""
        if reduction == "mean":
            return ops.div(ops.mean(losses), ops.mean(self.weights))
        return _reduce(losses, reduction)


def _unbatch(loss: Tensor, unbatched: bool, reduction: str) -> Tensor:
    return ops.reshape(loss, ()) if unbatched and reduction == "none" else loss


def nll_loss(input: Tensor, target: Tensor | np.ndarray, weight: Tensor | None = None,  # noqa: A002
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """loss_i = -w[t_i] * input[i, t_i] for log-probabilities ``input`` of shape (N, C),
    (N, C, d1, ...) or (C,), integer targets of shape (N,), (N, d1, ...) or ().

    Targets equal to ``ignore_index`` contribute 0; 'mean' is sum_i loss_i / sum_i w[t_i]
    over the positions not ignored (NaN when all are, as in PyTorch).
    """
    _check_reduction(reduction)
    target = _as_tensor(target)
    scores, targets, unbatched = _batched(input, target)
    _check_class_targets("nll_loss", scores, targets, ignore_index, what="input")
    weight = _per_class("nll_loss", "weight", weight, scores.shape[1], scores.dtype)
    classes = _Classes(targets, weight, scores.dtype, ignore_index, "nll_loss",
                       scores.shape[1])
    losses = classes.nll(scores)
    return _unbatch(classes.reduce(losses, reduction), unbatched, reduction)


def _check_smoothing(label_smoothing: float) -> None:
    if not 0.0 <= label_smoothing <= 1.0:
        raise ArgumentError(
            f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
        )


def cross_entropy(input: Tensor, target: Tensor | np.ndarray,  # noqa: A002
                  weight: Tensor | None = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits ``input`` (N, C), (N, C, d1, ...) or (C,) against targets,
    with p = log_softmax(input, 1) and eps = label_smoothing:

    class indices t (integers of shape (N, d1, ...)): loss_i = (1 - eps) * (-w[t_i] p[i, t_i])
    + eps / C * (-sum_c w[c] p[i, c]); 0 where t_i == ignore_index; 'mean' divides the sum
    by sum_i w[t_i] over the positions not ignored (PyTorch's denominator, also for the
    smoothing term).

    class probabilities y (floats of the input's shape): y <- (1 - eps) y + eps / C, then
    loss_i = -sum_c w[c] y[i, c] p[i, c]; 'mean' divides by N * d1 * ... (not by weights).
    """
    _check_reduction(reduction)
    _check_smoothing(label_smoothing)
    target = _as_tensor(target)
    if target.shape == input.shape and input.ndim >= 1:
        return _cross_entropy_probabilities(input, target, weight, ignore_index, reduction,
                                            label_smoothing)
    scores, targets, unbatched = _batched(input, target)
    _check_class_targets("cross_entropy", scores, targets, ignore_index)
    weight = _per_class("cross_entropy", "weight", weight, scores.shape[1], scores.dtype)
    classes = _Classes(targets, weight, scores.dtype, ignore_index, "cross_entropy",
                       scores.shape[1])
    logp = log_softmax(scores, 1)
    losses = classes.nll(logp)
    if label_smoothing > 0:
        spread = logp if weight is None else ops.mul(logp, _along_axis_1(weight, logp.ndim))
        smooth = ops.neg(ops.sum(spread, 1))
        count = scores.shape[1]
        losses = ops.add(ops.mul(losses, 1.0 - label_smoothing),
                         ops.mul(smooth, label_smoothing / count))
        losses = ops.where(classes.kept, losses, 0.0)
    return _unbatch(classes.reduce(losses, reduction), unbatched, reduction)


def _cross_entropy_probabilities(logits: Tensor, target: Tensor, weight: Tensor | None,
                                 ignore_index: int, reduction: str, label_smoothing: float
                                 ) -> Tensor:
    """loss_i = -sum_c w[c] y[i, c] log_softmax(x)[i, c] for probability targets y."""
    if target.dtype.kind != "f":
        raise ArgumentTypeError(f"cross_entropy: targets of the logits' shape {logits.shape} are "
                                "class "
                                "probabilities and must be floating point, got dtype "
                                f"{target.dtype}")
    if logits.dtype.kind != "f":
        raise ArgumentTypeError("cross_entropy: logits must be floating point, got dtype "
                                f"{logits.dtype}")
    if ignore_index >= 0:
        raise ArgumentError(f"cross_entropy: ignore_index ({ignore_index}) is not supported for "
                            "probability targets (float targets of the logits' shape)")
    unbatched = logits.ndim == 1
    if unbatched:
        logits, target = ops.reshape(logits, (1, -1)), ops.reshape(target, (1, -1))
    if target.dtype != logits.dtype:
        target = ops.cast(target, logits.dtype)
    count = logits.shape[1]
    if label_smoothing > 0:
        target = ops.add(ops.mul(target, 1.0 - label_smoothing), label_smoothing / count)
    terms = ops.mul(log_softmax(logits, 1), target)
    weight = _per_class("cross_entropy", "weight", weight, count, logits.dtype)
    if weight is not None:
        terms = ops.mul(terms, _along_axis_1(weight, terms.ndim))
    losses = ops.neg(ops.sum(terms, 1))
    return _unbatch(_reduce(losses, reduction), unbatched, reduction)


def one_hot(tensor: Tensor | np.ndarray, num_classes: int = -1) -> Tensor:
    """out[..., c] = 1 if tensor[...] == c else 0, int64 of shape tensor.shape + (C,);
    C = max(tensor) + 1 when num_classes is -1 (read from the values, so fixed when
    ``mg.jit`` traces). Not differentiable."""
    tensor = _as_tensor(tensor)
    if tensor.dtype.kind not in "iu":
        raise ArgumentTypeError(f"one_hot: tensor must hold integer class indices, got dtype "
                                f"{tensor.dtype}")
    values = read_values(tensor)  # the checks and num_classes = -1 need the values
    if num_classes == -1:
        if values.size == 0:
            raise ArgumentError("one_hot: cannot infer the number of classes from an empty "
                                f"tensor (shape {tensor.shape}); pass num_classes")
        num_classes = int(values.max()) + 1
    if values.size and values.min() < 0:
        raise ArgumentError(f"one_hot: class values must be non-negative, got {int(values.min())}")
    if values.size and values.max() >= num_classes:
        raise ArgumentError(f"one_hot: class value {int(values.max())} is not smaller than "
                            f"num_classes ({num_classes})")
    classes = Tensor(np.arange(num_classes, dtype=np.int64))
    column = ops.reshape(tensor, (*tensor.shape, 1))
    return ops.cast(ops.equal(column, classes), np.int64)
