"""Enhancement of half-scale frames: frame-recurrent, multi-scale temporal-spatial attention
(MTSA, DESIGN §4.4; after He et al., "Leveraging temporal down-sampling structure ...", 2026).

A B frame coded at half scale is up-sampled (fixed bicubic) and restored on the packed
full-resolution grid from its neighbours:

    base = upsample2(decoded half frame)                          the centre
    neighbours: both full-resolution references, warped by the frame's own decoded motion
        (scaled up 2x: the motion is in the bitstream already, so alignment costs no bits), and
        the previous enhanced frame of the GOP (the recurrent state; unaligned: attention decides
        where it still helps)
    MTA: per neighbour and per scale (1, 1/2, 1/4), a sigmoid of the pooled similarity of its
        embedding to the centre's weighs its features; coarse scales give stable cues where
        compression damaged the fine ones
    PSA: a two-level pyramid of max+avg pooled features, fused coarse to fine (progressive), gives
        a spatial mask and an additive term on the fused features
    a residual head adds the restored detail to the base

The output layer starts at zero, so an untrained net is the bicubic up-sampler.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from lvcodec.nets import numerics
from lvcodec.nets.layers import ResidualBlock, conv1x1, conv3x3, zero_init
from lvcodec.nets.motion import warp
from lvcodec.nets.resample import upsample2

__all__ = ["EnhanceNet", "MultiTemporalAttention", "PyramidSpatialAttention", "ENHANCE_MULTIPLE"]

ENHANCE_MULTIPLE = 8  # the working grid's sides are multiples of this (pooling to 1/4, twice)


def _lrelu(x):
    return F.leaky_relu(x, 0.1)


def _up(x: torch.Tensor, factor: int) -> torch.Tensor:
    return x if factor == 1 else F.interpolate(x, scale_factor=factor, mode="nearest")


class MultiTemporalAttention(nn.Module):
    """Weighs each neighbour's features by its similarity to the centre at several scales."""

    def __init__(self, channels: int, neighbours: int, scales=(1, 2, 4)):
        super().__init__()
        self.scales = tuple(scales)
        self.query = conv3x3(channels, channels)
        self.key = conv3x3(channels, channels)
        self.fuse = conv1x1(channels * (1 + neighbours * len(self.scales)), channels)

    def forward(self, centre: torch.Tensor, neighbours: list) -> torch.Tensor:
        q = self.query(centre)
        parts = [centre]
        for feat in neighbours:
            k = self.key(feat)
            for s in self.scales:
                qs, ks = (q, k) if s == 1 else (numerics.avg_pool2d(q, s), numerics.avg_pool2d(k, s))
                att = numerics.sigmoid(numerics.channel_mean(qs * ks))
                parts.append(feat * _up(att, s))
        return _lrelu(self.fuse(torch.cat(parts, dim=1)))


class PyramidSpatialAttention(nn.Module):
    """EDVR-style spatial attention: a mask and an additive term from a 2-level pooled pyramid,
    fused coarse to fine."""

    def __init__(self, channels: int):
        super().__init__()
        c = channels
        self.level1 = conv1x1(2 * c, c)
        self.level2 = conv1x1(2 * c, c)
        self.refine2 = conv3x3(c, c)
        self.refine1 = conv3x3(c, c)
        self.merge1 = conv3x3(c, c)
        self.mask = conv1x1(c, c)
        self.add = nn.Sequential(conv1x1(c, c), nn.LeakyReLU(0.1), conv1x1(c, c))

    @staticmethod
    def _pool(x):
        return torch.cat([F.max_pool2d(x, 2), numerics.avg_pool2d(x, 2)], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a1 = _lrelu(self.level1(self._pool(x)))  # 1/2
        a2 = _lrelu(self.refine2(_lrelu(self.level2(self._pool(a1)))))  # 1/4
        a1 = _lrelu(self.merge1(_lrelu(self.refine1(a1)) + _up(a2, 2)))
        a = _up(a1, 2)
        return x * 2 * numerics.sigmoid(self.mask(a)) + self.add(a)


class EnhanceNet(nn.Module):
    """Restores a half-scale frame on the packed full-resolution grid (module docstring)."""

    NEIGHBOURS = 3  # past reference, future reference, previous enhanced frame

    def __init__(self, channels: int = 32, blocks: int = 2):
        super().__init__()
        c = channels
        self.config = {"channels": c, "blocks": blocks}
        self.centre = nn.Sequential(conv3x3(6, c), nn.LeakyReLU(0.1), conv3x3(c, c))
        self.neighbour = nn.Sequential(conv3x3(12, c), nn.LeakyReLU(0.1), conv3x3(c, c))
        self.mta = MultiTemporalAttention(c, self.NEIGHBOURS)
        self.psa = PyramidSpatialAttention(c)
        self.body = nn.Sequential(*(ResidualBlock(c, c) for _ in range(blocks)))
        self.out = zero_init(conv3x3(c, 6))

    def restore(self, half_hat: torch.Tensor, flows_hat, ref_xs, prev_x) -> torch.Tensor:
        """The full-resolution frame from its decoded half-scale picture (sides multiples of
        ENHANCE_MULTIPLE / 2), its decoded motion to both references (same grid) and the two
        references and the previous enhanced frame (None: the first of its GOP) on the full grid."""
        base = upsample2(half_hat)
        neighbours = [warp(x, 2 * numerics.upsample2x_bilinear(flow))
                      for x, flow in zip(ref_xs, flows_hat)]
        neighbours.append(neighbours[0] if prev_x is None else prev_x)
        return self(base, neighbours)

    def forward(self, base: torch.Tensor, neighbours: list) -> torch.Tensor:
        """base: up-sampled frame (B, 6, H, W); neighbours: NEIGHBOURS aligned pictures of the
        same shape. Sides multiples of ENHANCE_MULTIPLE. Returns the restored packed frame."""
        centre = self.centre(base)
        # Each neighbour is embedded with the base beside it: what differs is what matters.
        feats = [self.neighbour(torch.cat([n, n - base], dim=1)) for n in neighbours]
        h = self.psa(self.mta(centre, feats))
        return base + self.out(self.body(h))
