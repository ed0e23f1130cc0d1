"""Tuning of the block-motion prediction's encoder (codec/block_motion.py) on a training clip:
random access, the first 9 frames, GOP 8, preset fast, `--downsample off`, q 32/48/63, one
encode per variant, BD-rate (PSNR-YUV 6:1:1, whole-file rate) of each variant against the first.

    python benchmarks/notes/block_motion_tuning.py CLIP VARIANTS [QUALITIES]

VARIANTS, comma-separated: `off` (`--no-block-motion`) or `p{PENALTY}s{LOG2_SIZE}` (e.g.
`p1s4`, the defaults; `p1s43`: 16x16 and 8x8 blocks tried per
frame, the cheaper kept), optionally followed by `-sad` (modes chosen by SAD, not SATD) and
`-nomerge` (no vector-prediction candidate) and `-nobi` (no jointly refined pairs) and
`-noalone` (no motion-only frames) and `-rdoq0`/`-rdoq2` (residual levels by dead-zone rounding
only / two rounds of rate-distortion optimised quantization; the default is
residual.RDOQ_ROUNDS) and `-lamA:B` (the residual λ scales of random access's anchors and B
frames, residual.LAMBDA_SCALES) and `-bnets` (full-scale B frames try the B net too, as preset slow's do; `-bnets4`: those 4 or more frames from their nearer reference, as medium's; without, they are coded motion-only) and `-nointra` (P anchors never coded as I frames) and `-half`
(half-sample bilinear vectors, the 7.x unit, instead of quarter-sample filtered ones) or
`-both` (each frame tried with both units, the cheaper kept). Tune on training clips only (out/train-data), never on the test set.
"""

import sys
import time

import torch
from _encode import NET_SUBSTREAMS, rd_point

import lvcodec.codec.block_motion as bm
import lvcodec.codec.residual as residual
import lvcodec.codec.session as session
from lvcodec.codec.config import PRESETS, EncoderConfig
from lvcodec.eval.bdrate import bd_rate
from lvcodec.weights import load_model
RDOQ_DEFAULT = residual.RDOQ_ROUNDS
LAMBDA_DEFAULT = (residual.LAMBDA_SCALES["anchor"], residual.LAMBDA_SCALES["b"])


def main(clip, variants, qualities="32,48,63"):
    torch.set_num_threads(1)
    model = load_model("lvc-base")
    variants, qualities = variants.split(","), [int(q) for q in qualities.split(",")]
    results = {}
    for v in variants:
        if v != "off":
            head, *flags = v.split("-")
            penalty, log2 = head[1:].split("s")
            bm.PENALTY, bm.SATD, bm.MERGE = float(penalty), "sad" not in flags, "nomerge" not in flags
            bm.BI, bm.MOTION_ONLY = "nobi" not in flags, "noalone" not in flags
            session.INTRA_ANCHORS = "nointra" not in flags
            PRESETS["fast"]["vector_units"] = ((bm.HALF,) if "half" in flags else
                                               (bm.QUARTER, bm.HALF) if "both" in flags else
                                               (bm.QUARTER,))
            residual.RDOQ_ROUNDS = next((int(f[4:]) for f in flags if f.startswith("rdoq")),
                                        RDOQ_DEFAULT)
            anchor, b = next((f[3:].split(":") for f in flags if f.startswith("lam")),
                             LAMBDA_DEFAULT)
            residual.LAMBDA_SCALES.update(anchor=float(anchor), b=float(b))
            PRESETS["fast"]["block_sizes"] = tuple(int(d) for d in log2)
            PRESETS["fast"]["b_net_distance"] = next((int(f[5:] or 1) for f in flags
                                                      if f.startswith("bnets")), None)
        points, predicted, alone, intra, t0 = [], 0, 0, 0, time.time()
        for q in qualities:
            config = EncoderConfig(quality=q, gop=8, downsample="off", preset="fast",
                                   block_motion=v != "off")
            point, data, coded = rd_point(model, clip, 9, config)
            predicted += sum(len(c.substreams) - NET_SUBSTREAMS[int(c.header.frame_type)] == 2
                             for c in coded)
            alone += sum(c.header.frame_type != 0 and len(c.substreams) == 2 for c in coded)
            intra += sum(c.header.frame_type == 0 and c.header.display_index > 0 for c in coded)
            points.append(point)
        results[v] = points
        print(v, [(round(b, 4), round(p, 2)) for b, p in points], "frames predicted", predicted, "motion-only", alone,
              "intra anchors", intra, f"{time.time() - t0:.0f} s", flush=True)
    ref = results[variants[0]]
    for v in variants[1:]:
        b = results[v]
        print(f"{v} vs {variants[0]}: BD-rate {bd_rate(*zip(*ref), *zip(*b)):+.1f} %")


if __name__ == "__main__":
    main(*sys.argv[1:])
