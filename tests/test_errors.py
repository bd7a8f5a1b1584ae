"""minigrad's errors are the builtin class numpy raises and the class PyTorch raises
(minigrad/errors.py): checked on a table of bad calls against the class PyTorch 2.13
raises for the same call (written in the table, and checked live when torch imports), and
on minigrad's source (no bare ValueError/TypeError/IndexError raise)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F

try:
    import torch
except ImportError:  # pragma: no cover - torch is a test oracle, not a dependency
    torch = None

BARE_RAISE = re.compile(r"^\s*raise (ValueError|TypeError|IndexError)\(", re.M)


def test_minigrad_raises_no_bare_builtin_error() -> None:
    source = Path(mg.__file__).parent
    bare = [f"{path.relative_to(source)}:{text.count(chr(10), 0, m.start()) + 1}"
            for path in sorted(source.rglob("*.py")) if path.name != "errors.py"
            for text in [path.read_text()] for m in BARE_RAISE.finditer(text)]
    assert not bare, f"raise minigrad.errors' classes instead of the bare builtins: {bare}"


def _x(*shape: int, dtype: str = "float32") -> np.ndarray:
    return np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape) / 7 + 0.5


# (name, minigrad call, the same call in PyTorch, the class PyTorch 2.13 raises)
CASES = [
    ("flip-repeated-dim", lambda m: m.tensor(_x(3, 4)).flip((0, 0)),
     lambda t: t.tensor(_x(3, 4)).flip((0, 0)), "RuntimeError"),
    ("sum-dim-out-of-range", lambda m: m.tensor(_x(3, 4)).sum(5),
     lambda t: t.tensor(_x(3, 4)).sum(5), "IndexError"),
    ("sum-0d-dim-1", lambda m: m.tensor(np.float32(1)).sum(1),
     lambda t: t.tensor(np.float32(1)).sum(1), "IndexError"),
    ("permute-too-few-dims", lambda m: m.tensor(_x(3, 4, 5)).permute(0, 2),
     lambda t: t.tensor(_x(3, 4, 5)).permute(0, 2), "RuntimeError"),
    ("permute-repeated-dim", lambda m: m.tensor(_x(3, 4, 5)).permute(0, 0, 1),
     lambda t: t.tensor(_x(3, 4, 5)).permute(0, 0, 1), "RuntimeError"),
    ("reshape-two-minus-ones", lambda m: m.tensor(_x(3, 4)).reshape(-1, -1, 2),
     lambda t: t.tensor(_x(3, 4)).reshape(-1, -1, 2), "RuntimeError"),
    ("reshape-wrong-size", lambda m: m.tensor(_x(3, 4)).reshape(5, 2),
     lambda t: t.tensor(_x(3, 4)).reshape(5, 2), "RuntimeError"),
    ("roll-shifts-dims-lengths", lambda m: m.tensor(_x(3, 3)).roll(1, (0, 1)),
     lambda t: t.tensor(_x(3, 3)).roll(1, (0, 1)), "RuntimeError"),
    ("matmul-inner-sizes", lambda m: m.tensor(_x(2, 4)) @ m.tensor(_x(1, 3)),
     lambda t: t.tensor(_x(2, 4)) @ t.tensor(_x(1, 3)), "RuntimeError"),
    ("matmul-0d", lambda m: m.tensor(np.float32(3)) @ m.tensor(_x(3, 3)),
     lambda t: t.tensor(np.float32(3)) @ t.tensor(_x(3, 3)), "RuntimeError"),
    ("clamp-no-bounds", lambda m: m.tensor(_x(3)).clamp(),
     lambda t: t.tensor(_x(3)).clamp(), "RuntimeError"),
    ("add-shapes", lambda m: m.tensor(_x(2, 3)) + m.tensor(_x(3, 2)),
     lambda t: t.tensor(_x(2, 3)) + t.tensor(_x(3, 2)), "RuntimeError"),
    ("cat-shapes", lambda m: m.cat([m.tensor(_x(2, 3)), m.tensor(_x(2, 4))]),
     lambda t: t.cat([t.tensor(_x(2, 3)), t.tensor(_x(2, 4))]), "RuntimeError"),
    ("bitwise-and-float", lambda m: m.tensor(_x(4)).bitwise_and(m.tensor(_x(4))),
     lambda t: t.tensor(_x(4)).bitwise_and(t.tensor(_x(4))), "RuntimeError"),
    ("einsum-sizes", lambda m: m.einsum("ij,jk->ik", m.tensor(_x(2, 3)), m.tensor(_x(4, 2))),
     lambda t: t.einsum("ij,jk->ik", t.tensor(_x(2, 3)), t.tensor(_x(4, 2))), "RuntimeError"),
    ("conv2d-kernel-too-big", lambda m: F.conv2d(m.tensor(_x(1, 1, 2, 2)),
                                                 m.tensor(_x(1, 1, 3, 3))),
     lambda t: t.nn.functional.conv2d(t.tensor(_x(1, 1, 2, 2)), t.tensor(_x(1, 1, 3, 3))),
     "RuntimeError"),
    ("gather-rank", lambda m: m.tensor(_x(4, 5)).gather(0, m.tensor(np.array([1]))),
     lambda t: t.tensor(_x(4, 5)).gather(0, t.tensor(np.array([1]))), "RuntimeError"),
    ("gather-dim", lambda m: m.tensor(_x(4, 5)).gather(2, m.tensor(np.zeros((4, 5), int))),
     lambda t: t.tensor(_x(4, 5)).gather(2, t.tensor(np.zeros((4, 5), int))), "IndexError"),
    ("index-out-of-range", lambda m: m.tensor(_x(3))[5],
     lambda t: t.tensor(_x(3))[5], "IndexError"),
    ("index-float", lambda m: m.tensor(_x(3))[1.5],
     lambda t: t.tensor(_x(3))[1.5], "IndexError"),
    ("softmax-dim", lambda m: F.softmax(m.tensor(_x(3)), dim=2),
     lambda t: t.softmax(t.tensor(_x(3)), dim=2), "IndexError"),
    ("squeeze-dim", lambda m: m.tensor(_x(3)).squeeze(3),
     lambda t: t.tensor(_x(3)).squeeze(3), "IndexError"),
    ("transpose-dim", lambda m: m.tensor(_x(2, 3)).transpose(0, 2),
     lambda t: t.tensor(_x(2, 3)).transpose(0, 2), "IndexError"),
]


@pytest.mark.parametrize(("name", "call", "torch_call", "torch_class"), CASES,
                         ids=[case[0] for case in CASES])
def test_error_is_the_class_pytorch_raises(name, call, torch_call, torch_class) -> None:
    expected = {"RuntimeError": RuntimeError, "IndexError": IndexError}[torch_class]
    with pytest.raises(expected) as caught:
        call(mg)
    assert isinstance(caught.value, mg.MinigradError), type(caught.value)
    if torch is not None:
        with pytest.raises(Exception) as torch_caught:
            torch_call(torch)
        assert isinstance(torch_caught.value, expected), (name, type(torch_caught.value))


def test_errors_stay_the_numpy_classes() -> None:
    """The same errors are still what numpy users catch."""
    with pytest.raises(ValueError, match="inner dimensions differ"):
        mg.tensor(_x(2, 4)) @ mg.tensor(_x(1, 3))
    with pytest.raises(TypeError, match="integer or bool tensors only"):
        mg.tensor(_x(4)).bitwise_and(mg.tensor(_x(4)))
    with pytest.raises(ValueError, match="out of range"):
        mg.tensor(_x(3, 4)).sum(5)
    with pytest.raises(TypeError, match=r"unsupported index 1\.5"):
        mg.tensor(_x(3))[1.5]
    with pytest.raises(IndexError, match="must hold integers or booleans, got float64"):
        mg.tensor(_x(3))[[1.5]]  # PyTorch 2.13 reads [1.5] as [1]; minigrad refuses it


INDEX_KEYS = [
    ((0,),), (((0,),),), ((1, 0, -1),), ([True, False, 2],), ((1, 0), slice(None), 2),
    (slice(None), [[1], [2]], (0, 1)), (1, (2, 1, 0), None, (2, 1, 0)),
]


@pytest.mark.parametrize("key", INDEX_KEYS, ids=[repr(k) for k in INDEX_KEYS])
def test_sequences_inside_a_key_are_index_arrays(key) -> None:
    """PyTorch (and numpy) read a tuple or list inside an index key as an index array;
    a list mixing bools and ints as integers. Values and gradients vs PyTorch."""
    data = _x(4, 5, 3, 4, dtype="float64")
    x = mg.tensor(data, requires_grad=True)
    out = x[key]
    (out * out).sum().backward()
    if torch is None:
        pytest.skip("torch not importable")
    tx = torch.tensor(data, requires_grad=True)
    tout = tx[key]
    (tout * tout).sum().backward()
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_roll_takes_one_shift_in_a_sequence_without_dims() -> None:
    x = _x(2, 4)
    np.testing.assert_array_equal(mg.tensor(x).roll((1,)).numpy(),
                                  np.roll(x, 1))  # numpy: the flattened tensor, shape kept
    with pytest.raises(RuntimeError, match="one integer"):
        mg.tensor(x).roll((1, 2))


def test_mean_with_an_empty_result_is_empty() -> None:
    """Averaging no rows gives no values (PyTorch too); 0/0 is still refused, not NaN."""
    x = mg.zeros((0, 3), requires_grad=True)
    out = x.mean(1)
    out.sum().backward()
    assert out.shape == (0,) and x.grad.shape == (0, 3)
    assert mg.zeros((0, 3)).var(1).shape == (0,)
    with pytest.raises(ValueError, match="cannot average over empty axes"):
        mg.zeros((3, 0)).mean(1)
