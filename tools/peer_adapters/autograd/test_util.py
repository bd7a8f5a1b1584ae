"""check_grads over minigrad: reverse mode, order 1 and 2, vs central differences."""
from itertools import product

import numpy as _np

import minigrad as mg

TOL = 1e-6
RTOL = 1e-6
EPS = 1e-6


class WrongGradient(AssertionError):
    pass


def scalar_close(a, b):
    return abs(a - b) < TOL or abs(a - b) / abs(a + b) < RTOL


def _flat(y):
    if isinstance(y, (list, tuple, dict)):
        leaves, _ = mg.func.tree_flatten(y)
        return mg.cat([_flat(u) for u in leaves]) if leaves else mg.zeros(0)
    if not isinstance(y, mg.Tensor):
        y = mg.tensor(_np.asarray(y, dtype=_np.float64))
    return y.reshape(-1).to(mg.float64)


def _rand_like(x):
    return _np.random.randn(*_np.shape(x))


def _check(f, xs, order):
    """f: function of len(xs) tensors returning tensor(s); checks the VJP against FD."""
    xt = [mg.tensor(_np.array(_np.asarray(x.data if isinstance(x, mg.Tensor) else x),
                              dtype=_np.float64), requires_grad=True) for x in xs]
    y = _flat(f(*xt))
    v = mg.tensor(_np.random.randn(y.numel()))
    us = [_rand_like(x) for x in xt]
    out = (y * v).sum()
    gs = (mg.grad(out, xt, create_graph=order > 1, allow_unused=True) if out.requires_grad
          else [None] * len(xt))
    exact = sum(float((g.data * u).sum()) for g, u in zip(gs, us) if g is not None)
    plus = _flat(f(*[mg.tensor(x.data + u * EPS / 2, requires_grad=True)
                     for x, u in zip(xt, us)])).data
    minus = _flat(f(*[mg.tensor(x.data - u * EPS / 2, requires_grad=True)
                      for x, u in zip(xt, us)])).data
    numeric = float((v.data * (plus - minus) / EPS).sum())
    if not scalar_close(numeric, exact):
        raise WrongGradient(f"VJP check failed: analytic {exact} numeric {numeric}")
    if order > 1:
        def vjp(*x2):
            y2 = _flat(f(*x2))
            o2 = (y2 * v).sum()
            g2 = (mg.grad(o2, list(x2), create_graph=True, allow_unused=True)
                  if o2.requires_grad else [None] * len(x2))
            return [g if g is not None else mg.zeros_like(x) for g, x in zip(g2, x2)]
        _check(vjp, [x.data for x in xt], order - 1)


def check_grads(f, argnum=0, modes=("fwd", "rev"), order=2):
    argnums = argnum if isinstance(argnum, (tuple, list)) else (argnum,)

    def nary(*args, **kwargs):
        leaves, unflatten = mg.func.tree_flatten([args[i] for i in argnums])

        def unary(*new_leaves):
            full = list(args)
            for i, x in zip(argnums, unflatten(list(new_leaves))):
                full[i] = x
            return f(*full, **kwargs)
        _check(unary, leaves, order)
    return nary


def combo_check(fun, *args, **kwargs):
    _check_grads = lambda f: check_grads(f, *args, **kwargs)  # noqa: E731

    def _combo_check(*args, **kwargs):
        kwarg_key_vals = [[(k, x) for x in xs] for k, xs in kwargs.items()]
        for _args in product(*args):
            for _kwargs in product(*kwarg_key_vals):
                _check_grads(fun)(*_args, **dict(_kwargs))
    return _combo_check
