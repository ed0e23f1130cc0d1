"""One encode of a training clip as the tuning notes beside it measure it: whole-file bits per
pixel and PSNR-YUV (6:1:1) averaged over frames."""

import numpy as np
import torch

from lvcodec.codec.api import encode_stream
from lvcodec.io import open_reader
from lvcodec.rd import frame_psnr

# Substreams of each frame type's nets (I, P, B): more means a residual layer (and block motion).
NET_SUBSTREAMS = {0: 2, 1: 5, 2: 7}


def rd_point(model, clip, frames: int, config) -> tuple:
    """((bpp, PSNR-YUV), stream bytes, coded frames) of the first `frames` frames of `clip`."""
    with open_reader(clip, frames=frames) as r:
        data, coded = encode_stream(model, r, r.info, config, torch.device("cpu"))
        pixels = r.info.width * r.info.height
    psnr = float(np.mean([frame_psnr(c.source, c.recon)["yuv"] for c in coded]))
    return (8 * len(data) / pixels / len(coded), psnr), data, coded
