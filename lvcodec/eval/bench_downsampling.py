"""`python -m lvcodec.eval.bench_downsampling TESTSET --out benchmarks`: temporal down-sampling.

Random access (GOP 16, intra period 32, the first 33 frames of every clip) with the B frames coded
at full scale (`off`), at half scale and restored by the enhancement net (`on`), and chosen per
GOP by rate-distortion cost (`auto`). Writes OUT/downsampling.md, downsampling.json,
downsampling_rd.png; points and streams' sizes in OUT/bench_ds/points.jsonl (a cache: a rerun
measures only what is missing).

One measurement gives all three modes. Anchors (I and P frames) reference only anchors, so they
are coded identically in every mode, and `auto` codes each GOP's B frames both ways from them
before keeping one: the `off` and `on` streams are exactly those codings (a test checks that they
are byte-identical to separate `off` and `on` encodes). Each mode's units are written to its own
.lvc stream, whose size is the rate; encode time per mode is the sum of its frames' times. Decode
speed is measured by decoding the `off` and `on` streams of one quality point per clip.
"""

import io
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import click

from lvcodec.eval._script import (
    random_access_options, run_script, testset_clips, update_model_card,
)
from lvcodec.eval.cli import parse_points
from lvcodec.eval.runner import PointCache

MODES = ("off", "on", "auto")


def _worker_init():
    import torch

    torch.set_num_threads(1)  # one thread per process: the processes run side by side


_MODELS = {}


def _model(name):
    from lvcodec.weights import load_model

    if name not in _MODELS:
        _MODELS[name] = load_model(name, "cpu")
    return _MODELS[name]


def _stream(seq_header, units) -> bytes:
    from lvcodec.bitstream import LvcWriter

    buf = io.BytesIO()
    writer = LvcWriter(buf)
    writer.write_sequence_header(seq_header)
    for c in units:
        writer.write_frame(c.header, c.substreams)
    writer.close()
    return buf.getvalue()


def _decode_seconds(model, data: bytes) -> tuple[float, list]:
    import torch

    from lvcodec.bitstream import LvcReader
    from lvcodec.codec.session import Decoder

    t0 = time.perf_counter()
    reader = LvcReader(io.BytesIO(data))
    dec = Decoder(model, reader.sequence_header, torch.device("cpu"))
    frames = [dec.decode(h, s) for h, s, _ in reader.frames()]
    return time.perf_counter() - t0, frames


def measure(task) -> list[dict]:
    """All three modes of one clip at one quality: [point per mode]."""
    import numpy as np
    import torch

    from lvcodec.bitstream import FrameType
    from lvcodec.codec.session import Encoder, EncoderConfig
    from lvcodec.eval.metrics import frame_psnr

    clip, q, gop, intra_period, model_name, time_decode = task
    model = _model(model_name)
    config = EncoderConfig(quality=q, intra_period=intra_period, gop=gop, downsample="auto")
    enc = Encoder(model, config, clip.info, torch.device("cpu"))
    alternatives = []  # (full, half) per GOP, in coding order
    enc.on_alternatives = lambda full, half: alternatives.append((full, half))
    auto = list(enc.code(clip.frames))
    chosen = {id(c) for c in auto}
    anchors = [c for c in auto if c.header.frame_type != FrameType.B]
    streams = {"auto": auto}
    for mode, k in (("off", 0), ("on", 1)):
        # The anchors where they are; each run of B frames replaced by that GOP's coding.
        units, it, i = [], iter(alternatives), 0
        while i < len(auto):
            if auto[i].header.frame_type != FrameType.B:
                units.append(auto[i])
                i += 1
                continue
            both = next(it)
            units += both[k]
            i += len(both[k])
        streams[mode] = units
    half_gops = sum(1 for full, half in alternatives if id(half[0]) in chosen)
    seq = enc.sequence_header()
    w, h, n = clip.info.width, clip.info.height, len(clip.frames)
    rows = []
    for mode in MODES:
        units = streams[mode]
        data = _stream(seq, units)
        psnr = {c.header.display_index: frame_psnr(c.source, c.recon) for c in units}
        b = [c for c in units if c.header.frame_type == FrameType.B]
        row = {"clip": clip.name, "mode": mode, "quality": q, "frames": n, "width": w, "height": h,
               "bytes": len(data), "bpp": 8 * len(data) / (w * h * n),
               "psnr_y": float(np.mean([p["y"] for p in psnr.values()])),
               "psnr_yuv": float(np.mean([p["yuv"] for p in psnr.values()])),
               "b_frames": len(b),
               "b_bpp": 8 * sum(sum(len(s) for s in c.substreams) for c in b) / (w * h * len(b)),
               "b_psnr_yuv": float(np.mean([psnr[c.header.display_index]["yuv"] for c in b])),
               "psnr_by_index": [round(psnr[i]["yuv"], 3) for i in range(n)],
               "encode_s": sum(c.seconds for c in units) if mode != "auto"
               else sum(c.seconds for c in anchors) + sum(
                   c.seconds for full, half in alternatives for c in full + half),
               "gops_half": half_gops if mode == "auto" else (len(alternatives) if mode == "on" else 0),
               "gops": len(alternatives), "model": f"{model.name}@{model.sha256}",
               "clip_sha256": clip.sha256}
        if time_decode and mode != "auto":
            row["decode_s"], frames = _decode_seconds(model, data)
            recon = {c.header.display_index: c.recon for c in units}
            order = [c.header.display_index for c in units]
            row["decode_matches"] = all(np.array_equal(f.y, recon[i].y) for i, f in zip(order, frames))
        rows.append(row)
    return rows


def _key(clip, q, frames, gop, intra_period, model) -> str:
    return f"{clip.sha256}:{q}:{frames}:{gop}:{intra_period}:{model}"


def _bd(rows, clips, mode, rate="bpp", dist="psnr_yuv") -> dict:
    """{clip: (BD-rate %, BD-PSNR dB)} of `mode` against `off` on the (rate, dist) curves."""
    from lvcodec.eval.report import bd_table

    curves = [{"clip": r["clip"], "codec": r["mode"], "bpp": r[rate], "psnr_yuv": r[dist]}
              for r in rows if r["mode"] in ("off", mode)]
    entries = {e["clip"]: (e["bd_rate"], e["bd_psnr"]) for e in bd_table(curves, "off")}
    return {clip: entries.get(clip, (None, None)) for clip in clips}


def _mean_point(rows, mode, q) -> tuple[float, float]:
    """(bpp, PSNR-YUV) of `mode` at quality `q`, averaged over the clips."""
    at = [r for r in rows if r["quality"] == q and r["mode"] == mode]
    return sum(r["bpp"] for r in at) / len(at), sum(r["psnr_yuv"] for r in at) / len(at)


def _fmt(v, suffix=" %"):
    return "n/a" if v is None else f"{v:+.2f}{suffix}"


def _md(rows, clips, meta, speed) -> tuple[str, dict]:
    lines = ["# Temporal down-sampling: half-scale B frames restored by the enhancement net", ""]
    lines += [f"- {k}: {v}" for k, v in meta.items()] + [""]
    lines += ["`off`: every frame at full scale (lvc random access). `on`: every B frame coded at "
              "half scale (anti-aliased bicubic down-sampling of the frame and its references), "
              "restored to full resolution by the enhancement net from its motion-aligned "
              "references and the previous enhanced frame. `auto`: per GOP, the B frames are "
              "coded both ways and the one with the lower rate + lambda x distortion is kept. "
              "Anchors (I, P) are identical in the three modes. Rate = whole .lvc file bits per "
              "pixel; quality = PSNR-YUV (6:1:1) averaged over frames. BD-rates against `off` "
              "(negative = fewer bits for the same quality). Average RD: "
              "![RD](downsampling_rd.png)", ""]
    summary = {}
    for title, rate, dist in (("Whole stream", "bpp", "psnr_yuv"),
                              ("B frames only (their bits per pixel, their mean PSNR-YUV)",
                               "b_bpp", "b_psnr_yuv")):
        lines += [f"## BD-rate vs off: {title}", "",
                  "| mode | " + " | ".join(clips) + " | mean |", "|---" * (len(clips) + 2) + "|"]
        for mode in ("on", "auto"):
            bd = _bd(rows, clips, mode, rate, dist)
            vals = [v[0] for v in bd.values() if v[0] is not None]
            mean = sum(vals) / len(vals) if vals else None
            psnrs = [v[1] for v in bd.values() if v[1] is not None]
            mean_p = sum(psnrs) / len(psnrs) if psnrs else None
            lines.append(f"| {mode} | " + " | ".join(_fmt(bd[c][0]) for c in clips)
                         + f" | **{_fmt(mean)}** |")
            lines.append(f"| {mode} (BD-PSNR) | " + " | ".join(_fmt(bd[c][1], " dB") for c in clips)
                         + f" | {_fmt(mean_p, ' dB')} |")
            summary[f"{rate}:{mode}"] = {"bd_rate_percent": None if mean is None else round(mean, 2),
                                         "bd_psnr_db": None if mean_p is None else round(mean_p, 3)}
        lines.append("")
    lines += ["## Where it wins and where it loses", "",
              "Per quality index, averaged over the clips: bpp / PSNR-YUV of each mode, and the "
              "GOPs `auto` coded at half scale.", "",
              "| q | off | on | auto | auto: GOPs at half scale |", "|---|---|---|---|---|"]
    for q in sorted({r["quality"] for r in rows}):
        cells = ["{:.4f} / {:.2f} dB".format(*_mean_point(rows, mode, q)) for mode in MODES]
        at = [r for r in rows if r["quality"] == q and r["mode"] == "auto"]
        cells.append(f"{sum(r['gops_half'] for r in at)} of {sum(r['gops'] for r in at)}")
        lines.append(f"| {q} | " + " | ".join(cells) + " |")
    lines += ["", "Per clip and quality (bpp / PSNR-YUV, B frames' bpp / PSNR-YUV):", "",
              "| clip | q | off | on | auto (half-scale GOPs) |", "|---|---|---|---|---|"]
    for clip in clips:
        for q in sorted({r["quality"] for r in rows}):
            at = {r["mode"]: r for r in rows if r["clip"] == clip and r["quality"] == q}
            cells = [f"{at[m]['bpp']:.4f} / {at[m]['psnr_yuv']:.2f}; B {at[m]['b_bpp']:.4f} / "
                     f"{at[m]['b_psnr_yuv']:.2f}" for m in MODES]
            cells[2] += f" ({at['auto']['gops_half']}/{at['auto']['gops']})"
            lines.append(f"| {clip} | {q} | " + " | ".join(cells) + " |")
    lines += ["", "## Speed", "",
              "One thread per measuring process, two processes side by side (so slower than a "
              "lone encoder). Encode: all clips and qualities; decode: the `off` and `on` streams "
              f"at q {meta['decode timed at quality']}, every clip (each decode reproduced the "
              "encoder's pictures bit-exactly: checked).", "",
              "| mode | encode fps | decode fps |", "|---|---|---|"]
    for mode in MODES:
        s = speed[mode]
        lines.append(f"| {mode} | {s['encode_fps']:.3f} | "
                     + (f"{s['decode_fps']:.3f}" if s.get("decode_fps") else "—") + " |")
    lines += ["", f"The enhancement net costs {meta['enhance MACs per pixel']:,.0f} MACs per "
              "full-resolution pixel, paid by both ends (the encoder mirrors the decoder's "
              "picture); a half-scale B frame's nets run on a quarter of the pixels.", ""]
    return "\n".join(lines), summary


def _plot(rows, path: Path) -> None:
    from lvcodec.eval.report import _plot as plot

    qs = sorted({r["quality"] for r in rows})
    curves = {mode: [_mean_point(rows, mode, q) for q in qs] for mode in MODES}
    plot(curves, path, "lvc random access: B frames at full / half scale (mean over clips)")


@click.command("bench_downsampling")
@random_access_options
@click.option("--decode-quality", type=int, default=21, show_default=True,
              help="Quality point whose streams are decoded and timed.")
@click.option("--model", default="lvc-base", show_default=True)
@click.option("--jobs", type=click.IntRange(min=1), default=2, show_default=True,
              help="Measuring processes (one thread each).")
def bench_downsampling(testset, out, frames, intra_period, gop, qualities, decode_quality, model,
                       jobs):
    """Down-sampling benchmark of every clip in TESTSET."""
    from lvcodec.nets.cost import enhance_macs_per_pixel

    qs = parse_points(qualities, "--qualities")
    clips = testset_clips(testset, frames)
    m = _model(model)
    if m.enhance is None:
        raise click.ClickException(f"model '{model}' has no enhancement net")
    version = f"{m.name}@{m.sha256}"
    out_dir = out / "bench_ds"
    out_dir.mkdir(parents=True, exist_ok=True)
    cache = PointCache(out_dir / "points.jsonl")  # one entry: the three modes of a point
    tasks = [(c, int(q), gop, intra_period, model, int(q) == decode_quality)
             for c in clips for q in qs
             if cache.get(_key(c, int(q), frames, gop, intra_period, version)) is None]
    if tasks:
        click.echo(f"measuring {len(tasks)} clip x quality points in {jobs} processes")
        with ProcessPoolExecutor(jobs, initializer=_worker_init) as pool:
            for task, rows in zip(tasks, pool.map(measure, tasks)):
                cache.add({"key": _key(task[0], task[1], frames, gop, intra_period, version),
                           "rows": rows})
                click.echo(f"  {task[0].name} q{task[1]}: "
                           + ", ".join(f"{r['mode']} {r['bpp']:.4f} bpp {r['psnr_yuv']:.2f} dB"
                                       for r in rows))
    rows = [r for c in clips for q in qs
            for r in cache.get(_key(c, int(q), frames, gop, intra_period, version))["rows"]]
    names = [c.name for c in clips]
    if not all(r.get("decode_matches", True) for r in rows):
        raise click.ClickException("a decoded stream differs from the encoder's reconstruction")
    speed = {}
    for mode in MODES:
        at = [r for r in rows if r["mode"] == mode]
        dec = [r for r in at if "decode_s" in r]
        speed[mode] = {"encode_fps": sum(r["frames"] for r in at) / sum(r["encode_s"] for r in at)}
        if dec:
            speed[mode]["decode_fps"] = sum(r["frames"] for r in dec) / sum(r["decode_s"] for r in dec)
    meta = {"test set": str(testset), "frames per clip": frames, "intra period": intra_period,
            "gop": gop, "qualities": ",".join(map(str, qs)),
            "decode timed at quality": decode_quality, "lvc model": version,
            "enhance MACs per pixel": enhance_macs_per_pixel(m.enhance),
            "date": time.strftime("%Y-%m-%d %H:%M")}
    text, summary = _md(rows, names, meta, speed)
    (out / "downsampling.md").write_text(text)
    _plot(rows, out / "downsampling_rd.png")
    (out / "downsampling.json").write_text(json.dumps(
        {"meta": meta, "summary": summary, "speed": speed,
         "points": [{k: v for k, v in r.items() if k != "psnr_by_index"} for r in rows]},
        indent=1) + "\n")
    click.echo(f"-> {out / 'downsampling.md'}")
    card = update_model_card(model, "measured_downsampling", {
        "test set": f"../shared/testset (every clip, first {frames} frames, intra period "
                    f"{intra_period}, GOP {gop})",
        "date": meta["date"], "bd_vs_off": summary, "speed_cpu": speed,
        "source": "make bench (benchmarks/downsampling.md)"})
    if card:
        click.echo(f"-> down-sampling points recorded in {card}")


if __name__ == "__main__":
    run_script(bench_downsampling)
