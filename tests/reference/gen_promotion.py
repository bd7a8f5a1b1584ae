"""PyTorch 2.13's result dtypes for ops on mixed operands, for tests/test_promotion.py.

Run with the project's torch to regenerate ``promotion_torch.json``:

    .venv/bin/python tests/reference/gen_promotion.py

Each case is a list of operands, each (group, dtype name): group "dim" (a tensor of shape
(2,)), "zero" (a 0-d tensor) or "number" (a Python bool, int or float). ``compute()`` is
also imported by the tests when torch is installed, to compare against live PyTorch.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

HERE = Path(__file__).parent
OUTPUT = HERE / "promotion_torch.json"
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
          "float64"]
NUMBERS = {"bool": True, "int64": 2, "float32": 1.5}  # a Python number and its type tag


def cases() -> list[list[tuple[str, str]]]:
    """Every pair of operands over the groups (not two Python numbers)."""
    operands = [("dim", d) for d in DTYPES] + [("zero", d) for d in DTYPES] + [
        ("number", n) for n in NUMBERS]
    pairs = [list(p) for p in itertools.product(operands, repeat=2)
             if not (p[0][0] == "number" and p[1][0] == "number")]
    return pairs


def compute() -> dict[str, str]:
    """case key -> the dtype name torch.result_type gives."""
    import torch

    def operand(group: str, name: str):
        if group == "number":
            return NUMBERS[name]
        dtype = getattr(torch, name)
        return torch.ones((2,) if group == "dim" else (), dtype=dtype)

    results = {}
    for case in cases():
        first, second = (operand(*o) for o in case)
        result = torch.result_type(first, second)
        results[key(case)] = str(result).removeprefix("torch.")
    return results


def key(case: list[tuple[str, str]]) -> str:
    return " ".join(f"{g}:{d}" for g, d in case)


if __name__ == "__main__":
    OUTPUT.write_text(json.dumps(compute(), indent=0, sort_keys=True) + "\n")
    print(f"wrote {OUTPUT}")
