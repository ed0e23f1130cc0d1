"""`lvc eval`: rate–distortion comparison of lvc against conventional codecs on some clips."""

from pathlib import Path

import click

from lvcodec.cli_options import device_option, fps_option, size_option
from lvcodec.codec.config import DEFAULT_INTRA_PERIOD
from lvcodec.errors import ConfigError, InputError

__all__ = ["eval_command", "bench_command", "parse_points"]


def parse_points(text: str, what: str) -> list[int]:
    """'8,20,32' -> [8, 20, 32]."""
    try:
        pts = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ConfigError(f"{what}: expected comma-separated integers, got '{text}'") from None
    if not pts:
        raise ConfigError(f"{what}: no points given")
    if len(set(pts)) != len(pts):
        raise ConfigError(f"{what}: repeated point in '{text}'")
    return pts


def _intra_period(ctx, param, value):
    if value != -1 and value < 1:
        raise click.BadParameter("must be >= 1 (1 = all-intra) or -1 (first frame only)")
    return value


@click.command("eval", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--qualities", default="0,16,32,48,63", show_default=True,
              help="lvc quality indices (0..63) to evaluate, comma-separated.")
@click.option("-n", "--frames", type=click.IntRange(min=1), default=8, show_default=True,
              help="Code the first N frames of every input.")
@click.option("--intra-period", type=int, default=DEFAULT_INTRA_PERIOD, show_default=True,
              callback=_intra_period,
              help="Intra period of every codec: 1 = all-intra, P = an intra frame every P frames, "
                   "-1 = only the first frame intra. lvc codes as `lvc encode` does by default "
                   "(random access, its GOP, preset and down-sampling) at this intra period.")
@click.option("--anchors", default="x264-medium,x265-medium,x265-veryslow,svtav1",
              show_default=True,
              help="Conventional codecs to compare, comma-separated, or 'none'. Known: "
                   "x264-medium, x265-medium, x265-veryslow, svtav1, jpeg.")
@click.option("--anchor-points", "anchor_points", multiple=True, metavar="NAME=P1,P2,...",
              help="Rate points of one anchor (crf, or quality for jpeg), e.g. "
                   "x264-medium=20,26,32,38. Repeatable.")
@click.option("--bd-anchor", default=None,
              help="Codec the BD-rates are measured against [default: the first anchor].")
@click.option("-o", "--out", type=click.Path(path_type=Path), default=Path("benchmarks/eval"),
              show_default=True,
              help="Output folder: points.jsonl (cache), points.csv/json, summary.md, rd_*.png. "
                   "Points already in its cache are reused, not re-measured.")
@size_option("WxH of raw .yuv inputs.")
@fps_option("Frame rate of raw .yuv inputs (default 25).")
@click.option("--model", default=None, help="lvc model name (models/) or path [default: lvc-base].")
@device_option("cpu", "Device lvc runs on (anchors always run on the CPU).")
@click.option("--no-lvc", is_flag=True, help="Evaluate the anchors only.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def eval_command(inputs, qualities, frames, intra_period, anchors, anchor_points, bd_anchor, out,
                 size, fps, model, device, no_lvc, quiet):
    """Compare lvc with conventional codecs on INPUT clips (.yuv, .y4m, .mp4, ...).

    Every codec codes the same first N frames at several rate points; each point's bits per pixel,
    PSNR-Y/U/V/YUV, MS-SSIM, speed and memory go to OUT, with BD-rates in OUT/summary.md.
    """
    from lvcodec.eval.anchors import ANCHORS
    from lvcodec.eval.runner import evaluate

    names = [] if anchors.strip().lower() in ("", "none") else \
        [a.strip() for a in anchors.split(",") if a.strip()]
    unknown = [a for a in names if a not in ANCHORS]
    if unknown:
        raise ConfigError(f"unknown anchor(s) {', '.join(unknown)} (known: {', '.join(ANCHORS)})")
    points = {}
    for spec in anchor_points:
        name, sep, pts = spec.partition("=")
        if not sep or name not in names:
            raise ConfigError(f"--anchor-points {spec}: expected NAME=P1,P2,... for a listed anchor")
        points[name] = parse_points(pts, f"--anchor-points {name}")
    codecs = list(names)
    if not no_lvc:
        from lvcodec.eval.lvc_codec import LvcCodec

        q = parse_points(qualities, "--qualities")
        if not all(0 <= v <= 63 for v in q):
            raise ConfigError(f"--qualities {qualities}: lvc quality indices run from 0 to 63")
        points["lvc"] = q
        codecs.insert(0, LvcCodec(model=model, device=device))
    if not codecs:
        raise ConfigError("nothing to evaluate (--no-lvc and no anchors)")
    bd_anchor = bd_anchor or (names[0] if names else None)
    if bd_anchor is not None and bd_anchor not in names + ([] if no_lvc else ["lvc"]):
        raise ConfigError(f"--bd-anchor {bd_anchor} is not among the evaluated codecs")

    for path in inputs:  # before anything is loaded or created
        if not path.exists():
            raise InputError(f"{path}: no such file")
        if path.is_dir():
            raise InputError(f"{path}: is a directory")
    created = not out.exists()
    try:
        result = evaluate(list(inputs), codecs, points, frames=frames, intra_period=intra_period,
                          out_dir=out, progress=not quiet, anchor_for_bd=bd_anchor or [],
                          size=size, fps=fps)
    except BaseException:
        # A folder this run made and left empty (it failed on its input) is not a result.
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        raise
    n = len(result["points"])
    click.echo(f"{n} points ({result['reused']} reused from the cache) -> {out / 'summary.md'}")
    for anchor, entries in result["bd"].items():
        for e in entries:
            v = e["bd_rate"]
            click.echo(f"  {e['clip']}: {e['codec']} vs {anchor}: BD-rate "
                       + ("n/a (curves do not overlap)" if v is None else f"{v:+.2f} %"))


@click.command("bench")
@click.argument("suites", nargs=-1)
@click.option("--testset", type=click.Path(file_okay=False), default="../shared/testset",
              show_default=True, help="Evaluation clips (../shared/testset/README.md).")
@click.option("-o", "--out", type=click.Path(file_okay=False), default="benchmarks",
              show_default=True, help="Where the suites write their reports.")
@click.option("--all", "all_", is_flag=True,
              help="Every suite, verification and training included (as `make bench`).")
@click.option("--list", "list_", is_flag=True, help="List the suites and exit.")
def bench_command(suites, testset, out, all_, list_):
    """Run benchmark SUITES (default: every rate-distortion suite; --all: every suite)."""
    from lvcodec.eval.suites import RD_SUITES, SUITES, run_suite

    if list_:
        for s in SUITES.values():
            click.echo(f"{s.name:13s} {s.kind:12s} {s.what} -> {', '.join(s.writes)}")
        return
    names = list(SUITES) if all_ else list(suites) or list(RD_SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        raise ConfigError(f"no benchmark suite {unknown[0]!r} (one of {', '.join(SUITES)})")
    if any(SUITES[n].testset for n in names) and not Path(testset).is_dir():
        raise InputError(f"{testset}: no test set there (give --testset)")
    for n in names:
        run_suite(n, testset, out, echo=click.echo)
