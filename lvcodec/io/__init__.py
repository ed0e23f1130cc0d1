"""Video in and out, frame by frame: raw .yuv, .y4m and any container PyAV opens.

    with open_reader("in.y4m") as src, open_writer("out.y4m", src.info) as dst:
        for frame in src:
            dst.write(frame)

Writers go to a temporary file renamed onto the target only when closed without error, so a
failed run never leaves a half-written output, and an existing file is kept unless overwrite=True.

`-` is standard input for a reader (Y4M, or raw 4:2:0 with a size; read one frame at a time,
the length unknown until it ends) and standard output for a writer (Y4M, written as it comes).
"""

import re
import sys
from fractions import Fraction
from pathlib import Path

from lvcodec.errors import ConfigError, InputError, OutputError
from lvcodec.io import y4m
from lvcodec.io.frame import Frame, VideoInfo, fps_fraction
from lvcodec.io.target import STDIO, atomic_output, check_target, is_special, is_stdio, open_target

__all__ = ["Frame", "VideoInfo", "open_reader", "open_writer", "parse_size", "parse_fps",
           "RAW_EXTENSIONS", "WRITABLE_EXTENSIONS", "atomic_output", "check_target", "is_stdio",
           "STDIO", "output_format", "check_writable"]

RAW_EXTENSIONS = {".yuv"}
WRITABLE_EXTENSIONS = {".yuv", ".y4m", ".mp4", ".mkv"}


def parse_size(text: str) -> tuple[int, int]:
    """'1920x1080' -> (1920, 1080)."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX*]\s*(\d+)\s*", str(text))
    if not m or int(m[1]) == 0 or int(m[2]) == 0:
        raise ConfigError(f"bad size '{text}' (expected WxH, e.g. 1920x1080)")
    w, h = int(m[1]), int(m[2])
    y4m.check_even(w, h, "size")
    return w, h


def parse_fps(text) -> tuple[int, int]:
    """'25', '29.97', '30000/1001' -> (num, den)."""
    try:
        f = Fraction(str(text).strip())
    except (ValueError, ZeroDivisionError):
        raise ConfigError(f"bad frame rate '{text}' (e.g. 25, 29.97 or 30000/1001)") from None
    if f <= 0 or f > 1000:
        raise ConfigError(f"frame rate {text} is out of range")
    return fps_fraction(f)


def _as_fps(fps) -> tuple[int, int]:
    """A (num, den) as given (the CLI has parsed it already), or parsed from text/number."""
    return fps if isinstance(fps, tuple) else parse_fps(fps)


class Reader:
    """Iterates Frames; `.info` describes the sequence. Use as a context manager."""

    def __init__(self, path, size=None, fps=None, frames=None):
        self.path = Path(path)
        self.name = str(path)
        self.limit = frames
        if frames is not None and frames <= 0:
            raise ConfigError("--frames must be positive")
        self._file = self._av = None
        if is_stdio(path):
            self._open_stdin(size, fps)
        else:
            self._open_path(size, fps)
        if frames is not None:
            n = self.info.frame_count
            self.info = _with(self.info, frame_count=frames if n is None else min(n, frames))

    def __str__(self):
        return self.name

    def _open_stdin(self, size, fps):
        """Y4M, or raw 4:2:0 frames when a size is given, from standard input (not closed)."""
        self.name = "stdin"
        f = sys.stdin.buffer
        if f.isatty():
            raise InputError("stdin is a terminal: pipe a Y4M stream (or raw frames with -s) in")
        if size is None:
            self.info = y4m.read_header(f, self.name)
            if fps is not None:
                self.info = _with(self.info, fps=_as_fps(fps))
            self._iter = y4m.read_frames(f, self.info, self.name)
        else:
            w, h = parse_size(size) if isinstance(size, str) else size
            num, den = (25, 1) if fps is None else _as_fps(fps)
            self.info = VideoInfo(w, h, num, den, None)
            self._iter = self._raw_frames(f)

    def _open_path(self, size, fps):
        if not self.path.exists():
            raise InputError(f"{self.name}: no such file")
        if self.path.is_dir():
            raise InputError(f"{self.name}: is a directory")
        ext = self.path.suffix.lower()
        try:
            if ext in RAW_EXTENSIONS:
                self._open_raw(size, fps)
            elif ext == ".y4m":
                self._file = open(self.path, "rb")
                self.info = y4m.read_header(self._file, self.name)
                if fps is not None:
                    self.info = _with(self.info, fps=_as_fps(fps))
                self._iter = y4m.read_frames(self._file, self.info, self.name)
            else:
                from lvcodec.io.av_container import AvSource
                self._av = AvSource(self.path, self.name)
                self.info = self._av.info
                self._iter = self._av.frames()
        except PermissionError:
            self.close()
            raise InputError(f"{self.name}: permission denied") from None
        except BaseException:
            self.close()
            raise

    def _open_raw(self, size, fps):
        if size is None:
            raise InputError(f"{self.name}: raw .yuv input needs -s WxH (and --fps, default 25)")
        w, h = parse_size(size) if isinstance(size, str) else size
        num, den = (25, 1) if fps is None else _as_fps(fps)
        info = VideoInfo(w, h, num, den, None)
        total = self.path.stat().st_size
        if total == 0 or total % info.frame_bytes:
            raise InputError(f"{self.name}: {total} bytes is not a whole number of {w}x{h} 4:2:0 "
                             f"frames ({info.frame_bytes} bytes each); check -s")
        self.info = _with(info, frame_count=total // info.frame_bytes)
        self._file = open(self.path, "rb")
        self._iter = self._raw_frames(self._file)

    def _raw_frames(self, f):
        size = self.info.frame_bytes
        while True:
            buf = f.read(size)
            if not buf:
                return
            if len(buf) != size:
                raise InputError(f"{self.name}: truncated frame at the end")
            yield Frame.frombuffer(buf, self.info.width, self.info.height)

    def __iter__(self):
        for i, frame in enumerate(self._iter):
            if self.limit is not None and i >= self.limit:
                return
            yield frame

    def close(self):
        """Closes the input (not stdin); closing again does nothing."""
        if self._file:
            self._file.close()
        if self._av:
            self._av.close()
        self._file = self._av = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _with(info: VideoInfo, fps=None, frame_count=...):
    num, den = fps if fps is not None else (info.fps_num, info.fps_den)
    count = info.frame_count if frame_count is ... else frame_count
    return VideoInfo(info.width, info.height, num, den, count)


def open_reader(path, size=None, fps=None, frames=None) -> Reader:
    """A frame reader for .yuv (needs size), .y4m, anything PyAV opens, or `-` (stdin).

    A Reader already open (its input checked before anything costly started) is returned as it
    is; it takes no further options."""
    if isinstance(path, Reader):
        if (size, fps, frames) != (None, None, None):
            raise ConfigError("an open reader takes no size, fps or frame limit")
        return path
    return Reader(path, size=size, fps=fps, frames=frames)


def output_format(path) -> str:
    """The format a Writer writes to `path`, as an extension; OutputError where it cannot.

    `-`, and a FIFO or device named without an extension (/dev/null), get Y4M."""
    direct = is_stdio(path) or is_special(path)
    ext = ".y4m" if is_stdio(path) else Path(path).suffix.lower()
    if direct and not ext:
        ext = ".y4m"
    if direct and ext in (".mp4", ".mkv"):
        raise OutputError(f"{path}: {ext} needs a seekable file; write .y4m or .yuv into a "
                          "pipe or device")
    if ext not in WRITABLE_EXTENSIONS:
        raise OutputError(f"{path}: cannot write '{ext or 'no extension'}' "
                          f"(use one of {', '.join(sorted(WRITABLE_EXTENSIONS))})")
    return ext


def check_writable(path, overwrite: bool = False) -> None:
    """Raises the OutputError open_writer(path) would, without creating anything."""
    output_format(path)
    check_target(path, overwrite)


class Writer:
    """Writes Frames to .yuv, .y4m, or .mp4/.mkv (H.264 CRF 18, for viewing)."""

    def __init__(self, path, info: VideoInfo, overwrite=False):
        self.path = Path(path)
        self.info = info
        ext = output_format(path)
        y4m.check_even(info.width, info.height, str(path))
        self._target = open_target(path, overwrite)
        self._file = self._target.file
        self._sink = None
        self._y4m = ext == ".y4m"
        if self._y4m:
            self._file.write(y4m.header_bytes(info))
        elif ext in (".mp4", ".mkv"):
            from lvcodec.io.av_container import AvSink
            self._sink = AvSink(self._file, info, "mp4" if ext == ".mp4" else "matroska")

    def write(self, frame: Frame):
        if (frame.width, frame.height) != (self.info.width, self.info.height):
            raise OutputError(f"frame is {frame.width}x{frame.height}, stream is "
                              f"{self.info.width}x{self.info.height}")
        if self._sink:
            self._sink.write(frame)
        else:
            if self._y4m:
                self._file.write(y4m.FRAME_TAG + b"\n")
            self._file.write(frame.tobytes())

    def close(self):
        """Finish and move the file into place."""
        if self._file is None:
            return
        if self._sink:
            self._sink.close()
        self._file = None
        self._target.commit()

    def abort(self):
        """Drop everything written; the target is left as it was."""
        if self._file is None:
            return
        self._file = None
        self._target.discard()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            self.close()
        else:
            self.abort()


def open_writer(path, info: VideoInfo, overwrite=False) -> Writer:
    return Writer(path, info, overwrite=overwrite)
