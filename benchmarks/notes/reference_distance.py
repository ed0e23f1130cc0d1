"""What a P frame costs against the distance to its reference. Random access codes its P anchors
`gop` frames after the previous one (8 in the benchmarks, 16 by default), low delay one frame
after; the P net was trained on references 1-3 frames away. Frame 16 of each test clip is coded
(the nets' training pass, eval mode) from the original frame d earlier, d = 1, 2, 4, 8, 16, and
as an intra frame: bpp of all its latents (motion included) and PSNR-YUV (6:1:1) at q 32.
(Foreman has 10 frames: its last one, from the distances that fit.)

    python benchmarks/notes/reference_distance.py ../shared/testset [MODEL]
"""

import json
import sys
from pathlib import Path

import torch

from _pairs import packed, picture_psnr, write_rows
from lvcodec.eval._script import testset_clips
from lvcodec.weights import load_model

TARGET, DISTANCES, Q = 16, (1, 2, 4, 8, 16), 32


def total_bpp(out: dict, h: int, w: int) -> float:
    return sum(float(-torch.log2(v).sum()) for v in out["likelihoods"].values()) / (h * w)


def main(argv):
    torch.set_grad_enabled(False)
    testset, model = argv[1], argv[2] if len(argv) > 2 else "lvc-base"
    m = load_model(model, torch.device("cpu"))
    intra, inter = m.intra.eval(), m.inter.eval()
    qq = torch.tensor([float(Q)])
    rows = []
    for clip in testset_clips(Path(testset), TARGET + 1):
        h, w = clip.info.height, clip.info.width
        target = min(TARGET, len(clip.frames) - 1)
        x = packed(clip.frames[target])
        out = intra(x, qq)
        row = {"clip": clip.name, "q": Q, "intra_bpp": total_bpp(out, h, w),
               "intra_psnr": picture_psnr(out["x_hat"], x, h, w)}
        for d in (d for d in DISTANCES if d <= target):
            ref = packed(clip.frames[target - d])
            out = inter(x, ref, inter.ref_features(ref), qq)
            row[f"p{d}_bpp"] = total_bpp(out, h, w)
            row[f"p{d}_psnr"] = picture_psnr(out["x_hat"], x, h, w)
            row[f"p{d}_of_intra"] = row[f"p{d}_bpp"] / row["intra_bpp"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    write_rows("reference_distance", model, rows)


if __name__ == "__main__":
    main(sys.argv)
