"""Random access with every P and B frame coded with each of several motions, the lowest RD cost
kept (`Refinement.motion`; the decoder and the bitstream unchanged). Same settings as
`bench_learning --candidate` (9 frames, GOP 8, q 16/32/48, --downsample off), so its points
compare with the shipped model's in benchmarks/bench_learning_ra/points.jsonl. Also counts
which motion each frame kept (motion_candidates_wins.json).

    python benchmarks/notes/motion_candidates.py net,zero [CLIP,...]
"""

import collections
import json
import sys
from pathlib import Path

from lvcodec.codec import frame_coder
from lvcodec.codec.config import PRESETS, EncoderConfig
from lvcodec.eval._script import testset_clips
from lvcodec.eval.lvc_codec import LvcCodec
from lvcodec.eval.runner import evaluate

WINS = collections.Counter()


def counting_choose(choose):
    def wrapped(self, options, run, cost):
        kept = []

        def tagged(option):
            out = run(option)
            kept.append(out)
            return out
        out = choose(self, options, tagged, cost)
        if len(options) > 1:
            WINS[MOTIONS[next(i for i, o in enumerate(kept) if o is out)]] += 1
        return out
    return wrapped


if __name__ == "__main__":
    MOTIONS = tuple(sys.argv[1].split(","))
    PRESETS["medium"] = {**PRESETS["medium"], "motion": MOTIONS}  # the config's default preset
    frame_coder.EncodeChannel.choose = counting_choose(frame_coder.EncodeChannel.choose)
    clips = testset_clips(Path("../shared/testset"), 9)
    if len(sys.argv) > 2:
        clips = [c for c in clips if c.name in sys.argv[2].split(",")]
    label = "motion-" + "-".join(MOTIONS)
    evaluate(clips, [LvcCodec(model="lvc-base", name=label, config=EncoderConfig(gop=8, downsample="off"))],
             {label: [16, 32, 48]}, frames=9, intra_period=32, out_dir=Path("out") / label,
             anchor_for_bd=label, meta={})
    out = Path("out") / label / "wins.json"
    out.write_text(json.dumps(dict(WINS)))
    print(dict(WINS))
