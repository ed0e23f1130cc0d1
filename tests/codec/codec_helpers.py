"""In-memory encode/decode through the sessions and the container, for the codec tests; and
`lvc` in a child process, for what needs a fresh process (other kernels, devices)."""

import io
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from lvcodec.bitstream import LvcReader
from lvcodec.codec.api import encode_stream
from lvcodec.codec.session import Decoder, EncoderConfig
from lvcodec.io import open_reader


def encode_frames(model, path, quality, threads, frames=None, intra_period=32, gop=1,
                  downsample="off", preset="fast", residual=True, block_motion=True):
    """(stream bytes, the encoder's CodedFrames in coding order) of the first `frames` of path.
    Preset fast: these tests are about what the decoder makes of a stream, which the encoder's
    effort does not change (refined streams: test_refinement.py), and refining every P frame of
    a long low-delay clip would cost minutes."""
    torch.set_num_threads(threads)
    config = EncoderConfig(quality=quality, intra_period=intra_period, gop=gop,
                           downsample=downsample, preset=preset, residual=residual,
                           block_motion=block_motion)
    with open_reader(path, frames=frames) as reader:
        return encode_stream(model, reader, reader.info, config, torch.device("cpu"))


def encode(model, path, quality, threads, frames=None, intra_period=32, gop=1, downsample="off",
           residual=True, block_motion=True):
    """(stream bytes, encoder reconstructions, source frames) of the first `frames` of path; the
    pictures in coding order, as the decoder makes them."""
    data, coded = encode_frames(model, path, quality, threads, frames, intra_period, gop, downsample,
                                residual=residual, block_motion=block_motion)
    return data, [c.recon for c in coded], [c.source for c in coded]


def decode(model, data, threads):
    torch.set_num_threads(threads)
    reader = LvcReader(io.BytesIO(data))
    dec = Decoder(model, reader.sequence_header, torch.device("cpu"))
    return [dec.decode(h, s) for h, s, _ in reader.frames()]


def assert_identical(encoded, decoded):
    assert len(encoded) == len(decoded)
    for i, (a, b) in enumerate(zip(encoded, decoded)):
        for plane in ("y", "u", "v"):
            pa, pb = getattr(a, plane), getattr(b, plane)
            if not np.array_equal(pa, pb):
                row = int(np.argwhere(pa != pb)[0][0])
                pytest.fail(f"frame {i} plane {plane} differs first at row {row}")


def headers_and_sizes(data):
    """[(FrameHeader, unit size)] of a stream, in coding order."""
    return [(h, size) for h, _, size in LvcReader(io.BytesIO(data)).frames()]


# What other machines run: MKL without AVX-512 (most AMD and many Intel CPUs), ATen without SIMD.
FOREIGN_KERNELS = [{"MKL_ENABLE_INSTRUCTIONS": "AVX2"}, {"MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
                   {"ATEN_CPU_CAPABILITY": "default"}]


def run_lvc(*args, env: dict | None = None):
    """`lvc ARGS` in a child process (its kernels chosen at start from `env`); fails on exit != 0."""
    return subprocess.run([sys.executable, "-m", "lvcodec", *map(str, args)], check=True,
                          capture_output=True, text=True,
                          env=None if env is None else dict(os.environ, **env))


def rewrite_frame(data: bytes, target, substreams) -> bytes:
    """The stream `data` with the frame whose (display index, frame type) is `target` carrying
    `substreams` instead of its own."""
    from lvcodec.bitstream import LvcWriter

    reader = LvcReader(io.BytesIO(data))
    buf = io.BytesIO()
    w = LvcWriter(buf)
    w.write_sequence_header(reader.sequence_header)
    for h, s, _ in reader.frames():
        w.write_frame(h, substreams if (h.display_index, h.frame_type) == target else s)
    w.close()
    return buf.getvalue()
