"""Building blocks shared by every lvcodec net: YUV packing, padding, gains, CompressAI layers."""

import math
from fractions import Fraction

import torch
import torch.nn as nn
import torch.nn.functional as F
from compressai.layers import (
    AttentionBlock,
    ResidualBlock,
    ResidualBlockUpsample,
    ResidualBlockWithStride,
    conv3x3,
    subpel_conv3x3,
)

from lvcodec.nets import numerics
from lvcodec.rd import NUM_QUALITIES, equivalent_quality  # q in 0..63 (DESIGN §4.5)

__all__ = [
    "AttentionBlock", "ResidualBlock", "ResidualBlockUpsample", "ResidualBlockWithStride",
    "conv1x1", "conv3x3", "subpel_conv3x3", "pack_yuv420", "unpack_yuv420", "pad_to", "QualityGain",
    "quantize_ste", "NUM_QUALITIES", "hyper_analysis", "hyper_synthesis", "hyper_latent",
    "zero_init", "remap_qualities",
]



def conv1x1(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=1)


def pack_yuv420(y: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """(B,1,H,W) luma + (B,1,H/2,W/2) chroma -> (B,6,H/2,W/2): luma space-to-depth, then U, V."""
    return torch.cat([F.pixel_unshuffle(y, 2), u, v], dim=1)


def unpack_yuv420(x: torch.Tensor):
    """Inverse of pack_yuv420."""
    return F.pixel_shuffle(x[:, :4], 2), x[:, 4:5], x[:, 5:6]


def pad_to(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Replicate-pad the bottom/right so both sides are multiples of `multiple` (never crop)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x
    return F.pad(x, (0, pw, 0, ph), mode="replicate")


def quantize_ste(x: torch.Tensor) -> torch.Tensor:
    """Round in the forward pass, identity gradient in the backward pass."""
    return (torch.round(x) - x).detach() + x


def zero_init(module: nn.Module) -> nn.Module:
    """Zero a layer's weights and bias: it starts as 'no contribution' and learns one."""
    nn.init.zeros_(module.weight)
    if module.bias is not None:
        nn.init.zeros_(module.bias)
    return module


def hyper_analysis(M: int, N: int, Nz: int) -> nn.Sequential:
    """h_a of every hyperprior here: latent (M) -> hyper-latent (Nz) at a quarter of its size."""
    return nn.Sequential(
        conv3x3(M, N), nn.LeakyReLU(inplace=True),
        conv3x3(N, N, stride=2), nn.LeakyReLU(inplace=True),
        conv3x3(N, Nz, stride=2))


def hyper_synthesis(Nz: int, N: int, M: int) -> nn.Sequential:
    """h_s: hyper-latent -> prior features (M channels) at the latent's size."""
    return nn.Sequential(
        conv3x3(Nz, N), nn.LeakyReLU(inplace=True),
        subpel_conv3x3(N, N, 2), nn.LeakyReLU(inplace=True),
        subpel_conv3x3(N, M, 2), nn.LeakyReLU(inplace=True),
        conv3x3(M, M))


def hyper_latent(entropy_bottleneck, z: torch.Tensor):
    """Training pass of a hyper-latent: (z_hat rounded around the medians, z's likelihoods).

    Rounding around the medians (not adding noise) is what the codec does, so the hyperprior's
    features in training are the ones the decoder will see.
    """
    # Likelihoods in float32 under mixed precision: the density's matmuls lose bits in bf16.
    with torch.autocast(z.device.type, enabled=False):
        z = z.float() if z.dtype in (torch.bfloat16, torch.float16) else z
        _, likelihoods = entropy_bottleneck(z)
        medians = entropy_bottleneck._get_medians()
        return quantize_ste(z - medians) + medians, likelihoods


class QualityGain(nn.Module):
    """Per-channel gain vectors for the quality index q (DCVC-style module bank, DESIGN §4.5).

    `anchors` learned log-gain vectors are interpolated linearly in q, so every q in 0..63 gets its
    own gain without one parameter set per q.
    """

    def __init__(self, channels: int, anchors: int = 8, lo: float = 0.5, hi: float = 4.0):
        super().__init__()
        init = torch.linspace(math.log(lo), math.log(hi), anchors)[:, None].repeat(1, channels)
        self.log_gain = nn.Parameter(init)

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        """q: (B,) float quality indices -> (B, C, 1, 1) gains."""
        if numerics.active():
            return torch.stack([self._exact(int(v)) for v in q.tolist()])[:, :, None, None]
        k = self.log_gain.shape[0] - 1
        t = (q.float() / (NUM_QUALITIES - 1) * k).clamp(0, k)
        i0 = t.floor().long().clamp(max=k - 1)
        w = (t - i0.float())[:, None]
        g = self.log_gain[i0] * (1 - w) + self.log_gain[i0 + 1] * w
        return torch.exp(g)[:, :, None, None]

    def _exact(self, quality: int) -> torch.Tensor:
        """The gains of an integer q, exactly: the interpolation in rational arithmetic, exp
        correctly rounded (numerics.exp_exact); cached per q."""
        cache = self.__dict__.setdefault("_exact_gains", {})
        if quality not in cache:
            k = self.log_gain.shape[0] - 1
            t = min(max(Fraction(quality * k, NUM_QUALITIES - 1), Fraction(0)), Fraction(k))
            i0 = min(int(t), k - 1)
            w = t - i0
            rows = self.log_gain.detach().double().cpu()
            logs = [Fraction(a) * (1 - w) + Fraction(b) * w
                    for a, b in zip(rows[i0].tolist(), rows[i0 + 1].tolist())]
            cache[quality] = torch.tensor(numerics.exp_exact(logs), dtype=torch.float64,
                                          device=self.log_gain.device)
        return cache[quality]

    @torch.no_grad()
    def remap(self, old_quality) -> None:
        """Re-sample the anchors so that quality q gives the gains quality `old_quality(q)` gave
        (a model moved to another lambda range, rd.equivalent_quality). Beyond the old range the
        log-gains continue along their mean slope, the trend a longer range would have learned."""
        k = self.log_gain.shape[0] - 1
        old = self.log_gain.detach().clone()
        slope = (old[-1] - old[0]) / k
        for i in range(k + 1):
            t = old_quality(i / k * (NUM_QUALITIES - 1)) / (NUM_QUALITIES - 1) * k
            if t >= k:
                self.log_gain[i] = old[-1] + (t - k) * slope
            elif t <= 0:
                self.log_gain[i] = old[0] + t * slope
            else:
                i0 = int(t)
                w = t - i0
                self.log_gain[i] = old[i0] * (1 - w) + old[i0 + 1] * w


def remap_qualities(net: nn.Module, from_range, to_range) -> int:
    """Re-index every gain bank of `net`, trained on lambda range `from_range`, for `to_range`
    (QualityGain.remap at rd.equivalent_quality); returns how many banks there were."""
    banks = [m for m in net.modules() if isinstance(m, QualityGain)]
    for bank in banks:
        bank.remap(lambda q: equivalent_quality(q, from_range, to_range))
    return len(banks)
