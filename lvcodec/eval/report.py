"""Evaluation outputs from measured points: points.csv/json, summary.md, rd_<clip>.png plots."""

import csv
import json
import math
import re
from pathlib import Path

from lvcodec.eval.bdrate import bd_psnr, bd_rate

__all__ = ["bd_table", "bd_markdown", "write_reports", "COLUMNS"]

COLUMNS = ["clip", "codec", "knob", "point", "intra_period", "frames", "width", "height", "bytes",
           "bpp", "psnr_y", "psnr_u", "psnr_v", "psnr_yuv", "ms_ssim_y", "encode_fps", "decode_fps",
           "encode_s", "decode_s", "peak_rss_mb", "extra_rss_mb", "version", "key"]
NA = "n/a (curves do not overlap)"


def _by(rows, *keys):
    out = {}
    for r in rows:
        out.setdefault(tuple(r[k] for k in keys), []).append(r)
    return out


def _ordered(values):
    seen = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def bd_table(rows, anchor: str) -> list[dict]:
    """BD-rate (bpp vs PSNR-YUV) and BD-PSNR of every other codec against `anchor`, per clip."""
    curves = _by(rows, "clip", "codec")
    out = []
    for clip in _ordered(r["clip"] for r in rows):
        ref = curves.get((clip, anchor))
        for codec in _ordered(r["codec"] for r in rows):
            if codec == anchor or (clip, codec) not in curves:
                continue
            test = curves[(clip, codec)]
            entry = {"clip": clip, "codec": codec, "anchor": anchor, "bd_rate": None, "bd_psnr": None}
            if ref:
                args = ([r["bpp"] for r in ref], [r["psnr_yuv"] for r in ref],
                        [r["bpp"] for r in test], [r["psnr_yuv"] for r in test])
                entry["bd_rate"], entry["bd_psnr"] = bd_rate(*args), bd_psnr(*args)
            out.append(entry)
    return out


def _average_bd(entries, codec, field):
    vals = [e[field] for e in entries if e["codec"] == codec and e[field] is not None]
    n = sum(1 for e in entries if e["codec"] == codec)
    return (sum(vals) / len(vals) if vals else None), len(vals), n


def _fmt(v, nd=2, suffix=""):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:.{nd}f}{suffix}"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def _points_md(rows) -> list[str]:
    lines = ["| codec | point | bpp | PSNR-Y | PSNR-U | PSNR-V | PSNR-YUV | MS-SSIM-Y | enc fps | "
             "dec fps | peak RSS MB (+extra) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['codec']} | {r['knob']} {r['point']} | {r['bpp']:.4f} | {r['psnr_y']:.2f} | "
            f"{r['psnr_u']:.2f} | {r['psnr_v']:.2f} | {r['psnr_yuv']:.2f} | "
            f"{_fmt(r['ms_ssim_y'], 4)} | {_fmt(r['encode_fps'])} | {_fmt(r['decode_fps'])} | "
            f"{r['peak_rss_mb']:.0f} (+{r['extra_rss_mb']:.0f}) |")
    return lines


def bd_markdown(entries, clips, anchor) -> list[str]:
    codecs = _ordered(e["codec"] for e in entries)
    if not codecs:
        return []
    lines = [f"### Against {anchor}", "",
             "BD-rate in % of bits at equal PSNR-YUV (negative = fewer bits than the anchor); "
             "BD-PSNR in dB at equal bpp below it.", "",
             "| codec | " + " | ".join(clips) + " | average |", "|---" * (len(clips) + 2) + "|"]
    cell = {(e["clip"], e["codec"]): e for e in entries}
    for field, nd, unit in (("bd_rate", 2, " %"), ("bd_psnr", 3, " dB")):
        for codec in codecs:
            cells = []
            for clip in clips:
                e = cell.get((clip, codec))
                v = None if e is None else e[field]
                cells.append("–" if e is None else (NA if v is None else _fmt(v, nd, unit)))
            avg, k, n = _average_bd(entries, codec, field)
            avg_s = NA if avg is None else _fmt(avg, nd, unit)
            if avg is not None and k < n:
                avg_s += f" ({k} of {n} clips)"
            label = codec if field == "bd_rate" else f"{codec} (BD-PSNR)"
            lines.append(f"| {label} | " + " | ".join(cells) + f" | {avg_s} |")
    return lines + [""]


def _plot(curves: dict, path: Path, title: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.8), dpi=100)
    FigureCanvasAgg(fig)  # Agg only: no display needed, no global pyplot state
    ax = fig.add_subplot()
    for codec, pts in curves.items():
        pts = sorted(pts)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=codec)
    ax.set_xlabel("bits per pixel")
    ax.set_ylabel("PSNR-YUV (6:1:1) [dB]")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


def _average_curves(rows, clips):
    """Per codec and point: bpp and PSNR-YUV averaged over the clips that have that point."""
    out = {}
    for (codec, point), rs in _by(rows, "codec", "point").items():
        if len(rs) == len(clips):
            out.setdefault(codec, []).append((sum(r["bpp"] for r in rs) / len(rs),
                                              sum(r["psnr_yuv"] for r in rs) / len(rs)))
    return out


def write_reports(rows, out_dir, anchors=("x264-medium",), meta=None) -> dict:
    """Write points.csv, points.json, summary.md and the RD plots; returns the BD entries."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clips = _ordered(r["clip"] for r in rows)
    codecs = set(r["codec"] for r in rows)
    bd = {a: bd_table(rows, a) for a in anchors if a in codecs}

    with open(out_dir / "points.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    (out_dir / "points.json").write_text(json.dumps(
        {"meta": meta or {}, "points": rows, "bd": bd}, indent=1) + "\n")

    meta = meta or {}
    md = ["# Rate–distortion evaluation", ""]
    if meta:
        md += [f"- {k}: {v}" for k, v in meta.items()] + [""]
    md += ["Rate = whole output file (bytes × 8) / (frames × width × height). PSNR is per frame, "
           "then averaged over frames; PSNR-YUV = (6 Y + U + V) / 8. MS-SSIM on luma (fewer than 5 "
           "scales on small frames, see lvcodec/eval/msssim.py). fps are wall-clock frames per "
           "second of encode and decode on this machine. Peak RSS is the whole process's resident "
           "memory; +extra is its growth during that point.", ""]
    md += ["## BD-rates", ""]
    for a in anchors:
        if a not in codecs:
            md += [f"No {a} points: no BD-rates against it.", ""]
        else:
            md += bd_markdown(bd[a], clips, a)
    md += ["## Points", ""]
    for clip in clips:
        crow = [r for r in rows if r["clip"] == clip]
        md += [f"### {clip} ({crow[0]['width']}×{crow[0]['height']}, {crow[0]['frames']} frames)",
               "", *_points_md(crow), "", f"![RD {clip}](rd_{_slug(clip)}.png)", ""]
        _plot({c: [(r["bpp"], r["psnr_yuv"]) for r in rs] for (c,), rs in _by(crow, "codec").items()},
              out_dir / f"rd_{_slug(clip)}.png", clip)
    _plot(_average_curves(rows, clips), out_dir / "rd_average.png",
          f"average of {len(clips)} clip(s)")
    md += ["`rd_average.png`: for every codec and rate point, bpp and PSNR-YUV averaged over the "
           "clips (a summary picture; BD-rates above are computed per clip, then averaged).", ""]
    (out_dir / "summary.md").write_text("\n".join(md))
    return bd
