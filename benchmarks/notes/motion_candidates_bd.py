"""BD-rate of the motion search (motion_candidates.py's points, out/LABEL/points.jsonl) against
the shipped model's format-4 points in benchmarks/bench_learning_ra/points.jsonl (same settings).

    python benchmarks/notes/motion_candidates_bd.py out/motion-net-zero/points.jsonl [PREFIX]
"""

import json
import sys
from pathlib import Path

from lvcodec.eval.bdrate import bd_psnr, bd_rate

CACHE = Path(__file__).parents[1] / "bench_learning_ra" / "points.jsonl"


def _curves(path, prefix):
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    curves = {}
    for r in rows:
        s = r["settings"]
        if f"@{prefix}" in s.get("model", "") and s.get("gop") == 8 and s.get("format") == 4 \
                and r["frames"] == 9:
            curves.setdefault(r["clip"], {})[r["point"]] = r
    return curves


def main(points, prefix="8d46f9ac"):
    base, new = _curves(CACHE, prefix), _curves(points, prefix)
    out = []
    print("| clip | BD-rate | BD-PSNR | net motion: bpp / PSNR-YUV at q 16, 32, 48 | motion search |")
    print("|---|---:|---:|---|---|")
    for clip in sorted(set(base) & set(new)):
        a, b = base[clip], new[clip]
        qs = sorted(set(a) & set(b))
        args = ([a[q]["bpp"] for q in qs], [a[q]["psnr_yuv"] for q in qs],
                [b[q]["bpp"] for q in qs], [b[q]["psnr_yuv"] for q in qs])
        out.append(bd_rate(*args))
        pts = lambda c: ", ".join(f"{c[q]['bpp']:.3f} / {c[q]['psnr_yuv']:.2f}" for q in qs)  # noqa: E731
        speed = sum(b[q]["encode_s"] for q in qs) / sum(a[q]["encode_s"] for q in qs)
        print(f"| {clip} | {out[-1]:+.1f} % | {bd_psnr(*args):+.2f} dB | {pts(a)} | {pts(b)} "
              f"(encode time ×{speed:.2f}) |")
    print(f"\nmean BD-rate {sum(out) / len(out):+.1f} % over {len(out)} clips")


if __name__ == "__main__":
    main(*sys.argv[1:])
