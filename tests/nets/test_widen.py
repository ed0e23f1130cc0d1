"""Function-preserving widening (lvcodec.nets.widen): the wider net starts as the narrow one."""

import pytest
import torch

from lvcodec.nets.intra import IntraNet
from lvcodec.nets.widen import widen_into


def _nets(n_wide=48):
    torch.manual_seed(0)
    narrow = IntraNet(N=32, M=64, Nz=32, groups=(16, 16, 32)).eval()
    with torch.no_grad():  # trained-looking gains and GDN weights, not the initial ones
        for name, p in narrow.named_parameters():
            if "gain" in name or "gamma" in name or "beta" in name:
                p.add_(torch.rand_like(p) * 0.1)
    wide = IntraNet(N=n_wide, M=64, Nz=32, groups=(16, 16, 32)).eval()
    return narrow, widen_into(wide, narrow)


def test_a_widened_intra_net_codes_as_the_narrow_one():
    narrow, wide = _nets()
    x = torch.rand(2, 6, 64, 64)
    q = torch.tensor([5.0, 60.0])
    with torch.no_grad():
        a, b = narrow(x, q), wide(x, q)
    assert (a["x_hat"] - b["x_hat"]).abs().max() < 1e-5
    for k in a["likelihoods"]:
        assert (a["likelihoods"][k] - b["likelihoods"][k]).abs().max() < 1e-5
    assert sum(p.numel() for p in wide.parameters()) > 1.2 * sum(p.numel() for p in narrow.parameters())


def test_the_new_channels_learn():
    """Their outgoing weights start at zero but get gradients (their inputs are not zero)."""
    narrow, wide = _nets()
    wide.train()
    x = torch.rand(2, 6, 64, 64)
    out = wide(x, torch.tensor([40.0, 40.0]))
    (out["x_hat"] - x).pow(2).mean().backward()
    grad = wide.g_s[-1][0].weight.grad  # the last synthesis conv: old outputs, new inputs
    assert wide.g_s[-1][0].weight[:, 32:].abs().max() == 0 and grad[:, 32:].abs().max() > 0


def test_a_narrower_or_other_net_is_refused():
    narrow, wide = _nets()
    with pytest.raises(ValueError, match="does not fit"):
        widen_into(IntraNet(N=32, M=64, Nz=32, groups=(16, 16, 32)), wide)
    with pytest.raises(ValueError, match="names differ"):
        widen_into(IntraNet(N=48, M=64, Nz=32, groups=(32, 32)), narrow)


def test_a_wider_latent_starts_silent_and_learns():
    """New latent channels round to zero and cost no bits at step one (same pictures, same
    likelihoods of the old channels), and the gradient reaches the analysis rows that make them."""
    from lvcodec.nets.widen import widen_intra

    narrow, _ = _nets()
    wide = widen_intra(narrow, N=40, M=96).eval()
    assert wide.config["groups"] == [16, 16, 32, 32]
    torch.manual_seed(1)
    x = torch.rand(2, 6, 64, 64) * 0.2 + 0.4
    q = torch.tensor([0.0, 63.0])
    with torch.no_grad():
        a, b = narrow(x, q), wide(x, q)
    assert (a["x_hat"] - b["x_hat"]).abs().max() < 1e-5
    old = a["likelihoods"]["y"]
    assert (b["likelihoods"]["y"][:, :64] - old).abs().max() < 1e-5
    assert (-torch.log2(b["likelihoods"]["y"][:, 64:])).sum() < 1e-3 * (-torch.log2(old)).sum()
    wide.train()
    out = wide(x, q)
    (out["x_hat"] - x).pow(2).mean().backward()
    assert wide.g_a[4].weight.grad[64:].abs().max() > 0
