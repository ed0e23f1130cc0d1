"""Rate-distortion definitions shared by the codec, training and evaluation (one source of truth).

The quality index q (0..MAX_QUALITY, coded in every frame header) selects a Lagrange multiplier
lambda(q), log-linear over a model's lambda range: the codec's own decisions (`--downsample auto`)
and the training loss use the same cost, bpp + lambda * 255^2 * MSE-YUV(6:1:1).
"""

import math

import numpy as np
import torch

from lvcodec.bitstream.syntax import MAX_QUALITY

__all__ = ["MAX_QUALITY", "NUM_QUALITIES", "LAMBDA_RANGE", "LEGACY_LAMBDA_RANGE", "lambda_for",
           "equivalent_quality",            "yuv_mse", "plane_mse", "psnr_from_mse", "frame_psnr"]

NUM_QUALITIES = MAX_QUALITY + 1
# Models trained from now on: q 0 at ~0.05 bpp up to q 63 at high quality (~10x the top lambda of
# CompressAI's image models, since users of x264/x265 work at 34-42 dB).
LAMBDA_RANGE = (0.0018, 0.5)
# Models whose card names no range were trained on CompressAI's MSE range for its qualities 1..6.
LEGACY_LAMBDA_RANGE = (0.0018, 0.0483)


def lambda_for(q, lambda_range=LAMBDA_RANGE):
    """lambda(q) for a tensor (or number) of quality indices, log-linear over `lambda_range`."""
    lo, hi = (math.log(v) for v in lambda_range)
    t = q.float() if isinstance(q, torch.Tensor) else torch.tensor(float(q))
    lam = torch.exp(lo + t / MAX_QUALITY * (hi - lo))  # float32, as the training loss computes it
    return lam if isinstance(q, torch.Tensor) else float(lam)


def equivalent_quality(q: float, from_range, to_range) -> float:
    """The (real, unclamped) quality under `from_range` whose lambda is lambda(q) under `to_range`:
    how a model trained on one range is re-indexed for another."""
    lo_f, hi_f = (math.log(v) for v in from_range)
    lo_t, hi_t = (math.log(v) for v in to_range)
    log_lam = lo_t + q / MAX_QUALITY * (hi_t - lo_t)
    return (log_lam - lo_f) / (hi_f - lo_f) * MAX_QUALITY


# Per packed channel, the weights of MSE-YUV 6:1:1 (the four luma channels share the 6), as
# yuv_mse weighs them, for per-sample errors (the encoder's block choice).
PACKED_YUV_WEIGHTS = (1.5, 1.5, 1.5, 1.5, 1.0, 1.0)


def yuv_mse(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-sample (6*MSE_Y + MSE_U + MSE_V) / 8 on packed frames (channels 0-3 are luma)."""
    se = (x_hat - x).pow(2).mean(dim=(2, 3))
    return (6 * se[:, :4].mean(dim=1) + se[:, 4] + se[:, 5]) / 8


def plane_mse(a: np.ndarray, b: np.ndarray) -> float:
    d = a.astype(np.float64) - b.astype(np.float64)
    return float(np.mean(d * d))


def psnr_from_mse(mse: float, peak: float = 255.0) -> float:
    """PSNR in dB; identical planes are capped at 100 dB so averages stay finite."""
    if mse <= 0:
        return 100.0
    return min(100.0, 10 * math.log10(peak * peak / mse))


def frame_psnr(ref, test) -> dict:
    """PSNR-Y, -U, -V and PSNR-YUV = (6 Y + U + V) / 8 of one frame (the DCVC convention)."""
    p = {k: psnr_from_mse(plane_mse(getattr(ref, k), getattr(test, k))) for k in ("y", "u", "v")}
    p["yuv"] = (6 * p["y"] + p["u"] + p["v"]) / 8
    return p
