"""Where the networks run: --device auto|cpu|cuda."""

import torch

from lvcodec.errors import ConfigError

__all__ = ["resolve_device"]


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA device is available")
    if device not in ("cpu", "cuda"):
        raise ConfigError(f"--device {device}: expected auto, cpu or cuda")
    return torch.device(device)
