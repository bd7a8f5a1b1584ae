"""The norms-vs-batch experiment (issue 16): the CNN's norms, the runs, the CLI figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import cli, norms_experiment
from minigrad.cnn import cnn
from minigrad.experiments import load_dataset


def _outputs_of_first_sample(model: mg.nn.Module, batch: np.ndarray) -> np.ndarray:
    with mg.no_grad():
        return model(mg.tensor(batch)).data[0]


@pytest.mark.parametrize("norm", ["ln", "gn"])
def test_per_sample_norms_ignore_the_rest_of_the_batch(norm: str) -> None:
    """LayerNorm and GroupNorm normalise each sample alone: sample 0's output is the same
    whatever shares its batch, in training mode too. BatchNorm's (training mode) is not."""
    rng = np.random.default_rng(0)
    first = rng.random((1, 64)).astype(np.float32)
    batch_a = np.concatenate([first, rng.random((3, 64), dtype=np.float32)])
    batch_b = np.concatenate([first, 5 * rng.random((7, 64), dtype=np.float32)])
    for build in (lambda n=norm: cnn(norm=n), lambda: cnn(norm="bn")):
        mg.manual_seed(0)
        model = build()
        model.train()
        same = np.allclose(_outputs_of_first_sample(model, batch_a),
                           _outputs_of_first_sample(model, batch_b), rtol=1e-5, atol=1e-6)
        is_batch_norm = any(isinstance(m, mg.nn.BatchNorm2d) for m in model.modules())
        assert same != is_batch_norm


def test_cnn_norm_layers() -> None:
    kinds = {norm: [type(m).__name__ for m in cnn(norm=norm).modules()]
             for norm in ("bn", "ln", "gn", "plain")}
    assert kinds["bn"].count("BatchNorm2d") == 2
    groups = [m.num_groups for m in cnn(norm="gn").modules() if isinstance(m, mg.nn.GroupNorm)]
    assert groups == [4, 8]  # 16 and 32 channels, 4 per group
    assert [m.num_groups for m in cnn(norm="ln").modules()
            if isinstance(m, mg.nn.GroupNorm)] == [1, 1]
    assert not {"BatchNorm2d", "GroupNorm"} & set(kinds["plain"])
    with pytest.raises(ValueError, match="norm must be one of"):
        cnn(norm="instance")


def test_steps_cover_the_same_epochs() -> None:
    assert norms_experiment.steps_for(4, 1000, 2) == 2000
    assert norms_experiment.steps_for(4, 1000, 128) == 31
    assert norms_experiment.steps_for(0.01, 10, 128) == 1


def test_a_small_run_and_its_figure(tmp_path: Path) -> None:
    X_train, X_test, y_train, y_test = load_dataset("digits")
    split = (X_train[:96], X_test[:60], y_train[:96], y_test[:60])
    seen = []
    table = norms_experiment.norms_vs_batch(
        (4, 32), ("bn", "plain"), epochs=1, base_lr=0.1, seeds=(0, 1), split=split,
        progress=lambda *run: seen.append(run))
    assert [run[:3] for run in seen] == [("bn", 4, 0), ("bn", 4, 1), ("bn", 32, 0),
                                         ("bn", 32, 1), ("plain", 4, 0), ("plain", 4, 1),
                                         ("plain", 32, 0), ("plain", 32, 1)]
    for accuracies in table.values():
        assert accuracies.shape == (2, 2)
        assert np.all((accuracies >= 0) & (accuracies <= 1))
        assert np.all(accuracies * 60 == np.round(accuracies * 60))  # counts of 60 samples
    text = norms_experiment.format_table(table, (4, 32))
    assert "BatchNorm" in text and "no normalisation" in text
    paths = norms_experiment.plot(table, (4, 32), tmp_path / "figure", "title")
    assert [p.suffix for p in paths] == [".png", ".svg"]
    assert paths[0].read_bytes()[:4] == b"\x89PNG"
    assert "<svg" in paths[1].read_text()


def test_cli_runs_the_experiment(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = cli.main(["experiment", "norms-vs-batch", "--batch-sizes", "64", "--epochs",
                     "0.05", "--out", str(tmp_path)])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.count("batch   64  seed 0") == 4  # one run per norm
    assert (tmp_path / "norms-vs-batch.png").exists()
    assert (tmp_path / "norms-vs-batch.svg").exists()
