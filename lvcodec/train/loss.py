"""Rate-distortion loss on packed YUV 4:2:0: lambda(q) * 255^2 * MSE-YUV(6:1:1) + bpp."""

import math

import torch

from lvcodec.rd import LAMBDA_RANGE, PACKED_YUV_WEIGHTS, lambda_for, yuv_mse

__all__ = ["rd_loss", "show_prediction"]


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


def show_prediction(x_hat: torch.Tensor, pred: torch.Tensor, x: torch.Tensor,
                    block: int) -> torch.Tensor:
    """The frame as the codec shows it: x_hat with the prediction in every `block`x`block`
    block (packed grid) where the prediction is closer to x (the encoder's block-prediction map,
    decided on the clamped pictures). The choice carries no gradient; each block's samples carry
    the gradient of the picture shown there, so the synthesis is not pulled towards blocks the
    prediction already wins, and the rate term learns that their latents can be dropped."""
    with torch.no_grad():
        weights = torch.tensor(PACKED_YUV_WEIGHTS, device=x.device).view(1, -1, 1, 1)

        def block_error(picture):
            err = ((picture.float().clamp(0, 1) - x.float()) ** 2 * weights).sum(1, keepdim=True)
            return torch.nn.functional.avg_pool2d(err, block, ceil_mode=True)

        flags = block_error(pred) < block_error(x_hat)
        h, w = x.shape[-2:]
        full = flags.repeat_interleave(block, 2).repeat_interleave(block, 3)[..., :h, :w]
    return torch.where(full, pred.to(x_hat.dtype), x_hat)
