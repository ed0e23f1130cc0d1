"""What a pixel costs: multiply-accumulates per luma pixel of a net's coding pass (DESIGN §4.6)."""

import torch
from torch.utils.flop_counter import FlopCounterMode

__all__ = ["intra_macs_per_pixel"]


@torch.no_grad()
def intra_macs_per_pixel(net, width: int = 640, height: int = 384) -> dict:
    """MACs per luma pixel of the intra encoder (analysis + hyper + context + synthesis) and decoder.

    Counted with torch's FLOP counter over convolutions and matmuls (FLOPs / 2) on one frame.
    """
    x = torch.rand(1, 6, height // 2, width // 2)
    q = torch.tensor([32.0])
    pixels = width * height

    def count(fn):
        with FlopCounterMode(display=False) as fc:
            fn()
        return fc.get_total_flops() / 2 / pixels

    y, z = net.analyse(x, q)
    z_hat = torch.round(z)

    def prior_and_context():
        net.context.code(net.hyper_prior(z_hat), lambda k, sel, mu, idx: torch.zeros_like(mu))

    analysis = count(lambda: net.analyse(x, q))
    entropy = count(prior_and_context)
    synthesis = count(lambda: net.synthesise(torch.zeros_like(y), q))
    return {"encoder": analysis + entropy + synthesis, "decoder": entropy + synthesis,
            "analysis": analysis, "entropy_params": entropy, "synthesis": synthesis}
