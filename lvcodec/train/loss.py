"""Rate-distortion loss on packed YUV 4:2:0: lambda(q) * 255^2 * MSE-YUV(6:1:1) + bpp."""

import math

import torch

from lvcodec.rd import LAMBDA_RANGE, lambda_for, yuv_mse

__all__ = ["rd_loss"]


def rd_loss(out: dict, x: torch.Tensor, q: torch.Tensor, lambda_range=LAMBDA_RANGE) -> dict:
    """Loss terms; bpp is per luma pixel (the packed frame has a quarter of the luma positions)."""
    num_pixels = x.shape[2] * x.shape[3] * 4
    bits = sum(torch.log(lik).flatten(1).sum(dim=1) for lik in out["likelihoods"].values())
    bpp = -bits / (math.log(2) * num_pixels)
    x_hat = out["x_hat"].float()  # the loss in float32, whatever precision the nets ran in
    mse = yuv_mse(x_hat.clamp(0, 1), x)
    dist = yuv_mse(x_hat, x)
    loss = (lambda_for(q, lambda_range) * 255 ** 2 * dist + bpp).mean()
    terms = {"loss": loss, "bpp": bpp.mean(), "mse": mse.mean(),
             "psnr": (-10 * torch.log10(mse.clamp_min(1e-10))).mean()}
    motion = [lik for k, lik in out["likelihoods"].items() if k.startswith("motion")]
    if motion:  # logged apart: a motion coder that stops sending motion shows here first
        bits = sum(torch.log(lik).flatten(1).sum(dim=1) for lik in motion)
        terms["bpp_motion"] = (-bits / (math.log(2) * num_pixels)).mean()
    return terms

