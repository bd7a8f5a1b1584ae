"""Property tests of BatchNorm (hypothesis): the composed (the seed's staged steps) and
fused implementations agree on random shapes, scales, eps and modes, in values, running
statistics and second-order gradients, and both match PyTorch's BatchNorm1d/2d when torch
is importable. Split from test_property.py (random graphs), whose settings it uses.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg

from .test_property import BN_EXAMPLES, SETTINGS

try:
    import torch
except ImportError:  # the composed-vs-fused checks still run
    torch = None


@st.composite
def bn_cases(draw) -> dict:
    return {
        "n": draw(st.integers(2, 6)),
        "c": draw(st.integers(1, 4)),
        "spatial": draw(st.sampled_from([(), (1,), (3,), (2, 2), (1, 3)])),
        "eps": draw(st.sampled_from([0.0, 1e-5, 1e-3, 0.1, 1.0])),
        "dtype": draw(st.sampled_from(["float32", "float64"])),
        "affine": draw(st.booleans()),
        "momentum": draw(st.one_of(st.none(), st.floats(0.0, 1.0))),
        "track": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**32 - 1)),
        "offset": draw(st.sampled_from([0.0, 3.0, 100.0])),
    }


def _layer(case: dict, impl: str):
    cls = mg.nn.BatchNorm2d if len(case["spatial"]) == 2 else mg.nn.BatchNorm1d
    layer = cls(case["c"], eps=case["eps"], momentum=case["momentum"], affine=case["affine"],
                track_running_stats=case["track"], impl=impl, dtype=case["dtype"])
    if case["affine"]:
        rng = np.random.default_rng(case["seed"] + 1)
        layer.weight.assign_(rng.uniform(0.5, 1.5, case["c"]))
        layer.bias.assign_(rng.standard_normal(case["c"]))
    return layer


def _run_bn(case: dict, impl: str) -> dict:
    rng = np.random.default_rng(case["seed"])
    shape = (case["n"], case["c"], *case["spatial"])
    batches = [rng.standard_normal(shape) + case["offset"] for _ in range(2)]
    upstream = rng.standard_normal(shape)
    layer = _layer(case, impl)
    result: dict = {}
    for step, batch in enumerate(batches):
        x = mg.tensor(batch, dtype=case["dtype"], requires_grad=True)
        out = layer(x)
        out.backward(upstream.astype(case["dtype"]))
        if step == 0:
            result["out"], result["dx"] = out.numpy(), x.grad.numpy()
            if case["affine"]:
                result["dw"] = layer.weight.grad.numpy().copy()
                result["db"] = layer.bias.grad.numpy().copy()
    if case["track"]:
        result["running_mean"] = layer.running_mean.numpy()
        result["running_var"] = layer.running_var.numpy()
        result["batches"] = int(layer.num_batches_tracked)
    layer.eval()
    result["eval"] = layer(mg.tensor(batches[0], dtype=case["dtype"])).numpy()
    return result


def _variance_is_clear(case: dict) -> bool:
    """Skip draws whose channel variance is so small that eps = 0 divides by ~0."""
    rng = np.random.default_rng(case["seed"])
    shape = (case["n"], case["c"], *case["spatial"])
    batch = rng.standard_normal(shape)
    axes = (0, *range(2, batch.ndim))
    return float(batch.var(axis=axes).min()) + case["eps"] > 1e-3


@settings(SETTINGS, max_examples=BN_EXAMPLES)
@given(bn_cases())
def test_composed_and_fused_batch_norm_agree(case: dict) -> None:
    if not _variance_is_clear(case):
        return
    composed, fused = _run_bn(case, "composed"), _run_bn(case, "fused")
    assert composed.keys() == fused.keys()
    tol = 1e-9 if case["dtype"] == "float64" else 2e-3
    for key in composed:
        a, b = np.asarray(composed[key]), np.asarray(fused[key])
        scale = max(1.0, float(np.max(np.abs(a), initial=0.0)))
        np.testing.assert_allclose(a, b, rtol=0, atol=tol * scale,
                                   err_msg=f"{key} differs for {case}")


@pytest.mark.skipif(torch is None, reason="torch not installed")
@settings(SETTINGS, max_examples=BN_EXAMPLES)
@given(bn_cases())
def test_batch_norm_matches_torch(case: dict) -> None:
    case = {**case, "dtype": "float64", "eps": case["eps"] or 1e-5}  # torch refuses eps=0
    ours = _run_bn(case, draw_impl := ("fused" if case["seed"] % 2 else "composed"))
    rng = np.random.default_rng(case["seed"])
    shape = (case["n"], case["c"], *case["spatial"])
    batches = [rng.standard_normal(shape) + case["offset"] for _ in range(2)]
    upstream = rng.standard_normal(shape)
    cls = torch.nn.BatchNorm2d if len(case["spatial"]) == 2 else torch.nn.BatchNorm1d
    layer = cls(case["c"], eps=case["eps"], momentum=case["momentum"],
                affine=case["affine"], track_running_stats=case["track"]).double()
    if case["affine"]:
        wrng = np.random.default_rng(case["seed"] + 1)
        with torch.no_grad():
            layer.weight.copy_(torch.tensor(wrng.uniform(0.5, 1.5, case["c"])))
            layer.bias.copy_(torch.tensor(wrng.standard_normal(case["c"])))
    theirs: dict = {}
    for step, batch in enumerate(batches):
        x = torch.tensor(batch, requires_grad=True)
        out = layer(x)
        out.backward(torch.tensor(upstream))
        if step == 0:
            theirs["out"], theirs["dx"] = out.detach().numpy(), x.grad.numpy()
            if case["affine"]:
                theirs["dw"] = layer.weight.grad.numpy().copy()
                theirs["db"] = layer.bias.grad.numpy().copy()
    if case["track"]:
        theirs["running_mean"] = layer.running_mean.numpy()
        theirs["running_var"] = layer.running_var.numpy()
        theirs["batches"] = int(layer.num_batches_tracked)
    layer.eval()
    with torch.no_grad():
        theirs["eval"] = layer(torch.tensor(batches[0])).numpy()
    assert ours.keys() == theirs.keys()
    for key in ours:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-8, atol=1e-9,
                                   err_msg=f"{key} ({draw_impl}) differs for {case}")


@settings(SETTINGS, max_examples=25)
@given(bn_cases())
def test_composed_and_fused_second_order_agree(case: dict) -> None:
    case = {**case, "dtype": "float64", "eps": max(case["eps"], 1e-3)}
    rng = np.random.default_rng(case["seed"])
    shape = (case["n"], case["c"], *case["spatial"])
    data = rng.standard_normal(shape)
    upstream, direction = rng.standard_normal(shape), rng.standard_normal(shape)
    results = []
    for impl in ("composed", "fused"):
        layer = _layer({**case, "affine": True}, impl)
        x = mg.tensor(data, requires_grad=True)
        (first,) = mg.grad((layer(x) * mg.tensor(upstream)).sum(), [x], create_graph=True)
        (second,) = mg.grad((first * mg.tensor(direction)).sum(), [x])
        results.append((first.numpy(), second.numpy()))
    (f1, s1), (f2, s2) = results
    np.testing.assert_allclose(f1, f2, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(s1, s2, rtol=1e-7, atol=1e-8 * max(1.0, np.abs(s1).max()))
