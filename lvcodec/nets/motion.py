"""Motion: coarse-to-fine estimation (encoder only), motion coding, feature-domain compensation.

All motion fields are in pixels of the packed frame (half the luma resolution), as (dx, dy).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
from compressai.entropy_models import EntropyBottleneck

from lvcodec.nets import numerics
from lvcodec.nets.context import GroupCheckerboardContext
from lvcodec.nets.layers import (
    AttentionBlock, QualityGain, ResidualBlock, ResidualBlockUpsample, ResidualBlockWithStride,
    conv1x1, conv3x3, hyper_analysis, hyper_latent, hyper_synthesis, subpel_conv3x3, zero_init,
)

__all__ = ["warp", "downscale_flow", "MotionEstimator", "MotionCoder", "TemporalContext"]


def replicate_padding(*modules: nn.Module) -> None:
    """Pad the convolutions of `modules` by replicating borders instead of with zeros.

    Motion is smooth, often constant over a whole frame. With zero padding, a constant field's
    latents differ near the borders, and a net trained on 128x128 patches (latents 8x8: all
    border) learns only those; on a 640x360 frame the interior latents were then mispredicted by
    2.6 on average (5 bpp of motion). With replicated borders a constant field stays constant
    everywhere, so what the net learns on patches holds on any frame size.
    """
    for module in modules:
        for m in module.modules():
            if isinstance(m, nn.Conv2d) and m.kernel_size[0] > 1:
                m.padding_mode = "replicate"


def warp(x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Backward warp: out(p) = x(p + flow(p)), bilinear, borders replicated."""
    if numerics.active():
        return _exact_warp(x, flow)
    dtype = torch.promote_types(x.dtype, flow.dtype)
    x, flow = x.to(dtype), flow.to(dtype)
    b, _, h, w = x.shape
    gy = torch.arange(h, device=x.device, dtype=x.dtype).view(1, h, 1)
    gx = torch.arange(w, device=x.device, dtype=x.dtype).view(1, 1, w)
    nx = (gx + flow[:, 0]) * (2.0 / max(w - 1, 1)) - 1.0
    ny = (gy + flow[:, 1]) * (2.0 / max(h - 1, 1)) - 1.0
    # Border padding clamps finite coordinates anyway, so clamping them here changes nothing;
    # it keeps NaN and huge values (a hostile stream's motion, a diverging training step) out of
    # the CPU kernel, which gathers from memory at the index a NaN becomes and segfaults.
    grid = torch.stack([nx, ny], dim=-1).nan_to_num(0.0).clamp(-2.0, 2.0)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=True)


def _exact_warp(x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """warp() as the decoder computes it (docs/bitstream.md §9.5): grid_sample's semantics
    (align_corners, border) written as binary64 operations in a fixed order, since the kernel's own
    arithmetic (vectorised or not, fused or not) differs between machines."""
    b, c, h, w = x.shape
    x = x.double()
    flow = flow.double().nan_to_num(0.0)
    gy = torch.arange(h, device=x.device, dtype=torch.float64).view(1, h, 1)
    gx = torch.arange(w, device=x.device, dtype=torch.float64).view(1, 1, w)
    px = (gx + flow[:, 0].clamp(-2 * w, 2 * w)).clamp(0, w - 1)
    py = (gy + flow[:, 1].clamp(-2 * h, 2 * h)).clamp(0, h - 1)
    x0, y0 = torch.floor(px), torch.floor(py)
    fx, fy = px - x0, py - y0  # exact
    x0, y0 = x0.to(torch.int64), y0.to(torch.int64)
    x1, y1 = (x0 + 1).clamp(max=w - 1), (y0 + 1).clamp(max=h - 1)
    flat = x.reshape(b, c, h * w)

    def tap(yy, xx):
        return flat.gather(2, (yy * w + xx).view(b, 1, h * w).expand(b, c, h * w)).view(b, c, h, w)

    fx, fy = fx[:, None], fy[:, None]
    top = tap(y0, x0) * (1 - fx) + tap(y0, x1) * fx
    bottom = tap(y1, x0) * (1 - fx) + tap(y1, x1) * fx
    return top * (1 - fy) + bottom * fy


def downscale_flow(flow: torch.Tensor, factor: int) -> torch.Tensor:
    """The flow of a `factor`-times smaller picture: average, and shorten the vectors."""
    if factor == 1:
        return flow
    return numerics.avg_pool2d(flow, factor) / factor


class MotionEstimator(nn.Module):
    """Multi-scale motion-aware estimation (MASTC-VC): a shared feature pyramid of the current
    frame and its decoded reference; the coarsest level estimates motion, and each finer level
    warps the reference features by the motion so far and estimates the remaining correction."""

    def __init__(self, widths=(24, 32, 48, 64), hidden: int = 64):
        super().__init__()
        self.pyramid = nn.ModuleList()
        cin = 6
        for i, w in enumerate(widths):
            self.pyramid.append(nn.Sequential(
                conv3x3(cin, w, stride=1 if i == 0 else 2), nn.LeakyReLU(0.1, inplace=True),
                conv3x3(w, w), nn.LeakyReLU(0.1, inplace=True)))
            cin = w
        self.refine = nn.ModuleList(nn.Sequential(
            conv3x3(2 * w + 2, hidden), nn.LeakyReLU(0.1, inplace=True),
            conv3x3(hidden, hidden // 2), nn.LeakyReLU(0.1, inplace=True),
            zero_init(conv3x3(hidden // 2, 2))) for w in widths)

    def _features(self, x):
        feats = []
        for level in self.pyramid:
            x = level(x)
            feats.append(x)
        return feats

    def forward(self, x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        """x, ref: packed frames (B,6,H,W), H and W multiples of 8. Returns flow (B,2,H,W)."""
        fc, fr = self._features(x), self._features(ref)
        flow = None
        for i in reversed(range(len(fc))):
            if flow is None:
                flow = fc[i].new_zeros(fc[i].shape[0], 2, *fc[i].shape[2:])
            else:
                flow = 2.0 * F.interpolate(flow, scale_factor=2, mode="bilinear", align_corners=False)
            flow = flow + self.refine[i](torch.cat([fc[i], warp(fr[i], flow), flow], dim=1))
        return flow


class MotionCoder(nn.Module):
    """Motion coding (STVC): an attention hyperprior autoencoder with 3x3 kernels on the flow.

    The latent sits at 1/8 of the packed frame (1/16 of luma), the hyper-latent at 1/32; the
    latent's entropy parameters come from the hyperprior and a two-group checkerboard context.
    """

    def __init__(self, N: int = 64, M: int = 64, Nz: int = 32, groups=None, extra_channels: int = 0):
        super().__init__()
        groups = groups or (M // 4, M - M // 4)
        self.g_a = nn.Sequential(
            ResidualBlockWithStride(2, N, stride=2), ResidualBlock(N, N),
            ResidualBlockWithStride(N, N, stride=2), ResidualBlock(N, N),
            conv3x3(N, M, stride=2), AttentionBlock(M))
        self.g_s = nn.Sequential(
            AttentionBlock(M), ResidualBlock(M, N),
            ResidualBlockUpsample(N, N, 2), ResidualBlock(N, N),
            ResidualBlockUpsample(N, N, 2), ResidualBlock(N, N),
            subpel_conv3x3(N, 2, 2))
        self.h_a = hyper_analysis(M, N, Nz)
        self.h_s = hyper_synthesis(Nz, N, M)
        # Motion precision is worth more bits at high quality; the gains learn how much.
        self.gain_a = QualityGain(M, lo=0.7, hi=1.4)
        self.gain_s = QualityGain(M, lo=1 / 0.7, hi=1 / 1.4)
        self.entropy_bottleneck = EntropyBottleneck(Nz)
        self.context = GroupCheckerboardContext(M, groups, extra_channels=extra_channels, width=96)
        replicate_padding(self.g_a, self.g_s, self.h_a, self.h_s)

    def forward(self, flow: torch.Tensor, q: torch.Tensor):
        y, z = self.analyse(flow, q)
        z_hat, z_lik = hyper_latent(self.entropy_bottleneck, z)
        y_hat, y_lik = self.context(y, self.h_s(z_hat))
        return self.synthesise(y_hat, q), {"motion_y": y_lik, "motion_z": z_lik}

    def analyse(self, flow: torch.Tensor, q: torch.Tensor):
        y = self.g_a(flow) * self.gain_a(q)
        return y, self.h_a(y)

    def synthesise(self, y_hat: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        return self.g_s(y_hat * self.gain_s(q))


class TemporalContext(nn.Module):
    """Feature-domain motion compensation at three scales (DCVC-TCM style, no deformable op).

    The reference features are warped by the decoded motion; then, per scale, a small net predicts
    a correction offset for each of `groups` channel groups (what a deformable convolution's
    offset groups do), each group is warped by its own motion, and the result is fused and refined.
    Returns contexts at 1, 1/2 and 1/4 of the packed resolution.
    """

    def __init__(self, channels=(48, 64, 96), groups: int = 4):
        super().__init__()
        c0, c1, c2 = channels
        self.channels, self.groups = tuple(channels), groups
        self.down = nn.ModuleList([
            nn.Sequential(conv3x3(c0, c1, stride=2), nn.LeakyReLU(0.1, inplace=True), conv3x3(c1, c1)),
            nn.Sequential(conv3x3(c1, c2, stride=2), nn.LeakyReLU(0.1, inplace=True), conv3x3(c2, c2)),
        ])
        self.offsets = nn.ModuleList(nn.Sequential(
            conv3x3(c + 2, 64), nn.LeakyReLU(0.1, inplace=True), zero_init(conv3x3(64, 2 * groups)))
            for c in channels)
        self.fuse = nn.ModuleList(conv1x1(c, c) for c in channels)
        self.refine = nn.ModuleList(ResidualBlock(c, c) for c in channels)

    def forward(self, feat: torch.Tensor, flow: torch.Tensor):
        levels = [feat]
        for down in self.down:
            levels.append(down(levels[-1]))
        contexts = []
        g = self.groups
        for i, f in enumerate(levels):
            fl = downscale_flow(flow, 2 ** i)
            off = self.offsets[i](torch.cat([warp(f, fl), fl], dim=1))
            b, c, h, w = f.shape
            group_flow = (fl[:, None] + off.view(b, g, 2, h, w)).reshape(b * g, 2, h, w)
            warped = warp(f.reshape(b * g, c // g, h, w), group_flow).view(b, c, h, w)
            contexts.append(self.refine[i](self.fuse[i](warped)))
        return contexts
