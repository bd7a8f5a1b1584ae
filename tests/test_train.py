"""The ``minigrad train`` and ``minigrad experiment`` subcommands (run in-process)."""

from __future__ import annotations

import os
import re
import tempfile

import numpy as np
import pytest

import minigrad as mg
from minigrad.cli import main

pytest.importorskip("matplotlib")


pytestmark = pytest.mark.usefixtures("one_blas_thread")


def _png_ok(path) -> None:
    assert path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000


def test_train_bn_mlp_reaches_97_percent_on_moons(tmp_path, capsys):
    code = main(["train", "--dataset", "moons", "--noise", "0.15", "--model", "2-64-64-2",
                 "--bn", "--steps", "300", "--lr", "0.1", "--out", str(tmp_path),
                 "--no-progress"])
    assert code == 0
    out = capsys.readouterr().out
    accuracy = float(re.search(r"test accuracy ([0-9.]+)", out).group(1))
    assert accuracy >= 0.97
    for name in ("training.png", "boundary.png"):
        _png_ok(tmp_path / name)
    state = mg.load(tmp_path / "model.npz")
    assert "1.running_mean" in state and state["0.weight"].shape == (64, 2)


def test_saved_model_reproduces_the_accuracy(tmp_path, capsys):
    main(["train", "--dataset", "xor", "--model", "2-16-2", "--bn", "--steps", "60",
          "--lr", "0.2", "--out", str(tmp_path), "--no-progress"])
    printed = float(re.search(r"test accuracy ([0-9.]+)", capsys.readouterr().out).group(1))
    from minigrad import experiments as ex

    model = ex.mlp([2, 16, 2], "relu", "bn")
    model.load_state_dict(mg.load(tmp_path / "model.npz"))
    split = ex.load_dataset("xor", 1000, None, 0)
    assert ex.accuracy(model, split[1], split[3]) == pytest.approx(printed, abs=1e-4)


def test_train_rejects_a_model_that_does_not_fit(tmp_path):
    with pytest.raises(SystemExit, match=r"3-8-2 does not fit moons: it has 2 features"):
        main(["train", "--dataset", "moons", "--model", "3-8-2", "--out", str(tmp_path)])


def test_train_jit_flag(tmp_path, capsys):
    main(["train", "--dataset", "xor", "--model", "2-8-2", "--steps", "5", "--jit",
          "--out", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    if not hasattr(mg, "jit"):
        assert "not available" in out
    else:
        assert "compiling the training step failed" not in out
    assert "test accuracy" in out


def test_jitted_training_matches_eager():
    if not hasattr(mg, "jit"):
        pytest.skip("mg.jit is not available")
    from minigrad import experiments as ex

    split = ex.load_dataset("moons", 400, 0.15, 0)
    losses = []
    for jit in (None, mg.jit):
        mg.manual_seed(0)
        model = ex.mlp([2, 16, 16, 2], "relu", "bn")
        result = ex.train_classifier(model, split, 0.1, 30, 32, 0, "momentum", 10, jit=jit)
        losses.append(np.array(result["loss"]))
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5, atol=1e-6)


def test_experiment_writes_figure_png_and_svg(tmp_path, capsys):
    code = main(["experiment", "bn-vs-plain", "--hidden", "16,16", "--steps", "40",
                 "--lr", "1.0", "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "with BatchNorm" in out and "without normalisation" in out
    _png_ok(tmp_path / "bn-vs-plain.png")
    svg = (tmp_path / "bn-vs-plain.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


def test_smooth_is_a_running_mean():
    from minigrad.train import _smooth, parse_model

    np.testing.assert_allclose(_smooth([1.0, 3.0, 5.0], window=2), [1.0, 2.0, 4.0])
    assert parse_model("2-64-64-2") == [2, 64, 64, 2]
    with pytest.raises(ValueError, match="2-64-64-2"):
        parse_model("2x64")


def test_tiered_training_that_compiles_matches_eager(capsys):
    """train_classifier with jit_min_seconds=0: 5 eager steps, then the compiled step, with
    eager's losses. (The compile closure once named the variable the tiered wrapper was
    assigned to, so it compiled the wrapper itself: RecursionError.)"""
    if not hasattr(mg, "jit"):
        pytest.skip("mg.jit is not available")
    from minigrad import experiments as ex

    split = ex.load_dataset("moons", 400, 0.15, 0)
    losses = []
    for kwargs in ({}, {"jit": mg.jit, "jit_min_seconds": 0.0}):
        mg.manual_seed(0)
        model = ex.mlp([2, 16, 16, 2], "relu", "bn")
        result = ex.train_classifier(model, split, 0.1, 30, 32, 0, "momentum", 10, **kwargs)
        losses.append(np.array(result["loss"]))
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5, atol=1e-6)
    captured = capsys.readouterr()
    assert "failed" not in captured.out + captured.err
    assert "not compiling" not in captured.err


def test_a_tiered_step_compiles_only_when_the_rest_of_the_run_is_long(capsys):
    """experiments.Tiered: PROBE_STEPS eager steps, then the compiled step if the steps
    left would take at least min_seconds eagerly, else eager to the end (said on stderr)."""
    from minigrad import experiments as ex

    calls: list[str] = []

    def eager(x, y):
        calls.append("eager")
        return x

    def compiled(x, y):
        calls.append("compiled")
        return x

    made: list[int] = []

    def make():
        made.append(1)
        return compiled

    x = mg.tensor(1.0)
    short = ex.Tiered(eager, make, steps=20, min_seconds=1e6)
    for _ in range(20):
        short(x, x)
    assert calls == ["eager"] * 20 and not made
    assert "--jit: not compiling: the 15 steps left" in capsys.readouterr().err
    calls.clear()
    long = ex.Tiered(eager, make, steps=20, min_seconds=0.0)
    for _ in range(20):
        long(x, x)
    assert calls == ["eager"] * ex.PROBE_STEPS + ["compiled"] * (20 - ex.PROBE_STEPS)
    assert made == [1]


def test_train_jit_auto_on_a_short_run_never_loads_numba():
    """`minigrad train --jit` on a run shorter than compiling is worth stays eager without
    importing Numba; `--jit always` compiles (a fresh process each)."""
    if not hasattr(mg, "jit"):
        pytest.skip("mg.jit is not available")
    import subprocess
    import sys

    code = ("import sys\nfrom minigrad.cli import main\n"
            "main(['train', '--dataset', 'xor', '--model', '2-8-2', '--steps', '20', "
            "'--no-progress', '--out', sys.argv[2], '--jit'] + sys.argv[1:2])\n"
            "print('numba loaded:', 'numba' in sys.modules)\n")
    for mode, loaded in (("auto", False), ("always", True)):
        with tempfile.TemporaryDirectory() as out:
            done = subprocess.run([sys.executable, "-c", code, mode, out], check=False,
                                  capture_output=True, text=True, timeout=600,
                                  env={**os.environ, "MINIGRAD_JIT_BACKGROUND": "0"})
        assert done.returncode == 0, done.stderr
        assert f"numba loaded: {loaded}" in done.stdout
        assert ("not compiling" in done.stderr) is (mode == "auto")
