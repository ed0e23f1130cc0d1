"""File-level API: encode_file / decode_file / probe — read frames, code them, write the stream."""

import io
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lvcodec.bitstream import LvcReader, LvcWriter
from lvcodec.codec.config import DecoderConfig
from lvcodec.codec.session import Decoder, Encoder, EncoderConfig
from lvcodec.device import resolve_device

from lvcodec.errors import CorruptStream, FormatError, InputError, OutputError
from lvcodec.rd import frame_psnr
from lvcodec.io import Frame, VideoInfo, atomic_output, open_reader, open_writer
from lvcodec.weights import DEFAULT_MODEL, load_model

__all__ = ["encode_file", "encode_stream", "stream_of", "decode_file", "decode_frames"]


def encode_file(src, dst, config: EncoderConfig | None = None, *, frames: int | None = None,
                size=None, fps=None, model: str = DEFAULT_MODEL, device: str = "auto",
                overwrite: bool = False, measure_psnr: bool = False, progress: bool = True,
                frame_stats: list | None = None, **settings) -> dict:
    """Encode a video file into an .lvc bitstream; returns summary statistics.

    config: the encoder's settings (default: `lvc encode`'s); settings, given as keywords
    (quality=, gop=, ...), replace its fields. frame_stats, when given, receives one dict per
    frame in coding order (type, bytes, PSNR when measured).
    """
    dev = resolve_device(device)
    config = replace(config or EncoderConfig(), **settings)
    config.validate()
    if Path(dst).suffix.lower() != ".lvc":
        raise OutputError(f"{dst}: the encoder writes .lvc bitstreams (give an output ending in .lvc)")
    net_model = load_model(model, dev)
    stats = {"frames": 0, "bytes": 0, "psnr": []}
    t0 = time.time()
    with open_reader(src, size=size, fps=fps, frames=frames) as reader:
        info = reader.info
        encoder = Encoder(net_model, config, info, dev)
        with atomic_output(Path(dst), overwrite) as f:
            writer = LvcWriter(f)
            writer.write_sequence_header(encoder.sequence_header())
            bar = tqdm(total=info.frame_count, unit="frame", desc="encode", disable=not progress,
                       leave=False)
            for coded in encoder.code(reader):
                header = coded.header
                size = writer.write_frame(header, coded.substreams)
                if measure_psnr:
                    stats["psnr"].append(frame_psnr(coded.source, coded.recon))
                if frame_stats is not None:
                    frame_stats.append({"display_index": header.display_index,
                                        "type": header.frame_type.name, "bytes": size,
                                        "scale_log2": header.scale_log2,
                                        **({"psnr": stats["psnr"][-1]} if measure_psnr else {})})
                stats["frames"] += 1
                bar.update(1)
            bar.close()
            if stats["frames"] == 0:
                raise InputError(f"{src}: no frames to encode")
            writer.close()
            stats["bytes"] = f.tell()
    out = _summary(stats, info.width, info.height, info.fps, time.time() - t0)
    if encoder.rate is not None:  # what rate control aimed at and chose, GOP by GOP
        out["target_kbps"] = config.bitrate / 1000
        out["gops"] = [vars(r) for r in encoder.rate.records]
        out["trials"] = encoder.rate.trials
    return out


def encode_stream(model, frames, info: VideoInfo, config: EncoderConfig, device) -> tuple:
    """(.lvc bytes, [CodedFrame] in coding order) of `frames`, in memory (tests, benchmarks)."""
    return stream_of(Encoder(model, config, info, device), frames)


def stream_of(enc: Encoder, frames) -> tuple:
    """encode_stream with an Encoder the caller keeps (to read its rate control afterwards)."""
    buf = io.BytesIO()
    writer = LvcWriter(buf)
    writer.write_sequence_header(enc.sequence_header())
    coded = []
    for c in enc.code(frames):
        writer.write_frame(c.header, c.substreams)
        coded.append(c)
    writer.close()
    return buf.getvalue(), coded


# The smallest possible frame unit (sync, type, size, header, two empty substreams, CRC) is
# longer than this, so the bytes skipped over damage bound how many frames they could have held.
MIN_FRAME_UNIT_BYTES = 16


def decode_frames(reader: LvcReader, decoder: Decoder, on_error: str = DecoderConfig.on_error,
                  warn=None):
    """Frames of a stream in display order; yields (frame, concealed).

    Frames arrive in coding order; a reorder buffer of at most the stream's GOP size returns them
    in display order (low delay: as they come). on_error="fail": the first damaged unit raises a
    FormatError. "conceal": each damaged unit is reported through `warn(message)` and skipped,
    and the frames it held are replaced by the last good picture (mid-grey before the first);
    so are the frames that depend on a lost frame, until the next I frame. A stream cut short
    ends where it was cut.
    """
    DecoderConfig(on_error=on_error).validate()
    conceal = on_error == "conceal"
    total = decoder.seq.frame_count or None
    # A frame arrives at most this far ahead of the next one to show (the B frames of a GOP come
    # after its anchor); a frame further ahead means the ones before it were lost.
    window = decoder.seq.gop_size - 1
    state = {"errors": 0, "last": None}
    pending = {}  # display index -> decoded frame, or None where it was concealed
    expected, skipped_at_good = 0, 0

    def report(e):
        state["errors"] += 1
        if warn:
            warn(str(e))

    def show(idx):
        """The frame at display index idx, a stand-in if it was concealed or lost."""
        frame = pending.pop(idx, None)
        if frame is not None:
            state["last"] = frame
            return frame, False
        last = state["last"]
        return (last if last is not None else grey_frame(decoder.seq.width, decoder.seq.height)), True

    for header, substreams, _size in reader.frames(on_error=report if conceal else None):
        idx = header.display_index
        if idx < expected or idx in pending or (total is not None and idx >= total):
            problem = f"frame {idx}: display index repeated, out of order or beyond the " \
                      f"{total or '?'} frames"
            if not conceal:
                raise CorruptStream(problem)
            report(problem + " (skipped)")
            continue
        lost = [i for i in range(expected, idx - window) if i not in pending]
        if lost:  # frames lost in damaged units
            # Never invent more frames than the damage could have held (a forged index must not
            # make us write billions of frames).
            lost_max = state["errors"] + (reader.skipped_bytes - skipped_at_good) // MIN_FRAME_UNIT_BYTES
            if not conceal or len(lost) > lost_max:
                raise CorruptStream(f"frame {lost[0]} is missing (the next frame is {idx})")
        while expected < idx - window:
            yield show(expected)
            expected += 1
        try:
            pending[idx] = decoder.decode(header, substreams)
        except FormatError as e:
            # A sane header, an undecodable frame (damaged payload, or a reference was lost):
            # conceal it in place; the frames that depend on it follow until the next I frame.
            if not conceal:
                raise
            report(f"{e} (concealed)")
            pending[idx] = None
        state["errors"], skipped_at_good = 0, reader.skipped_bytes
        while expected in pending:
            yield show(expected)
            expected += 1
    end = max(pending, default=expected - 1) + 1
    missing = [i for i in range(expected, end) if i not in pending]
    if missing and not conceal:
        raise CorruptStream(f"frame {missing[0]} is missing")
    while expected < end:
        yield show(expected)
        expected += 1
    if total is not None and expected < total:
        if not conceal:
            raise CorruptStream(f"the stream holds {expected} of its {total} frames")
        report(f"the stream ends after {expected} of its {total} frames")


def grey_frame(width: int, height: int) -> Frame:
    return Frame(np.full((height, width), 128, np.uint8), np.full((height // 2, width // 2), 128, np.uint8),
                 np.full((height // 2, width // 2), 128, np.uint8))


def decode_file(src, dst, config: DecoderConfig | None = None, *, device: str = "auto",
                overwrite: bool = False, progress: bool = True, warn=None, **settings) -> dict:
    """Decode an .lvc bitstream into a .yuv/.y4m/.mp4 file; returns summary statistics.

    config: the decoder's settings (default: `lvc decode`'s); settings, given as keywords
    (on_error=, model=), replace its fields. warn(message) hears of each concealed unit."""
    config = replace(config or DecoderConfig(), **settings)
    config.validate()
    dev = resolve_device(device)
    src = Path(src)
    if not src.is_file():
        raise InputError(f"{src}: no such file")
    t0 = time.time()
    stats = {"frames": 0, "bytes": src.stat().st_size, "psnr": [], "concealed": 0}
    with open(src, "rb") as f:
        reader = LvcReader(f)
        seq = reader.sequence_header
        decoder = Decoder(load_model(config.model or seq.model_name, dev), seq, dev)
        info = VideoInfo(seq.width, seq.height, seq.fps_num, seq.fps_den, seq.frame_count or None)
        with open_writer(dst, info, overwrite=overwrite) as writer:
            bar = tqdm(total=seq.frame_count or None, unit="frame", desc="decode",
                       disable=not progress, leave=False)
            for frame, concealed in decode_frames(reader, decoder, config.on_error, warn):
                writer.write(frame)
                stats["frames"] += 1
                stats["concealed"] += concealed
                bar.update(1)
            bar.close()
            if stats["frames"] == 0:
                raise CorruptStream(f"{src}: the stream holds no decodable frame")
    out = _summary(stats, seq.width, seq.height, seq.fps_num / seq.fps_den, time.time() - t0)
    out["concealed"] = stats["concealed"]
    return out


def _summary(stats: dict, width: int, height: int, fps: float, seconds: float) -> dict:
    n = max(stats["frames"], 1)
    out = {
        "frames": stats["frames"], "width": width, "height": height, "bytes": stats["bytes"],
        "bpp": stats["bytes"] * 8 / (width * height * n),
        "kbps": stats["bytes"] * 8 * fps / n / 1000, "seconds": seconds, "fps": stats["frames"] / seconds,
    }
    if stats["psnr"]:
        for k in ("y", "u", "v", "yuv"):
            out[f"psnr_{k}"] = sum(p[k] for p in stats["psnr"]) / len(stats["psnr"])
    return out
