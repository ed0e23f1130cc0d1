"""Bi-directional (B-frame) net: two references, fine-grained motion, selective fusion (DESIGN §4.3).

    x, x_past, x_future ──ME──▶ flow_p, flow_f                  (encoder only)
    (flow_p, flow_f) ──BiMotionCoder──▶ (flow_p_hat, flow_f_hat)  two branches that exchange
        features, each with its own quantization gains; branch f's entropy model takes branch p's
        decoded latent as a prior
    per reference: TemporalContext(F_ref, flow_hat) ──▶ C0, C1, C2
    SelectiveFusion: per scale, a predicted per-pixel weight w mixes the two: w·C_p + (1−w)·C_f
    entropy model: the two temporal priors are aligned by the hyperprior (PriorAlignment), then as
        for P frames (checkerboard + channel groups + latent prediction of the fused prediction)
    conditional autoencoder, synthesis and the propagated feature: as InterNet

The net is an InterNet with a second motion branch and the two fusion modules; `from_inter()`
starts it from a trained P net with every new path at zero (equal weights, the P motion coder in
both branches), so B training starts where P frames are and learns what the second reference is
worth.
"""

import torch
import torch.nn as nn

from lvcodec.nets import numerics
from lvcodec.nets.context import load_widened
from lvcodec.nets.inter import InterNet
from lvcodec.nets.layers import conv1x1, conv3x3, hyper_latent, zero_init
from lvcodec.nets.motion import MotionCoder, warp

__all__ = ["BiNet", "BiMotionCoder", "SelectiveFusion", "PriorAlignment"]

# Where the two motion branches exchange features: after this many layers of g_a (at 1/4 of the
# packed frame) and of g_s (at 1/4, on the way up).
_EXCHANGE_AT = 4


class BiMotionCoder(nn.Module):
    """Interactive dual-branch motion coding (neural B-frames): the motion to the past reference
    (branch 0) and to the future one (branch 1) are different signals, so each branch has its
    own autoencoder and its own quality gains (its learned quantization step); they exchange
    features at 1/4 scale in analysis and synthesis, and branch 1's latent is coded with branch
    0's decoded latent as a further prior (its context model's extra input)."""

    def __init__(self, N: int = 64, M: int = 64, Nz: int = 32):
        super().__init__()
        self.branches = nn.ModuleList([MotionCoder(N, M, Nz), MotionCoder(N, M, Nz, extra_channels=M)])
        self.exchange_a = nn.ModuleList(zero_init(conv1x1(N, N)) for _ in range(2))
        self.exchange_s = nn.ModuleList(zero_init(conv1x1(N, N)) for _ in range(2))

    @staticmethod
    def _exchange(h, convs):
        return [h[0] + convs[0](h[1]), h[1] + convs[1](h[0])]

    def analyse(self, flows, q: torch.Tensor):
        """flows: (flow to past, flow to future) -> ([y0, y1], [z0, z1])."""
        h = [b.g_a[:_EXCHANGE_AT](f) for b, f in zip(self.branches, flows)]
        h = self._exchange(h, self.exchange_a)
        ys = [b.g_a[_EXCHANGE_AT:](hi) * b.gain_a(q) for b, hi in zip(self.branches, h)]
        return ys, [b.h_a(y) for b, y in zip(self.branches, ys)]

    def synthesise(self, y_hats, q: torch.Tensor):
        h = [b.g_s[:_EXCHANGE_AT](y * b.gain_s(q)) for b, y in zip(self.branches, y_hats)]
        h = self._exchange(h, self.exchange_s)
        return [b.g_s[_EXCHANGE_AT:](hi) for b, hi in zip(self.branches, h)]

    def forward(self, flows, q: torch.Tensor):
        ys, zs = self.analyse(flows, q)
        y_hats, lik = [], {}
        for i, (branch, y, z) in enumerate(zip(self.branches, ys, zs)):
            z_hat, lik[f"motion{i}_z"] = hyper_latent(branch.entropy_bottleneck, z)
            prior = branch.h_s(z_hat)
            if i == 1:  # the backward motion is coded knowing the forward one
                prior = torch.cat([prior, y_hats[0]], dim=1)
            y_hat, lik[f"motion{i}_y"] = branch.context(y, prior)
            y_hats.append(y_hat)
        return self.synthesise(y_hats, q), lik

    @torch.no_grad()
    def init_from(self, coder: MotionCoder) -> None:
        """Both branches start as the P net's motion coder (branch 1's extra prior at zero)."""
        from lvcodec.nets.state import load_net_state, net_state

        state = net_state(coder)
        load_net_state(self.branches[0], state)
        load_net_state(self.branches[1], {k: v for k, v in state.items()
                                          if not k.startswith("context.param_nets.")}, strict=False)
        load_widened(self.branches[1].context, coder.context, at=coder.h_s[-1].out_channels)


class SelectiveFusion(nn.Module):
    """Per-pixel weights for the two temporal contexts at each scale (selective, not even, fusion):
    where one reference is occluded or badly predicted, the other takes over. The weight of
    scale 0 also mixes the two motion-compensated pictures (the latent prediction's input)."""

    def __init__(self, channels=(48, 64, 96), hidden: int = 32):
        super().__init__()
        self.weights = nn.ModuleList(nn.Sequential(
            conv3x3(2 * c, hidden), nn.LeakyReLU(0.1, inplace=True), zero_init(conv3x3(hidden, 1)))
            for c in channels)

    def forward(self, past, future):
        """past, future: contexts (C0, C1, C2) of each reference -> (fused contexts, w0)."""
        fused, w0 = [], None
        for net, cp, cf in zip(self.weights, past, future):
            w = numerics.sigmoid(net(torch.cat([cp, cf], dim=1)))  # 0.5 at the start: the mean
            fused.append(cf + w * (cp - cf))
            w0 = w if w0 is None else w0
        return fused, w0


class PriorAlignment(nn.Module):
    """Hyperprior-guided fusion of the two temporal priors for the entropy model: the hyperprior
    features, which the encoder computed from the frame itself, say per latent position which
    reference's prior to trust."""

    def __init__(self, hyper_channels: int, prior_channels: int, hidden: int = 64):
        super().__init__()
        self.net = nn.Sequential(
            conv3x3(hyper_channels + 2 * prior_channels, hidden), nn.LeakyReLU(inplace=True),
            zero_init(conv3x3(hidden, prior_channels)))

    def forward(self, hyper: torch.Tensor, priors: torch.Tensor) -> torch.Tensor:
        """hyper: h_s features; priors: the two temporal priors, concatenated."""
        past, future = priors.chunk(2, dim=1)
        w = numerics.sigmoid(self.net(torch.cat([hyper, priors], dim=1)))
        return future + w * (past - future)


class BiNet(InterNet):
    """B frames: an InterNet whose motion and temporal context come from two references."""

    def __init__(self, **config):
        super().__init__(**config)
        cfg = self.config
        self.motion = BiMotionCoder(*cfg["motion"])
        self.fusion = SelectiveFusion(cfg["ctx"])
        self.align = PriorAlignment(cfg["M"], cfg["temporal_prior"])

    # -- pieces shared by forward() and the codec -------------------------------------------------

    def bi_contexts(self, ref_feats, flows_hat):
        """(fused contexts, the two temporal priors concatenated, pixel weight w0)."""
        past, future = (self.temporal(f, fl) for f, fl in zip(ref_feats, flows_hat))
        contexts, w0 = self.fusion(past, future)
        priors = torch.cat([self.prior_t(past[2]), self.prior_t(future[2])], dim=1)
        return contexts, priors, w0

    def bi_prediction(self, ref_xs, flows_hat, w0) -> torch.Tensor:
        """The selectively fused motion-compensated references."""
        past, future = (warp(x, fl) for x, fl in zip(ref_xs, flows_hat))
        return future + w0 * (past - future)

    def bi_latent_prediction(self, ref_xs, flows_hat, w0, contexts, q) -> torch.Tensor:
        """The latent of the selectively fused motion-compensated references."""
        return self.latent_of(self.bi_prediction(ref_xs, flows_hat, w0), contexts, q)

    # -- training ----------------------------------------------------------------------------------

    def forward(self, x: torch.Tensor, ref_xs, ref_feats, q: torch.Tensor) -> dict:
        """One B frame. ref_xs, ref_feats: (past, future) decoded pictures and their features."""
        flows = [self.estimator(x, r) for r in ref_xs]
        flows_hat, motion_lik = self.motion(flows, q)
        contexts, priors, w0 = self.bi_contexts(ref_feats, flows_hat)
        y, z = self.analyse(x, contexts, q)
        z_hat, z_lik = hyper_latent(self.entropy_bottleneck, z)
        hyper = self.h_s(z_hat)
        prior = torch.cat([hyper, self.align(hyper, priors)], dim=1)
        pred = self.bi_prediction(ref_xs, flows_hat, w0)
        y_hat, y_lik = self.context(y, prior, self.latent_of(pred, contexts, q))
        x_hat, feat = self.synthesise(y_hat, contexts, q, pred)
        return {"x_hat": x_hat, "feat": feat, "warped": pred,
                "flows_hat": flows_hat, "likelihoods": dict(motion_lik, y=y_lik, z=z_lik)}

    def aux_loss(self) -> torch.Tensor:
        return self.entropy_bottleneck.loss() + sum(
            b.entropy_bottleneck.loss() for b in self.motion.branches)

    @classmethod
    def from_inter(cls, inter: InterNet) -> "BiNet":
        """A B net that starts as the P net applied to both references, averaged."""
        from lvcodec.nets.state import load_net_state, net_state

        net = cls(**inter.config)
        for name, module in inter.named_children():
            if name != "motion":
                load_net_state(getattr(net, name), net_state(module))
        net.motion.init_from(inter.motion)
        return net
