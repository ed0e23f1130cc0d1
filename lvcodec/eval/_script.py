"""Shared plumbing of the `python -m lvcodec.eval.bench*` scripts."""

import sys

from lvcodec.errors import LvcError
from lvcodec.eval.clips import find_clips, load_clip

__all__ = ["run_script", "testset_clips"]


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


def testset_clips(folder, frames: int) -> list:
    """The first `frames` frames of every clip in a folder (all of a shorter clip)."""
    return [load_clip(p, frames, size=s, fps=f, strict=False) for p, s, f in find_clips(folder)]
