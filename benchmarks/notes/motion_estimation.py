"""How good is the P net's motion? Warp PSNR-Y of the previous *original* frame against the
current one, for: zero motion (copy), OpenCV's DIS flow (medium preset, the issue's reference),
the P net's estimator, and either flow after the P net's motion coder at q 16/32/48 (with the
motion's rate: what an encoder sending that flow would pay). First 9 frames of each test clip.

    PYTHONPATH=/path/to/opencv python benchmarks/notes/motion_estimation.py ../shared/testset [MODEL]

The codec warps packed planes (4 luma phases + U + V at half resolution), so DIS is measured both
at full resolution (the issue's table) and through the codec's own packed warp (its flow averaged
2x2 and halved), which is what a DIS-driven encoder could send.
"""

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

from lvcodec.codec.frame_coder import PAD, frame_to_tensor
from lvcodec.eval._script import testset_clips
from lvcodec.nets.layers import pad_to
from lvcodec.nets.motion import downscale_flow, warp
from lvcodec.weights import load_model

QUALITIES = (16, 32, 48)


def psnr(mse):
    return 10 * np.log10(1.0 / max(mse, 1e-12))


def y_mse(a, b, h, w):
    """MSE over the luma phases of two packed pictures, cropped to the picture (values in 0..1)."""
    return float(((a[:, :4, : h // 2, : w // 2] - b[:, :4, : h // 2, : w // 2]) ** 2).mean())


def main(testset, model="lvc-base"):
    torch.set_grad_enabled(False)
    net = load_model(model, torch.device("cpu")).inter.eval()
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    rows = []
    for clip in testset_clips(Path(testset), 9):
        h, w = clip.info.height, clip.info.width
        acc = {}
        for prev, cur in zip(clip.frames, clip.frames[1:]):
            xp = pad_to(frame_to_tensor(prev, "cpu"), PAD)
            xc = pad_to(frame_to_tensor(cur, "cpu"), PAD)
            # cur(p) ~ prev(p + flow): DIS from the current frame to the previous one.
            f = dis.calc(cur.y, prev.y, None)
            gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
            full = cv2.remap(prev.y, gx + f[..., 0], gy + f[..., 1], cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
            flow_dis = torch.from_numpy(f).permute(2, 0, 1)[None].float()
            flow_dis = pad_to(downscale_flow(flow_dis, 2), PAD)
            flow_net = net.estimator(xc, xp)
            r = {"copy": psnr(y_mse(xp, xc, h, w)),
                 "dis_full": psnr(float(((full.astype(np.float64) - cur.y) ** 2).mean()) / 255 ** 2),
                 "dis_packed": psnr(y_mse(warp(xp, flow_dis), xc, h, w)),
                 "net": psnr(y_mse(warp(xp, flow_net), xc, h, w))}
            for name, flow in (("net", flow_net), ("dis", flow_dis)):
                for q in QUALITIES:
                    flow_hat, lik = net.motion(flow, torch.tensor([float(q)]))
                    bits = sum(float(-torch.log2(v).sum()) for v in lik.values())
                    r[f"{name}_q{q}"] = psnr(y_mse(warp(xp, flow_hat), xc, h, w))
                    r[f"{name}_bpp_q{q}"] = bits / (h * w)
            for k, v in r.items():
                acc.setdefault(k, []).append(v)
        row = {"clip": clip.name, **{k: float(np.mean(v)) for k, v in acc.items()}}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


if __name__ == "__main__":
    model = sys.argv[2] if len(sys.argv) > 2 else "lvc-base"
    out = Path(__file__).with_name(f"motion_estimation_{model.strip('/').replace('/', '_')}.jsonl")
    rows = main(sys.argv[1], model)
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
