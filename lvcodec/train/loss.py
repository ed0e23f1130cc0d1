"""Rate-distortion loss on packed YUV 4:2:0: lambda(q) * 255^2 * MSE-YUV(6:1:1) + bpp."""

import math

import torch

from lvcodec.nets.layers import NUM_QUALITIES

__all__ = ["LAMBDA_MIN", "LAMBDA_MAX", "lambda_for", "yuv_mse", "rd_loss"]

# CompressAI's MSE range for quality 1..6 of its image models; q = 0..63 spans it log-linearly.
LAMBDA_MIN, LAMBDA_MAX = 0.0018, 0.0483


def lambda_for(q: torch.Tensor) -> torch.Tensor:
    t = q.float() / (NUM_QUALITIES - 1)
    return torch.exp(math.log(LAMBDA_MIN) + t * (math.log(LAMBDA_MAX) - math.log(LAMBDA_MIN)))


def yuv_mse(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-sample (6*MSE_Y + MSE_U + MSE_V) / 8 on packed frames (channels 0-3 are luma)."""
    se = (x_hat - x).pow(2).mean(dim=(2, 3))
    return (6 * se[:, :4].mean(dim=1) + se[:, 4] + se[:, 5]) / 8


def rd_loss(out: dict, x: torch.Tensor, q: torch.Tensor) -> dict:
    """Loss terms; bpp is per luma pixel (the packed frame has a quarter of the luma positions)."""
    num_pixels = x.shape[2] * x.shape[3] * 4
    bits = sum(torch.log(lik).flatten(1).sum(dim=1) for lik in out["likelihoods"].values())
    bpp = -bits / (math.log(2) * num_pixels)
    mse = yuv_mse(out["x_hat"].clamp(0, 1), x)
    dist = yuv_mse(out["x_hat"], x)
    loss = (lambda_for(q) * 255 ** 2 * dist + bpp).mean()
    terms = {"loss": loss, "bpp": bpp.mean(), "mse": mse.mean(),
             "psnr": (-10 * torch.log10(mse.clamp_min(1e-10))).mean()}
    motion = [lik for k, lik in out["likelihoods"].items() if k.startswith("motion")]
    if motion:  # logged apart: a motion coder that stops sending motion shows here first
        bits = sum(torch.log(lik).flatten(1).sum(dim=1) for lik in motion)
        terms["bpp_motion"] = (-bits / (math.log(2) * num_pixels)).mean()
    return terms
