"""`python -m lvcodec.eval.bench_chunks [--phase speed|cost|all] --out benchmarks`: parallel
chunks and what closing GOPs costs.

- speed: `lvc encode --jobs 1 --closed-gop` against `--jobs 2` on one clip, as a user runs them
  (a fresh process each, model loading and worker start-up included): wall-clock, the speed-up,
  whether the streams are byte-identical and whether `lvc decode` makes identical pictures of
  them. Needs free cores to mean anything: on a machine whose cores are busy the workers only
  share them.
- cost: the same frames coded with open and with closed GOPs (in process, one thread,
  `--downsample off`), at each quality: bits, PSNR-YUV and the BD-rate of closed against open,
  per clip and intra period.

Writes OUT/chunks.json (each phase replaces its own part) and OUT/chunks.md.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from lvcodec.eval._script import run_script

DEMO_CLIP = Path(__file__).resolve().parents[3] / "shared" / "testset" / "pedestrians_480x360.y4m"
COST_CLIPS = ("foreman_176x144.y4m", "pedestrians_480x360.y4m")


def _lvc(*args) -> tuple[float, float]:
    """Runs `lvc ARGS` in a fresh process: its wall-clock seconds and the CPU seconds (user +
    system) of it and its worker processes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "lvcodec", *map(str, args)], capture_output=True,
                       text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise click.ClickException(f"lvc {' '.join(map(str, args))}: {r.stderr.strip()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def speed(clip: Path, frames: int, intra_period: int, threads: int) -> dict:
    """`--jobs 1 --threads T --closed-gop` against `--jobs 2 --threads T` (T/2 threads a
    worker)."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        options = ["-n", frames, "-I", intra_period, "--threads", threads, "--quiet", "-y"]
        wall, cpu, load = {}, {}, []
        for jobs in (1, 2):
            extra = ["--closed-gop"] if jobs == 1 else ["--jobs", jobs]
            wall[jobs], cpu[jobs] = _lvc("encode", clip, tmp / f"j{jobs}.lvc", *options, *extra)
            load.append(round(os.getloadavg()[0], 2))
            click.echo(f"--jobs {jobs}: {wall[jobs]:.1f} s, {cpu[jobs]:.1f} CPU s", err=True)
        one, two = (tmp / "j1.lvc").read_bytes(), (tmp / "j2.lvc").read_bytes()
        for jobs in (1, 2):
            _lvc("decode", tmp / f"j{jobs}.lvc", tmp / f"j{jobs}.yuv", "--quiet", "-y")
        same_pictures = (tmp / "j1.yuv").read_bytes() == (tmp / "j2.yuv").read_bytes()
    return {"clip": clip.name, "frames": frames, "intra_period": intra_period,
            "chunks": -(-frames // intra_period), "threads": threads,
            "seconds_jobs1": round(wall[1], 1), "seconds_jobs2": round(wall[2], 1),
            "speedup": round(wall[1] / wall[2], 2), "cpu_seconds_jobs1": round(cpu[1], 1),
            "cpu_seconds_jobs2": round(cpu[2], 1), "bytes": len(one), "byte_identical": one == two,
            "same_pictures": same_pictures, "load_average_1min": load, "cpus": os.cpu_count()}


def cost(testset: Path, clips, frames: int, periods, qualities, gop: int) -> list:
    import torch

    from lvcodec.codec.api import encode_stream
    from lvcodec.codec.config import EncoderConfig
    from lvcodec.eval.bdrate import bd_rate
    from lvcodec.io import open_reader
    from lvcodec.rd import frame_psnr
    from lvcodec.weights import load_model

    torch.set_num_threads(1)
    device = torch.device("cpu")
    model = load_model("lvc-base", device)
    rows = []
    for name in clips:
        with open_reader(testset / name, frames=frames) as reader:
            info, source = reader.info, list(reader)
        for period in periods:
            if period >= len(source):  # no I frame inside: open and closed are the same stream
                continue
            row = {"clip": name, "frames": len(source), "intra_period": period, "gop": gop,
                   "points": []}
            for q in qualities:
                for closed in (False, True):
                    config = EncoderConfig(quality=q, intra_period=period, gop=gop,
                                           downsample="off", closed_gop=closed)
                    data, coded = encode_stream(model, source, info, config, device)
                    psnr = sum(frame_psnr(c.source, c.recon)["yuv"] for c in coded) / len(coded)
                    row["points"].append({"q": q, "closed": closed, "bytes": len(data),
                                          "bpp": len(data) * 8 / (len(coded) * info.width * info.height),
                                          "psnr_yuv": round(psnr, 3)})
            pts = {c: [p for p in row["points"] if p["closed"] == c] for c in (False, True)}
            bd = bd_rate([p["bpp"] for p in pts[False]], [p["psnr_yuv"] for p in pts[False]],
                         [p["bpp"] for p in pts[True]], [p["psnr_yuv"] for p in pts[True]])
            row["bd_rate_closed_vs_open"] = None if bd is None else round(bd, 2)
            rows.append(row)
            click.echo(f"{name} -I {period}: BD-rate closed vs open {row['bd_rate_closed_vs_open']} %",
                       err=True)
    return rows


def report(results: dict) -> str:
    lines = ["# Parallel chunks (`lvc encode --jobs`) and closed GOPs", "",
             "`python -m lvcodec.eval.bench_chunks --out benchmarks` (`--phase speed` or `cost` "
             "runs one part)."]
    if results.get("commands"):
        lines += ["", "This report's runs:", ""] + [f"    {c}" for c in results["commands"]]
    lines.append("")
    s = results.get("speed")
    if s:
        lines += [
            "## Wall-clock, `--jobs 1 --closed-gop` against `--jobs 2`", "",
            f"{s['clip']}, {s['frames']} frames, `-I {s['intra_period']}` ({s['chunks']} chunks), "
            f"the defaults otherwise (random access, GOP 16, `--downsample auto`), "
            f"`--threads {s['threads']}`, lvc-base on CPU, {s['cpus']} cores; each run a fresh "
            f"`lvc` process (start-up, model loading and, for `--jobs 2`, two worker processes "
            f"included). {s.get('conditions', '')} Load average (1 minute) after each run: "
            f"{', '.join(map(str, s['load_average_1min']))}.", "",
            "| jobs | wall-clock s | CPU s (all processes) |", "|---|---|---|",
            f"| 1 | {s['seconds_jobs1']} | {s['cpu_seconds_jobs1']} |",
            f"| 2 | {s['seconds_jobs2']} | {s['cpu_seconds_jobs2']} |", "",
            f"Wall-clock speed-up ×{s['speedup']}. CPU seconds count what each run costs "
            f"whatever else runs beside it: with one thread a process, `--jobs 1` on a free core "
            f"takes about CPU₁ and `--jobs 2` on two free cores at least CPU₂ / 2, so two free "
            f"cores give at most ×{2 * s['cpu_seconds_jobs1'] / s['cpu_seconds_jobs2']:.2f} "
            f"(2 CPU₁ / CPU₂; the workers' own start-up is in CPU₂, the parent's is serial). "
            f"The two streams are "
            f"{'byte-identical' if s['byte_identical'] else 'NOT byte-identical'} "
            f"({s['bytes']} bytes) and `lvc decode` makes "
            f"{'identical' if s['same_pictures'] else 'DIFFERENT'} pictures of them.", ""]
    rows = results.get("cost")
    if rows:
        lines += [
            "## What closing GOPs costs", "",
            "The same frames with open and closed GOPs, lvc-base on CPU, one thread, "
            "`--downsample off`; bits are whole files. Closing makes the frame before each I "
            "frame a P frame on the previous anchor instead of B frames reaching over to the "
            "I frame. BD-rate: closed against open (positive: closed needs more bits for the "
            "same PSNR-YUV).", "",
            "| clip | frames | -I | GOP | q | bytes open | bytes closed | Δ bytes | PSNR-YUV open | "
            "closed |", "|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            by_q = {}
            for p in r["points"]:
                by_q.setdefault(p["q"], {})[p["closed"]] = p
            for q, pair in sorted(by_q.items()):
                o, c = pair[False], pair[True]
                lines.append(f"| {r['clip']} | {r['frames']} | {r['intra_period']} | {r['gop']} | "
                             f"{q} | {o['bytes']} | {c['bytes']} | "
                             f"{100 * (c['bytes'] / o['bytes'] - 1):+.1f} % | {o['psnr_yuv']:.2f} | "
                             f"{c['psnr_yuv']:.2f} |")
        lines += ["", "| clip | -I | BD-rate closed vs open |", "|---|---|---|"]
        for r in rows:
            bd = r["bd_rate_closed_vs_open"]
            lines.append(f"| {r['clip']} | {r['intra_period']} | "
                         f"{'n/a' if bd is None else f'{bd:+.2f} %'} |")
        lines.append("")
    return "\n".join(lines)


@click.command("bench_chunks")
@click.option("--out", type=click.Path(path_type=Path), default=Path("benchmarks"), show_default=True)
@click.option("--phase", type=click.Choice(["speed", "cost", "all"]), default="all",
              show_default=True)
@click.option("--clip", type=click.Path(exists=True, path_type=Path), default=DEMO_CLIP,
              show_default=True, help="speed: the clip.")
@click.option("--frames", type=click.IntRange(min=2), default=33, show_default=True)
@click.option("--intra-period", type=click.IntRange(min=2), default=8, show_default=True,
              help="speed: chunks of this many frames.")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="speed: --threads of both runs (--jobs 2: half each, at least one).")
@click.option("--conditions", default="", help="speed: a sentence on the machine's load, for "
                                               "the report.")
@click.option("--testset", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=DEMO_CLIP.parent, show_default=True, help="cost: the clips' folder.")
@click.option("--clips", default=",".join(COST_CLIPS), show_default=True,
              help="cost: clip names in the test set.")
@click.option("--periods", default="8,32", show_default=True, help="cost: intra periods.")
@click.option("--qualities", default="0,21,42,63", show_default=True, help="cost: qualities.")
def bench_chunks(out, phase, clip, frames, intra_period, threads, conditions, testset, clips,
                 periods, qualities):
    """Wall-clock of --jobs 1 against --jobs 2, and the cost of closed GOPs."""
    path = out / "chunks.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    if phase in ("speed", "all"):
        results["speed"] = speed(clip, frames, intra_period, threads)
        results["speed"]["conditions"] = conditions
        click.echo(json.dumps(results["speed"]), err=True)
    if phase in ("cost", "all"):
        rows = cost(testset, clips.split(","), frames, [int(p) for p in periods.split(",")],
                    [int(q) for q in qualities.split(",")], gop=16)
        # a run replaces the rows of the clips and periods it measured, and keeps the others
        key = lambda r: (r["clip"], r["intra_period"])  # noqa: E731
        new = {key(r) for r in rows}
        results["cost"] = [r for r in results.get("cost", []) if key(r) not in new] + rows
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1) + "\n")
    (out / "chunks.md").write_text(report(results))
    click.echo(f"-> {out / 'chunks.md'}", err=True)


if __name__ == "__main__":
    run_script(bench_chunks)
