"""Rate control against fixed q: per clip, a fixed-q curve, two targets inside it, what rate control
achieves (rate error, re-encoded GOPs, encode time) and what it costs in rate at equal PSNR.

    python -m lvcodec.eval.bench_ratecontrol ../shared/testset --out benchmarks

Every encode is cached in OUT/bench_rc/points.jsonl (keyed by the clip, the settings and the
model), so an interrupted run continues where it stopped; clips are coded cheapest first and the
report is rewritten after each one.
"""

import json
import math
import time
from dataclasses import replace
from pathlib import Path

import click
import numpy as np

from lvcodec.codec.config import EncoderConfig
from lvcodec.eval._script import run_script, testset_clips
from lvcodec.eval.cli import parse_points

__all__ = ["bench_ratecontrol"]

TOLERANCE = 0.05
# Part of a rate-controlled point's cache key: bump when codec/ratecontrol.py decides otherwise.
RATE_CONTROL_VERSION = 3


def _encode(model, clip, config) -> dict:
    """One encode in memory: rate, PSNR-YUV, time, and what rate control did."""
    import torch

    from lvcodec.codec.api import stream_of
    from lvcodec.codec.session import Encoder
    from lvcodec.rd import frame_psnr

    t0 = time.perf_counter()
    enc = Encoder(model, config, clip.info, torch.device("cpu"))
    data, coded = stream_of(enc, clip.frames)
    seconds = time.perf_counter() - t0
    n = len(clip.frames)
    row = {"bytes": len(data), "kbps": len(data) * 8 * clip.info.fps / n / 1000,
           "psnr_yuv": float(np.mean([frame_psnr(c.source, c.recon)["yuv"] for c in coded])),
           "encode_s": seconds}
    if enc.rate is not None:
        row.update(gops=[vars(r) for r in enc.rate.records], trials=enc.rate.trials)
    return row


def _targets(fixed: list) -> list:
    """Two targets inside the fixed-q curve: a third and two thirds of the way in log-rate."""
    lo, hi = (math.log(min(r["kbps"] for r in fixed)), math.log(max(r["kbps"] for r in fixed)))
    return [float(f"{math.exp(lo + f * (hi - lo)):.3g}") for f in (1 / 3, 2 / 3)]


def _pchip_at(pairs, at: float) -> float | None:
    """The monotone cubic BD-rate uses through (x, y) pairs, at x = at (None outside them)."""
    from lvcodec.eval.bdrate import pchip_slopes

    pairs = sorted(pairs)
    x, y = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])
    if len(x) < 2 or np.any(np.diff(x) <= 0) or not x[0] <= at <= x[-1]:
        return None
    d = pchip_slopes(x, y)
    k = min(int(np.searchsorted(x, at, side="right")) - 1, len(x) - 2)
    h = x[k + 1] - x[k]
    t = (at - x[k]) / h
    return float((2 * t**3 - 3 * t**2 + 1) * y[k] + (t**3 - 2 * t**2 + t) * h * d[k]
                 + (-2 * t**3 + 3 * t**2) * y[k + 1] + (t**3 - t**2) * h * d[k + 1])


def _rate_cost(fixed: list, point: dict) -> float | None:
    """How much more rate the point spends than the fixed-q curve at its PSNR, in % (log-rate
    over PSNR; ill-conditioned where the curve saturates: see _psnr_gain)."""
    log_rate = _pchip_at([(r["psnr_yuv"], math.log(r["kbps"])) for r in fixed], point["psnr_yuv"])
    return None if log_rate is None else 100 * (point["kbps"] / math.exp(log_rate) - 1)


def _psnr_gain(fixed: list, point: dict) -> float | None:
    """The point's PSNR-YUV minus the fixed-q curve's at its rate, in dB."""
    psnr = _pchip_at([(math.log(r["kbps"]), r["psnr_yuv"]) for r in fixed], math.log(point["kbps"]))
    return None if psnr is None else point["psnr_yuv"] - psnr


def _report(results: dict, meta: dict) -> str:
    lines = ["# Rate control: `lvc encode --bitrate` against fixed q", ""]
    lines += [f"- {k}: {v}" for k, v in meta.items()] + [""]
    lines += [
        "Per clip: the fixed-q curve (what `-q` gives), two targets a third and two thirds of the "
        "way along it in log-rate, and what `--bitrate` achieves. Rate = the whole .lvc file. "
        "*GOPs again*: GOP encodes beyond one per GOP (the first intra frame's two fitting "
        "encodes excluded). *time*: the rate-controlled encode against the mean fixed-q encode "
        "of the clip, in the same run. *rate cost*: the rate-controlled point's rate against the "
        "fixed-q curve's at the same PSNR-YUV (log-rate over PSNR, PCHIP as in BD-rate; the BD-rate of "
        f"the rate-controlled points, ≈ 0 when rate control costs nothing; ill-conditioned where the "
        "curve saturates, a fraction of a dB for twice the rate). *ΔPSNR at equal rate*: the "
        "same comparison the other way (PSNR over log-rate), well-conditioned there. "
        f"Tolerance ±{TOLERANCE:.0%}.",
        "", "| clip | target kbit/s | achieved kbit/s | error | q per GOP | GOPs again | time vs fixed q | PSNR-YUV | rate cost | ΔPSNR at equal rate |",
        "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        t_fixed = np.mean([p["encode_s"] for p in r["fixed"]])
        for p in r["controlled"]:
            cost, gain = _rate_cost(r["fixed"], p), _psnr_gain(r["fixed"], p)
            lines.append(
                f"| {name} | {p['target_kbps']:g} | {p['kbps']:.1f} | {p['error_percent']:+.2f} % | "
                f"{' '.join(str(g['quality']) for g in p['gops'])} | {p['trials']} | "
                f"×{p['encode_s'] / t_fixed:.2f} | {p['psnr_yuv']:.2f} dB | "
                + ("n/a" if cost is None else f"{cost:+.2f} %") + " | "
                + ("n/a" if gain is None else f"{gain:+.3f} dB") + " |")
    errs = [abs(p["error_percent"]) for r in results.values() for p in r["controlled"]]
    costs = [c for r in results.values() for p in r["controlled"]
             if (c := _rate_cost(r["fixed"], p)) is not None]
    gains = [g for r in results.values() for p in r["controlled"]
             if (g := _psnr_gain(r["fixed"], p)) is not None]
    ratios = [p["encode_s"] / np.mean([f["encode_s"] for f in r["fixed"]])
              for r in results.values() for p in r["controlled"]]
    if errs:
        lines += ["", f"**Over {len(errs)} targets**: mean |error| {np.mean(errs):.2f} %, worst "
                  f"{max(errs):.2f} %, {sum(e <= 100 * TOLERANCE for e in errs)} of {len(errs)} "
                  f"within ±{TOLERANCE:.0%}; mean rate cost "
                  + (f"{np.mean(costs):+.2f} %" if costs else "n/a")
                  + "; mean ΔPSNR at equal rate "
                  + (f"{np.mean(gains):+.3f} dB" if gains else "n/a")
                  + f"; encode time ×{np.mean(ratios):.2f} of fixed q."]
    lines += ["", "Fixed-q curves (q: kbit/s / PSNR-YUV / encode s):", ""]
    for name, r in results.items():
        lines.append(f"- {name}: " + "; ".join(
            f"q {p['quality']}: {p['kbps']:.1f} / {p['psnr_yuv']:.2f} dB / {p['encode_s']:.0f} s"
            for p in r["fixed"]))
    return "\n".join(lines) + "\n"


@click.command()
@click.argument("testset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=Path("benchmarks"), show_default=True)
@click.option("--frames", type=click.IntRange(min=2), default=33, show_default=True)
@click.option("--qualities", default="0,21,42,63", show_default=True,
              help="The fixed-q curve's quality indices.")
@click.option("--gop", type=click.IntRange(2, 64), default=EncoderConfig().gop, show_default=True)
@click.option("--downsample", type=click.Choice(["off", "on", "auto"]),
              default=EncoderConfig().downsample, show_default=True)
@click.option("--clips", help="Only these clips (comma-separated names), in this order.")
@click.option("--model", default="lvc-base", show_default=True)
def bench_ratecontrol(testset, out, frames, qualities, gop, downsample, clips, model):
    """Rate control against fixed q on every clip of TESTSET -> OUT/ratecontrol.md (+ .json)."""
    from lvcodec.eval.runner import PointCache, point_key
    from lvcodec.weights import load_model

    qs = parse_points(qualities, "--qualities")
    net = load_model(model, "cpu")
    version = f"{net.name}@{net.sha256}"
    found = testset_clips(testset, frames)
    if clips:
        by_name = {c.name: c for c in found}
        found = [by_name[n] for n in clips.split(",") if n in by_name]
    else:  # cheapest first: a cut-short run still reports whole clips
        found.sort(key=lambda c: c.info.width * c.info.height * len(c.frames))
    base = EncoderConfig(gop=gop, downsample=downsample)
    cache_dir = out / "bench_rc"
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache = PointCache(cache_dir / "points.jsonl")

    def point(clip, config):
        settings = {k: v for k, v in vars(config).items() if v is not None}
        if config.bitrate is not None:
            settings["rate_control"] = RATE_CONTROL_VERSION
        key = point_key(clip.sha256, settings, version)
        row = cache.get(key)
        if row is None:
            row = dict(_encode(net, clip, config), key=key, settings=settings)
            cache.add(row)
        return row

    meta = {"test set": str(testset), "frames per clip": frames, "gop": gop,
            "intra period": base.intra_period, "downsample": downsample,
            "fixed qualities": qualities, "lvc model": version,
            "date": time.strftime("%Y-%m-%d %H:%M")}
    results = {}
    for clip in found:
        fixed = [dict(point(clip, replace(base, quality=q)), quality=q) for q in qs]
        controlled = []
        for target in _targets(fixed):
            p = dict(point(clip, replace(base, bitrate=target * 1000)), target_kbps=target)
            p["error_percent"] = 100 * (p["kbps"] / target - 1)
            p["rate_cost_percent"] = _rate_cost(fixed, p)
            p["psnr_gain_db"] = _psnr_gain(fixed, p)
            controlled.append(p)
        results[clip.name] = {"frames": len(clip.frames), "fixed": fixed, "controlled": controlled}
        (out / "ratecontrol.json").write_text(json.dumps({"meta": meta, "clips": results}, indent=1))
        (out / "ratecontrol.md").write_text(_report(results, meta))
        click.echo(f"{clip.name}: " + ", ".join(
            f"{p['target_kbps']:g} -> {p['kbps']:.1f} kbit/s ({p['error_percent']:+.1f} %)"
            for p in controlled))


if __name__ == "__main__":
    run_script(bench_ratecontrol)
