"""The ``minigrad train`` and ``minigrad experiment`` subcommands (run in-process)."""

from __future__ import annotations

import re

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
