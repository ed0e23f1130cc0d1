"""Parallel encoding: the input cut at intra frames into chunks, each coded in a worker process,
the chunk streams joined into one (bitstream/concat.py).

A chunk starts at an intra frame and ends just before the next chunk's, so coded alone it is
exactly the closed-GOP coding of its frames (codec/gop.py): a chunk's encoder anchors its last
frames on its last frame, as a closed GOP anchors them on the frame before the intra frame. The
coding of a frame depends on nothing outside its chunk and not on the thread count
(docs/architecture.md, "Parity"), so the joined stream is the single-process closed-GOP stream,
byte for byte (tests/codec/test_chunks.py).
"""

import io
import math
import queue
import signal
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from multiprocessing import get_context
from pathlib import Path

import torch
from tqdm import tqdm

from lvcodec.bitstream import LvcReader, LvcWriter
from lvcodec.bitstream.concat import StreamJoiner
from lvcodec.codec.api import _summary
from lvcodec.codec.session import Encoder, EncoderConfig
from lvcodec.device import resolve_device
from lvcodec.errors import ConfigError, InputError, LvcError, OutputError
from lvcodec.io import atomic_output, check_target, open_reader
from lvcodec.rd import frame_psnr
from lvcodec.weights import DEFAULT_MODEL, load_model

__all__ = ["encode_chunks", "chunk_frames", "MAX_JOBS"]

MAX_JOBS = 64
# All-intra or a short intra period would make a task of every frame or two; a few frames per
# chunk keep the per-task costs (pickling the frames, a stream header) small.
MIN_CHUNK_FRAMES = 8


def chunk_frames(config: EncoderConfig) -> int | None:
    """Frames per chunk: the intra period, or a multiple of it (None: one intra frame only, so
    the input is one chunk)."""
    period = config.header_intra_period
    if period == 0:
        return None
    return period * math.ceil(MIN_CHUNK_FRAMES / period)


# -- the worker process --------------------------------------------------------------------------

_worker = {}  # in a worker: the loaded model by (name, device), and the progress queue


def _init_worker(threads: int, progress, filters) -> None:
    # Ctrl-C reaches the whole process group: the parent handles it and stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warnings.filters[:] = filters  # the parent's (the CLI silences library chatter)
    torch.set_num_threads(threads)
    _worker["progress"] = progress


def _encode_chunk(index: int, frames: list, info, config: EncoderConfig, model: str,
                  device: str, measure_psnr: bool) -> tuple:
    """(index, stream bytes, [PSNR dict per frame]) of one chunk, coded alone."""
    dev = resolve_device(device)
    key = (model, str(dev))
    if key not in _worker:
        _worker[key] = load_model(model, dev)
    encoder = Encoder(_worker[key], config, replace(info, frame_count=len(frames)), dev)
    buf = io.BytesIO()
    writer = LvcWriter(buf)
    writer.write_sequence_header(encoder.sequence_header())
    psnr = []
    for coded in encoder.code(frames):
        writer.write_frame(coded.header, coded.substreams)
        if measure_psnr:
            psnr.append(frame_psnr(coded.source, coded.recon))
        _worker["progress"].put(1)
    writer.close()
    return index, buf.getvalue(), psnr


# -- the parent ------------------------------------------------------------------------------------

class _Pool:
    """A spawn-started process pool that is stopped, not waited for, when the parent fails:
    an error, Ctrl-C or SIGTERM must not wait for chunks still coding (minutes)."""

    def __init__(self, jobs: int, threads: int):
        ctx = get_context("spawn")  # fork after torch started its threads can deadlock
        self.progress = ctx.Queue()
        self.executor = ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker,
                                            initargs=(threads, self.progress, warnings.filters[:]))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.executor.shutdown(wait=True)
            return
        processes = list((self.executor._processes or {}).values())  # no public handle
        self.executor.shutdown(wait=False, cancel_futures=True)
        for p in processes:
            p.terminate()
        for p in processes:
            p.join(5)

    def drain(self) -> int:
        """Frames the workers coded since the last call."""
        n = 0
        try:
            while True:
                n += self.progress.get_nowait()
        except queue.Empty:
            return n


def _failed(future, span: str) -> LvcError:
    """The error of a chunk's future as one line: the library's own errors as they are (the same
    line as a single-process encode), anything else with the chunk it happened in."""
    e = future.exception()
    if isinstance(e, LvcError):
        return e
    if isinstance(e, BrokenProcessPool):
        return LvcError(f"a worker process died while coding {span} (killed, or out of memory?)")
    return LvcError(f"a worker failed while coding {span}: {type(e).__name__}: {e}")


def encode_chunks(src, dst, config: EncoderConfig | None = None, *, jobs: int = 2,
                  frames: int | None = None, size=None, fps=None, model: str = DEFAULT_MODEL,
                  device: str = "auto", overwrite: bool = False, measure_psnr: bool = False,
                  progress: bool = True) -> dict:
    """Encode like codec.api.encode_file with closed GOPs, in `jobs` worker processes (each with
    1/jobs of this process's torch threads); returns the same summary statistics.

    The input is cut into chunks of `chunk_frames(config)` frames, which the workers code while
    this process reads on (at most jobs + 1 chunks in memory); the joined stream is written as
    the chunks finish, in order, and replaces `dst` only when complete.
    """
    config = replace(config or EncoderConfig(), closed_gop=True)
    config.validate()
    if not 1 <= jobs <= MAX_JOBS:
        raise ConfigError(f"--jobs {jobs} out of range (expected 1..{MAX_JOBS})")
    if config.bitrate is not None:  # each chunk would be given the budget of its own frames
        raise ConfigError("--bitrate spreads one budget over the whole input: not with --jobs")
    if Path(dst).suffix.lower() != ".lvc":
        raise OutputError(f"{dst}: the encoder writes .lvc bitstreams (give an output ending in .lvc)")
    check_target(dst, overwrite)
    threads = max(1, torch.get_num_threads() // jobs)
    length = chunk_frames(config)
    stats = {"frames": 0, "bytes": 0, "psnr": []}
    t0 = time.time()
    with open_reader(src, size=size, fps=fps, frames=frames) as reader, _Pool(jobs, threads) as pool:
        info = reader.info
        bar = tqdm(total=info.frame_count, unit="frame", desc=f"encode ({jobs} jobs)",
                   disable=not progress, leave=False)
        with atomic_output(Path(dst), overwrite) as f:
            joiner = StreamJoiner(f)
            running, done, spans = set(), {}, {}
            written = 0  # chunks joined so far

            def collect(block: bool) -> None:
                nonlocal written
                if running:
                    finished, _ = wait(running, timeout=0.2 if block else 0,
                                       return_when=FIRST_COMPLETED)
                    for fut in finished:
                        running.discard(fut)
                        if fut.exception() is not None:
                            raise _failed(fut, spans[fut])
                        index, data, psnr = fut.result()
                        done[index] = (data, psnr)
                coded = pool.drain()
                if coded:
                    bar.update(coded)
                while written in done:
                    data, psnr = done.pop(written)
                    joiner.append(LvcReader(io.BytesIO(data)), f"chunk {written}")
                    stats["psnr"] += psnr
                    written += 1

            chunk, submitted = [], 0
            for frame in reader:
                chunk.append(frame)
                if len(chunk) == length:
                    while len(running) + len(done) > jobs:  # bound the frames held in memory
                        collect(block=True)
                    first = submitted * length
                    fut = pool.executor.submit(_encode_chunk, submitted, chunk, info, config,
                                               model, device, measure_psnr)
                    running.add(fut)
                    spans[fut] = f"chunk {submitted} (frames {first}..{first + len(chunk) - 1})"
                    chunk, submitted = [], submitted + 1
                    collect(block=False)
            if chunk:
                first = submitted * (length or 0)
                fut = pool.executor.submit(_encode_chunk, submitted, chunk, info, config, model,
                                           device, measure_psnr)
                running.add(fut)
                spans[fut] = f"chunk {submitted} (frames {first}..{first + len(chunk) - 1})"
                submitted += 1
            if submitted == 0:
                raise InputError(f"{src}: no frames to encode")
            while written < submitted:
                collect(block=True)
            bar.close()
            joiner.close()
            stats["frames"] = joiner.frames
            stats["bytes"] = f.tell()
    return _summary(stats, info.width, info.height, info.fps, time.time() - t0)
