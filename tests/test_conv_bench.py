"""Smoke test of the conv benchmark (benchmarks/conv.py): every row, the first values agree
across libraries (the same weights and data), the JSON is written. mg.jit is replaced by
the identity here (the jitted conv and CNN steps are tested in test_conv_jit/test_conv_cnn)."""

from __future__ import annotations

import json

import pytest

import minigrad
from benchmarks import conv
from benchmarks import run as bench_run

pytest.importorskip("sklearn")


def test_conv_benchmark_rows_agree(tmp_path, monkeypatch):
    monkeypatch.setattr(minigrad, "jit", lambda fn: fn, raising=False)
    payload = conv.run(quick=True, out_dir=tmp_path)
    for table in ("conv", "cnn_step"):
        rows = {row["name"]: row for row in payload[table]}
        assert list(rows) == list(conv.ORDER)
        timed = [row for row in rows.values() if row.get("median_ms") is not None]
        assert rows["minigrad eager"] in timed and rows["minigrad jit"] in timed
        values = [row["value@call1"] for row in timed]
        assert max(values) - min(values) <= 1e-4 * max(1.0, abs(values[0])), (table, values)
    assert json.loads((tmp_path / "conv.json").read_text())["benchmark"] == "conv"
    assert "conv" in bench_run.BENCHMARKS
