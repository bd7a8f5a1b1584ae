"""F.grid_sample and F.affine_grid: values against PyTorch 2.13 (live) for 4-D and 5-D
inputs, bilinear, nearest and bicubic, padding zeros/border/reflection, align_corners; float64
gradients for the input and the grid to second order against PyTorch and central
differences; errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import minigrad as mg
from tests.spatial_helpers import compare_with_torch

F = mg.nn.functional
torch = pytest.importorskip("torch")
TF = torch.nn.functional

SHAPES = [((2, 3, 5, 7), (2, 4, 6, 2)), ((1, 2, 4, 5, 6), (1, 3, 2, 4, 3))]
OPTIONS = [dict(mode=m, padding_mode=p, align_corners=a) for m, p, a in itertools.product(
    ("bilinear", "nearest"), ("zeros", "border", "reflection"), (False, True))]


@pytest.mark.parametrize(("shape", "grid_shape"), SHAPES, ids=str)
def test_grid_sample_values_match_torch(shape, grid_shape) -> None:
    rng = np.random.default_rng(0)
    x, grid = rng.standard_normal(shape), rng.uniform(-1.3, 1.3, grid_shape)
    for kw in OPTIONS:
        out = F.grid_sample(mg.tensor(x), mg.tensor(grid), **kw)
        ref = TF.grid_sample(torch.tensor(x), torch.tensor(grid), **kw).numpy()
        np.testing.assert_allclose(out.data, ref, rtol=1e-12, atol=1e-12, err_msg=str(kw))


BICUBIC = [dict(mode="bicubic", padding_mode=p, align_corners=a) for p, a in
           itertools.product(("zeros", "border", "reflection"), (False, True))]


@pytest.mark.parametrize("kw", BICUBIC, ids=str)
def test_bicubic_matches_torch_to_second_order(kw) -> None:
    """4 x 4 taps, each tap's coordinate padded on its own, as PyTorch's."""
    rng = np.random.default_rng(6)
    x, grid = rng.standard_normal((2, 3, 5, 7)), rng.uniform(-1.3, 1.3, (2, 4, 6, 2))
    compare_with_torch(lambda t, g: F.grid_sample(t, g, **kw),
                       lambda t, g: TF.grid_sample(t, g, **kw), [x, grid], torch)


@pytest.mark.parametrize("kw", OPTIONS[:6], ids=str)
def test_bilinear_gradients_match_torch_to_second_order(kw) -> None:
    """The input's and the grid's gradients (orders 1 and 2; grid points away from pixel
    edges, where the bilinear weights have kinks)."""
    rng = np.random.default_rng(1)
    for shape, grid_shape in SHAPES:
        x, grid = rng.standard_normal(shape), rng.uniform(-1.3, 1.3, grid_shape)
        compare_with_torch(lambda t, g: F.grid_sample(t, g, **kw),
                           lambda t, g: TF.grid_sample(t, g, **kw), [x, grid], torch)


def test_nearest_gradient_reaches_the_read_pixels() -> None:
    rng = np.random.default_rng(2)
    x, grid = rng.standard_normal((2, 3, 5, 7)), rng.uniform(-1.3, 1.3, (2, 4, 6, 2))
    kw = dict(mode="nearest", padding_mode="reflection", align_corners=False)
    compare_with_torch(lambda t: F.grid_sample(t, mg.tensor(grid), **kw),
                       lambda t: TF.grid_sample(t, torch.tensor(grid), **kw), [x], torch)


def test_second_order_against_finite_differences() -> None:
    rng = np.random.default_rng(3)
    x, grid = rng.standard_normal((1, 2, 3, 4)), rng.uniform(-1.2, 1.2, (1, 2, 3, 2))
    for mode, padding in (("bilinear", "zeros"), ("bilinear", "reflection"),
                          ("bicubic", "border")):
        assert mg.gradcheck(lambda t, g, m=mode, p=padding: F.grid_sample(
            t, g, mode=m, padding_mode=p, align_corners=False), [x, grid], order=2)


@pytest.mark.filterwarnings("ignore:Since version 1.3.0, affine_grid")
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 3, 4, 2), (1, 1, 1, 3)], ids=str)
def test_affine_grid_matches_torch(size) -> None:
    theta = np.random.default_rng(4).standard_normal((size[0], len(size) - 2, len(size) - 1))
    for corners in (False, True):
        compare_with_torch(lambda t, c=corners: F.affine_grid(t, size, align_corners=c),
                           lambda t, c=corners: TF.affine_grid(t, size, align_corners=c),
                           [theta], torch)


def test_spatial_transformer_round_trip() -> None:
    """affine_grid of the identity, then grid_sample, gives the input back (align_corners)."""
    x = np.random.default_rng(5).standard_normal((2, 3, 4, 5))
    grid = F.affine_grid(mg.tensor(np.tile(np.eye(2, 3), (2, 1, 1))), x.shape,
                         align_corners=True)
    out = F.grid_sample(mg.tensor(x), grid, align_corners=True)
    np.testing.assert_allclose(out.data, x, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda x, g: F.grid_sample(x, g, mode="cubic"), ValueError, "mode must be"),
    (lambda x, g: F.grid_sample(x.reshape(1, 2, 1, 3, 4), mg.zeros((1, 1, 1, 1, 3),
                                                                  dtype=mg.float64),
                                mode="bicubic"), ValueError, "bicubic needs a 4-D input"),
    (lambda x, g: F.grid_sample(x, g, padding_mode="wrap"), ValueError, "padding_mode"),
    (lambda x, g: F.grid_sample(x, g[..., :1]), ValueError,
     "got input (1, 2, 3, 4) and grid (1, 2, 2, 1)"),
    (lambda x, g: F.grid_sample(x, g.to(mg.float32)), TypeError, "share one floating dtype"),
    (lambda x, g: F.affine_grid(mg.zeros((1, 2, 2), dtype=mg.float64), (1, 1, 3, 3)),
     ValueError, "needs theta (N, 2, 3)"),
])
def test_bad_arguments_are_refused_naming_them(call, error, words) -> None:
    x = mg.zeros((1, 2, 3, 4), dtype=mg.float64)
    grid = mg.zeros((1, 2, 2, 2), dtype=mg.float64)
    with pytest.raises(error) as info:
        call(x, grid)
    assert words in str(info.value)
