"""Which context should the residual levels be coded in? Ideal code lengths of the levels the
encoder chose, under tables refitted with one more family of scale offsets, against none
(benchmarks/notes/residual-format9-2026-12-07.md, the offline table: run at 086e833, format
8.0, whose layers were coded without contexts).

    python benchmarks/notes/residual_band_contexts.py CLIP,CLIP,... [QUALITIES]

Each clip (training clips only, out/train-data) is coded (9 frames, random access, GOP 8,
preset fast), decoded, and every residual plane's levels and activity classes kept.
"""

import sys

import numpy as np
import torch
from _encode import rd_point

import lvcodec.codec.residual as R
from lvcodec.codec.api import decode_file
from lvcodec.codec.config import EncoderConfig
from lvcodec.weights import load_model

LENGTHS = R._code_lengths()
BITS = LENGTHS.matrix / 65536.0
TOP = BITS.shape[0] - 1
BAND = R._U + R._V


def bucket(x, bounds):
    return np.searchsorted(np.asarray(bounds), x, side="right")


def lower_counts(levels):
    """Per coefficient: nonzero levels of its block in the lower bands, and of the left and
    above blocks in the same bands."""
    nz = (levels != 0).astype(np.int64)
    own, nb = np.zeros(levels.shape, np.int64), np.zeros(levels.shape, np.int64)
    for b in range(1, 15):
        s = nz[..., BAND < b].sum(-1)
        n = np.zeros_like(s)
        n[:, 1:] += s[:, :-1]
        n[1:] += s[:-1]
        own[..., BAND == b], nb[..., BAND == b] = s[..., None], n[..., None]
    return own, nb


DESIGNS = {
    "own, 4 buckets": lambda o, n, b: bucket(o, [1, 2, 4]),
    "own, 6 buckets": lambda o, n, b: bucket(o, [1, 2, 3, 5, 9]),
    "own 4 x neighbours 3": lambda o, n, b: bucket(o, [1, 2, 4]) * 3 + bucket(n, [1, 3]),
    "2 own + neighbours, 6": lambda o, n, b: bucket(2 * o + n, [1, 2, 3, 5, 9]),
    "2 own + neighbours, 8": lambda o, n, b: bucket(2 * o + n, [1, 2, 3, 5, 7, 10, 15]),
    "own 6 x band ranges 0-3, 4-14": lambda o, n, b: bucket(o, [1, 2, 3, 5, 9]) + 6 * (b > 3),
    "own 6 x band ranges 0-2, 3-6, 7-14": lambda o, n, b: bucket(o, [1, 2, 3, 5, 9]) + 6 * bucket(b, [3, 7]),
    "own, 8 buckets": lambda o, n, b: bucket(o, [1, 2, 3, 4, 6, 9, 14]),
}


def fit(v, g, c, x, contexts, rounds=4):
    """Bits of levels v (table indexes of their value) with the group scales, class offsets and
    context offsets (the first's 0) chosen in turn for the fewest."""
    used = np.unique(v)
    hist = np.zeros((R.CLASSES, contexts, R.GROUPS, used.size))
    np.add.at(hist, (c, x, g, np.searchsorted(used, v)), 1)
    cost = hist @ BITS[:, used].T
    co, xo, shifts, entries = np.zeros(R.CLASSES, int), np.zeros(contexts, int), np.arange(-24, 25), np.arange(TOP + 1)

    def total(gi, co, xo):
        idx = np.clip(gi[None, None, :] + co[:, None, None] + xo[None, :, None], 0, TOP)
        return np.take_along_axis(cost, idx[..., None], 3).sum()

    for _ in range(rounds):
        per_group = sum(cost[ci, xi][:, np.clip(entries + co[ci] + xo[xi], 0, TOP)]
                        for ci in range(R.CLASSES) for xi in range(contexts))
        gi = per_group.argmin(1)
        for ci in range(R.CLASSES):
            co[ci] = min(shifts, key=lambda s: total(gi, np.where(np.arange(R.CLASSES) == ci, s, co), xo))
        for xi in range(1, contexts):
            xo[xi] = min(shifts, key=lambda s: total(gi, co, np.where(np.arange(contexts) == xi, s, xo)))
    return total(gi, co, xo)


def collect(clips, qualities):
    torch.set_num_threads(1)
    model, streams = load_model("lvc-base"), []
    kept, add = [], R.add_residual

    def spy(base, layers, levels):
        for plane, layer, lv in zip((base.y, base.u, base.v), layers, levels):
            if layer is not None and lv.any():
                kept.append((lv.copy(), R._classes(plane)))
        return add(base, layers, levels)

    for clip in clips:
        for q in qualities:
            config = EncoderConfig(quality=q, preset="fast", downsample="off", gop=8)
            _, data, _ = rd_point(model, f"out/train-data/{clip}.y4m", 9, config)
            with open("/tmp/residual_band_contexts.lvc", "wb") as f:
                f.write(data)
            kept.clear()
            R.add_residual = spy
            decode_file("/tmp/residual_band_contexts.lvc", "/tmp/residual_band_contexts.y4m",
                        overwrite=True, progress=False, device="cpu")
            R.add_residual = add
            streams.append((clip, q, len(data), list(kept)))
    return streams


def main(clips, qualities="16,32,48"):
    streams = collect(clips.split(","), [int(q) for q in qualities.split(",")])
    base_bits, stream_bytes, totals = 0.0, 0, dict.fromkeys(DESIGNS, 0.0)
    for clip, q, size, planes in streams:
        for lv, cl in planes:
            v = (np.clip(lv, -LENGTHS.R, LENGTHS.R) + LENGTHS.R).ravel()
            g = np.broadcast_to(R.GROUP, lv.shape).ravel()
            c = np.broadcast_to(cl[..., None, None], lv.shape).ravel()
            base_bits += fit(v, g, c, np.zeros_like(g), 1)
            own, nb = lower_counts(lv)
            for name, design in DESIGNS.items():
                x = design(own, nb, np.broadcast_to(BAND, lv.shape)).ravel()
                k = int(x.max()) + 1
                totals[name] += fit(v, g, c, x, k) + 8 * (k - 1)  # a byte per offset
        stream_bytes += size
        print(clip, q, size, flush=True)
    print("| context | levels' bits | streams' bytes |")
    for name, bits in totals.items():
        print(f"| {name} | {100 * (bits / base_bits - 1):+.1f} % | "
              f"{100 * (bits - base_bits) / 8 / stream_bytes:+.1f} % |")


if __name__ == "__main__":
    main(*sys.argv[1:])
