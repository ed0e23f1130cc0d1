"""How often `--downsample auto` keeps the half-scale B frames, and what it buys, on a training
clip: random access, the first 17 frames, GOP 16, PRESET (default medium), q 16/32/48/63. The
encoder codes each GOP's B frames both ways (Encoder.on_alternatives sees both); the `off` stream
is the full-scale alternative of every GOP, `auto` the one kept. BD-rate (PSNR-YUV 6:1:1,
whole-file rate) of auto against off, and the GOPs where half scale won.

    python benchmarks/notes/downsample_auto_share.py CLIP [PRESET] [QUALITIES]

Tune on training clips only (out/train-data), never on the test set.
"""

import sys
import time

import numpy as np
import torch

from lvcodec.codec.config import EncoderConfig
from lvcodec.codec.session import Encoder
from lvcodec.eval.bdrate import bd_rate
from lvcodec.io import open_reader
from lvcodec.rd import frame_psnr
from lvcodec.weights import load_model


def _size(frames) -> int:
    return sum(len(s) for c in frames for s in c.substreams)


def main(clip, preset="medium", qualities="16,32,48,63"):
    torch.set_num_threads(1)
    model = load_model("lvc-base")
    off, auto, t0 = [], [], time.time()
    for q in (int(q) for q in qualities.split(",")):
        alternatives = []
        config = EncoderConfig(quality=q, gop=16, downsample="auto", preset=preset)
        with open_reader(clip, frames=17) as r:
            enc = Encoder(model, config, r.info, torch.device("cpu"))
            enc.on_alternatives = lambda full, half: alternatives.append((full, half))
            coded = list(enc.code(iter(r)))
            pixels = r.info.width * r.info.height
        kept = {c.header.display_index for c in coded}
        half_won = sum(any(c.header.scale_log2 for c in coded if c.header.display_index in
                           {h.header.display_index for h in half}) for _, half in alternatives)
        full = {c.header.display_index: c for f, _ in alternatives for c in f}
        as_off = [full.get(c.header.display_index, c) for c in coded]
        for out, frames in ((off, as_off), (auto, coded)):
            out.append((8 * _size(frames) / pixels / len(frames),
                        float(np.mean([frame_psnr(c.source, c.recon)["yuv"] for c in frames]))))
        print(f"q {q}: GOPs {len(alternatives)}, half kept in {half_won}; off {off[-1]}, auto "
              f"{auto[-1]}; motion-only B (full) {sum(len(c.substreams) == 2 for c in full.values())}"
              f" of {len(full)}", flush=True)
        assert len(kept) == len(coded)
    bd = bd_rate(*zip(*off), *zip(*auto)) if len(off) > 1 else None
    print(f"auto vs off: BD-rate {'n/a' if bd is None else f'{bd:+.1f} %'}  ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main(*sys.argv[1:])
