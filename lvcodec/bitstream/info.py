"""`lvc info`: a dict describing a stream (`lvc info --json`, schema in docs/info-json.md) and a
text table of it.

Every field of the sequence header and of each frame header appears under its own name, read
from the header records themselves, so a field added to the bitstream shows up here without a
change (and the schema test then asks for it to be documented).
"""

import dataclasses
import os
from enum import IntEnum

from lvcodec.bitstream.stream import LvcReader, open_lvc
from lvcodec.bitstream.syntax import (
    EXTRA_LAYERS, FOOTER_MAGIC, FOOTER_SIZE, MOTION_ONLY_SUBSTREAMS, NET_SUBSTREAMS, FrameType,
)
from lvcodec.errors import FormatError, printable

__all__ = ["describe", "format_table", "trailing_bytes", "SCHEMA_VERSION"]

# Version of the --json layout (docs/info-json.md): bumped when a field is renamed, removed or
# changes meaning; adding a field keeps it.
SCHEMA_VERSION = 1

# Fields shown otherwise than as their plain value (the rest: enums by name, bytes as hex).
_SHOWN = {"picture_hash": lambda v: f"{v:08x}"}


def _value(name: str, v):
    if name in _SHOWN:
        return _SHOWN[name](v)
    if isinstance(v, IntEnum):
        return v.name
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, tuple):
        return list(v)
    return v


def _record(header) -> dict:
    """Every field of a header dataclass the unit stores, as JSON values; None (absent) fields
    are left out."""
    return {f.name: _value(f.name, getattr(header, f.name)) for f in dataclasses.fields(header)
            if getattr(header, f.name) is not None and f.metadata.get("stored", True)}


def describe(path) -> dict:
    """Sequence header, one entry per frame (coding order) and rates of the .lvc file at `path`."""
    with open_lvc(path) as f:
        reader = LvcReader(f)
        seq = reader.sequence_header
        frames = [(hdr, _layers(hdr, subs), _motion_only(hdr, subs), size)
                  for hdr, subs, size in reader.frames()]
        total = os.fstat(f.fileno()).st_size
        trailing = _after_index(f)
    pixels = seq.width * seq.height  # full-resolution luma, also for half-scale frames
    n = len(frames)
    sequence = _record(seq)
    sequence["fps"] = seq.fps
    sequence["model"] = seq.model_name  # alias of model_name (read by older scripts)
    return {
        "schema_version": SCHEMA_VERSION,
        "file": str(path),
        "bytes": total,
        "format_version": "{}.{}".format(*reader.format_version),
        "trailing_bytes": trailing,
        "sequence": sequence,
        "model": {"name": seq.model_name, "sha256": seq.model_sha256.hex()},
        "frame_units": n,
        "frames": [_frame(i, hdr, layers, alone, size, pixels)
                   for i, (hdr, layers, alone, size) in enumerate(frames)],
        "total_bpp": total * 8 / (n * pixels) if n else 0.0,
        "kbps": total * 8 * seq.fps / n / 1000 if n else 0.0,
    }


def _after_index(f) -> int:
    """Bytes after the stream's end, given `f` just past its index unit: the footer belongs to
    the stream; anything after it (a second stream appended, junk) does not."""
    end, total = f.tell(), os.fstat(f.fileno()).st_size
    footer = f.read(FOOTER_SIZE)
    if len(footer) == FOOTER_SIZE and footer.endswith(FOOTER_MAGIC):
        end += FOOTER_SIZE
    return total - end


def trailing_bytes(path) -> int | None:
    """Bytes after the end of the stream in the file at `path`; None when the stream itself is
    damaged (its damage is reported otherwise)."""
    try:
        with open_lvc(path) as f:
            for _ in LvcReader(f).frames():
                pass
            return _after_index(f)
    except FormatError:
        return None


def _layers(hdr, substreams) -> list:
    """The extra layers after the nets' substreams, by name, with their sizes (a count the
    syntax does not name is listed as 'unknown': the decoder refuses it)."""
    extra = substreams[NET_SUBSTREAMS[FrameType(hdr.frame_type)]:]
    if _motion_only(hdr, substreams):
        extra = substreams
    names = EXTRA_LAYERS.get(len(extra), ("unknown",) * len(extra))
    return [{"layer": n, "bytes": len(s)} for n, s in zip(names, extra)]


def _motion_only(hdr, substreams) -> bool:
    return hdr.frame_type != FrameType.I and len(substreams) == MOTION_ONLY_SUBSTREAMS


def _frame(coding_index: int, hdr, layers: list, motion_only: bool, size: int,
           pixels: int) -> dict:
    return {
        "coding_index": coding_index,
        **_record(hdr),
        "type": FrameType(hdr.frame_type).name,  # alias of frame_type
        "scale": "1" if hdr.scale_log2 == 0 else f"1/{1 << hdr.scale_log2}",
        "bytes": size, "bpp": size * 8 / pixels,
        "layers": layers,
        "motion_only": motion_only,  # no nets' substreams (§4.8)
    }


_LAYER_LETTERS = {"block_motion": "M", "residual": "R"}


def format_table(d: dict) -> str:
    """Header block, then one row per frame in coding order (a hash column when frames carry
    picture hashes). Strings from the file are escaped: a forged name cannot act on a terminal."""
    s = d["sequence"]
    hashes = any("picture_hash" in fr for fr in d["frames"])
    lines = [
        f"file            {printable(d['file'])}",
        f"format          lvc {d['format_version']}, {d['bytes']} bytes"
        + (f" ({d['trailing_bytes']} bytes after the end of the stream)"
           if d.get("trailing_bytes") else ""),
        f"size            {s['width']}x{s['height']} @ {s['fps_num']}/{s['fps_den']} fps",
        f"frames          {len(d['frames'])} (header says {s['frame_count'] or 'unknown'})",
        f"structure       {s['coding_structure']}, intra period {s['intra_period']}, "
        f"gop {s['gop_size']}, quality {s['quality']}",
        f"model           {printable(s['model']) or '-'} (sha256 {s['model_sha256']})",
        f"rate            {d['total_bpp']:.4f} bpp, {d['kbps']:.1f} kbit/s",
        "",
        f"{'#':>5} {'display':>7} {'type':>4} {'layer':>5} {'scale':>5} {'q':>3} "
        f"{'refs':>12} {'bytes':>9} {'bpp':>8} {'extra':>5}" + (f" {'hash':>8}" if hashes else ""),
    ]
    for i, fr in enumerate(d["frames"]):
        refs = ",".join(map(str, fr["refs"])) or "-"
        extra = "+".join(_LAYER_LETTERS.get(x["layer"], "?") for x in fr["layers"]) or "-"
        extra = "*" + extra if fr.get("motion_only") else extra
        lines.append(f"{i:>5} {fr['display_index']:>7} {fr['type']:>4} {fr['temporal_layer']:>5} "
                     f"{fr['scale']:>5} {fr['quality']:>3} {refs:>12} {fr['bytes']:>9} "
                     f"{fr['bpp']:>8.4f} {extra:>5}"
                     + (f" {fr.get('picture_hash', '-'):>8}" if hashes else ""))
    if any(fr["layers"] for fr in d["frames"]):
        lines.append("extra: R residual layer (docs/bitstream.md §4.7), M block-motion prediction "
                     "(§4.8); *: motion-only, no nets' substreams (§4.8)")
    return "\n".join(lines)
