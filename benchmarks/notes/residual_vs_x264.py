"""What the residual layer (codec/residual.py, docs/bitstream.md §4.7) buys, against x264 and
x265 medium, same model, same run: lvc with and without it (`--no-residual`), in

* all-intra: the first 8 frames of each test clip, q 0/16/32/48/63 (bench_intra's points; its
  cache seeds this one, whose x264 anchor is all-intra);
* random access: the first 9 frames, GOP 8, intra period 32, `--downsample off`, the default
  preset (medium), q 16/32/48/63 (as ra_vs_x264.py; bench_learning's cache seeds this one).

The runs' caches and per-clip reports go to out/residual/ (not committed).

    python benchmarks/notes/residual_vs_x264.py ../shared/testset [MODEL]

Writes benchmarks/residual.md and residual.json.
"""

import json
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

from lvcodec.codec.config import EncoderConfig
from lvcodec.eval._script import testset_clips
from lvcodec.eval.lvc_codec import LvcCodec
from lvcodec.eval.runner import evaluate

BENCH = Path(__file__).parents[1]
RUNS = {
    "all-intra": dict(frames=8, intra_period=1, config=EncoderConfig(intra_period=1),
                      qualities=[0, 16, 32, 48, 63], cache="bench_ip1", anchors=["x264-medium"]),
    "random access": dict(frames=9, intra_period=32,
                          config=EncoderConfig(gop=8, downsample="off"),
                          qualities=[16, 32, 48, 63], cache="bench_learning_ra",
                          anchors=["x264-medium", "x265-medium"]),
}


def _mean(rows):
    vals = [r["bd_rate"] for r in rows if r["bd_rate"] is not None]
    return (sum(vals) / len(vals), len(vals)) if vals else (None, 0)


def main(testset, model="lvc-base"):
    out = {"date": time.strftime("%Y-%m-%d %H:%M"), "model": model, "runs": {}}
    lines = ["# The residual layer against x264 and x265", "",
             "`python benchmarks/notes/residual_vs_x264.py ../shared/testset` "
             f"({out['date']}, model {model}). `lvc`: the default encoder, whose frames carry a "
             "transform-coded residual layer where it lowers rate + λ·distortion (docs/bitstream.md "
             "§4.7); `lvc-no-residual`: the same with `--no-residual` (the nets' pictures alone). "
             "Rate = whole file; quality = PSNR-YUV 6:1:1 averaged over frames; BD-rate over the "
             "PSNR range where both curves exist (negative: fewer bits than the anchor).", ""]
    for name, run in RUNS.items():
        codecs = [LvcCodec(model=model, name="lvc", config=run["config"]),
                  LvcCodec(model=model, name="lvc-no-residual",
                           config=replace(run["config"], residual=False))]
        cache = Path("out/residual") / run["cache"]
        seed = BENCH / run["cache"] / "points.jsonl"
        if not (cache / "points.jsonl").exists() and seed.exists():
            cache.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(seed, cache / "points.jsonl")
        res = evaluate(testset_clips(Path(testset), run["frames"]), [*codecs, *run["anchors"]],
                       {c.name: run["qualities"] for c in codecs}, frames=run["frames"],
                       intra_period=run["intra_period"], out_dir=cache,
                       anchor_for_bd=run["anchors"], meta={"test set": testset})
        out["runs"][name] = {"points": [p for p in res["points"] if p["codec"].startswith("lvc")],
                             "bd": res["bd"]}
        lines += [f"## {name} ({run['frames']} frames, q {', '.join(map(str, run['qualities']))})",
                  "", "| clip | " + " | ".join(f"{c.name} vs {a}" for a in run["anchors"]
                                                for c in codecs) + " |",
                  "|---|" + "---:|" * (len(codecs) * len(run["anchors"]))]
        clips = sorted({p["clip"] for p in res["points"]})
        cell = lambda a, c, clip: next(  # noqa: E731
            (f"{e['bd_rate']:+.1f} %" if e["bd_rate"] is not None else "no overlap")
            for e in res["bd"][a] if e["codec"] == c and e["clip"] == clip)
        for clip in clips:
            lines.append(f"| {clip} | " + " | ".join(cell(a, c.name, clip) for a in run["anchors"]
                                                   for c in codecs) + " |")
        means = []
        for a in run["anchors"]:
            for c in codecs:
                m, n = _mean([e for e in res["bd"][a] if e["codec"] == c.name])
                means.append("n/a" if m is None else f"**{m:+.1f} %** ({n} clips)")
        lines += ["| mean | " + " | ".join(means) + " |", ""]
        lines += ["bpp / PSNR-YUV at each q:", "", "| clip | codec | " +
                  " | ".join(f"q {q}" for q in run["qualities"]) + " |",
                  "|---|---|" + "---|" * len(run["qualities"])]
        for clip in clips:
            for c in codecs:
                pts = {p["point"]: p for p in res["points"] if p["clip"] == clip and p["codec"] == c.name}
                lines.append(f"| {clip} | {c.name} | " + " | ".join(
                    f"{pts[q]['bpp']:.4f} / {pts[q]['psnr_yuv']:.2f}" for q in run["qualities"]) + " |")
        top = max(run["qualities"])
        for c in codecs:
            vals = [p["psnr_yuv"] for p in res["points"] if p["codec"] == c.name and p["point"] == top]
            lines.append(f"\n{c.name} at q {top}: mean PSNR-YUV {sum(vals) / len(vals):.2f} dB over "
                         f"{len(vals)} clips.")
        lines.append("")
    (BENCH / "residual.md").write_text("\n".join(lines) + "\n")
    (BENCH / "residual.json").write_text(json.dumps(out, indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main(*sys.argv[1:])
