"""Ideal code length of the collected residual levels under the fitted tables, with and without
more contexts (benchmarks/notes/residual-contexts-2026-12-07.md):
    python benchmarks/notes/residual_context_analyse.py OUT.pkl
"""
import pickle, sys
import numpy as np
import lvcodec.codec.residual as R

recs = pickle.load(open(sys.argv[1], "rb"))  
L = R._code_lengths()

def bits(levels, classes, step, ncls):
    R.CLASSES = ncls
    layer = R._fit(levels, classes, step)
    idx = R._indexes(layer, classes)
    v = np.clip(levels, -L.R, L.R) + L.R
    return L.matrix[idx, v].sum() / 65536.0

def h2(k, n):
    if n == 0 or k == 0 or k == n: return 0.0
    p = k / n
    return -n * (p * np.log2(p) + (1 - p) * np.log2(1 - p))

tot = {"base": 0, "cbf+nbr4": 0, "causal": 0, "cbf only": 0}
for rec in recs:
    for levels, classes, step in rec:
        tot["base"] += bits(levels, classes, step, 5)
        coded = np.abs(levels).sum((2, 3)) > 0
        # cbf cost per activity class
        cbf = sum(h2(int(coded[classes == c].sum()), int((classes == c).sum())) for c in range(5)) + 5 * 8
        p = np.pad(coded, 1)
        n4 = p[:-2, 1:-1].astype(int) + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:]
        ctx = np.minimum(n4, 3)  # 0,1,2,3+
        cls2 = classes * 4 + ctx
        if coded.any():
            lv = levels[coded][None]; cl = cls2[coded][None]
            tot["cbf+nbr4"] += cbf + bits(lv, cl, step, 20) + 15 * 8
            tot["cbf only"] += cbf + bits(lv, classes[coded][None], step, 5)
        else:
            tot["cbf+nbr4"] += cbf; tot["cbf only"] += cbf
        # causal: left + above coded (0..2), no cbf
        ca = p[:-2, 1:-1].astype(int) + p[1:-1, :-2]
        tot["causal"] += bits(levels, classes * 3 + ca, step, 15) + 10 * 8
R.CLASSES = 5
for k, v in tot.items():
    print(f"{k:10s} {v/8:10.0f} bytes  {100*(v/tot['base']-1):+.1f} %")

def ent(vals):
    _, c = np.unique(vals, return_counts=True)
    n = c.sum(); return -(c * np.log2(c / n)).sum()

tot2 = {"base": 0, "nnz-bucket": 0}
edges = np.array([1, 2, 4, 8, 16, 65])
for rec in recs:
    for levels, classes, step in rec:
        tot2["base"] += bits(levels, classes, step, 5)
        nnz = (levels != 0).sum((2, 3))
        b = np.searchsorted(edges, nnz, side="right")  # 0: none, 1: 1, 2: 2-3 ...
        cost = sum(ent(b[classes == c]) for c in range(5) if (classes == c).any()) + 30 * 8
        # within bucket, exact nnz costs log2(bucket width) at most: upper bound
        width = np.diff(np.concatenate([[0], edges]))
        cost += np.log2(width[np.minimum(b, 5)]).sum()
        m = b > 0
        if m.any():
            cost += bits(levels[m][None], (classes * 6 + b)[m][None], step, 30) + 30 * 8
        tot2["nnz-bucket"] += cost
R.CLASSES = 5
for k, v in tot2.items():
    print(f"{k:10s} {v/8:10.0f} bytes  {100*(v/tot2['base']-1):+.1f} %")
