"""Inter (P-frame) net: motion-aware conditional coding, decoded frame-recurrently (DESIGN §4.2).

    x, x_ref ──ME──▶ flow ──MotionCoder──▶ flow_hat          (estimation in the encoder only)
    F_ref, flow_hat ──TemporalContext──▶ C0 (1), C1 (1/2), C2 (1/4 of the packed frame)
    x ⊕ C0,C1,C2 ──g_a──▶ y ──h_a──▶ z                        (conditional coding, not a residual)
    entropy parameters of y: hyperprior h_s(z_hat) ⊕ temporal prior(C2) ⊕ channel groups ⊕
        checkerboard (the spatial-temporal-channel context model of MASTC-VC)
    y_hat ⊕ C2,C1 ──g_s──▶ x_base; x_base ⊕ C0 ──head──▶ F (propagated) ──▶ x_hat
    with pred_skip: x_hat += a ⊙ x_pred − b ⊙ x_hat, (a, b) = gate(F) (x_pred: the motion-
        compensated reference, pixel domain)

The conditional autoencoder has the intra net's shape with zero-initialised context inputs, so
`from_intra()` starts it as exactly the intra codec and training only has to learn what the
temporal context is worth. F, the decoder's last feature map, is the next frame's reference
feature (frame-recurrent decoding); after an I frame it comes from `ref_features(x_hat)`.

Without the skip, a P frame coded against a perfect reference (its own I reconstruction, zero
motion) comes back *worse* than the reference at any rate: whatever the prediction holds must
pass through the synthesis, and the synthesis has the intra net's ceiling. The skip lets the
prediction through where the gate says so: a = b blends the prediction in (what the block map
does per block, here per sample and learned at once), a = 1, b = 0 makes the synthesis code a
residual (conditional residual coding: detail can accumulate over frames). The gate starts at
zero, so `with_prediction_skip()` turns a trained net into one that computes what it did; its
output is scaled by GATE_GAIN because Adam moves a weight by about the learning rate per step,
and the gate must travel to ~1 in hundreds of steps, not tens of thousands.
"""

import torch
import torch.nn as nn
from compressai.entropy_models import EntropyBottleneck

from lvcodec.nets.context import GroupCheckerboardContext, load_widened
from lvcodec.nets.intra import IntraNet
from lvcodec.nets.layers import (
    AttentionBlock, QualityGain, ResidualBlock, ResidualBlockUpsample, ResidualBlockWithStride,
    conv1x1, conv3x3, hyper_analysis, hyper_latent, hyper_synthesis, subpel_conv3x3, zero_init,
)
from lvcodec.nets.motion import MotionCoder, MotionEstimator, TemporalContext, warp

__all__ = ["InterNet", "GATE_GAIN"]

GATE_GAIN = 32.0  # a power of two: the scaling is exact (docs/bitstream.md §9.3)


class InterNet(nn.Module):
    pad_multiple = 32  # as intra: hyper-latents sit at 1/32 of the packed frame

    def __init__(self, N: int = 64, M: int = 128, Nz: int = 64, groups=(16, 16, 32, 64),
                 ctx=(48, 64, 96), temporal_prior: int = 64, motion=(64, 64, 32),
                 pred_skip: bool = False):
        super().__init__()
        c0, c1, c2 = ctx
        self.config = {"N": N, "M": M, "Nz": Nz, "groups": list(groups), "ctx": list(ctx),
                       "temporal_prior": temporal_prior, "motion": list(motion)}
        if pred_skip:  # only then in the config: models without it keep their exact config
            self.config["pred_skip"] = True
        self.estimator = MotionEstimator()
        self.motion = MotionCoder(*motion)
        self.feat_in = nn.Sequential(conv3x3(6, c0), ResidualBlock(c0, c0))
        self.temporal = TemporalContext(ctx)
        # Contextual analysis: the intra g_a with the contexts joined at matching resolutions.
        self.a1 = ResidualBlockWithStride(6 + c0, N, stride=2)
        self.a_c1 = zero_init(conv1x1(c1, N))
        self.a2 = nn.Sequential(ResidualBlock(N, N), ResidualBlockWithStride(N, N, stride=2))
        self.a_c2 = zero_init(conv1x1(c2, N))
        self.a3 = nn.Sequential(ResidualBlock(N, N), conv3x3(N, M, stride=2), AttentionBlock(M))
        # Contextual synthesis: the intra g_s, contexts joined on the way up.
        self.s1 = nn.Sequential(AttentionBlock(M), ResidualBlock(M, N), ResidualBlockUpsample(N, N, 2))
        self.s_c2 = zero_init(conv1x1(c2, N))
        self.s2 = nn.Sequential(ResidualBlock(N, N), ResidualBlockUpsample(N, N, 2))
        self.s_c1 = zero_init(conv1x1(c1, N))
        self.s3 = nn.Sequential(ResidualBlock(N, N), subpel_conv3x3(N, 6, 2))
        self.head = nn.Sequential(conv3x3(6 + c0, c0), ResidualBlock(c0, c0))
        self.head_out = zero_init(conv3x3(c0, 6))
        self.pred_gate = zero_init(conv3x3(c0, 12)) if pred_skip else None  # (a, b) per plane
        self.prior_t = nn.Sequential(conv3x3(c2, 96, stride=2), nn.LeakyReLU(inplace=True),
                                     conv3x3(96, temporal_prior))
        self.h_a = hyper_analysis(M, N, Nz)
        self.h_s = hyper_synthesis(Nz, N, M)
        self.gain_a = QualityGain(M)
        self.gain_s = QualityGain(M, lo=2.0, hi=0.25)
        self.entropy_bottleneck = EntropyBottleneck(Nz)
        self.context = GroupCheckerboardContext(M, groups, extra_channels=temporal_prior,
                                                latent_prior=True)

    # -- pieces shared by forward() and the codec -------------------------------------------------

    def ref_features(self, x_hat: torch.Tensor) -> torch.Tensor:
        """Reference features of an intra-decoded picture (P frames pass on their own)."""
        return self.feat_in(x_hat)

    def contexts(self, ref_feat: torch.Tensor, flow_hat: torch.Tensor):
        return self.temporal(ref_feat, flow_hat)

    def temporal_prior(self, contexts) -> torch.Tensor:
        return self.prior_t(contexts[2])

    def prediction(self, ref_x: torch.Tensor, flow_hat: torch.Tensor) -> torch.Tensor:
        """The motion-compensated reference (what the codec may show per block, docs/bitstream.md
        §4.6)."""
        return warp(ref_x, flow_hat)

    def latent_prediction(self, ref_x: torch.Tensor, flow_hat: torch.Tensor, contexts,
                          q: torch.Tensor) -> torch.Tensor:
        """The latent of the motion-compensated reference: what y would be if the frame were its
        prediction. A strong prior for static and well-predicted regions from the first step of
        training (the analysis starts as the intra one), and a path by which better motion
        directly saves bits."""
        return self.latent_of(self.prediction(ref_x, flow_hat), contexts, q)

    def latent_of(self, x: torch.Tensor, contexts, q: torch.Tensor) -> torch.Tensor:
        """The analysis of a picture x with these contexts (scaled latent)."""
        c0, c1, c2 = contexts
        h = self.a1(torch.cat([x, c0], dim=1)) + self.a_c1(c1)
        h = self.a2(h) + self.a_c2(c2)
        return self.a3(h) * self.gain_a(q)

    def analyse(self, x: torch.Tensor, contexts, q: torch.Tensor):
        """Encoder side: scaled latent y and hyper-latent z."""
        y = self.latent_of(x, contexts, q)
        return y, self.h_a(y)

    def synthesise(self, y_hat: torch.Tensor, contexts, q: torch.Tensor, pred: torch.Tensor):
        """Returns (x_hat, feature): the picture and the feature map the next frame references.
        pred: the prediction (`prediction()`, `BiNet.bi_prediction()`), for the skip."""
        c0, c1, c2 = contexts
        h = self.s1(y_hat * self.gain_s(q)) + self.s_c2(c2)
        h = self.s2(h) + self.s_c1(c1)
        base = self.s3(h)
        feat = self.head(torch.cat([base, c0], dim=1))
        x_hat = base + self.head_out(feat)
        if self.pred_gate is not None:
            a, b = (self.pred_gate(feat) * GATE_GAIN).chunk(2, dim=1)
            x_hat = x_hat + (a * pred - b * x_hat)
        return x_hat, feat

    # -- training ----------------------------------------------------------------------------------

    def forward(self, x: torch.Tensor, ref_x: torch.Tensor, ref_feat: torch.Tensor,
                q: torch.Tensor) -> dict:
        """One P frame. x, ref_x: packed (B,6,H,W), sides multiples of pad_multiple."""
        flow = self.estimator(x, ref_x)
        flow_hat, motion_lik = self.motion(flow, q)
        contexts = self.contexts(ref_feat, flow_hat)
        y, z = self.analyse(x, contexts, q)
        z_hat, z_lik = hyper_latent(self.entropy_bottleneck, z)
        prior = torch.cat([self.h_s(z_hat), self.temporal_prior(contexts)], dim=1)
        pred = self.prediction(ref_x, flow_hat)
        y_hat, y_lik = self.context(y, prior, self.latent_of(pred, contexts, q))
        x_hat, feat = self.synthesise(y_hat, contexts, q, pred)
        return {"x_hat": x_hat, "feat": feat, "flow": flow, "flow_hat": flow_hat,
                "warped": pred, "likelihoods": dict(motion_lik, y=y_lik, z=z_lik)}

    def aux_loss(self) -> torch.Tensor:
        return self.entropy_bottleneck.loss() + self.motion.entropy_bottleneck.loss()

    def with_prediction_skip(self) -> "InterNet":
        """This net with the prediction skip (a zero gate: the same pictures and bits)."""
        from lvcodec.nets.state import load_net_state, net_state

        if self.pred_gate is not None:
            return self
        net = type(self)(**dict(self.config, pred_skip=True))
        load_net_state(net, net_state(self), strict=False)
        return net.to(next(self.parameters()).device)

    @classmethod
    def from_intra(cls, intra: IntraNet, **config) -> "InterNet":
        """An inter net whose conditional autoencoder starts as a copy of the intra net."""
        cfg = dict(intra.config, **config)
        net = cls(**cfg)
        with torch.no_grad():
            ga, gs = intra.g_a, intra.g_s
            # a1 sees [x, C0]: the intra weights on x, zeros on C0.
            state = ga[0].state_dict()
            for key in ("conv1.weight", "skip.weight"):
                w = net.a1.state_dict()[key].zero_()
                w[:, :6] = state[key]
                state[key] = w
            net.a1.load_state_dict(state)
            net.a2.load_state_dict(nn.Sequential(ga[1], ga[2]).state_dict())
            net.a3.load_state_dict(nn.Sequential(ga[3], ga[4], ga[5]).state_dict())
            net.s1.load_state_dict(nn.Sequential(gs[0], gs[1], gs[2]).state_dict())
            net.s2.load_state_dict(nn.Sequential(gs[3], gs[4]).state_dict())
            net.s3.load_state_dict(nn.Sequential(gs[5], gs[6]).state_dict())
            for name in ("h_a", "h_s", "gain_a", "gain_s"):
                getattr(net, name).load_state_dict(getattr(intra, name).state_dict())
            from lvcodec.nets.state import load_net_state

            load_net_state(net.entropy_bottleneck, intra.entropy_bottleneck.state_dict())
            # The context model's first layers gain temporal-prior inputs, zero at the start.
            load_widened(net.context, intra.context, at=intra.h_s[-1].out_channels)
        return net
