"""Encoder-side latent refinement: spend encoder time to lower the true rate-distortion cost.

The analysis transform is amortised inference: one pass guesses the latents for any picture, and
an under-trained one guesses poorly. Given the picture, the encoder can do better by descending
the frame's own RD cost, λ·255²·MSE-YUV + bits per pixel, with respect to its latents y and z
through the frozen decoder (synthesis, hyperprior, context model): Campos et al. 2019, Yang et
al. 2020 (SGA). Rounding is straight-through, so the loss each step reports is the cost of the
latents as they would be coded (up to the 1/16 grid of the means and the scale table); the best
step's latents are kept, so refinement never does worse than the analysis it starts from.

The decoder and the bitstream do not change: the stream simply carries other integers, and the
encoder reconstructs them through the same decoder-side path as ever.
"""

import math
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from lvcodec.nets.layers import hyper_latent
from lvcodec.rd import yuv_mse

__all__ = ["Refinement", "MOTIONS", "refine_latents"]

MOTIONS = ("net", "zero")  # the motions a P/B frame can be coded with


@dataclass(frozen=True)
class Refinement:
    """How hard the encoder works on each frame: gradient steps on its latents (0: the analysis
    as it is), and the motions each P/B frame is coded with, the lowest RD cost kept ("net": the
    nets' estimator; "zero": no motion, which static content codes for almost nothing)."""

    steps: int = 0
    lr: float = 0.03
    motion: tuple[str, ...] = ("net",)

    def __post_init__(self):
        for m in self.motion:
            if m not in MOTIONS:
                raise ValueError(f"motion '{m}' unknown (expected {', '.join(MOTIONS)})")


def refine_latents(y: torch.Tensor, z: torch.Tensor, *, x: torch.Tensor, part, prior_fn, synth,
                   lam: float, shape, refinement: Refinement, y_ref=None):
    """Latents (y, z) that code x at a lower RD cost than the ones given; returns (y, z).

    part: the module owning entropy_bottleneck and context; prior_fn(z_hat) -> the entropy
    model's prior features (hyperprior, plus any temporal prior); synth(y_hat) -> packed picture;
    shape: the packed (h, w) of x, whose padding the distortion ignores; lam: λ(q).
    """
    if refinement.steps <= 0:
        return y, z
    h, w = shape
    pixels = 4 * h * w  # luma pixels of the packed frame
    x = x[..., :h, :w]
    y0, z0 = y.detach().clone(), z.detach().clone()
    y, z = y0.clone().requires_grad_(True), z0.clone().requires_grad_(True)
    opt = torch.optim.Adam([y, z], lr=refinement.lr)
    # Cosine decay: large steps find the better basin, small ones settle the rounding in it.
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: 0.5 * (1 + math.cos(math.pi * min(k, refinement.steps) / refinement.steps)))
    best, best_yz = math.inf, (y0, z0)
    with torch.enable_grad(), _one_thread():
        for _ in range(refinement.steps + 1):
            z_hat, z_lik = hyper_latent(part.entropy_bottleneck, z)
            y_hat, y_lik = part.context(y, prior_fn(z_hat), y_ref, coded=True)
            x_hat = synth(y_hat)[..., :h, :w]
            bits = -(torch.log2(y_lik).sum() + torch.log2(z_lik).sum())
            loss = lam * 255 ** 2 * yuv_mse(x_hat.clamp(0, 1), x).sum() + bits / pixels
            if loss.item() < best:  # the cost of the latents this step evaluated
                best, best_yz = loss.item(), (y.detach().clone(), z.detach().clone())
            opt.zero_grad(set_to_none=True)
            y.grad, z.grad = torch.autograd.grad(loss, [y, z])
            opt.step()
            sched.step()
    return best_yz


@contextmanager
def _one_thread():
    """Refinement on one thread: the backward passes' float sums are split among threads in ways
    that change the result, and so the stream; on one thread the encoder writes the same bytes
    at any --threads and --jobs (its other analysis is thread-invariant already)."""
    threads = torch.get_num_threads()
    if threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
