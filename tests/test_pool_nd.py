"""max_pool1d/3d, avg_pool1d/3d, max_unpool1d/2d/3d, max_pool2d on integers, and their
layers: values and indices against PyTorch 2.13 (live; NaN, ties, padding, dilation,
ceil_mode, count_include_pad, divisor_override), float64 gradients of orders 1 and 2
against PyTorch and central differences, unpooling's duplicates and errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from tests.spatial_helpers import compare_with_torch

F = mg.nn.functional
torch = pytest.importorskip("torch")
TF = torch.nn.functional

POOL3D = [dict(kernel_size=2),
          dict(kernel_size=(3, 2, 2), stride=(2, 1, 2), padding=(1, 1, 0)),
          dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
          dict(kernel_size=(2, 3, 2), dilation=(2, 1, 2), padding=(1, 1, 1), ceil_mode=True)]


def _same(ours, theirs, context) -> None:
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape, context
    np.testing.assert_allclose(ours.data, theirs, rtol=1e-12, atol=1e-12, equal_nan=True,
                               err_msg=str(context))


@pytest.mark.parametrize("kw", POOL3D, ids=str)
def test_max_pool3d_values_and_indices_match_torch(kw) -> None:
    """Ties and NaNs included: the first maximum in (d, h, w) order, or the last NaN."""
    rng = np.random.default_rng(0)
    for shape in [(2, 3, 5, 6, 7), (3, 6, 5, 4)]:
        x = np.round(rng.standard_normal(shape) * 2)  # many ties
        x[..., 1, 2, :2] = np.nan
        for array in (x, np.nan_to_num(x, nan=7).astype(np.int32)):
            out, index = F.max_pool3d(mg.tensor(array), return_indices=True, **kw)
            ref, ref_index = TF.max_pool3d(torch.tensor(array), return_indices=True, **kw)
            assert out.dtype == array.dtype and index.dtype == np.int64
            _same(out, ref, (shape, kw))
            np.testing.assert_array_equal(index.data, ref_index.numpy())


@pytest.mark.parametrize("kw", POOL3D, ids=str)
def test_avg_pool3d_matches_torch(kw) -> None:
    x = np.random.default_rng(1).standard_normal((2, 3, 5, 6, 7))
    kw = {k: v for k, v in kw.items() if k != "dilation"}
    for include in (True, False):
        for divisor in (None, 5):
            args = dict(count_include_pad=include, divisor_override=divisor, **kw)
            _same(F.avg_pool3d(mg.tensor(x), **args), TF.avg_pool3d(torch.tensor(x), **args),
                  args)


@pytest.mark.parametrize("kw", [dict(kernel_size=2),
                                dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                dict(kernel_size=2, dilation=2, padding=1)], ids=str)
def test_1d_pools_match_torch(kw) -> None:
    x = np.random.default_rng(2).standard_normal((2, 3, 9))
    out, index = F.max_pool1d(mg.tensor(x), return_indices=True, **kw)
    ref, ref_index = TF.max_pool1d(torch.tensor(x), return_indices=True, **kw)
    _same(out, ref, kw)
    np.testing.assert_array_equal(index.data, ref_index.numpy())
    kw = {k: v for k, v in kw.items() if k != "dilation"}
    _same(F.avg_pool1d(mg.tensor(x[0]), **kw), TF.avg_pool1d(torch.tensor(x[0]), **kw), kw)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32, np.int64])
def test_max_pool2d_takes_integers_as_torch(dtype) -> None:
    rng = np.random.default_rng(3)
    low = 0 if dtype == np.uint8 else -100
    x = rng.integers(low, 100, (2, 3, 7, 9)).astype(dtype)
    x[0, 0, :3, :3] = np.iinfo(dtype).min  # windows holding only the dtype's minimum
    for kw in [dict(kernel_size=2, padding=1),
               dict(kernel_size=(3, 2), stride=1, dilation=(2, 1), padding=1, ceil_mode=True)]:
        out, index = F.max_pool2d(mg.tensor(x), return_indices=True, **kw)
        ref, ref_index = TF.max_pool2d(torch.tensor(x), return_indices=True, **kw)
        assert out.dtype == dtype
        np.testing.assert_array_equal(out.data, ref.numpy())
        np.testing.assert_array_equal(index.data, ref_index.numpy())
    with pytest.raises(TypeError, match="floating point or integer, got dtype bool"):
        F.max_pool2d(mg.tensor(x > 0), 2)
    with pytest.raises(TypeError, match="floating point, got dtype int32"):
        F.avg_pool2d(mg.tensor(x.astype(np.int32)), 2)


def test_max_pool2d_on_integers_compiles() -> None:
    """One compile: the JIT's max_pool2d_index kernel takes an int32 input."""
    x = mg.tensor(np.random.default_rng(4).integers(-50, 50, (2, 3, 6, 7)).astype(np.int32))
    fn = mg.jit(lambda t: F.max_pool2d(t, 3, stride=2, padding=1), background=False)
    eager = F.max_pool2d(x, 3, stride=2, padding=1)
    for _ in range(2):
        out = fn(x)
        assert out.dtype == np.int32
        np.testing.assert_array_equal(out.data, eager.data)


GRADIENTS = [
    ("max_pool3d", (1, 2, 4, 5, 4), dict(kernel_size=(2, 3, 2), stride=(2, 1, 1), padding=1)),
    ("avg_pool3d", (1, 2, 4, 5, 4), dict(kernel_size=3, stride=2, padding=1,
                                         count_include_pad=False, ceil_mode=True)),
    ("max_pool1d", (2, 2, 7), dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool1d", (2, 2, 7), dict(kernel_size=3, stride=2, padding=1)),
]


@pytest.mark.parametrize(("name", "shape", "kw"), GRADIENTS, ids=str)
def test_gradients_match_torch_to_second_order(name, shape, kw) -> None:
    x = np.random.default_rng(5).standard_normal(shape)
    compare_with_torch(lambda t: getattr(F, name)(t, **kw),
                       lambda t: getattr(TF, name)(t, **kw), [x], torch)
    small = np.random.default_rng(6).standard_normal(shape)
    assert mg.gradcheck(lambda t: getattr(F, name)(t, **kw), [small], order=2)


def _pooled(shape, seed=7, **kw):
    x = np.round(np.random.default_rng(seed).standard_normal(shape), 1)
    values, index = TF.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    return values, index


@pytest.mark.parametrize(("shape", "kw", "size"), [
    ((2, 3, 8, 8), dict(kernel_size=2), None),
    ((2, 3, 9, 9), dict(kernel_size=3, stride=1), None),  # overlapping windows: duplicates
    ((1, 2, 7, 7), dict(kernel_size=3, stride=2, padding=1), (7, 7)),
    ((1, 2, 12, 10), dict(kernel_size=(5, 5), stride=(6, 5)), (5, 5, 13, 10)),
], ids=str)
def test_max_unpool2d_matches_torch(shape, kw, size) -> None:
    values, index = _pooled(shape, **kw)
    ref = TF.max_unpool2d(values, index, output_size=size, **kw)
    out = F.max_unpool2d(mg.tensor(values.numpy()), mg.tensor(index.numpy()),
                         output_size=size, **kw)
    _same(out, ref, (shape, kw))
    flat = index.numpy().reshape(*shape[:2], -1)
    if all(len(np.unique(row)) == len(row) for row in flat.reshape(-1, flat.shape[-1])):
        compare_with_torch(lambda v, i: F.max_unpool2d(v, i, output_size=size, **kw),
                           lambda v, i: TF.max_unpool2d(v, i, output_size=size, **kw),
                           [values.numpy(), index.numpy()], torch)
    else:  # PyTorch's backward credits every duplicate; ours the written one (see below)
        assert mg.gradcheck(lambda v: F.max_unpool2d(v, mg.tensor(index.numpy()),
                                                     output_size=size, **kw),
                            [values.numpy()], order=2)


def test_max_unpool_1d_3d_and_infinities_match_torch() -> None:
    x = np.round(np.random.default_rng(8).standard_normal((2, 3, 6, 6, 8)), 1)
    values, index = TF.max_pool3d(torch.tensor(x), 2, return_indices=True)
    _same(F.max_unpool3d(mg.tensor(values.numpy()), mg.tensor(index.numpy()), 2),
          TF.max_unpool3d(values, index, 2), "3d")
    values, index = TF.max_pool1d(torch.tensor(x[0, :, 0, 0]), 2, return_indices=True)
    _same(F.max_unpool1d(mg.tensor(values.numpy()), mg.tensor(index.numpy()), 2),
          TF.max_unpool1d(values, index, 2), "1d unbatched")
    data = np.array([[[[np.inf, -np.inf, np.nan], [1.0, 2.0, 3.0]]]])
    values, index = TF.max_pool2d(torch.tensor(data), 2, return_indices=True)
    _same(F.max_unpool2d(mg.tensor(values.numpy()), mg.tensor(index.numpy()), 2),
          TF.max_unpool2d(values, index, 2), "inf and nan")


def test_max_unpool2d_writes_the_last_duplicate_and_differentiates_it() -> None:
    """Of inputs sharing an index the last is written (PyTorch leaves it undefined: its
    kernel runs in parallel, and gave 4 or 2 here from run to run); the gradient reaches
    the written input only (finite differences agree)."""
    values = np.array([[[[1.0, 2.0, 3.0, 4.0]]]])
    index = np.array([[[[0, 0, 1, 0]]]])
    out = F.max_unpool2d(mg.tensor(values), mg.tensor(index), (1, 2))
    np.testing.assert_array_equal(out.data.ravel(), [4.0, 3.0, 0, 0, 0, 0, 0, 0])
    x = mg.tensor(values, requires_grad=True)
    (grad,) = mg.grad(mg.sum(F.max_unpool2d(x, mg.tensor(index), (1, 2)) *
                             mg.tensor(np.arange(8.0).reshape(1, 1, 1, 8))), [x])
    np.testing.assert_array_equal(grad.data.ravel(), [0.0, 0.0, 1.0, 0.0])
    assert mg.gradcheck(lambda t: F.max_unpool2d(t, mg.tensor(index), (1, 2)), [values],
                        order=2)


@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda v, i: F.max_unpool2d(v, mg.tensor(np.full(i.shape, -1)), 2), IndexError,
     "invalid max index -1 (output planes have 16 elements)"),
    (lambda v, i: F.max_unpool2d(v, i, 2, output_size=(6, 4)), ValueError,
     "invalid output_size (6, 4) (dim 0 must be between 2 and 6, exclusive)"),
    (lambda v, i: F.max_unpool2d(v, i, 2, output_size=(4, 4, 4)), ValueError,
     "output_size must have 2 or 4 entries"),
    (lambda v, i: F.max_unpool2d(v, i.to(mg.float32), 2), TypeError,
     "indices must be integers, got dtype float32"),
    (lambda v, i: F.max_unpool2d(v, i[:, :, :1], 2), ValueError,
     "indices (1, 2, 1, 2) must have the input's shape (1, 2, 2, 2)"),
    (lambda v, i: F.max_pool3d(v[0], 2), ValueError, "needs an input (N, C, D, H, W)"),
    (lambda v, i: F.avg_pool3d(v.reshape(1, 1, 2, 2, 2), 2, padding=2), ValueError,
     "must be at most half the kernel size"),
])
def test_bad_arguments_are_refused_naming_them(call, error, words) -> None:
    values, index = F.max_pool2d(mg.tensor(np.arange(32.0).reshape(1, 2, 4, 4)), 2,
                                 return_indices=True)
    with pytest.raises(error) as info:
        call(values, index)
    assert words in str(info.value)


def test_layers_match_torch() -> None:
    x = np.random.default_rng(9).standard_normal((2, 3, 4, 6, 5))
    pairs = [(mg.nn.MaxPool3d(2, stride=1, padding=1), torch.nn.MaxPool3d(2, 1, 1), x),
             (mg.nn.AvgPool3d((2, 3, 2), count_include_pad=False, padding=1),
              torch.nn.AvgPool3d((2, 3, 2), count_include_pad=False, padding=1), x),
             (mg.nn.MaxPool1d(3, 2), torch.nn.MaxPool1d(3, 2), x[:, :, 0, 0]),
             (mg.nn.AvgPool1d(3, 2, 1), torch.nn.AvgPool1d(3, 2, 1), x[:, :, 0, 0]),
             (mg.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
              torch.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), x[:, 0]),
             (mg.nn.Upsample(size=(3, 4, 7)), torch.nn.Upsample(size=(3, 4, 7)), x)]
    for ours, theirs, array in pairs:
        _same(ours(mg.tensor(array)), theirs(torch.tensor(array)), ours)


@pytest.mark.parametrize(("name", "shape", "size"), [
    ("adaptive_avg_pool1d", (2, 3, 7), 3), ("adaptive_avg_pool1d", (3, 7), 10),
    ("adaptive_avg_pool3d", (2, 3, 5, 6, 7), (2, None, 3)),
    ("adaptive_avg_pool3d", (3, 5, 6, 7), 4),
], ids=str)
def test_adaptive_avg_pools_match_torch(name, shape, size) -> None:
    x = np.random.default_rng(10).standard_normal(shape)
    compare_with_torch(lambda t: getattr(F, name)(t, size),
                       lambda t: getattr(TF, name)(t, size), [x], torch)


def test_adaptive_layers_and_upsampling_aliases_match_torch() -> None:
    x = np.random.default_rng(11).standard_normal((2, 3, 4, 5, 6))
    pairs = [(mg.nn.AdaptiveAvgPool3d((2, 3, None)), torch.nn.AdaptiveAvgPool3d((2, 3, None)),
              x), (mg.nn.AdaptiveAvgPool1d(4), torch.nn.AdaptiveAvgPool1d(4), x[:, :, 0, 0]),
             (mg.nn.UpsamplingNearest2d(scale_factor=3), torch.nn.UpsamplingNearest2d(
                 scale_factor=3), x[:, 0]),
             (mg.nn.UpsamplingBilinear2d((7, 3)), torch.nn.UpsamplingBilinear2d((7, 3)),
              x[:, 0])]
    for ours, theirs, array in pairs:
        _same(ours(mg.tensor(array)), theirs(torch.tensor(array)), ours)
    _same(F.upsample_bilinear(mg.tensor(x[:, 0]), scale_factor=2),
          TF.interpolate(torch.tensor(x[:, 0]), scale_factor=2, mode="bilinear",
                         align_corners=True), "upsample_bilinear")
    with pytest.raises(ValueError, match="output_size must be an int or 1 ints"):
        F.adaptive_avg_pool1d(mg.tensor(x[:, :, 0, 0]), (2, 3))


def test_2d_pools_take_unbatched_inputs_as_torch() -> None:
    x = np.random.default_rng(12).standard_normal((3, 5, 6))
    out, index = F.max_pool2d(mg.tensor(x), 2, return_indices=True)
    ref, ref_index = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    _same(out, ref, "max_pool2d")
    np.testing.assert_array_equal(index.data, ref_index.numpy())
    _same(F.avg_pool2d(mg.tensor(x), 2, padding=1), TF.avg_pool2d(torch.tensor(x), 2, padding=1),
          "avg_pool2d")
    _same(F.adaptive_avg_pool2d(mg.tensor(x), (2, 4)),
          TF.adaptive_avg_pool2d(torch.tensor(x), (2, 4)), "adaptive_avg_pool2d")
    with pytest.raises(ValueError, match=r"needs an input \(N, C, H, W\) or \(C, H, W\)"):
        F.max_pool2d(mg.tensor(x[0]), 2)


ADAPTIVE_MAX = [(1, (2, 3, 7), 3), (1, (3, 7), 10), (2, (2, 3, 5, 7), (2, 3)),
                (2, (2, 3, 5, 7), (5, None)), (2, (3, 5, 7), (4, 9)),
                (3, (2, 2, 4, 5, 6), (2, None, 4))]


@pytest.mark.parametrize(("dims", "shape", "size"), ADAPTIVE_MAX, ids=str)
def test_adaptive_max_pools_match_torch(dims, shape, size) -> None:
    """Ties (rounded values) and NaNs: the first maximum or last NaN of each window."""
    name, rng = f"adaptive_max_pool{dims}d", np.random.default_rng(13)
    x = np.round(rng.standard_normal(shape))
    x.ravel()[::7] = np.nan
    out, index = getattr(F, name)(mg.tensor(x), size, return_indices=True)
    ref, ref_index = getattr(TF, name)(torch.tensor(x), size, return_indices=True)
    _same(out, ref, (shape, size))
    np.testing.assert_array_equal(index.data, ref_index.numpy())
    smooth = rng.standard_normal(shape)
    compare_with_torch(lambda t: getattr(F, name)(t, size),
                       lambda t: getattr(TF, name)(t, size), [smooth], torch)
    layer = getattr(mg.nn, f"AdaptiveMaxPool{dims}d")(size, return_indices=True)
    np.testing.assert_array_equal(layer(mg.tensor(x))[1].data, ref_index.numpy())


def test_adaptive_max_pool2d_second_order_and_errors() -> None:
    x = np.random.default_rng(14).standard_normal((1, 2, 5, 4))
    assert mg.gradcheck(lambda t: F.adaptive_max_pool2d(t, (2, 3)), [x], order=2)
    with pytest.raises(TypeError, match="floating point, got dtype int32"):
        F.adaptive_max_pool2d(mg.tensor(x.astype(np.int32)), 2)
    with pytest.raises(ValueError, match="output_size must be an int or 2 ints"):
        F.adaptive_max_pool2d(mg.tensor(x), (1, 2, 3))


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_lp_pools_match_torch(dims) -> None:
    """Values for p = 1, 2, 3.5, inf; gradients to order 2 for p = 2 and 3.5 (positive
    inputs, away from the kink at a zero window sum)."""
    rng = np.random.default_rng(15)
    shape = (2, 3, 9, 8, 7)[:dims + 2]
    name = f"lp_pool{dims}d"
    for p, kw in [(1, dict(kernel_size=2)), (2, dict(kernel_size=3, stride=2, ceil_mode=True)),
                  (3.5, dict(kernel_size=2, stride=1)), (float("inf"), dict(kernel_size=3))]:
        x = rng.standard_normal(shape)
        x = np.abs(x) + 0.1 if p == 3.5 else x
        _same(getattr(F, name)(mg.tensor(x), p, **kw),
              getattr(TF, name)(torch.tensor(x), p, **kw), (p, kw))
    x = np.abs(rng.standard_normal((1, 2, 5, 4, 4)[:dims + 2])) + 0.1
    for p in (2, 3.5):
        compare_with_torch(lambda t, p=p: getattr(F, name)(t, p, 2),
                           lambda t, p=p: getattr(TF, name)(t, p, 2), [x], torch)
    layer = getattr(mg.nn, f"LPPool{dims}d")(2, 2)
    _same(layer(mg.tensor(x)), getattr(torch.nn, f"LPPool{dims}d")(2, 2)(torch.tensor(x)),
          "layer")


def test_empty_batches_pass_through_as_torch() -> None:
    empty = np.zeros((0, 2, 2, 2))
    index = np.zeros((0, 2, 2, 2), dtype=np.int64)
    assert F.max_unpool2d(mg.tensor(empty), mg.tensor(index), 2).shape == (0, 2, 4, 4)
    assert F.max_pool3d(mg.tensor(np.zeros((0, 2, 4, 4, 4))), 2).shape == (0, 2, 2, 2, 2)
    assert F.adaptive_max_pool2d(mg.tensor(empty), 3).shape == (0, 2, 3, 3)
