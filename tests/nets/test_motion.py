"""Motion compensation: the warp's behaviour at the edges and on values a stream can forge."""

import torch

from lvcodec.nets.motion import warp


def test_warp_by_zero_flow_is_the_identity_and_by_whole_pixels_a_shift():
    x = torch.rand(1, 3, 8, 10)
    assert torch.allclose(warp(x, torch.zeros(1, 2, 8, 10)), x, atol=1e-6)
    flow = torch.zeros(1, 2, 8, 10)
    flow[:, 0] = 1.0  # out(p) = x(p + 1 column)
    assert torch.allclose(warp(x, flow)[..., :-1], x[..., 1:], atol=1e-6)


def test_warp_replicates_borders_for_flows_far_outside_the_picture():
    x = torch.rand(1, 2, 6, 6)
    flow = torch.full((1, 2, 6, 6), 1e9)
    assert torch.allclose(warp(x, flow), x[..., -1:, -1:].expand_as(x))


def test_warp_survives_nan_and_infinite_motion():
    """A hostile stream (or a diverging training step) can make the motion NaN or infinite; the
    CPU grid_sample kernel segfaulted on NaN coordinates (16x12x64x64). The warp must not."""
    x = torch.rand(16, 12, 64, 64)
    flow = torch.rand(16, 2, 64, 64)
    flow[:, :, ::3] = float("nan")
    flow[:, :, 1::3] = float("inf")
    out = warp(x, flow)
    assert out.shape == x.shape and torch.isfinite(out).all()
