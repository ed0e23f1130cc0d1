"""`python -m lvcodec.eval.bench_inter TESTSET --out benchmarks`: low-delay P coding.

lvc low-delay (I P P P …, intra period 32) against lvc all-intra, x264 medium and x265 medium
with the same keyint (B frames off for the anchors: they code low-delay P too), on the first 32
frames of every clip; plus PSNR per frame index (drift over the intra period) and speed.

Writes OUT/inter.md, inter.json, inter_rd.png, inter_drift.png; details in OUT/bench_ip32/.
"""

import json
import shutil
import time
from pathlib import Path

import click
import numpy as np

from lvcodec.cli_options import device_option
from lvcodec.codec.config import EncoderConfig
from lvcodec.eval._script import (
    average_by_quality, mean_bd_rate, run_script, testset_clips, update_model_card,
)
from lvcodec.eval.cli import parse_points

# Low-delay anchors (no B frames) first: the like-for-like comparison; then the defaults, whose
# B frames show what random access (issue: B frames) is up against.
ANCHORS = ["x264-medium-ldp", "x265-medium-ldp", "x264-medium", "x265-medium"]


def drift_table(rows, codecs) -> dict:
    """{codec: {point: [mean PSNR-YUV at frame index i over the clips that have frame i]}}."""
    out = {}
    for codec in codecs:
        for p in sorted({r["point"] for r in rows if r["codec"] == codec}):
            per_clip = [r["psnr_yuv_frames"] for r in rows
                        if r["codec"] == codec and r["point"] == p and r.get("psnr_yuv_frames")]
            if not per_clip:
                continue
            n = max(map(len, per_clip))
            out.setdefault(codec, {})[p] = [
                float(np.mean([c[i] for c in per_clip if len(c) > i])) for i in range(n)]
    return out


def speed_of(rows, codec) -> dict:
    at = [r for r in rows if r["codec"] == codec and (r["width"], r["height"]) == (640, 360)]
    if not at:
        return {}
    frames = sum(r["frames"] for r in at)
    return {"clips": len({r["clip"] for r in at}), "points": len(at),
            "encode_fps": frames / sum(r["encode_s"] for r in at),
            "decode_fps": frames / sum(r["decode_s"] for r in at),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in at if r.get("peak_rss_mb") is not None)}


def plot_drift(drift, path: Path, xlabel: str = "frame index (I frame at 0)") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for codec, by_point in drift.items():
        for p, ys in by_point.items():
            ax.plot(range(len(ys)), ys, label=f"{codec} {p}", lw=1,
                    ls="-" if codec.startswith("lvc") else "--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("PSNR-YUV (dB), mean over clips")
    ax.legend(fontsize=6, ncol=3)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _md(res, drift, speed, meta) -> str:
    from lvcodec.eval.report import bd_markdown

    rows = res["points"]
    clips = list(dict.fromkeys(r["clip"] for r in rows))
    lines = ["# Low-delay P: lvc vs lvc all-intra, x264 and x265", ""]
    lines += [f"- {k}: {v}" for k, v in meta.items()] + [""]
    ip = meta["intra period"]
    lines += [f"`lvc` codes I P P P … with an I frame every {ip} frames; `lvc-intra` is the same "
              "model with every frame intra. `x264-medium-ldp` and `x265-medium-ldp` (medium, "
              "`bframes=0`, the same keyint, scenecut off) code low-delay P as well; plain "
              "`x264-medium` and `x265-medium` keep their default B frames (for reference). Rate = "
              "whole file bits per pixel; quality = PSNR-YUV 6:1:1 averaged over frames. Per-clip "
              f"points and RD plots: [bench_ip{ip}/summary.md](bench_ip{ip}/summary.md); "
              "average RD: ![RD](inter_rd.png)", ""]
    for anchor, entries in res["bd"].items():
        lines += bd_markdown([e for e in entries if e["codec"] != anchor], clips, anchor)
    lines += ["## Drift over the intra period", "",
              "Mean PSNR-YUV (dB) over the clips at each frame index (foreman has 10 frames; the "
              "later indices average the four 33-frame clips). ![drift](inter_drift.png)", ""]
    return "\n".join(lines + frame_and_speed_tables(drift, speed))


def frame_and_speed_tables(by_frame, speed) -> list:
    """Markdown lines: PSNR-YUV by frame index per (codec, point), then the speed table."""
    cols = [(c, p) for c in by_frame for p in by_frame[c]]
    lines = ["| frame | " + " | ".join(f"{c} {p}" for c, p in cols) + " |",
             "|---" * (len(cols) + 1) + "|"]
    n = max(len(by_frame[c][p]) for c, p in cols)
    for i in range(n):
        cells = [f"{by_frame[c][p][i]:.2f}" if i < len(by_frame[c][p]) else "–" for c, p in cols]
        lines.append(f"| {i} | " + " | ".join(cells) + " |")
    lines += ["", "## Speed (640×360 clips, all points, this machine's CPU)", "",
              "| codec | encode fps | decode fps | peak RSS (MiB) |", "|---|---|---|---|"]
    for codec, s in speed.items():
        if s:
            lines.append(f"| {codec} | {s['encode_fps']:.2f} | {s['decode_fps']:.2f} | "
                         f"{s['peak_rss_mb']:.0f} |")
    return lines + ["", "fps: wall-clock frames per second of the whole file API (model loading "
                    "and file I/O included) or of PyAV for the anchors, in the same run.", ""]


@click.command("bench_inter")
@click.argument("testset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=Path("benchmarks"),
              show_default=True)
@click.option("--frames", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--intra-period", type=click.IntRange(min=2), default=32, show_default=True)
@click.option("--qualities", default="0,21,42,63", show_default=True, help="lvc quality indices.")
@click.option("--model", default=None, help="lvc model [default: lvc-base].")
@device_option("cpu")
def bench_inter(testset, out, frames, intra_period, qualities, model, device):
    """Low-delay benchmark of every clip in TESTSET."""
    from lvcodec.eval.lvc_codec import LvcCodec
    from lvcodec.eval.runner import evaluate

    lvc = LvcCodec(model=model, device=device, config=EncoderConfig(gop=1))  # low-delay P
    lvc_intra = LvcCodec(model=model, device=device, name="lvc-intra", intra_period=1)
    qs = parse_points(qualities, "--qualities")
    out_dir = out / f"bench_ip{intra_period}"
    res = evaluate(testset_clips(testset, frames), [lvc, lvc_intra, *ANCHORS],
                   {"lvc": qs, "lvc-intra": qs}, frames=frames, intra_period=intra_period,
                   out_dir=out_dir, anchor_for_bd=["lvc-intra", *ANCHORS[:3]],
                   meta={"test set": str(testset)})
    codecs = ["lvc", "lvc-intra", *ANCHORS]
    drift = drift_table(res["points"], ["lvc", "x264-medium-ldp"])
    speed = {c: speed_of(res["points"], c) for c in codecs}
    meta = {"test set": str(testset), "frames per clip": frames, "intra period": intra_period,
            "lvc model": lvc.version(), "date": time.strftime("%Y-%m-%d %H:%M")}
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out_dir / "rd_average.png", out / "inter_rd.png")
    plot_drift(drift, out / "inter_drift.png")
    (out / "inter.json").write_text(json.dumps(
        {"meta": meta, "bd": res["bd"], "drift": drift, "speed": speed}, indent=1) + "\n")
    (out / "inter.md").write_text(_md(res, drift, speed, meta))
    click.echo(f"-> {out / 'inter.md'}")
    card = record_measured(lvc, res, speed, meta)
    if card:
        click.echo(f"-> low-delay points recorded in {card}")


def record_measured(lvc, res, speed, meta):
    """Write the low-delay results into the model card's "measured_inter"."""
    return update_model_card(lvc.model, "measured_inter", {
        "test set": f"../shared/testset (every clip, first {meta['frames per clip']} frames, "
                    f"intra period {meta['intra period']})",
        "date": meta["date"],
        "average over clips": {c: average_by_quality(res["points"], c) for c in ("lvc", "lvc-intra")},
        "bd_rate_percent_of_lvc_vs": mean_bd_rate(res["bd"]),
        "speed_cpu": speed.get("lvc", {}),
        "source": "make bench (benchmarks/inter.md)",
    })

if __name__ == "__main__":
    run_script(bench_inter)
