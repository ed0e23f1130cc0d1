"""`python -m lvcodec.eval.bench_bshare TESTSET --out benchmarks`: what a B frame costs against the
I frame, per test clip, as `lvc encode` codes it by default (random access, GOP 16, `--downsample
auto`, preset medium, residual layer on): the first 17 frames (I, P at 16, 15 B frames between),
frame payload bytes read back from the stream. Writes OUT/bframe_share.md and bframe_share.json.
"""

import io
import json
import time
from pathlib import Path

import click
import torch

from lvcodec.bitstream.syntax import VERSION_MAJOR, VERSION_MINOR
from lvcodec.eval._script import run_script

TITLE = "# What a B frame costs against the I frame"


def clip_share(model, path: Path, quality: int, frames: int, size=None, fps=None) -> dict:
    """Mean payload bytes of each frame type of one clip's default stream."""
    from lvcodec.bitstream import FrameType, LvcReader
    from lvcodec.codec.api import encode_stream
    from lvcodec.codec.config import EncoderConfig
    from lvcodec.io import open_reader

    with open_reader(path, size=size, fps=fps, frames=frames) as reader:
        data, _ = encode_stream(model, reader, reader.info, EncoderConfig(quality=quality),
                                torch.device("cpu"))
    sizes = {t: [] for t in FrameType}
    for header, substreams, _ in LvcReader(io.BytesIO(data)).frames():
        sizes[header.frame_type].append(sum(len(s) for s in substreams))
    mean = {t.name: sum(v) / len(v) if v else None for t, v in sizes.items()}
    return {"clip": path.stem, "bytes": mean, "count": {t.name: len(v) for t, v in sizes.items()},
            "b_share": mean["B"] / mean["I"] if mean["B"] is not None else None}


def markdown(result: dict) -> str:
    m = result["meta"]
    fmt = f", format {m['format']}" if "format" in m else ""
    lines = [TITLE, "", f"`lvc bench bshare`. Model {m['model'][:25]}…{fmt}, measured {m['date']}, "
             f"q {m['quality']}, the first {m['frames']} frames of every clip in {m['test set']}, "
             "coded as `lvc encode` does by default (random access, GOP 16, `--downsample auto`, "
             "preset medium). Bytes: the frame's entropy-coded payload, headers excluded.", "",
             "| clip | I frame bytes | P frame bytes | mean B frame bytes | B frames | B / I |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in result["clips"]:
        b, n = r["bytes"], r["count"]
        p = "–" if b["P"] is None else f"{b['P']:.0f}"
        share = "–" if r["b_share"] is None else f"{100 * r['b_share']:.1f} %"
        bb = "–" if b["B"] is None else f"{b['B']:.0f}"
        lines.append(f"| {r['clip']} | {b['I']:.0f} | {p} | {bb} | {n['B']} | {share} |")
    shares = [r["b_share"] for r in result["clips"] if r["b_share"] is not None]
    lines += ["", f"Mean over clips: **{100 * sum(shares) / len(shares):.1f} %** of the I frame."]
    return "\n".join(lines) + "\n"


@click.command("bench_bshare")
@click.argument("testset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=Path("benchmarks"), show_default=True)
@click.option("--model", default="lvc-base", show_default=True)
@click.option("--quality", type=click.IntRange(0, 63), default=32, show_default=True)
@click.option("--frames", type=click.IntRange(min=3), default=17, show_default=True)
def bench_bshare(testset, out, model, quality, frames):
    """Mean B-frame bytes against the I frame's, per clip, at the CLI's default settings."""
    from lvcodec.eval.clips import find_clips
    from lvcodec.weights import load_model

    net = load_model(model)
    clips = []
    for path, size, fps in find_clips(testset):
        clips.append(clip_share(net, path, quality, frames, size, fps))
        click.echo(json.dumps(clips[-1]), err=True)
    result = {"meta": {"model": f"{net.name}@{net.sha256}", "format": f"{VERSION_MAJOR}.{VERSION_MINOR}",
                       "date": time.strftime("%Y-%m-%d %H:%M"),
                       "quality": quality, "frames": frames, "test set": str(testset)},
              "clips": clips}
    out.mkdir(parents=True, exist_ok=True)
    (out / "bframe_share.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / "bframe_share.md").write_text(markdown(result))
    click.echo(f"-> {out / 'bframe_share.md'}")


if __name__ == "__main__":
    run_script(bench_bshare)
