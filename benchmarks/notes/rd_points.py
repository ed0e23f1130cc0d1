"""RD points of training clips as this checkout codes them (preset fast), for comparing two
commits: run it in each (a git worktree for the other), then compare the two files.

    python benchmarks/notes/rd_points.py OUT.json CLIP:STRUCTURE ...
    python benchmarks/notes/rd_points.py --compare BEFORE.json AFTER.json

STRUCTURE: `ra` (the first 9 frames, GOP 8, full-scale B frames) or `ai` (the first 2 frames,
both I; a still: its one frame); q 16, 32, 48, 63. Training clips only (out/train-data).
"""

import json
import sys
import time

import torch
from _encode import rd_point

from lvcodec.codec.config import EncoderConfig
from lvcodec.eval.bdrate import bd_rate
from lvcodec.weights import load_model

QUALITIES = (16, 32, 48, 63)
SETTINGS = {"ra": (9, {"gop": 8, "downsample": "off"}), "ai": (2, {"gop": 1, "intra_period": 1})}


def measure(out, specs):
    torch.set_num_threads(1)
    model = load_model("lvc-base")
    results = {}
    for spec in specs:
        clip, structure = spec.rsplit(":", 1)
        frames, settings = SETTINGS[structure]
        t0, points = time.time(), []
        for q in QUALITIES:
            (bpp, psnr), data, _ = rd_point(model, clip, frames,
                                            EncoderConfig(quality=q, preset="fast", **settings))
            points.append((bpp, psnr, len(data)))
        results[spec] = points
        print(spec, points, f"{time.time() - t0:.0f} s", flush=True)
        with open(out, "w") as f:
            json.dump(results, f, indent=1)


def compare(before, after):
    a, b = json.load(open(before)), json.load(open(after))
    rates = []
    for spec in a:
        if spec in b:
            r = bd_rate([p[0] for p in a[spec]], [p[1] for p in a[spec]],
                        [p[0] for p in b[spec]], [p[1] for p in b[spec]])
            rates.append(r)
            print(f"| {spec} | {r:+.2f} % |")
    print(f"| mean | {sum(rates) / len(rates):+.2f} % |")


if __name__ == "__main__":
    if sys.argv[1] == "--compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        measure(sys.argv[1], sys.argv[2:])
