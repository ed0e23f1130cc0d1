"""Deblocking variants as post-filters of decoded 9.0 pictures (benchmarks/notes/deblocking-2026-12-08.md):
per plane and frame, the best of 32 strengths (tc 1..8 x beta 8..64), PSNR-YUV gain over none.
Reads out/deblock/CLIP-qQ.y4m, the decodes of `lvc encode out/train-data/CLIP.y4m -n 9 --gop 8
--preset fast -q Q` by the 9.0 encoder (commit e2b9efc).

    python benchmarks/notes/deblock_variants.py plain side strong
"""
import sys, json, glob
import numpy as np
from lvcodec.io import open_reader
from lvcodec.codec import deblock as D

def vpass(x, tc, beta, variant):
    w = x.shape[1]
    cols = np.arange(8, w - 3, 8)
    p0, p1, p2, p3 = x[:, cols - 1], x[:, cols - 2], x[:, cols - 3], x[:, cols - 4]
    q0, q1, q2, q3 = x[:, cols], x[:, cols + 1], x[:, cols + 2], x[:, cols + 3]
    dp, dq = np.abs(p2 - 2 * p1 + p0), np.abs(q2 - 2 * q1 + q0)
    delta = (9 * (q0 - p0) - 3 * (q1 - p1) + 8) >> 4
    on = (dp + dq < beta) & (np.abs(delta) < 10 * tc)
    delta = np.where(on, np.clip(delta, -tc, tc), 0)
    h = tc >> 1
    out = x.copy()
    if variant == 'strong':
        strong = on & (2 * (dp + dq) < beta >> 2) & (np.abs(p3 - p0) + np.abs(q0 - q3) < beta >> 3) & (np.abs(p0 - q0) < (5 * tc + 1) >> 1)
    out[:, cols - 1] = np.clip(p0 + delta, 0, 255)
    out[:, cols] = np.clip(q0 - delta, 0, 255)
    sp = on if variant != 'side' else on & (dp < (beta + (beta >> 1)) >> 3)
    sq = on if variant != 'side' else on & (dq < (beta + (beta >> 1)) >> 3)
    if h:
        out[:, cols - 2] = np.clip(p1 + np.where(sp, np.clip((((p2 + p0 + 1) >> 1) - p1 + delta) >> 1, -h, h), 0), 0, 255)
        out[:, cols + 1] = np.clip(q1 + np.where(sq, np.clip((((q2 + q0 + 1) >> 1) - q1 - delta) >> 1, -h, h), 0), 0, 255)
    if variant == 'strong':
        c = 2 * tc
        sp0 = np.clip((p2 + 2 * p1 + 2 * p0 + 2 * q0 + q1 + 4) >> 3, p0 - c, p0 + c)
        sp1 = np.clip((p2 + p1 + p0 + q0 + 2) >> 2, p1 - c, p1 + c)
        sp2 = np.clip((2 * p3 + 3 * p2 + p1 + p0 + q0 + 4) >> 3, p2 - c, p2 + c)
        sq0 = np.clip((p1 + 2 * p0 + 2 * q0 + 2 * q1 + q2 + 4) >> 3, q0 - c, q0 + c)
        sq1 = np.clip((p0 + q0 + q1 + q2 + 2) >> 2, q1 - c, q1 + c)
        sq2 = np.clip((p0 + q0 + q1 + 3 * q2 + 2 * q3 + 4) >> 3, q2 - c, q2 + c)
        for off, v in ((-1, sp0), (-2, sp1), (-3, sp2), (0, sq0), (1, sq1), (2, sq2)):
            out[:, cols + off] = np.where(strong, v, out[:, cols + off])
    return out

def filt(plane, s, variant):
    if s == 0: return plane.astype(np.int32)
    tc, beta = D.strength_params(s)
    x = vpass(plane.astype(np.int32), tc, beta, variant)
    return vpass(x.T, tc, beta, variant).T

ps = lambda m: 10 * np.log10(255 ** 2 / m)
variants = sys.argv[1:]
for rec in sorted(glob.glob('/work/main/out/deblock/*-q*.y4m')):
    clip = rec.split('/')[-1].rsplit('-q', 1)[0]
    S = list(open_reader(f'/work/main/out/train-data/{clip}.y4m', frames=9)); R = list(open_reader(rec))
    w = np.array([6, 1, 1]) / 8
    out = {'rec': rec.split('/')[-1]}
    for variant in variants:
        tot = 0; base = 0
        for s, r in zip(S, R):
            for k, (rp, sp) in enumerate(zip((r.y, r.u, r.v), (s.y, s.u, s.v))):
                src = sp.astype(np.int32)
                e = [np.mean(np.square(filt(rp, st, variant) - src)) for st in range(33)]
                tot += w[k] * min(e); base += w[k] * e[0]
        out['base'] = round(ps(base / len(R)), 3)
        out[variant] = round(ps(tot / len(R)) - ps(base / len(R)), 4)
    print(json.dumps(out), flush=True)
