"""Preset medium with its B frames trying the B net at every reference distance (1) against
from a distance (4, the default), on a training clip: random access, `--downsample off`, one
encode per point and variant, one thread. Prints bytes, PSNR-YUV, encode time, which B frames
kept their nets and whether the streams are identical; then BD-rate (PSNR-YUV 6:1:1, whole-file
rate) and the time ratio of each distance against the first.

    python benchmarks/notes/b_net_distance.py CLIP FRAMES GOP DISTANCES [QUALITIES]

e.g. `... out/train-data/bikes.y4m 9 8 1,4 16,32,48,63`. Tune on training clips only
(out/train-data), never on the test set.
"""

import sys
import time

import torch
from _encode import NET_SUBSTREAMS, rd_point

from lvcodec.codec.config import PRESETS, EncoderConfig
from lvcodec.eval.bdrate import bd_rate
from lvcodec.weights import load_model


def main(clip, frames, gop, distances, qualities="16,32,48,63"):
    torch.set_num_threads(1)
    model = load_model("lvc-base")
    frames, gop = int(frames), int(gop)
    distances = [None if d == "none" else int(d) for d in distances.split(",")]
    qualities = [int(q) for q in qualities.split(",")]
    results = {}
    for d in distances:
        PRESETS["medium"]["b_net_distance"] = d
        points, streams, seconds, kept = [], [], 0.0, []
        for q in qualities:
            config = EncoderConfig(quality=q, gop=gop, downsample="off", preset="medium")
            t0 = time.perf_counter()
            point, data, coded = rd_point(model, clip, frames, config)
            seconds += time.perf_counter() - t0
            points.append(point)
            streams.append(data)
            kept.append([c.header.display_index for c in coded if c.header.frame_type == 2
                         and len(c.substreams) >= NET_SUBSTREAMS[2]])
            print(f"distance {d} q {q}: {len(data)} bytes, {points[-1][1]:.2f} dB, B frames "
                  f"with nets {kept[-1]}", flush=True)
        results[d] = points, streams, seconds
        print(f"distance {d}: {seconds:.0f} s", flush=True)
    ref_points, ref_streams, ref_s = results[distances[0]]
    for d in distances[1:]:
        points, streams, s = results[d]
        same = [a == b for a, b in zip(ref_streams, streams)]
        print(f"distance {d} vs {distances[0]}: BD-rate "
              f"{bd_rate(*zip(*ref_points), *zip(*points)):+.2f} %, encode time x{ref_s / s:.2f} "
              f"faster, identical streams at {sum(same)} of {len(same)} q")


if __name__ == "__main__":
    main(*sys.argv[1:])
