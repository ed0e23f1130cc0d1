"""Does the P net use its reference? One P frame coded (the nets' training pass, eval mode) from
the previous *original* frame, from a flat grey picture instead, and as an intra frame: rate of
the frame's latents (motion excluded) and PSNR-YUV (6:1:1) at q 16/32/48. First 9 frames of each
test clip. A net that uses its reference pays much less with the true one than with grey.

    python benchmarks/notes/reference_use.py ../shared/testset [MODEL]
"""

import sys

import torch

from _pairs import packed, pair_study, rate_psnr

QUALITIES = (16, 32, 48)


def make_measure(model):
    intra, inter = model.intra.eval(), model.inter.eval()

    def measure(prev, cur, info):
        ref, x = packed(prev), packed(cur)
        grey = torch.full_like(ref, 0.5)
        r = {}
        for q in QUALITIES:
            qq = torch.tensor([float(q)])
            coded = {"ref": inter(x, ref, inter.ref_features(ref), qq),
                     "grey": inter(x, grey, inter.ref_features(grey), qq), "intra": intra(x, qq)}
            for name, out in coded.items():
                r[f"{name}_bpp_q{q}"], r[f"{name}_psnr_q{q}"] = rate_psnr(out, x, info.height, info.width)
        return r

    return measure


if __name__ == "__main__":
    pair_study("reference_use", make_measure, sys.argv)
