import numpy as np

import minigrad as mg
import minigrad.nn.functional as F

from .dtype import dtypes

MT = mg.Tensor


def _to_np_dtype(dt):
    return np.dtype(dt)


def _dt(dtype):
    return None if dtype is None else np.dtype(dtype)


def _shape(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    for s in args:
        if s < 0:
            raise ValueError(f"negative dim {s}")
    return tuple(args)


def _make(data, dtype=None, requires_grad=False, **_):
    if isinstance(data, MT):
        out = data if dtype is None else data.to(_dt(dtype))
        return out
    dt = _dt(dtype)
    if dt is None:
        arr = np.asarray(data)
        if arr.dtype.kind == "i":
            dt = dtypes.int32  # tinygrad's default int
        elif arr.dtype.kind == "f" and not isinstance(data, np.ndarray):
            dt = dtypes.float32
    return mg.tensor(data, dtype=dt, requires_grad=requires_grad)


class _Meta(type):
    def __call__(cls, data=None, dtype=None, device=None, requires_grad=None):
        out = _make(data, dtype, bool(requires_grad))
        if requires_grad is None and out.dtype.kind == "f" and not out.requires_grad:
            out = out.requires_grad_(True) if out.is_leaf else out  # tinygrad: grad on demand
        return out

    def __getattr__(cls, name):
        return getattr(MT, name)


class Tensor(metaclass=_Meta):
    @staticmethod
    def zeros(*shape, dtype=None, **kw):
        return mg.zeros(_shape(shape), dtype=_dt(dtype), **kw)

    @staticmethod
    def ones(*shape, dtype=None, **kw):
        return mg.ones(_shape(shape), dtype=_dt(dtype), **kw)

    @staticmethod
    def empty(*shape, dtype=None, **kw):
        return mg.empty(_shape(shape), dtype=_dt(dtype), **kw)

    @staticmethod
    def full(shape, fill_value, dtype=None, **kw):
        shape = _shape((shape,) if isinstance(shape, int) else shape)
        if dtype is None and isinstance(fill_value, int) and not isinstance(fill_value, bool):
            dtype = dtypes.int32
        return mg.full(shape, fill_value, dtype=_dt(dtype), **kw)

    @staticmethod
    def rand(*shape, dtype=None, **kw):
        return mg.rand(_shape(shape), dtype=_dt(dtype), **kw)

    @staticmethod
    def randn(*shape, dtype=None, **kw):
        return mg.randn(_shape(shape), dtype=_dt(dtype), **kw)

    @staticmethod
    def randint(*shape, low=0, high=10, dtype=None, **kw):
        return mg.randint(low, high, _shape(shape), dtype=_dt(dtype) or dtypes.int32)

    @staticmethod
    def normal(*shape, mean=0.0, std=1.0, **kw):
        return mg.randn(_shape(shape)) * std + mean

    @staticmethod
    def uniform(*shape, low=0.0, high=1.0, **kw):
        return mg.rand(_shape(shape)) * (high - low) + low

    @staticmethod
    def arange(start, stop=None, step=1, dtype=None, **kw):
        if dtype is None and all(isinstance(v, int) for v in (start, stop or 0, step)):
            dtype = dtypes.int32
        if stop is None:
            start, stop = 0, start
        return mg.arange(start, stop, step, dtype=_dt(dtype))

    @staticmethod
    def linspace(start, stop, steps, dtype=None, **kw):
        dt = _dt(dtype)
        if dt is not None and dt.kind == "b":
            raise ValueError("linspace: bool dtype")
        return mg.linspace(start, stop, steps, dtype=dt)

    @staticmethod
    def eye(n, m=None, dtype=None, **kw):
        if n < 0 or (m is not None and m < 0):
            raise ValueError("negative dims")
        return mg.eye(n, m, dtype=_dt(dtype))

    @staticmethod
    def stack(*tensors, dim=0):
        if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
            tensors = tensors[0]
        return mg.stack(list(tensors), dim)

    @staticmethod
    def einsum(formula, *operands):
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = operands[0]
        return mg.einsum(formula, *operands)

    @staticmethod
    def realize(*tensors):
        return tensors

    @staticmethod
    def full_like(t, fill_value, **kw):
        return mg.full_like(t, fill_value, **kw)

    @staticmethod
    def zeros_like(t, **kw):
        return mg.zeros_like(t, **kw)

    @staticmethod
    def ones_like(t, **kw):
        return mg.ones_like(t, **kw)


# ---- instance methods: tinygrad names and argument spellings on minigrad's Tensor ----
def _realize(self, *others):
    return self


def _gradient(self, *targets):
    grads = mg.grad(self, list(targets), allow_unused=True)
    return [mg.zeros_like(t) if g is None else g for g, t in zip(grads, targets)]


def _extreme(name):
    torch_style = getattr(MT, name)

    def extreme(self, axis=None, keepdim=False):
        if axis is None:
            return torch_style(self)
        return (mg.amax if name == "max" else mg.amin)(self, axis, keepdim)
    return extreme


def _where(self, x, y):
    return mg.where(self, x, y)


def _pad(self, padding, mode="constant", value=0.0):
    if padding and all(p is None or isinstance(p, (tuple, list)) for p in padding):
        if len(padding) != self.ndim:
            raise ValueError("padding length")
        flat = []
        for p in reversed(padding):
            flat += list(p) if p is not None else [0, 0]
        padding = flat
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(mode)
    return F.pad(self, tuple(padding), mode=mode, value=value)


def _repeat(self, repeats, *more):
    if more:
        repeats = (repeats, *more)
    return mg.repeat(self, *repeats) if not isinstance(repeats, int) else mg.repeat(self, repeats)


def _cat(self, *others, dim=0):
    return mg.cat([self, *others], dim)


def _cast(self, dtype):
    return self.to(np.dtype(dtype))


def _idiv(self, other):
    return mg.div(self, other, rounding_mode="trunc")


def _dot(self, other):
    return self @ other


def _cummax(self, axis=0):
    return mg.cummax(self, axis)[0]


def _cumsum(self, axis=0):
    return mg.cumsum(self, axis)


def _cumprod(self, axis):
    return mg.cumprod(self, axis)


def _logcumsumexp(self, axis=0):
    return mg.logcumsumexp(self, axis)


def _isinf(self, detect_positive=True, detect_negative=True):
    out = mg.isinf(self)
    if not detect_positive:
        out = mg.logical_and(out, self < 0)
    if not detect_negative:
        out = mg.logical_and(out, self > 0)
    return out


def _std_mean(self, axis=None, keepdim=False, correction=1):
    return self.std(axis, keepdim, correction=correction), self.mean(axis, keepdim)


def _softmax(self, axis=-1):
    return mg.softmax(self, axis)


def _log_softmax(self, axis=-1):
    return mg.log_softmax(self, axis)


def _by_dims(x, one, two, three):
    """PyTorch's function for x's spatial dims (tinygrad's 2d names take any number)."""
    return {3: one, 4: two, 5: three}[x.ndim]


def _explicit_pads(x, padding):
    """tinygrad's padding: an int or one per spatial dim go to PyTorch as they are; one per
    side (left, right, top, bottom, ...) or any negative is applied with F.pad first."""
    dims = x.ndim - 2
    flat = (padding,) * dims if isinstance(padding, int) else tuple(padding)
    if len(flat) == dims and min(flat) >= 0:
        return x, padding
    if len(flat) == dims:
        flat = tuple(p for p in reversed(flat) for _ in range(2))
    elif len(flat) != 2 * dims:
        raise ValueError(f"padding {padding} must have {dims} or {2 * dims} entries")
    return F.pad(x, flat), 0


def _conv2d(self, weight, bias=None, groups=1, stride=1, dilation=1, padding=0):
    conv = _by_dims(self, F.conv1d, F.conv2d, F.conv3d)
    x, padding = _explicit_pads(self, padding)
    return conv(x, weight, bias, stride=stride, padding=padding, dilation=dilation,
                groups=groups)


def _conv_transpose2d(self, weight, bias=None, groups=1, stride=1, dilation=1, padding=0,
                      output_padding=0):
    """tinygrad's per-side padding (left, right, top, bottom, ...) crops the output."""
    conv = _by_dims(self, F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)
    sides = _per_side(self, padding)
    out = conv(self, weight, bias, stride=stride, padding=0 if sides else padding,
               output_padding=output_padding, groups=groups, dilation=dilation)
    return out if sides is None else F.pad(out, tuple(-p for p in sides))


def _per_side(x, padding):
    """tinygrad's (left, right, top, bottom, ...) pool padding, or None for PyTorch's forms."""
    dims = x.ndim - 2
    if isinstance(padding, int) or len(padding) == dims:
        return None
    if len(padding) != 2 * dims:
        raise ValueError(f"padding {padding} must have {dims} or {2 * dims} entries")
    return tuple(padding)


def _max_pool2d(self, kernel_size=(2, 2), stride=None, dilation=1, padding=0, ceil_mode=False,
                return_indices=False):
    pool = _by_dims(self, F.max_pool1d, F.max_pool2d, F.max_pool3d)
    x, sides = self, _per_side(self, padding)
    if sides is not None:  # padded with the lowest value, then pooled without padding
        if return_indices:
            raise NotImplementedError("max_pool2d: indices with per-side padding")
        low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        x, padding = F.pad(x, sides, value=low), 0
    out = pool(x, kernel_size, stride, padding, dilation, ceil_mode=ceil_mode,
               return_indices=return_indices)
    return (out[0], out[1].to(dtypes.int32)) if return_indices else out


def _avg_pool2d(self, kernel_size=(2, 2), stride=None, dilation=1, padding=0, ceil_mode=False,
                count_include_pad=True):
    if dilation not in (1, (1,) * (self.ndim - 2)):
        raise NotImplementedError("avg_pool2d: PyTorch's has no dilation")
    pool = _by_dims(self, F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)
    sides = _per_side(self, padding)
    if sides is None:
        return pool(self, kernel_size, stride, padding, ceil_mode=ceil_mode,
                    count_include_pad=count_include_pad)
    mean = pool(F.pad(self, sides), kernel_size, stride, 0, ceil_mode=ceil_mode)
    if count_include_pad:  # zeros padded in and counted
        return mean
    share = pool(F.pad(mg.ones_like(self), sides), kernel_size, stride, 0, ceil_mode=ceil_mode)
    return mean / share  # the windows' sums over their counts of input elements


def _max_unpool2d(self, indices, kernel_size=(2, 2), stride=None, dilation=1, padding=0,
                  output_size=None):
    if dilation not in (1, (1,) * (self.ndim - 2)):
        raise NotImplementedError("max_unpool2d: PyTorch's has no dilation")
    unpool = _by_dims(self, F.max_unpool1d, F.max_unpool2d, F.max_unpool3d)
    if output_size is not None:
        output_size = tuple(output_size)[-(self.ndim - 2):]
    return unpool(self, indices, kernel_size, stride, padding, output_size)


def _interpolate(self, size, mode="linear", align_corners=False):
    """tinygrad's interpolate resizes the last len(size) dims ('linear' is n-linear): the
    dims before them are folded into channels of a batch of one."""
    size = tuple(size)
    lead = self.shape[:self.ndim - len(size)]
    x = self.reshape(1, int(np.prod(lead)), *self.shape[len(lead):])
    if mode == "linear":
        mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[len(size)]
    corners = align_corners if mode not in ("nearest", "nearest-exact") or align_corners else None
    out = F.interpolate(x, size=size, mode=mode, align_corners=corners)
    return out.reshape(*lead, *size)


def _act(fn, **fixed):
    def act(self, *args, **kw):
        return fn(self, *args, **{**fixed, **kw})
    return act


def _binary_crossentropy(self, y, reduction="mean"):
    return F.binary_cross_entropy(self, y, reduction=reduction)


def _binary_crossentropy_logits(self, y, reduction="mean", pos_weight=None):
    return F.binary_cross_entropy_with_logits(self, y, reduction=reduction, pos_weight=pos_weight)


def _cross_entropy(self, y, reduction="mean", label_smoothing=0.0):
    return F.cross_entropy(self, y, reduction=reduction, label_smoothing=label_smoothing)


def _nll_loss(self, y, weight=None, ignore_index=-100, reduction="mean"):
    return F.nll_loss(self, y, weight=weight, ignore_index=ignore_index, reduction=reduction)


def _sparse_cce(self, y, ignore_index=-1, label_smoothing=0.0, reduction="mean"):
    logits = self.reshape(-1, self.shape[-1])
    return F.cross_entropy(logits, y.reshape(-1).to(mg.int64), ignore_index=ignore_index,
                           label_smoothing=label_smoothing, reduction=reduction)


def _one_hot(self, num_classes=-1):
    return F.one_hot(self.to(mg.int64), num_classes).to(dtypes.int32)


def _gather(self, dim, index):
    return mg.gather(self, index.to(mg.int64), dim)


def _int32(fn):
    def call(*args, **kw):
        out = fn(*args, **kw)
        if isinstance(out, tuple):
            return type(out)(o.to(dtypes.int32) if o.dtype == np.int64 else o for o in out)
        return out.to(dtypes.int32) if out.dtype == np.int64 else out
    return call


def _sort(self, dim=-1, descending=False):
    values, indices = mg.sort(self, dim, descending)
    return values, indices.to(dtypes.int32)


def _topk(self, k, dim=-1, largest=True, sorted_=True):
    values, indices = mg.topk(self, k, dim, largest, sorted_)
    return values, indices.to(dtypes.int32)


def _reshape(self, shape, *more):
    shape = (shape, *more) if more else ((shape,) if isinstance(shape, int) else tuple(shape))
    if isinstance(shape, tuple) and not shape and self.numel() != 1:
        raise ValueError("reshape to ()")
    shape = tuple(self.shape[i] if s is None else s for i, s in enumerate(shape))
    return mg.reshape(self, shape)


def _where_int(self, x, y):
    def lift(v):
        plain_int = isinstance(v, int) and not isinstance(v, bool)
        return mg.tensor(v, dtype=dtypes.int32) if plain_int else v
    return mg.where(self, lift(x), lift(y))


def _meshgrid(self, *others, indexing="ij"):
    return mg.meshgrid(self, *others, indexing=indexing)


def _scatter(self, dim, index, src, reduce=None):
    """tinygrad's scatter: reduce ('add'/'multiply') only with a scalar src (a tensor src
    with reduce is a TypeError there: use scatter_reduce); else PyTorch's."""
    if reduce not in (None, "add", "multiply"):
        raise TypeError(f"{reduce=} must be one of None, 'multiply', or 'add'")
    if reduce is not None and isinstance(src, MT):
        raise TypeError("non-scalar src is not supported with reduce arg. use scatter_reduce")
    return mg.scatter(self, dim, index, src, reduce=reduce)


def _quick_gelu(self):
    return self * mg.sigmoid(self * 1.702)


def _sdpa(self, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
          enable_gqa=False):
    return F.scaled_dot_product_attention(self, key, value, attn_mask=attn_mask,
                                          dropout_p=dropout_p, is_causal=is_causal,
                                          enable_gqa=enable_gqa)


PATCHES = {
    "realize": _realize, "gradient": _gradient, "max": _extreme("max"), "min": _extreme("min"),
    "where": _where_int, "argmax": _int32(MT.argmax), "argmin": _int32(MT.argmin),
    "argsort": _int32(MT.argsort), "sort": _sort, "topk": _topk, "reshape": _reshape,
    "pad": _pad, "repeat": _repeat, "cat": _cat, "cast": _cast,
    "idiv": _idiv, "dot": _dot, "cummax": _cummax, "cumsum": _cumsum, "cumprod": _cumprod,
    "logcumsumexp": _logcumsumexp, "isinf": _isinf, "std_mean": _std_mean,
    "softmax": _softmax, "log_softmax": _log_softmax, "conv2d": _conv2d,
    "conv_transpose2d": _conv_transpose2d, "max_unpool2d": _max_unpool2d,
    "interpolate": _interpolate, "max_pool2d": _max_pool2d, "avg_pool2d": _avg_pool2d,
    "mod": lambda s, o: s % o,
    "lshift": lambda s, o: s << o, "rshift": lambda s, o: s >> o,
    "leaky_relu": _act(F.leaky_relu), "elu": _act(F.elu), "relu6": _act(F.relu6),
    "silu": _act(F.silu), "swish": _act(F.silu), "softplus": _act(F.softplus),
    "gelu": _act(F.gelu, approximate="tanh"), "hardtanh": _act(F.hardtanh),
    "selu": _act(F.selu), "celu": _act(F.celu), "mish": _act(F.mish),
    "softsign": _act(F.softsign), "hardsigmoid": _act(F.hardsigmoid),
    "hardswish": _act(F.hardswish), "logsigmoid": _act(F.logsigmoid),
    "binary_crossentropy": _binary_crossentropy,
    "binary_crossentropy_logits": _binary_crossentropy_logits,
    "cross_entropy": _cross_entropy, "nll_loss": _nll_loss,
    "sparse_categorical_crossentropy": _sparse_cce, "one_hot": _one_hot, "gather": _gather,
    "matmul": lambda s, o: s @ o, "full_like": mg.full_like,
    "meshgrid": _meshgrid, "quick_gelu": _quick_gelu, "scaled_dot_product_attention": _sdpa,
    "scatter": _scatter,
}
for _name, _fn in PATCHES.items():
    setattr(MT, _name, _fn)
