"""`lvc info`: a dict describing a stream (for --json) and a text table of it."""

import os

from lvcodec.bitstream.stream import LvcReader, open_lvc
from lvcodec.bitstream.syntax import CodingStructure, FrameType

__all__ = ["describe", "format_table"]


def describe(path) -> dict:
    """Sequence header, one entry per frame (coding order) and rates of the .lvc file at `path`."""
    with open_lvc(path) as f:
        reader = LvcReader(f)
        seq = reader.sequence_header
        frames = [(hdr, size) for hdr, _, size in reader.frames()]
        total = os.fstat(f.fileno()).st_size
    pixels = seq.width * seq.height  # full-resolution luma, also for half-scale frames
    n = len(frames)
    model = {"model": seq.model_name, "model_sha256": seq.model_sha256.hex()}
    return {
        "file": str(path),
        "bytes": total,
        "format_version": "{}.{}".format(*reader.format_version),
        "sequence": {
            "width": seq.width, "height": seq.height, "fps": seq.fps,
            "fps_num": seq.fps_num, "fps_den": seq.fps_den, "frame_count": seq.frame_count,
            "coding_structure": CodingStructure(seq.coding_structure).name,
            "intra_period": seq.intra_period, "gop_size": seq.gop_size, "quality": seq.quality,
            **model, "model_name": seq.model_name,
        },
        "frames": [_frame(hdr, size, pixels) for hdr, size in frames],
        "total_bpp": total * 8 / (n * pixels) if n else 0.0,
        "bpp": total * 8 / (n * pixels) if n else 0.0,  # alias read by the CLI
        "kbps": total * 8 * seq.fps / n / 1000 if n else 0.0,
    }


def _frame(hdr, size: int, pixels: int) -> dict:
    kind = FrameType(hdr.frame_type).name
    return {
        "display_index": hdr.display_index, "type": kind, "frame_type": kind,
        "temporal_layer": hdr.temporal_layer,
        "scale": "1" if hdr.scale_log2 == 0 else f"1/{1 << hdr.scale_log2}",
        "scale_log2": hdr.scale_log2, "quality": hdr.quality, "refs": list(hdr.refs),
        "bytes": size, "bpp": size * 8 / pixels,
    }


def format_table(d: dict) -> str:
    """Header block, then one row per frame in coding order."""
    s = d["sequence"]
    lines = [
        f"file            {d['file']}",
        f"format          lvc {d['format_version']}, {d['bytes']} bytes",
        f"size            {s['width']}x{s['height']} @ {s['fps_num']}/{s['fps_den']} fps",
        f"frames          {len(d['frames'])} (header says {s['frame_count'] or 'unknown'})",
        f"structure       {s['coding_structure']}, intra period {s['intra_period']}, "
        f"gop {s['gop_size']}, quality {s['quality']}",
        f"model           {s['model'] or '-'} (sha256 {s['model_sha256']})",
        f"rate            {d['total_bpp']:.4f} bpp, {d['kbps']:.1f} kbit/s",
        "",
        f"{'#':>5} {'display':>7} {'type':>4} {'layer':>5} {'scale':>5} {'q':>3} "
        f"{'refs':>12} {'bytes':>9} {'bpp':>8}",
    ]
    for i, fr in enumerate(d["frames"]):
        refs = ",".join(map(str, fr["refs"])) or "-"
        lines.append(f"{i:>5} {fr['display_index']:>7} {fr['type']:>4} {fr['temporal_layer']:>5} "
                     f"{fr['scale']:>5} {fr['quality']:>3} {refs:>12} {fr['bytes']:>9} "
                     f"{fr['bpp']:>8.4f}")
    return "\n".join(lines)
