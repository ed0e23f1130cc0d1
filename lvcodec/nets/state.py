"""A net's weights as a flat tensor dict and back: what model files and checkpoints hold."""

import torch

from lvcodec.errors import ModelError

__all__ = ["net_state", "load_net_state", "LAZY_BUFFERS"]

# Buffers CompressAI sizes lazily in update(); they are restored by assignment, not copy.
LAZY_BUFFERS = ("_quantized_cdf", "_offset", "_cdf_length")
# CompressAI's likelihood bound (1e-9, training only) is a buffer: it underflows to 0 in fp16, and a
# bound of 0 let training losses reach inf (log 0: 4 % of enhancement steps, 2 of 244 B steps).
# It is the construction's constant, never learned: saved in float32 and not loaded from a file.
_BOUND_SUFFIX = "likelihood_lower_bound.bound"


def net_state(net: torch.nn.Module, dtype=None) -> dict:
    """A flat tensor dict of a net, floats cast to `dtype` (integer tables and bounds kept exact)."""
    out = {}
    for k, v in net.state_dict().items():
        v = v.detach().cpu().contiguous()
        if dtype is not None and v.is_floating_point() and not k.endswith(_BOUND_SUFFIX):
            v = v.to(dtype)
        out[k] = v
    return out


def load_net_state(net: torch.nn.Module, state: dict, strict: bool = True) -> None:
    """Load a flat tensor dict into `net` (floats cast to float32, lazy buffers resized); with
    strict=False, keys of `net` that `state` lacks keep their values."""
    modules = dict(net.named_modules())
    own = net.state_dict()
    for key, value in state.items():
        mod_name, _, attr = key.rpartition(".")
        if attr in LAZY_BUFFERS and mod_name in modules:
            setattr(modules[mod_name], attr, value.clone())
    fixed = {}
    for key, value in state.items():
        if key.endswith(_BOUND_SUFFIX):
            continue  # the net's own constant (files before this fix hold 0 for 1e-9)
        if key in own and own[key].is_floating_point():
            value = value.float()
        fixed[key] = value
    missing, unexpected = net.load_state_dict(fixed, strict=False)
    missing = [k for k in missing if not k.endswith(_BOUND_SUFFIX)]
    if unexpected or (missing and strict):
        raise ModelError(f"weights do not fit the net: missing {missing[:3]}, unexpected {unexpected[:3]}")
