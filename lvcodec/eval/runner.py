"""Run codecs over clips and rate points, measure each point once, and write the reports.

Every measured point is appended to out_dir/points.jsonl as soon as it is done, keyed by the
content of the input frames, the codec's settings and its version: an interrupted or extended run
picks up where it stopped, and a changed model or library never reuses a stale number.
"""

import hashlib
import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lvcodec.errors import ConfigError, LvcError
from lvcodec.eval.base import Codec
from lvcodec.eval.clips import Clip, load_clip
from lvcodec.eval.memory import PeakRSS
from lvcodec.eval.metrics import frame_psnr
from lvcodec.eval.msssim import ms_ssim
from lvcodec.eval.report import write_reports

__all__ = ["evaluate", "measure", "point_key", "resolve_codec", "PointCache"]


def resolve_codec(c, model=None, device="cpu") -> Codec:
    """A Codec from a Codec or a name: 'lvc' or one of the anchors."""
    if isinstance(c, Codec):
        return c
    if c == "lvc":
        from lvcodec.eval.lvc_codec import LvcCodec

        return LvcCodec(model=model, device=device)
    from lvcodec.eval.anchors import ANCHORS

    if c not in ANCHORS:
        raise ConfigError(f"unknown codec '{c}' (known: lvc, {', '.join(ANCHORS)})")
    return ANCHORS[c]


def point_key(clip_sha: str, settings: dict, version: str) -> str:
    blob = json.dumps({"input": clip_sha, "settings": settings, "version": version}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _unlabelled(settings: dict) -> str:
    return json.dumps({k: v for k, v in settings.items() if k != "codec"}, sort_keys=True)


class PointCache:
    """points.jsonl: one measured point per line; a torn last line (killed run) is ignored."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.rows = {}
        self._by_settings = {}  # (version, settings but the name) -> rows, for get_relabelled
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    self._index(json.loads(line))
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue

    def _index(self, row):
        self.rows[row["key"]] = row
        if isinstance(row.get("settings"), dict):
            k = (row.get("version"), _unlabelled(row["settings"]))
            self._by_settings.setdefault(k, []).append(row)

    def get(self, key):
        return self.rows.get(key)

    def get_relabelled(self, clip_sha: str, settings: dict, version: str):
        """A point measured under another name with these settings and version on this input
        (its key, recomputed from the input's hash, proves the input was the same)."""
        for row in self._by_settings.get((version, _unlabelled(settings)), ()):
            if point_key(clip_sha, row["settings"], version) == row["key"]:
                return row
        return None

    def add(self, row):
        self._index(row)
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")


def measure(clip: Clip, codec: Codec, point, intra_period: int) -> dict:
    """Encode+decode one point and measure rate, distortion, speed and memory."""
    with PeakRSS() as mem:
        res = codec.encode_decode(clip.frames, clip.info, point, intra_period)
    n = len(clip.frames)
    if len(res.frames) != n:
        raise LvcError(f"{codec.name} at {codec.knob} {point} decoded {len(res.frames)} of {n} "
                       f"frames of {clip.name}")
    psnr = [frame_psnr(a, b) for a, b in zip(clip.frames, res.frames)]
    w, h = clip.info.width, clip.info.height
    # MS-SSIM needs an 11×11 window at the finest scale; smaller frames get no MS-SSIM.
    ssim = (float(np.mean([ms_ssim(a.y, b.y) for a, b in zip(clip.frames, res.frames)]))
            if min(w, h) >= 11 else None)
    row = {"clip": clip.name, "codec": codec.name, "knob": codec.knob, "point": point,
           "intra_period": intra_period, "frames": n, "width": w, "height": h,
           "bytes": res.bytes, "bpp": res.bytes * 8 / (n * w * h)}
    for c in ("y", "u", "v", "yuv"):
        row[f"psnr_{c}"] = float(np.mean([p[c] for p in psnr]))
    row["psnr_yuv_frames"] = [round(p["yuv"], 3) for p in psnr]  # drift over the intra period
    row.update(ms_ssim_y=ssim,
               encode_fps=n / res.encode_s if res.encode_s > 0 else None,
               decode_fps=n / res.decode_s if res.decode_s > 0 else None,
               encode_s=res.encode_s, decode_s=res.decode_s,
               peak_rss_mb=mem.peak_mb, extra_rss_mb=mem.extra_mb, extra=res.extra)
    return row


def _as_clip(item, frames, size, fps) -> Clip:
    if isinstance(item, Clip):
        return item
    if isinstance(item, (tuple, list)):  # (path, size, fps), as find_clips gives
        path, s, f = item
        return load_clip(path, frames, size=s or size, fps=f or fps)
    return load_clip(item, frames, size=size, fps=fps)


def _unique_names(clips):
    seen = {}
    for c in clips:
        k = seen.get(c.name, 0)
        seen[c.name] = k + 1
        if k:
            c.name = f"{c.name}~{k + 1}"
    return clips


def evaluate(inputs, codecs, points_by_codec=None, frames=8, intra_period=1,
             out_dir="benchmarks/eval", progress=True, anchor_for_bd="x264-medium", size=None,
             fps=None, meta=None) -> dict:
    """Evaluate `codecs` (names or Codec objects) on `inputs` (paths, (path, size, fps) tuples or
    Clip objects, of which the first `frames` frames are used) at the points in `points_by_codec`
    (codec name -> list; default: the codec's own points). `anchor_for_bd` is one name or a list.
    Returns {"points": rows, "bd": {anchor: entries}}; see write_reports for the files."""
    if intra_period != -1 and intra_period < 1:
        raise ConfigError(f"intra period must be >= 1 or -1, got {intra_period}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    codecs = [resolve_codec(c) for c in codecs]
    names = [c.name for c in codecs]
    if len(set(names)) != len(names):
        raise ConfigError(f"codec listed twice: {names}")
    points_by_codec = points_by_codec or {}
    points = {c.name: list(points_by_codec.get(c.name) or c.default_points) for c in codecs}
    versions = {c.name: c.version() for c in codecs}  # fails early, e.g. a missing lvc model
    clips = _unique_names([_as_clip(i, frames, size, fps) for i in inputs])
    anchors = [anchor_for_bd] if isinstance(anchor_for_bd, str) else list(anchor_for_bd or [])

    cache = PointCache(out_dir / "points.jsonl")
    rows, reused = [], 0
    bar = tqdm(total=len(clips) * sum(map(len, points.values())), unit="point", desc="eval",
               disable=not progress)
    for clip in clips:
        for codec in codecs:
            for p in points[codec.name]:
                settings = codec.settings(p, intra_period, len(clip.frames))
                key = point_key(clip.sha256, settings, versions[codec.name])
                bar.set_postfix_str(f"{clip.name} {codec.name} {p}")
                row = cache.get(key)
                if row is None and codec.name_is_label:
                    row = cache.get_relabelled(clip.sha256, settings, versions[codec.name])
                if row is None:
                    row = measure(clip, codec, p, intra_period)
                    row.update(key=key, version=versions[codec.name], settings=settings)
                    cache.add(row)
                else:
                    reused += 1
                # The cached point may have been measured under another clip or codec name.
                rows.append(dict(row, clip=clip.name, codec=codec.name))
                bar.update(1)
    bar.close()
    info = {"frames": frames, "intra period": intra_period, "clips": len(clips),
            "codecs": ", ".join(names), **(meta or {})}
    bd = write_reports(rows, out_dir, anchors, info)
    return {"points": rows, "bd": bd, "reused": reused}
