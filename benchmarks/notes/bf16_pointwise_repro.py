"""Reproduce the oneDNN heap corruption behind `train.precision.SubsampledPointwise` (for an upstream
report): the bf16 weight gradient of a strided 1x1 convolution, channels_last, 2 threads.

    python benchmarks/notes/bf16_pointwise_repro.py            # the raw layer: aborts on Zen 4
    python benchmarks/notes/bf16_pointwise_repro.py --rerouted # through Precision.module: survives

Seen with torch 2.14.1 on AMD EPYC (Zen 4, avx512_bf16, no AMX): oneDNN picks
`jit_bf16_1x1:avx512_core_bf16` backward_weights, and with batch 1, 3 or 5 and 3..15 input
channels glibc aborts ("corrupted size vs. prev_size", "double free") or the process segfaults;
batch 2, 4 or 8, 16 or more channels, stride 1 or one thread run clean.
"""

import sys

import torch

from lvcodec.train.precision import Precision

torch.set_num_threads(2)
prec = Precision(torch.bfloat16, True, "repro")
for ic in (3, 6, 14):
    conv = torch.nn.Conv2d(ic, 16, 1, stride=2)
    conv = prec.module(conv) if "--rerouted" in sys.argv else conv.to(memory_format=torch.channels_last)
    for batch in (1, 3, 5):
        for _ in range(10):
            x = prec.tensor(torch.randn(batch, ic, 32, 32)).requires_grad_()
            with prec.autocast("cpu"):
                y = conv(x)
            y.float().square().mean().backward()
        print(f"{type(conv).__name__} ic {ic} batch {batch}: ok", flush=True)
