"""Does the P net use its reference? One P frame coded (the nets' training pass, eval mode) from
the previous *original* frame, from a flat grey picture instead, and as an intra frame: rate of
the frame's latents (motion excluded) and PSNR-YUV (6:1:1) at q 16/32/48. First 9 frames of each
test clip. A net that uses its reference pays much less with the true one than with grey.

    python benchmarks/notes/reference_use.py ../shared/testset [MODEL]
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch

from lvcodec.codec.frame_coder import PAD, frame_to_tensor
from lvcodec.eval._script import testset_clips
from lvcodec.nets.layers import pad_to
from lvcodec.rd import psnr_from_mse, yuv_mse
from lvcodec.weights import load_model

QUALITIES = (16, 32, 48)


def _rate_psnr(out, x, h, w, motion=False):
    lik = {k: v for k, v in out["likelihoods"].items() if motion or not k.startswith("motion")}
    bits = sum(float(-torch.log2(v).sum()) for v in lik.values())
    crop = (slice(None), slice(None), slice(0, h // 2), slice(0, w // 2))
    mse = float(yuv_mse(out["x_hat"].clamp(0, 1)[crop], x[crop]))
    return bits / (h * w), psnr_from_mse(mse, 1.0)


def main(testset, model="lvc-base"):
    torch.set_grad_enabled(False)
    m = load_model(model, torch.device("cpu"))
    intra, inter = m.intra.eval(), m.inter.eval()
    rows = []
    for clip in testset_clips(Path(testset), 9):
        h, w = clip.info.height, clip.info.width
        acc = {}
        for prev, cur in zip(clip.frames, clip.frames[1:]):
            ref = pad_to(frame_to_tensor(prev, "cpu"), PAD)
            x = pad_to(frame_to_tensor(cur, "cpu"), PAD)
            grey = torch.full_like(ref, 0.5)
            for q in QUALITIES:
                qq = torch.tensor([float(q)])
                for name, r in (("ref", ref), ("grey", grey)):
                    bpp, p = _rate_psnr(inter(x, r, inter.ref_features(r), qq), x, h, w)
                    acc.setdefault(f"{name}_bpp_q{q}", []).append(bpp)
                    acc.setdefault(f"{name}_psnr_q{q}", []).append(p)
                bpp, p = _rate_psnr(intra(x, qq), x, h, w)
                acc.setdefault(f"intra_bpp_q{q}", []).append(bpp)
                acc.setdefault(f"intra_psnr_q{q}", []).append(p)
        row = {"clip": clip.name, **{k: float(np.mean(v)) for k, v in acc.items()}}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


if __name__ == "__main__":
    model = sys.argv[2] if len(sys.argv) > 2 else "lvc-base"
    rows = main(sys.argv[1], model)
    Path(__file__).with_name(f"reference_use_{model.strip('/').replace('/', '_')}.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows))
