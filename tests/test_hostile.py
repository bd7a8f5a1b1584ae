"""Hostile input: user-chosen names never change the structure of a DOT drawing, never
reach generated Python source, and never run; ``mg.load`` refuses object arrays and
pickles (and never unpickles anything)."""

from __future__ import annotations

import ast
import importlib
import os
import pickle
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

MARKER = Path(os.environ.get("TMPDIR", "/tmp")) / "minigrad_hostile_marker"

CODE = (f"x'); open({str(MARKER)!r}, 'w').write('pwned'); print('"
        f"\"\"\"; import os; os.system('touch {MARKER}') #")
HOSTILE_NAMES = [
    'double"quote',
    "single'quote",
    "line1\nline2\r\nline3",
    CODE,
    '"]; evil [label="injected',
    "</TD></TR></TABLE>>]; evil [label=<x",
    "{record|fields} <port>",
    "<b>bold</b> &amp; &lt;",
    "back\\slash\\n\\N\\G\\",
    "tab\there\x0bvt\x0cff",
    "nul\x00char",
    "é∑😀 unicode",
    "%s %d {0} {name} $(whoami) `id`",
    "</script><script>window.pwned = 1</script>",
    "]]><!-- -->",
    "",
    "x" * 5000,
]


@pytest.fixture(autouse=True)
def _no_marker():
    MARKER.unlink(missing_ok=True)
    yield
    assert not MARKER.exists(), "a hostile name was executed"


def _graph(names: list[str]) -> mg.Tensor:
    """x, w -> h = x * w -> y = tanh(h) -> z = sum(y + x), every node named from ``names``."""
    x = mg.tensor(np.array([1.0, 2.0]), dtype="float64", requires_grad=True, name=names[0])
    w = mg.tensor(np.array([0.5, -1.0]), dtype="float64", requires_grad=True, name=names[1])
    h = (x * w).named(names[2])
    y = mg.tanh(h).named(names[3])
    return (y + x).sum().named(names[4])


def _name_groups() -> list[list[str]]:
    n = len(HOSTILE_NAMES)
    return [[HOSTILE_NAMES[(i + k) % n] for k in range(5)] for i in range(n)]


# ------------------------------------------------------------------------ DOT / SVG
def _svg_structure(svg: str) -> tuple[int, int, list[str]]:
    """(nodes, edges, node titles) of a Graphviz SVG document."""
    root = ET.fromstring(svg[svg.index("<svg"):])
    ns = {"s": "http://www.w3.org/2000/svg"}
    groups = root.findall(".//s:g", ns)
    nodes = [g for g in groups if g.get("class") == "node"]
    edges = [g for g in groups if g.get("class") == "edge"]
    titles = [(g.find("s:title", ns).text or "") for g in nodes]
    return len(nodes), len(edges), titles


class _Viz:
    """mg.viz's draw and steps, and its renderer (DOT -> SVG bytes)."""

    def __init__(self) -> None:
        module = pytest.importorskip("minigrad.viz")
        self.draw, self.steps = module.draw, module.steps
        self.render = importlib.import_module("minigrad.viz.render").render


@pytest.fixture(scope="module")
def viz():
    helper = _Viz()
    try:
        helper.render("digraph { a }", "svg")
    except Exception as error:  # no system dot and no WebAssembly fallback
        pytest.skip(f"no Graphviz renderer: {error}")
    return helper


@pytest.mark.parametrize("view", ["forward", "backward", "both"])
def test_hostile_names_do_not_change_the_drawing(viz, view) -> None:
    plain = viz.draw(_graph(["x", "w", "h", "y", "z"]), view=view)
    expected = _svg_structure(viz.render(plain.source, "svg").decode("utf-8"))
    for names in _name_groups():
        source = viz.draw(_graph(names), view=view).source
        svg = viz.render(source, "svg").decode("utf-8")
        nodes, edges, titles = _svg_structure(svg)
        assert (nodes, edges) == expected[:2], f"names {names!r} changed the graph"
        assert sorted(titles) == sorted(expected[2]), names  # node ids are ours, not names
        assert "evil" not in titles


def test_names_are_shown_escaped(viz) -> None:
    """The visible label text holds the name itself (escaped in DOT, unescaped by SVG)."""
    for name in ['double"quote', "<b>bold</b> &amp; &lt;", "{record|fields} <port>",
                 '"]; evil [label="injected', "back\\slash\\n\\N\\G\\l\\", "&#38; &#x26; &nbsp; &",
                 "é∑😀 unicode"]:
        svg = viz.render(viz.draw(_graph([name, "w", "h", "y", "z"])).source, "svg")
        root = ET.fromstring(svg.decode("utf-8")[svg.decode("utf-8").index("<svg"):])
        texts = " ".join(t for t in root.itertext())
        assert name in texts, name


def test_hostile_module_names_in_clusters(viz) -> None:
    if not hasattr(mg.nn, "Linear"):
        pytest.skip("nn.Linear not available")

    class Block(mg.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            setattr(self, CODE, mg.nn.Linear(2, 2, dtype="float64"))
            setattr(self, '"]; evil [label="x', mg.nn.BatchNorm1d(2, dtype="float64"))

        def forward(self, x):
            for layer in self._modules.values():
                x = layer(x)
            return x

    net = mg.nn.Sequential(Block(), Block())
    out = net(mg.tensor(np.random.default_rng(0).standard_normal((4, 2)))).sum()
    for collapse in (False, True):
        source = viz.draw(out, collapse=collapse).source
        nodes, _, titles = _svg_structure(viz.render(source, "svg").decode("utf-8"))
        assert nodes > 0 and "evil" not in titles


def test_step_page_escapes_names(viz, tmp_path) -> None:
    root = _graph(["</script><script>window.pwned = 1</script>", "w\"'", "h", "y", "z"])
    paths = viz.steps(root, tmp_path)
    page = paths[-1].read_text(encoding="utf-8")
    plain_paths = viz.steps(_graph(["x", "w", "h", "y", "z"]), tmp_path / "plain")
    plain = plain_paths[-1].read_text(encoding="utf-8")
    assert len(paths) == len(plain_paths)
    # the name is only inside a JS string, its "</" neutralised: no early </script>
    assert "</script><script>window.pwned" not in page
    assert page.count("</script>") == plain.count("</script>")
    assert page.count("<\\/script><script>window.pwned = 1<\\/script>") >= 1


def _first_script_body(page: str) -> str:
    start = page.index(">", page.index("<script")) + 1
    return page[start:page.index("</script>", start)]


def test_step_page_survives_comment_script_names(viz, tmp_path) -> None:
    """A name holding '<!--<script>' inside the page's script would switch it to HTML's
    'double escaped' state, where its real </script> no longer closes it."""
    root = _graph(["<!--<script>", "w", "h", "y", "z"])
    page = viz.steps(root, tmp_path)[-1].read_text(encoding="utf-8")
    bodies = []
    rest = page
    while "<script" in rest:
        bodies.append(_first_script_body(rest))
        rest = rest[rest.index("</script>") + len("</script>"):]
    for body in bodies:
        assert not ("<!--" in body and "<script" in body.lower())


# ------------------------------------------------------------------ JIT source code
@pytest.fixture(scope="module")
def jit(tmp_path_factory):
    if not hasattr(mg, "jit"):
        pytest.skip("mg.jit not available")
    previous = os.environ.get("MINIGRAD_CACHE_DIR")
    os.environ["MINIGRAD_CACHE_DIR"] = str(tmp_path_factory.mktemp("hostile_jit"))
    yield mg.jit
    if previous is None:
        os.environ.pop("MINIGRAD_CACHE_DIR", None)
    else:
        os.environ["MINIGRAD_CACHE_DIR"] = previous


def _assert_no_name_in_source(source: str, names: list[str]) -> None:
    ast.parse(source)  # still valid Python
    for name in names:
        if len(name) >= 3:
            assert name not in source, f"name {name!r} reached the generated source"
    for fragment in ("pwned", "os.system", "evil", "whoami", "window.", "injected"):
        assert fragment not in source
    # nothing but the kernel: one function, imports of numba/numpy/math only
    tree = ast.parse(source)
    imports = {alias.name for node in ast.walk(tree)
               if isinstance(node, ast.Import | ast.ImportFrom)
               for alias in node.names}
    assert imports <= {"math", "numba", "numpy", "prange"}, imports
    assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] == ["kernel"]


def test_hostile_names_never_reach_jit_source(jit) -> None:
    names = [CODE, 'double"quote', "line1\nline2", "{0}{name}", "\\\"\"\"'''"]

    def step(x, w):
        x.name, w.name = names[0], names[1]
        h = (x * w).named(names[2])
        y = mg.tanh(h).named(names[3])
        loss = (y + x).sum().named(names[4])
        return loss, mg.grad(loss, [x, w])

    step.__name__ = step.__qualname__ = "evil\n" + CODE
    compiled = jit(step)
    x = mg.tensor(np.array([1.0, 2.0]), dtype="float64", requires_grad=True)
    w = mg.tensor(np.array([0.5, -1.0]), dtype="float64", requires_grad=True)
    compiled(x, w)
    loss, grads = compiled(x, w)
    _assert_no_name_in_source(compiled.source, [*names, step.__name__])
    eager_loss, eager_grads = step(x, w)
    np.testing.assert_allclose(loss.numpy(), eager_loss.numpy(), rtol=1e-12)
    for got, want in zip(grads, eager_grads, strict=True):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    cache = Path(os.environ["MINIGRAD_CACHE_DIR"])
    for path in cache.rglob("*"):
        assert not any(fragment in path.name for fragment in ("evil", "pwned", "\n")), path
        if path.suffix == ".py":
            _assert_no_name_in_source(path.read_text(encoding="utf-8"), names)


def test_hostile_module_attribute_names_never_reach_jit_source(jit) -> None:
    if not hasattr(mg.nn, "Linear"):
        pytest.skip("nn.Linear not available")
    mg.manual_seed(0)
    net = mg.nn.Module()
    setattr(net, CODE, mg.nn.Linear(3, 2, dtype="float64"))
    layer = getattr(net, CODE)
    layer.weight.name = CODE
    layer.bias.name = '"""; raise SystemExit #'

    def forward(x):
        return mg.relu(layer(x)).sum()

    compiled = jit(forward)
    x = mg.tensor(np.random.default_rng(1).standard_normal((4, 3)))
    compiled(x)
    result = compiled(x)
    _assert_no_name_in_source(compiled.source, [CODE, layer.bias.name])
    np.testing.assert_allclose(result.numpy(), forward(x).numpy(), rtol=1e-12)


# ------------------------------------------------------------- mg.save and mg.load
class _Payload:
    """Unpickling this creates the marker file (a stand-in for arbitrary code)."""

    def __reduce__(self):
        return (open, (str(MARKER), "w"))


@pytest.fixture
def load():
    if not hasattr(mg, "load"):
        pytest.skip("mg.load not available")
    return mg.load


def test_load_refuses_object_arrays_in_npz(load, tmp_path) -> None:
    path = tmp_path / "object.npz"
    np.savez(path, weight=np.array([_Payload(), 1], dtype=object))  # numpy pickles it
    with pytest.raises(ValueError, match=r"Object arrays cannot be loaded when "
                                         r"allow_pickle=False"):
        load(path)


def test_load_refuses_a_pickle_file(load, tmp_path) -> None:
    path = tmp_path / "state.pkl"
    path.write_bytes(pickle.dumps({"weight": _Payload()}))
    with pytest.raises(ValueError, match=r"pickled \(object\) data"):
        load(path)


def test_load_refuses_a_pickled_npy(load, tmp_path) -> None:
    path = tmp_path / "object.npy"
    np.save(path, np.array([_Payload()], dtype=object), allow_pickle=True)
    with pytest.raises((ValueError, TypeError)):
        load(path)


def test_load_refuses_non_numeric_entries(load, tmp_path) -> None:
    path = tmp_path / "strings.npz"
    np.savez(path, names=np.array(["a", "b"]), values=np.ones(2, complex))
    with pytest.raises(TypeError, match=r"unsupported data of dtype"):
        load(path)


def test_load_refuses_garbage_and_truncated_files(load, tmp_path) -> None:
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"\x80\x04not really anything")
    with pytest.raises(ValueError):
        load(garbage)
    good = tmp_path / "good.npz"
    mg.save({"w": np.arange(1000.0)}, good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:500])
    with pytest.raises(Exception) as caught:
        load(truncated)
    assert not isinstance(caught.value, KeyboardInterrupt)


def test_save_refuses_object_arrays(tmp_path) -> None:
    if not hasattr(mg, "save"):
        pytest.skip("mg.save not available")
    with pytest.raises(TypeError, match=r"save: entry 'w' has dtype object"):
        mg.save({"w": np.array([_Payload()], dtype=object)}, tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists() or (tmp_path / "x.npz").stat().st_size == 0


def test_hostile_keys_round_trip_and_write_nothing_else(load, tmp_path) -> None:
    keys = ["../escape", "/absolute", "a/b/c", 'q"\n', CODE, "", "é😀"]
    state = {key: np.full(k + 1, float(k)) for k, key in enumerate(keys)}
    workdir = tmp_path / "work"
    workdir.mkdir()
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        mg.save(state, "state.npz")
        loaded = load("state.npz")
    finally:
        os.chdir(cwd)
    assert sorted(loaded) == sorted(keys)
    for key, value in state.items():
        np.testing.assert_array_equal(loaded[key].numpy(), value)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["state.npz", "work"]


def test_state_dict_through_save_and_load_checks_keys_and_shapes(load, tmp_path) -> None:
    layer = mg.nn.BatchNorm1d(3, dtype="float64")
    state = layer.state_dict()
    path = tmp_path / "bn.npz"
    mg.save({**state, "evil\n": np.ones(1)}, path)
    with pytest.raises(KeyError, match=r"missing keys \[\], unexpected keys \['evil"):
        mg.nn.BatchNorm1d(3, dtype="float64").load_state_dict(load(path))
    mg.save({**state, "running_mean": np.zeros(4)}, path)
    with pytest.raises(ValueError, match=r"running_mean has shape \(4,\) in the state dict but "
                                         r"\(3,\) in the module"):
        mg.nn.BatchNorm1d(3, dtype="float64").load_state_dict(load(path))
    mg.save(state, path)
    fresh = mg.nn.BatchNorm1d(3, dtype="float64")
    fresh.load_state_dict(load(path))
    assert re.fullmatch(r"\d+", str(int(fresh.num_batches_tracked)))


# --------------------------------------------------------------- JIT cache faults
JIT_CHILD = """
import sys, numpy as np, minigrad as mg
def step(x, w):
    y = mg.tanh(x @ w).sum() * 1.25
    return y, mg.grad(y, [w])[0]
f = mg.jit(step)
x = mg.tensor(np.linspace(-1, 1, 12).reshape(3, 4), dtype="float64")
w = mg.tensor(np.linspace(0, 1, 8).reshape(4, 2), dtype="float64", requires_grad=True)
f(x, w)
y, g = f(x, w)
ey, eg = step(x, w)
same = np.allclose(y.numpy(), ey.numpy(), rtol=1e-12) and np.allclose(g.numpy(), eg.numpy(),
                                                                       rtol=1e-12)
print("OK" if same else "WRONG", f.source is not None)
"""


def _jit_env(cache: Path) -> dict[str, str]:
    env = {**os.environ, "MINIGRAD_CACHE_DIR": str(cache)}
    env.pop("MINIGRAD_DEBUG", None)
    env.pop("MINIGRAD_ANOMALY", None)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run_child(cache: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", JIT_CHILD], env=_jit_env(cache),
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory):
    """A cache directory populated by one process compiling JIT_CHILD's graph."""
    if not hasattr(mg, "jit"):
        pytest.skip("mg.jit not available")
    cache = tmp_path_factory.mktemp("warm_cache")
    result = _run_child(cache)
    assert result.stdout.split() == ["OK", "True"], result.stderr
    return cache


def _copy_cache(warm: Path, target: Path) -> Path:
    shutil.copytree(warm, target, copy_function=shutil.copy2)
    return target


def test_concurrent_processes_compiling_one_graph_all_get_correct_results(tmp_path) -> None:
    if not hasattr(mg, "jit"):
        pytest.skip("mg.jit not available")
    cache = tmp_path / "shared"
    children = [subprocess.Popen([sys.executable, "-c", JIT_CHILD], env=_jit_env(cache),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(3)]
    outputs = [child.communicate(timeout=300) for child in children]
    for child, (out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
        assert out.split() == ["OK", "True"], err
    assert len(list(cache.glob("mg_*.py"))) == 1
    assert not list(cache.glob(".tmp_*"))  # no half-written files left behind


def test_old_timestamps_in_the_cache_still_give_correct_results(warm_cache, tmp_path) -> None:
    cache = _copy_cache(warm_cache, tmp_path / "old")
    for path in cache.rglob("*"):
        os.utime(path, (0, 0))
    result = _run_child(cache)
    assert result.stdout.split() == ["OK", "True"], result.stderr


def _corrupt(cache: Path, pattern: str, keep_bytes: int | None, text: bytes = b"") -> None:
    paths = list(cache.glob(pattern))
    assert paths, pattern
    for path in paths:
        data = path.read_bytes()
        path.write_bytes(data[:keep_bytes] if keep_bytes is not None else text)


CORRUPTIONS = {
    "truncated-generated-module": ("mg_*.py", 600, b""),
    "truncated-numba-data": ("__pycache__/*.nbc", 1000, b""),
    "garbage-numba-index": ("__pycache__/*.nbi", None, b"garbage\n"),
    "empty-numba-index": ("__pycache__/*.nbi", 0, b""),
}


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_corrupted_cache_file_is_detected_and_rebuilt(warm_cache, tmp_path, kind) -> None:
    """A corrupted or truncated cache file is detected and rebuilt: the fresh process gets
    the right number (never a wrong one, never a crash)."""
    pattern, keep, text = CORRUPTIONS[kind]
    cache = _copy_cache(warm_cache, tmp_path / kind)
    _corrupt(cache, pattern, keep, text)
    result = _run_child(cache)
    assert "WRONG" not in result.stdout
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["OK", "True"]


def test_version_changes_invalidate_the_cache_key(monkeypatch) -> None:
    cache = pytest.importorskip("minigrad.jit.cache")
    import numba

    source = "def kernel(v0, T):\n    return (v0,)\n"
    base = cache.cache_key(source)
    assert cache.cache_key(source) == base
    assert cache.cache_key(source + " ") != base
    for module, attribute in ((numba, "__version__"), (np, "__version__"),
                              (mg, "__version__"), (cache, "CODEGEN_VERSION")):
        with monkeypatch.context() as patch:
            patch.setattr(module, attribute, getattr(module, attribute) + ".changed")
            assert cache.cache_key(source) != base, (module, attribute)
    assert cache.cache_key(source) == base


def test_kernel_files_invalidate_the_cache_key(monkeypatch) -> None:
    """A generated module compiles the Numba functions it calls into its own cached machine
    code: a change to any file holding them must change the key, including files the
    kernel modules import their bodies from (bn_rows.py)."""
    cache = pytest.importorskip("minigrad.jit.cache")
    from minigrad.jit import bn_kernels, conv_kernels

    source = "def kernel(v0, T):\n    return (v0,)\n"
    base = cache.cache_key(source)
    real = cache._kernel_file_hash
    for name in cache.KERNEL_FILES:
        with monkeypatch.context() as patch:
            patch.setattr(cache, "_kernel_file_hash",
                          lambda n, name=name: real(n) + ("changed" if n == name else ""))
            assert cache.cache_key(source) != base, name
    called = {value.__module__ for module in (bn_kernels, conv_kernels)
              for value in vars(module).values() if hasattr(value, "py_func")}
    files = {name.rsplit(".", 1)[-1] + ".py" for name in called}
    assert files <= set(cache.KERNEL_FILES), files - set(cache.KERNEL_FILES)
    assert "bn_rows.py" in files


def test_failed_compile_errors_and_never_returns_a_wrong_result(tmp_path, monkeypatch) -> None:
    if not hasattr(mg, "jit"):
        pytest.skip("mg.jit not available")
    import numba

    monkeypatch.setenv("MINIGRAD_CACHE_DIR", str(tmp_path))

    attempts: list[str] = []

    class BrokenDispatcher:
        """What numba.njit returns, except that compiling always fails."""

        def __init__(self, fn) -> None:
            self.fn = fn

        def compile(self, *args):
            attempts.append("compile")
            raise numba.core.errors.TypingError("simulated compile failure")

        def __call__(self, *args):
            attempts.append("call")
            raise numba.core.errors.TypingError("simulated compile failure")

    def broken_njit(*args, **kwargs):
        return BrokenDispatcher

    monkeypatch.setattr(numba, "njit", broken_njit)

    def step(x, w):
        y = mg.tanh(x @ w).sum() * 2.718281
        return y, mg.grad(y, [w])[0]

    compiled = mg.jit(step)
    x = mg.tensor(np.linspace(-1, 1, 12).reshape(3, 4), dtype="float64")
    w = mg.tensor(np.linspace(0, 1, 8).reshape(4, 2), dtype="float64", requires_grad=True)
    expected = step(x, w)
    for _ in range(2):  # the traced call, then the compiled one
        try:
            got = compiled(x, w)
        except Exception as error:  # errors: it must say it is a compile failure
            assert "compile" in str(error).lower() or "numba" in type(error).__module__
            break
        # falls back (or has not compiled yet): then the numbers are the eager ones
        np.testing.assert_allclose(got[0].numpy(), expected[0].numpy(), rtol=1e-12)
        np.testing.assert_allclose(got[1].numpy(), expected[1].numpy(), rtol=1e-12)
    assert attempts, "the kernel was never compiled: the test did not test anything"
