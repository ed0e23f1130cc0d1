"""`python -m lvcodec.eval.bench_bframes TESTSET --out benchmarks`: random access with B frames.

lvc random access (hierarchical B, `--gop`, intra period 32) against lvc low-delay P (same model,
same intra period), and x264 / x265 medium with their default B frames and the same keyint, on
the first 33 frames of every clip (I frames at 0 and 32); plus PSNR by frame index (the
hierarchy's quality pattern) and speed. Writes OUT/bframes.md, bframes.json, bframes_rd.png,
bframes_frames.png; details in OUT/bench_ra/.
"""

import json
import shutil
import time

import click

from lvcodec.cli_options import device_option

from lvcodec.codec.config import EncoderConfig
from lvcodec.eval._script import (
    average_by_quality, mean_bd_rate, random_access_options, run_script, testset_clips,
    update_model_card,
)
from lvcodec.eval.bench_inter import drift_table, frame_and_speed_tables, plot_drift, speed_of
from lvcodec.eval.cli import parse_points

ANCHORS = ["x264-medium", "x265-medium"]  # their defaults: B frames on (3 and 4), as x264/x265 ship


def _md(res, by_frame, speed, meta) -> str:
    from lvcodec.eval.report import bd_markdown

    rows = res["points"]
    clips = list(dict.fromkeys(r["clip"] for r in rows))
    lines = ["# Random access: lvc B frames vs lvc low-delay, x264 and x265", ""]
    lines += [f"- {k}: {v}" for k, v in meta.items()] + [""]
    lines += [f"`lvc-ra` codes random access: anchors every {meta['gop']} frames (I at the intra "
              f"period {meta['intra period']}, else P), hierarchical B frames between them, the "
              "quality index lowered by "
              f"{meta['quality step per layer']} per temporal layer. `lvc` is the same model in "
              "low delay (I P P P …). `x264-medium` and `x265-medium` keep their default B frames "
              "(3 and 4, adaptive), with the same keyint and scenecut off. Rate = whole file bits "
              "per pixel; quality = PSNR-YUV 6:1:1 averaged over frames. Per-clip points and RD "
              "plots: [bench_ra/summary.md](bench_ra/summary.md); average RD: "
              "![RD](bframes_rd.png)", ""]
    for anchor, entries in res["bd"].items():
        lines += bd_markdown([e for e in entries if e["codec"] != anchor], clips, anchor)
    lines += ["## PSNR by frame index", "",
              "Mean PSNR-YUV (dB) over the clips at each display index (foreman has 10 frames). "
              "![frames](bframes_frames.png)", ""]
    return "\n".join(lines + frame_and_speed_tables(by_frame, speed))


@click.command("bench_bframes")
@random_access_options
@click.option("--model", default=None, help="lvc model [default: lvc-base].")
@device_option("cpu")
def bench_bframes(testset, out, frames, intra_period, gop, qualities, model, device):
    """Random-access benchmark of every clip in TESTSET."""
    from lvcodec.codec.gop import QUALITY_STEP_PER_LAYER
    from lvcodec.eval.lvc_codec import LvcCodec
    from lvcodec.eval.runner import evaluate

    lvc_ra = LvcCodec(model=model, device=device, name="lvc-ra",
                      config=EncoderConfig(gop=gop, downsample="off"))
    lvc_ld = LvcCodec(model=model, device=device, config=EncoderConfig(gop=1))
    qs = parse_points(qualities, "--qualities")
    out_dir = out / "bench_ra"
    res = evaluate(testset_clips(testset, frames), [lvc_ra, lvc_ld, *ANCHORS],
                   {"lvc-ra": qs, "lvc": qs}, frames=frames, intra_period=intra_period,
                   out_dir=out_dir, anchor_for_bd=["lvc", *ANCHORS],
                   meta={"test set": str(testset)})
    codecs = ["lvc-ra", "lvc", *ANCHORS]
    by_frame = drift_table(res["points"], ["lvc-ra", "lvc"])
    speed = {c: speed_of(res["points"], c) for c in codecs}
    meta = {"test set": str(testset), "frames per clip": frames, "intra period": intra_period,
            "gop": gop, "quality step per layer": QUALITY_STEP_PER_LAYER,
            "lvc model": lvc_ra.version(), "date": time.strftime("%Y-%m-%d %H:%M")}
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out_dir / "rd_average.png", out / "bframes_rd.png")
    plot_drift(by_frame, out / "bframes_frames.png", xlabel="display index (I at 0 and 32)")
    (out / "bframes.json").write_text(json.dumps(
        {"meta": meta, "bd": res["bd"], "by_frame": by_frame, "speed": speed}, indent=1) + "\n")
    (out / "bframes.md").write_text(_md(res, by_frame, speed, meta))
    click.echo(f"-> {out / 'bframes.md'}")
    card = update_model_card(lvc_ra.model, "measured_bi", {
        "test set": f"../shared/testset (every clip, first {frames} frames, intra period "
                    f"{intra_period}, GOP {gop})",
        "date": meta["date"],
        "average over clips": {c: average_by_quality(res["points"], c) for c in ("lvc-ra", "lvc")},
        "bd_rate_percent_of_lvc_ra_vs": mean_bd_rate(res["bd"], "lvc-ra"),
        "speed_cpu": speed.get("lvc-ra", {}),
        "source": "make bench (benchmarks/bframes.md)",
    })
    if card:
        click.echo(f"-> random-access points recorded in {card}")


if __name__ == "__main__":
    run_script(bench_bframes)
