"""The exact decoder-side arithmetic (lvcodec.nets.numerics): exact sums, the float ops' twins."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from compressai.layers import GDN, AttentionBlock

from lvcodec.nets import numerics
from lvcodec.nets.context import SCALE_FLOOR, exact_scale_index, scale_index
from lvcodec.nets.layers import QualityGain
from lvcodec.nets.motion import warp


def _conv(cin=16, cout=8, k=3, seed=0):
    torch.manual_seed(seed)
    return nn.Conv2d(cin, cout, k, padding=k // 2)


def test_an_exact_convolution_does_not_depend_on_the_order_of_its_sums():
    """The same exact integers whichever way the products are summed: PyTorch's GEMM, and a
    hand-written sum over input channels in reverse order."""
    conv = _conv()
    twin = numerics.exact_twin(conv)
    x = torch.randn(2, 16, 9, 11) * 3
    with numerics.exact():
        out = twin(x)
        x_int, x_scale = numerics.block_round(x, twin.act_bits)
        acc = torch.zeros(2, 8, 9, 11, dtype=torch.float64)
        for c in reversed(range(16)):
            acc += F.conv2d(x_int[:, c:c + 1], twin.w_int[:, c:c + 1], padding=1)
        manual = acc * (x_scale * twin.w_scale) + twin.b
    assert torch.equal(out, manual)
    assert (out - conv(x).double()).abs().max() < 2e-5  # and close to the float convolution


def test_block_rounding_keeps_each_sample_within_its_bits_and_is_batch_independent():
    x = torch.randn(3, 4, 5, 5) * torch.tensor([1e-3, 1.0, 1e3])[:, None, None, None]
    ints, scale = numerics.block_round(x, 12)
    assert ints.abs().max() <= 2 ** 12 and torch.equal(ints, ints.round())
    one, _ = numerics.block_round(x[1:2], 12)
    assert torch.equal(ints[1:2], one)  # a sample's grid is its own, not the batch's


def test_block_rounding_is_the_specified_formula():
    """docs/bitstream.md 9.2 word for word (max |x|, frexp, division, round half to even), on
    samples with magnitudes at and around powers of two and an all-zero one."""
    x = torch.randn(4, 3, 6, 6, dtype=torch.float64) * torch.tensor([1.0, 0.0, 7.5, 2 ** -30])[:, None, None, None]
    x[0, 0, 0, 0] = 4.0
    x[2, 1, 2, 3] = -8.0
    _, e = torch.frexp(x.abs().amax(dim=(1, 2, 3), keepdim=True))
    s = torch.ldexp(torch.ones_like(x[:, :1, :1, :1]), e - 24)
    ints, scale = numerics.block_round(x, 24)
    assert torch.equal(scale, s) and torch.equal(ints, torch.round(x / s))


def test_exact_twins_of_gdn_and_attention_stay_close_to_the_float_layers():
    torch.manual_seed(1)
    for layer in (GDN(8), GDN(8, inverse=True), AttentionBlock(8)):
        x = torch.randn(1, 8, 6, 6)
        twin = numerics.exact_twin(layer)
        with numerics.exact():
            got = twin(x)
        assert got.dtype == torch.float64
        assert (got - layer(x).double()).abs().max() < 1e-3, type(layer).__name__


def test_the_sigmoid_table_follows_the_sigmoid_and_saturates():
    x = torch.linspace(-30, 30, 4001, dtype=torch.float64)
    with numerics.exact():
        got = numerics.sigmoid(x)
    assert (got - torch.sigmoid(x)).abs().max() < 1e-6
    assert torch.all(got[1:] >= got[:-1])  # monotone


def test_exact_gains_match_the_float_gains():
    gain = QualityGain(16)
    q = torch.tensor([0.0, 17.0, 63.0])
    twin = numerics.exact_twin(gain)
    with numerics.exact():
        got = twin(q)
    assert (got - gain(q).double()).abs().max() / gain(q).abs().max() < 1e-6


def test_exact_scale_index_agrees_with_the_float_one_away_from_the_boundaries():
    raw = torch.linspace(-8, 70, 20001, dtype=torch.float64)
    exact = exact_scale_index(raw)
    fl = scale_index(F.softplus(raw) + SCALE_FLOOR)
    assert exact.dtype == torch.int64 and exact.min() == 0 and exact.max() == 127
    assert (exact != fl).float().mean() < 1e-3  # only at float32 rounding of the boundaries
    assert (exact - fl).abs().max() <= 1


def test_the_exact_warp_is_grid_samples_bilinear_with_border_replication():
    torch.manual_seed(2)
    x = torch.rand(2, 3, 12, 10)
    flow = torch.randn(2, 2, 12, 10) * 4
    flow[0, 0, 0, 0] = 40.0  # far outside: the border
    flow[1, 1, 3, 3] = float("nan")  # a hostile stream's motion
    with numerics.exact():
        got = warp(x, flow)
    ref = warp(x, flow.nan_to_num(0.0))
    assert got.dtype == torch.float64 and torch.isfinite(got).all()
    assert (got - ref.double()).abs().max() < 1e-5


def test_pooling_means_and_upsampling_under_exact_follow_the_float_ops():
    torch.manual_seed(3)
    x = torch.randn(1, 5, 8, 8, dtype=torch.float64)
    with numerics.exact():
        pooled, mean, up = (numerics.avg_pool2d(x, 2), numerics.channel_mean(x),
                            numerics.upsample2x_bilinear(x))
    assert (pooled - F.avg_pool2d(x, 2)).abs().max() < 1e-6
    assert (mean - x.mean(dim=1, keepdim=True)).abs().max() < 1e-6
    assert (up - F.interpolate(x, scale_factor=2, mode="bilinear",
                               align_corners=False)).abs().max() < 1e-6


def test_a_twin_is_rebuilt_when_its_net_is_trained_further():
    conv = _conv(seed=4)
    first = numerics.exact_twin(conv)
    assert numerics.exact_twin(conv) is first
    with torch.no_grad():
        conv.weight.mul_(2)
    assert numerics.exact_twin(conv) is not first


@pytest.mark.parametrize("cin,cout,k,mode,batch,size", [
    (48, 48, 3, "zeros", 1, (90, 160)), (32, 16, 5, "replicate", 2, (100, 100)),
    (20, 8, 3, "zeros", 1, (91, 97)), (16, 4, 1, "zeros", 1, (128, 64))])
def test_shifted_gemms_give_the_convolutions_integer_sums(cin, cout, k, mode, batch, size):
    """The fast path for large pictures must make the very integers PyTorch's convolution makes."""
    conv = numerics.ExactConv2d.convert(
        torch.nn.Conv2d(cin, cout, k, padding=k // 2, padding_mode=mode).double())
    x_int, _ = numerics.block_round(torch.randn(batch, cin, *size, dtype=torch.float64) * 3, 24)
    assert x_int.shape[2] * x_int.shape[3] >= numerics.SHIFTED_MIN_PIXELS
    with numerics.exact():
        one = torch.ones((), dtype=torch.float64)
        assert torch.equal(conv._integer_sums(x_int, one), conv._conv_forward(x_int, conv.w_int, None))


@pytest.mark.parametrize("cin,cout,k,mode", [(48, 16, 3, "zeros"), (32, 8, 5, "replicate"),
                                             (40, 8, 1, "zeros")])
def test_the_fast_convolution_rounds_and_sums_as_specified(cin, cout, k, mode):
    """The shifted-GEMM path rounds its input into the padded picture itself: the output must be
    the specified one, (PyTorch's convolution of block_round's integers) x scales + bias."""
    torch.manual_seed(k)
    conv = numerics.ExactConv2d.convert(
        torch.nn.Conv2d(cin, cout, k, padding=k // 2, padding_mode=mode).double())
    x = torch.randn(2, cin, 96, 100, dtype=torch.float64) * torch.tensor([3.0, 1e-4])[:, None, None, None]
    with numerics.exact():
        assert conv._shifted(x)
        x_int, x_scale = numerics.block_round(x, 24)
        expected = conv._conv_forward(x_int, conv.w_int, None) * (x_scale * conv.w_scale) + conv.b
        assert torch.equal(conv(x), expected)
