"""What compute has bought so far: every shipped model's random-access points against x264 and x265
medium, beside the steps each of its nets had trained, from what is already measured.

    lvc bench history    # or: python -m lvcodec.eval.bench_history --out benchmarks

No encoding: the points come from bench_learning's random-access cache (`bench_learning_ra/`,
first 9 frames of every test clip, lvc GOP 8, q 16/32/48, `--downsample off`; the anchors'
points from `ra_vs_x264.py`, same frames, keyint 32), and each model's steps from its card in
the git history of models/lvc-base.json. Each lvc point was measured with the codec of its
day (encoder searches such as the block-prediction map arrived along the way), so a row is what
the shipped codec did then, not the nets alone.
"""

import json
import math
import subprocess
from collections import defaultdict
from pathlib import Path

import click

from lvcodec.eval._script import run_script
from lvcodec.eval.bdrate import bd_rate
from lvcodec.eval.runner import PointCache

ROOT = Path(__file__).resolve().parents[2]  # the checkout: the cards' history is git's
ANCHORS = ("x264-medium", "x265-medium")
FIT_ROWS = 6  # the power law is fitted to the last models measured on every clip
TARGET = 100.0  # issue "A model that competes": random access within +100 % of x264 medium


def shipped_cards() -> list[tuple[str, str, dict]]:
    """(commit, date, card) of every commit that changed the shipped weights, oldest first."""
    log = subprocess.run(["git", "log", "--reverse", "--format=%h %ad", "--date=short", "--",
                          "models/lvc-base.safetensors"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split("\n")
    out = []
    for line in filter(None, log):
        commit, date = line.split()
        card = subprocess.run(["git", "show", f"{commit}:models/lvc-base.json"], cwd=ROOT,
                              capture_output=True, text=True)
        if card.returncode == 0:
            out.append((commit, date, json.loads(card.stdout)))
    return out


def curves(cache: Path) -> dict:
    """{(version or anchor, clip): [(bpp, psnr_yuv), ...]} from the cache."""
    points = defaultdict(list)
    for r in PointCache(cache).rows.values():  # one row per point, torn lines skipped
        s = r["settings"]
        if s["codec"] not in ANCHORS and ("refine" in s or "motion" in s or s.get("format", 4) > 4):
            continue  # the nets' own curve only: no encoder effort, no residual layer
        who = s["codec"] if s["codec"] in ANCHORS else r["version"]
        points[who, r["clip"]].append((r["bpp"], r["psnr_yuv"]))
    return points


def mean_bd(points, version, anchor, clips):
    vals = []
    for clip in clips:
        a, b = points.get((anchor, clip)), points.get((version, clip))
        if a and b:
            v = bd_rate(*zip(*a), *zip(*b))
            if v is not None:
                vals.append(v)
    return (sum(vals) / len(vals), len(vals)) if vals else (None, 0)


def training_hours(card: dict) -> float:
    """Wall-clock training hours of all the model's nets together (each run on 1-2 cores)."""
    return sum(v.get("seconds", 0) for k, v in card.items()
               if k.startswith("training") and isinstance(v, dict)) / 3600


def power_law(rows: list[tuple[float, float]]):
    """Least squares of ln(bits ratio) = a + b ln(hours) over (hours, BD-rate %) rows: (a, b)."""
    xs = [math.log(h) for h, _ in rows]
    ys = [math.log(1 + bd / 100) for _, bd in rows]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


@click.command("bench_history")
@click.option("--out", type=click.Path(path_type=Path), default=Path("benchmarks"), show_default=True)
def bench_history(out):
    """Every shipped model's random-access BD-rate beside its training steps and hours."""
    if not (ROOT / ".git").exists():
        raise click.ClickException(f"{ROOT}: not a git checkout (the shipped models' history is git's)")
    points = curves(out / "bench_learning_ra" / "points.jsonl")
    clips = sorted({clip for _, clip in points})
    lines = [
        "# Learning history: what training has bought in random access",
        "",
        "Written by `lvc bench history` from measured points only "
        "(module docstring). Each row: a shipped model (the commit that shipped it), the steps "
        "each net had trained (batch 8 of 128² patches unless its card says otherwise), and the "
        "mean BD-rate of its random-access curve against x264 and x265 medium over the test "
        "clips where both curves overlap (first 9 frames, PSNR-YUV; the count in brackets: a "
        "mean over fewer clips is not comparable with one over five). Models whose points were "
        "never measured in this set-up are left out.",
        "",
        "| shipped | date | model | intra steps | P steps | B steps | training hours | vs x264 medium | vs x265 medium |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    full = []  # (hours, BD-rate vs x264) of the models measured on every clip
    seen = set()
    for commit, date, card in shipped_cards():
        version = f"lvc-base@{card.get('sha256', '')}"
        if version in seen or not any((version, c) in points for c in clips):
            continue
        seen.add(version)
        steps = [card.get(k, {}).get("steps", "–") for k in ("training", "training_inter", "training_bi")]
        cells = []
        hours = training_hours(card)
        for anchor in ANCHORS:
            bd, n = mean_bd(points, version, anchor, clips)
            cells.append("n/a" if bd is None else f"{bd:+.1f} % ({n})")
            if anchor == ANCHORS[0] and bd is not None and n == len(clips):
                full.append((hours, bd))
        lines.append(f"| {commit} | {date} | {card['sha256'][:8]} | "
                     + " | ".join(f"{s:,}".replace(",", " ") if isinstance(s, int) else str(s)
                                  for s in steps)
                     + f" | {hours:.1f} | " + " | ".join(cells) + " |")
    if len(full) >= 3:
        fit = full[-FIT_ROWS:]
        a, b = power_law(fit)
        lines += [
            "",
            "## What the slope asks for",
            "",
            f"Training hours: the wall-clock seconds of every net's runs in the model's card, "
            f"summed (the arms ran on one or two cores each). A power law fitted to the last "
            f"{len(fit)} models measured on every clip ({fit[0][0]:.1f} to {fit[-1][0]:.1f} h): "
            f"bits against x264 medium ∝ hours^{b:.3f}.",
        ]
        if b < 0:
            need = math.exp((math.log(1 + TARGET / 100) - a) / b)
            lines.append(
                f"Extrapolated, the curve reaches +{TARGET:.0f} % against x264 medium at about "
                f"**{need:.0f} training hours** ({need - fit[-1][0]:.0f} h more than the newest "
                f"model), if the slope held; the gains of each net flatten as it trains, and part "
                f"of the slope came from codec changes made along the way (the docstring), so "
                f"the real figure is likely higher: an optimistic estimate, not a plan.")
    (out / "learning_history.md").write_text("\n".join(lines) + "\n")
    click.echo("\n".join(lines))


if __name__ == "__main__":
    run_script(bench_history)
