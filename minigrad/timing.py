"""Side-by-side timing of BatchNorm forward + backward (used by ``compare --time`` and
``benchmarks/``).

Every implementation computes, from the same numpy inputs ``x, gamma, beta, dout``, the
train-mode BN output and the gradients ``dx, dgamma, dbeta`` for the upstream gradient
``dout``. ``time_side_by_side`` takes the samples in rounds (one sample of every
implementation per round), so a change of machine load hits all of them alike; the
figures are medians over rounds, with the quartiles and the minimum.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .reference import closed_form_backward, seed_backward, seed_forward

# A runner returns (out, dx, dgamma, dbeta) as numpy arrays (or array-likes).
Runner = Callable[[], tuple[Any, Any, Any, Any]]

REWARM_BELOW = 0.02
NOT_AVAILABLE_YET = "not available yet"
NOT_INSTALLED = "not installed"


@dataclass
class Timing:
    """Seconds per call of one implementation: median, quartiles, minimum, sample count."""

    median: float
    q1: float
    q3: float
    min: float
    samples: int
    calls_per_sample: int

    def as_ms(self) -> dict[str, float | int]:
        """The figures in milliseconds (for JSON)."""
        return {
            "median_ms": self.median * 1e3, "q1_ms": self.q1 * 1e3, "q3_ms": self.q3 * 1e3,
            "min_ms": self.min * 1e3, "samples": self.samples,
            "calls_per_sample": self.calls_per_sample,
        }


@dataclass
class Row:
    """One line of a benchmark table: a timing, or the reason there is none."""

    name: str
    status: str = "ok"  # "ok", NOT_INSTALLED, NOT_AVAILABLE_YET or "error"
    note: str = ""
    timing: Timing | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The row for JSON."""
        data: dict[str, Any] = {"name": self.name, "status": self.status, "note": self.note}
        if self.timing is not None:
            data.update(self.timing.as_ms())
        data.update(self.extra)
        return data


def _block(result: Any) -> Any:
    """Wait for asynchronous results (JAX) so the time includes the computation."""
    if isinstance(result, (tuple, list)):
        for item in result:
            _block(item)
    elif hasattr(result, "block_until_ready"):
        result.block_until_ready()
    return result


def _calls_per_sample(fn: Callable[[], Any], min_sample: float) -> tuple[int, float]:
    """(calls per sample, fastest call seen in seconds)."""
    fastest, spent = np.inf, 0.0
    for _ in range(5):  # the fastest of 5: the first may wait for sleeping threads
        start = time.perf_counter()
        _block(fn())
        took = time.perf_counter() - start
        fastest, spent = min(fastest, took), spent + took
        if spent > 1.0:
            break
    return max(1, min(10_000, int(np.ceil(min_sample / max(fastest, 1e-7))))), fastest


def time_side_by_side(fns: dict[str, Callable[[], Any]], *, warmup: int = 2,
                      min_rounds: int = 3, max_rounds: int = 15, budget: float = 5.0,
                      min_sample: float = 2e-3, rewarm: bool = True,
                      ) -> dict[str, Timing | Exception]:
    """Time every ``fn`` in rounds; per fn the median seconds per call (or the exception).

    Each fn is first called ``warmup`` times (compiles, caches, allocator). A sample is
    ``calls_per_sample`` back-to-back calls (enough to last ``min_sample`` seconds); rounds
    continue until ``max_rounds``, or until ``budget`` seconds have passed and at least
    ``min_rounds`` rounds are done. With ``rewarm`` each sample is preceded by one untimed
    call: interleaving libraries lets each one's thread pool fall asleep while the others
    run, and the figures are meant to be the steady state of calling one implementation
    repeatedly. Calls longer than ``REWARM_BELOW`` seconds skip that call.
    """
    results: dict[str, Timing | Exception] = {}
    live: dict[str, tuple[Callable[[], Any], int, bool]] = {}
    for name, fn in fns.items():
        try:
            for _ in range(warmup):
                _block(fn())
            number, fastest = _calls_per_sample(fn, min_sample)
            live[name] = (fn, number, rewarm and fastest < REWARM_BELOW)
        except Exception as error:  # reported in the row
            results[name] = error
    samples: dict[str, list[float]] = {name: [] for name in live}
    start = time.perf_counter()
    rounds = 0
    while live and rounds < max_rounds:
        if rounds >= min_rounds and time.perf_counter() - start > budget:
            break
        for name, (fn, number, warm_first) in list(live.items()):
            try:
                if warm_first:  # the library's threads and caches are cold after the others ran
                    _block(fn())
                t0 = time.perf_counter()
                for _ in range(number):
                    _block(fn())
            except Exception as error:  # reported in the row; the others go on
                results[name] = error
                del live[name]
                continue
            samples[name].append((time.perf_counter() - t0) / number)
        rounds += 1
    for name, (_, number, _) in live.items():
        values = np.asarray(samples[name])
        q1, median, q3 = np.percentile(values, [25, 50, 75])
        results[name] = Timing(float(median), float(q1), float(q3), float(values.min()),
                               len(values), number)
    return {name: results[name] for name in fns}


# ------------------------------------------------------------------ the BN runners
def bn_inputs(n: int, d: int, dtype: str, seed: int = 0) -> dict[str, np.ndarray]:
    """Random x (offset mean), gamma, beta and dout of the given shape and dtype."""
    rng = np.random.default_rng(seed)
    return {
        "x": (rng.standard_normal((n, d)) * 2.0 + 0.5).astype(dtype),
        "gamma": (rng.standard_normal(d) * 0.5 + 1.0).astype(dtype),
        "beta": rng.standard_normal(d).astype(dtype),
        "dout": rng.standard_normal((n, d)).astype(dtype),
    }


def seed_numpy_runner(inputs: dict[str, np.ndarray], eps: float) -> Runner:
    """The seed's staged numpy forward and backward (minigrad.reference)."""
    x, gamma, beta, dout = (inputs[k] for k in ("x", "gamma", "beta", "dout"))

    def run() -> tuple[Any, Any, Any, Any]:
        out, cache = seed_forward(x, gamma, beta, eps)
        return (out, *seed_backward(dout, cache))

    return run


def closed_form_runner(inputs: dict[str, np.ndarray], eps: float) -> Runner:
    """numpy: the forward plus the closed-form backward."""
    x, gamma, beta, dout = (inputs[k] for k in ("x", "gamma", "beta", "dout"))

    def run() -> tuple[Any, Any, Any, Any]:
        mu = x.mean(axis=0)
        xmu = x - mu
        ivar = 1.0 / np.sqrt((xmu * xmu).mean(axis=0) + eps)
        out = gamma * (xmu * ivar) + beta
        return (out, *closed_form_backward(dout, x, gamma, eps))

    return run


def _bn_step(impl: str, eps: float, via_loss: bool) -> Callable[..., tuple]:
    """fn(x, gamma, beta, dout) -> (out, dx, dgamma, dbeta) with minigrad ops."""
    from . import ops
    from .autodiff import grad
    from .nn import functional as F

    def bn_forward_backward(x: Any, gamma: Any, beta: Any, dout: Any) -> tuple:
        out = F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps, impl=impl)
        if via_loss:
            loss = ops.sum(ops.mul(out, dout))
            dx, dgamma, dbeta = grad(loss, [x, gamma, beta])
        else:
            dx, dgamma, dbeta = grad(out, [x, gamma, beta], grad_outputs=dout)
        return out, dx, dgamma, dbeta

    return bn_forward_backward


def _leaves(inputs: dict[str, np.ndarray]) -> tuple:
    from .tensor import Tensor

    return (Tensor(inputs["x"], requires_grad=True),
            Tensor(inputs["gamma"], requires_grad=True),
            Tensor(inputs["beta"], requires_grad=True),
            Tensor(inputs["dout"]))


def _arrays(result: tuple) -> tuple:
    return tuple(getattr(item, "data", item) for item in result)


def minigrad_eager_runner(inputs: dict[str, np.ndarray], eps: float, impl: str) -> Runner:
    """minigrad eager: F.batch_norm(impl=...) then mg.grad wrt x, gamma, beta."""
    step = _bn_step(impl, eps, via_loss=False)
    leaves = _leaves(inputs)

    def run() -> tuple[Any, Any, Any, Any]:
        return _arrays(step(*leaves))

    return run


def jit_available() -> bool:
    """Whether ``mg.jit`` exists (written by another part of the project)."""
    import minigrad

    return callable(getattr(minigrad, "jit", None))


def minigrad_jit_runner(inputs: dict[str, np.ndarray], eps: float,
                        impl: str) -> tuple[Runner, str]:
    """mg.jit of the eager step; returns (runner, how the gradient is asked for).

    Tries ``mg.grad(out, ..., grad_outputs=dout)`` first, then ``mg.grad(sum(out * dout))``
    for a JIT that does not take grad_outputs. Raises when neither compiles or they
    disagree with the closed form.
    """
    import minigrad

    leaves = _leaves(inputs)
    reference = closed_form_runner(inputs, eps)()
    errors = []
    for via_loss in (False, True):
        compiled = minigrad.jit(_bn_step(impl, eps, via_loss), background=False)
        try:  # the first call traces (eagerly), the second runs the compiled code
            result = max((_arrays(compiled(*leaves)) for _ in range(2)),
                         key=lambda r: max_rel_error(r, reference))
        except Exception as error:  # try the other spelling
            errors.append(f"{type(error).__name__}: {error}")
            continue
        err = max_rel_error(result, reference)
        if not err < tolerance(inputs["x"].dtype):
            errors.append(f"wrong result (max rel error {err:.2e})")
            continue
        from minigrad.jit import bn_kernels  # timings are of the steady state: threaded
        bn_kernels.finish_background_compiles()  # passes through their launcher


        def run(compiled: Any = compiled) -> tuple[Any, Any, Any, Any]:
            return _arrays(compiled(*leaves))

        run.plan = str(getattr(compiled, "plan", "") or "")  # type: ignore[attr-defined]
        return run, ("grad(sum(out*dout))" if via_loss else "grad(out, grad_outputs=dout)")
    raise RuntimeError("; ".join(errors))


def tolerance(dtype: Any) -> float:
    """Relative error below which a result counts as agreeing with the reference."""
    return 1e-2 if np.dtype(dtype) == np.float32 else 1e-6


def max_rel_error(result: tuple, reference: tuple) -> float:
    """max over (out, dx, dgamma, dbeta) of max|a - b| / max|b|."""
    worst = 0.0
    for got, want in zip(result, reference, strict=True):
        got = np.asarray(got, dtype=np.float64)
        want = np.asarray(want, dtype=np.float64)
        scale = float(np.max(np.abs(want))) or 1.0
        worst = max(worst, float(np.max(np.abs(got - want))) / scale)
    return worst


def minigrad_bn_rows(inputs: dict[str, np.ndarray], eps: float) -> tuple[
        dict[str, Runner], list[Row]]:
    """Runners for minigrad eager/jit composed/fused, seed numpy and numpy closed form.

    Returns (runners by row name, rows without a runner: the "not available yet" ones).
    """
    runners: dict[str, Runner] = {
        "minigrad eager composed": minigrad_eager_runner(inputs, eps, "composed"),
        "minigrad eager fused": minigrad_eager_runner(inputs, eps, "fused"),
    }
    missing: list[Row] = []
    for impl in ("composed", "fused"):
        name = f"minigrad jit {impl}"
        if not jit_available():
            missing.append(Row(name, NOT_AVAILABLE_YET, "mg.jit does not exist yet"))
            continue
        try:
            runners[name], _ = minigrad_jit_runner(inputs, eps, impl)
        except Exception as error:  # reported in the row
            missing.append(Row(name, "error", f"{type(error).__name__}: {error}"[:200]))
    runners["seed numpy (staged)"] = seed_numpy_runner(inputs, eps)
    runners["numpy closed form"] = closed_form_runner(inputs, eps)
    return runners, missing


def format_rows(rows: list[Row], columns: tuple[str, ...] = ()) -> str:
    """A fixed-width table: name, median, IQR, min (ms), samples, then extra columns."""
    header = (f"{'implementation':<30} {'median ms':>10} {'q1-q3 ms':>19} {'min ms':>10} "
              f"{'n':>3}" + "".join(f" {c:>12}" for c in columns))
    lines = [header, "-" * len(header)]
    for row in rows:
        if row.timing is None:
            lines.append(f"{row.name:<30} {row.status}" + (f": {row.note}" if row.note else ""))
            continue
        t = row.timing
        iqr = f"{t.q1 * 1e3:.4g}-{t.q3 * 1e3:.4g}"
        extra = "".join(f" {_fmt(row.extra.get(c)):>12}" for c in columns)
        lines.append(f"{row.name:<30} {t.median * 1e3:>10.4g} {iqr:>19} {t.min * 1e3:>10.4g} "
                     f"{t.samples:>3}{extra}")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def time_bn(n: int, d: int, dtype: str, eps: float = 1e-5, *, quick: bool = False) -> list[Row]:
    """The minigrad and numpy BN forward + backward rows at one size (for ``compare``)."""
    inputs = bn_inputs(n, d, dtype)
    runners, missing = minigrad_bn_rows(inputs, eps)
    settings = {"max_rounds": 3, "budget": 1.0} if quick else {"max_rounds": 9, "budget": 4.0}
    timings = time_side_by_side(runners, **settings)
    reference = closed_form_runner({k: v.astype(np.float64) for k, v in inputs.items()}, eps)()
    rows = []
    for name, timing in timings.items():
        if isinstance(timing, Exception):
            rows.append(Row(name, "error", f"{type(timing).__name__}: {timing}"[:200]))
            continue
        err = max_rel_error(runners[name](), reference)
        rows.append(Row(name, timing=timing, extra={"max rel err": err}))
    order = ["minigrad eager composed", "minigrad eager fused", "minigrad jit composed",
             "minigrad jit fused", "seed numpy (staged)", "numpy closed form"]
    by_name = {row.name: row for row in rows + missing}
    return [by_name[name] for name in order if name in by_name]


def timing_report(n: int, d: int, dtype: str, eps: float = 1e-5, quick: bool = False) -> str:
    """The ``compare --time`` table: minigrad and numpy BN forward + backward, with ratios."""
    import numba

    rows = time_bn(n, d, dtype, eps, quick=quick)
    by_name = {row.name: row.timing for row in rows}
    lines = [
        f"BatchNorm forward + backward timings, shape ({n}, {d}), {dtype}, eps={eps}, "
        f"numba threads {numba.get_num_threads()} (medians of rounds, side by side)",
        format_rows(rows, ("max rel err",)),
    ]
    for label, top, bottom in (
        ("eager composed / seed numpy", "minigrad eager composed", "seed numpy (staged)"),
        ("eager composed / eager fused", "minigrad eager composed", "minigrad eager fused"),
        ("jit composed / jit fused", "minigrad jit composed", "minigrad jit fused"),
        ("seed numpy / jit composed", "seed numpy (staged)", "minigrad jit composed"),
    ):
        a, b = by_name.get(top), by_name.get(bottom)
        value = f"{a.median / b.median:.3g}" if a and b else "n/a"
        lines.append(f"  {label:<30} {value}")
    lines.append("  (peers and the bandwidth floor: python -m benchmarks.run, or make bench)")
    return "\n".join(lines)
