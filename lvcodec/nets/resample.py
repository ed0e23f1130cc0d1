"""Fixed 2x resampling of packed YUV 4:2:0 frames (temporal down-sampling, DESIGN §3 and §4.4).

Both filters are bicubic (a = -0.5) with dyadic taps, applied per plane (luma and chroma alike)
as fixed sums of shifted slices: every output sample is the same few float operations in the same
order whatever the thread count, so the decoder's half-scale references are the encoder's.

Down-sampling is anti-aliased: the bicubic kernel stretched to the output's sample spacing (as
PIL/torch `antialias=True` do), 8 taps, (-3, -9, 29, 111, 111, 29, -9, -3) / 256. Output sample i
sits between input samples 2i and 2i+1. Up-sampling is its mirror: output samples 2i and 2i+1 sit
a quarter of an input sample left and right of input sample i, 4 taps, (-3, 29, 111, -9) / 128.
"""

import torch
import torch.nn.functional as F

from lvcodec.nets.layers import pack_yuv420, unpack_yuv420

__all__ = ["downsample2", "upsample2", "half_size", "to_8bit", "half_picture"]

_DOWN = (-3 / 256, -9 / 256, 29 / 256, 111 / 256, 111 / 256, 29 / 256, -9 / 256, -3 / 256)
_UP_LEFT = (-3 / 128, 29 / 128, 111 / 128, -9 / 128)  # inputs i-2 .. i+1 -> output 2i
_UP_RIGHT = (-9 / 128, 111 / 128, 29 / 128, -3 / 128)  # inputs i-1 .. i+2 -> output 2i+1


def half_size(h: int, w: int) -> tuple[int, int]:
    """Packed size of the half-scale frame of a packed (h, w) frame (odd sides round up)."""
    return -(-h // 2), -(-w // 2)


def to_8bit(x: torch.Tensor) -> torch.Tensor:
    """Round to the 8-bit grid as the writer does (half up), clamped to [0, 1]."""
    return (x.clamp(0, 1) * 255 + 0.5).floor() / 255


def _down_axis(p: torch.Tensor, dim: int) -> torch.Tensor:
    n = p.shape[dim]
    pad = [0, 0, 0, 0]
    pad[(3 - dim) * 2: (3 - dim) * 2 + 2] = [3, 4]
    q = F.pad(p, pad, mode="replicate")
    out = None
    for k, tap in enumerate(_DOWN):  # output i: inputs 2i-3 .. 2i+4
        term = tap * q.narrow(dim, k, n).unfold(dim, 1, 2).squeeze(-1)
        out = term if out is None else out + term
    return out


def _up_axis(p: torch.Tensor, dim: int) -> torch.Tensor:
    n = p.shape[dim]
    pad = [0, 0, 0, 0]
    pad[(3 - dim) * 2: (3 - dim) * 2 + 2] = [2, 2]
    q = F.pad(p, pad, mode="replicate")
    sides = []
    for taps, first in ((_UP_LEFT, 0), (_UP_RIGHT, 1)):
        out = None
        for k, tap in enumerate(taps):
            term = tap * q.narrow(dim, first + k, n)
            out = term if out is None else out + term
        sides.append(out)
    return torch.stack(sides, dim=dim + 1).flatten(dim, dim + 1)  # interleave 2i, 2i+1


def _plane_down(p: torch.Tensor) -> torch.Tensor:
    return _down_axis(_down_axis(p, 2), 3)


def _plane_up(p: torch.Tensor) -> torch.Tensor:
    return _up_axis(_up_axis(p, 2), 3)


def downsample2(x: torch.Tensor) -> torch.Tensor:
    """Packed (B, 6, h, w) -> packed (B, 6, h/2, w/2), h and w even: each plane halved."""
    if x.shape[-2] % 2 or x.shape[-1] % 2:
        raise ValueError(f"downsample2 takes even packed sides, not {tuple(x.shape[-2:])}")
    y, u, v = unpack_yuv420(x)
    return pack_yuv420(_plane_down(y), _plane_down(u), _plane_down(v))


def upsample2(x: torch.Tensor) -> torch.Tensor:
    """Packed (B, 6, h, w) -> packed (B, 6, 2h, 2w): each plane doubled."""
    y, u, v = unpack_yuv420(x)
    return pack_yuv420(_plane_up(y), _plane_up(u), _plane_up(v))


def half_picture(x: torch.Tensor) -> torch.Tensor:
    """A packed picture at half scale as the codec makes it (frames and references alike): the
    anti-aliased down-sample, on the 8-bit grid."""
    return to_8bit(downsample2(x))
