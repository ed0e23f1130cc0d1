"""`python -m lvcodec.eval.bench_refinement TESTSET --out benchmarks`: what --preset slow buys.

The same model in random access (B frames at full scale) coded at --preset medium (the analysis
transforms' latents as they are) and --preset slow (every frame's latents refined against its own
rate-distortion cost, codec/refine.py), with x264 medium as the common anchor; BD-rate of slow
against medium, and the encode-time ratio measured in the same run. Writes OUT/refinement.md and
refinement.json; points in OUT/bench_refinement/.
"""

import json
import time

import click

from lvcodec.codec.config import PRESETS, EncoderConfig
from lvcodec.eval._script import mean_bd_rate, random_access_options, run_script, testset_clips
from lvcodec.eval.cli import parse_points

ANCHOR = "x264-medium"


def _speed(rows, codec):
    at = [r for r in rows if r["codec"] == codec]
    return {"encode_s": round(sum(r["encode_s"] for r in at), 1),
            "decode_s": round(sum(r["decode_s"] for r in at), 1)}


def _md(res, meta, speed) -> str:
    from lvcodec.eval.report import bd_markdown

    clips = list(dict.fromkeys(r["clip"] for r in res["points"]))
    base, slow = speed["lvc"], speed["lvc-slow"]
    lines = ["# Encoder effort: latent refinement (--preset slow)", ""]
    lines += [f"- {k}: {v}" for k, v in meta.items()] + [""]
    lines += [f"`lvc` is `--preset medium`, `lvc-slow` is `--preset slow`: {PRESETS['slow']} Adam "
              "steps per frame on its latents y and z against λ·255²·MSE-YUV + bits per pixel "
              "through the frozen synthesis and entropy model, rounding straight-through with the "
              "coder's own mean grid and scale table, the best step kept. Same model, same "
              "decoder, same bitstream syntax. Rate = whole file; quality = PSNR-YUV 6:1:1 "
              "averaged over frames. Points: [bench_refinement/summary.md]"
              "(bench_refinement/summary.md).", ""]
    for anchor, entries in res["bd"].items():
        lines += bd_markdown([e for e in entries if e["codec"] != anchor], clips, anchor)
    lines += ["## Encoder time (same run, same machine)", "",
              "| codec | encode s (all points) | decode s | encode time vs lvc |", "|---|---:|---:|---:|"]
    for name, s in speed.items():
        ratio = s["encode_s"] / base["encode_s"] if base["encode_s"] else None
        lines.append(f"| {name} | {s['encode_s']} | {s['decode_s']} | "
                     f"{'' if ratio is None else f'×{ratio:.1f}'} |")
    lines += ["", f"Decoding takes the same time ({slow['decode_s']} s against {base['decode_s']} "
              "s): the decoder does the same work.", ""]
    return "\n".join(lines)


@click.command("bench_refinement")
@random_access_options
@click.option("--clips", help="Only these clips (comma-separated names, e.g. foreman_176x144).")
@click.option("--model", default=None, help="lvc model [default: lvc-base].")
def bench_refinement(testset, out, frames, intra_period, gop, qualities, clips, model):
    """--preset medium vs slow on the clips of TESTSET."""
    from lvcodec.eval.lvc_codec import LvcCodec
    from lvcodec.eval.runner import evaluate

    config = EncoderConfig(gop=gop, downsample="off")
    codecs = [LvcCodec(model=model, name="lvc", config=config),
              LvcCodec(model=model, name="lvc-slow", config=EncoderConfig(
                  gop=gop, downsample="off", preset="slow"))]
    inputs = testset_clips(testset, frames)
    if clips:
        wanted = {c.strip() for c in clips.split(",")}
        inputs = [c for c in inputs if c.name in wanted]
        if len(inputs) != len(wanted):
            raise click.BadParameter(f"no such clips in {testset}: "
                                     f"{sorted(wanted - {c.name for c in inputs})}")
    qs = parse_points(qualities, "--qualities")
    res = evaluate(inputs, [*codecs, ANCHOR], {"lvc": qs, "lvc-slow": qs}, frames=frames,
                   intra_period=intra_period, out_dir=out / "bench_refinement",
                   anchor_for_bd=["lvc", ANCHOR], meta={"test set": str(testset)})
    speed = {c: _speed(res["points"], c) for c in ("lvc", "lvc-slow")}
    meta = {"test set": str(testset), "clips": ", ".join(c.name for c in inputs),
            "frames per clip": frames, "intra period": intra_period, "gop": gop,
            "qualities": qualities, "lvc model": codecs[0].version(),
            "date": time.strftime("%Y-%m-%d %H:%M")}
    out.mkdir(parents=True, exist_ok=True)
    (out / "refinement.json").write_text(json.dumps(
        {"meta": meta, "bd": res["bd"], "mean_bd_rate_of_slow": mean_bd_rate(res["bd"], "lvc-slow"),
         "speed": speed}, indent=1) + "\n")
    (out / "refinement.md").write_text(_md(res, meta, speed))
    click.echo(f"-> {out / 'refinement.md'}")


if __name__ == "__main__":
    run_script(bench_refinement)
