"""Mean B-frame bits against the I frame's, per test clip, as `lvc encode` codes it by default
(random access, GOP 16, --downsample auto, preset medium, residual layer on) at q 32: the first
17 frames (I, then P at 16 and 15 B frames between), issue 19's "B frames ≤ 20 % of the I frame".

    python benchmarks/notes/b_frame_share.py ../shared/testset [QUALITY [FRAMES]]
"""

import io
import sys
from pathlib import Path

import torch

from lvcodec.bitstream import FrameType, LvcReader
from lvcodec.codec.api import encode_stream
from lvcodec.codec.config import EncoderConfig
from lvcodec.io import open_reader
from lvcodec.weights import load_model


def main(testset, quality="32", frames="17"):
    model = load_model("lvc-base")
    config = EncoderConfig(quality=int(quality))
    shares = []
    for clip in sorted(Path(testset).glob("*.y4m")):
        with open_reader(clip, frames=int(frames)) as reader:
            data, _ = encode_stream(model, reader, reader.info, config, torch.device("cpu"))
        sizes = {t: [] for t in FrameType}
        for h, s, _ in LvcReader(io.BytesIO(data)).frames():
            sizes[h.frame_type].append(sum(len(x) for x in s))
        i_bytes = sum(sizes[FrameType.I]) / len(sizes[FrameType.I])
        b_mean = sum(sizes[FrameType.B]) / max(1, len(sizes[FrameType.B]))
        share = b_mean / i_bytes
        shares.append(share)
        p = sizes[FrameType.P]
        print(f"{clip.stem}: I {i_bytes:.0f} B, P {sum(p) / max(1, len(p)):.0f} B, mean B frame "
              f"{b_mean:.0f} B = {100 * share:.1f} % of the I frame ({len(sizes[FrameType.B])} B frames)")
    print(f"mean over clips: {100 * sum(shares) / len(shares):.1f} %")


if __name__ == "__main__":
    main(*sys.argv[1:])
