"""Can a P frame add what its reference lacks? Frame 1 of each test clip is intra-coded, then
coded again as a P frame against that reconstruction (a perfect reference: the same picture,
its own I frame), and again against each P result, three times; each coding's bits (its own
latents, motion excluded) and PSNR-YUV (the nets' training pass, eval mode, float32; no block
map). A P net that can only pass the prediction through its synthesis stays at or below the
intra net's ceiling whatever it spends; one with the prediction skip can climb.

    python benchmarks/notes/self_reference.py ../shared/testset [MODEL]
"""

import json
import sys
from pathlib import Path

import torch

from _pairs import packed, rate_psnr, write_rows
from lvcodec.eval._script import testset_clips
from lvcodec.weights import load_model

QUALITIES = (32, 63)
ROUNDS = 3


def main(argv):
    torch.set_grad_enabled(False)
    testset, name = argv[1], argv[2] if len(argv) > 2 else "lvc-base"
    model = load_model(name, torch.device("cpu"))
    intra, inter = model.intra.eval(), model.inter.eval()
    rows = []
    for clip in testset_clips(Path(testset), 2):
        x, h, w = packed(clip.frames[1]), clip.info.height, clip.info.width
        for q in QUALITIES:
            qq = torch.tensor([float(q)])
            out = intra(x, qq)
            row = {"clip": clip.name, "q": q, "codings": [rate_psnr(out, x, h, w)]}
            ref = out["x_hat"].clamp(0, 1)
            feat = inter.ref_features(ref)
            for _ in range(ROUNDS):
                out = inter(x, ref, feat, qq)
                row["codings"].append(rate_psnr(out, x, h, w))
                ref, feat = out["x_hat"].clamp(0, 1), out["feat"]
            rows.append(row)
            print(json.dumps(row), flush=True)
    write_rows("self_reference", name, rows)


if __name__ == "__main__":
    main(sys.argv)
