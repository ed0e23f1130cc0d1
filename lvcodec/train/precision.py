"""The arithmetic training runs in, chosen at run time from what the device offers.

bf16 autocast pays where the hardware multiplies bf16 natively (AMX tiles on recent Xeons,
AVX-512 BF16 dot products on Zen 4, tensor cores on CUDA): a training step of these nets runs
1.4-2.3x faster than in float32 there (benchmarks/training.md). Elsewhere bf16 is emulated and runs
at about half speed, so float32 stays. channels_last is what oneDNN's bf16 kernels want (bf16 in
the default layout was 20x slower here). Entropy models, likelihoods and the loss always run in
float32 (nets/layers.hyper_latent, nets/context, loss).

oneDNN's AVX-512 BF16 kernel for the weight gradient of a *strided* 1x1 convolution (the skip of
a down-sampling residual block) corrupts the heap with more than one thread when the batch is
odd and the input has fewer than 16 channels (torch 2.14.1; benchmarks/notes/bf16-cpu-2026-12-04.md).
`Precision.module` computes those convolutions as the unit-stride convolution of the subsampled
input, the same function, which never reaches that kernel.
"""

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["Precision", "choose_precision", "cpu_flags"]


def cpu_flags() -> set:
    """The CPU's feature flags (/proc/cpuinfo; empty where that does not exist)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


@dataclass(frozen=True)
class Precision:
    """How the nets' forward and backward passes run; `reason` is what the log says."""

    dtype: torch.dtype | None  # autocast dtype; None: float32 throughout
    channels_last: bool
    reason: str

    @property
    def name(self) -> str:
        return ("bf16" if self.dtype is not None else "fp32") + (
            " + channels_last" if self.channels_last else "")

    def autocast(self, device_type: str):
        if self.dtype is None:
            return nullcontext()
        return torch.autocast(device_type, dtype=self.dtype)

    def module(self, net: nn.Module) -> nn.Module:
        """`net` in place, in this precision's layout (before its optimizer is made)."""
        if not self.channels_last:
            return net
        if self.dtype is not None:
            for conv in net.modules():
                if type(conv) is nn.Conv2d and SubsampledPointwise.takes(conv):
                    conv.__class__ = SubsampledPointwise  # same parameters, hooks and state
        return net.to(memory_format=torch.channels_last)

    def tensor(self, x: torch.Tensor) -> torch.Tensor:
        """A batch (B, C, H, W), or of sequences (B, L, C, H, W), in the nets' memory format:
        with channels_last, every frame x[:, t] is a channels_last (B, C, H, W)."""
        if not self.channels_last or x.dim() not in (4, 5):
            return x
        if x.dim() == 4:
            return x.contiguous(memory_format=torch.channels_last)
        return x.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3)


class SubsampledPointwise(nn.Conv2d):
    """A strided 1x1 convolution without padding, computed as the unit-stride one of the input's
    subsampled grid: the same function (output size ceil(H / s)), another oneDNN kernel."""

    @staticmethod
    def takes(conv: nn.Conv2d) -> bool:
        return (conv.kernel_size == (1, 1) and conv.stride != (1, 1) and conv.padding == (0, 0)
                and conv.padding_mode == "zeros")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sh, sw = self.stride
        return F.conv2d(x[..., ::sh, ::sw], self.weight, self.bias, groups=self.groups)


# CPU flags (/proc/cpuinfo) of native bf16 arithmetic that auto uses, and what the log calls them.
NATIVE_BF16 = (("amx_bf16", "AMX bf16 tiles"), ("avx512_bf16", "AVX-512 BF16"))


def choose_precision(device: str, requested: str = "auto") -> Precision:
    """`requested`: auto (bf16 where the hardware has native bf16 units), bf16 or fp32."""
    device_type = torch.device(device).type
    if requested == "fp32":
        return Precision(None, False, "requested")
    if device_type == "cuda":
        native = torch.cuda.is_bf16_supported()
        why = "CUDA bf16 supported" if native else "this GPU has no bf16"
        return Precision(torch.bfloat16, False, why) if native or requested == "bf16" \
            else Precision(None, False, why)
    flags = cpu_flags()
    units = [name for flag, name in NATIVE_BF16 if flag in flags]
    native = bool(units)
    why = f"CPU has {units[0]}" if native else \
        "CPU has no native bf16 units (bf16 would be emulated, slower)"
    if native or requested == "bf16":
        return Precision(torch.bfloat16, True, why if native else "requested")
    return Precision(None, False, why)
