"""F.interpolate: values against PyTorch 2.13 (live) over every mode, 1-D/2-D/3-D inputs,
sizes and scale factors (recomputed or not), align_corners, float32/float64; indices equal
to PyTorch's (nearest modes exactly, including the shortcuts of its vectorized kernel);
uint8 exactly as PyTorch's fixed point kernels; float64 gradients of orders 1 and 2 against
PyTorch and central differences; clear errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import minigrad as mg
from tests.spatial_helpers import compare_with_torch

F = mg.nn.functional
torch = pytest.importorskip("torch")
TF = torch.nn.functional

PLAIN = ("nearest", "nearest-exact", "area")
MODES_BY_DIMS = {1: ("linear", *PLAIN), 2: ("bilinear", "bicubic", *PLAIN),
                 3: ("trilinear", *PLAIN)}


def _corners(mode):
    return [None] if mode in PLAIN else [False, True]


def _value_cases():
    rng = np.random.default_rng(0)
    cases = []
    for (n, m), mode in itertools.product(itertools.product([1, 2, 3, 5, 8, 13], repeat=2),
                                          MODES_BY_DIMS[1]):
        cases += [((1, 2, n), mode, corners, dict(size=m)) for corners in _corners(mode)]
    for sf, n, mode in itertools.product([0.3, 0.7, 1.2, 1.5, 2, 2.2, 3.7], [2, 3, 5, 9],
                                         MODES_BY_DIMS[1]):
        if int(n * sf) >= 1:
            cases += [((1, 2, n), mode, c, dict(scale_factor=sf, recompute_scale_factor=r))
                      for c in _corners(mode) for r in (None, True)]
    for (hw, out), mode in itertools.product(
            [((5, 7), (9, 4)), ((12, 20), (9, 31)), ((8, 8), (4, 4)), ((1, 5), (3, 1))],
            MODES_BY_DIMS[2]):
        cases += [((2, 3, *hw), mode, c, kw) for c in _corners(mode)
                  for kw in (dict(size=out), dict(scale_factor=(1.7, 0.6)))]
    for mode in MODES_BY_DIMS[3]:
        cases += [(shape, mode, c, kw) for c in _corners(mode) for shape, kw in (
            ((2, 3, 5, 2, 8), dict(size=(3, 6, 4))),
            ((1, 2, 4, 3, 5), dict(scale_factor=(1.5, 2, 0.5))))]
    return rng, cases


def test_values_match_torch_over_modes_sizes_and_scales() -> None:
    rng, cases = _value_cases()
    assert len(cases) > 500
    for (shape, mode, corners, kw), dtype in itertools.product(cases,
                                                               [np.float32, np.float64]):
        x = rng.standard_normal(shape).astype(dtype)
        ref = TF.interpolate(torch.tensor(x), mode=mode, align_corners=corners, **kw).numpy()
        out = F.interpolate(mg.tensor(x), mode=mode, align_corners=corners, **kw)
        assert out.shape == ref.shape and out.dtype == dtype, (shape, mode, kw)
        tol = 1e-13 if dtype == np.float64 else 1e-5  # float32 bicubic: a few ulp
        np.testing.assert_allclose(out.data, ref, rtol=tol, atol=tol,
                                   err_msg=str((shape, mode, corners, kw)))


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_nearest_indices_equal_torch_including_its_shortcuts(mode) -> None:
    """PyTorch's vectorized kernel (4-D, out_h + out_w <= 128) copies when the size is kept
    and halves the index when it doubles, even with a scale factor that says otherwise."""
    rng = np.random.default_rng(1)
    for shape, sf in [((1, 2, 3, 3), 1.2), ((1, 2, 3, 4), 2.2), ((1, 2, 5, 6), (1.1, 2.1)),
                      ((1, 1, 60, 70), (1.05, 0.97)), ((1, 1, 60, 70), (2.03, 1.01)),
                      ((1, 1, 3, 5, 4), (1.2, 2.2, 1.1)), ((1, 2, 3), 2.2)]:
        for dtype in (np.float32, np.float64, np.uint8):
            x = (rng.standard_normal(shape) * 50 + 100).astype(dtype)
            ref = TF.interpolate(torch.tensor(x), scale_factor=sf, mode=mode).numpy()
            out = F.interpolate(mg.tensor(x), scale_factor=sf, mode=mode)
            assert out.dtype == dtype
            np.testing.assert_array_equal(out.data, ref, err_msg=str((shape, sf, dtype)))


@pytest.mark.parametrize(("mode", "corners"), [("bilinear", False), ("bilinear", True),
                                               ("bicubic", False), ("bicubic", True)])
def test_uint8_linear_modes_equal_torch_fixed_point(mode, corners) -> None:
    """PyTorch resamples uint8 with int16 weights, the last axis first through a uint8
    buffer; 3 channels take its AVX kernel, 6 its generic one: both equal ours exactly."""
    rng = np.random.default_rng(2)
    for shape, kw in [((2, 3, 64, 64), dict(size=(10, 10))),
                      ((2, 3, 12, 20), dict(size=(9, 31))),
                      ((1, 6, 7, 9), dict(size=(13, 4))),
                      ((1, 1, 5, 5), dict(scale_factor=(1.7, 0.45))),
                      ((1, 6, 8, 3), dict(size=(8, 5)))]:
        x = np.clip(rng.standard_normal(shape) * 90 + 120, 0, 255).astype(np.uint8)
        ref = TF.interpolate(torch.tensor(x), mode=mode, align_corners=corners, **kw).numpy()
        out = F.interpolate(mg.tensor(x), mode=mode, align_corners=corners, **kw)
        assert out.dtype == np.uint8
        np.testing.assert_array_equal(out.data, ref, err_msg=str((shape, kw)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_antialias_matches_torch(dtype) -> None:
    """Pillow's stretched kernels when shrinking (A = -0.5 for bicubic), normalised per
    output; uint8 in fixed point. Not compared: outputs of width 1 resized in height, where
    PyTorch's separable kernel is wrong ((1, 1, 8, 1) to (3, 1) gives one value three
    times; the transposed input gives three, as ours)."""
    rng = np.random.default_rng(5)
    for shape, kw in [((2, 3, 64, 64), dict(size=(10, 10))),
                      ((2, 3, 12, 20), dict(size=(9, 31))), ((1, 6, 7, 9), dict(size=(13, 4))),
                      ((1, 2, 30, 17), dict(scale_factor=(0.3, 0.7))),
                      ((1, 2, 5, 5), dict(size=(5, 3)))]:
        x = rng.standard_normal(shape) * 60 + 120
        x = np.clip(x, 0, 255).astype(dtype) if dtype == np.uint8 else x.astype(dtype)
        for mode, corners in itertools.product(("bilinear", "bicubic"), (False, True)):
            args = dict(mode=mode, align_corners=corners, antialias=True, **kw)
            ref = TF.interpolate(torch.tensor(x), **args).numpy()
            out = F.interpolate(mg.tensor(x), **args)
            assert out.dtype == dtype, args
            tol = {np.float32: 1e-3, np.float64: 1e-10, np.uint8: 0}[dtype]
            np.testing.assert_allclose(out.data, ref, rtol=0, atol=tol, err_msg=str(args))


GRADIENT_CASES = [
    ((1, 2, 9, 7), dict(size=(4, 3), mode="bilinear", antialias=True)),
    ((1, 2, 9, 7), dict(size=(3, 9), mode="bicubic", antialias=True, align_corners=True)),
    ((2, 3, 5), dict(size=8, mode="linear")),
    ((2, 3, 9), dict(size=4, mode="linear", align_corners=True)),
    ((1, 2, 4, 5), dict(size=(7, 3), mode="bilinear")),
    ((1, 2, 4, 5), dict(scale_factor=(1.5, 0.5), mode="bicubic", align_corners=True)),
    ((1, 2, 4, 5), dict(size=(6, 9), mode="bicubic")),
    ((1, 2, 3, 2, 4), dict(size=(4, 3, 3), mode="trilinear")),
    ((1, 2, 4, 5), dict(size=(7, 3), mode="nearest")),
    ((1, 2, 4, 5), dict(scale_factor=1.7, mode="nearest-exact")),
    ((1, 2, 3, 5, 4), dict(size=(2, 3, 3), mode="area")),
]


@pytest.mark.parametrize(("shape", "kw"), GRADIENT_CASES, ids=str)
def test_gradients_match_torch_to_second_order(shape, kw) -> None:
    x = np.random.default_rng(3).standard_normal(shape)
    compare_with_torch(lambda t: F.interpolate(t, **kw), lambda t: TF.interpolate(t, **kw),
                       [x], torch)


@pytest.mark.parametrize(("shape", "kw"), GRADIENT_CASES[:2] + GRADIENT_CASES[4:7], ids=str)
def test_second_order_against_finite_differences(shape, kw) -> None:
    x = np.random.default_rng(4).standard_normal(shape)
    assert mg.gradcheck(lambda t: F.interpolate(t, **kw), [x], order=2)


@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda x: F.interpolate(x, size=3, scale_factor=2), ValueError, "exactly one of size"),
    (F.interpolate, ValueError, "exactly one of size"),
    (lambda x: F.interpolate(x, size=(3, 4, 5)), ValueError,
     "input (1, 2, 4, 4) has 2 spatial dimensions, but size (3, 4, 5) has 3"),
    (lambda x: F.interpolate(x, size=3, align_corners=True), ValueError,
     "align_corners can only be set"),
    (lambda x: F.interpolate(x, size=3, mode="linear"), NotImplementedError,
     "linear mode needs a 3-D input"),
    (lambda x: F.interpolate(x, size=3, mode="cubic"), ValueError, "mode must be one of"),
    (lambda x: F.interpolate(x, size=3, antialias=True), ValueError,
     "antialias is only for the bilinear and bicubic modes of a 4-D input"),
    (lambda x: F.interpolate(x, size=3, recompute_scale_factor=True), ValueError,
     "not meaningful with an explicit size"),
    (lambda x: F.interpolate(x, scale_factor=0.1), ValueError, "greater than 0"),
    (lambda x: F.interpolate(x, scale_factor=-2.0), ValueError, "must be positive"),
    (lambda x: F.interpolate(x.to(mg.int32), size=3), TypeError,
     "needs a floating or uint8 input, got dtype int32"),
    (lambda x: F.interpolate(x.to(mg.uint8), size=3, mode="area"), TypeError,
     "needs a floating input, got dtype uint8"),
    (lambda x: F.interpolate(x.reshape(1, 2, 2, 2, 2, 2), size=3), NotImplementedError,
     "needs a 3-D, 4-D or 5-D input"),
])
def test_bad_arguments_are_refused_naming_them(call, error, words) -> None:
    with pytest.raises(error) as info:
        call(mg.zeros((1, 2, 4, 4)))
    assert words in str(info.value)


@pytest.mark.parametrize(("shape", "factor"), [((2, 8, 2, 3), 2), ((3, 1, 9, 2, 1), 3),
                                               ((4, 2, 3), 1)])
def test_pixel_shuffle_and_unshuffle_match_torch(shape, factor) -> None:
    x = np.random.default_rng(6).standard_normal(shape)
    compare_with_torch(lambda t: F.pixel_shuffle(t, factor),
                       lambda t: TF.pixel_shuffle(t, factor), [x], torch)
    back = TF.pixel_shuffle(torch.tensor(x), factor).numpy()
    compare_with_torch(lambda t: F.pixel_unshuffle(t, factor),
                       lambda t: TF.pixel_unshuffle(t, factor), [back], torch)
    layer = mg.nn.PixelShuffle(factor)(mg.tensor(x))
    np.testing.assert_array_equal(layer.data, back)
    np.testing.assert_array_equal(mg.nn.PixelUnshuffle(factor)(layer).data, x)


@pytest.mark.parametrize(("call", "words"), [
    (lambda: F.pixel_shuffle(mg.zeros((2, 6, 2, 2)), 2), "divisible by upscale_factor^2 = 4"),
    (lambda: F.pixel_shuffle(mg.zeros((6, 2)), 2), "at least 3 dimensions"),
    (lambda: F.pixel_unshuffle(mg.zeros((1, 1, 3, 4)), 2), "divisible by downscale_factor 2"),
    (lambda: F.pixel_shuffle(mg.zeros((1, 4, 2, 2)), 0), "positive factor"),
])
def test_pixel_shuffle_errors(call, words) -> None:
    with pytest.raises(ValueError) as info:
        call()
    assert words in str(info.value)


UNFOLD = [((2, 3, 5, 6), dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1))),
          ((3, 5, 6), dict(kernel_size=2)), ((1, 2, 7, 7), dict(kernel_size=3, stride=2,
                                                                padding=1))]


@pytest.mark.parametrize(("shape", "kw"), UNFOLD, ids=str)
def test_unfold_and_fold_match_torch(shape, kw) -> None:
    """im2col and its adjoint col2im (overlapping blocks add up), gradients to order 2."""
    x = np.random.default_rng(7).standard_normal(shape)
    compare_with_torch(lambda t: F.unfold(t, **kw), lambda t: TF.unfold(t, **kw), [x], torch)
    columns = TF.unfold(torch.tensor(x), **kw).numpy()
    compare_with_torch(lambda t: F.fold(t, shape[-2:], **kw),
                       lambda t: TF.fold(t, shape[-2:], **kw), [columns], torch)
    layer = mg.nn.Fold(shape[-2:], **kw)(mg.nn.Unfold(**kw)(mg.tensor(x)))
    np.testing.assert_allclose(layer.data, TF.fold(torch.tensor(columns), shape[-2:],
                                                   **kw).numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("call", "words"), [
    (lambda: F.unfold(mg.zeros((2, 3, 5, 6)), 7), "gives (-1, 0) sliding blocks"),
    (lambda: F.fold(mg.zeros((2, 18, 12)), (5, 6), (2, 2)), "multiple of kh * kw = 4"),
    (lambda: F.unfold(mg.zeros((5, 6)), 2), "needs an input (N, C, H, W) or (C, H, W)"),
])
def test_unfold_fold_errors(call, words) -> None:
    with pytest.raises(ValueError) as info:
        call()
    assert words in str(info.value)
