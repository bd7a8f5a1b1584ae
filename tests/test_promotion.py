"""Type promotion against PyTorch 2.13's torch.result_type (written out by
tests/reference/gen_promotion.py, and live when torch is importable)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from minigrad.promotion import number_dtype, promote_types, result_type
from tests.reference import gen_promotion

EXPECTED = json.loads(gen_promotion.OUTPUT.read_text())


def _ours(case: list[tuple[str, str]]) -> str:
    groups: dict[str, list[np.dtype]] = {"dim": [], "zero": [], "number": []}
    for group, name in case:
        value = gen_promotion.NUMBERS[name] if group == "number" else None
        groups[group].append(number_dtype(value) if group == "number" else np.dtype(name))
    return result_type(groups["dim"], groups["zero"], groups["number"]).name


def test_every_pair_of_operand_kinds_as_pytorch() -> None:
    cases = gen_promotion.cases()
    assert len(EXPECTED) == len(cases) == 432  # 21 x 21 operand pairs, minus number-number
    wrong = {gen_promotion.key(c): (_ours(c), EXPECTED[gen_promotion.key(c)]) for c in cases
             if _ours(c) != EXPECTED[gen_promotion.key(c)]}
    assert not wrong, wrong


def test_the_cases_where_numpy_differs() -> None:
    """The rule is not numpy's: these are the differences a PyTorch user meets."""
    f16, f32, f64 = np.dtype("float16"), np.dtype("float32"), np.dtype("float64")
    i32, i64 = np.dtype("int32"), np.dtype("int64")
    assert np.promote_types(i32, f32) == f64 and promote_types(i32, f32) == f32
    assert np.promote_types(i64, f16) == f64 and promote_types(i64, f16) == f16
    assert result_type([f32], [f64], []) == f32  # numpy 2: float64
    assert result_type([i32], [], [number_dtype(1.5)]) == f32
    assert result_type([i32], [i64], [number_dtype(3)]) == i32


def test_live_pytorch_agrees_with_the_written_values() -> None:
    pytest.importorskip("torch")
    assert gen_promotion.compute() == EXPECTED


BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "lt": lambda a, b: a < b}


def _operand(group: str, name: str, module):
    """A minigrad or torch operand: (2,) or 0-d tensor of ``name``, or a Python number."""
    if group == "number":
        return gen_promotion.NUMBERS[name]
    values = np.array([3, 1]) if group == "dim" else np.array(2)
    array = values.astype(name)
    if module is None:
        import minigrad as mg
        return mg.tensor(array)
    return module.from_numpy(array)


@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_ops_compute_in_pytorchs_dtype(op: str) -> None:
    """Values and dtypes of eager ops on mixed operands against PyTorch (live), over the
    non-bool dtypes (bool arithmetic differs: PyTorch refuses bool - bool)."""
    torch = pytest.importorskip("torch")
    kinds = [("dim", d) for d in ("uint8", "int32", "int64", "float16", "float32", "float64")]
    kinds += [("zero", "int32"), ("zero", "float64"), ("number", "int64"),
              ("number", "float32")]
    for first in kinds:
        for second in kinds:
            if first[0] == second[0] == "number":
                continue
            ours = BINARY[op](_operand(*first, None), _operand(*second, None))
            theirs = BINARY[op](_operand(*first, torch), _operand(*second, torch))
            theirs = theirs if isinstance(theirs, torch.Tensor) else torch.tensor(theirs)
            where = f"{op} {first} {second}"
            assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), where
            np.testing.assert_allclose(ours.data.astype(np.float64),
                                       theirs.double().numpy(), rtol=1e-3, err_msg=where)
