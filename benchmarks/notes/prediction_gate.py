"""Would a P frame gain from showing its motion-compensated prediction where that is better?
Frame 8 of each test clip (foreman: 9) is coded (the nets' training pass, eval mode) from frame 7
as the codec sees it, intra-decoded at the same q: PSNR-YUV (6:1:1) of the P net's output, of its
own prediction (the decoded reference warped by the decoded motion), of the zero-motion copy, and
of an oracle that takes, per 16x16 block of the packed picture, whichever of output and prediction
is closer to the frame (the ceiling of a per-block gate, at the same bits); bpp of the P frame
(all latents) and of an intra frame.

    python benchmarks/notes/prediction_gate.py ../shared/testset [MODEL]
"""

import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from _pairs import packed, picture_psnr
from lvcodec.eval._script import testset_clips
from lvcodec.weights import load_model

TARGET, QUALITIES, BLOCK = 8, (16, 32, 48), 8  # 8 packed = 16 luma pixels


def total_bpp(out: dict, h: int, w: int) -> float:
    return sum(float(-torch.log2(v).sum()) for v in out["likelihoods"].values()) / (h * w)


def oracle(a: torch.Tensor, b: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per block, a or b, whichever has the lower squared error against x (Y weighted as YUV)."""
    ea = F.avg_pool2d(((a - x) ** 2).mean(1, keepdim=True), BLOCK, ceil_mode=True)
    eb = F.avg_pool2d(((b - x) ** 2).mean(1, keepdim=True), BLOCK, ceil_mode=True)
    pick = F.interpolate((eb < ea).float(), scale_factor=BLOCK)[..., :x.shape[2], :x.shape[3]]
    return a + pick * (b - a)


def main(argv):
    torch.set_grad_enabled(False)
    testset, model = argv[1], argv[2] if len(argv) > 2 else "lvc-base"
    m = load_model(model, torch.device("cpu"))
    intra, inter = m.intra.eval(), m.inter.eval()
    rows = []
    for clip in testset_clips(Path(testset), TARGET + 1):
        h, w = clip.info.height, clip.info.width
        x, prev = packed(clip.frames[TARGET]), packed(clip.frames[TARGET - 1])
        row = {"clip": clip.name}
        for q in QUALITIES:
            qq = torch.tensor([float(q)])
            ref = intra(prev, qq)["x_hat"].clamp(0, 1)
            out = inter(x, ref, inter.ref_features(ref), qq)
            pred = out["warped"].clamp(0, 1)
            x_hat = out["x_hat"].clamp(0, 1)
            row.update({f"q{q}_intra_bpp": total_bpp(intra(x, qq), h, w),
                        f"q{q}_p_bpp": total_bpp(out, h, w),
                        f"q{q}_ref_psnr": picture_psnr(ref, prev, h, w),
                        f"q{q}_p_psnr": picture_psnr(x_hat, x, h, w),
                        f"q{q}_pred_psnr": picture_psnr(pred, x, h, w),
                        f"q{q}_copy_psnr": picture_psnr(ref, x, h, w),
                        f"q{q}_oracle_psnr": picture_psnr(oracle(x_hat, pred, x), x, h, w)})
        rows.append(row)
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}),
              flush=True)
    label = model.strip("/").replace("/", "_")
    Path(__file__).with_name(f"prediction_gate_{label}.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows))


if __name__ == "__main__":
    main(sys.argv)
