"""`python -m lvcodec.eval.bench TESTSET --out benchmarks`: lvc against x264, x265 and SVT-AV1 (and
JPEG when all-intra) on every clip of a folder; results under OUT/bench_ip<P>/."""

from pathlib import Path

import click

from lvcodec.cli_options import device_option

from lvcodec.eval._script import run_script, testset_clips
from lvcodec.eval.cli import parse_points

ANCHORS = ["x264-medium", "x265-medium", "x265-veryslow", "svtav1"]


@click.command("bench")
@click.argument("testset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=Path("benchmarks"),
              show_default=True)
@click.option("--frames", type=click.IntRange(min=1), default=8, show_default=True,
              help="First N frames of every clip (all of shorter clips).")
@click.option("--intra-period", type=int, default=-1, show_default=True,
              help="1 = all-intra (adds JPEG), P = intra every P frames, -1 = first frame only.")
@click.option("--qualities", default="0,16,32,48,63", show_default=True, help="lvc quality indices.")
@click.option("--model", default=None, help="lvc model [default: lvc-base].")
@device_option("cpu")
@click.option("--no-lvc", is_flag=True, help="Anchors only.")
def bench(testset, out, frames, intra_period, qualities, model, device, no_lvc):
    """Benchmark every clip (.y4m/.yuv/.mp4) in TESTSET."""
    from lvcodec.codec.config import EncoderConfig
    from lvcodec.eval.lvc_codec import LvcCodec
    from lvcodec.eval.runner import evaluate

    codecs = list(ANCHORS) + (["jpeg"] if intra_period == 1 else [])
    points = {}
    if not no_lvc:
        codecs.insert(0, LvcCodec(model=model, device=device, config=EncoderConfig(gop=1)))
        points["lvc"] = parse_points(qualities, "--qualities")
    out_dir = out / f"bench_ip{intra_period}"
    res = evaluate(testset_clips(testset, frames), codecs, points, frames=frames,
                   intra_period=intra_period, out_dir=out_dir, anchor_for_bd="x264-medium",
                   meta={"test set": str(testset)})
    click.echo(f"{len(res['points'])} points -> {out_dir / 'summary.md'}")


if __name__ == "__main__":
    run_script(bench)
