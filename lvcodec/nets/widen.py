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

from lvcodec.nets.context import load_widened
from lvcodec.nets.intra import IntraNet
from lvcodec.nets.state import LAZY_BUFFERS

__all__ = ["widen_into", "widen_intra"]

# A new latent channel starts silent: rounded to zero (its gain this small), coded at the scale
# table's floor (free), so the widened intra net codes the old bits and pictures at step one.
NEW_LATENT_GAIN = 0.05
NEW_LATENT_RAW_SCALE = -8.0  # softplus(-8) + 1e-3 is below the table's smallest scale


@torch.no_grad()
def widen_intra(net: nn.Module, N: int | None = None, M: int | None = None) -> nn.Module:
    """The intra net with N hidden channels and M latent channels (the new ones as one more
    context group, coded last), starting as `net`."""
    config = dict(net.config)
    m0 = config["M"]
    if N is not None:
        config["N"] = N
    if M is not None and M != m0:
        if M < m0:
            raise ValueError(f"M={M} is narrower than the net's {m0}")
        config["M"], config["groups"] = M, [*config["groups"], M - m0]
    wider = IntraNet(**config)
    # The synthesis sees the new latents only as zeros at first: its first convolutions keep
    # their random weights from them, so that their gradient is not zero (they would never start).
    firsts = [unit.conv[0].weight for unit in (wider.g_s[0].conv_a[0], wider.g_s[0].conv_b[0])]
    fresh = [w[:, m0:].clone() for w in firsts]
    widen_into(wider, net)
    if config["M"] == m0:
        return wider
    for w, f in zip(firsts, fresh):
        w[:, m0:] = f
    wider.gain_a.log_gain[:, m0:] = torch.log(torch.tensor(NEW_LATENT_GAIN))
    last = wider.context.param_nets[-1][-1]
    last.weight.zero_()
    last.bias.zero_()
    last.bias[last.out_channels // 2:] = NEW_LATENT_RAW_SCALE
    # The old groups' parameter nets take the hyperprior's M channels first: the new ones are
    # inserted after the old (zero weights), the other inputs move up.
    load_widened(wider.context, net.context, at=m0)
    return wider


@torch.no_grad()
def widen_into(wider: nn.Module, net: nn.Module) -> nn.Module:
    """Copy `net` into `wider`, the same architecture with at least as many channels in every
    tensor dimension (old channels first) and perhaps more modules. Returns `wider`."""
    old = dict(net.state_dict())
    new = wider.state_dict()
    if not old.keys() <= new.keys():
        raise ValueError("widening needs the same architecture (the tensors' names differ)")
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
        # A GDN's gamma needs nothing: its fresh initialisation (0.1 on the diagonal) already
        # keeps the old channels' normalisation from the new ones.
        if dst.dim() == 4 and dst.shape[1] > src.shape[1]:  # convolution with new inputs
            dst[: src.shape[0], src.shape[1]:] = 0
        dst[lead] = src.to(dst.dtype)
    return wider
