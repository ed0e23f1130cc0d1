"""Evaluation inputs: the first N frames of a clip, held in memory, with a content hash."""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lvcodec.errors import InputError

__all__ = ["Clip", "load_clip", "fit_frames", "find_clips", "VIDEO_EXTS"]

VIDEO_EXTS = (".y4m", ".yuv", ".mp4", ".mkv", ".webm", ".mov")


@dataclass
class Clip:
    name: str
    frames: list  # of lvcodec.io.Frame
    info: object  # lvcodec.io.VideoInfo, frame_count = len(frames)
    sha256: str  # of the frames' raw planes: the cache key follows the content, not the path


def frames_sha256(frames) -> str:
    h = hashlib.sha256()
    for f in frames:
        for p in (f.y, f.u, f.v):
            h.update(np.ascontiguousarray(p).tobytes())
    return h.hexdigest()


def make_clip(name, frames, fps_num=25, fps_den=1) -> Clip:
    from lvcodec.io import VideoInfo

    if not frames:
        raise InputError(f"{name}: no frames")
    info = VideoInfo(frames[0].width, frames[0].height, fps_num, fps_den, len(frames))
    return Clip(name, list(frames), info, frames_sha256(frames))


def load_clip(path, frames: int, size=None, fps=None, name=None, strict=True) -> Clip:
    """Read the first `frames` frames of a .yuv/.y4m/container file (fewer if not strict)."""
    from lvcodec.io import open_reader

    path = Path(path)
    with open_reader(path, size=size, fps=fps, frames=frames) as r:
        info = r.info
        got = [f for _, f in zip(range(frames), r)]
    if len(got) < frames and strict:
        raise InputError(f"{path}: asked for {frames} frames, the clip has only {len(got)}")
    return make_clip(name or path.stem, got, info.fps_num, info.fps_den)


def fit_frames(frames, width: int, height: int) -> list:
    """Scale to cover width×height (bicubic, per plane) and centre-crop: a fixed-size test input."""
    from PIL import Image

    from lvcodec.io import Frame

    def fit(p, w, h):
        ph, pw = p.shape
        s = max(w / pw, h / ph)
        sw, sh = max(w, round(pw * s)), max(h, round(ph * s))
        im = Image.fromarray(p)
        if (sw, sh) != (pw, ph):
            im = im.resize((sw, sh), Image.BICUBIC)
        x0, y0 = (sw - w) // 2, (sh - h) // 2
        return np.asarray(im.crop((x0, y0, x0 + w, y0 + h)))

    return [Frame(fit(f.y, width, height), fit(f.u, width // 2, height // 2),
                  fit(f.v, width // 2, height // 2)) for f in frames]


# | `name.yuv` | 640×360 | 24:1 | ...
_ROW = re.compile(r"\|\s*`([^`]+)`\s*\|\s*(\d+)\s*[x×]\s*(\d+)\s*\|\s*(\d+)(?:[:/](\d+))?\s*\|")


def _readme_table(folder: Path) -> dict:
    """{file name: (size, fps)} from a README.md table with `file` | W×H | num:den columns."""
    table = {}
    readme = folder / "README.md"
    if not readme.is_file():
        return table
    for line in readme.read_text(errors="replace").splitlines():
        m = _ROW.match(line)
        if m:
            fps = f"{m[4]}/{m[5] or 1}"
            table[m[1]] = ((int(m[2]), int(m[3])), fps)
    return table


def find_clips(folder) -> list[tuple[Path, tuple | None, str | None]]:
    """(path, size, fps) of every video in a folder; raw .yuv sizes come from the folder's README
    table or from a WxH in the file name, and their rate from the README, a '<N>fps' name part, or
    the reader's default."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    table = _readme_table(folder)
    out = []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() not in VIDEO_EXTS or not p.is_file():
            continue
        size, fps = None, None
        if p.suffix.lower() == ".yuv":
            size, fps = table.get(p.name, (None, None))
            if size is None:
                m = re.search(r"(\d+)x(\d+)", p.stem)
                if not m:
                    raise InputError(f"{p}: raw video without a size in README.md or its name")
                size = (int(m[1]), int(m[2]))
            if fps is None:
                m = re.search(r"(\d+(?:\.\d+)?)fps", p.stem, re.I)
                fps = m[1] if m else None
        out.append((p, size, fps))
    if not out:
        raise InputError(f"{folder}: no video files ({', '.join(VIDEO_EXTS)})")
    return out
