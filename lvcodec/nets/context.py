"""Entropy parameters of a latent: hyperprior + channel groups + checkerboard (MASTC-VC, DESIGN §4.1).

The latent's channels are split into uneven groups (16/16/32/64); each group is coded in two
checkerboard phases (anchors, then the rest). A group's means and scales come from the hyperprior
features, every earlier group (all positions) and, for the second phase, the anchors of its own
group. Decoding therefore takes 2 x groups parallel steps instead of one per position.
"""

from decimal import Decimal, localcontext
from functools import lru_cache

import torch
import torch.nn as nn
import torch.nn.functional as F
from compressai.entropy_models import GaussianConditional

from lvcodec.entropy.tables import ScaleTable, quantize_mean
from lvcodec.nets import numerics
from lvcodec.nets.layers import conv1x1, conv3x3, quantize_ste

__all__ = ["GroupCheckerboardContext", "anchor_mask", "scale_index", "exact_scale_index",
           "load_widened", "SCALE_FLOOR"]

_TABLE = ScaleTable()
SCALE_FLOOR = 1e-3  # scale = softplus(raw) + SCALE_FLOOR


def anchor_mask(h: int, w: int, device=None) -> torch.Tensor:
    """Boolean (h, w) mask of the checkerboard anchors: positions with (row + col) even."""
    r = torch.arange(h, device=device)[:, None]
    c = torch.arange(w, device=device)[None, :]
    return (r + c) % 2 == 0


def scale_index(scales: torch.Tensor, table: ScaleTable = _TABLE) -> torch.Tensor:
    """Torch twin of ScaleTable.index (same float32 formula)."""
    s = (scales if scales.dtype == torch.float64 else scales.float()).clamp(table.scale_min,
                                                                             table.scale_max)
    idx = torch.ceil((torch.log(s) - table.log_min) / table.log_step - 1e-6)
    return idx.clamp(0, table.levels - 1).to(torch.int64)


@lru_cache(maxsize=None)
def _thresholds(device_type: str, device_index) -> torch.Tensor:
    """T_i = softplus^-1(s_i - SCALE_FLOOR) for the table scales s_i, computed in decimal
    (numerics rule 3), so that raw > T_i exactly when softplus(raw) + SCALE_FLOOR > s_i."""
    t = _TABLE
    with localcontext() as ctx:
        ctx.prec = numerics.DECIMAL_DIGITS
        lo, hi = Decimal(t.scale_min).ln(), Decimal(t.scale_max).ln()
        out = []
        for i in range(t.levels):
            s = (lo + (hi - lo) * i / (t.levels - 1)).exp()
            out.append(float(((s - Decimal(SCALE_FLOOR)).exp() - 1).ln()))
    return torch.tensor(out, dtype=torch.float64, device=torch.device(device_type, device_index))


def exact_scale_index(raw: torch.Tensor) -> torch.Tensor:
    """Scale-table index of the scale softplus(raw) + SCALE_FLOOR: the first table scale not
    below it, found by exact comparisons of raw with the decimal thresholds."""
    t = _thresholds(raw.device.type, raw.device.index)
    idx = torch.searchsorted(t, raw.double().contiguous(), right=False)  # #{i: T_i < raw}
    return idx.clamp(max=_TABLE.levels - 1)


class GroupCheckerboardContext(nn.Module):
    """Means and scales for each (group, phase) step, plus the training-time likelihoods.

    Args:
        hyper_channels: channels of the hyperprior feature map (at latent resolution).
        groups: channel counts of the groups, in coding order.
        extra_channels: channels of a further prior at latent resolution (temporal prior for
            inter models; 0 for intra).
    """

    def __init__(self, hyper_channels: int, groups=(16, 16, 32, 64), extra_channels: int = 0,
                 width: int = 160, latent_prior: bool = False):
        super().__init__()
        self.latent_prior = latent_prior
        self.groups = tuple(groups)
        self.slices = []
        start = 0
        for c in self.groups:
            self.slices.append((start, start + c))
            start += c
        self.channels = start
        self.spatial = nn.ModuleList(nn.Conv2d(c, 2 * c, 5, padding=2) for c in self.groups)
        self.param_nets = nn.ModuleList()
        for k, c in enumerate(self.groups):
            cin = hyper_channels + extra_channels + self.slices[k][0] + 2 * c + (c if latent_prior else 0)
            self.param_nets.append(nn.Sequential(
                conv3x3(cin, width), nn.LeakyReLU(inplace=True),
                conv1x1(width, width * 3 // 4), nn.LeakyReLU(inplace=True),
                conv1x1(width * 3 // 4, 2 * c),
            ))
        self.gaussian = GaussianConditional(None)
        if latent_prior:
            # A prediction of the latent itself (P frames: the analysis of the motion-compensated
            # reference). Each group's means move towards it by a learned per-channel weight, and
            # the parameter nets see it, so the scales can shrink where it is reliable.
            self.ref_weight = nn.Parameter(torch.zeros(self.channels))

    def params(self, k: int, prior: torch.Tensor, y_hat: torch.Tensor, anchors, y_ref=None):
        """Means and scales of group k; `anchors` is None in the anchor phase."""
        means, raw = self.raw_params(k, prior, y_hat, anchors, y_ref)
        return means, F.softplus(raw) + SCALE_FLOOR

    def raw_params(self, k: int, prior: torch.Tensor, y_hat: torch.Tensor, anchors, y_ref=None):
        """Means and the scales before their softplus."""
        c0, c1 = self.slices[k]
        if anchors is None:
            sp = prior.new_zeros(prior.shape[0], 2 * (c1 - c0), *prior.shape[2:])
        else:
            sp = self.spatial[k](anchors)
        inputs = [prior, y_hat[:, :c0], sp]
        if self.latent_prior:
            inputs.append(y_ref[:, c0:c1])
        out = self.param_nets[k](torch.cat(inputs, dim=1))
        if out.dtype in (torch.bfloat16, torch.float16):  # mixed-precision training: rounding
            out = out.float()  # and likelihoods need the means' low bits (the codec's are fp32/64)
        means, raw = out.chunk(2, dim=1)
        if self.latent_prior:
            means = means + self.ref_weight[c0:c1, None, None] * y_ref[:, c0:c1]
        return means, raw

    def forward(self, y: torch.Tensor, prior: torch.Tensor, y_ref=None, coded: bool = False):
        """Training pass: returns y_hat (STE-rounded around the means) and the likelihoods of y.

        coded: means and scales snapped as the coder snaps them (the 1/16 grid, the scale table),
        straight through; for the encoder's latent refinement, whose latents must round where
        the coder rounds them."""
        mask = anchor_mask(*y.shape[-2:], device=y.device).to(y.dtype)
        likelihoods = []
        y_hat = y.new_zeros(y.shape)
        params = self.params if not coded else self._coded_params
        for k, (c0, c1) in enumerate(self.slices):
            y_k = y[:, c0:c1]
            mu_a, s_a = params(k, prior, y_hat, None, y_ref)
            anchors = (quantize_ste(y_k - mu_a) + mu_a) * mask
            mu_n, s_n = params(k, prior, y_hat, anchors, y_ref)
            means = mu_a * mask + mu_n * (1 - mask)
            scales = s_a * mask + s_n * (1 - mask)
            _, lik = self.gaussian(y_k, scales, means)
            likelihoods.append(lik)
            y_hat_k = quantize_ste(y_k - means) + means
            # Later groups see this group as the decoder will: rounded around its means.
            y_hat = torch.cat([y_hat[:, :c0], y_hat_k, y_hat[:, c1:]], dim=1)
        return y_hat, torch.cat(likelihoods, dim=1)

    def _coded_params(self, k, prior, y_hat, anchors, y_ref=None):
        means, scales = self.params(k, prior, y_hat, anchors, y_ref)
        snapped = torch.exp(_TABLE.log_min + _TABLE.log_step * scale_index(scales).to(scales.dtype))
        return (means + (quantize_mean(means) - means).detach(),
                scales + (snapped - scales).detach())

    @torch.no_grad()
    def code(self, prior: torch.Tensor, code_step, y_ref=None) -> torch.Tensor:
        """The one step loop shared by encoder and decoder.

        `code_step(k, sel, means_q, indexes)` gets group k, the (h, w) mask `sel` of the step's
        positions and their snapped means and scale-table indexes, shaped (B, c, n) in
        channel-then-raster order, and returns the integer symbols there: the encoder computes and
        writes them, the decoder reads them.
        """
        b, _, h, w = prior.shape
        y_hat = prior.new_zeros(b, self.channels, h, w)
        mask = anchor_mask(h, w, device=prior.device)
        for k, (c0, c1) in enumerate(self.slices):
            for sel in (mask, ~mask):
                anchors = None if sel is mask else y_hat[:, c0:c1] * mask
                means, raw = self.raw_params(k, prior, y_hat, anchors, y_ref)
                mu = quantize_mean(means[:, :, sel])
                raw = raw[:, :, sel]
                idx = exact_scale_index(raw) if numerics.active() else \
                    scale_index(F.softplus(raw) + SCALE_FLOOR)
                symbols = code_step(k, sel, mu, idx)
                y_hat[:, c0:c1, sel] = symbols.to(mu.dtype) + mu
        return y_hat


@torch.no_grad()
def load_widened(dst: GroupCheckerboardContext, src: GroupCheckerboardContext, at: int) -> None:
    """Copy `src` into `dst`, whose parameter nets take more inputs: the extra prior channels
    inserted at input position `at` (after the hyperprior features) and a latent prior at the end
    start at zero, so `dst` computes what `src` did until training finds a use for them. Groups
    `dst` has beyond `src`'s keep their own weights."""
    extra = dst.param_nets[0][0].in_channels - src.param_nets[0][0].in_channels
    if dst.latent_prior and not src.latent_prior:
        extra -= dst.groups[0]
    for s, d in zip(src.param_nets, dst.param_nets):
        w = d[0].weight
        w.zero_()
        w[:, :at].copy_(s[0].weight[:, :at])
        rest = s[0].in_channels - at
        w[:, at + extra:at + extra + rest].copy_(s[0].weight[:, at:])
        d[0].bias.copy_(s[0].bias)
        for i in range(1, len(s)):
            d[i].load_state_dict(s[i].state_dict())
    for s, d in zip(src.spatial, dst.spatial):
        d.load_state_dict(s.state_dict())
    if dst.latent_prior and src.latent_prior:
        dst.ref_weight.copy_(src.ref_weight)
