"""A classical optical flow as the motion estimators' teacher (the `motion` training stage).

The nets' estimator learns its motion only through the rate-distortion loss, and on the test clips
it lands 5-20 dB of warp PSNR behind OpenCV's DIS flow, whose field is also cheaper to code
(benchmarks/notes/inter-frames-2026-12-01.md). DIS runs on the training pairs' original luma, as
a supervised target; it is a training-time dependency only (opencv-python-headless): the codec
never calls it.
"""

from functools import lru_cache

import numpy as np
import torch

from lvcodec.errors import ConfigError
from lvcodec.nets.layers import unpack_yuv420
from lvcodec.nets.motion import downscale_flow

__all__ = ["dis_flow"]

@lru_cache(maxsize=1)
def _dis():
    try:
        import cv2
    except ImportError:
        raise ConfigError("the motion stage's teacher needs OpenCV: "
                          "pip install opencv-python-headless") from None
    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)


def _luma8(x: torch.Tensor) -> np.ndarray:
    y = unpack_yuv420(x.detach().float())[0][:, 0]
    return (y * 255).round().clamp(0, 255).to(torch.uint8).cpu().numpy()


@torch.no_grad()
def dis_flow(x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """DIS flow (medium preset) of each packed picture x (B,6,h,w) to its reference, such that
    x(p) ~ ref(p + flow(p)) as `warp` reads it: the full-resolution luma flow averaged 2x2 and
    halved, in packed-frame pixels (the codec's motion grid). (B,2,h,w) float32 on x's device."""
    dis = _dis()
    flows = [dis.calc(a, b, None) for a, b in zip(_luma8(x), _luma8(ref))]
    full = torch.from_numpy(np.stack(flows)).permute(0, 3, 1, 2).float()
    return downscale_flow(full, 2).to(x.device)
