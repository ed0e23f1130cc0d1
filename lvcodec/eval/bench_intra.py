"""`python -m lvcodec.eval.bench_intra TESTSET --out benchmarks`: all-intra lvc against x264
(keyint=1) and JPEG on the first frames of every clip, plus lvc's coding speed at 640×360.

Writes OUT/intra.md, intra.csv, intra.json, intra_rd.png; the per-clip details and the point cache
are in OUT/bench_ip1/ (shared with `python -m lvcodec.eval.bench --intra-period 1`).
"""

import json
import shutil
import time
from pathlib import Path

import click

from lvcodec.cli_options import device_option
from lvcodec.eval._script import (
    average_by_quality, mean_bd_rate, run_script, testset_clips, update_model_card,
)
from lvcodec.eval.cli import parse_points

ANCHORS = ["x264-medium", "jpeg"]
SPEED_SIZE = (640, 360)


def lvc_speed(codec, clip, quality: int, frames: int) -> dict:
    """Frames per second of lvc's file API at 640×360 on `frames` frames.

    encode_file/decode_file load the model on every call, so two figures: the file API's overall
    rate, and a steady-state rate that takes the 1-frame run's time as the fixed cost.
    """
    from lvcodec.eval.clips import fit_frames, make_clip

    w, h = SPEED_SIZE
    src = clip.frames[:frames]
    if (clip.info.width, clip.info.height) != (w, h):
        src = fit_frames(src, w, h)
    full = make_clip(clip.name, src, clip.info.fps_num, clip.info.fps_den)
    one = make_clip(clip.name, src[:1], clip.info.fps_num, clip.info.fps_den)
    r1 = codec.encode_decode(one.frames, one.info, quality, 1)
    rn = codec.encode_decode(full.frames, full.info, quality, 1)
    n = len(src)
    out = {"clip": clip.name, "source_size": f"{clip.info.width}x{clip.info.height}",
           "width": w, "height": h, "frames": n, "quality": quality,
           "device": codec.device, "encode_fps": n / rn.encode_s, "decode_fps": n / rn.decode_s,
           "encode_fps_steady": None, "decode_fps_steady": None}
    if n > 1 and rn.encode_s > r1.encode_s and rn.decode_s > r1.decode_s:
        out["encode_fps_steady"] = (n - 1) / (rn.encode_s - r1.encode_s)
        out["decode_fps_steady"] = (n - 1) / (rn.decode_s - r1.decode_s)
    return out


def _md(res, speed, meta) -> str:
    from lvcodec.eval.report import bd_markdown

    clips = list(dict.fromkeys(r["clip"] for r in res["points"]))
    lines = ["# All-intra: lvc vs x264 (keyint=1) and JPEG", ""]
    lines += [f"- {k}: {v}" for k, v in meta.items()] + [""]
    lines += ["Every codec codes every frame as an intra frame. Rate = whole file bits per pixel; "
              "quality = PSNR-YUV 6:1:1 averaged over frames. Per-clip points, MS-SSIM, timings "
              "and RD plots: [bench_ip1/summary.md](bench_ip1/summary.md); "
              "average RD curve: ![RD](intra_rd.png)", ""]
    for anchor, entries in res["bd"].items():
        lines += bd_markdown([e for e in entries if e["codec"] == "lvc"], clips, anchor)
    lines += ["## lvc speed at 640×360", "",
              "| clip | frames | quality | device | encode fps | decode fps | "
              "encode fps (steady) | decode fps (steady) |", "|---|---|---|---|---|---|---|---|"]
    f = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
    lines.append(f"| {speed['clip']} (from {speed['source_size']}) | {speed['frames']} | "
                 f"{speed['quality']} | {speed['device']} "
                 f"| {f(speed['encode_fps'])} | {f(speed['decode_fps'])} | "
                 f"{f(speed['encode_fps_steady'])} | {f(speed['decode_fps_steady'])} |")
    lines += ["", "Encode/decode fps: lvc's file API on the whole clip, model loading and file I/O "
              "included; steady: the time beyond a 1-frame run, per extra frame. The clip is "
              "scaled to cover 640×360 and centre-cropped if it is not that size.", ""]
    return "\n".join(lines)


@click.command("bench_intra")
@click.argument("testset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=Path("benchmarks"),
              show_default=True)
@click.option("--frames", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--qualities", default="0,16,32,48,63", show_default=True, help="lvc quality indices.")
@click.option("--speed-quality", type=click.IntRange(0, 63), default=32, show_default=True)
@click.option("--model", default=None, help="lvc model [default: lvc-base].")
@device_option("cpu")
@click.option("--record/--no-record", default=True, show_default=True,
              help="Write lvc's measured points into its model card (models/NAME.json).")
def bench_intra(testset, out, frames, qualities, speed_quality, model, device, record):
    """All-intra benchmark of every clip in TESTSET."""
    from lvcodec.eval.lvc_codec import LvcCodec
    from lvcodec.eval.runner import evaluate

    lvc = LvcCodec(model=model, device=device)
    clips = testset_clips(testset, frames)
    res = evaluate(clips, [lvc, *ANCHORS], {"lvc": parse_points(qualities, "--qualities")},
                   frames=frames, intra_period=1, out_dir=out / "bench_ip1", anchor_for_bd=ANCHORS,
                   meta={"test set": str(testset)})
    # The 640×360 clip if there is one, so the speed is measured on real content of that size.
    pick = next((c for c in clips if (c.info.width, c.info.height) == SPEED_SIZE), clips[0])
    speed = lvc_speed(lvc, pick, speed_quality, frames)
    meta = {"test set": str(testset), "frames per clip": frames, "lvc model": lvc.version(),
            "date": time.strftime("%Y-%m-%d %H:%M")}
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out / "bench_ip1" / "points.csv", out / "intra.csv")
    shutil.copyfile(out / "bench_ip1" / "rd_average.png", out / "intra_rd.png")
    (out / "intra.json").write_text(json.dumps(
        {"meta": meta, "points": res["points"], "bd": res["bd"], "speed": speed}, indent=1) + "\n")
    (out / "intra.md").write_text(_md(res, speed, meta))
    click.echo(f"-> {out / 'intra.md'}")
    if record:
        card = record_measured(lvc, res, speed, meta)
        if card:
            click.echo(f"-> measured points recorded in {card}")


def record_measured(lvc, res, speed, meta):
    """Write lvc's measured all-intra points into its model card ("measured")."""
    pts = [r for r in res["points"] if r["codec"] == "lvc"]
    return update_model_card(lvc.model, "measured", {
        "test set": "../shared/testset (every clip, first %d frames, all-intra)" % meta["frames per clip"],
        "date": meta["date"],
        "average over clips": average_by_quality(res["points"], "lvc", ("bpp", "psnr_y", "psnr_yuv")),
        "per clip": [{"clip": r["clip"], "quality": r["point"], "bpp": round(r["bpp"], 4),
                      "psnr_yuv": round(r["psnr_yuv"], 3)} for r in pts],
        "bd_rate_percent_vs": mean_bd_rate(res["bd"]),
        "speed_640x360_cpu": speed,
        "source": "make bench (benchmarks/intra.md)",
    })

if __name__ == "__main__":
    run_script(bench_intra)
