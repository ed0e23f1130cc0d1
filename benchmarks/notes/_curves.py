"""Per-clip RD curves from an eval cache (points.jsonl) and their BD-rate table, for the notes
that compare two sets of points measured apart."""

import json
from pathlib import Path

from lvcodec.eval.bdrate import bd_psnr, bd_rate


def curves(path, keep, label=lambda row: None) -> dict:
    """{(clip, label(row)): {q: row}} of the rows of `path` that keep(row) accepts."""
    out = {}
    for line in Path(path).read_text().splitlines():
        if line.strip() and keep(r := json.loads(line)):
            out.setdefault((r["clip"], label(r)), {})[r["point"]] = r
    return out


def bd_table(pairs, extra=lambda a, b, qs: "") -> list[float]:
    """Prints one markdown row per (clip, base curve, new curve): BD-rate, BD-PSNR and both
    curves' bpp / PSNR-YUV, then extra(a, b, qs); returns the BD-rates."""
    rates = []
    for clip, a, b in pairs:
        qs = sorted(set(a) & set(b))
        args = ([a[q]["bpp"] for q in qs], [a[q]["psnr_yuv"] for q in qs],
                [b[q]["bpp"] for q in qs], [b[q]["psnr_yuv"] for q in qs])
        rates.append(bd_rate(*args))
        pts = lambda c: ", ".join(f"{c[q]['bpp']:.3f} / {c[q]['psnr_yuv']:.2f}" for q in qs)  # noqa: E731
        print(f"| {clip} | {rates[-1]:+.1f} % | {bd_psnr(*args):+.2f} dB | {pts(a)} | {pts(b)}"
              f"{extra(a, b, qs)} |")
    return rates
