"""The short example scripts run and print what they promise."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_seed_relu_example_prints_zero_gradients(capsys):
    runpy.run_path(str(EXAMPLES / "seed_relu.py"), run_name="__main__")
    assert "tensor([0., 0.])" in capsys.readouterr().out


def test_toy_network_reaches_97_percent(capsys):
    runpy.run_path(str(EXAMPLES / "toy_network.py"), run_name="__main__")
    accuracy = float(capsys.readouterr().out.split()[-1])
    assert accuracy >= 0.97


def test_readme_toy_network_is_the_example():
    readme = (EXAMPLES.parent / "README.md").read_text()
    code = (EXAMPLES / "toy_network.py").read_text().split('"""\n', 2)[-1]
    for line in code.splitlines():
        line = line.split("  # noqa")[0]
        if line.strip():
            assert line in readme, line
    if "## A toy network" not in readme:
        pytest.fail("README lacks the 'A toy network' section")
