"""Peak memory of `lvc encode`/`lvc decode` against video length and picture size.

    python -m lvcodec.eval.bench_memory [--out benchmarks]

Frames stream through both ends (nothing holds the whole video), so peak memory should not grow
with the number of frames. Each command runs as its own process and its peak resident set is read
from the kernel (wait4), so the figures include torch, the model and everything else.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import numpy as np

from lvcodec.io import Frame, VideoInfo, open_reader, open_writer

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo_bbb_320x180.mp4"


def _clip(path: Path, frames: int, scale: int = 1) -> Path:
    """`frames` frames cycling through the demo clip, enlarged `scale` times (pixel repetition
    smoothed by nothing: enough to make the codec work on real structure at that size)."""
    with open_reader(DEMO) as r:
        src = list(r)
        info = r.info
    up = (lambda a: np.repeat(np.repeat(a, scale, 0), scale, 1)) if scale > 1 else (lambda a: a)
    out_info = VideoInfo(info.width * scale, info.height * scale, info.fps_num, info.fps_den, frames)
    with open_writer(path, out_info, overwrite=True) as w:
        for i in range(frames):
            f = src[i % len(src)]
            w.write(Frame(up(f.y), up(f.u), up(f.v)))
    return path


def _run(args) -> tuple[float, float]:
    """(peak RSS in MiB, seconds) of `lvc ARGS` in a child process."""
    t0 = time.time()
    p = subprocess.Popen([sys.executable, "-m", "lvcodec", *map(str, args)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    err = p.stderr.read().decode()
    if status != 0:
        raise SystemExit(f"lvc {' '.join(map(str, args))} failed: {err.strip()}")
    return usage.ru_maxrss / 1024, time.time() - t0


# (--structure, frames, enlargement): the CLI's default (random access, GOP 16, B frames at half
# scale where it pays, so the reorder buffer, both codings of `auto` and the enhancement net are in
# the peak), then low delay; 60 vs 600 frames, and 1920x1080.
CASES = (("ra", 60, 1), ("ra", 600, 1), ("ra", 9, 6),
         ("ldp", 60, 1), ("ldp", 600, 1), ("ldp", 3, 6))


def _case(tmp: Path, model: str, case) -> tuple:
    structure, frames, scale = case
    work = tmp / f"{structure}_{frames}_{scale}"
    work.mkdir()
    src = _clip(work / "in.y4m", frames, scale)
    lvc, rec = work / "s.lvc", work / "r.y4m"
    enc = _run(["encode", src, lvc, "-y", "--quiet", "--device", "cpu", "--model", model,
                "--structure", structure])
    dec = _run(["decode", lvc, rec, "-y", "--quiet", "--device", "cpu"])
    row = (structure, f"{320 * scale}x{180 * scale}", frames, *enc, *dec)
    click.echo(row)
    return row


@click.command(help=__doc__.splitlines()[0])
@click.option("--out", type=click.Path(path_type=Path), default=Path("benchmarks"), show_default=True)
@click.option("--model", default="lvc-base", show_default=True)
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Commands run side by side.")
def main(out, model, jobs):
    from concurrent.futures import ThreadPoolExecutor

    # The times depend on what else the machine runs; the peaks do not.
    conditions = (f"{jobs} command(s) at a time, threads per process: "
                  f"{os.environ.get('OMP_NUM_THREADS', 'all')} of {os.cpu_count()}; load average "
                  f"at the start: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(jobs) as pool:
        rows = list(pool.map(lambda c: _case(Path(tmp), model, c), CASES))
    lines = ["# Memory: peak resident set of `lvc encode` / `lvc decode` (CPU)", "",
             "Each command is its own process (torch, model and I/O included), read with wait4 by "
             "`python -m lvcodec.eval.bench_memory`, quality 32, intra period 32. `ra` is the "
             "CLI's default (random access, GOP 16, `--downsample auto`: the reorder buffer, both "
             "codings of each GOP's B frames and the enhancement net); `ldp` is low delay "
             "(I P P …). Content: the bundled 320×180 clip, cycled; 1920×1080 = the same frames "
             f"enlarged 6×. Model {model}; {conditions}; {time.strftime('%Y-%m-%d')}.", "",
             "| structure | picture | frames | encode peak MiB | encode s | decode peak MiB | "
             "decode s |", "|---|---|---:|---:|---:|---:|---:|"]
    for structure, size, n, em, es, dm, ds in rows:
        lines.append(f"| {structure} | {size} | {n} | {em:.0f} | {es:.1f} | {dm:.0f} | {ds:.1f} |")
    lines.append("")
    for structure in dict.fromkeys(r[0] for r in rows):
        a, b = [r for r in rows if r[0] == structure and r[1] == "320x180"][:2]
        lines.append(f"- {structure}, {b[2]} vs {a[2]} frames: encode peak ×{b[3] / a[3]:.2f}, "
                     f"decode peak ×{b[5] / a[5]:.2f} (flat = streaming works).")
    out.mkdir(parents=True, exist_ok=True)
    (out / "memory.md").write_text("\n".join(lines) + "\n")
    click.echo("\n".join(lines))


if __name__ == "__main__":
    main()
