"""Does the intra net's ceiling move when it trains at one q? STEPS Adam steps (lr 1e-4, batch 8 of
128², bf16 autocast, 1 thread, IntraPatches seed 7 of DATA) at quality Q on a copy of the shipped
intra net, optionally widened first (N,M; '-' keeps one); before and after, on frame 1 of each
test clip at q 63: (clip, unquantised PSNR-YUV, coded PSNR-YUV, estimated bpp). A diagnostic:
nothing is saved (benchmarks/notes/intra-ceiling-2026-12-02.md).

    python benchmarks/notes/intra_highq_steps.py TESTSET DATA STEPS Q [N,M]
"""

import sys

import torch

from _pairs import packed, picture_psnr, rate_psnr
from lvcodec.eval._script import testset_clips
from lvcodec.nets.widen import widen_intra
from lvcodec.train.data import IntraPatches, load_frames
from lvcodec.train.loss import rd_loss
from lvcodec.weights import load_model


def ceiling(net, clips) -> list:
    net.eval()
    rows = []
    with torch.no_grad():
        for clip in clips:
            x = packed(clip.frames[1])
            h, w = clip.info.height, clip.info.width
            q = torch.tensor([63.0])
            bpp, coded = rate_psnr(net(x, q), x, h, w)
            unquantised = picture_psnr(net.synthesise(net.g_a(x) * net.gain_a(q), q), x, h, w)
            rows.append((clip.name, round(unquantised, 2), round(coded, 2), round(bpp, 3)))
    net.train()
    return rows


def main(testset, data, steps, quality, widths=None):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = load_model("lvc-base")
    net = model.intra.float()
    if widths:
        n, m = (int(v) if v != "-" else None for v in widths.split(","))
        net = widen_intra(net, N=n, M=m)
    clips = testset_clips(testset, 2)
    print("before", ceiling(net, clips), flush=True)
    frames, sources = load_frames([data], with_sources=True)
    patches = IntraPatches(frames, 128, seed=7, sources=sources)
    opt = torch.optim.Adam([p for n, p in net.named_parameters() if not n.endswith("quantiles")], lr=1e-4)
    for i in range(int(steps)):
        x = patches.batch(8)
        q = torch.full((8,), float(quality))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = net(x, q)
        loss = rd_loss(out, x, q, model.lambda_range)
        opt.zero_grad()
        loss["loss"].backward()
        opt.step()
        if i % 100 == 0:
            print(i, {k: round(float(v.detach()), 4) for k, v in loss.items()}, flush=True)
    print("after", ceiling(net, clips), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
