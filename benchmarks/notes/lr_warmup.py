"""What a new Adam state does to a trained net: 120 steps of the shipped intra net (batch 8 of 128²,
q drawn per patch, lr 1e-4, gradient clipping 1.0, bf16 autocast, 1 thread, IntraPatches seed 7
of DATA), the learning rate constant or rising linearly over the first WARMUP steps; after steps
1, 5, 20, 60 and 120 the q 63 ceiling of frame 1 of closeup and foreman (intra_highq_steps.ceiling:
clip, unquantised PSNR-YUV, coded PSNR-YUV, estimated bpp). Nothing is saved.

    python benchmarks/notes/lr_warmup.py TESTSET DATA WARMUP      (WARMUP 0: no warm-up)
"""

import sys

import torch

from intra_highq_steps import ceiling
from lvcodec.eval._script import testset_clips
from lvcodec.train.data import IntraPatches, load_frames
from lvcodec.train.loss import rd_loss
from lvcodec.weights import load_model


def main(testset, data, warmup):
    warmup = int(warmup)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = load_model("lvc-base")
    net = model.intra.float()
    clips = [c for c in testset_clips(testset, 2) if c.name.startswith(("bbb_closeup", "foreman"))]
    frames, sources = load_frames([data], with_sources=True)
    patches = IntraPatches(frames, 128, seed=7, sources=sources)
    opt = torch.optim.Adam([p for n, p in net.named_parameters() if not n.endswith("quantiles")], lr=1e-4)
    for i in range(1, 121):
        for g in opt.param_groups:
            g["lr"] = 1e-4 * min(1.0, i / warmup) if warmup else 1e-4
        x = patches.batch(8)
        q = torch.randint(0, 64, (8,)).float()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = net(x, q)
        loss = rd_loss(out, x, q, model.lambda_range)
        opt.zero_grad()
        loss["loss"].backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        if i in (1, 5, 20, 60, 120):
            print(warmup, i, ceiling(net, clips), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
