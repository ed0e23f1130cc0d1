"""Where the networks run: --device auto|cpu|cuda. Light (torch is imported on first use), so
that the command line can offer the choices without loading it."""

from lvcodec.errors import ConfigError

__all__ = ["DEVICES", "resolve_device"]

DEVICES = ("auto", "cpu", "cuda")  # auto: CUDA when present, else the CPU


def resolve_device(device: str):
    """The torch.device that `device` (one of DEVICES) names here."""
    if device not in DEVICES:
        raise ConfigError(f"--device {device}: expected {', '.join(DEVICES)}")
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA device is available")
    return torch.device(device)
