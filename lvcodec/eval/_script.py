"""Shared plumbing of the `python -m lvcodec.eval.bench*` scripts."""

import sys
from pathlib import Path

from lvcodec.errors import LvcError
from lvcodec.eval.clips import find_clips, load_clip

__all__ = ["run_script", "testset_clips", "average_by_quality", "mean_bd_rate", "update_model_card",
           "random_access_options"]


def run_script(command) -> None:
    """Run a click command; library errors become one line and exit status 1, as in `lvc`."""
    try:
        command(standalone_mode=False)
    except LvcError as e:
        print(f"{command.name}: error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # click's usage errors
        import click

        if isinstance(e, click.ClickException):
            e.show()
            sys.exit(e.exit_code)
        raise


def random_access_options(command):
    """The arguments the random-access benchmarks share: TESTSET, --out, --frames (33: I frames
    at 0 and 32), --intra-period, --gop and --qualities."""
    import click

    for option in reversed([
        click.argument("testset", type=click.Path(exists=True, file_okay=False, path_type=Path)),
        click.option("--out", type=click.Path(path_type=Path), default=Path("benchmarks"),
                     show_default=True),
        click.option("--frames", type=click.IntRange(min=2), default=33, show_default=True),
        click.option("--intra-period", type=click.IntRange(min=2), default=32, show_default=True),
        click.option("--gop", type=click.IntRange(2, 64), default=16, show_default=True),
        click.option("--qualities", default="0,21,42,63", show_default=True,
                     help="lvc quality indices."),
    ]):
        command = option(command)
    return command


def testset_clips(folder, frames: int) -> list:
    """The first `frames` frames of every clip in a folder (all of a shorter clip)."""
    return [load_clip(p, frames, size=s, fps=f, strict=False) for p, s, f in find_clips(folder)]


def average_by_quality(points, codec: str, keys=("bpp", "psnr_yuv")) -> list:
    """Per quality point of `codec`, the mean of `keys` over the clips (bpp to 4 decimals, the
    rest to 3), in quality order: the form model cards record."""
    rows = [r for r in points if r["codec"] == codec]
    out = []
    for q in sorted({r["point"] for r in rows}):
        at = [r for r in rows if r["point"] == q]
        out.append({"quality": q, **{k: round(sum(r[k] for r in at) / len(at), 4 if k == "bpp" else 3)
                                     for k in keys}})
    return out


def mean_bd_rate(bd: dict, codec: str = "lvc") -> dict:
    """{anchor: mean BD-rate of `codec` over the clips where it is defined (None if nowhere)}."""
    out = {}
    for anchor, entries in bd.items():
        vals = [e["bd_rate"] for e in entries if e["codec"] == codec and e["bd_rate"] is not None]
        out[anchor] = round(sum(vals) / len(vals), 2) if vals else None
    return out


def update_model_card(model: str, key: str, value) -> Path | None:
    """Set `key` of an installed model's card (models/NAME.json) to `value`; the card's sha256 is
    of the weights, so this does not change what the model is. A model given by path, not
    installed, keeps its card: returns None."""
    import json

    from lvcodec.weights import models_dir

    path = models_dir() / f"{model}.json"
    if not path.exists():
        return None
    card = json.loads(path.read_text())
    card[key] = value
    path.write_text(json.dumps(card, indent=2) + "\n")
    return path
