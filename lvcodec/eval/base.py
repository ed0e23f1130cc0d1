"""What the runner needs from a codec: encode N frames at one rate point, decode them, time both."""

import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lvcodec.errors import InputError

__all__ = ["Codec", "CodecResult", "keyint_for", "stream_dir", "check_even"]


@dataclass
class CodecResult:
    """One encode+decode: the stream's whole size in bytes, the decoded frames and the timings."""

    bytes: int
    frames: list
    encode_s: float
    decode_s: float
    stream_path: Path | None = None  # only kept when the caller gave a workdir
    extra: dict = field(default_factory=dict)


class Codec:
    """Base class: a named codec with one rate knob (crf, quality index, ...) and default points."""

    name = ""
    knob = "q"
    default_points: tuple = ()
    # Whether the name is only a label (lvc: its version names the weights), so a point measured
    # under another name with the same settings and version is the same measurement.
    name_is_label = False

    def version(self) -> str:
        """A string that changes whenever the codec's output may change (goes into the cache key)."""
        raise NotImplementedError

    def settings(self, point, intra_period: int, frames: int) -> dict:
        """Everything besides the input that determines the result (also part of the cache key)."""
        return {"codec": self.name, self.knob: point, "intra_period": intra_period, "frames": frames}

    def encode_decode(self, frames, info, point, intra_period: int, workdir=None) -> CodecResult:
        raise NotImplementedError


def keyint_for(intra_period: int, frames: int) -> int:
    """Encoder GOP length: P for P >= 1; for -1 (intra first frame only) one more than the clip."""
    if intra_period >= 1:
        return intra_period
    if intra_period == -1:
        return frames + 1
    raise ValueError(f"intra period must be >= 1 or -1, got {intra_period}")


@contextmanager
def stream_dir(workdir):
    """The caller's folder (stream is kept), else a temporary one removed afterwards."""
    if workdir is not None:
        Path(workdir).mkdir(parents=True, exist_ok=True)
        yield Path(workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="lvc-eval-") as d:
            yield Path(d)


def check_even(info) -> None:
    # 4:2:0 encoders (x264, x265, SVT-AV1) reject odd luma sizes; say so before they do, cryptically.
    if info.width % 2 or info.height % 2:
        raise InputError(f"{info.width}x{info.height}: 4:2:0 anchors need an even width and height")
