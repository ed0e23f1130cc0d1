"""Ablation: the quality step per temporal layer (codec/gop.QUALITY_STEP_PER_LAYER), encoder only.

`python benchmarks/notes/layer_quality_step.py STEPS THREADS CLIPS [MODEL [DOWNSAMPLE]]`, e.g.
`0,4,8 1 foreman_176x144,pedestrians_480x360`: random access, 9 frames, GOP 8, q 16/32/48, the
shipped model and --downsample auto unless named, appending to
benchmarks/notes/layer_quality_step.jsonl (layer-quality-step-2026-12-01.md, -2026-12-06.md).
"""
import json, sys, time
import numpy as np, torch
from lvcodec.codec import gop
from lvcodec.codec.api import encode_stream
from lvcodec.codec.session import EncoderConfig
from lvcodec.eval._script import testset_clips
from lvcodec.eval.metrics import frame_psnr
from lvcodec.bitstream import FrameType
from lvcodec.weights import load_model
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
steps = [int(s) for s in sys.argv[1].split(",")]
model = load_model(sys.argv[4] if len(sys.argv) > 4 else "lvc-base", "cpu")
downsample = sys.argv[5] if len(sys.argv) > 5 else "auto"
names = sys.argv[3].split(",")
clips = [c for c in testset_clips("../shared/testset", 9) if c.name in names]
out = open("benchmarks/notes/layer_quality_step.jsonl", "a")
for c in clips:
    for step in steps:
        gop.QUALITY_STEP_PER_LAYER = step
        for q in (16, 32, 48):
            t0 = time.time()
            data, coded = encode_stream(model, c.frames, c.info, EncoderConfig(quality=q, gop=8, downsample=downsample), torch.device("cpu"))
            px = c.info.width * c.info.height
            ib = [sum(len(s) for s in u.substreams) for u in coded if u.header.frame_type == FrameType.I]
            bb = [sum(len(s) for s in u.substreams) for u in coded if u.header.frame_type == FrameType.B]
            row = {"clip": c.name, "step": step, "q": q, "bpp": 8 * len(data) / (px * len(c.frames)),
                   "psnr_yuv": float(np.mean([frame_psnr(u.source, u.recon)["yuv"] for u in coded])),
                   "b_over_i": float(np.mean(bb) / np.mean(ib)), "s": time.time() - t0,
                   "model": model.sha256[:16], "downsample": downsample}
            print(row, flush=True); out.write(json.dumps(row) + "\n"); out.flush()
