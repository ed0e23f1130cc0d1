"""`python -m lvcodec.eval.bench_exact TESTSET --out benchmarks`: what the exact decoder costs.

The same encoder and model, coded twice: with the exact decoding process (docs/bitstream.md §9,
what every stream uses) and with a float reference, the same nets in plain binary64 with the
library's float ops (`numerics.float_reference`: no rounding to exact grids, no tables, and no
guarantee that another machine makes the same pictures). BD-rate of exact against the reference
(PSNR-YUV, bpp) in all-intra on the first frame of every clip and in random access (GOP 8, B
frames at full scale, then at half scale with the enhancement net) on the --ra-clips; decode
speed of both, same run. Writes OUT/exact.md and
OUT/exact.json.
"""

import json
import time
from contextlib import nullcontext

import click
import numpy as np
import torch

from lvcodec.codec.api import encode_stream
from lvcodec.codec.session import EncoderConfig
from lvcodec.eval._script import run_script, testset_clips
from lvcodec.eval.bdrate import bd_rate
from lvcodec.eval.bench_parity import decode
from lvcodec.eval.cli import parse_points
from lvcodec.eval.metrics import frame_psnr
from lvcodec.nets import numerics
from lvcodec.weights import load_model

MODES = ("exact", "float reference")


def _mode(name):
    return numerics.float_reference() if name == "float reference" else nullcontext()


def point(model, clip, config, mode) -> dict:
    """One encode and decode: bpp, PSNR-YUV and the decode time."""
    frames = clip.frames
    with _mode(mode):
        t0 = time.time()
        data, coded = encode_stream(model, frames, clip.info, config, torch.device("cpu"))
        t_enc = time.time() - t0
        t0 = time.time()
        got, error = decode(model, data, torch.device("cpu"))
        t_dec = time.time() - t0
    assert error is None and all(np.array_equal(c.recon.y, g.y) for c, g in zip(coded, got))
    pixels = clip.info.width * clip.info.height * len(frames)
    return {"bpp": 8 * len(data) / pixels,
            "psnr_yuv": float(np.mean([frame_psnr(c.source, c.recon)["yuv"] for c in coded])),
            "encode_s": t_enc, "decode_s": t_dec, "frames": len(frames)}


def _table(rows, parts) -> list[str]:
    """One table per part, then the mean BD-rate over every row (the issue's <= 1 % criterion)."""
    lines, all_bd = [], []
    for part in parts:
        sel = [r for r in rows if r["part"] == part]
        clips = list(dict.fromkeys(r["clip"] for r in sel))
        lines += [f"## {part}", "", "| clip | BD-rate exact vs float reference | decode s exact | "
                  "decode s reference | decode time exact / reference |", "|---|---:|---:|---:|---:|"]
        for c in clips:
            by = {m: sorted((r for r in sel if r["clip"] == c and r["mode"] == m),
                            key=lambda r: r["q"]) for m in MODES}
            bd = bd_rate([r["bpp"] for r in by[MODES[1]]], [r["psnr_yuv"] for r in by[MODES[1]]],
                         [r["bpp"] for r in by[MODES[0]]], [r["psnr_yuv"] for r in by[MODES[0]]])
            de, dr = (sum(r["decode_s"] for r in by[m]) for m in MODES)
            bd_s = "n/a" if bd is None else f"{bd:+.2f} %"
            all_bd += [] if bd is None else [bd]
            lines.append(f"| {c} | {bd_s} | {de:.1f} | {dr:.1f} | ×{de / dr:.2f} |")
        lines.append("")
    if all_bd:
        lines += [f"Mean over the {len(all_bd)} rows: **{np.mean(all_bd):+.2f} %** "
                  f"(largest {max(all_bd, key=abs):+.2f} %).", ""]
    return lines


@click.command("bench_exact")
@click.argument("testset", type=click.Path(exists=True, file_okay=False))
@click.option("--out", type=click.Path(), default="benchmarks", show_default=True)
@click.option("--model", "model_name", default="lvc-base", show_default=True)
@click.option("--qualities", default="8,24,40,56", show_default=True)
@click.option("--ra-clips", default="foreman_176x144,bbb_sky_640x360", show_default=True)
@click.option("--ra-frames", type=click.IntRange(2), default=9, show_default=True)
@click.option("--threads", type=click.IntRange(1), default=2, show_default=True,
              help="torch threads (both modes alike; fewer where another job holds a core)")
def main(testset, out, model_name, qualities, ra_clips, ra_frames, threads):
    """BD-rate and decode time of the exact decoder against a float reference."""
    from pathlib import Path

    torch.set_num_threads(threads)
    model = load_model(model_name)
    qs = parse_points(qualities, "--qualities")
    rows = []
    t0 = time.time()
    ra = [c for c in testset_clips(testset, ra_frames) if c.name in ra_clips.split(",")]
    parts = {"all-intra, first frame": (testset_clips(testset, 1), dict(intra_period=1)),
             f"random access, {ra_frames} frames, GOP 8": (
                 ra, dict(intra_period=32, gop=8, downsample="off")),
             f"random access, {ra_frames} frames, GOP 8, B frames at half scale": (
                 ra, dict(intra_period=32, gop=8, downsample="on"))}
    for part, (clips, cfg) in parts.items():
        for clip in clips:
            for q in qs:
                for mode in MODES:
                    r = point(model, clip, EncoderConfig(quality=q, **cfg), mode)
                    rows.append(dict(r, part=part, clip=clip.name, q=q, mode=mode))
                    print(f"{part} {clip.name} q{q} {mode}: {r['bpp']:.4f} bpp "
                          f"{r['psnr_yuv']:.3f} dB decode {r['decode_s']:.1f} s", flush=True)
    meta = {"model": f"{model.name}@{model.sha256[:16]}", "torch": torch.__version__,
            "threads": threads, "qualities": qs, "date": time.strftime("%Y-%m-%d %H:%M"),
            "seconds": round(time.time() - t0)}
    outp = Path(out)
    outp.mkdir(parents=True, exist_ok=True)
    (outp / "exact.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    lines = ["# The exact decoding process against a float reference", ""]
    lines += [f"- {k}: {v}" for k, v in meta.items()] + [""]
    lines += ["Same encoder, same model, same run. *exact*: what every stream uses (docs/bitstream.md "
              "§9): convolution inputs and weights rounded to block floating-point grids and "
              "summed exactly, tables for sigmoid/exp/the scale index, a fixed-order warp. *float "
              "reference*: the same nets in plain binary64 with the library's float ops, whose "
              "pictures depend on the machine. Negative BD-rate: exact saves bits.", ""]
    lines += _table(rows, list(parts))
    (outp / "exact.md").write_text("\n".join(lines))
    print((outp / "exact.md").read_text())


if __name__ == "__main__":
    run_script(main)
