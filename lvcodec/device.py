"""Where the networks run: --device auto|cpu|cuda. Light (torch is imported on first use), so
that the command line can offer the choices without loading it."""

from lvcodec.errors import ConfigError

__all__ = ["DEVICES", "resolve_device"]

DEVICES = ("auto", "cpu", "cuda")  # auto: CUDA when present, else the CPU


def resolve_device(device: str):
    """The torch.device that `device` (one of DEVICES) names here."""
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA device is available")
    if device not in DEVICES[1:]:
        raise ConfigError(f"--device {device}: expected auto, cpu or cuda")
    return torch.device(device)
