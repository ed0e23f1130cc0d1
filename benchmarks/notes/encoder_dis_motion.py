"""Random access with the encoder's motion taken from OpenCV's DIS flow instead of the nets'
estimators (P and B nets; the decoder and the bitstream are untouched: only what the motion coder
analyses changes). Same settings as `bench_learning --candidate` (9 frames, GOP 8, q 16/32/48,
--downsample off), so its points compare with the shipped model's in
benchmarks/bench_learning_ra/points.jsonl.

    PYTHONPATH=/path/to/opencv python benchmarks/notes/encoder_dis_motion.py CLIP[,CLIP...]
"""

import sys
from pathlib import Path

import cv2
import torch
import torch.nn.functional as F

from lvcodec.codec.config import EncoderConfig
from lvcodec.eval._script import testset_clips
from lvcodec.eval.lvc_codec import LvcCodec
from lvcodec.eval.runner import evaluate
from lvcodec.nets import motion

DIS = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)


def _luma8(packed):
    return (F.pixel_shuffle(packed[:, :4], 2)[0, 0].clamp(0, 1) * 255 + 0.5).floor().to(torch.uint8).numpy()


def dis_estimate(self, x, ref):
    """x(p) ~ ref(p + flow), at the packed planes' resolution (DIS on luma, averaged 2x2, halved)."""
    f = DIS.calc(_luma8(x), _luma8(ref), None)
    return motion.downscale_flow(torch.from_numpy(f).permute(2, 0, 1)[None].float(), 2).to(x)


if __name__ == "__main__":
    motion.MotionEstimator.forward = dis_estimate
    names = sys.argv[1].split(",")
    clips = [c for c in testset_clips(Path("../shared/testset"), 9) if c.name in names]
    config = EncoderConfig(gop=8, downsample="off")
    evaluate(clips, [LvcCodec(model="lvc-base", name="dis", config=config)], {"dis": [16, 32, 48]},
             frames=9, intra_period=32, out_dir=Path("out/dis_ra"), anchor_for_bd="dis", meta={})
