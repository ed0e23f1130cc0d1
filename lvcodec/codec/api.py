"""File-level API: encode_file / decode_file / probe — read frames, code them, write the stream."""

import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import torch
from tqdm import tqdm

from lvcodec.bitstream import LvcReader, LvcWriter
from lvcodec.codec.session import Decoder, Encoder, EncoderConfig, resolve_device
from lvcodec.errors import InputError, OutputError
from lvcodec.eval.metrics import frame_psnr
from lvcodec.io import open_reader, open_writer, publish
from lvcodec.weights import DEFAULT_MODEL, load_model

__all__ = ["encode_file", "decode_file", "atomic_output"]


@contextmanager
def atomic_output(path: Path, overwrite: bool):
    """Yield a binary file in path's directory, renamed onto `path` only if the block succeeds."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputError(f"{path} exists (use -y to overwrite)")
    if path.is_dir():
        raise OutputError(f"{path} is a directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent or ".")
    except OSError as e:
        raise OutputError(f"cannot write in {path.parent or '.'}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "w+b") as f:
            yield f
        publish(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _threads_for(device: torch.device) -> None:
    # Determinism does not depend on this (see tests), speed does: use every core of the machine.
    if device.type == "cpu":
        torch.set_num_threads(max(1, os.cpu_count() or 1))


def encode_file(src, dst, *, quality: int = 32, frames: int | None = None, size=None, fps=None,
                model: str = DEFAULT_MODEL, device: str = "auto", overwrite: bool = False,
                measure_psnr: bool = False, progress: bool = True) -> dict:
    """Encode a video file into an .lvc bitstream; returns summary statistics."""
    dev = resolve_device(device)
    config = EncoderConfig(quality=quality)
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
            for frame in reader:
                header, substreams, recon = encoder.encode(frame)
                writer.write_frame(header, substreams)
                if measure_psnr:
                    stats["psnr"].append(frame_psnr(frame, recon))
                stats["frames"] += 1
                bar.update(1)
            bar.close()
            if stats["frames"] == 0:
                raise InputError(f"{src}: no frames to encode")
            writer.close()
            stats["bytes"] = f.tell()
    return _summary(stats, info.width, info.height, info.fps, time.time() - t0)


def decode_file(src, dst, *, model: str | None = None, device: str = "auto",
                overwrite: bool = False, progress: bool = True) -> dict:
    """Decode an .lvc bitstream into a .yuv/.y4m/.mp4 file; returns summary statistics."""
    dev = resolve_device(device)
    src = Path(src)
    if not src.is_file():
        raise InputError(f"{src}: no such file")
    t0 = time.time()
    stats = {"frames": 0, "bytes": src.stat().st_size, "psnr": []}
    with open(src, "rb") as f:
        reader = LvcReader(f)
        seq = reader.sequence_header
        decoder = Decoder(load_model(model or seq.model_name, dev), seq, dev)
        from lvcodec.io import VideoInfo

        info = VideoInfo(seq.width, seq.height, seq.fps_num, seq.fps_den, seq.frame_count or None)
        with open_writer(dst, info, overwrite=overwrite) as writer:
            bar = tqdm(total=seq.frame_count or None, unit="frame", desc="decode",
                       disable=not progress, leave=False)
            for header, substreams, _size in reader.frames():
                writer.write(decoder.decode(header, substreams))
                stats["frames"] += 1
                bar.update(1)
            bar.close()
    return _summary(stats, seq.width, seq.height, seq.fps_num / seq.fps_den, time.time() - t0)


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
