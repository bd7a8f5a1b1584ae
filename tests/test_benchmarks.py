"""Smoke test of the benchmark harness: tiny sizes, few repeats, no timing assertions.

Checks that every row is produced (with a timing, or a status saying why not), that a peer
that cannot be imported gives a "not installed" row, that the minigrad jit rows appear as
soon as ``mg.jit`` exists, and that the results JSON (and the plot) are written.
"""

from __future__ import annotations

import json
import sys

import pytest

import minigrad
from benchmarks import bn, compile_latency, mlp
from benchmarks import run as bench_run
from minigrad.timing import (
    NOT_AVAILABLE_YET,
    NOT_INSTALLED,
    format_rows,
    time_bn,
    time_side_by_side,
)

TINY = ((16, 8),)


def _identity_jit(fn, **options):
    return fn


@pytest.fixture
def no_jit(monkeypatch):
    """As before mg.jit existed (it is a lazy attribute of the package)."""
    monkeypatch.setattr(minigrad, "jit", None, raising=False)


@pytest.fixture
def fake_jit(monkeypatch):
    """mg.jit as the identity: the harness's jit rows run eagerly."""
    monkeypatch.setattr(minigrad, "jit", _identity_jit, raising=False)


@pytest.fixture
def no_peers(monkeypatch):
    """`import torch` / `import jax` raise ImportError, as on a machine without them."""
    for name in ("torch", "jax", "jaxlib"):
        monkeypatch.setitem(sys.modules, name, None)


def _by_name(rows):
    return {row["name"]: row for row in rows}


def test_bn_every_row_and_files(tmp_path, fake_jit):
    payload = bn.run(quick=True, sizes=TINY, dtypes=("float32", "float64"), out_dir=tmp_path)
    assert [r["dtype"] for r in payload["results"]] == ["float32", "float64"]
    for result in payload["results"]:
        rows = _by_name(result["rows"])
        assert list(rows) == list(bn.ORDER)
        for name in bn.ORDER:
            if name in ("PyTorch (CPU)", "JAX jit") and rows[name]["status"] == NOT_INSTALLED:
                continue
            assert rows[name]["status"] == "ok", rows[name]
            assert rows[name]["median_ms"] > 0
            if name != bn.FLOOR:
                tolerance = 1e-3 if result["dtype"] == "float32" else 1e-9
                assert rows[name]["max rel err"] < tolerance, name
        assert [r["ratio"] for r in result["ratios"]] == [r[0] for r in bn.RATIOS]
    saved = json.loads((tmp_path / "bn.json").read_text())
    assert saved["results"][0]["rows"][0]["name"] == bn.ORDER[0]
    assert saved["bandwidth"]["GB_per_s"] > 0
    pytest.importorskip("matplotlib")
    assert (tmp_path / "bn.png").stat().st_size > 0


def test_bn_without_jit_and_peers(tmp_path, no_jit, no_peers, capsys):
    payload = bn.run(quick=True, sizes=TINY, dtypes=("float32",), out_dir=tmp_path,
                     plot=False)
    rows = _by_name(payload["results"][0]["rows"])
    assert list(rows) == list(bn.ORDER)
    assert rows["PyTorch (CPU)"]["status"] == NOT_INSTALLED
    assert rows["JAX jit"]["status"] == NOT_INSTALLED
    assert rows["minigrad jit composed"]["status"] == NOT_AVAILABLE_YET
    assert rows["minigrad jit fused"]["status"] == NOT_AVAILABLE_YET
    assert rows["seed numpy (staged)"]["status"] == "ok"
    ratio = _by_name([{"name": r["ratio"], **r} for r in payload["results"][0]["ratios"]])
    assert ratio["PyTorch / jit composed"]["value"] is None
    assert ratio["eager composed / seed numpy"]["value"] > 0
    printed = capsys.readouterr().out
    assert "PyTorch (CPU)                  not installed" in printed
    assert "torch not installed" in printed


def test_mlp_every_row_same_first_loss(tmp_path, fake_jit):
    payload = mlp.run(quick=True, out_dir=tmp_path)
    rows = _by_name(payload["rows"])
    assert list(rows) == list(mlp.ORDER)
    losses = [row["loss@step1"] for row in rows.values() if row["status"] == "ok"]
    assert len(losses) >= 4  # the four minigrad rows at least
    assert max(losses) - min(losses) < 1e-4
    assert json.loads((tmp_path / "mlp.json").read_text())["rows"]


def test_mlp_without_jit_and_peers(tmp_path, no_jit, no_peers):
    rows = _by_name(mlp.run(quick=True, out_dir=tmp_path)["rows"])
    assert list(rows) == list(mlp.ORDER)
    assert rows["minigrad eager (BN composed)"]["status"] == "ok"
    assert rows["minigrad jit (BN composed)"]["status"] == NOT_AVAILABLE_YET
    assert rows["PyTorch eager"]["status"] == NOT_INSTALLED
    assert rows["JAX jit"]["status"] == NOT_INSTALLED


def test_compile_latency_rows_without_jit(tmp_path, no_jit):
    found = compile_latency.run(quick=True, out_dir=tmp_path)["rows"]
    assert [row["name"] for row in found] == [
        "cold (composed)", "disk cache (composed)", "cold (fused)", "disk cache (fused)"]
    assert {row["status"] for row in found} == {NOT_AVAILABLE_YET}


def test_compile_latency_child_measures(fake_jit):
    result = compile_latency.child("composed", 16, 8, "float32")
    assert result["first_call_s"] >= 0 and result["outputs"] == 4


def test_run_main_quick(tmp_path, no_jit):
    code = bench_run.main(["--quick", "--only", "bn", "--sizes", "16x8", "--dtypes",
                           "float64", "--out", str(tmp_path), "--no-plot"])
    assert code == 0
    assert (tmp_path / "bn.json").exists()


def test_time_bn_for_compare(no_jit):
    rows = time_bn(16, 8, "float32", quick=True)
    names = [row.name for row in rows]
    assert names == ["minigrad eager composed", "minigrad eager fused", "minigrad jit composed",
                     "minigrad jit fused", "seed numpy (staged)", "numpy closed form"]
    assert "not available yet" in format_rows(rows)


def test_time_side_by_side_keeps_going_after_an_error():
    calls = {"n": 0}

    def flaky():
        calls["n"] += 1
        if calls["n"] > 10:  # 1 warm-up + 5 calibration calls, then fails in round 3
            raise RuntimeError("broke mid-run")

    found = time_side_by_side({"ok": lambda: None, "flaky": flaky}, warmup=1, min_rounds=3,
                              max_rounds=5, budget=0.1, min_sample=0.0)
    assert found["ok"].samples >= 3
    assert isinstance(found["flaky"], RuntimeError)


def test_draw_rows_and_file(tmp_path, monkeypatch):
    from benchmarks import draw

    monkeypatch.setattr(draw, "QUICK_SIZES", (40,))
    monkeypatch.setattr(draw, "load_page", lambda page: {"load_status": "skipped"})
    payload = draw.run(quick=True, out_dir=tmp_path)
    (row,) = payload["rows"]
    assert row["nodes"] >= 40 and row["forward"] + row["steps"] == row["nodes"]
    assert row["boxes"] == row["nodes"] and row["frames"] == row["steps"]  # not folded
    assert json.loads((tmp_path / "draw.json").read_text())["rows"][0]["nodes"] == row["nodes"]
    assert "skipped" in draw.format_table(payload["rows"])
    assert "draw" in bench_run.BENCHMARKS
