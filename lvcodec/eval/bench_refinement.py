"""`python -m lvcodec.eval.bench_refinement TESTSET --out benchmarks`: what each --preset buys.

The same model coded at --preset fast (the analysis transforms' latents as they are), medium
(the latents of random access's anchors, its I and P frames, refined against their own
rate-distortion cost, codec/refine.py) and slow (every frame's, plus a motion search), with x264
medium as the common anchor, in two parts: all-intra on the first frame of every clip (fast and
slow: medium refines only the anchors of random access), and random access (B frames at full
scale) on the clips of --ra-clips (slow costs many times the encode time: on two CPU cores the
test set's larger clips take hours). BD-rate against fast, and encode-time ratios (meaningful
between points measured in one run: cached points keep their own run's times). Writes
OUT/refinement.md and refinement.json; points in OUT/bench_refinement/.
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


def _part_md(title, res, speed) -> list:
    from lvcodec.eval.report import bd_markdown

    clips = list(dict.fromkeys(r["clip"] for r in res["points"]))
    base = speed["lvc-fast"]
    lines = [f"## {title}", ""]
    for anchor, entries in res["bd"].items():
        lines += bd_markdown([e for e in entries if e["codec"] != anchor], clips, anchor)
    lines += ["Encoder time, summed over the points as each was measured (a point from the cache "
              "keeps the time of the run that measured it: compare times of points measured "
              "together, under the same load):", "",
              "| codec | encode s (all points) | decode s | encode time vs lvc-fast |", "|---|---:|---:|---:|"]
    for name, s in speed.items():
        ratio = s["encode_s"] / base["encode_s"] if base["encode_s"] else None
        lines.append(f"| {name} | {s['encode_s']} | {s['decode_s']} | "
                     f"{'' if ratio is None else f'×{ratio:.2f}'} |")
    lines += ["", "Decoding does the same work at every preset; its times differ with the rate and "
              "the machine's load.", ""]
    return lines


def _md(parts, meta) -> str:
    lines = ["# Encoder effort: --preset fast, medium (the default) and slow", ""]
    lines += [f"- {k}: {v}" for k, v in meta.items()] + [""]
    lines += ["`lvc-fast`, `lvc` and `lvc-slow` are `--preset fast`, `medium` and `slow`. A refined "
              "frame's latents y and z take Adam steps against λ·255²·MSE-YUV + bits per pixel "
              "through the frozen synthesis and entropy model, rounding straight-through with the "
              "coder's own mean grid and scale table, the best step kept; slow also codes each "
              "P/B frame without motion and keeps the cheaper. Same model, same decoder, same "
              "bitstream syntax. Rate = whole file; quality = PSNR-YUV 6:1:1 averaged over "
              "frames. Points: [bench_refinement/summary.md](bench_refinement/summary.md), "
              "[bench_refinement_ai/summary.md](bench_refinement_ai/summary.md).", ""]
    for title, (res, speed) in parts.items():
        lines += _part_md(title, res, speed)
    return "\n".join(lines)


@click.command("bench_refinement")
@random_access_options
@click.option("--ra-clips", default="foreman_176x144", show_default=True,
              help="Clips of the random-access part (comma-separated names; '' for none).")
@click.option("--intra-qualities", default="0,16,32,48,63", show_default=True)
@click.option("--model", default=None, help="lvc model [default: lvc-base].")
def bench_refinement(testset, out, frames, intra_period, gop, qualities, ra_clips,
                     intra_qualities, model):
    """--preset fast vs medium vs slow on the clips of TESTSET."""
    from lvcodec.eval.lvc_codec import LvcCodec
    from lvcodec.eval.runner import evaluate

    names = {"fast": "lvc-fast", "medium": "lvc", "slow": "lvc-slow"}

    def codecs(presets, **kw):
        return [LvcCodec(model=model, name=names[p], config=EncoderConfig(**kw, preset=p))
                for p in presets]

    def run(inputs, lvcs, qs, frames, intra_period, folder):
        qs = parse_points(qs, "--qualities")
        res = evaluate(inputs, [*lvcs, ANCHOR], {c.name: qs for c in lvcs}, frames=frames,
                       intra_period=intra_period, out_dir=out / folder,
                       anchor_for_bd=["lvc-fast", ANCHOR], meta={"test set": str(testset)})
        return res, {c.name: _speed(res["points"], c.name) for c in lvcs}

    intra = codecs(("fast", "slow"), intra_period=1)
    parts = {"All-intra (first frame of every clip; medium codes all-intra as fast does)":
             run(testset_clips(testset, 1), intra, intra_qualities, 1, 1, "bench_refinement_ai")}
    wanted = [c.strip() for c in ra_clips.split(",") if c.strip()]
    if wanted:
        inputs = [c for c in testset_clips(testset, frames) if c.name in wanted]
        if len(inputs) != len(wanted):
            raise click.BadParameter(f"no such clips in {testset}: "
                                     f"{sorted(set(wanted) - {c.name for c in inputs})}")
        title = (f"Random access ({', '.join(wanted)}: {frames} frames, GOP {gop}, "
                 f"intra period {intra_period}, B frames at full scale)")
        parts[title] = run(inputs, codecs(names, gop=gop, downsample="off"), qualities, frames,
                           intra_period, "bench_refinement")
    meta = {"test set": str(testset), "lvc model": intra[0].version(),
            **{f"--preset {p}": f"refinement steps per frame {PRESETS[p]['steps'] or 'none'}, "
                                f"motions {', '.join(PRESETS[p]['motion'])}" for p in names},
            "date": time.strftime("%Y-%m-%d %H:%M")}
    out.mkdir(parents=True, exist_ok=True)
    (out / "refinement.json").write_text(json.dumps(
        {"meta": meta, "parts": {t: {"bd": r["bd"], "speed": sp,
                                     "mean_bd_rate_vs_fast": {n: mean_bd_rate(r["bd"], n)
                                                              for n in sp if n != "lvc-fast"}}
                                 for t, (r, sp) in parts.items()}}, indent=1) + "\n")
    (out / "refinement.md").write_text(_md(parts, meta))
    click.echo(f"-> {out / 'refinement.md'}")


if __name__ == "__main__":
    run_script(bench_refinement)
