"""Whether the encoder should leave out the residual planes whose levels are all zero
(codec/residual.py SKIP_ZERO_PLANES): each clip coded with and without, preset fast, BD-rate
(PSNR-YUV 6:1:1, whole-file rate) of leaving them out against sending every plane.

    python benchmarks/notes/residual_plane_choice.py CLIP STRUCTURE [QUALITIES]

STRUCTURE: `ra` (the first 9 frames, GOP 8, full-scale B frames) or `ai` (the first 2 frames,
both I; a still: its one frame). Tune on training clips only (out/train-data), never on the
test set.
"""

import sys
import time

import torch
from _encode import rd_point

import lvcodec.codec.residual as residual
from lvcodec.codec.config import EncoderConfig
from lvcodec.eval.bdrate import bd_rate
from lvcodec.weights import load_model


def main(clip, structure, qualities="16,32,48,63"):
    torch.set_num_threads(1)
    model = load_model("lvc-base")
    qualities = [int(q) for q in qualities.split(",")]
    frames, settings = {"ra": (9, {"gop": 8, "downsample": "off"}),
                        "ai": (2, {"gop": 1, "intra_period": 1})}[structure]
    results = {}
    for skip in (False, True):
        residual.SKIP_ZERO_PLANES = skip
        points, sizes, t0 = [], [], time.time()
        for q in qualities:
            config = EncoderConfig(quality=q, preset="fast", **settings)
            point, data, _ = rd_point(model, clip, frames, config)
            points.append(point)
            sizes.append(len(data))
        results[skip] = points
        print(f"skip zero planes {'on' if skip else 'off'}:", [(round(b, 4), round(p, 2)) for b, p in points],
              sizes, f"{time.time() - t0:.0f} s", flush=True)
    print(f"on vs off: BD-rate {bd_rate(*zip(*results[False]), *zip(*results[True])):+.2f} %")


if __name__ == "__main__":
    main(*sys.argv[1:])
