"""BD-rate of the motion search (motion_candidates.py's points, out/LABEL/points.jsonl) against
the shipped model's format-4 points in benchmarks/bench_learning_ra/points.jsonl (same settings).

    python benchmarks/notes/motion_candidates_bd.py out/motion-net-zero/points.jsonl [PREFIX]
"""

import sys
from pathlib import Path

from _curves import bd_table, curves

CACHE = Path(__file__).parents[1] / "bench_learning_ra" / "points.jsonl"


def main(points, prefix="8d46f9ac"):
    def keep(r):
        s = r["settings"]
        return (f"@{prefix}" in s.get("model", "") and s.get("gop") == 8
                and s.get("format") == 4 and r["frames"] == 9)

    base, new = curves(CACHE, keep), curves(points, keep)
    print("| clip | BD-rate | BD-PSNR | net motion: bpp / PSNR-YUV at q 16, 32, 48 | motion search |")
    print("|---|---:|---:|---|---|")

    def speed(a, b, qs):
        ratio = sum(b[q]["encode_s"] for q in qs) / sum(a[q]["encode_s"] for q in qs)
        return f" (encode time ×{ratio:.2f})"

    out = bd_table(((clip, base[clip, None], new[clip, None])
                    for clip, _ in sorted(set(base) & set(new))), extra=speed)
    print(f"\nmean BD-rate {sum(out) / len(out):+.1f} % over {len(out)} clips")


if __name__ == "__main__":
    main(*sys.argv[1:])
