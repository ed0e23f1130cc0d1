"""Low-delay points of the shipped model for a format comparison in one run: first 9 frames of
each test clip, I P P …, intra period 32, q 16/32/48. Run once with a format-3 checkout first
on PYTHONPATH (e.g. a `git worktree` at 5b94e3d) and once with this one, into two folders; their
rows.json are compared in block-prediction-2026-12-02.md.

    PYTHONPATH=/path/to/format3/checkout python benchmarks/notes/format_ld_points.py OUT3
    python benchmarks/notes/format_ld_points.py OUT4
"""
import json, sys
from pathlib import Path
from lvcodec.codec.config import EncoderConfig
from lvcodec.eval._script import testset_clips
from lvcodec.eval.lvc_codec import LvcCodec
from lvcodec.eval.runner import evaluate
import lvcodec
print(lvcodec.__file__, file=sys.stderr)
out = Path(sys.argv[1])
lvc = LvcCodec(model=str(Path(__file__).parents[2] / "models" / "lvc-base"), name="lvc", config=EncoderConfig(gop=1, downsample="off"))
res = evaluate(testset_clips(Path(__file__).parents[3] / "shared" / "testset", 9), [lvc], {"lvc": [16, 32, 48]}, frames=9,
               intra_period=32, out_dir=out, anchor_for_bd=[], progress=False)
(out / "rows.json").write_text(json.dumps([{k: r[k] for k in ("clip", "point", "bpp", "psnr_yuv", "encode_fps", "decode_fps")} for r in res["points"]]))
