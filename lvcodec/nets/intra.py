"""Intra (I-frame) net: attention hyperprior on packed YUV 4:2:0 with a group-checkerboard context.

    x (6, H/2, W/2) --g_a--> y (M, H/16, W/16) --*gain_a(q)--+--h_a--> z --EB--> z_hat --h_s--> hp
                                                             |                               |
                                                             +---- context (hp, groups, cb) -+
    y_hat --*gain_s(q)--g_s--> x_hat (6, H/2, W/2)

Strides are in luma pixels: y at 1/16, z at 1/64 (DESIGN §4.1). One set of weights covers every
quality q in 0..63 through the gain vectors (DESIGN §4.5).
"""

import torch
import torch.nn as nn
from compressai.entropy_models import EntropyBottleneck

from lvcodec.nets.context import GroupCheckerboardContext
from lvcodec.nets.layers import (
    AttentionBlock, QualityGain, ResidualBlock, ResidualBlockUpsample, ResidualBlockWithStride,
    conv3x3, hyper_analysis, hyper_latent, hyper_synthesis, subpel_conv3x3,
)

__all__ = ["IntraNet"]


class IntraNet(nn.Module):
    """See the module docstring. `forward()` trains; the codec drives `analyse/synthesise`."""

    # Packed-frame sides must be multiples of this (z sits at 1/32 of the packed frame).
    pad_multiple = 32

    def __init__(self, N: int = 64, M: int = 128, Nz: int = 64, groups=(16, 16, 32, 64)):
        super().__init__()
        if sum(groups) != M:
            raise ValueError(f"channel groups {groups} must add up to M={M}")
        self.config = {"N": N, "M": M, "Nz": Nz, "groups": list(groups)}
        self.g_a = nn.Sequential(
            ResidualBlockWithStride(6, N, stride=2),
            ResidualBlock(N, N),
            ResidualBlockWithStride(N, N, stride=2),
            ResidualBlock(N, N),
            conv3x3(N, M, stride=2),
            AttentionBlock(M),
        )
        self.g_s = nn.Sequential(
            AttentionBlock(M),
            ResidualBlock(M, N),
            ResidualBlockUpsample(N, N, 2),
            ResidualBlock(N, N),
            ResidualBlockUpsample(N, N, 2),
            ResidualBlock(N, N),
            subpel_conv3x3(N, 6, 2),
        )
        self.h_a = hyper_analysis(M, N, Nz)
        self.h_s = hyper_synthesis(Nz, N, M)
        self.gain_a = QualityGain(M)
        self.gain_s = QualityGain(M, lo=2.0, hi=0.25)
        self.entropy_bottleneck = EntropyBottleneck(Nz)
        self.context = GroupCheckerboardContext(M, groups)

    def forward(self, x: torch.Tensor, q: torch.Tensor) -> dict:
        """Training pass. x: (B,6,H,W) packed frames, sides multiples of pad_multiple; q: (B,)."""
        y, z = self.analyse(x, q)
        z_hat, z_likelihoods = hyper_latent(self.entropy_bottleneck, z)
        y_hat, y_likelihoods = self.context(y, self.h_s(z_hat))
        x_hat = self.synthesise(y_hat, q)
        return {"x_hat": x_hat, "likelihoods": {"y": y_likelihoods, "z": z_likelihoods}}

    def aux_loss(self) -> torch.Tensor:
        """Loss that fits the factorized prior's quantiles (run with its own optimizer)."""
        return self.entropy_bottleneck.loss()

    # -- pieces the codec drives (nets never produce bytes) --------------------------------------

    def analyse(self, x: torch.Tensor, q: torch.Tensor):
        """Encoder side: scaled latent y and hyper-latent z."""
        y = self.g_a(x) * self.gain_a(q)
        return y, self.h_a(y)

    def hyper_prior(self, z_hat: torch.Tensor) -> torch.Tensor:
        return self.h_s(z_hat)

    def synthesise(self, y_hat: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        return self.g_s(y_hat * self.gain_s(q))
