"""Collect the residual levels of the layers the encoder chooses (training clips/stills only):
    python benchmarks/notes/residual_context_collect.py OUT.pkl CLIP:FRAMES:INTRA_PERIOD:GOP ...

Written for format 8.0's encoder, whose _fit took levels as (rows, cols, 8, 8); from 9.0 on it
takes them band-ordered, (rows, cols, 64) (codec/residual.py BAND_ORDER): run it at a commit
before 9.0 (086e833), as residual-contexts-2026-12-07.md was.
"""
import sys, pickle
import torch
import lvcodec.codec.residual as R
from lvcodec.codec.api import encode_stream
from lvcodec.codec.config import EncoderConfig
from lvcodec.io import open_reader
from lvcodec.weights import load_model

torch.set_num_threads(1)
model = load_model("lvc-base")
records = []
orig_code, orig_cheapest = R.ResidualEncoder.code, R.ResidualEncoder.cheapest
cur = {}
orig_fit = R._fit
def fit(levels, classes, step, rounds=2):
    cur.setdefault("fits", []).append((levels.copy(), classes.copy(), step))
    return orig_fit(levels, classes, step, rounds)
R._fit = fit
def code(self, step_index, lam=None):
    cur["fits"] = []
    out = orig_code(self, step_index, lam)
    # the last fit of each plane is the final one: planes fitted 1 + RDOQ_ROUNDS times each
    n = 1 + (R.RDOQ_ROUNDS if lam is not None else 0)
    fits = cur["fits"]
    cur.setdefault("bydata", {})[out[0]] = [fits[(k + 1) * n - 1] for k in range(len(fits) // n)]
    return out
def cheapest(self, lam, steps, overhead=0, empty=False):
    cur["bydata"] = {}
    best = orig_cheapest(self, lam, steps, overhead, empty)
    if best[0] is not None and best[0] in cur["bydata"]:
        records.append(cur["bydata"][best[0]])
    return best
R.ResidualEncoder.code, R.ResidualEncoder.cheapest = code, cheapest
out = sys.argv[1]
for clip, frames, ip, gop in [(c, int(f), int(i), int(g)) for c, f, i, g in (a.split(":") for a in sys.argv[2:])]:
    for q in (16, 32, 48, 63):
        cfg = EncoderConfig(quality=q, intra_period=ip, gop=gop, preset="fast", downsample="off")
        with open_reader(clip, frames=frames) as r:
            encode_stream(model, r, r.info, cfg, torch.device("cpu"))
        print(clip, q, len(records), flush=True)
pickle.dump(records, open(out, "wb"))
