"""Random access against x264 and x265 medium (their default B frames, keyint 32), on the
points bench_learning measures for lvc: first 9 frames of each test clip, lvc GOP 8, q 16/32/48,
`--downsample off`, `--no-residual`, --preset PRESET (default fast: the nets' own curve; the lvc
points then come from bench_learning's cache when they are there). The default encoder, residual
layer included: `lvc bench residual` (lvcodec/eval/bench_residual.py).

    python benchmarks/notes/ra_vs_x264.py ../shared/testset [MODEL [PRESET]]
"""

import sys
from pathlib import Path

from lvcodec.codec.config import EncoderConfig
from lvcodec.eval._script import testset_clips
from lvcodec.eval.lvc_codec import LvcCodec
from lvcodec.eval.runner import evaluate

FRAMES = 9


def main(testset, model="lvc-base", preset="fast"):
    out = Path(__file__).parents[1] / "bench_learning_ra"  # the same cache as bench_learning
    config = EncoderConfig(gop=8, downsample="off", preset=preset, residual=False)
    lvc = LvcCodec(model=model, name="lvc", config=config)
    res = evaluate(testset_clips(Path(testset), FRAMES), [lvc, "x264-medium", "x265-medium"],
                   {"lvc": [16, 32, 48]}, frames=FRAMES, intra_period=32, out_dir=out,
                   anchor_for_bd=["x264-medium", "x265-medium"], meta={"test set": testset})
    for anchor in ("x264-medium", "x265-medium"):
        rows = [e for e in res["bd"][anchor] if e["codec"] == "lvc"]
        cells = ["{} {}".format(e["clip"], "n/a" if e["bd_rate"] is None else f"{e['bd_rate']:+.1f} %")
                 for e in rows]
        vals = [e["bd_rate"] for e in rows if e["bd_rate"] is not None]
        mean = f"; mean {sum(vals) / len(vals):+.1f} % ({len(vals)} clips)" if vals else ""
        print(f"lvc vs {anchor}: " + ", ".join(cells) + mean)

if __name__ == "__main__":
    main(*sys.argv[1:])
