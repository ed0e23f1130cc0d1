"""The same weights, format 3 against format 4 (the block-prediction map and the encoder's second
coding of the latents it makes useless): random access, 9 frames, GOP 8, q 16/32/48, the points
bench_learning measured (benchmarks/bench_learning_ra/points.jsonl: format-3 points are the ones
measured before the map, with no "format" in their settings).

    python benchmarks/notes/format_v3_v4.py [MODEL_SHA256_PREFIX]
"""

import sys
from pathlib import Path

from _curves import bd_table, curves

CACHE = Path(__file__).parents[1] / "bench_learning_ra" / "points.jsonl"


def main(prefix="8d46f9ac"):
    by_format = curves(CACHE, lambda r: f"@{prefix}" in r["settings"].get("model", "")
                       and r["settings"].get("gop") == 8 and r["frames"] == 9,
                       label=lambda r: r["settings"].get("format", 3))
    print("| clip | BD-rate 4 vs 3 | BD-PSNR | format 3: bpp / PSNR-YUV at q 16, 32, 48 | format 4 |")
    print("|---|---:|---:|---|---|")
    out = bd_table((clip, by_format[clip, 3], by_format[clip, 4])
                   for clip in sorted({c for c, _ in by_format})
                   if by_format.get((clip, 3)) and by_format.get((clip, 4)))
    if out:
        print(f"| **mean** | **{sum(out) / len(out):+.1f} %** | | | |")


if __name__ == "__main__":
    main(*sys.argv[1:])
