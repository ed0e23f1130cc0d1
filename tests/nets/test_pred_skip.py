"""The prediction skip (InterNet.with_prediction_skip): a P or B net that can show its prediction
unchanged where the gate says so, added to a trained net without changing what it computes."""

import torch

from lvcodec.nets.bi import BiNet
from lvcodec.nets.inter import InterNet

CONFIG = dict(N=32, M=64, Nz=32, groups=(16, 16, 32), ctx=(16, 16, 32), temporal_prior=16,
              motion=(16, 16, 16))


def _trained_looking(net):
    torch.manual_seed(0)
    with torch.no_grad():  # the zero-initialised context inputs and heads of a new net, filled
        for p in net.parameters():
            if p.dim() == 4 and not p.abs().max():
                p.normal_(0, 0.02)
    return net.eval()


def test_the_skip_starts_as_the_net_it_was_added_to():
    torch.manual_seed(1)
    x, ref = torch.rand(1, 6, 64, 64), torch.rand(2, 1, 6, 64, 64)
    q = torch.tensor([40.0])
    with torch.no_grad():
        p = _trained_looking(InterNet(**CONFIG))
        ps = p.with_prediction_skip().eval()
        assert ps.config["pred_skip"] and "pred_skip" not in p.config
        a, b = p(x, ref[0], p.ref_features(ref[0]), q), ps(x, ref[0], ps.ref_features(ref[0]), q)
        assert torch.equal(a["x_hat"], b["x_hat"])

        bi = _trained_looking(BiNet(**CONFIG))
        bs = bi.with_prediction_skip().eval()
        refs = list(ref)
        a = bi(x, refs, [bi.ref_features(r) for r in refs], q)
        b = bs(x, refs, [bs.ref_features(r) for r in refs], q)
        assert torch.equal(a["x_hat"], b["x_hat"])
    assert ps.with_prediction_skip() is ps


def test_the_gate_learns_and_lets_the_prediction_through():
    """Its weights start at zero but get a gradient; a = 1, b = 0 adds the prediction."""
    torch.manual_seed(2)
    net = _trained_looking(InterNet(**CONFIG)).with_prediction_skip().train()
    x, ref, q = torch.rand(1, 6, 64, 64), torch.rand(1, 6, 64, 64), torch.tensor([40.0])
    out = net(x, ref, net.ref_features(ref), q)
    (out["x_hat"] - x).pow(2).mean().backward()
    assert net.pred_gate.weight.grad.abs().max() > 0
    with torch.no_grad():
        net.eval()
        y = torch.zeros(1, CONFIG["M"], 8, 8)
        contexts = net.contexts(net.ref_features(ref), torch.zeros(1, 2, 64, 64))
        pred = net.prediction(ref, torch.zeros(1, 2, 64, 64))
        without, _ = net.synthesise(y, contexts, q, pred)
        net.pred_gate.bias[:6].fill_(1.0 / 32)  # a = 1, b = 0
        with_gate, _ = net.synthesise(y, contexts, q, pred)
    assert torch.allclose(with_gate - without, pred, atol=1e-6)
