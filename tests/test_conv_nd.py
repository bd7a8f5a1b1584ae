"""conv3d, conv_transpose1d/2d/3d and their layers: values and float64 gradients of orders
1 and 2 against PyTorch 2.13 (live) over strides, paddings, output paddings, dilations and
groups; central differences to order 2 (mg.gradcheck); unbatched inputs; PyTorch's
padding forms; clear errors; one mg.jit compile of the composed graph."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from tests.spatial_helpers import compare_with_torch

F = mg.nn.functional
torch = pytest.importorskip("torch")
TF = torch.nn.functional

# (x shape, weight shape, with bias, keywords)
TRANSPOSE_2D = [
    ((2, 4, 5, 6), (4, 3, 3, 2), True, {}),
    ((2, 4, 5, 6), (4, 3, 3, 2), False, dict(stride=2, padding=1, output_padding=1)),
    ((1, 4, 4, 5), (4, 3, 3, 3), True, dict(stride=3, padding=2, output_padding=1,
                                            dilation=2, groups=2)),
    ((2, 4, 3, 4), (4, 2, 2, 3), False, dict(stride=(2, 3), padding=(0, 2),
                                             output_padding=(1, 2), dilation=(1, 2))),
    ((1, 4, 3, 3), (4, 1, 3, 2), True, dict(output_padding=1, dilation=2, groups=4)),
    ((2, 2, 3, 4), (2, 3, 2, 2), False, dict(stride=3, padding=1, output_padding=2)),
]
TRANSPOSE_1D = [
    ((2, 4, 7), (4, 3, 3), True, dict(stride=2, padding=1, output_padding=1, groups=2)),
    ((4, 5), (4, 2, 2), False, dict(dilation=3, padding=2)),
]
TRANSPOSE_3D = [
    ((2, 4, 3, 3, 4), (4, 3, 3, 2, 2), True, dict(stride=(2, 1, 2), padding=(1, 0, 1),
                                                  output_padding=(1, 0, 1), groups=2,
                                                  dilation=(1, 2, 1))),
    ((2, 3, 2, 3), (2, 2, 2, 2, 2), False, dict(stride=3, output_padding=2)),
]
CONV_3D = [
    ((2, 4, 5, 4, 5), (6, 2, 3, 2, 3), True, dict(stride=(2, 1, 2), padding=(1, 0, 2),
                                                  groups=2, dilation=(2, 1, 1))),
    ((3, 4, 5, 4), (2, 3, 3, 2, 3), False, dict(padding="same", dilation=(2, 1, 1))),
    ((1, 2, 4, 5, 4), (3, 2, 2, 2, 3), True, dict(padding="same")),
    ((1, 2, 5, 4, 5), (3, 2, 2, 2, 3), False, dict(padding="valid", stride=2)),
]
FUNCTIONS = {"conv_transpose1d": TRANSPOSE_1D, "conv_transpose2d": TRANSPOSE_2D,
             "conv_transpose3d": TRANSPOSE_3D, "conv3d": CONV_3D}
CASES = [(name, case) for name, cases in FUNCTIONS.items() for case in cases]


def _arrays(name, case, seed=0):
    x_shape, w_shape, bias, kw = case
    rng = np.random.default_rng(seed)
    channels = w_shape[1] * kw.get("groups", 1) if "transpose" in name else w_shape[0]
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape)]
    return [*arrays, rng.standard_normal(channels)] if bias else arrays


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize(("name", "case"), CASES, ids=lambda v: str(v)[:60])
def test_values_and_gradients_match_torch(name, case) -> None:
    kw = case[3]
    ours, theirs = getattr(F, name), getattr(TF, name)
    compare_with_torch(lambda *t: ours(*t, **kw), lambda *t: theirs(*t, **kw),
                       _arrays(name, case), torch)


def test_tinygrad_shapes_match_torch_in_float32() -> None:
    """The float32 sizes tinygrad's test_ops uses (9x9 inputs, 3x3 kernels)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 9, 9)).astype(np.float32)
    w = rng.standard_normal((4, 4, 3, 3)).astype(np.float32)
    for kw in [{}, dict(groups=2), dict(padding=(1, 2)), dict(dilation=(2, 1)),
               dict(stride=(2, 1))]:
        out = F.conv_transpose2d(mg.tensor(x), mg.tensor(w), **kw)
        assert out.dtype == np.float32
        ref = TF.conv_transpose2d(torch.tensor(x), torch.tensor(w), **kw).numpy()
        np.testing.assert_allclose(out.data, ref, rtol=1e-5, atol=1e-5)


# small cases for central differences (each derivative costs two calls per element)
SMALL = {
    "conv_transpose1d": ((1, 2, 3), (2, 2, 2), True, dict(stride=2, padding=1,
                                                          output_padding=1, groups=2)),
    "conv_transpose2d": ((1, 2, 2, 3), (2, 1, 2, 2), True, dict(stride=(2, 1), padding=1,
                                                                output_padding=(1, 0))),
    "conv_transpose3d": ((1, 2, 2, 2, 2), (2, 1, 2, 1, 2), False,
                         dict(stride=2, output_padding=(1, 0, 0), dilation=(1, 1, 2))),
    "conv3d": ((1, 2, 3, 2, 3), (2, 1, 2, 1, 2), True, dict(padding=(1, 0, 0), groups=2,
                                                            stride=(2, 1, 1))),
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_second_order_against_finite_differences(name) -> None:
    kw = SMALL[name][3]
    fn = getattr(F, name)
    arrays = _arrays(name, SMALL[name], seed=5)
    assert mg.gradcheck(lambda *t: fn(*t, **kw), arrays, order=1)
    assert mg.gradcheck(lambda *t: fn(*t, **kw), arrays, order=2)


def test_conv_transpose_is_the_input_gradient_of_conv() -> None:
    """<conv2d(x, w), y> = <x, conv_transpose2d(y, w)> for the matching output size."""
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 4, 7, 8)), rng.standard_normal((6, 2, 3, 2))
    kw = dict(stride=(2, 3), padding=(1, 0), dilation=(1, 2), groups=2)
    out = F.conv2d(mg.tensor(x), mg.tensor(w), **kw)
    y = rng.standard_normal(out.shape)
    back = F.conv_transpose2d(mg.tensor(y), mg.tensor(w), output_padding=(0, 2), **kw)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(out.data * y), np.sum(back.data * x), rtol=1e-12)


def test_conv1d_and_conv2d_take_unbatched_inputs_and_padding_forms() -> None:
    rng = np.random.default_rng(4)
    cases = [(F.conv1d, TF.conv1d, (3, 7), (2, 3, 3), dict(padding="same")),
             (F.conv1d, TF.conv1d, (1, 3, 7), (2, 3, 3), dict(padding=(2,))),
             (F.conv2d, TF.conv2d, (3, 5, 6), (2, 3, 2, 3), dict(padding=(1, 2))),
             (F.conv3d, TF.conv3d, (3, 4, 5, 6), (2, 3, 2, 3, 2), dict(padding=(0, 1, 2)))]
    for ours, theirs, xs, ws, kw in cases:
        x, w = rng.standard_normal(xs), rng.standard_normal(ws)
        out = ours(mg.tensor(x), mg.tensor(w), **kw)
        ref = theirs(torch.tensor(x), torch.tensor(w), **kw).numpy()
        np.testing.assert_allclose(out.data, ref, rtol=1e-12, atol=1e-12)


def _zeros(*shape):
    return mg.zeros(shape, dtype=mg.float64)


@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda x, w: F.conv_transpose2d(x, w, output_padding=1), ValueError,
     "output_padding (1, 1) must be smaller than either stride (1, 1)"),
    (lambda x, w: F.conv_transpose2d(x, w, padding=(1, 1, 1)), ValueError,
     "padding must be an int or a tuple of 2 ints, got (1, 1, 1)"),
    (lambda x, w: F.conv_transpose2d(x, w, padding="same"), ValueError, "'same'"),
    (lambda x, w: F.conv_transpose2d(x, w, padding=-1), ValueError, "padding must be >= 0"),
    (lambda x, w: F.conv_transpose2d(x, w, padding=5), ValueError, "too small"),
    (lambda x, w: F.conv_transpose2d(x, w, groups=3), ValueError, "groups=3 must divide"),
    (lambda x, w: F.conv_transpose2d(x[:, :2], w), ValueError,
     "expects 4 input channels (weight.shape[0]), input (2, 2, 3, 3) has 2"),
    (lambda x, w: F.conv_transpose2d(x, w, _zeros(4)), ValueError,
     "bias of shape (4,) does not fit 3 output channels"),
    (lambda x, w: F.conv_transpose2d(x, w.to(mg.float32)), TypeError,
     "share one floating dtype"),
    (F.conv_transpose3d, ValueError, "needs a 5-D input (N, C, D, H, W)"),
    (lambda x, w: F.conv3d(x.reshape(2, 4, 1, 3, 3), _zeros(2, 4, 2, 1, 1)), ValueError,
     "padded to (1, 3, 3) is smaller than the dilated kernel (2, 1, 1)"),
    (lambda x, w: F.conv3d(x.reshape(2, 4, 1, 3, 3), _zeros(2, 4, 1, 1, 1), stride=2,
                           padding="same"), ValueError, "not supported for strided"),
])
def test_bad_arguments_are_refused_naming_them(call, error, words) -> None:
    x = mg.zeros((2, 4, 3, 3), dtype=mg.float64)
    w = mg.zeros((4, 3, 2, 2), dtype=mg.float64)
    with pytest.raises(error) as info:
        call(x, w)
    assert words in str(info.value)


def test_modules_match_torch_layers() -> None:
    rng = np.random.default_rng(6)
    pairs = [
        (mg.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2, dtype=mg.float64),
         torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2).double(),
         (2, 4, 5, 5), {"output_size": (10, 10)}),
        (mg.nn.ConvTranspose1d(3, 2, 2, stride=2, output_padding=1, dtype=mg.float64),
         torch.nn.ConvTranspose1d(3, 2, 2, stride=2, output_padding=1).double(), (2, 3, 4), {}),
        (mg.nn.ConvTranspose3d(2, 3, 2, bias=False, dtype=mg.float64),
         torch.nn.ConvTranspose3d(2, 3, 2, bias=False).double(), (1, 2, 2, 3, 2), {}),
        (mg.nn.Conv3d(2, 4, (2, 3, 1), padding=1, groups=2, dtype=mg.float64),
         torch.nn.Conv3d(2, 4, (2, 3, 1), padding=1, groups=2).double(), (1, 2, 3, 4, 3), {}),
    ]
    for ours, theirs, shape, call in pairs:
        assert ours.weight.shape == tuple(theirs.weight.shape)
        bound = 1 / np.sqrt(np.prod(theirs.weight.shape[1:]))
        assert np.abs(ours.weight.data).max() <= bound  # PyTorch's init bound
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(ours.weight.data))
            if ours.bias is not None:
                theirs.bias.copy_(torch.tensor(ours.bias.data))
        x = rng.standard_normal(shape)
        out = ours(mg.tensor(x), **call)
        ref = theirs(torch.tensor(x), **call).detach().numpy()
        np.testing.assert_allclose(out.data, ref, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"output_size \(12, 12\) must lie between"):
        pairs[0][0](mg.zeros((2, 4, 5, 5), dtype=mg.float64), output_size=(12, 12))


def test_jit_compiles_conv_transpose3d() -> None:
    """One compile: the composed graph (index_add at an index array, the conv rows) and its
    gradient (index at an index array) lower, and give the eager values and gradients."""
    rng = np.random.default_rng(7)
    x = mg.tensor(rng.standard_normal((1, 2, 3, 2, 3)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((2, 2, 2, 2, 2)), requires_grad=True)

    def step(x, w):
        z = F.conv_transpose3d(x, w, stride=(2, 1, 1), padding=1, output_padding=(1, 0, 0))
        loss = mg.sum(z * z)
        return (loss, *mg.grad(loss, [x, w]))

    eager = step(x, w)
    compiled = mg.jit(step, background=False)
    for _ in range(2):
        for a, b in zip(compiled(x, w), eager, strict=True):
            np.testing.assert_allclose(a.data, b.data, rtol=1e-10, atol=1e-10)
