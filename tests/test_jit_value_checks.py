"""Value checks that mg.jit repeats at every call (issue 13): the ``require_range`` row.

``binary_cross_entropy`` (input in [0, 1]), ``kl_div`` (target >= 0) and
``clip_grad_norm_(error_if_nonfinite=True)`` used to read their values into Python, which
mg.jit refused while tracing (before that refusal the compiled code returned a number
where eager raised, e.g. BCE of 1.7 gave -0.154). They now pass the values through the
check row, so they compile, and every later call checks again in the kernel and raises
eager's error type (ArgumentError, a ValueError and RuntimeError).
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops
from minigrad.errors import ArgumentError, OutOfRangeError

F = mg.nn.functional
RNG = np.random.default_rng(7)


def _bce(p, y):
    return F.binary_cross_entropy(p, y)


def _kl(x, y):
    return F.kl_div(x, y, reduction="batchmean")


def _clip(x, y):
    w = mg.tensor(np.ones(x.shape), requires_grad=True)
    ((w * x).sum() * y.sum()).backward()
    return mg.nn.utils.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)


# (fn, good arguments, arguments it refuses): the refused ones broken in the last element
CASES = {
    "binary_cross_entropy": (_bce, lambda: (RNG.uniform(0.1, 0.9, 6), RNG.uniform(0, 1, 6)),
                             lambda a, b: (np.append(a[:-1], 1.7), b)),
    "binary_cross_entropy NaN": (_bce, lambda: (RNG.uniform(0.1, 0.9, 6), RNG.uniform(0, 1, 6)),
                                 lambda a, b: (np.append(a[:-1], np.nan), b)),
    "kl_div": (_kl, lambda: (RNG.normal(size=(2, 3)), RNG.uniform(0, 1, (2, 3))),
               lambda a, b: (a, np.where(np.arange(6).reshape(2, 3) == 5, -0.5, b))),
    "clip_grad_norm_": (_clip, lambda: (RNG.normal(size=4), RNG.normal(size=2)),
                        lambda a, b: (np.append(a[:-1], np.inf), b)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_checks_compile_and_raise_in_the_kernel(name) -> None:
    fn, good, bad = CASES[name]
    jitted = mg.jit(fn, background=False)
    for _ in range(3):  # the trace, then the kernel twice
        arrays = good()
        expected = fn(*map(mg.tensor, arrays)).data
        np.testing.assert_allclose(jitted(*map(mg.tensor, arrays)).data, expected, rtol=1e-12)
    arrays = bad(*good())
    with pytest.raises(ArgumentError) as eager_error:
        fn(*map(mg.tensor, arrays))
    with pytest.raises(ArgumentError) as kernel_error:
        jitted(*map(mg.tensor, arrays))
    # the kernel raised (its label); fn then ran eagerly: eager's words, value and place
    assert str(kernel_error.value) == str(eager_error.value)
    assert jitted.stats()["compiles"] == 1 and jitted.stats()["kernel_errors"] == 1


def test_a_bad_value_in_a_large_array_is_seen() -> None:
    """70,000 elements (loops this size run in parallel): the loop holding the check runs
    serially, as an exception raised in Numba's prange is lost."""
    jitted = mg.jit(_bce, background=False)
    p, y = RNG.uniform(0.1, 0.9, 70_000), RNG.uniform(0, 1, 70_000)
    jitted(mg.tensor(p), mg.tensor(y))
    jitted(mg.tensor(p), mg.tensor(y))
    p[-1] = -0.25
    with pytest.raises(ArgumentError, match="must lie in"):
        jitted(mg.tensor(p), mg.tensor(y))


def test_gradients_pass_through_the_check() -> None:
    """First and second derivatives through the row equal those without it, eagerly and
    compiled (finite differences of BCE checked in tests/test_losses.py)."""
    def plain(x):
        return (ops.log(x) * ops.log(x)).sum()

    def checked(x):
        return (ops.log(ops.require_range(x, 0.0, 1.0, "x in [0, 1]")) * ops.log(x)).sum()

    def hvp(f):
        def run(x, v):
            (g,) = mg.grad(f(x), [x], create_graph=True)
            return g, mg.grad((g * v).sum(), [x])[0]
        return run

    for _ in range(3):
        x, v = RNG.uniform(0.2, 0.8, 5), RNG.normal(size=5)
        want = hvp(plain)(mg.tensor(x, requires_grad=True), mg.tensor(v))
        for f in (hvp(checked), mg.jit(hvp(checked), background=False)):
            got = f(mg.tensor(x, requires_grad=True), mg.tensor(v))
            for a, b in zip(got, want, strict=True):
                np.testing.assert_allclose(a.data, b.data, rtol=1e-12)


def test_a_sigmoid_bce_training_step_compiles_and_matches_eager() -> None:
    """The classifier a micrograd user writes first: Linear, sigmoid, BCE, SGD."""
    def stepper(model):
        opt = mg.optim.SGD(model.parameters(), lr=0.5)

        def step(x, y):
            opt.zero_grad()
            loss = F.binary_cross_entropy(model(x).sigmoid().reshape(-1), y)
            loss.backward()
            opt.step()
            return loss
        return step

    mg.manual_seed(0)
    a = mg.nn.Linear(2, 1)
    b = mg.nn.Linear(2, 1)
    b.load_state_dict(a.state_dict())
    eager, compiled = stepper(a), mg.jit(stepper(b), background=False)
    x = RNG.normal(size=(16, 2)).astype(np.float32)
    y = (x[:, 0] > x[:, 1]).astype(np.float32)
    for _ in range(5):
        np.testing.assert_allclose(compiled(mg.tensor(x), mg.tensor(y)).data,
                                   eager(mg.tensor(x), mg.tensor(y)).data, rtol=1e-5)
    assert compiled.stats()["compiles"] == 1


def test_the_row_refuses_what_eager_refuses() -> None:
    x = mg.tensor(np.array([[0.5, 0.2], [1.5, 0.1]]))
    with pytest.raises(ArgumentError, match=r"^x in \[0, 1\], got 1\.5 at position \(1, 0\)$"):
        ops.require_range(x, 0.0, 1.0, "x in [0, 1]")
    np.testing.assert_array_equal(ops.require_range(x, 0.0, 2.0, "x").data, x.data)


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_class_targets_out_of_range_raise_in_the_kernel(loss) -> None:
    """A target of -1 gave a loss under mg.jit (gather takes -1 as the last class) where
    eager raises; 3 of 3 classes raised gather's IndexError instead of eager's
    OutOfRangeError. ignore_index entries still pass, and each call's targets are used."""
    fn = getattr(F, loss)
    x = mg.tensor(RNG.normal(size=(4, 3)))
    _indices_follow_and_refuse(
        fn, lambda t: (x, t), ([0, 1, 2, 0], [2, -100, 1, 1], [1, 1, 0, -100]),
        ([0, -1, 2, 0], [0, 1, 3, 0], [-4, 0, 0, 0]), "is out of range for 3 classes")


def _indices_follow_and_refuse(fn, args_of, good, bad, message) -> None:
    """``mg.jit(fn)`` equals eager for each index list of ``good`` (``args_of`` makes the
    arguments from its tensor) and raises eager's OutOfRangeError (``message``) for each
    of ``bad``, from one compile."""
    jitted = mg.jit(fn, background=False)
    for indices in good:
        args = args_of(mg.tensor(np.array(indices)))
        np.testing.assert_allclose(jitted(*args).data, fn(*args).data, rtol=1e-12)
    for indices in bad:
        args = args_of(mg.tensor(np.array(indices)))
        with pytest.raises(OutOfRangeError, match=message):
            fn(*args)
        with pytest.raises(OutOfRangeError, match=message):
            jitted(*args)
    assert jitted.stats()["compiles"] == 1


@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_indices_out_of_range_raise_in_the_kernel(padding_idx) -> None:
    """An index of -1 gave the last row under mg.jit (the compiled index wraps it) where
    eager raises OutOfRangeError; 4 of 4 rows raised the index op's message. Each call's
    indices are used, from one compile."""
    weight = mg.tensor(RNG.normal(size=(4, 3)))

    def fn(i, w):
        return F.embedding(i, w, padding_idx=padding_idx)

    _indices_follow_and_refuse(fn, lambda i: (i, weight), ([0, 1], [3, 2], [1, 1]),
                               ([0, -1], [0, 4], [-4, 0]), "out of range for 4 embeddings")


def _written_at(x, i, v):
    y = x.clone()
    y[i] = v
    return y


def _written_in_row_1(x, i, v):
    y = x.clone()
    y[1, i] = v
    return y


@pytest.mark.parametrize("fn", [_written_at, _written_in_row_1,
                                lambda x, i, v: mg.index_put(x, (i,), v)])
def test_assignment_at_index_tensors_follows_each_call(fn) -> None:
    """x[i] = v (and index_put) read the positions i selects into Python, so under mg.jit
    every call wrote where the traced call's i said: y[tensor([1, -1])] = v after a trace
    with [0, 2] gave [1, 0, 2, 0], not [0, 1, 0, 2]. Repeated positions keep the last
    write, as eagerly."""
    x = mg.tensor(RNG.normal(size=(3, 4)))
    jitted = mg.jit(fn, background=False)
    for indices in ([0, 2], [1, -1], [2, 2], [-3, 1]):
        i, v = mg.tensor(np.array(indices)), mg.tensor(RNG.normal(size=(2, *x.shape[1:])))
        if fn is _written_in_row_1:
            v = mg.tensor(RNG.normal(size=2))
        np.testing.assert_array_equal(jitted(x, i, v).data, fn(x, i, v).data)
    assert jitted.stats()["compiles"] == 1
    with pytest.raises(OutOfRangeError):
        jitted(x, mg.tensor(np.array([0, 4])), v)


_W = RNG.normal(size=(4, 3))
_ONES = np.ones((2, 3))
# (fn, good index arrays, bad index arrays, eager's error type): the compiled bounds checks
# raised a plain IndexError naming another index (a negative was sent to the axis size)
INDEX_CASES = {
    "scatter": (lambda i: mg.scatter(mg.tensor(_W), 1, i, mg.tensor(_W[:, :1])),
                ([[0], [2], [1], [1]], [[1], [0], [2], [2]]), ([[0], [-1], [1], [1]],
                                                              [[0], [3], [1], [1]])),
    "scatter_add": (lambda i: mg.scatter_add(mg.tensor(_W), 1, i, mg.tensor(_W[:, :1])),
                    ([[0], [2], [1], [1]], [[1], [0], [2], [2]]), ([[0], [-1], [1], [1]],
                                                                  [[0], [3], [1], [1]])),
    "index_add": (lambda i: mg.index_add(mg.tensor(_W), 0, i, mg.tensor(_ONES)),
                  ([0, 2], [3, 3]), ([0, -1], [0, 4])),
    "index_copy": (lambda i: mg.index_copy(mg.tensor(_W), 0, i, mg.tensor(_ONES)),
                   ([0, 2], [3, 1]), ([0, -1], [0, 4])),
    "index_select": (lambda i: mg.index_select(mg.tensor(_W), 0, i),
                     ([0, 2], [3, 3]), ([0, -1], [0, 4])),
    "max_unpool1d": (lambda i: F.max_unpool1d(mg.tensor(np.array([[[1.0, 2.0]]])), i, 2),
                     ([[[0, 3]]], [[[1, 2]]]), ([[[0, -1]]], [[[0, 4]]])),
}


@pytest.mark.parametrize("name", list(INDEX_CASES))
def test_index_bounds_raise_eagers_error_in_the_kernel(name) -> None:
    fn, good, bad = INDEX_CASES[name]
    jitted = mg.jit(fn, background=False)
    for indices in good:
        i = mg.tensor(np.array(indices))
        np.testing.assert_array_equal(jitted(i).data, fn(i).data)
    for indices in bad:
        i = mg.tensor(np.array(indices))
        with pytest.raises(OutOfRangeError):
            fn(i)
        with pytest.raises(OutOfRangeError, match=f"^{name}"):
            jitted(i)
    assert jitted.stats()["compiles"] == 1


@pytest.mark.parametrize("size", [2, 0])
def test_masked_scatter_source_too_short_raises_in_the_kernel(size) -> None:
    """More true entries than source elements: eager's ArgumentError; compiled, gather's
    IndexError, or (empty source) no error at all - the input came back unchanged."""
    def fn(m, s):
        return mg.masked_scatter(mg.zeros(4, dtype=np.float64), m, s)

    jitted = mg.jit(fn, background=False)
    s = mg.tensor(np.arange(1.0, size + 1.0))
    for mask in ([True, False, True, False], [False, True, True, False], [False] * 4):
        m = mg.tensor(np.array(mask[:] if size else [False] * 4))
        np.testing.assert_array_equal(jitted(m, s).data, fn(m, s).data)
    m = mg.tensor(np.array([True, True, True, False]))
    with pytest.raises(ArgumentError, match="masked_scatter: expected source"):
        fn(m, s)
    with pytest.raises(ArgumentError, match="masked_scatter: expected source"):
        jitted(m, s)
    assert jitted.stats()["compiles"] == 1


AF = mg.autograd.functional
FUNCTIONAL_CASES = {
    "jacobian": lambda x, v: AF.jacobian(lambda t: t * t * v, x),
    "hessian": lambda x, v: AF.hessian(lambda t: (t * t * t * v).sum(), x),
    "vjp": lambda x, v: AF.vjp(lambda t: t * t, x, v)[1],
    "jvp": lambda x, v: AF.jvp(lambda t: t * t, x, v)[1],
    "hvp": lambda x, v: AF.hvp(lambda t: (t ** 3).sum(), x, v)[1],
    "vhp": lambda x, v: AF.vhp(lambda t: (t ** 3).sum(), x, v)[1],
    "jacobian of two": lambda x, v: AF.jacobian(lambda a, b: (a * b * b).sum(), (x, v))[1],
}


@pytest.mark.parametrize("name", list(FUNCTIONAL_CASES))
def test_autograd_functional_follows_each_call(name) -> None:
    """mg.autograd.functional differentiated at new leaves made from a copy of x.data,
    constants to mg.jit's tracer: every compiled call returned the traced call's
    derivatives (jacobian of t * t at [3, 5] gave diag(2, 4), the one at [1, 2])."""
    fn = FUNCTIONAL_CASES[name]
    jitted = mg.jit(fn, background=False)
    for _ in range(3):
        x, v = mg.tensor(RNG.normal(size=3)), mg.tensor(RNG.normal(size=3))
        np.testing.assert_allclose(jitted(x, v).data, fn(x, v).data, rtol=1e-12)
    assert jitted.stats()["compiles"] == 1


def test_reading_a_live_optimizer_option_is_refused_while_tracing() -> None:
    """group['lr'] is a float read from the group's lr tensor without telling mg.jit, so
    fn = x * group['lr'] kept the traced lr: after group['lr'] = 0.5 the compiled call
    still multiplied by 0.1 (the group's guard passes while the tensor changes). It is now
    refused as item() is; the optimizers' own steps (reading lr through the tensor, and
    momentum's zeroness under the guard) still compile once."""
    from minigrad.jit import NotCompilableError

    p = mg.nn.Parameter(np.ones(2))
    opt = mg.optim.SGD([p], lr=0.1, momentum=0.9)
    with pytest.raises(NotCompilableError, match="read into Python"):
        mg.jit(lambda x: x * opt.param_groups[0]["lr"], background=False)(mg.tensor([1.0]))

    def step(x):
        opt.zero_grad()
        loss = (p * x).sum()
        loss.backward()
        opt.step()
        return loss

    compiled = mg.jit(step, background=False)
    twin = mg.nn.Parameter(np.ones(2))
    twin_opt = mg.optim.SGD([twin], lr=0.1, momentum=0.9)
    for lr in (0.1, 0.5, 0.25):
        opt.param_groups[0]["lr"] = twin_opt.param_groups[0]["lr"] = lr
        compiled(mg.tensor([1.0, 2.0]))
        twin_opt.zero_grad()
        (twin * mg.tensor([1.0, 2.0])).sum().backward()
        twin_opt.step()
        np.testing.assert_allclose(p.data, twin.data, rtol=1e-12)
    assert compiled.stats()["compiles"] == 1


@pytest.mark.parametrize("make", [
    lambda x: mg.nn.Parameter(x) * 2,
    lambda x: mg.nn.ParameterList([x])[0] * 2,
    lambda x: mg.nn.Embedding(2, 1, _weight=x.reshape(2, 1))(mg.tensor([1])),
])
def test_a_parameter_made_from_a_traced_tensor_is_refused(make) -> None:
    """Parameter(t) copied t.data, unseen by the tracer: made inside a jitted fn from an
    argument it was a constant, so the compiled call kept the traced values
    (Parameter(x) * 2 at [1, 3] gave [2, 4]). It is refused now, as item() is; one made
    from a constant of fn still compiles."""
    from minigrad.jit import NotCompilableError

    with pytest.raises(NotCompilableError, match="read into Python"):
        mg.jit(make, background=False)(mg.tensor([1.0, 2.0]))
    jitted = mg.jit(lambda x: mg.nn.Parameter(mg.ones(2)) * x, background=False)
    for values in ([1.0, 2.0], [1.0, 3.0]):
        np.testing.assert_array_equal(jitted(mg.tensor(values)).data, values)
    assert jitted.stats()["compiles"] == 1


def test_min_scalar_type_of_a_0d_tensor_is_refused_while_tracing() -> None:
    """np.min_scalar_type(t) of a 0-d tensor answers by its value (3: uint8, 300: uint16)
    but was computed on t.data unseen by the tracer: jitted, it kept the traced answer.
    It is a value read now (refused while tracing); of an n-d tensor it is the dtype."""
    from minigrad.jit import NotCompilableError

    def size_of(x):
        return mg.tensor([float(np.dtype(np.min_scalar_type(x)).itemsize)])

    assert size_of(mg.tensor(300)).data[0] == 2
    with pytest.raises(NotCompilableError, match="read into Python"):
        mg.jit(size_of, background=False)(mg.tensor(3))
    jitted = mg.jit(lambda x: size_of(x) * x, background=False)
    for values in ([3, 4], [300, 4]):
        x = mg.tensor(np.array(values))
        np.testing.assert_array_equal(jitted(x).data, 8 * np.array(values))
    assert jitted.stats()["compiles"] == 1


@pytest.mark.parametrize("bad", [3, -4, np.iinfo(np.int64).min])
def test_compiled_gather_raises_eagers_error_for_any_index(bad) -> None:
    """The kernel's gather bounds check raised IndexError where eager's gather raises
    OutOfRangeError, and at the most negative int64 a MemoryError (Numba's str of that
    number): now eager's type and words, the number spelled out."""
    def fn(x, i):
        return mg.take_along_dim(x, i, 1) * 2.0

    jitted = mg.jit(fn, background=False)
    x = mg.tensor(np.arange(6.0).reshape(2, 3))
    for i in ([[0], [2]], [[1], [1]]):
        np.testing.assert_array_equal(jitted(x, mg.tensor(np.array(i))).data,
                                      fn(x, mg.tensor(np.array(i))).data)
    i = mg.tensor(np.array([[0], [bad]]))
    with pytest.raises(OutOfRangeError) as eager_error:
        fn(x, i)
    with pytest.raises(OutOfRangeError) as kernel_error:
        jitted(x, i)
    assert str(kernel_error.value) == str(eager_error.value)
    assert str(bad) in str(kernel_error.value)


def _inv_then_divide(a, x, b):
    return ops.sum(ops.inv(a)) + ops.sum(ops.floor_divide(x, b))


def _divide_then_inv(a, x, b):
    quotient = ops.sum(ops.floor_divide(x, b))
    return ops.sum(ops.inv(a)) + quotient


@pytest.mark.parametrize("fn", [_inv_then_divide, _divide_then_inv])
def test_a_compiled_call_raises_the_error_eager_meets_first(fn) -> None:
    """Fuzz seed 90712311, program 30: eager raised LinAlgError (a singular matrix) and the
    kernel ZeroDivisionError (an integer divisor of 0), the kernel's fused loops meeting
    the bad values in another order than eager's ops. A compiled call that raises now
    changes nothing and runs fn eagerly: eager's own error, whichever comes first."""
    jitted = mg.jit(fn, background=False)
    good = (RNG.normal(size=(3, 3)) + 3 * np.eye(3), np.arange(4), np.array([1, 2, 3, 1]))
    for _ in range(2):
        np.testing.assert_allclose(jitted(*map(mg.tensor, good)).data,
                                   fn(*map(mg.tensor, good)).data, rtol=1e-12)
    bad = (np.ones((3, 3)), np.arange(4), np.array([1, 0, 3, 1]))
    with pytest.raises(Exception) as eager_error:
        fn(*map(mg.tensor, bad))
    with pytest.raises(type(eager_error.value)) as kernel_error:
        jitted(*map(mg.tensor, bad))
    assert str(kernel_error.value) == str(eager_error.value)
    stats = jitted.stats()
    assert stats["compiles"] == 1 and stats["kernel_errors"] == 1
    assert stats["kernel_errors_eager_passed"] == 0


def test_a_kernel_that_raises_wrongly_gives_eagers_result_once() -> None:
    """A kernel raising where eager does not (a kernel bug, simulated): the call returns
    eager's result with a RuntimeWarning and counts it; the failed kernel changed nothing,
    so a training step's parameters move once, as eager moves them."""
    model = mg.nn.Linear(3, 1)
    twin = mg.nn.Linear(3, 1)
    twin.load_state_dict(model.state_dict())

    def stepper(net):
        opt = mg.optim.SGD(net.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = (net(x) ** 2).mean()
            loss.backward()
            opt.step()
            return loss
        return step

    eager, jitted = stepper(twin), mg.jit(stepper(model), background=False)
    x = mg.tensor(RNG.normal(size=(4, 3)))
    for _ in range(2):
        np.testing.assert_allclose(jitted(x).data, eager(x).data, rtol=1e-6)

    def broken(*arrays):
        raise RuntimeError("simulated kernel bug")

    jitted.last.fast.__globals__["kernel"] = broken
    with pytest.warns(RuntimeWarning, match="simulated kernel bug"):
        got = jitted(x)
    np.testing.assert_allclose(got.data, eager(x).data, rtol=1e-6)
    np.testing.assert_allclose(model.weight.data, twin.weight.data, rtol=1e-6)
    assert jitted.stats()["kernel_errors_eager_passed"] == 1
