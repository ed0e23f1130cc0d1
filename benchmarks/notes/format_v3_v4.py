"""The same weights, format 3 against format 4 (the block-prediction map and the encoder's second
coding of the latents it makes useless): random access, 9 frames, GOP 8, q 16/32/48, the points
bench_learning measured (benchmarks/bench_learning_ra/points.jsonl: format-3 points are the ones
measured before the map, with no "format" in their settings).

    python benchmarks/notes/format_v3_v4.py [MODEL_SHA256_PREFIX]
"""

import json
import sys
from pathlib import Path

from lvcodec.eval.bdrate import bd_psnr, bd_rate

CACHE = Path(__file__).parents[1] / "bench_learning_ra" / "points.jsonl"


def main(prefix="8d46f9ac"):
    rows = [json.loads(line) for line in CACHE.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if f"@{prefix}" in r["settings"].get("model", "")
            and r["settings"].get("gop") == 8 and r["frames"] == 9]
    curves = {}
    for r in rows:
        fmt = r["settings"].get("format", 3)
        curves.setdefault((r["clip"], fmt), {})[r["point"]] = r  # one row per q and format
    out = []
    print("| clip | BD-rate 4 vs 3 | BD-PSNR | format 3: bpp / PSNR-YUV at q 16, 32, 48 | format 4 |")
    print("|---|---:|---:|---|---|")
    for clip in sorted({c for c, _ in curves}):
        a, b = curves.get((clip, 3)), curves.get((clip, 4))
        if not a or not b:
            continue
        qs = sorted(set(a) & set(b))
        args = ([a[q]["bpp"] for q in qs], [a[q]["psnr_yuv"] for q in qs],
                [b[q]["bpp"] for q in qs], [b[q]["psnr_yuv"] for q in qs])
        rate, psnr = bd_rate(*args), bd_psnr(*args)
        out.append(rate)
        pts = lambda c: ", ".join(f"{c[q]['bpp']:.3f} / {c[q]['psnr_yuv']:.2f}" for q in qs)  # noqa: E731
        print(f"| {clip} | {rate:+.1f} % | {psnr:+.2f} dB | {pts(a)} | {pts(b)} |")
    if out:
        print(f"| **mean** | **{sum(out) / len(out):+.1f} %** | | | |")


if __name__ == "__main__":
    main(*sys.argv[1:])
