"""The step-through frames and page: frame count, highlighting, values appearing in order,
and the page driven in a real headless Chromium (keys, buttons, screenshot)."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import pytest

from minigrad.viz import steps
from minigrad.viz.figures import seed_example
from minigrad.viz.model import build_model
from tests.test_viz_support import needs_dot, node_named, shown_numbers, svg_nodes

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not found")


@pytest.fixture(scope="module")
def seed_pages(tmp_path_factory) -> tuple[list[Path], int]:
    _, y = seed_example()
    count = len(build_model(y).steps)
    return steps(y, tmp_path_factory.mktemp("steps"), title="seed <example>"), count


@needs_dot
def test_one_frame_per_step_and_a_page(seed_pages) -> None:
    paths, count = seed_pages
    assert count == 14
    assert len(paths) == count + 1
    assert [p.name for p in paths[:3]] == ["step_001.svg", "step_002.svg", "step_003.svg"]
    assert paths[-1].name == "steps.html"
    page = paths[-1].read_text()
    assert page.count("<svg") == 1  # one layout; a step is a restyle by the page's script
    assert all(f'<g id="s{k}" class="node' in page for k in range(1, count + 1))
    assert page.count('class="q"') == count  # each step's "?" shown until it is computed
    assert "seed &lt;example&gt;" in page  # the title is escaped in the page
    assert "http://" not in page.split("<svg", 1)[0]  # nothing fetched: self-contained


@needs_dot
def test_frames_highlight_the_current_step_and_reveal_values_in_order(seed_pages) -> None:
    paths, count = seed_pages
    for k, path in enumerate(paths[:-1], start=1):
        svg = path.read_text()
        assert len(re.findall(r'<g id="current\d+" class="node">', svg)) == 1
        assert f'<g id="current{k}" class="node">' in svg
        nodes = svg_nodes(svg)
        unknown = [n for n in nodes if n["values"] == ["?"]]
        assert len(unknown) == count - k, k
    first, last = svg_nodes(paths[0].read_text()), svg_nodes(paths[-2].read_text())
    assert node_named(first, "dsum")[0]["values"] == ["1"]
    assert node_named(first, "dx2")[0]["values"] == ["?"]
    dx2 = node_named(last, "dx2")[0]
    assert list(shown_numbers(dx2)) == [-0.5, -0.5]
    assert "exact cancellation: dx1 + dx2 = 0" in paths[-2].read_text()
    assert "exact cancellation" not in paths[5].read_text()


@needs_dot
def test_page_captions_hold_the_formulas(seed_pages) -> None:
    paths, _ = seed_pages
    page = paths[-1].read_text()
    data = re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S)
    captions = json.loads(data[1])["captions"]
    assert captions[0] == "Step 1 of 14: dsum = 1 (seed)   value 1"
    assert captions[8].startswith("Step 9 of 14: dxmu2 = 2 * xmu * dsq   (seed step 3)")
    assert captions[-2].endswith("- exact cancellation: dx1 + dx2 = 0")


def _chromium(*args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=120, check=False)


@needs_dot
@needs_chromium
def test_page_in_headless_chromium_keys_and_buttons(seed_pages) -> None:
    paths, count = seed_pages
    result = _chromium("--dump-dom", f"{paths[-1].as_uri()}#selftest")
    match = re.search(r'<pre id="selftest">(.*?)</pre>', result.stdout, re.S)
    assert match, result.stderr[-2000:]
    report = json.loads(match[1].replace("&quot;", '"').replace("&amp;", "&"))
    # start, right, right, left, next button, End, previous button, Home
    assert report["seen"] == [1, 2, 3, 2, 3, count, count - 1, 1]
    assert report["frames"] == count
    assert report["caption"].startswith("Step 1 of 14: dsum")
    opened = _chromium("--dump-dom", f"{paths[-1].as_uri()}#step=13")
    assert 'id="counter">step 13 / 14<' in opened.stdout
    assert "exact cancellation: dx1 + dx2 = 0" in opened.stdout


@needs_dot
@needs_chromium
def test_page_screenshot(seed_pages, tmp_path) -> None:
    paths, _ = seed_pages
    shot = tmp_path / "screenshot.png"
    result = _chromium(f"--screenshot={shot}", "--window-size=1200,900",
                       f"{paths[-1].as_uri()}#step=13")
    assert shot.exists(), result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1200, 900)
    assert len(data) > 20_000  # a blank page compresses to a few kB


@needs_dot
@needs_chromium
def test_page_survives_names_that_fight_the_script(tmp_path) -> None:
    import minigrad as mg

    x = mg.tensor([1.0, -2.0], requires_grad=True, name="<!--<script>")
    w = mg.tensor([0.5, 3.0], requires_grad=True, name="</script><script>document.title='pwned'")
    paths = steps((mg.relu(x * w)).sum(), tmp_path)
    page = paths[-1].read_text()
    script = page[page.index("<script>"):]
    assert "<!--" not in script and "</script><script>" not in script
    result = _chromium("--dump-dom", f"{paths[-1].as_uri()}#selftest")
    assert "<title>pwned" not in result.stdout
    report = re.search(r'<pre id="selftest">(.*?)</pre>', result.stdout, re.S)
    assert report and '"frames":' + str(len(paths) - 1) in report[1].replace("&quot;", '"')
