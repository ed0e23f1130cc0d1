"""What the residual layer (codec/residual.py, docs/bitstream.md §4.7) and its block-motion
prediction (codec/block_motion.py, §4.8) buy, against x264 and x265 medium, same model, same
run, in

* all-intra: the first 8 frames of each test clip, q 0/16/32/48/63 (bench_intra's points; its
  cache seeds this one, whose x264 anchor is all-intra): lvc with and without the residual
  layer (`--no-residual`);
* random access: the first 9 frames, GOP 8, intra period 32, `--downsample off`, the default
  preset (medium), q 0/16/32/48/63 (as ra_vs_x264.py, and q 0; bench_learning's cache seeds
  this one):
  lvc with and without the block-motion prediction (`--no-block-motion`).

The runs' caches and per-clip reports go to out/residual/ (not committed).

    lvc bench residual     # or: python -m lvcodec.eval.bench_residual TESTSET [--runs all-intra]

Measures the runs named (default both) into OUT/residual.json, keeping the others' last
measurement (each names its model and date), and writes OUT/residual.md from it.
"""

import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

import click

from lvcodec.codec import residual
from lvcodec.codec.config import EncoderConfig
from lvcodec.eval._script import run_script, testset_clips
from lvcodec.eval.lvc_codec import LvcCodec
from lvcodec.eval.runner import evaluate

RUNS = {
    "all-intra": dict(frames=8, intra_period=1, config=EncoderConfig(intra_period=1),
                      qualities=[0, 16, 32, 48, 63], cache="bench_ip1", anchors=["x264-medium"],
                      variants={"lvc": {}, "lvc-no-residual": {"residual": False}}),
    "random access": dict(frames=9, intra_period=32,
                          config=EncoderConfig(gop=8, downsample="off"),
                          qualities=[0, 16, 32, 48, 63], cache="bench_learning_ra",
                          anchors=["x264-medium", "x265-medium"],
                          variants={"lvc": {}, "lvc-no-block-motion": {"block_motion": False}}),
}


def _mean(rows):
    vals = [r["bd_rate"] for r in rows if r["bd_rate"] is not None]
    return (sum(vals) / len(vals), len(vals)) if vals else (None, 0)


def _measure(testset, model, run, bench: Path) -> dict:
    codecs = [LvcCodec(model=model, name=name, config=replace(run["config"], **change))
              for name, change in run["variants"].items()]
    cache = Path("out/residual") / run["cache"]
    seed = bench / run["cache"] / "points.jsonl"
    if not (cache / "points.jsonl").exists() and seed.exists():
        cache.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(seed, cache / "points.jsonl")
    res = evaluate(testset_clips(Path(testset), run["frames"]), [*codecs, *run["anchors"]],
                   {c.name: run["qualities"] for c in codecs}, frames=run["frames"],
                   intra_period=run["intra_period"], out_dir=cache,
                   anchor_for_bd=run["anchors"], meta={"test set": str(testset)})
    return {"date": time.strftime("%Y-%m-%d %H:%M"), "model": codecs[0].version(),
            "anchor_lambda_scale": residual.LAMBDA_SCALES["anchor"],
            "b_lambda_scale": residual.LAMBDA_SCALES["b"],
            "intra_lambda_scale": residual.LAMBDA_SCALES["intra"],
            "points": [p for p in res["points"] if p["codec"].startswith("lvc")], "bd": res["bd"]}


def _scales(name, m) -> str:
    """The residual λ scales a run was measured with (codec/residual.py)."""
    rest = m.get("b_lambda_scale")  # the B frames' in random access
    if rest is None:  # before the scales of the other frames: random access's anchors only
        if name == "all-intra":
            return "the residual λ ×1"
        return f"the anchors' residual λ ×{m['anchor_lambda_scale']:g}"
    if name == "all-intra":
        return f"the residual λ ×{m.get('intra_lambda_scale', 1):g} (codec/residual.py LAMBDA_SCALES)"
    return (f"the residual λ ×{m['anchor_lambda_scale']:g} for the anchors, ×{rest:g} for the "
            "B frames (codec/residual.py LAMBDA_SCALES)")


def _section(name, run, m) -> list:
    names = list(dict.fromkeys(p["codec"] for p in m["points"]))
    lines = [f"## {name} ({run['frames']} frames, q {', '.join(map(str, run['qualities']))})", "",
             f"Measured {m['date']}, model {m['model'][:25]}…, {_scales(name, m)}.", "",
             "| clip | " + " | ".join(f"{c} vs {a}" for a in run["anchors"] for c in names) + " |",
             "|---|" + "---:|" * (len(names) * len(run["anchors"]))]
    clips = sorted({p["clip"] for p in m["points"]})

    def cell(a, c, clip):
        e = next(e for e in m["bd"][a] if e["codec"] == c and e["clip"] == clip)
        return "no overlap" if e["bd_rate"] is None else f"{e['bd_rate']:+.1f} %"

    for clip in clips:
        lines.append(f"| {clip} | " + " | ".join(cell(a, c, clip) for a in run["anchors"]
                                               for c in names) + " |")
    means = []
    for a in run["anchors"]:
        for c in names:
            mean, n = _mean([e for e in m["bd"][a] if e["codec"] == c])
            means.append("n/a" if mean is None else f"**{mean:+.1f} %** ({n} clips)")
    lines += ["| mean | " + " | ".join(means) + " |", "", "bpp / PSNR-YUV at each q:", "",
              "| clip | codec | " + " | ".join(f"q {q}" for q in run["qualities"]) + " |",
              "|---|---|" + "---|" * len(run["qualities"])]
    for clip in clips:
        for c in names:
            pts = {p["point"]: p for p in m["points"] if p["clip"] == clip and p["codec"] == c}
            lines.append(f"| {clip} | {c} | " + " | ".join(
                f"{pts[q]['bpp']:.4f} / {pts[q]['psnr_yuv']:.2f}" for q in run["qualities"]) + " |")
    top = max(run["qualities"])
    for c in names:
        vals = [p["psnr_yuv"] for p in m["points"] if p["codec"] == c and p["point"] == top]
        lines.append(f"\n{c} at q {top}: mean PSNR-YUV {sum(vals) / len(vals):.2f} dB over "
                     f"{len(vals)} clips.")
    return lines + [""]


@click.command("bench_residual")
@click.argument("testset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=Path("benchmarks"), show_default=True)
@click.option("--model", default="lvc-base", show_default=True)
@click.option("--runs", default=",".join(RUNS), show_default=True,
              help="Comma-separated; the others keep their last measurement.")
def bench_residual(testset, out, model, runs):
    """lvc with its residual layer and block motion against x264 and x265 medium."""
    unknown = [r for r in filter(None, runs.split(",")) if r not in RUNS]
    if unknown:
        raise click.BadParameter(f"no run {unknown[0]!r} (one of {', '.join(RUNS)})", param_hint="--runs")
    path = out / "residual.json"
    result = json.loads(path.read_text()) if path.exists() else {"runs": {}}
    for name in filter(None, runs.split(",")):
        result["runs"][name] = _measure(testset, model, RUNS[name], out)
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    lines = ["# The residual layer against x264 and x265", "",
             "`lvc bench residual`. "
             "`lvc`: the default encoder, whose frames carry a transform-coded residual layer "
             "where it lowers rate + λ·distortion (docs/bitstream.md §4.7), in P and B frames "
             "on a block-motion prediction from the reference pictures where that costs less "
             "(§4.8); `lvc-no-residual`: the same with `--no-residual` (the nets' pictures "
             "alone); `lvc-no-block-motion`: with `--no-block-motion` (format 5.0's encoder), "
             "each in the same run as `lvc`. Rate = "
             "whole file; quality = PSNR-YUV 6:1:1 averaged over frames; BD-rate over the PSNR "
             "range where both curves exist (negative: fewer bits than the anchor).", ""]
    for name, run in RUNS.items():
        if name in result["runs"]:
            lines += _section(name, run, result["runs"][name])
    (out / "residual.md").write_text("\n".join(lines) + "\n")
    click.echo("\n".join(lines))


if __name__ == "__main__":
    run_script(bench_residual)
