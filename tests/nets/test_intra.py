"""Intra net contract: shapes, likelihood ranges, gains, and the step loop's consistency."""

import torch

from lvcodec.nets.context import anchor_mask
from lvcodec.nets.intra import IntraNet
from lvcodec.nets.layers import QualityGain, pack_yuv420, pad_to, unpack_yuv420

TINY = {"N": 16, "M": 32, "Nz": 16, "groups": [4, 4, 8, 16]}


def test_forward_returns_reconstruction_and_likelihoods_of_the_right_shapes():
    torch.manual_seed(0)
    net = IntraNet(**TINY)
    x = torch.rand(2, 6, 64, 96)
    out = net(x, torch.tensor([0.0, 63.0]))
    assert out["x_hat"].shape == x.shape
    assert out["likelihoods"]["y"].shape == (2, 32, 8, 12)
    assert out["likelihoods"]["z"].shape == (2, 16, 2, 3)
    for lik in out["likelihoods"].values():
        assert float(lik.min()) > 0 and float(lik.max()) <= 1


def test_pack_and_unpack_are_inverse():
    y, u, v = torch.rand(1, 1, 8, 12), torch.rand(1, 1, 4, 6), torch.rand(1, 1, 4, 6)
    packed = pack_yuv420(y, u, v)
    assert packed.shape == (1, 6, 4, 6)
    y2, u2, v2 = unpack_yuv420(packed)
    assert torch.equal(y, y2) and torch.equal(u, u2) and torch.equal(v, v2)


def test_padding_replicates_edges_to_the_multiple():
    x = torch.arange(6.0).view(1, 1, 2, 3)
    p = pad_to(x, 4)
    assert p.shape == (1, 1, 4, 4) and p[0, 0, 3, 3] == x[0, 0, 1, 2]


def test_quality_gain_interpolates_between_anchors_monotonically():
    g = QualityGain(4)
    vals = g(torch.arange(64.0))[:, 0, 0, 0]
    assert torch.all(vals[1:] > vals[:-1])
    assert torch.allclose(vals[0], torch.tensor(0.5)) and torch.allclose(vals[-1], torch.tensor(4.0))


def test_checkerboard_anchors_alternate():
    m = anchor_mask(3, 4)
    assert m.tolist() == [[True, False, True, False], [False, True, False, True], [True, False, True, False]]


def test_step_loop_with_exact_symbols_matches_the_training_reconstruction():
    """code() fed the encoder's own rounding reproduces forward()'s y_hat (up to mean snapping)."""
    torch.manual_seed(1)
    net = IntraNet(**TINY).eval()
    ctx = net.context
    y = torch.randn(1, 32, 6, 8) * 3
    prior = torch.randn(1, 32, 6, 8)

    def step(k, sel, mu, idx):
        c0, c1 = ctx.slices[k]
        return torch.round(y[:, c0:c1, sel] - mu)

    y_hat = ctx.code(prior, step)
    assert (y_hat - y).abs().max() <= 0.5 + 1e-5
