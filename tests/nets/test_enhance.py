"""Temporal down-sampling nets: the fixed 2x resamplers and the enhancement net (MTSA)."""

import pytest
import torch

from lvcodec.nets.enhance import EnhanceNet
from lvcodec.nets.layers import pack_yuv420
from lvcodec.nets.resample import downsample2, half_size, to_8bit, upsample2


def test_resamplers_keep_flat_pictures_and_halve_or_double_each_plane():
    flat = torch.full((1, 6, 8, 12), 0.4)
    assert torch.allclose(downsample2(flat), torch.full((1, 6, 4, 6), 0.4), atol=1e-6)
    assert torch.allclose(upsample2(flat), torch.full((1, 6, 16, 24), 0.4), atol=1e-6)
    assert half_size(90, 160) == (45, 80) and half_size(45, 81) == (23, 41)
    with pytest.raises(ValueError, match="even"):
        downsample2(torch.zeros(1, 6, 5, 8))


def test_down_then_up_restores_smooth_content_and_removes_what_would_alias():
    yy, xx = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    smooth = (0.5 + 0.3 * torch.sin(xx / 9) * torch.cos(yy / 7))[None, None]
    chroma = smooth[..., ::2, ::2]
    x = pack_yuv420(smooth, chroma, chroma)
    assert (upsample2(downsample2(x)) - x)[..., 4:-4, 4:-4].abs().max() < 0.01
    # The finest checkerboard (Nyquist) is above the half-scale band: the anti-aliasing filter
    # removes it instead of folding it into a false low-frequency pattern.
    checker = ((xx + yy) % 2)[None, None]
    half = downsample2(pack_yuv420(checker, chroma, chroma))
    assert (half[:, :4] - 0.5).abs()[..., 2:-2, 2:-2].max() < 1e-6  # luma


def test_resamplers_give_the_same_bits_with_any_thread_count():
    torch.manual_seed(0)
    x = torch.rand(1, 6, 64, 96)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = downsample2(x), upsample2(x)
        torch.set_num_threads(3)
        three = downsample2(x), upsample2(x)
    finally:
        torch.set_num_threads(threads)
    assert all(torch.equal(a, b) for a, b in zip(one, three))


def test_to_8bit_rounds_half_up_onto_the_8bit_grid():
    x = torch.tensor([-0.1, 0.5 / 255, 1.49 / 255, 1.2])
    assert torch.equal(to_8bit(x) * 255, torch.tensor([0.0, 1.0, 1.0, 255.0]))


def test_an_untrained_enhancement_net_is_the_bicubic_upsampler_and_learns_from_the_references():
    torch.manual_seed(0)
    net = EnhanceNet(channels=8, blocks=1)
    half, flows = torch.rand(2, 6, 8, 12), [torch.randn(2, 2, 8, 12) for _ in range(2)]
    refs = [torch.rand(2, 6, 16, 24) for _ in range(2)]
    out = net.restore(half, flows, refs, None)
    assert out.shape == (2, 6, 16, 24) and torch.equal(out, upsample2(half))
    # Every input reaches the output once the output layer is live.
    torch.nn.init.normal_(net.out.weight, std=0.1)
    refs[1].requires_grad_(True)
    prev = torch.rand(2, 6, 16, 24, requires_grad=True)
    net.restore(half, flows, refs, prev).sum().backward()
    assert refs[1].grad.abs().sum() > 0 and prev.grad.abs().sum() > 0
