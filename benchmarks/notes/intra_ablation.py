"""All-intra BD-rate of intra candidates against the shipped model, same run: the first FRAMES
frames of each test clip at q 0/16/32/48/63 (the intra capacity ablation of 2026-12-02).

    python benchmarks/notes/intra_ablation.py TESTSET FRAMES NAME=MODEL_PATH ...
"""

import sys
from pathlib import Path

from lvcodec.codec.config import EncoderConfig
from lvcodec.eval._script import testset_clips
from lvcodec.eval.lvc_codec import LvcCodec
from lvcodec.eval.runner import evaluate

if __name__ == "__main__":
    testset, frames = Path(sys.argv[1]), int(sys.argv[2])
    arms = dict(a.split("=", 1) for a in sys.argv[3:])
    # The nets as trained: no refinement, no residual layer.
    config = EncoderConfig(intra_period=1, preset="fast", residual=False)
    codecs = [LvcCodec(model=path, name=name, config=config)
              for name, path in {"base": "lvc-base", **arms}.items()]
    qs = [0, 16, 32, 48, 63]
    res = evaluate(testset_clips(testset, frames), codecs, {c.name: qs for c in codecs},
                   frames=frames, intra_period=1, out_dir=Path("out/intra_ablation"),
                   anchor_for_bd="base", meta={})
    print(res["bd"])
