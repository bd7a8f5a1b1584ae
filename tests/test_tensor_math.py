"""The pow family on its edges and the Tensor methods of the math rows (issue 15 §1-2),
against PyTorch 2.13: the committed values of tests/reference/gen_tensor_math.py always
(outputs, dtypes, gradients of order 1 and 2 in float64, 1e-12), the file against live
PyTorch when it is importable; mg.jit against eager on the pow edges."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from tests.reference import gen_tensor_math as gen

REFERENCE = np.load(gen.OUTPUT)


def _assert_same(mine: np.ndarray, theirs: np.ndarray, label: str, tol: float = 1e-12) -> None:
    """Equal dtypes names / shapes and values to ``tol`` (NaN where NaN, infinities equal,
    integers and bools exactly)."""
    if theirs.dtype.kind in "US":
        assert str(mine) == str(theirs), f"{label}: {mine} != {theirs}"
        return
    assert mine.shape == theirs.shape, f"{label}: shape {mine.shape} != {theirs.shape}"
    if theirs.dtype.kind in "biu":
        assert np.array_equal(mine, theirs), f"{label}: {mine} != {theirs}"
        return
    np.testing.assert_allclose(mine.astype(float), theirs.astype(float), rtol=tol, atol=tol,
                               equal_nan=True, err_msg=label)


def _stored(name: str) -> dict[str, np.ndarray]:
    prefix = f"{name}/"
    return {k[len(prefix):]: REFERENCE[k] for k in REFERENCE.files if k.startswith(prefix)}


# Where PyTorch 2.13's second derivative is NaN only because 0 * log(0) is formed in a
# branch its pow VJP does not take, minigrad's is the finite value, derived by hand with the
# generator's probes (q = 0.5, 1, 1.5 on the output; p = -1, 0, 1 on each first gradient):
# d/dy of p q 0**y ln(0)-term is 0 (0**y = 0 for y > 0, and PyTorch's 0 at y = 0); for the
# tensor base b = 0, d/db (p_b q y b**(y-1)) = p_b q y (y-1) b**(y-2): NaN at y = 0 (PyTorch
# too), 0 at y = 1, 2 * 1.5 * 1 = 3 at y = 2, while d/db (p_y q b**y ln b) -> 0; and
# d/dy (p_b q y b**(y-1)) = p_b q b**(y-1) (1 + y ln b): NaN at y = 0, p_b = 0 at y = 1,
# 1.5 (0 + 2 * 0 ln 0) -> 0 at y = 2.
NAN_IN_PYTORCH = {
    ("zero_base_number", "grad2_0"): np.array([0.0, 0.0, 0.0]),
    ("zero_base_tensor", "grad2_0"): np.array([np.nan, 0.0, 3.0]),
    ("zero_base_tensor", "grad2_1"): np.array([np.nan, 0.0, 0.0]),
}


@pytest.mark.parametrize("name", sorted(gen.CASES))
def test_matches_pytorch_values_in_the_file(name: str) -> None:
    stored = _stored(name)
    assert stored, f"{name}: not in {gen.OUTPUT.name}; rerun the generator"
    with np.errstate(all="ignore"):
        mine = gen.run(mg, name)
    assert sorted(mine) == sorted(stored), name
    for key, theirs in stored.items():
        if (name, key) in NAN_IN_PYTORCH:
            assert np.isnan(theirs).all(), f"{name}/{key}: PyTorch is no longer NaN here"
            theirs = NAN_IN_PYTORCH[name, key]
        _assert_same(mine[key], theirs, f"{name}/{key}")


def test_file_matches_live_pytorch() -> None:
    """The committed file is what PyTorch gives today (every case), to a few float64 ulps:
    PyTorch's kernels round differently on another CPU (log_softmax's gradient moved by
    3e-16 on an AVX-512 AMD EPYC model 17, against the model 1 that wrote the file)."""
    torch = pytest.importorskip("torch")
    for name in gen.CASES:
        live = gen.run(torch, name)
        stored = _stored(name)
        assert sorted(live) == sorted(stored), name
        for key, theirs in stored.items():
            _assert_same(live[key], theirs, f"torch {name}/{key}", 1e-14)


# ---------------------------------------------------------------------------------- pow
def test_integer_to_negative_integer_power_is_refused_as_pytorch() -> None:
    with pytest.raises(RuntimeError, match=r"Integers to negative integer powers.*int64.*\(2,\)"):
        mg.tensor([2, 3]) ** -1
    with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
        mg.pow(mg.tensor([True]), -2)
    assert (mg.tensor([2, 4]) ** -1.0).tolist() == [0.5, 0.25]  # a float exponent: float32
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
        torch.tensor([2, 3]) ** -1


def test_bool_to_bool_power_is_refused_as_pytorch() -> None:
    with pytest.raises(TypeError, match=r"pow: bool \*\* bool \(shapes \(2,\) and \(2,\)\)"):
        mg.tensor([True, False]) ** mg.tensor([True, True])


def test_pow_tensor_gradcheck_to_second_order() -> None:
    """Finite differences (float64) on both inputs, orders 1 and 2, with broadcasting and a
    number base."""
    rng = np.random.default_rng(4)
    x = mg.tensor(rng.uniform(0.5, 2.0, (3, 4)), requires_grad=True)
    t = mg.tensor(rng.standard_normal(4), requires_grad=True)
    assert mg.gradcheck(lambda a, b: a ** b, [x, t], order=2)
    assert mg.gradcheck(lambda b: 1.7 ** b, [t], order=2)


@pytest.mark.parametrize("base", [0.0, 0.5, 2.0])
def test_second_derivative_of_a_number_to_a_tensor_power_is_finite(base: float) -> None:
    """d2/dt2 base ** t = base ** t ln(base)**2, which is 0 for base 0 and t > 0 (0 ** t
    is 0 there); finite differences of the first derivative agree. PyTorch 2.13 gives NaN
    at base 0 (0 * log(0) in the branch it does not take), so it is not the reference."""
    t0, h = 0.3, 1e-6
    t = mg.tensor(t0, dtype="float64", requires_grad=True)
    (first,) = mg.grad(mg.power(base, t), [t], create_graph=True)
    (second,) = mg.grad(first, [t])

    def slope(u: float) -> float:
        u_t = mg.tensor(u, dtype="float64", requires_grad=True)
        return float(mg.grad(mg.power(base, u_t), [u_t])[0])

    numeric = (slope(t0 + h) - slope(t0 - h)) / (2 * h)
    assert np.isfinite(float(second))
    np.testing.assert_allclose(float(second), numeric, rtol=1e-6, atol=1e-9)


def test_jit_gives_eager_values_and_gradients_on_the_pow_edges() -> None:
    """One compiled function: x ** t on the edges, a number base 0, x ** 0 at 0, integer
    powers with negative exponents (PyTorch's 0 ** -1 = 0) and its gradients."""
    x = mg.tensor(gen.INPUTS["x_edges"], requires_grad=True)
    t = mg.tensor(gen.INPUTS["t_edges"], requires_grad=True)
    y = mg.tensor(gen.INPUTS["y_012"], requires_grad=True)
    z = mg.tensor(gen.INPUTS["x_zero_one"], requires_grad=True)
    base, exps = mg.tensor(gen.INPUTS["i_base"]), mg.tensor(gen.INPUTS["i_exp"])

    def edges(x, t, y, z, base, exps):
        outs = [x ** t, 0.0 ** y, z ** 0, z ** 0.5, base ** exps, 2 ** exps, x ** 2.0]
        total = (outs[0] + outs[3].sum() + outs[6]).sum() + (outs[1] + outs[2]).sum()
        return [*outs, *mg.grad(total, [x, t, y, z])]

    with np.errstate(all="ignore"):
        eager = edges(x, t, y, z, base, exps)
        compiled = mg.jit(edges)
        compiled(x, t, y, z, base, exps)
        jitted = compiled(x, t, y, z, base, exps)
    assert compiled.trace_count == 1
    for k, (e, j) in enumerate(zip(eager, jitted, strict=True)):
        assert e.dtype == j.dtype, k
        np.testing.assert_allclose(j.numpy(), e.numpy(), rtol=1e-15, atol=0, equal_nan=True,
                                   err_msg=f"output {k}")


# -------------------------------------------------------------- methods and operators
def test_every_unary_math_row_is_a_method_and_a_function() -> None:
    """A loop over the rows: each elementwise row of one input is ``x.name()`` and
    ``mg.name(x)`` (the reference cases check their values against PyTorch)."""
    from minigrad.ops.core import ELEMENTWISE

    x = mg.tensor([0.25, -1.5])
    unary = [name for name, row in mg.OPS.items()
             if row.kind == ELEMENTWISE and row.arity == 1
             and name not in ("cast", "pow", "require_range")]  # the check row: ops only
    assert set(gen.UNARY_METHODS) <= set(unary)
    for name in unary:
        want = getattr(mg.ops, name)(mg.tensor([1, 2]) if name == "bitwise_not" else x)
        for call in (getattr(mg, name), getattr(mg.Tensor, name)):
            got = call(mg.tensor([1, 2]) if name == "bitwise_not" else x)
            assert np.array_equal(got.numpy(), want.numpy(), equal_nan=True), name


def test_bad_inputs_get_clear_errors() -> None:
    x = mg.tensor([[1.0, -2.0], [3.0, 0.5]])
    with pytest.raises(TypeError, match=r"bitwise_and: integer or bool tensors only, got "
                                        r"float32 \(2, 2\)"):
        x & x
    with pytest.raises(TypeError, match=r"masked_fill: the mask must be a bool tensor, got "
                                        r"int64 \(2,\)"):
        x.masked_fill(mg.tensor([1, 0]), 0.0)
    with pytest.raises(ValueError, match=r"mask of shape \(3, 2, 2\) does not broadcast"):
        x.masked_fill(mg.zeros(3, 2, 2, dtype=mg.bool), 0.0)
    with pytest.raises(ValueError, match=r"value must be a number or a 0-d tensor, got shape"):
        x.masked_fill(x > 0, mg.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"index_select: index must be a 1-D or 0-d integer "
                                        r"tensor, got float32 of shape \(1,\)"):
        x.index_select(0, mg.tensor([1.0]))
    for bad in ([2], [0, -1]):
        with pytest.raises(IndexError, match=r"index_select: indices must lie in \[0, 2\) along "
                                             r"dim 1 of shape \(2, 2\)"):
            x.index_select(1, mg.tensor(bad))
    with pytest.raises(TypeError, match=r"isclose: both tensors must have one dtype, got "
                                        r"float32 \(2, 2\) and int64"):
        mg.isclose(x, mg.tensor([1, 2]))
    with pytest.raises(TypeError, match="where: give both input and other, or neither"):
        mg.where(x > 0, x)
    with pytest.raises(ValueError, match="rounding_mode must be None, 'trunc' or 'floor'"):
        mg.div(x, 2, rounding_mode="round")


def test_values_read_into_python_are_refused_under_jit() -> None:
    """nonzero, where(cond) and allclose depend on the values (a shape, a bool): the
    tracer refuses them as it refuses item(), rather than freezing the first call's."""
    from minigrad.jit import NotCompilableError

    x = mg.tensor([1.0, -2.0, 3.0])
    for fn in (lambda t: t.nonzero(), lambda t: mg.where(t > 0)[0],
               lambda t: t * float(mg.allclose(t, t))):
        with pytest.raises(NotCompilableError, match="read into Python"):
            mg.jit(fn)(x)


def test_jit_gives_eager_values_and_gradients_of_the_composed_methods() -> None:
    """One compiled function: fmax/fmin with NaNs, masked_fill, index_select with a tensor
    index (a runtime input), lerp, addcmul, isclose, clamp with tensor bounds, softmax, the
    bool operators, div with rounding; then a second call on new values."""
    rng = np.random.default_rng(8)

    def composed(x, y, idx, mask):
        outs = [mg.fmax(x, y), x.fmin(y), x.masked_fill(mask, -1.0), x.index_select(1, idx),
                mg.lerp(x, y, 0.7), mg.addcmul(x, x, y, value=0.5), mg.isclose(x, y, 0.1),
                x.clamp(y, y + 1.0), x.softmax(1), (x > 0) & ~mask | (y < 0),
                mg.div(x, y, rounding_mode="trunc")]
        total = sum((o * o).sum() for o in outs if o.dtype.kind == "f" and o is not outs[-1])
        return [*outs, *mg.grad(total, [x, y])]

    def arguments(draw):
        x, y = draw.standard_normal((3, 4)), draw.standard_normal((3, 4))
        x[0, 0], y[1, 1] = np.nan, np.nan
        return (mg.tensor(x, requires_grad=True), mg.tensor(y, requires_grad=True),
                mg.tensor(draw.integers(0, 4, 5)), mg.tensor(draw.random((3, 4)) > 0.5))

    compiled = mg.jit(composed)
    with np.errstate(all="ignore"):
        for _ in range(2):
            args = arguments(rng)
            eager, jitted = composed(*args), compiled(*args)
            for k, (e, j) in enumerate(zip(eager, jitted, strict=True)):
                assert e.dtype == j.dtype, k
                np.testing.assert_allclose(j.numpy(), e.numpy(), rtol=1e-13, atol=1e-15,
                                           equal_nan=True, err_msg=f"output {k}")
    assert compiled.trace_count == 1
