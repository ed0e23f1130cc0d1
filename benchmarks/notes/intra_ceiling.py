"""Where the intra net's quality stops: each frame's reconstruction from its latent as coded
(rounded), rounded on a 4x finer grid, and not quantised at all, at q 0/32/63 (the nets' own
transforms, eval mode, float32). If the unquantised reconstruction is no better than the coded
one, the ceiling is the transform's, not the quantiser's. Frames 1-8 of each test clip.

    python benchmarks/notes/intra_ceiling.py ../shared/testset [MODEL]
"""

import sys

import torch

from _pairs import packed, pair_study, picture_psnr

QUALITIES = (0, 32, 63)


def make_measure(model):
    net = model.intra.eval()

    def measure(_prev, cur, info):
        x = packed(cur)
        r = {}
        for q in QUALITIES:
            qq = torch.tensor([float(q)])
            y = net.g_a(x) * net.gain_a(qq)
            for name, y_hat in (("coded", torch.round(y)), ("quarter", torch.round(y * 4) / 4),
                                ("unquantised", y)):
                r[f"{name}_psnr_q{q}"] = picture_psnr(net.synthesise(y_hat, qq), x, info.height,
                                                      info.width)
        return r
    return measure


if __name__ == "__main__":
    pair_study("intra_ceiling", make_measure, sys.argv)
