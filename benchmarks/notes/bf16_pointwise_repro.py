"""Reproduce the oneDNN heap corruption behind `train.precision.SubsampledPointwise` (for an upstream
report): the bf16 weight gradient of a strided 1x1 convolution, channels_last, 2 threads.

    python benchmarks/notes/bf16_pointwise_repro.py    # aborts on Zen 4 with torch 2.14.1

The same sweep through `Precision.module` (the reroute) survives:
tests/train/test_precision_and_lambda.py runs it in a child process.

Seen with torch 2.14.1 on AMD EPYC (Zen 4, avx512_bf16, no AMX): oneDNN picks
`jit_bf16_1x1:avx512_core_bf16` backward_weights, and with batch 1, 3 or 5 and 3..15 input
channels glibc aborts ("corrupted size vs. prev_size", "double free") or the process segfaults;
batch 2, 4 or 8, 16 or more channels, stride 1 or one thread run clean.
"""

import torch

torch.set_num_threads(2)
for ic in (3, 6, 14):
    conv = torch.nn.Conv2d(ic, 16, 1, stride=2).to(memory_format=torch.channels_last)
    for batch in (1, 3, 5):
        for _ in range(10):
            x = torch.randn(batch, ic, 32, 32).contiguous(memory_format=torch.channels_last)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                y = conv(x.requires_grad_())
            y.float().square().mean().backward()
        print(f"ic {ic} batch {batch}: ok", flush=True)
