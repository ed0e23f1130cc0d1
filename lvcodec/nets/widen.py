"""Function-preserving widening: a net with more hidden channels that starts as the net it grew from.

The intra transforms' reconstruction stops at the same PSNR whatever the quantiser does
(benchmarks/notes/intra-ceiling-2026-12-02.md): their hidden width, not training at high rate,
sets the top quality. A wider net trained from scratch would throw away every step the narrow
one took, so the wider one inherits them (Net2Net, Chen et al. 2016, with zero outgoing weights
instead of split units): every old channel keeps its weights, a new channel's incoming weights
keep their random initialisation, and its outgoing weights into old channels start at zero. Old
channels then compute exactly what they computed before, and the new ones enter as training
finds a use for them (their outgoing weights get gradients at once: their inputs are not zero).
"""

import torch
import torch.nn as nn
from compressai.layers import GDN

from lvcodec.nets.state import LAZY_BUFFERS

__all__ = ["widen_into"]


@torch.no_grad()
def widen_into(wider: nn.Module, net: nn.Module) -> nn.Module:
    """Copy `net` into `wider`, the same architecture with at least as many channels in every
    tensor dimension (old channels first). Returns `wider`."""
    old = dict(net.state_dict())
    new = wider.state_dict()
    if old.keys() != new.keys():
        raise ValueError("widening needs the same architecture (the tensors' names differ)")
    gdn_gammas = {f"{name}.gamma" for name, m in wider.named_modules() if isinstance(m, GDN)}
    modules = dict(wider.named_modules())
    for name, src in old.items():
        owner, _, attr = name.rpartition(".")
        if attr in LAZY_BUFFERS:  # entropy-coder tables, sized when made: taken as they are
            setattr(modules[owner], attr, src.clone())
            continue
        dst = new[name]
        if src.dim() != dst.dim() or any(a > b for a, b in zip(src.shape, dst.shape)):
            raise ValueError(f"{name}: {tuple(src.shape)} does not fit in {tuple(dst.shape)}")
        lead = tuple(slice(0, n) for n in src.shape)
        if dst.dim() == 4 and dst.shape[1] > src.shape[1]:  # convolution with new inputs
            dst[: src.shape[0], src.shape[1]:] = 0
        elif name in gdn_gammas:
            # gamma's fresh initialisation (0.1 on the diagonal) has zero off-diagonal weights:
            # the old channels' normalisation already ignores the new ones.
            pass
        dst[lead] = src.to(dst.dtype)
    return wider
