"""How low delay and all-intra should weigh their residual layers' distortion (codec/residual.py
LAMBDA_SCALES): each frame's residual layer chosen at λ(q) × SCALE, on a training clip, preset
fast, BD-rate (PSNR-YUV 6:1:1, whole-file rate) of each scale against the first.

    python benchmarks/notes/residual_lambda_scale.py CLIP STRUCTURE SCALES [QUALITIES]

STRUCTURE: `ldp` (the first 9 frames, I then P) or `ai` (the first 2 frames, both I; a still:
its one frame). SCALES, comma-separated (e.g. 1,2,4). Tune on training clips only
(out/train-data), never on the test set.
"""

import sys
import time

import torch
from _encode import rd_point

import lvcodec.codec.residual as residual
from lvcodec.codec.config import EncoderConfig
from lvcodec.eval.bdrate import bd_rate
from lvcodec.weights import load_model


def main(clip, structure, scales, qualities="16,32,48,63"):
    torch.set_num_threads(1)
    model = load_model("lvc-base")
    scales, qualities = [float(s) for s in scales.split(",")], [int(q) for q in qualities.split(",")]
    frames, intra_period = {"ldp": (9, 32), "ai": (2, 1)}[structure]
    key = {"ldp": "low_delay", "ai": "intra"}[structure]
    results = {}
    for s in scales:
        residual.LAMBDA_SCALES[key] = s
        points, t0 = [], time.time()
        for q in qualities:
            config = EncoderConfig(quality=q, gop=1, intra_period=intra_period, preset="fast")
            points.append(rd_point(model, clip, frames, config)[0])
        results[s] = points
        print(f"x{s:g}", [(round(b, 4), round(p, 2)) for b, p in points], f"{time.time() - t0:.0f} s",
              flush=True)
    ref = results[scales[0]]
    for s in scales[1:]:
        print(f"x{s:g} vs x{scales[0]:g}: BD-rate {bd_rate(*zip(*ref), *zip(*results[s])):+.1f} %")


if __name__ == "__main__":
    main(*sys.argv[1:])
