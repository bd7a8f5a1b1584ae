"""Long loop bodies as shared scalar functions (minigrad/jit/segments.py): the rewritten
source computes what the straight one does, repeats share one function, and jitted
programs with segments forced everywhere equal eager."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.jit import codegen, segments
from minigrad.testing import fuzz

FLAGS = "cache=False"


def _chain_lines(periods: int) -> list[str]:
    """A loop body: a load, then ``periods`` repeats of y*1.001+0.01, tanh(y*0.999),
    every intermediate also read at the end (as a backward pass would)."""
    lines = ["    for i0 in range(n):", "        a0 = v0[i0]"]
    previous = "a0"
    names = []
    for k in range(periods):
        base = 10 * k + 1
        lines += [f"        e{base} = ({previous} * (1.001))",
                  f"        e{base + 1} = (e{base} + (0.01))",
                  f"        e{base + 2} = (e{base + 1} * (0.999))",
                  f"        e{base + 3} = math.tanh(e{base + 2})"]
        previous = f"e{base + 3}"
        names.append(f"e{base + 1}")
    lines.append(f"        out[i0] = {previous} + {' + '.join(names)}")
    return lines


def _run(functions: list[str], lines: list[str]) -> np.ndarray:
    source = "\n".join(["import math", "import numba", "import numpy as np", *functions,
                        "def kernel(v0):", "    n = v0.shape[0]",
                        "    out = np.empty(n)", *lines, "    return out"])
    namespace: dict = {}
    exec(compile(source, "<segments test>", "exec"), namespace)
    return namespace["kernel"](np.linspace(-2, 2, 7))


def test_a_periodic_run_becomes_calls_of_few_functions() -> None:
    lines = _chain_lines(200)  # 800 statements
    functions, rewritten = segments.segment(lines, FLAGS)
    calls = [line for line in rewritten if "= seg" in line]
    assert len(calls) >= 800 // segments.MAX_LENGTH
    assert len(functions) <= 3, "the repeats did not line up"
    assert len(rewritten) < 20
    np.testing.assert_allclose(_run(functions, rewritten), _run([], lines), rtol=0, atol=0)


def test_results_are_only_what_later_lines_read() -> None:
    lines = _chain_lines(60)
    _functions, rewritten = segments.segment(lines, FLAGS)
    returned = {name for line in rewritten if "= seg" in line
                for name in line.split("=")[0].strip(" ()").split(", ") if name}
    read_at_end = set(lines[-1].split("=", 1)[1].replace("+", " ").split())
    # each segment returns the last tanh (the next segment's input) and the sums' terms
    assert returned - read_at_end, "the chain's carried value is returned"
    assert all(name.startswith("e") for name in returned)
    assert len(returned) < 2 * 60


def test_short_runs_and_other_lines_stay() -> None:
    lines = _chain_lines(5)  # 20 statements: below MIN_RUN
    assert segments.segment(lines, FLAGS) == ([], lines)
    odd = ["        a1 = v1[i0]", "        v2[i0] = a1", "        if a1 > s:", "        s = a1"]
    assert segments.segment(odd, FLAGS) == ([], odd)


def test_cuts_cover_the_run_in_bounded_pieces() -> None:
    shapes = [f"op{k % 7}" for k in range(1000)]
    cuts = segments._cuts(shapes)
    assert cuts[0][0] == 0 and cuts[-1][1] == 1000
    assert all(a[1] == b[0] for a, b in itertools.pairwise(cuts))
    assert all(segments.MIN_LENGTH <= last - first <= segments.MAX_LENGTH
               for first, last in cuts[:-1])


def test_a_long_chain_and_its_gradient_equal_eager() -> None:
    """A 400-node chain's value and gradient (bodies far above MIN_RUN) under mg.jit."""
    def f(x):
        y = x
        for k in range(200):
            y = y * 1.001 + 0.01 if k % 2 == 0 else (y * 0.999).tanh()
        return mg.grad(y.sum(), [x])[0], y

    x = mg.tensor(np.linspace(-1, 1, 16), requires_grad=True)
    expected = [t.numpy() for t in f(x)]
    compiled = mg.jit(f)
    for _ in range(2):
        got = [t.numpy() for t in compiled(x)]
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-13, atol=0)
    assert math.isfinite(float(got[0].sum()))


@pytest.fixture
def tiny_segments(monkeypatch):
    """Segments everywhere: every run of 4 statements is cut into pieces of 2 to 5."""
    monkeypatch.setattr(segments, "MIN_RUN", 4)
    monkeypatch.setattr(segments, "MIN_LENGTH", 2)
    monkeypatch.setattr(segments, "MAX_LENGTH", 5)
    made: list[int] = []
    segment = segments.segment

    def counting(lines, flags):
        functions, body = segment(lines, flags)
        made.append(len(functions))
        return functions, body

    monkeypatch.setattr(codegen, "segment", counting)
    return made


def test_random_programs_with_segments_everywhere_equal_eager(tiny_segments) -> None:
    """The fuzzer's random programs (values, first and second derivatives, training steps)
    with every loop body cut into segments: eager and mg.jit agree."""
    summary = fuzz.fuzz(16, seed=8080, max_nodes=30, train_every=5, shrink=False, batch=4)
    assert summary.programs == 16
    assert not summary.failures, summary.text()
    # how many segments the programs make depends on the op table (the generator draws
    # from its rows): at least two kernels with segments, four segment functions in all
    assert sum(1 for made in tiny_segments if made) >= 2, f"segments made: {tiny_segments}"
    assert sum(tiny_segments) >= 4, f"segments made: {tiny_segments}"
