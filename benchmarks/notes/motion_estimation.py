"""How good is the P net's motion? Warp PSNR-Y of the previous *original* frame against the
current one, for: zero motion (copy), OpenCV's DIS flow (medium preset, the issue's reference),
the P net's estimator, and either flow after the P net's motion coder at q 16/32/48 (with the
motion's rate: what an encoder sending that flow would pay). First 9 frames of each test clip.

    PYTHONPATH=/path/to/opencv python benchmarks/notes/motion_estimation.py ../shared/testset [MODEL]

The codec warps packed planes (4 luma phases + U + V at half resolution), so DIS is measured both
at full resolution (the issue's table) and through the codec's own packed warp (its flow averaged
2x2 and halved), which is what a DIS-driven encoder could send.
"""

import sys

import cv2
import numpy as np
import torch

from _pairs import packed, pair_study
from lvcodec.codec.frame_coder import PAD
from lvcodec.nets.layers import pad_to
from lvcodec.nets.motion import downscale_flow, warp
from lvcodec.rd import plane_mse, psnr_from_mse

QUALITIES = (16, 32, 48)


def y_psnr(a, b, h, w):
    """PSNR over the luma phases of two packed pictures, cropped to the picture (values in 0..1)."""
    return psnr_from_mse(float(((a[:, :4, : h // 2, : w // 2] - b[:, :4, : h // 2, : w // 2]) ** 2).mean()), 1.0)


def make_measure(model):
    net = model.inter.eval()
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)

    def measure(prev, cur, info):
        h, w = info.height, info.width
        xp, xc = packed(prev), packed(cur)
        # cur(p) ~ prev(p + flow): DIS from the current frame to the previous one.
        f = dis.calc(cur.y, prev.y, None)
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        full = cv2.remap(prev.y, gx + f[..., 0], gy + f[..., 1], cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
        # At the packed planes' resolution (averaged 2x2, halved), padded as they are.
        flow_dis = pad_to(downscale_flow(torch.from_numpy(f).permute(2, 0, 1)[None].float(), 2), PAD)
        flow_net = net.estimator(xc, xp)
        r = {"copy": y_psnr(xp, xc, h, w), "dis_full": psnr_from_mse(plane_mse(full, cur.y)),
             "dis_packed": y_psnr(warp(xp, flow_dis), xc, h, w),
             "net": y_psnr(warp(xp, flow_net), xc, h, w)}
        for name, flow in (("net", flow_net), ("dis", flow_dis)):
            for q in QUALITIES:
                flow_hat, lik = net.motion(flow, torch.tensor([float(q)]))
                r[f"{name}_q{q}"] = y_psnr(warp(xp, flow_hat), xc, h, w)
                r[f"{name}_bpp_q{q}"] = sum(float(-torch.log2(v).sum()) for v in lik.values()) / (h * w)
        return r

    return measure


if __name__ == "__main__":
    pair_study("motion_estimation", make_measure, sys.argv)
